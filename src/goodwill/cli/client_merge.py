"""`goodwill client merge` and `goodwill client duplicates`: two records of one person."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from goodwill.store.merge import MergePlan


def register(client_app: typer.Typer) -> None:
    client_app.command("merge")(merge)
    client_app.command("duplicates")(duplicates)


def _author(session: Session, email: str | None) -> tuple[str, int | None]:
    """The person named by --by (an active owner or manager), else the command line."""
    from goodwill.domain.access import check
    from goodwill.domain.audit import Actor
    from goodwill.errors import NotFound
    from goodwill.store.staff import user_by_email

    if email is None:
        return Actor.cli().label, None
    user = user_by_email(session, email)
    if not user.active:
        raise NotFound(f"--by: no active staff user {email!r}", option="--by")
    check(user.role, "clients.manage", "merge two clients")
    return user.name, user.id


def _print_plan(plan: MergePlan, *, done: bool) -> None:
    from rich.table import Table

    verb = "Merged" if done else "Would merge"
    out.print(
        f"{verb} {shown(plan.other_name)} ({shown(plan.other_ref)}) into "
        f"{shown(plan.keep_name)} ({shown(plan.keep_ref)}), client #{plan.keep_id}"
    )
    table = Table("moves", "rows", title="What moves" if not done else "What moved")
    for kind, count in plan.moved.items():
        if count:
            table.add_row(kind.replace("_", " "), str(count))
    if plan.duplicate_facts:
        table.add_row("facts already held (dropped)", str(plan.duplicate_facts))
    if plan.closed_followups:
        table.add_row("open follow-ups closed as merged", str(plan.closed_followups))
    out.print(table)
    for name, value in plan.filled.items():
        out.print(f"fills {name}: {shown(value)}")
    for kind, value in plan.identities:
        out.print(f"keeps {kind.replace('_', ' ')} {shown(value)} as an identifier")


def merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(metavar="KEEP", help="The record kept: id, email, #id.")],
    other: Annotated[
        str, typer.Argument(metavar="OTHER", help="The record merged into it, then deleted.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Merge without asking.")] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="EMAIL", help="The owner or manager doing it (author)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Merge two records of one person: everything of OTHER moves to KEEP, then OTHER is deleted.

    Shows what moves and asks first, unless --yes; with --json and no --yes, only shows.

    Example: goodwill client merge C-1042 anna.devries@example.com --yes
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.duplicates import phone_region
    from goodwill.store.merge import merge_clients, plan_merge
    from goodwill.store.queries import find_client

    st = state(ctx)
    region = phone_region(st.settings)
    with st.store() as session:
        keep_client, other_client = find_client(session, keep), find_client(session, other)
        keep_id, other_id = keep_client.id, other_client.id
        versions = keep_client.version, other_client.version
        plan = plan_merge(session, keep_id, other_id, region=region)
    if not yes:
        if as_json:  # a dry run for machines: what would move, nothing merged
            out.print_json(json.dumps({**plan.as_dict(), "merged": False}))
            return
        _print_plan(plan, done=False)
        typer.confirm("Merge them? This cannot be undone", abort=True)
    with st.store.begin() as session:
        label, by_id = _author(session, by)
        done = merge_clients(
            session,
            keep_id,
            other_id,
            actor=Actor.cli(),
            source="cli",
            by=label,
            by_id=by_id,
            now=st.now(),
            region=region,
            keep_version=versions[0],
            other_version=versions[1],
        )
    if as_json:
        out.print_json(json.dumps({**done.as_dict(), "merged": True}))
        return
    _print_plan(done, done=True)


def duplicates(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many pairs to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List likely pairs of records of one person, best first, with the reasons.

    Example: goodwill client duplicates --limit 20
    """
    from rich.table import Table

    from goodwill.store.duplicates import find_duplicates

    st = state(ctx)
    with st.store() as session:
        pairs = find_duplicates(session, st.settings, limit=limit)
    if as_json:
        out.print_json(json.dumps({"pairs": [p.as_dict() for p in pairs]}))
        return
    if not pairs:
        out.print("no likely duplicates")
        return
    table = Table("keep", "other", "match", "why", title=f"{len(pairs)} likely duplicates")
    for pair in pairs:
        table.add_row(
            f"{shown(pair.keep.name)} ({shown(pair.keep.ref)})",
            f"{shown(pair.other.name)} ({shown(pair.other.ref)})",
            f"{pair.score:.0f}%",
            shown("; ".join(pair.reasons)),
        )
    out.print(table)
    out.print("merge a pair with: goodwill client merge KEEP OTHER")

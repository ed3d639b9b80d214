"""`goodwill client export|erase` and `goodwill privacy purge`: one person's data, and retention."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from goodwill.cli.context import out, state

if TYPE_CHECKING:
    from goodwill.domain.audit import Actor

privacy_app = typer.Typer(help="Retention of raw mail and attachments.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")


def register_client(client_app: typer.Typer) -> None:
    """`goodwill client export|erase`, added to the client group once, as it is loaded."""
    client_app.command("export")(export)
    client_app.command("erase")(erase)


def _client_id(session: object, ref: str) -> int:
    from sqlalchemy.orm import Session

    from goodwill.store.queries import find_client

    assert isinstance(session, Session)
    return find_client(session, ref).id


def _by(session: object, email: str | None) -> Actor:
    """The acting user named by --by: a known, active owner; else the command line itself."""
    from sqlalchemy.orm import Session

    from goodwill.domain.audit import Actor
    from goodwill.errors import NotAllowed, NotFound
    from goodwill.store.staff import user_by_email

    if email is None:
        return Actor.cli()
    assert isinstance(session, Session)
    user = user_by_email(session, email)
    if not user.active:
        raise NotFound(f"--by: no active staff user {email!r}", option="--by")
    if user.role != "owner":
        raise NotAllowed(f"--by: {email} is not an owner", option="--by")
    return Actor.user(user.id, user.email)


def export(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(metavar="ID", help="The client id, #id or email.")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The zip file to write (default: client-ID.zip)."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", metavar="EMAIL", help="The owner acting.")
    ] = None,
) -> None:
    """Write one zip archive with everything held about a client (JSON and a summary).

    Example: goodwill client export C-1042 --out anna.zip
    """
    from goodwill.store.backup import write_private
    from goodwill.store.export import export_audited

    st = state(ctx)
    with st.store.begin() as session:
        client_id = _client_id(session, client)
        actor = _by(session, by)
        data = export_audited(session, client_id, actor=actor, now=st.now())
        target = out_file or Path(f"client-{client_id}.zip")
        write_private(target, data)
    out.print(f"exported client #{client_id} to {target} ({len(data)} bytes)", markup=False)


def erase(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(metavar="ID", help="The client id, #id or email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    by: Annotated[
        str | None, typer.Option("--by", metavar="EMAIL", help="The owner acting.")
    ] = None,
) -> None:
    """Erase a client: their personal data, mail and notes go; amounts for the books stay.

    Example: goodwill client erase C-1042 --reason "asked by email on 2026-11-20"
    """
    from goodwill.errors import InvalidInput
    from goodwill.store.erasure import erase_client

    if not reason.strip():
        raise InvalidInput("--reason: say why the client is erased", option="--reason")
    st = state(ctx)
    with st.store.begin() as session:
        client_id = _client_id(session, client)
        actor = _by(session, by)
    if not yes:
        typer.confirm(f"Erase client #{client_id} for good? This cannot be undone", abort=True)
    erasure = erase_client(st.store, client_id, actor=actor, reason=reason, now=st.now())
    removed = ", ".join(f"{k} {v}" for k, v in erasure.counts.items() if v)
    out.print(f"erased client #{client_id}" + (f" ({removed})" if removed else ""), markup=False)


@privacy_app.command("purge")
def purge(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Older than this many days (default: privacy.raw_mail_days)."),
    ] = None,
) -> None:
    """Delete raw mail, attachments and sent outbox mail older than the retention period.

    Example: goodwill privacy purge --days 365
    """
    from goodwill.store.erasure import purge_old_mail

    st = state(ctx)
    keep = days if days is not None else int(st.settings.privacy["raw_mail_days"])
    if keep <= 0:
        out.print("privacy.raw_mail_days is 0: raw mail is kept; nothing purged")
        return
    result = purge_old_mail(st.store, days=keep, now=st.now())
    out.print(
        f"purged mail older than {keep} days: {result.raw_mail} raw messages, "
        f"{result.attachments} attachments, {result.outbox} sent outbox messages"
    )

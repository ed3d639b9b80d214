"""`goodwill import`: CSV exports into client memory, the record of imports, and undo.

``goodwill import FILE`` reads a vendor's export with its profile (detected from the header row,
or named with --profile); ``goodwill import clients|purchases|payments FILE`` reads goodwill's own
columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from goodwill.cli.context import err, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor
from goodwill.domain.profiles import FIELDS
from goodwill.domain.records import FileKind

if TYPE_CHECKING:
    from goodwill.actions.imports import ImportSummary

FILE_COMMAND = "file"


class _ImportGroup(typer.core.TyperGroup):
    """``goodwill import FILE`` runs the hidden ``file`` command; names of subcommands win."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)
        if first is None and not args:
            ctx.fail("Missing FILE (or a command: clients, purchases, payments, ...).")
        if first is not None and first not in self.commands and args[:1] != ["--help"]:
            args = [FILE_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_ImportGroup,
    help="Import CSV exports: a vendor's export as it is (goodwill import FILE), or goodwill's "
    "own columns (clients, purchases, payments); list, and undo imports.",
    no_args_is_help=True,
)

MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="SOURCE=FIELD",
        help="Read the file's column SOURCE as FIELD; repeat for several columns.",
    ),
]
MappingOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="A named column mapping from the \\[mappings] settings.",
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="The export's profile (see `goodwill import profiles`); default: detected.",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Show what would be created or changed; write nothing."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]
FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="The CSV file.")]


def _run(
    ctx: typer.Context,
    kind: FileKind | None,
    path: Path,
    *,
    mapping: list[str] | None = None,
    profile: str | None = None,
    dry_run: bool = False,
    as_json: bool = False,
) -> None:
    from goodwill.actions.import_headers import parse_mapping
    from goodwill.actions.imports import import_file

    st = state(ctx)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json,
    )
    verb = "reading" if dry_run else "importing"
    task = progress.add_task(f"{verb} {shown(path.name)}", total=None)

    def advance(done: int, total: int) -> None:
        if not progress.live.is_started:  # only once the file is known to be importable
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        summary = import_file(
            st.store,
            st.settings,
            kind,
            path,
            now=st.now(),
            mapping=parse_mapping(mapping or []),
            profile=profile,
            dry_run=dry_run,
            user="cli",
            actor=Actor.cli(),
            on_progress=advance,
        )
    finally:
        progress.stop()
    if as_json:
        out.print_json(json.dumps(summary.as_dict()))
    else:
        _print(summary)
    if summary.errors:
        raise typer.Exit(1)


def _print(summary: ImportSummary) -> None:
    if summary.profile:
        why = f" — detected: {shown(summary.detected)}" if summary.detected else ""
        out.print(f"profile [bold]{shown(summary.profile)}[/bold]{why}")
    head = "would import" if summary.dry_run else "read"
    out.print(
        f"[bold]{shown(summary.file)}[/bold]: {head} {summary.read} rows — "
        f"[green]{summary.imported} new[/green], {summary.duplicates} already stored, "
        f"{summary.updated} updated, {summary.skipped} left out by the profile, "
        f"{'[red]' if summary.errors else ''}{len(summary.errors)} rejected"
        f"{'[/red]' if summary.errors else ''}"
    )
    if summary.replaced:
        out.print(
            f"[yellow]{summary.replaced} byte{'' if summary.replaced == 1 else 's'} could not be "
            f"read as {shown(summary.encoding)} and {'was' if summary.replaced == 1 else 'were'} "
            "replaced with \ufffd[/yellow]"
        )
    for note in summary.notes:
        out.print(shown(note))
    if summary.created:
        made = ", ".join(f"{n} {kind}" for kind, n in summary.created.items())
        out.print(("Would create: " if summary.dry_run else "Created: ") + shown(made))
    if summary.import_id is not None:
        out.print(
            f"import {summary.import_id} (undo with: goodwill import undo {summary.import_id})"
        )
    if summary.dry_run:
        for kind, rows in summary.preview.items():
            if not rows:
                continue
            table = Table(*(shown(k) for k in rows[0]), title=f"First new {shown(kind)}")
            for row in rows:
                table.add_row(*(shown(str(v)) for v in row.values()))
            out.print(table)
        out.print("[dim]dry run: nothing was written[/dim]")
    if summary.errors:
        table = Table("line", "column", "reason", title="Rejected rows (the others landed)")
        for problem in summary.errors[:50]:
            table.add_row(str(problem.line), shown(problem.column or "—"), shown(problem.reason))
        out.print(table)
        if len(summary.errors) > 50:
            out.print(f"… and {len(summary.errors) - 50} more (use --json for all)")


@app.command(FILE_COMMAND, hidden=True)
def file(
    ctx: typer.Context,
    file: FileArgument,
    profile: ProfileOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a vendor's export as it is: goodwill import FILE [--profile NAME] [--dry-run].

    Example: goodwill import orders_export.csv --dry-run
    """
    _run(ctx, None, file, profile=profile, dry_run=dry_run, as_json=as_json)


@app.command("clients")
def clients(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: MappingOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import clients: client_id, name, email, phone, birthday, timezone, hometown, notes, ...

    Example: goodwill import clients contacts.csv --map "Full name=name" --json
    """
    _run(
        ctx,
        FileKind.CLIENTS,
        file,
        mapping=map_,
        profile=profile,
        dry_run=dry_run,
        as_json=as_json,
    )


@app.command("purchases")
def purchases(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: MappingOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import purchases, one row per order line: order_id, client_id, occurred_at, amount, ...

    Example: goodwill import purchases orders.csv --map "Order No=order_id"
    """
    _run(
        ctx,
        FileKind.PURCHASES,
        file,
        mapping=map_,
        profile=profile,
        dry_run=dry_run,
        as_json=as_json,
    )


@app.command("payments")
def payments(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: MappingOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import invoices and payments: invoice_id, client_id, amount, issued_at, due_date, paid_at.

    Example: goodwill import payments invoices.csv --json
    """
    _run(
        ctx,
        FileKind.PAYMENTS,
        file,
        mapping=map_,
        profile=profile,
        dry_run=dry_run,
        as_json=as_json,
    )


@app.command("profiles")
def profiles(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Show one profile's columns in full.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the import profiles: the exports goodwill reads as they are.

    Example: goodwill import profiles shopify
    """
    from goodwill.actions.import_headers import load_profiles

    found = load_profiles(state(ctx).settings)
    if name is not None and name not in found:
        from goodwill.errors import NotFound

        raise NotFound(f"no import profile {name!r} (known: {', '.join(sorted(found))})")
    chosen = [found[name]] if name else sorted(found.values(), key=lambda p: p.name)
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "title": p.title,
            "source": p.source,
            "creates": list(p.creates),
            "detect": list(p.detect),
            "builtin": p.builtin,
            "columns": {f: list(a) for f, a in p.columns.items()},
        }
        for p in chosen
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if name is None:
        table = Table("profile", "export", "creates", "recognised by the headers")
        for p in chosen:
            origin = "" if p.builtin else " (yours)"
            table.add_row(
                shown(p.name + origin),
                shown(p.title),
                shown(", ".join(p.creates)),
                shown(", ".join(p.detect)),
            )
        out.print(table)
        return
    p = chosen[0]
    out.print(
        f"[bold]{shown(p.name)}[/bold]: {shown(p.title)} — creates {shown(', '.join(p.creates))}"
    )
    table = Table("field", "read from the header", "meaning")
    for fname, aliases in p.columns.items():
        table.add_row(shown(fname), shown(" | ".join(aliases)), shown(FIELDS[fname]))
    out.print(table)


@app.command("history")
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many to list.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List the imports: file, profile, who, when, what each created; newest first.

    Example: goodwill import history --limit 10
    """
    from goodwill.store.imports_log import import_history

    with state(ctx).store.begin() as session:
        records = import_history(session, limit=limit)
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in records]))
        return
    table = Table("id", "when", "file", "profile", "by", "status", "created")
    for r in records:
        created = r.counts.get("created") or {}
        made = ", ".join(f"{n} {k}" for k, n in created.items() if n) or "—"
        table.add_row(
            str(r.id),
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            shown(r.file_name),
            shown(r.profile or r.kind),
            shown(r.user or "—"),
            shown(r.status),
            shown(made),
        )
    out.print(table)


@app.command("undo")
def undo(
    ctx: typer.Context,
    import_id: Annotated[int, typer.Argument(metavar="ID", help="The import's id (history).")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Undo an import still marked running (its process died)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove exactly what one import created, with the events and follow-ups it caused.

    Example: goodwill import undo 12
    """
    from goodwill.store.imports_log import undo_import

    st = state(ctx)
    with st.store.begin() as session:
        report = undo_import(session, import_id, now=st.now(), actor=Actor.cli(), force=force)
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        return
    if report.already:
        out.print(f"import {import_id} was already undone; nothing to do")
        return
    removed = ", ".join(f"{n} {k}" for k, n in report.removed.items() if n) or "nothing"
    out.print(f"import {import_id} undone: removed {shown(removed)}")
    if report.kept:
        kept = ", ".join(f"{n} {k}" for k, n in report.kept.items())
        out.print(f"kept, because other imports or records also have them: {shown(kept)}")

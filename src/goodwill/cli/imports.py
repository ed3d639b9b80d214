"""`goodwill import clients|purchases|payments FILE`: CSV exports into client memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from goodwill.actions.imports import ImportSummary, import_file, parse_mapping
from goodwill.cli.context import err, out, state
from goodwill.domain.records import FileKind
from goodwill.errors import InvalidInput

app = typer.Typer(help="Import CSV exports (clients, purchases, payments).", no_args_is_help=True)

MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="SOURCE=FIELD",
        help="Read the file's column SOURCE as FIELD; repeat for several columns.",
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", metavar="NAME", help="A named column mapping from the \\[mappings] settings."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]
FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="The CSV file.")]


def _run(
    ctx: typer.Context,
    kind: FileKind,
    path: Path,
    mapping: list[str] | None,
    profile: str | None,
    as_json: bool,
) -> None:
    st = state(ctx)
    settings = st.settings
    columns: dict[str, str] = {}
    if profile is not None:
        if profile not in settings.mappings:
            known = ", ".join(sorted(settings.mappings)) or "none configured"
            raise InvalidInput(
                f"--profile {profile!r}: no such mapping ({known})", option="--profile"
            )
        columns.update(settings.mappings[profile])
    columns.update(parse_mapping(mapping or []))
    now = st.now()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json,
    )
    task = progress.add_task(f"importing {path.name}", total=None)

    def advance(done: int, total: int) -> None:
        if not progress.live.is_started:  # only once the file is known to be importable
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        summary = import_file(
            st.store, settings, kind, path, now=now, mapping=columns, on_progress=advance
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
    out.print(
        f"[bold]{summary.file}[/bold]: read {summary.read} rows — "
        f"[green]{summary.imported} imported[/green], {summary.duplicates} already stored, "
        f"{summary.updated} updated, "
        f"{'[red]' if summary.errors else ''}{len(summary.errors)} rejected"
        f"{'[/red]' if summary.errors else ''}"
    )
    if summary.errors:
        table = Table("line", "column", "reason", title="Rejected rows (the others landed)")
        for problem in summary.errors[:50]:
            table.add_row(str(problem.line), problem.column or "—", problem.reason)
        out.print(table)
        if len(summary.errors) > 50:
            out.print(f"… and {len(summary.errors) - 50} more (use --json for all)")


@app.command("clients")
def clients(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import clients: client_id, name, email, phone, birthday, timezone, hometown, notes, ...

    Example: goodwill import clients contacts.csv --map "Full name=name" --json
    """
    _run(ctx, FileKind.CLIENTS, file, map_, profile, as_json)


@app.command("purchases")
def purchases(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import purchases, one row per order line: order_id, client_id, occurred_at, amount, ...

    Example: goodwill import purchases orders.csv --map "Order No=order_id"
    """
    _run(ctx, FileKind.PURCHASES, file, map_, profile, as_json)


@app.command("payments")
def payments(
    ctx: typer.Context,
    file: FileArgument,
    map_: MapOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import invoices and payments: invoice_id, client_id, amount, issued_at, due_date, paid_at.

    Example: goodwill import payments invoices.csv --json
    """
    _run(ctx, FileKind.PAYMENTS, file, map_, profile, as_json)

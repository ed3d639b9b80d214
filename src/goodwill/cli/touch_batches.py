"""`goodwill touches batch`: the month's postcards (a CSV for the postcard service) and the
handwritten notes (a printable sheet), and marking them as sent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor

if TYPE_CHECKING:
    from goodwill.store.touch_batches import Batch, Card


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)


def _cards_table(title: str, cards: Sequence[tuple[str, ...]], *, note: bool) -> Table:
    columns = ["follow-up", "client", "kind", "address", "message"]
    table = Table(*columns, *(["what to mention"] if note else []), title=title)
    for row in cards:
        table.add_row(*(shown(cell) for cell in row))
    return table


def batch(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="The month.")],
    kind: Annotated[
        str | None,
        typer.Option(help="Only one kind: birthday, anniversary, milestone or other."),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Write the postcards' CSV (UTF-8) here."),
    ] = None,
    sheet_file: Annotated[
        Path | None,
        typer.Option("--sheet", metavar="FILE.html", help="Write the printable notes sheet."),
    ] = None,
    mark_sent: Annotated[
        bool,
        typer.Option("--mark-sent", help="Close the batch's follow-ups as sent (no question)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The month's postcards and handwritten notes: who, where, the message; clients without
    a postal address are listed apart.

    Example: goodwill touches batch --month 2026-12 --kind birthday --csv postcards.csv
    """
    from goodwill.domain.touch_batches import check_kind, parse_month
    from goodwill.engine.configuration import playbook_for
    from goodwill.store.touch_batches import mark_sent as close_batch
    from goodwill.store.touch_batches import month_batch
    from goodwill.touch_sheets import sheet_html

    st = state(ctx)
    first, wanted = parse_month(month), check_kind(kind)
    playbook = playbook_for(st.settings)
    with st.store.begin() as session:
        found = month_batch(
            session, st.settings, playbook, month=first, kind=wanted, today=st.today()
        )
        if csv_file is not None:
            csv_file.write_text(found.csv(), encoding="utf-8", newline="")
        if sheet_file is not None:
            html = sheet_html(found, business=st.settings.business_name)
            sheet_file.write_text(html, encoding="utf-8")
        closed = close_batch(session, found, actor=Actor.cli(), now=st.now()) if mark_sent else 0
    if as_json:
        out.print_json(json.dumps({**found.as_dict(), "closed": closed}))
        return
    _print(found)
    for path, what in ((csv_file, "postcards' CSV"), (sheet_file, "notes sheet")):
        if path is not None:
            out.print(f"Wrote the {what} to {shown(path)}")
    if mark_sent:
        out.print(f"Marked as sent: {closed} follow-up{'' if closed == 1 else 's'} closed")


def _print(found: Batch) -> None:
    what = f"{found.label}{f' ({found.kind})' if found.kind else ''}"
    postcards = [
        (str(c.followup_id), c.name, c.kind, ", ".join(c.address.lines()), _short(c))
        for c in found.postcards
    ]
    notes = [
        (
            str(c.followup_id),
            c.name,
            c.kind,
            ", ".join(c.address.lines()),
            _short(c),
            "; ".join(c.mention),
        )
        for c in found.notes
    ]
    out.print(_cards_table(f"Postcards, {what}: {len(postcards)}", postcards, note=False))
    out.print(_cards_table(f"Handwritten notes, {what}: {len(notes)}", notes, note=True))
    if found.without_address:
        table = Table(
            "follow-up", "client", "kind", "channel", "why", title="Without a postal address"
        )
        for m in found.without_address:
            table.add_row(str(m.followup_id), shown(m.name), m.kind, m.channel, shown(m.why))
        out.print(table)


def _short(card: Card) -> str:
    """The message on one line, cut for the table (the CSV and the sheet have it whole), and
    why it is the follow-up's title when the template could not make it."""
    line = " ".join(card.message.split())
    line = line if len(line) <= 80 else line[:79] + "…"
    return f"{line}\n(not from the template: {card.problem})" if card.problem else line

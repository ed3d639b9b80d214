"""`goodwill cadence overdue`: regular clients who have not bought when they usually do."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.dates import DateError, parse_date
from goodwill.errors import InvalidInput

app = typer.Typer(
    help="The cadence watch: purchase rhythms and missed purchases.", no_args_is_help=True
)


@app.command("overdue")
def overdue(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(metavar="DATE", help="Default: today.")] = None,
    lapsed: Annotated[
        bool, typer.Option("--lapsed", help="Also those past cadence.max_cycles missed cycles.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List overdue clients, most revenue at risk first, with their usual interval.

    Example: goodwill cadence overdue --as-of 2026-11-23 --json
    """
    from goodwill.store.cadence import overdue_clients

    st = state(ctx)
    try:
        day = parse_date(as_of, date_order=st.settings.date_order) if as_of else st.today()
    except DateError as exc:
        raise InvalidInput(f"--as-of: {exc}", option="--as-of") from exc
    with st.store() as session:
        rows = overdue_clients(session, st.settings, as_of=day, include_lapsed=lapsed)
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    table = Table(
        "client",
        "rhythm",
        "last purchase",
        "expected",
        "overdue",
        "missed",
        "revenue at risk / year",
        title=f"{len(rows)} overdue clients on {day}",
    )
    for r in rows:
        what = f" ({shown(r.category)})" if r.category else ""
        table.add_row(
            f"{shown(r.name)} ({shown(r.client_id)}){what}",
            f"every {r.usual_interval_days:.0f} days",
            r.last_purchase.isoformat(),
            r.expected_at.isoformat(),
            f"{r.days_overdue} days",
            f"{r.cycle} cycle" + ("s" if r.cycle != 1 else ""),
            "—" if r.revenue_at_risk is None else f"{r.revenue_at_risk:,.2f} {shown(r.currency)}",
        )
    out.print(table)
    total = sum(r.revenue_at_risk or 0 for r in rows if r.category is None)
    if rows:
        currency = shown(rows[0].currency)
        out.print(f"Revenue at risk across these clients: {total:,.2f} {currency} a year")

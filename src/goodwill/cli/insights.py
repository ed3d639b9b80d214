"""`goodwill insights`: weekly trends in a terminal (as on the insights page), and the digest.

Trends are read at a glance as sparklines; the exact numbers are in ``--json``, in the shape the
page's CSV and any script can use.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from goodwill.cli.context import State, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.dates import DateError, parse_date
from goodwill.errors import InvalidInput

# goodwill.store.insights.DEFAULT_WEEKS, written out so that --help does not load the store (a
# test holds them equal).
DEFAULT_WEEKS = 26

if TYPE_CHECKING:
    from goodwill.store.insights import Insights

app = typer.Typer(
    help="Weekly trends: clients, purchases, follow-ups, answers, incidents; the owner's digest.",
    invoke_without_command=True,
)

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | int | None]) -> str:
    """One block per week, scaled between the range's lowest and highest value; blank: none."""
    known = [float(v) for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    marks = []
    for v in values:
        if v is None:
            marks.append(" ")
        elif span == 0:
            marks.append(BLOCKS[0] if high == 0 else BLOCKS[3])
        else:
            marks.append(BLOCKS[round((float(v) - low) / span * (len(BLOCKS) - 1))])
    return "".join(marks)


def _day(st: State, text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, date_order=st.settings.date_order)
    except DateError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc


def _change(values: tuple[float | int | None, ...], unit: str) -> str:
    if len(values) < 2 or values[-1] is None or values[-2] is None:
        return ""
    delta = float(values[-1]) - float(values[-2])
    if unit == "share":
        return f"{delta * 100:+.0f} pts"
    return f"{delta:+,.0f}" if unit in ("count", "money") else f"{delta:+,.1f}"


def print_table(result: Insights) -> None:
    from goodwill.store.insights import SERIES, value_text

    first, last = result.weeks[0], result.weeks[-1]
    table = Table(title=f"Weeks of {first} to {last} (the last one up to {result.as_of})")
    table.add_column("series")
    table.add_column("weeks", no_wrap=True)
    table.add_column("latest week", justify="right")
    table.add_column("change", justify="right")
    for info in SERIES:
        values = result.series[info.key]
        if info.group in ("incidents", "recoveries") and not result.present.get("incidents"):
            continue
        if info.group in ("response", "sla") and not result.present.get("conversations"):
            continue
        table.add_row(
            info.label,
            sparkline(list(values)),
            shown(value_text(values[-1] if values else None, info.unit, result.currency)),
            _change(values, info.unit),
        )
    out.print(table)
    if not result.present.get("incidents"):
        out.print("No incidents yet.")
    if not result.present.get("conversations"):
        out.print("No conversations yet: no response times.")


@app.callback()
def insights(
    ctx: typer.Context,
    weeks: Annotated[
        int, typer.Option(min=1, max=520, help="How many weeks, ending with the as-of week.")
    ] = DEFAULT_WEEKS,
    as_of: Annotated[str | None, typer.Option(metavar="DATE", help="Default: today.")] = None,
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="First week (instead of --weeks).")
    ] = None,
    tier: Annotated[str | None, typer.Option(help="Only clients of this value tier.")] = None,
    partner: Annotated[
        str | None, typer.Option(help="Only clients who bought through this partner or channel.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Weekly series with sparklines, the latest week and its change; or JSON.

    Example: goodwill insights --weeks 12 --as-of 2026-11-23 --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from goodwill.store.insights import Filters, weekly_insights

    st = state(ctx)
    day = _day(st, as_of, "--as-of") or st.today()
    with st.store() as session:
        result = weekly_insights(
            session,
            st.settings,
            as_of=day,
            weeks=weeks,
            since=_day(st, since, "--since"),
            filters=Filters(tier=tier, partner=partner),
        )
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
        return
    print_table(result)


@app.command("digest")
def digest(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(metavar="DATE", help="Default: today.")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Queue it for the owner(s) now (once per week).")
    ] = False,
) -> None:
    """Print the owner's weekly digest (what changed, who is at risk, what is overdue).

    Example: goodwill insights digest --as-of 2026-11-23
    """
    from goodwill.engine.digest import build_digest, queue_digest

    st = state(ctx)
    day = _day(st, as_of, "--as-of") or st.today()
    with st.store() as session:
        built = build_digest(session, st.settings, as_of=day)
    out.print(built.text, markup=False, highlight=False)
    if send:
        with st.store.begin() as session:
            queued = queue_digest(session, st.settings, built, now=st.now())
        out.print(
            f"queued for {shown(', '.join(queued))}"
            if queued
            else "already queued this week (or no owner)"
        )

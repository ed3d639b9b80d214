"""What clients value, on the web: themes by share for new and long-term clients, with their own
words and how reliable each theme is, the topics clients bring up that nobody listed (one can
become a theme), and how often each question gets an answer.

It shows what ``goodwill feedback themes`` prints (:func:`goodwill.actions.feedback.compare_themes`)
so that the owner sees it without a terminal; ``?until=`` looks back to a given day, and
``?tier=`` keeps to the clients of one value tier (as the client list shows it, by lifetime spend).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from goodwill.actions.feedback import compare_themes, load_themes, tier_clients
from goodwill.actions.topics import find_topics, held_out_size, theme_reliability
from goodwill.domain.dates import DateError, parse_date
from goodwill.settings import Settings
from goodwill.store.feedback import answer_rates, end_of_day
from goodwill.web.auth import PageStaff
from goodwill.web.charts import ColumnChart, column_chart
from goodwill.web.rendering import render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)


def percent(share: float) -> str:
    """A share as a whole percentage for people, e.g. 0.4286 -> "43%"."""
    return f"{round(share * 100)}%"


@router.get("/listening")
def listening_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    until: str | None = None,
    tier: str | None = None,
) -> Response:
    typed = (until or "").strip()
    day: date | None = None
    error = ""
    if typed:
        try:
            day = parse_date(typed, date_order=state.settings.date_order)
        except DateError as exc:
            error = f"Not a date: {exc}"
    tiers = tier_names(state.settings)
    chosen = (tier or "").strip()
    tier_error = ""
    if chosen and chosen not in tiers:
        tier_error = f"No tier {chosen!r}: choose one of {', '.join(tiers)}, or all clients"
        chosen = ""
    cutoff = end_of_day(day, state.settings.zone) if day else None
    found = compare_themes(db, state.settings, until=cutoff, tier=chosen or None)
    labels = {t.key: t.label for t in load_themes(settings=state.settings)}
    themes: list[dict[str, Any]] = [
        {**t, "label": labels.get(t["theme"], t["theme"])}
        for t in found["themes"]
        if t["new_answers"] or t["long_term_answers"]
    ]
    topics = find_topics(db, state.settings, until=cutoff, tier=chosen or None)
    return render(
        request,
        "listening.html",
        {
            "section": "listening",
            "themes": themes,
            "groups": found["groups"],
            "rates": answer_rates(
                db, until=cutoff, clients=tier_clients(db, state.settings, chosen or None)
            ),
            "until": day,
            "typed": typed,
            "error": error,
            "tiers": tiers,
            "tier": chosen,
            "tier_error": tier_error,
            "percent": percent,
            "reliability": theme_reliability(state.settings),
            "held_out": held_out_size(),
            "topics": [
                {
                    "topic": t,
                    "chart": trend_chart(t.trend),
                    "themes": [labels.get(k, k) for k, share in t.themes if share >= 0.5],
                }
                for t in topics
            ],
            "promoted": request.query_params.get("promoted"),
        },
        status=422 if error or tier_error else 200,
    )


def tier_names(settings: Settings) -> list[str]:
    """The value tiers, highest first, with "bronze" (below every threshold) last."""
    return [*sorted(settings.tiers, key=lambda t: -settings.tiers[t]), "bronze"]


def trend_chart(trend: tuple[tuple[str, int, int, int], ...]) -> ColumnChart | None:
    """How often a topic came up per month or quarter, new and long-term clients apart (the
    last twelve periods)."""
    recent = trend[-12:]
    if not any(n + lt + o for _, n, lt, o in recent):
        return None
    labels = [period for period, *_ in recent]
    return column_chart(
        labels,
        [
            ("new clients", "new", [float(n) for _, n, _, _ in recent]),
            ("long-term clients", "long-term", [float(lt) for _, _, lt, _ in recent]),
            ("others", "other", [float(o) for _, _, _, o in recent]),
        ],
    )

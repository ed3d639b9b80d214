"""The Today page: the follow-ups to do, overdue first, and whether the engine is running at all.

A self-hosted engine that silently stopped is the most common failure, so the page says when
the engine last completed a pass (says "never" loudly) and which steps it could not do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from goodwill.domain.access import who_may
from goodwill.errors import NotAllowed
from goodwill.store.followups import FollowUpView, Today, today_list
from goodwill.store.models import StaffUser
from goodwill.store.staff import has_calendar
from goodwill.store.worker_runs import worker_health
from goodwill.web.auth import PageStaff, Staff
from goodwill.web.pages.calendar import FRESH_LINK_KEY, NO_PUBLIC_URL, feed_urls
from goodwill.web.pages.followups import pop_flash, row_context
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

Scope = Literal["mine", "unassigned", "everyone"]
SCOPES: tuple[Scope, ...] = ("mine", "unassigned", "everyone")
UPCOMING_DAYS = 7
#: Each group is counted to the next multiple of this past its rows shown ("10,000+").
COUNTED = 10_000
#: Rows of each group a page shows; the group's heading counts all of them.
PAGE_ROWS = 25
#: A pass older than this means the scheduler (worker, cron, timer) has probably stopped.
STALE_AFTER = timedelta(hours=26)


@dataclass(frozen=True)
class EngineStatus:
    last_run: datetime | None  # the last pass that completed (one that died is not counted)
    ago: str
    stale: bool
    failing: list[tuple[str, str, str]]  # (step, when in words, error) the last pass gave up


def engine_status(session: Session, *, now: datetime) -> EngineStatus:
    """When the engine last completed a pass, in words, whether that is worryingly long ago, and
    the steps that pass could not do."""
    health = worker_health(session)
    last = health.last_completed
    failing = [(f.step, _ago(now - f.at), f"{f.error}: {f.message}") for f in health.failing]
    if last is None:
        return EngineStatus(last_run=None, ago="never", stale=True, failing=failing)
    return EngineStatus(
        last_run=last,
        ago=_ago(now - last),
        stale=health.stale(now=now, after=STALE_AFTER),
        failing=failing,
    )


def _ago(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    raise AssertionError("unreachable")


def _scopes(staff: Staff) -> list[tuple[Scope, str]]:
    shown: list[tuple[Scope, str]] = [("mine", "Mine"), ("unassigned", "Unassigned")]
    if staff.may("followups.everyone"):
        shown.append(("everyone", "Everyone's"))
    return shown


PageNumber = Annotated[int, Query(ge=1, le=100_000)]


@dataclass(frozen=True)
class Group:
    """One group of the list as the page shows it: a page of its rows and its whole count."""

    key: str
    label: str
    items: list[FollowUpView]
    count: int
    more: bool  # the group holds more than ``count`` (counted only so far)
    page: int
    first_row: int
    prev_url: str | None
    next_url: str | None


def _groups(found: Today, pages: dict[str, int], scope: Scope) -> list[Group]:
    labels = {"overdue": "Overdue", "today": "Today", "upcoming": f"Next {UPCOMING_DAYS} days"}
    out = []
    for key, items in (
        ("overdue", found.overdue),
        ("today", found.today),
        ("upcoming", found.upcoming),
    ):
        page, count = pages[key], found.counts[key]

        def url(to: int, key: str = key) -> str:
            shown = {**pages, key: to}
            return query_url(
                "/today",
                {
                    "scope": "" if scope == "mine" else scope,
                    **{g: n if n > 1 else None for g, n in shown.items()},
                },
            )

        out.append(
            Group(
                key,
                labels[key],
                items,
                count,
                key in found.more,
                page,
                (page - 1) * PAGE_ROWS + 1,
                url(page - 1) if page > 1 else None,
                url(page + 1) if page * PAGE_ROWS < count else None,
            )
        )
    return out


@router.get("/today")
def today_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    scope: str = "mine",
    overdue: PageNumber = 1,
    today: PageNumber = 1,
    upcoming: PageNumber = 1,
) -> Response:
    """The follow-ups in three groups, ``PAGE_ROWS`` of each at a time (each group pages on
    its own: ``?overdue=2``), with each group's whole count."""
    chosen: Scope = next((s for s in SCOPES if s == scope), "mine")
    if chosen == "everyone" and not staff.may("followups.everyone"):
        raise NotAllowed(
            f"only {who_may('followups.everyone')} sees everyone's follow-ups", field="scope"
        )
    assignee = {"mine": staff.email, "unassigned": "", "everyone": None}[chosen]
    now, zone = state.now(), state.settings.zone
    local, engine = now.astimezone(zone), engine_status(db, now=now)
    pages = {"overdue": overdue, "today": today, "upcoming": upcoming}
    found = today_list(
        db,
        now=now,
        zone=zone,
        assignee=assignee,
        days=UPCOMING_DAYS,
        limit=PAGE_ROWS,
        offsets={key: (n - 1) * PAGE_ROWS for key, n in pages.items()},
        count_step=COUNTED,
    )
    user = db.get(StaffUser, staff.id)
    assert user is not None  # page_staff has just read this user
    fresh = request.session.pop(FRESH_LINK_KEY, None)
    made = feed_urls(request, fresh) if isinstance(fresh, str) else None
    feed, webcal = made or (None, None)
    back = query_url("/today", {"scope": "" if chosen == "mine" else chosen})
    context = row_context(db, state, staff, back=back)
    context.update(
        section="today",
        scope=chosen,
        scopes=_scopes(staff),
        groups=_groups(found, pages, chosen),
        total=sum(found.counts.values()),
        engine=engine,
        today_label=f"{local:%A} {local.day} {local:%B %Y, %H:%M}",
        engine_local=f"{engine.last_run.astimezone(zone):%Y-%m-%d %H:%M}"
        if engine.last_run
        else "",
        upcoming_days=UPCOMING_DAYS,
        zone=zone.key,
        feed_url=feed,
        webcal_url=webcal,
        feed_problem=NO_PUBLIC_URL if isinstance(fresh, str) and made is None else None,
        has_calendar=has_calendar(user),
        page_flash=pop_flash(request),
    )
    return render(request, "today.html", context)

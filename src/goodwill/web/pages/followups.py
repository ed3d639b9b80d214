"""Acting on one follow-up from a page: done (with what happened), snooze, reassign.

Each action is a plain form POST carrying the CSRF token, answered with a redirect back to the
page it came from, so it works without JavaScript. With htmx the same POST answers with the
follow-up's row alone, swapped in place (a refused action shows its message in the row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.domain.facts import FACT_KINDS, check_fact
from goodwill.errors import GoodwillError, InvalidInput
from goodwill.store import followups
from goodwill.store.followups import FollowUpView
from goodwill.store.memory import Author, add_fact
from goodwill.store.models import Client
from goodwill.web import followup_words as words
from goodwill.web.auth import PageStaff, Staff, actor, safe_next
from goodwill.web.errors import status_for
from goodwill.web.followup_access import check_may_act, may_act, staff_choices
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FLASH_KEY = "flash"
ROW = "_followup.html"
#: The htmx event an action on a row sends, so the page's counts follow (see today.html).
CHANGED = "followups-changed"


def row_context(db: Session, state: WebState, staff: Staff, *, back: str) -> dict[str, Any]:
    """What the follow-up row template needs, computed once per page."""
    now, zone = state.now(), state.settings.zone

    def due(item: FollowUpView) -> str:
        return words.due_label(item.due_at, now=now, zone=zone)

    def exact(item: FollowUpView) -> str:
        return words.exact_time(item.due_at, zone=zone)

    def acts(item: FollowUpView) -> bool:
        return may_act(staff, item)

    return {
        "due": due,
        "exact": exact,
        "may_act": acts,
        "is_overdue": lambda item: item.due_at < now,
        "event_words": words.event_words,
        "reason_words": words.reason_words,
        "channel_label": words.channel_label,
        "people": staff_choices(db),
        "picks": words.snooze_picks(now=now, zone=zone),
        "back": back,
        "fact_kinds": FACT_KINDS,
        "flash": None,
        "error": None,
    }


def pop_flash(request: Request) -> str | None:
    value = request.session.pop(FLASH_KEY, None)
    return value if isinstance(value, str) else None


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _act(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    followup_id: int,
    back: str,
    action: Callable[[FollowUpView], str],
) -> Response:
    """Check, run ``action`` (which returns the message to show), answer as the caller needs."""
    target = safe_next(back or "/today")
    try:
        item = followups.get_followup(db, followup_id)
        check_may_act(staff, item)
        message = action(item)
    except GoodwillError as error:
        if not _htmx(request) or status_for(error) == 404:
            raise
        context = row_context(db, state, staff, back=target)
        context.update(f=followups.get_followup(db, followup_id), error=error.message)
        return render(request, ROW, context, status=status_for(error))
    if not _htmx(request):
        request.session[FLASH_KEY] = message
        return RedirectResponse(target, status_code=303)
    context = row_context(db, state, staff, back=target)
    context.update(f=followups.get_followup(db, followup_id), flash=message)
    answer = render(request, ROW, context)
    # The row changed group or left the list: the page around it refreshes its counts.
    answer.headers["HX-Trigger"] = CHANGED
    return answer


@router.post("/followups/{followup_id}/complete")
def complete(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    followup_id: int,
    outcome: Annotated[str, Form(max_length=5000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    fact_kind: Annotated[str, Form(max_length=40)] = "",
    fact_text: Annotated[str, Form(max_length=2000)] = "",
    fact_on: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Done with what happened; with ``fact_text``, what was learned is kept as a fact too."""

    def done(item: FollowUpView) -> str:
        learned = None
        if fact_text.strip():
            learned = check_fact(fact_kind or "note", fact_text, fact_on, source="followup")
        who = actor(request, staff)
        followups.complete(db, item.id, outcome=outcome, now=state.now(), actor=who)
        if learned is not None:
            client = db.get(Client, item.client_internal_id)
            assert client is not None
            add_fact(
                db,
                client,
                learned,
                author=Author(staff.id, staff.name),
                actor=who,
                source="web",
                now=state.now(),
                source_ref=f"followup:{item.id}",
            )
        log.info("follow-up %s done by staff user %s", item.id, staff.id)
        return f"Done: {item.title}"

    return _act(request, db, state, staff, followup_id, next, done)


@router.post("/followups/{followup_id}/snooze")
def snooze(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    followup_id: int,
    until: Annotated[str, Form(max_length=40)] = "",
    pick: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def later(item: FollowUpView) -> str:
        chosen = pick or until
        if not chosen:
            raise InvalidInput("choose when to be reminded again", field="until")
        when = words.parse_local(chosen, zone=state.settings.zone, field="until")
        followups.snooze(db, item.id, until=when, now=state.now(), actor=actor(request, staff))
        log.info("follow-up %s snoozed by staff user %s", item.id, staff.id)
        return f"Snoozed until {_local(when, state)}: {item.title}"

    return _act(request, db, state, staff, followup_id, next, later)


@router.post("/followups/{followup_id}/reassign")
def reassign(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    followup_id: int,
    to: Annotated[str, Form(max_length=320)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def give(item: FollowUpView) -> str:
        followups.reassign(db, item.id, to=to, now=state.now(), actor=actor(request, staff))
        log.info("follow-up %s reassigned by staff user %s", item.id, staff.id)
        name = followups.get_followup(db, item.id).assignee_name or to
        return f"Given to {name}: {item.title}"

    return _act(request, db, state, staff, followup_id, next, give)


def _local(when: datetime, state: WebState) -> str:
    return f"{when.astimezone(state.settings.zone):%a %Y-%m-%d %H:%M}"

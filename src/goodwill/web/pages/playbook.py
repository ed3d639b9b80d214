"""The Playbook page: the rules in force in plain words, whether their templates are sound, a
rule's message previewed with a real client, and the switches that let goodwill send a rule's
touches by itself, with what it would send in the next days before the owner switches one on.

Everyone who works follow-ups may read the page (it says what they will be asked to do); only the
owner switches automated sending on or off, since that decides what goes out in the business's
name without a person looking at it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.playbook_edits import file_decides
from goodwill.actions.touches import PlannedSend, preview_sends, switch_touches
from goodwill.domain.access import check
from goodwill.domain.playbook_edits import PAGE_SOURCE
from goodwill.domain.playbooks import Playbook
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.store.touch_switches import automated_rules
from goodwill.touch_messages import preview_rule
from goodwill.web import rule_words
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.playbook_in_force import (
    DEFAULT_DAYS,
    client_to_preview,
    clients_with,
    in_force,
    no_sender,
    switchable,
)
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/playbook"
PREVIEW = "_playbook_preview.html"
#: What each verdict of the send preview means, for a rule switched on and for one still off.
VERDICTS = {
    "send": ("Will be sent", "Would be sent once you switch the rule on"),
    "batch": ("Goes in the month's postcard batch", "Would go in the postcard batch once on"),
    "held": ("Waits for a setting", "Would wait for a setting"),
    "not sent": ("Will not be sent", "Would not be sent"),
    "person": ("Goes to a person", "Would go to a person"),
}
RuleName = Annotated[str, Query(max_length=200)]


def when_local(value: datetime, state: WebState) -> str:
    return f"{value.astimezone(state.settings.zone):%a %Y-%m-%d %H:%M}"


def verdict_words(send: PlannedSend) -> str:
    on, off = VERDICTS.get(send.verdict, (send.verdict, send.verdict))
    return on if send.automated else off


def why_words(send: PlannedSend) -> str:
    """Why, without repeating the verdict ("not sent: no consent" under "Would not be sent")."""
    why = send.why or ""
    return why.removeprefix(f"{send.verdict}: ")


def _sends(db: Session, state: WebState, playbook: Playbook) -> list[PlannedSend]:
    return preview_sends(db, state.settings, playbook, now=state.now(), days=DEFAULT_DAYS)


def page_context(
    request: Request, db: Session, state: WebState, staff: Staff, *, rule: str | None
) -> dict[str, Any]:
    """Everything the page shows; ``rule`` narrows the send preview to one rule."""
    found = in_force(state.settings)
    playbook = found.playbook
    automated = automated_rules(db)
    blocked = no_sender(state.settings)
    sends = _sends(db, state, playbook) if playbook is not None and not blocked else []
    counts: dict[str, int] = {}
    for send in sends:
        counts[send.rule] = counts.get(send.rule, 0) + 1
    shown = [s for s in sends if rule is None or s.rule == rule]
    chosen = playbook.rule(rule) if playbook is not None and rule else None
    return {
        "section": "playbook",
        "found": found,
        "rules": playbook.rules if playbook is not None else (),
        "automated": automated,
        "counts": counts,
        "sends": shown,
        "rule_filter": rule,
        "chosen": chosen,
        "unknown_rule": bool(rule) and chosen is None,
        "no_sender": blocked,
        "days": DEFAULT_DAYS,
        "zone": state.settings.zone.key,
        "may_switch": staff.may("settings.change"),
        "file_decides": file_decides(state.settings),
        "from_page": found.source == PAGE_SOURCE,
        "page_flash": pop_flash(request),
        "words": rule_words,
        "verdict_words": verdict_words,
        "why_words": why_words,
        "when_local": lambda value: when_local(value, state),
        "rule_url": lambda name: query_url(PATH, {"rule": name}) + "#next-week",
        "preview": None,
    }


@router.get(PATH)
def playbook_page(
    request: Request, staff: PageStaff, db: Db, state: State, rule: RuleName = ""
) -> Response:
    check(staff.role, "followups.own", "read the playbook")
    return render(
        request, "playbook.html", page_context(request, db, state, staff, rule=rule or None)
    )


def preview_context(
    db: Session, state: WebState, playbook: Playbook | None, rule: str, client: str
) -> dict[str, Any]:
    """The message ``rule`` makes for the client ``client`` names, the clients to choose from
    when it names several, or what stopped the preview."""
    context: dict[str, Any] = {"rule": rule, "client": client, "message": None, "choices": []}
    context.update(error=None, who=None)
    try:
        if playbook is None:
            raise InvalidInput("the playbook file cannot be read: fix it first", field="rule")
        found = client_to_preview(db, state.settings, client, today=state.today())
        if found.client is None:
            context["choices"] = found.choices
            return context
        context["who"] = found.client
        try:
            context["message"] = preview_rule(
                db, state.settings, playbook, rule, client_id=found.client.id, today=state.today()
            )
        except NotFound as exc:
            chosen = playbook.rule(rule)
            if chosen is not None and exc.fields.get("client") == found.client.id:
                others = clients_with(db, chosen.on)  # who has had the touch point, to try
                context["choices"] = [c for c in others if c.id != found.client.id]
            raise
    except (InvalidInput, NotFound, ConfigError) as exc:  # a broken template says what is wrong
        context["error"] = exc.message
    return context


@router.get(PATH + "/preview")
def preview(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    rule: RuleName = "",
    client: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    """The preview alone for htmx (swapped under the rule), else the whole page with it."""
    check(staff.role, "followups.own", "read the playbook")
    playbook = in_force(state.settings).playbook
    shown = preview_context(db, state, playbook, rule, client)
    if request.headers.get("HX-Request") == "true":
        return render(request, PREVIEW, shown)
    context = page_context(request, db, state, staff, rule=None)
    context["preview"] = shown
    return render(request, "playbook.html", context)


def moved_words(moved: int, *, on: bool) -> str:
    count = f"{moved} follow-up{'' if moved == 1 else 's'}"
    return f"Moved {count} to the worker." if on else f"Moved {count} back to people."


@router.post(PATH + "/{rule}/automation")
def switch(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    rule: str,
    on: Annotated[str, Form(pattern="^[01]$")],
) -> Response:
    """Switch a rule's automated sending on or off; back to the page with what moved."""
    check(staff.role, "settings.change", "switch automated sending on or off")
    try:
        playbook = switchable(state.settings, rule, on=on == "1")
        done = switch_touches(
            db,
            state.settings,
            playbook,
            rule,
            on=on == "1",
            actor=actor(request, staff),
            now=state.now(),
        )
    except (InvalidInput, NotFound, ConfigError) as exc:
        db.rollback()
        request.session[FLASH_KEY] = f"Not switched: {exc.message}"
        return RedirectResponse(PATH, status_code=303)
    log.info("rule %s automated=%s by staff user %s", done.rule, done.automated, staff.id)
    state_words = "on" if done.automated else "off"
    request.session[FLASH_KEY] = (
        f"Sending automatically is {state_words} for {done.rule}. "
        + moved_words(done.moved, on=done.automated)
    )
    return RedirectResponse(query_url(PATH, {"rule": done.rule}), status_code=303)

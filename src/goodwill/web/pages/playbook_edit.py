"""Editing the playbook on the page: a rule's form, a new rule, turning a rule off and on,
deleting a rule added here, and going back to the shipped playbook.

Owner only (``settings.change``): the rules decide who is asked to do what for every client. Each
save builds the whole candidate playbook and checks it as `goodwill playbook check` does, showing
its error beside the field it names; "Preview" shows what the rule would have created from the
last 30 days' touch points, writing nothing. A ``playbook`` file in the settings decides instead,
and the page says so.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.playbook_edits import (
    check_playbook,
    delete_rule,
    file_decides,
    is_shipped,
    reset_playbook,
    save_rule,
    switch_rule,
)
from goodwill.actions.replies import list_templates
from goodwill.domain.access import check
from goodwill.domain.playbook_edits import (
    ASSIGNEE_KINDS,
    find_rule,
    form_from_rule,
    form_values,
    new_rule_values,
    rule_from_form,
    with_rule,
)
from goodwill.domain.playbooks import MOOT_KINDS, Channel, PersonalLevel, Rule
from goodwill.domain.rule_preview import PREVIEW_DAYS, RulePreview
from goodwill.domain.touchpoints import TOUCH_POINTS
from goodwill.engine.configuration import calendar_for, playbook_document
from goodwill.engine.rule_preview import preview_rule_events
from goodwill.errors import ConfigError, Conflict, InvalidInput, NotFound
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.followup_words import channel_label, event_words
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.pages.playbook import PATH, when_local
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TEMPLATE = "playbook_rule.html"
#: A form value longer than this is refused (a title or a due rule is a line).
MAX_VALUE = 500
WHO = {
    "client_owner": "The client's owner",
    "on_call": "Whoever is on call",
    "business_owner": "The business owner",
    "team": "A team, in turn",
}
MOOT_WORDS = {
    "reply": "the client wrote back",
    "call": "someone called",
    "visit": "someone visited",
    "meeting": "someone met them",
    "service": "someone served them",
}


def _edits(staff_role: str) -> None:
    check(staff_role, "settings.change", "edit the playbook")


async def _posted(request: Request) -> dict[str, list[str]]:
    """The form as lists of strings (checkboxes send a name once per box)."""
    posted = await request.form()
    out: dict[str, list[str]] = {}
    for key in posted:
        values = [v for v in posted.getlist(key) if isinstance(v, str)]
        if any(len(v) > MAX_VALUE for v in values):
            raise InvalidInput(f"{key}: is too long", field=key)
        out[key] = values
    return out


def _choices(state: WebState, values: dict[str, Any]) -> dict[str, Any]:
    """The closed sets the form offers as selects and boxes."""
    tiers = list(state.settings.tiers)
    tiers += [t for t in values.get("when.tier", []) if t not in tiers]
    templates = [t.name for t in list_templates(state.settings)]
    if values.get("template") and values["template"] not in templates:
        templates.append(values["template"])
    return {
        "touch_points": [(kind, event_words(kind)) for kind in sorted(TOUCH_POINTS)],
        "closing": [(kind, event_words(kind)) for kind in ["order.placed", *sorted(TOUCH_POINTS)]],
        "channels": [(c.value, channel_label(c.value)) for c in Channel],
        "levels": [(p.value, p.label) for p in PersonalLevel],
        "assignees": [(kind, WHO[kind]) for kind in ASSIGNEE_KINDS],
        "templates": templates,
        "tiers": tiers,
        "moot": [(kind, MOOT_WORDS.get(kind, kind)) for kind in MOOT_KINDS],
    }


def _context(
    state: WebState,
    *,
    name: str | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    preview: RulePreview | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    conditions = [k for k in values if k.startswith("when.")]
    more = ("reason", "closes_on", "moot_after", "until_reply", "marketing", "ask")
    return {
        "section": "playbook",
        "conditions_open": any(values[k] for k in conditions)
        or any(k.startswith("when.") for k in errors),
        "more_open": any(values.get(k) for k in more[1:])
        or any(k in errors for k in (*more, "quiet_days", "fresh_days")),
        "editing": name,
        "values": values,
        "errors": errors,
        "preview": preview,
        "preview_days": PREVIEW_DAYS,
        "choices": _choices(state, values),
        "file_decides": file_decides(state.settings),
        "shipped": name is not None and is_shipped(name),
        "when_local": lambda value: when_local(value, state),
    }


def _problems(exc: ConfigError, values: dict[str, Any], *, name: str) -> dict[str, str]:
    """The error beside the field it names, as `goodwill playbook check` words it; an error
    about another rule (a template gone from the templates directory) above the form."""
    field = str(exc.fields.get("field") or "")
    rule = str(exc.fields.get("rule") or name)
    if field.startswith("when.") and field.count(".") > 1:
        field = field.rsplit(".", 1)[0]
    known = field in values or f"{field}.min" in values
    mine = rule == name or rule.startswith("#") or field == "name"
    return {field if known and mine else "rule": exc.message}


def _back(request: Request, message: str) -> Response:
    request.session[FLASH_KEY] = message
    return RedirectResponse(PATH, status_code=303)


@router.get(PATH + "/rules/new")
def new_rule_form(request: Request, staff: PageStaff, state: State) -> Response:
    _edits(staff.role)
    return render(request, TEMPLATE, _context(state, name=None, values=new_rule_values()))


@router.get(PATH + "/rules/{rule}/edit")
def edit_rule_form(request: Request, staff: PageStaff, state: State, rule: str) -> Response:
    _edits(staff.role)
    found = find_rule(playbook_document(state.settings), rule)
    if found is None:
        raise NotFound(f"there is no rule {rule!r} in the playbook", rule=rule)
    return render(request, TEMPLATE, _context(state, name=rule, values=form_from_rule(found)))


def _submitted(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    form: dict[str, list[str]],
    *,
    name: str,
    replacing: str | None,
) -> Response:
    """Preview the candidate rule or save it; a problem shows the form again, saving nothing."""
    values = form_values(form)
    values["name"] = name
    candidate = rule_from_form(form, name=name)
    document = with_rule(playbook_document(state.settings), candidate, replacing=replacing)
    try:
        if (form.get("action") or [""])[-1] == "preview":
            rule = check_playbook(document, state.settings).rule(name)
            assert isinstance(rule, Rule)
            preview = preview_rule_events(
                db, state.settings, rule, calendar=calendar_for(state.settings), now=state.now()
            )
            shown = _context(state, name=replacing, values=values, preview=preview)
            return render(request, TEMPLATE, shown)
        save_rule(
            db,
            state.settings,
            candidate,
            replacing=replacing,
            actor=actor(request, staff),
            now=state.now(),
        )
    except ConfigError as exc:
        db.rollback()
        errors = _problems(exc, values, name=name)
        shown = _context(state, name=replacing, values=values, errors=errors)
        return render(request, TEMPLATE, shown, status=422)
    except Conflict as exc:
        db.rollback()
        return _back(request, f"Not saved: {exc.message}")
    state.refresh(db)
    log.info("playbook rule saved by staff user %s", staff.id)
    verb = "Added" if replacing is None else "Saved"
    return _back(request, f"{verb} the rule {name}. The engine uses it from its next pass.")


@router.post(PATH + "/rules/new")
async def add_rule(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    _edits(staff.role)
    form = await _posted(request)
    name = (form.get("name") or [""])[-1].strip()
    return _submitted(request, db, state, staff, form, name=name, replacing=None)


@router.post(PATH + "/rules/{rule}/edit")
async def change_rule(
    request: Request, staff: PageStaff, db: Db, state: State, rule: str
) -> Response:
    _edits(staff.role)
    if find_rule(playbook_document(state.settings), rule) is None:
        raise NotFound(f"there is no rule {rule!r} in the playbook", rule=rule)
    form = await _posted(request)
    return _submitted(request, db, state, staff, form, name=rule, replacing=rule)


@router.post(PATH + "/rules/{rule}/enabled")
def turn_rule(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    rule: str,
    on: Annotated[str, Form(pattern="^[01]$")],
) -> Response:
    """Turn a rule off (it creates nothing) or back on."""
    _edits(staff.role)
    try:
        switch_rule(
            db, state.settings, rule, on=on == "1", actor=actor(request, staff), now=state.now()
        )
    except (ConfigError, Conflict) as exc:
        db.rollback()
        return _back(request, f"Not changed: {exc.message}")
    state.refresh(db)
    log.info("playbook rule %s enabled=%s by staff user %s", rule, on == "1", staff.id)
    said = "on" if on == "1" else "off: it creates no follow-ups until you turn it on"
    return _back(request, f"The rule {rule} is {said}.")


@router.post(PATH + "/rules/{rule}/delete")
def remove_rule(request: Request, staff: PageStaff, db: Db, state: State, rule: str) -> Response:
    """Delete a rule added on the page (shipped rules are turned off instead)."""
    _edits(staff.role)
    try:
        delete_rule(db, state.settings, rule, actor=actor(request, staff), now=state.now())
    except (ConfigError, Conflict) as exc:
        db.rollback()
        return _back(request, f"Not deleted: {exc.message}")
    state.refresh(db)
    log.info("playbook rule %s deleted by staff user %s", rule, staff.id)
    return _back(request, f"Deleted the rule {rule}.")


@router.post(PATH + "/shipped")
def back_to_shipped(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    """Drop the rules saved from the page: the shipped playbook is in force again."""
    _edits(staff.role)
    try:
        reset_playbook(db, state.settings, actor=actor(request, staff), now=state.now())
    except Conflict as exc:
        db.rollback()
        return _back(request, f"Not changed: {exc.message}")
    state.refresh(db)
    log.info("playbook back to the shipped one by staff user %s", staff.id)
    return _back(request, "Back to the shipped playbook: the rules changed here are gone.")

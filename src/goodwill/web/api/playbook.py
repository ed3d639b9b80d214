"""The playbook over JSON: the rules in force and the template check, a rule's message for one
client, what the automated touches would send in the next days, and the owner's switch.

The same as the Playbook page: anyone who works follow-ups reads; only the owner switches a rule
to automated sending or back (audited, with the follow-ups it moved).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from goodwill.actions.touches import preview_sends, switch_touches
from goodwill.domain.access import check
from goodwill.domain.playbooks import Rule
from goodwill.errors import ConfigError, InvalidInput
from goodwill.store.touch_switches import automated_rules
from goodwill.touch_messages import preview_rule
from goodwill.web import rule_words
from goodwill.web.api.schemas import API_ERRORS, ErrorBody
from goodwill.web.auth import ApiStaff, actor
from goodwill.web.playbook_in_force import (
    DEFAULT_DAYS,
    MAX_DAYS,
    client_to_preview,
    in_force,
    no_sender,
    switchable,
    the_playbook,
)
from goodwill.web.state import Db, State

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["playbook"], responses=API_ERRORS)

_NO_RULE = {"model": ErrorBody, "description": "No rule with this name in the playbook."}
_UNREADABLE = {"model": ErrorBody, "description": "The playbook file cannot be read."}
_NOT_SET_UP = {
    "model": ErrorBody,
    "description": "The playbook file cannot be read, or mail.from_address is not set.",
}
RuleName = Annotated[str, Query(min_length=1, max_length=200, description="A rule's name.")]


class RuleOut(BaseModel):
    name: str
    on: str = Field(description="The touch point the rule fires on.")
    when: str = Field(description="The touch point and the rule's conditions, in words.")
    conditions: list[str] = Field(description="Each condition in words; empty: every time.")
    title: str = Field(description="The follow-up's title, with its placeholders.")
    channel: str
    personal_level: str
    how: str = Field(description="The channel and the personal level, in words.")
    assignee: str
    who: str = Field(description="Who does it, in words.")
    due: str
    by_when: str = Field(description="By when, in words.")
    template: str | None
    enabled: bool = Field(description="False: turned off (in the file or on the page).")
    can_automate: bool = Field(description="Whether goodwill can send its touches by itself.")
    automated: bool = Field(description="Whether the owner switched it to automated sending.")


class TemplateCheckOut(BaseModel):
    valid: bool
    message: str | None = Field(description="What is wrong, naming the file, rule and template.")
    rule: str | None
    template: str | None


class PlaybookOut(BaseModel):
    source: str = Field(description="The playbook file, or 'default playbook'.")
    check: TemplateCheckOut
    rules: list[RuleOut] = Field(description="Empty when the file cannot be read.")


class PlannedSendOut(BaseModel):
    followup_id: int
    rule: str
    client_id: int = Field(description="The client's internal id ('#<id>' finds the client).")
    client_name: str
    to: str | None = Field(description="The address; none for a postcard or without one.")
    channel: str
    send_at: str = Field(description="When it would leave (ISO 8601, UTC).")
    subject: str | None
    verdict: str = Field(description="send, batch (postcard), not sent, or person.")
    why: str | None
    automated: bool = Field(description="False: what it would send once switched on.")


class MessageOut(BaseModel):
    rule: str
    client: str = Field(description="The client's id from imported files, or '#<id>'.")
    client_name: str
    subject: str | None
    body: str


class AutomationIn(BaseModel):
    on: bool = Field(description="True: goodwill sends the rule's touches by itself.")


class SwitchedOut(BaseModel):
    rule: str
    automated: bool
    moved: int = Field(description="Open follow-ups moved between people and the worker.")
    changed: bool = Field(description="False when the rule was already so.")


def rule_out(rule: Rule, automated: set[str]) -> dict[str, Any]:
    return {
        "name": rule.name,
        "on": rule.on,
        "when": rule_words.when_words(rule),
        "conditions": rule_words.condition_words(rule),
        "title": rule.title,
        "channel": rule.channel.value,
        "personal_level": rule.personal_level.value,
        "how": rule_words.how_words(rule),
        "assignee": str(rule.assignee),
        "who": rule_words.who_words(rule.assignee),
        "due": str(rule.due),
        "by_when": rule_words.due_words(rule.due),
        "template": rule.template,
        "enabled": rule.enabled,
        "can_automate": rule.can_automate,
        "automated": rule.name in automated,
    }


@router.get("/playbook", response_model=PlaybookOut)
def playbook_api(staff: ApiStaff, db: Db, state: State) -> dict[str, Any]:
    """The rules in force, in words too, and whether every template they name passes the check."""
    check(staff.role, "followups.own", "read the playbook")
    found = in_force(state.settings)
    problem = found.problem
    automated = automated_rules(db)
    rules = found.playbook.rules if found.playbook is not None else ()
    return {
        "source": found.source,
        "check": {
            "valid": problem is None,
            "message": problem.message if problem else None,
            "rule": problem.fields.get("rule") if problem else None,
            "template": problem.fields.get("template") if problem else None,
        },
        "rules": [rule_out(rule, automated) for rule in rules],
    }


@router.get(
    "/playbook/sends",
    response_model=list[PlannedSendOut],
    responses={503: _NOT_SET_UP},
)
def sends_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="Days ahead to look.")] = (
        DEFAULT_DAYS
    ),
    rule: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this rule.")
    ] = None,
) -> list[dict[str, Any]]:
    """What the automated touches would send in the next ``days``, soonest first: the rules
    switched on, and those that could be (``automated`` false), each judged as of its time."""
    check(staff.role, "followups.own", "read the playbook")
    playbook = the_playbook(state.settings)
    blocked = no_sender(state.settings)
    if blocked is not None:
        raise ConfigError(f"nothing can be sent yet: {blocked}", setting="mail.from_address")
    sends = preview_sends(db, state.settings, playbook, now=state.now(), days=days, rule=rule)
    return [send.as_dict() for send in sends]


@router.get(
    "/playbook/rules/{rule}/preview",
    response_model=MessageOut,
    responses={
        404: {"model": ErrorBody, "description": "No such rule or client, or no touch point."},
        503: _UNREADABLE,
    },
)
def preview_api(
    rule: str,
    staff: ApiStaff,
    db: Db,
    state: State,
    client: Annotated[
        str,
        Query(min_length=1, max_length=320, description="A client's id, email, phone or name."),
    ],
) -> dict[str, Any]:
    """The subject and body the rule's template makes for one client, from the client's latest
    touch point of the rule's kind; 422 when a name matches several clients."""
    check(staff.role, "followups.own", "read the playbook")
    playbook = the_playbook(state.settings)
    found = client_to_preview(db, state.settings, client, today=state.today())
    if found.client is None:
        refs = ", ".join(c.external_id or f"#{c.id}" for c in found.choices)
        raise InvalidInput(
            f"several clients match {client!r} ({refs}): give one's id", field="client"
        )
    message = preview_rule(
        db, state.settings, playbook, rule, client_id=found.client.id, today=state.today()
    )
    return {
        "rule": rule,
        "client": found.client.external_id or f"#{found.client.id}",
        "client_name": found.client.name,
        "subject": message.subject,
        "body": message.body,
    }


@router.post(
    "/playbook/rules/{rule}/automation",
    response_model=SwitchedOut,
    responses={
        403: {"model": ErrorBody, "description": "Only the owner switches automated sending."},
        404: _NO_RULE,
        422: {
            "model": ErrorBody,
            "description": "The rule cannot send by itself (a call, a "
            "note, no template) or its template fails the check.",
        },
        503: _UNREADABLE,
    },
)
def automation_api(
    rule: str, body: AutomationIn, request: Request, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Switch a rule to automated sending (``on``) or back to people: its open follow-ups not
    yet due move to the worker, or those not yet sent come back; audited. Idempotent."""
    check(staff.role, "settings.change", "switch automated sending on or off")
    playbook = switchable(state.settings, rule, on=body.on)
    done = switch_touches(
        db,
        state.settings,
        playbook,
        rule,
        on=body.on,
        actor=actor(request, staff),
        now=state.now(),
    )
    log.info("rule %s automated=%s by staff user %s", done.rule, done.automated, staff.id)
    return {
        "rule": done.rule,
        "automated": done.automated,
        "moved": done.moved,
        "changed": done.changed,
    }

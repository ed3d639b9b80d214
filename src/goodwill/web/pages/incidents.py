"""Service recovery on the dashboard: the incident board, the form, one incident's steps.

The form assesses as staff type (htmx posts the fields to ``/incidents/assess``, which stores
nothing), so the tier, the reasons and the options are in front of them before they commit to
anything; opening stores the assessment as it was shown. One incident's page walks the team
through the steps: listen, restate in our own words and record the client's confirmation, own
it, offer options, resolve with the option chosen, follow up (the engine's follow-up). Every
write goes through ``goodwill.actions.incidents`` in the request's transaction, committed before
the redirect, so the page that follows shows it.

Choosing an option that needs the owner's authority is the owner's; anyone may take the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions import incidents as actions
from goodwill.domain.stakes import TIER_NAMES, assess
from goodwill.errors import Conflict, GoodwillError, InvalidInput, NotFound
from goodwill.store.inbox import MessageView
from goodwill.store.inbox import conversation as conversation_view
from goodwill.store.incidents import (
    OUTCOMES,
    STEPS,
    IncidentView,
    Outcomes,
    get_incident,
    list_incidents,
    of_conversation,
    recovery_outcomes,
    systemic_alerts,
)
from goodwill.store.models import Client, Conversation, Partner, StaffUser
from goodwill.store.queries import find_client
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.charts import ColumnChart, column_chart
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.pages.inbox import span_words
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: The steps as the page names them.
STEP_WORDS = {
    "listen": "Listen",
    "restate": "Restate, and the client confirms",
    "own": "Own it",
    "offer": "Offer options",
    "resolve": "Resolve",
    "follow_up": "Follow up",
}
#: What each step asks of the person taking it.
STEP_HINTS = {
    "listen": "Let the client tell the whole story before answering.",
    "restate": "Say the problem back in our own words; record it, then the client's yes.",
    "own": "It is ours to fix, a partner's mistake included: no blame, no “not affiliated”.",
    "offer": "Offer the options below, the free ones too; let the client choose.",
    "resolve": "Record how it ended and the option chosen.",
    "follow_up": "The engine creates a follow-up when the incident is resolved.",
}
TIER_CLASSES = {1: "tier-1", 2: "tier-2", 3: "tier-3"}
#: Months in the recovery outcomes chart; systemic alerts shown for this many days.
OUTCOME_MONTHS = 12
ALERT_DAYS = 90
FIELDS = ("client", "what", "cause", "message", "message_time", "deadline", "cost", "partner")
STRANDED = {"": None, "yes": True, "no": False}


# -- words ----------------------------------------------------------------------------------------


def next_step(view: IncidentView) -> str | None:
    """The first step not yet taken (restate counts once the client confirmed it)."""
    return view.missing[0] if view.missing else None


def deadline_words(deadline: datetime | None, *, now: datetime) -> str | None:
    """ "in 3 h 10 min" or "passed 20 min ago", for a card; None without a deadline."""
    if deadline is None:
        return None
    minutes = int((deadline - now).total_seconds()) // 60
    if minutes >= 0:
        return f"deadline in {span_words(minutes)}"
    return f"deadline passed {span_words(-minutes)} ago"


def local_input(value: datetime | None, zone: ZoneInfo) -> str:
    """An instant as a ``datetime-local`` field's value in ``zone``."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def outcome_chart(outcomes: Outcomes) -> ColumnChart | None:
    if not any(m.total for m in outcomes.months):
        return None
    labels = [
        f"{m.month:%b}" + (f" {m.month:%y}" if m.month.month == 1 else "") for m in outcomes.months
    ]
    series = [
        (label, key.replace("_", "-"), [float(m.by_outcome[key]) for m in outcomes.months])
        for key, label in OUTCOMES
    ]
    return column_chart(labels, series)


# -- the board ------------------------------------------------------------------------------------


def _board(views: Sequence[IncidentView], step: str, tier: int | None) -> dict[int, list[Any]]:
    columns: dict[int, list[Any]] = {3: [], 2: [], 1: []}
    for view in views:
        if view.incident.status != "open":
            continue
        if step and next_step(view) != step:
            continue
        if tier and view.incident.tier != tier:
            continue
        columns.setdefault(view.incident.tier, []).append(view)
    for cards in columns.values():  # the nearest deadline first, then the oldest
        cards.sort(
            key=lambda v: (
                v.incident.deadline is None,
                v.incident.deadline or v.incident.opened_at,
                v.incident.opened_at,
            )
        )
    return columns


@router.get("/incidents")
def incidents_page(
    request: Request, staff: PageStaff, db: Db, state: State, step: str = "", tier: int = 0
) -> Response:
    """Open incidents by tier (a filter by the next step), outcomes over time, systemic alerts."""
    chosen_step = step if step in STEPS else ""
    chosen_tier = tier if tier in TIER_NAMES else 0
    now, zone = state.now(), state.settings.zone
    views = list_incidents(db, limit=1000)
    open_views = [v for v in views if v.incident.status == "open"]
    outcomes = recovery_outcomes(db, zone=zone, today=state.today(), months=OUTCOME_MONTHS)
    names = _client_names(db, views)
    return render(
        request,
        "incidents.html",
        {
            "section": "incidents",
            "columns": _board(views, chosen_step, chosen_tier),
            "open_count": len(open_views),
            "step_counts": {s: sum(1 for v in open_views if next_step(v) == s) for s in STEPS},
            "follow_up_due": [
                v for v in views if v.incident.status == "resolved" and "follow_up" in v.missing
            ],
            "step": chosen_step,
            "tier": chosen_tier,
            "steps": STEPS,
            "step_words": STEP_WORDS,
            "tier_names": TIER_NAMES,
            "tier_classes": TIER_CLASSES,
            "next_step": next_step,
            "deadline_words": lambda v: deadline_words(v.incident.deadline, now=now),
            "age_words": lambda v: span_words(
                int((now - v.incident.opened_at).total_seconds()) // 60
            ),
            "names": names,
            "outcomes": outcomes,
            "outcome_labels": OUTCOMES,
            "chart": outcome_chart(outcomes),
            "alerts": systemic_alerts(db, since=now - timedelta(days=ALERT_DAYS)),
            "alert_days": ALERT_DAYS,
            "query_url": query_url,
            "page_flash": pop_flash(request),
        },
    )


def _client_names(db: Session, views: Sequence[IncidentView]) -> dict[int, str]:
    ids = {v.incident.client_id for v in views}
    if not ids:
        return {}
    rows = db.execute(select(Client.id, Client.name).where(Client.id.in_(ids)))
    return {cid: name for cid, name in rows}


# -- the form -------------------------------------------------------------------------------------


def _form_context(
    db: Session, state: WebState, form: dict[str, str], *, error: str | None = None
) -> dict[str, Any]:
    partners = list(db.execute(select(Partner.name).order_by(Partner.name)).scalars())
    return {
        "section": "incidents",
        "trade": actions.trade_words(state.settings),
        "form": form,
        "form_error": error,
        "whole_message": "",
        "partners": partners,
        "assessment": None,
        "assess_error": None,
        "tier_classes": TIER_CLASSES,
    }


@router.get("/incidents/new")
def new_incident(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    client: str = "",
    conversation: int | None = None,
    message: int | None = None,
) -> Response:
    """The form; from a conversation, the client and the words that complain are filled in."""
    form = dict.fromkeys(FIELDS, "") | {"client": client, "stranded": ""}
    whole = ""
    if conversation is not None:
        view = conversation_view(db, conversation)
        if view is None:
            raise NotFound(f"there is no conversation {conversation}", conversation=conversation)
        form["client"] = view.client_ref
        if (chosen := complaint(view.messages, message)) is not None:
            found = db.get(Client, view.client_id)
            zone = _client_zone(found, state.settings.zone)
            form["message"] = chosen.new_text.strip()
            whole = chosen.full_text.strip()
            form["message_time"] = local_input(chosen.sent_at, zone)
        form["what"] = ""
        form["conversation"] = str(conversation)
    context = _form_context(db, state, form)
    # What the quote and signature separation left out stays in sight: a wrong cut shows.
    context["whole_message"] = whole if whole != form["message"] else ""
    context["already"] = of_conversation(db, conversation) if conversation is not None else []
    return render(request, "incident_new.html", context)


def complaint(messages: Sequence[MessageView], chosen: int | None) -> MessageView | None:
    """The client's message an incident is about: the one chosen, else their first.

    The first message tells what went wrong; later ones answer our questions ("I can bring it
    in on Saturday") and would be read as the complaint. Auto-replies are passed over.
    """
    words = [m for m in messages if m.direction == "in"]
    if chosen is not None:
        picked = next((m for m in words if m.id == chosen), None)
        if picked is None:
            raise NotFound(f"the conversation has no client message {chosen}", message_id=chosen)
        return picked
    return next((m for m in words if not m.auto_reply), words[0] if words else None)


def _client_zone(client: Client | None, default: ZoneInfo) -> ZoneInfo:
    if client is None or not client.timezone:
        return default
    try:
        return ZoneInfo(client.timezone)
    except (KeyError, ValueError):
        return default


Text = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=20_000)]


@dataclass(frozen=True)
class IncidentForm:
    """The incident form as typed (shown again when it is refused) and as the actions read it."""

    typed: dict[str, str]

    @property
    def client(self) -> str:
        return self.typed["client"].strip()

    @property
    def conversation_id(self) -> int | None:
        """The conversation the form was opened from (a hidden field), if any."""
        text = self.typed.get("conversation", "").strip()
        if not text:
            return None
        if not text.isdigit() or len(text) > 18:
            raise InvalidInput(f"{text[:20]!r} is not a conversation", field="conversation")
        return int(text)

    def facts(self) -> dict[str, Any]:
        """What ``read_context`` and ``open_incident`` both take: empty fields are not given."""
        t = self.typed
        return {
            "what": t["what"].strip(),
            **{
                k: t[k].strip() or None
                for k in ("message", "message_time", "deadline", "cost", "partner")
            },
            "stranded": STRANDED.get(t["stranded"]),
        }


def incident_form(
    client: Text = "",
    what: Annotated[str, Form(max_length=2000)] = "",
    cause: Text = "",
    message: LongText = "",
    message_time: Text = "",
    deadline: Text = "",
    cost: Text = "",
    partner: Text = "",
    stranded: Text = "",
    conversation: Text = "",
) -> IncidentForm:
    return IncidentForm(
        {
            "client": client,
            "what": what,
            "cause": cause,
            "message": message,
            "message_time": message_time,
            "deadline": deadline,
            "cost": cost,
            "partner": partner,
            "stranded": stranded,
            "conversation": conversation,
        }
    )


TypedIncident = Annotated[IncidentForm, Depends(incident_form)]


@router.post("/incidents/assess")
def assess_preview(
    request: Request, staff: PageStaff, db: Db, state: State, form: TypedIncident
) -> Response:
    """The tier, score, reasons and options for the form as it is; nothing is stored."""
    context: dict[str, Any] = {
        "assessment": None,
        "assess_error": None,
        "tier_classes": TIER_CLASSES,
    }
    facts = form.facts()
    if not facts["what"] and facts["message"]:
        # Opened from a conversation: the client's own words stand in until staff sum them up.
        facts["what"] = str(facts["message"])[:2000]
    if not form.client or not facts["what"]:
        context["assess_error"] = "Name the client and say what went wrong to see the assessment."
        return render(request, "_incident_assessment.html", context)
    try:
        weights, catalog = actions.recovery_files(state.settings)
        found = find_client(db, form.client)
        incident = actions.read_context(db, state.settings, found, **facts, now=state.now())
        result = assess(incident, weights, catalog)
    except GoodwillError as error:
        context["assess_error"] = _sentence(error.message)
        return render(request, "_incident_assessment.html", context)
    context["assessment"] = result.as_dict() | {"currency": incident.currency}
    context["client_name"] = found.name
    return render(request, "_incident_assessment.html", context)


def _sentence(message: str) -> str:
    text = message.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.post("/incidents")
def open_incident(
    request: Request, staff: PageStaff, db: Db, state: State, form: TypedIncident
) -> Response:
    """Store the incident with its assessment; then its page, with the steps to take."""
    try:
        if not form.client:
            raise InvalidInput(
                "name the client (the id used in your files, or their email)", field="client"
            )
        incident_id = actions.open_incident(
            db,
            state.settings,
            client_ref=form.client,
            **form.facts(),
            cause=form.typed["cause"],
            by=staff.email,
            actor=actor(request, staff),
            now=state.now(),
            conversation_id=form.conversation_id,
        )
    except (InvalidInput, NotFound) as error:
        db.rollback()
        context = _form_context(db, state, form.typed, error=_sentence(error.message))
        return render(request, "incident_new.html", context, status=422)
    log.info("incident %s opened on the dashboard by staff user %s", incident_id, staff.id)
    request.session[FLASH_KEY] = "Incident opened. Take the steps below, in order."
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


# -- one incident ---------------------------------------------------------------------------------


def _incident_context(
    db: Session, state: WebState, view: IncidentView, staff: Staff
) -> dict[str, Any]:
    incident = view.incident
    found = db.get(Client, incident.client_id)
    assert found is not None
    done = {s.step: s for s in view.steps}
    owner_options = {str(o["name"]) for o in incident.options if o.get("authority") == "owner"}
    conversation_id = incident.conversation_id or _open_conversation(db, incident.client_id)
    opener = db.execute(
        select(StaffUser.name).where(StaffUser.email == incident.opened_by)
    ).scalar_one_or_none()
    return {
        "section": "incidents",
        "v": view,
        "i": incident,
        "opened_by": opener or incident.opened_by,
        "client": found,
        "done": done,
        "steps": STEPS,
        "step_words": STEP_WORDS,
        "step_hints": STEP_HINTS,
        "next": next_step(view),
        "tier_name": TIER_NAMES.get(incident.tier, str(incident.tier)),
        "tier_classes": TIER_CLASSES,
        "deadline_text": deadline_words(incident.deadline, now=state.now()),
        "owner_options": owner_options,
        "may_choose_owner_options": staff.may("incidents.owner_authority"),
        "conversation_id": conversation_id,
        "trade": actions.trade_words(state.settings),
        "form_error": None,
        "page_flash": None,
    }


def _open_conversation(db: Session, client_id: int) -> int | None:
    """The client's conversation a reply about the incident goes to, if one is not closed."""
    return db.execute(
        select(Conversation.id)
        .where(Conversation.client_id == client_id, Conversation.status != "closed")
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    ).scalar_one_or_none()


@router.get("/incidents/{incident_id:id}")
def incident_page(
    request: Request, staff: PageStaff, db: Db, state: State, incident_id: int
) -> Response:
    context = _incident_context(db, state, get_incident(db, incident_id), staff)
    context["page_flash"] = pop_flash(request)
    return render(request, "incident.html", context)


def _after(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    incident_id: int,
    act: Any,
    done: str,
) -> Response:
    """Run ``act``; on success the incident's page with ``done``, else the page with why."""
    try:
        act()
    except (InvalidInput, Conflict) as error:
        db.rollback()  # nothing of a refused action stays
        context = _incident_context(db, state, get_incident(db, incident_id), staff)
        context["form_error"] = _sentence(error.message)
        return render(
            request, "incident.html", context, status=409 if isinstance(error, Conflict) else 422
        )
    request.session[FLASH_KEY] = done
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id:id}/step")
def take_step(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    incident_id: int,
    step: Text = "",
    note: LongText = "",
) -> Response:
    """Mark a step done (restate: the restatement is the note)."""
    return _after(
        request,
        db,
        state,
        staff,
        incident_id,
        lambda: actions.record_step(
            db,
            incident_id,
            step,
            by=staff.email,
            actor=actor(request, staff),
            note=note or None,
            now=state.now(),
        ),
        f"{STEP_WORDS.get(step, step).split(',')[0]}: done.",
    )


@router.post("/incidents/{incident_id:id}/confirm")
def confirm(request: Request, staff: PageStaff, db: Db, state: State, incident_id: int) -> Response:
    """The client confirmed our restatement of the problem."""
    return _after(
        request,
        db,
        state,
        staff,
        incident_id,
        lambda: actions.confirm_restatement(
            db, incident_id, by=staff.email, actor=actor(request, staff), now=state.now()
        ),
        "The client's confirmation is recorded.",
    )


@router.post("/incidents/{incident_id:id}/resolve")
def resolve(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    incident_id: int,
    outcome: LongText = "",
    option: Text = "",
) -> Response:
    """How it ended and the option chosen; an owner-authority option is the owner's to grant."""

    def act() -> None:
        view = get_incident(db, incident_id)
        needs_owner = any(
            o.get("name") == option and o.get("authority") == "owner" for o in view.incident.options
        )
        if needs_owner and not staff.may("incidents.owner_authority"):
            raise InvalidInput(
                f"“{option}” needs the owner's authority: ask the owner to grant it, "
                "or choose another option",
                field="option",
            )
        actions.resolve(
            db,
            state.settings,
            incident_id,
            outcome=outcome,
            chosen_option=option or None,
            by=staff.email,
            actor=actor(request, staff),
            now=state.now(),
        )

    return _after(
        request,
        db,
        state,
        staff,
        incident_id,
        act,
        "Resolved. The engine will create the follow-up; it shows on the Today list when due.",
    )


@router.post("/incidents/{incident_id:id}/close")
def close(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    incident_id: int,
    reason: LongText = "",
) -> Response:
    """Close it; with a step missing only with a reason."""
    return _after(
        request,
        db,
        state,
        staff,
        incident_id,
        lambda: actions.close(
            db,
            incident_id,
            reason=reason or None,
            by=staff.email,
            actor=actor(request, staff),
            now=state.now(),
        ),
        "Closed.",
    )

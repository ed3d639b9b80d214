"""The support inbox: conversations by urgency, a thread with its reply box, on-call overrides.

The list shows each conversation's response clock in words ("due in 18 min", "breached 5 min
ago"), computed from the app's clock on every request; htmx asks for the list again every 30
seconds, so the words keep up without a reload. A reply and the status buttons are plain form
POSTs that call the inbox actions (their own transactions, committed before the redirect) and
come back to the thread. Any staff member may reply to any conversation: the inbox is shared, the
assignee is who answers first. Adding and removing on-call overrides is the owner's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import quote as header_quote
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions import replies
from goodwill.actions.inbox import check, reply, set_status
from goodwill.actions.sla_in_force import rota_for
from goodwill.actions.tracked_mail import track_reply
from goodwill.domain.facts import FACT_KINDS
from goodwill.domain.rota import Override, Rota, covering_override
from goodwill.errors import ConfigError, GoodwillError, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.inbox import (
    ConversationView,
    MessageView,
    conversation,
    list_conversations,
    unreadable_mail,
)
from goodwill.store.incidents import of_conversation
from goodwill.store.models import Attachment, InboundMail, RotaOverride, StaffUser
from goodwill.store.queries import ClientOverview, overviews_for
from goodwill.store.thread_index import merged_into
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.followup_access import staff_choices
from goodwill.web.followup_words import exact_time, parse_local
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.pages.imports import check_may, size_words
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: Conversations on one page of the list, most urgent first.
LIST_ROWS = 200
#: How often the open list and a thread's clock ask for fresh words, in seconds.
REFRESH_SECONDS = 30
SCOPES = (("all", "Everyone's"), ("mine", "Mine"))
#: The status filter: (key, label, statuses shown; None: every status).
STATUS_FILTERS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("active", "Not closed", ("open", "answered", "waiting")),
    ("open", "Owed a reply", ("open",)),
    ("waiting", "Waiting on client", ("waiting",)),
    ("answered", "Answered", ("answered",)),
    ("closed", "Closed", ("closed",)),
    ("any", "All", None),
)
STATUS_WORDS = {
    "open": "owed a reply",
    "answered": "answered",
    "waiting": "waiting on client",
    "closed": "closed",
}
#: What the status buttons set, by the form's value, with the message shown afterwards.
STATUS_ACTIONS: dict[str, tuple[Literal["waiting", "closed", "open"], str]] = {
    "waiting": ("waiting", "Waiting on the client: the clock is paused until they write."),
    "closed": ("closed", "Closed: nothing is owed on this conversation."),
    "open": ("open", "Reopened: the conversation is owed a reply again."),
}
#: Overrides listed on the rota page (they are short-lived; older ones are history).
ROTA_ROWS = 100


# -- the clock in words ---------------------------------------------------------------------------


def span_words(minutes: int) -> str:
    """Whole minutes as people say them on a clock: ``18 min``, ``2 h 5 min``, ``3 days``."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours and days < 3 else "")


def clock_words(view: ConversationView, *, now: datetime) -> str:
    """The response clock of ``view`` at ``now``: "due in 18 min", "breached 5 min ago"...

    Time left is rounded up (20 seconds left is "due in 1 min", never "0 min"), time past the
    deadline down (the first minute is "breached just now").
    """
    state = view.state(now)
    due = view.sla_due_at
    if state == "paused":
        return "paused"
    if due is None:
        return "no target" if view.status == "open" else STATUS_WORDS.get(view.status, view.status)
    if state == "breached":
        late = int((now - due).total_seconds()) // 60
        return f"breached {span_words(late)} ago" if late else "breached just now"
    left = span_words(-(-int((due - now).total_seconds()) // 60))
    return f"warning: due in {left}" if state == "warning" else f"due in {left}"


# -- reading --------------------------------------------------------------------------------------


def _status_filter(value: str) -> tuple[str, tuple[str, ...] | None]:
    """A known status filter; anything else (an old bookmark, a typo) falls back to "active"."""
    for key, _, statuses in STATUS_FILTERS:
        if key == value:
            return key, statuses
    return STATUS_FILTERS[0][0], STATUS_FILTERS[0][2]


def _partial(request: Request) -> bool:
    """An htmx request for a fragment (a history restore needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _local(state: WebState) -> Callable[[datetime | None], str]:
    zone = state.settings.zone

    def local(value: datetime | None) -> str:
        return "—" if value is None else f"{value.astimezone(zone):%a %Y-%m-%d %H:%M}"

    return local


def _shared(db: Session, state: WebState) -> dict[str, Any]:
    """What the list and the thread both use: the clock in words and who people are."""
    now, zone = state.now(), state.settings.zone
    return {
        "section": "inbox",
        "clock_words": lambda c: clock_words(c, now=now),
        "clock_state": lambda c: c.state(now),
        "exact": lambda at: exact_time(at, zone=zone),
        "local": _local(state),
        "names": dict(staff_choices(db)),
        "status_words": STATUS_WORDS,
        "refresh": REFRESH_SECONDS,
    }


def _overviews(
    db: Session, state: WebState, views: Sequence[ConversationView]
) -> dict[int, ClientOverview]:
    """Tenure, tier and spend of every client in ``views``, in one query."""
    ids = {v.client_id for v in views}
    return overviews_for(db, state.settings, ids, today=state.today())


def _list_context(
    db: Session, state: WebState, staff: Staff, *, scope: str, status: str
) -> dict[str, Any]:
    chosen_scope = scope if scope in dict(SCOPES) else SCOPES[0][0]
    chosen_status, statuses = _status_filter(status)
    views = list_conversations(
        db,
        status=statuses,
        assignee_id=staff.id if chosen_scope == "mine" else None,
        limit=LIST_ROWS,
    )
    params = {
        "scope": None if chosen_scope == SCOPES[0][0] else chosen_scope,
        "status": None if chosen_status == STATUS_FILTERS[0][0] else chosen_status,
    }
    return _shared(db, state) | {
        "conversations": views,
        "clients": _overviews(db, state, views),
        "scope": chosen_scope,
        "scopes": SCOPES,
        "status": chosen_status,
        "status_filters": [(key, label) for key, label, _ in STATUS_FILTERS],
        "params": params,
        "list_url": query_url("/inbox", params),
        "more": len(views) >= LIST_ROWS,
    }


@router.get("/inbox")
def inbox_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    scope: str = "",
    status: str = "",
) -> Response:
    context = _list_context(db, state, staff, scope=scope, status=status)
    if _partial(request):
        response = render(request, "_inbox_list.html", context)
    else:
        context["unreadable"] = unreadable_mail(db)
        context["page_flash"] = pop_flash(request)
        response = render(request, "inbox.html", context)
    response.headers["Vary"] = "HX-Request"
    return response


def _thread(db: Session, conversation_id: int) -> ConversationView:
    found = conversation(db, conversation_id)
    if found is None:
        raise NotFound(f"there is no conversation {conversation_id}", conversation=conversation_id)
    return found


def quoted_part(message: MessageView) -> str:
    """What the message quoted or carried below its new text (empty when there is nothing)."""
    full, new = message.full_text.strip(), message.new_text.strip()
    if full == new:
        return ""
    if new and full.startswith(new):
        return full[len(new) :].strip()
    return full


def _thread_context(
    db: Session,
    state: WebState,
    view: ConversationView,
    *,
    staff: Staff,
    draft: str = "",
    error: str | None = None,
    findings: list[dict[str, Any]] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    overview = _overviews(db, state, [view]).get(view.client_id)
    templates, templates_problem = _templates_or_problem(state)
    return (
        _shared(db, state)
        | {
            "c": view,
            "client": overview,
            "quoted_part": quoted_part,
            "size_words": size_words,
            "draft": draft,
            "reply_error": error,
            "findings": _shown_findings(draft, findings or []),
            "needs_reason": bool(findings)
            and not any(f["severity"] == "block" for f in findings or []),
            "reason": reason,
            "page_flash": None,
            "reply_templates": templates,
            "chosen_template": "",
            "template_error": templates_problem,
            "fact_kinds": FACT_KINDS,
            "incidents": of_conversation(db, view.id),
        }
        | _touch_context(db, state, view, staff)
    )


def _templates_or_problem(state: WebState) -> tuple[list[replies.ReplyTemplate], str | None]:
    try:
        return replies.list_templates(state.settings), None
    except ConfigError as error:
        return [], f"The reply templates cannot be read: {error.message}."


def _touch_context(
    db: Session, state: WebState, view: ConversationView, staff: Staff
) -> dict[str, Any]:
    """Personal-touch suggestions for the assigned staff member (else whoever is looking)."""
    answering = (db.get(StaffUser, view.assignee_id) if view.assignee_id else None) or db.get(
        StaffUser, staff.id
    )
    assert answering is not None
    try:
        found = replies.suggestions_for(
            db, state.settings, view.id, staff=answering, today=state.today()
        )
    except ConfigError as error:
        return {"touches": [], "touch_for": answering.name, "touch_problem": error.message}
    return {"touches": found, "touch_for": answering.name, "touch_problem": None}


def _shown_findings(text: str, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings with the words they are about, for the reply box."""
    return [f | {"excerpt": text[int(f["start"]) : int(f["end"])]} for f in findings]


@router.get("/inbox/{conversation_id:id}")
def conversation_page(
    request: Request, staff: PageStaff, db: Db, state: State, conversation_id: int
) -> Response:
    into = merged_into(db, conversation_id) if conversation(db, conversation_id) is None else None
    if into is not None:  # merged into another when a message showed them to be one thread
        return RedirectResponse(f"/inbox/{into}", status_code=303)
    context = _thread_context(db, state, _thread(db, conversation_id), staff=staff)
    context["page_flash"] = pop_flash(request)
    return render(request, "conversation.html", context)


@router.get("/inbox/{conversation_id:id}/template")
def use_template(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    conversation_id: int,
    name: str = "",
    text: str = "",
    replace: str = "",
) -> Response:
    """Fill the reply box with a canned reply rendered for this conversation.

    Rendering only fills the box: the guardrails check the text when it is sent, and their
    findings on it show at once. A draft already typed is replaced only when asked
    (``replace``); a template that cannot be filled leaves the draft as it is and says which
    placeholder is missing. Without htmx the whole thread comes back with the box filled.
    """
    view = _thread(db, conversation_id)
    user = db.get(StaffUser, staff.id)
    assert user is not None
    rendered, problem = None, None
    try:
        values = replies.placeholders_for(
            db, state.settings, conversation_id, staff=user, today=state.today()
        )
        rendered = replies.render_template(state.settings, name, values)
    except (InvalidInput, NotFound, ConfigError) as error:
        problem = _reply_problem(error) if not isinstance(error, ConfigError) else error.message
    if not _partial(request):
        context = _thread_context(db, state, view, staff=staff, draft=rendered or "")
        context["template_error"] = problem
        context["chosen_template"] = name
        return render(request, "conversation.html", context, status=422 if problem else 200)
    asked = rendered is not None and bool(text.strip()) and not replace
    findings = (
        [f.as_dict() for f in check(db, conversation_id, rendered)]
        if rendered and not asked
        else []
    )
    context = {
        "c": view,
        "chosen_template": name,
        "template_error": problem,
        "ask_replace": asked,
        "draft": rendered if rendered is not None and not asked else None,
        "findings": _shown_findings(rendered or "", findings),
        "live": True,
    }
    return render(request, "_reply_template.html", context)


@router.get("/inbox/{conversation_id:id}/clock")
def conversation_clock(
    request: Request, staff: PageStaff, db: Db, state: State, conversation_id: int
) -> Response:
    """The thread's clock panel alone, for htmx to refresh."""
    context = _shared(db, state) | {"c": _thread(db, conversation_id)}
    return render(request, "_conversation_clock.html", context)


@router.post("/inbox/{conversation_id:id}/check")
def check_draft(
    request: Request,
    staff: PageStaff,
    db: Db,
    conversation_id: int,
    text: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """The guardrails' findings on the draft, as the reply box shows them while one types."""
    findings = [f.as_dict() for f in check(db, conversation_id, text)] if text else []
    return render(
        request,
        "_reply_findings.html",
        {"findings": _shown_findings(text, findings), "live": True},
    )


# -- acting on a conversation --------------------------------------------------------------------


@router.post("/inbox/{conversation_id:id}/reply")
def reply_to(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    conversation_id: int,
    text: Annotated[str, Form(max_length=100_000)] = "",
    override_reason: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Queue the reply (signed by the logged-in staff member) and come back to the thread.

    A refused reply (no text, mail not configured, a guardrail finding that blocks, warnings
    without a reason) shows the thread again with the reason, the findings and the draft kept,
    so nothing typed is lost.
    """
    try:
        row = reply(
            db,
            state.settings,
            conversation_id,
            text=text,
            author_email=staff.email,
            now=state.now(),
            actor=actor(request, staff),
            override_reason=override_reason or None,
        )
        track_reply(db, state.settings, row)
    except (InvalidInput, ConfigError) as error:
        db.rollback()
        view = _thread(db, conversation_id)
        found = error.fields.get("findings")
        context = _thread_context(
            db,
            state,
            view,
            staff=staff,
            draft=text,
            error=_reply_problem(error),
            findings=list(found) if isinstance(found, list) else None,
            reason=override_reason,
        )
        status = 409 if isinstance(error, ConfigError) else 422
        return render(request, "conversation.html", context, status=status)
    log.info("reply %s to conversation %s by staff user %s", row, conversation_id, staff.id)
    request.session[FLASH_KEY] = _queued_words(state.settings)
    return RedirectResponse(f"/inbox/{conversation_id}", status_code=303)


def _queued_words(settings: Settings) -> str:
    """What happens to a queued reply: the outbox is sent only when a mail server is set."""
    if settings.mail.get("smtp_host"):
        return "Reply queued: it goes out with the next send of the outbox."
    return (
        "Reply queued, but it will not leave until mail is set up: goodwill has no mail server "
        "to send through yet (mail.smtp_host in the settings, docs/inbox.md)."
    )


def _reply_problem(error: GoodwillError) -> str:
    if isinstance(error, ConfigError):
        return (
            f"Replies cannot be sent yet: {error.message}. "
            "Ask whoever runs goodwill to add it to the settings file (docs/configuration.md)."
        )
    message = error.message[:1].upper() + error.message[1:]
    return message if message.endswith(".") else f"{message}."


@router.post("/inbox/{conversation_id:id}/status")
def change_status(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    conversation_id: int,
    to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Waiting on client, Close or Reopen."""
    if to not in STATUS_ACTIONS:
        raise InvalidInput("choose waiting, closed or open", field="to")
    status, message = STATUS_ACTIONS[to]
    set_status(
        db, state.settings, conversation_id, status, now=state.now(), actor=actor(request, staff)
    )
    log.info("conversation %s set %s by staff user %s", conversation_id, status, staff.id)
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/inbox/{conversation_id}", status_code=303)


# -- reply templates ------------------------------------------------------------------------------


def _templates_page_context(
    state: WebState, staff: Staff, *, name: str, source: str | None = None
) -> dict[str, Any]:
    found, problem = _templates_or_problem(state)
    chosen = next((t for t in found if t.name == name), None)
    return {
        "section": "inbox",
        "reply_templates": found,
        "templates_problem": problem,
        "editable": state.settings.templates is not None,
        "directory": str(state.settings.templates or replies.DEFAULT_TEMPLATES),
        "may_edit": staff.may("templates.edit") and state.settings.templates is not None,
        "may_edit_templates": staff.may("templates.edit"),
        "chosen": chosen,
        "form": {
            "name": name,
            "source": source if source is not None else (chosen.source if chosen else ""),
        },
        "form_error": None,
        "page_flash": None,
    }


@router.get("/inbox/templates")
def templates_page(request: Request, staff: PageStaff, state: State, name: str = "") -> Response:
    """The canned replies: everyone reads them; the owner edits and adds them."""
    context = _templates_page_context(state, staff, name=name)
    context["page_flash"] = pop_flash(request)
    return render(request, "inbox_templates.html", context)


@router.post("/inbox/templates")
def save_reply_template(
    request: Request,
    staff: PageStaff,
    state: State,
    name: Annotated[str, Form(max_length=80)] = "",
    source: Annotated[str, Form(max_length=replies.MAX_SOURCE)] = "",
) -> Response:
    """Save a canned reply as ``NAME.txt`` in the ``templates`` directory (the owner's)."""
    check_may(staff, "templates.edit", "change the reply templates")
    chosen = name.strip().lower()
    try:
        replies.save_template(state.settings, chosen, source)
    except (InvalidInput, ConfigError) as error:
        context = _templates_page_context(state, staff, name=chosen, source=source)
        context["form_error"] = (
            _reply_problem(error)
            if isinstance(error, InvalidInput)
            else error.message[:1].upper() + error.message[1:] + "."
        )
        return render(
            request,
            "inbox_templates.html",
            context,
            status=409 if isinstance(error, ConfigError) else 422,
        )
    log.info("reply template %s saved by staff user %s", chosen, staff.id)
    request.session[FLASH_KEY] = f"Template “{chosen}” saved: it is in the reply box's list now."
    return RedirectResponse(query_url("/inbox/templates", {"name": chosen}), status_code=303)


# -- files ----------------------------------------------------------------------------------------


def _download(content: bytes, filename: str, media_type: str) -> Response:
    """Bytes as a download, never shown inline: a mailed HTML file must not run as our page."""
    safe = "".join(ch if ch.isprintable() and ch not in '"\\/' else "_" for ch in filename)
    ascii_name = safe.encode("ascii", "replace").decode().replace("?", "_") or "attachment"
    disposition = (
        f'attachment; filename="{header_quote(ascii_name)}"; '
        f"filename*=UTF-8''{quote(safe or 'attachment', safe='')}"
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition, "Content-Security-Policy": "sandbox"},
    )


@router.get("/inbox/attachments/{attachment_id:id}")
def attachment(staff: PageStaff, db: Db, attachment_id: int) -> Response:
    found = db.get(Attachment, attachment_id)
    if found is None:
        raise NotFound(f"there is no attachment {attachment_id}", attachment=attachment_id)
    return _download(found.content, found.filename, "application/octet-stream")


@router.get("/inbox/unreadable/{inbound_id:id}.eml")
def unreadable_raw(staff: PageStaff, db: Db, inbound_id: int) -> Response:
    """A message that could not be read, as it arrived (to open in a mail program)."""
    found = db.get(InboundMail, inbound_id)
    if found is None or found.status != "failed":
        raise NotFound(f"there is no unreadable message {inbound_id}", inbound=inbound_id)
    return _download(found.raw, f"message-{inbound_id}.eml", "message/rfc822")


# -- the on-call rota ------------------------------------------------------------------------------


def _overrides(db: Session, *, now: datetime) -> list[RotaOverride]:
    """Overrides not yet over, soonest first."""
    return list(
        db.execute(
            select(RotaOverride)
            .where(RotaOverride.ends_at > now)
            .order_by(RotaOverride.starts_at, RotaOverride.id)
            .limit(ROTA_ROWS)
        ).scalars()
    )


def _on_call_now(
    state: WebState, overrides: Sequence[RotaOverride], *, now: datetime
) -> tuple[str | None, Rota | None, str | None]:
    """Who is on call at ``now`` (rota file and overrides), the rota, and a problem reading it.

    Without a rota file a covering override decides, else the ``on_call`` setting: the same
    order the inbox assigns a new conversation by outside business hours.
    """
    added = [Override(person=o.person, starts_at=o.starts_at, ends_at=o.ends_at) for o in overrides]
    try:
        rota = rota_for(state.settings)
    except ConfigError as error:
        return None, None, error.message
    if rota is not None:
        return rota.on_call(now, added), rota, None
    override = covering_override(now, added)
    return (override.person if override else state.settings.on_call), None, None


def _rota_context(db: Session, state: WebState, staff: Staff) -> dict[str, Any]:
    now = state.now()
    overrides = _overrides(db, now=now)
    on_call, rota, problem = _on_call_now(state, overrides, now=now)
    people = staff_choices(db)
    return {
        "section": "inbox",
        "overrides": overrides,
        "file_overrides": [o for o in rota.overrides if o.ends_at > now] if rota else [],
        "on_call": on_call,
        "rota_problem": problem,
        "has_rota": rota is not None,
        "rota_from_file": state.settings.rota is not None,
        "names": dict(people),
        "people": people,
        "local": _local(state),
        "zone": state.settings.zone.key,
        "may_edit": staff.may("rota.edit"),
        "form": {"person": "", "starts": "", "ends": ""},
        "form_error": None,
        "page_flash": None,
        "now": now,
    }


@router.get("/inbox/rota")
def rota_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    context = _rota_context(db, state, staff)
    context["page_flash"] = pop_flash(request)
    return render(request, "inbox_rota.html", context)


@router.post("/inbox/rota")
def add_override(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    person: Annotated[str, Form(max_length=320)] = "",
    starts: Annotated[str, Form(max_length=40)] = "",
    ends: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Put ``person`` on call from ``starts`` until ``ends`` (local times, the business's zone)."""
    check_may(staff, "rota.edit", "change the on-call rota")
    now, zone = state.now(), state.settings.zone
    try:
        people = dict(staff_choices(db))
        chosen = person.strip().lower()
        if chosen not in people:
            raise InvalidInput("choose who is on call", field="person")
        if not starts or not ends:
            raise InvalidInput("give both the start and the end", field="starts")
        starts_at = parse_local(starts, zone=zone, field="starts")
        ends_at = parse_local(ends, zone=zone, field="ends")
        if ends_at <= starts_at:
            raise InvalidInput("the end must come after the start", field="ends")
        if ends_at <= now:
            raise InvalidInput("that time is already over", field="ends")
    except InvalidInput as error:
        context = _rota_context(db, state, staff)
        context.update(
            form={"person": person, "starts": starts, "ends": ends}, form_error=error.message
        )
        return render(request, "inbox_rota.html", context, status=422)
    row = RotaOverride(
        person=chosen,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=staff.email,
        created_at=now,
    )
    db.add(row)
    db.flush()
    row_id = row.id
    log.info("rota override %s added by staff user %s", row_id, staff.id)
    local = _local(state)
    request.session[FLASH_KEY] = (
        f"{people[chosen]} is on call from {local(starts_at)} until {local(ends_at)}."
    )
    return RedirectResponse("/inbox/rota", status_code=303)


@router.post("/inbox/rota/{override_id:id}/delete")
def delete_override(request: Request, staff: PageStaff, db: Db, override_id: int) -> Response:
    check_may(staff, "rota.edit", "change the on-call rota")
    row = db.get(RotaOverride, override_id)
    if row is None:
        raise NotFound(f"there is no rota override {override_id}", override=override_id)
    db.delete(row)
    log.info("rota override %s removed by staff user %s", override_id, staff.id)
    request.session[FLASH_KEY] = "Override removed: the rota decides again."
    return RedirectResponse("/inbox/rota", status_code=303)

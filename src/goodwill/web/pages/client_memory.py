"""The client page's forms for what the team learns: facts, notes, calls and visits, counter
sales and payments; and "remember this" on a sentence of a message in the inbox.

Each form is a plain POST carrying the CSRF token and (for notes, logs, sales and payments) a
request key made when the form was drawn, so a resent form writes once. Without JavaScript a
write answers with a redirect back to the client's page; with htmx it answers with its section
alone, redrawn, and a refused write redraws the form with the message next to the field (422,
or 409 for a stale edit) and nothing stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.access import check
from goodwill.domain.facts import FACT_KINDS, INTERACTION_KINDS, check_fact, check_interaction
from goodwill.errors import GoodwillError, InvalidInput, NotFound
from goodwill.store import counter, memory
from goodwill.store.models import Client, Conversation, Message
from goodwill.store.queries import find_client
from goodwill.web import followup_words as words
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.errors import status_for
from goodwill.web.followup_access import staff_choices
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.rendering import client_url, render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FACTS = "_client_facts.html"
NOTES = "_client_notes.html"
SOURCE = "web"
#: Form fields long enough for any input the store accepts, and a little more (it says why not).
TEXT_FORM = 6000
Text = Annotated[str, Form(max_length=TEXT_FORM)]
Short = Annotated[str, Form(max_length=400)]


def client_memory(db: Session, state: WebState, staff: Staff, client: Client) -> dict[str, Any]:
    """What the facts and notes sections of a client's page show (a context to spread)."""
    return {
        "memory_facts": memory.list_facts(db, client.id),
        "memory_notes": memory.list_notes(db, client.id),
        "memory_logs": memory.list_interactions(db, client.id, limit=5),
        "fact_kinds": FACT_KINDS,
        "log_kinds": INTERACTION_KINDS,
        "may_write": staff.may("clients.write"),
        "serving": staff_choices(db),
        "me": staff.email,
        "new_key": lambda: uuid.uuid4().hex,
        "local_time": lambda when: words.exact_time(when, zone=state.settings.zone),
        "memory_errors": {},
        "memory_form": {},
        "memory_flash": None,
    }


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _answer(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    ref: str,
    *,
    template: str,
    form_name: str,
    form: dict[str, str],
    write: Callable[[Client], str],
    anchor: str,
) -> Response:
    """Check the role, find the client, write; answer with the section (htmx) or a redirect."""
    check(staff.role, "clients.write", "write on a client's record")
    client = find_client(db, ref)
    errors: dict[str, str] = {}
    status = 200
    try:
        message = write(client)
    except GoodwillError as error:
        if isinstance(error, NotFound) and "field" not in error.fields:
            raise
        if not _htmx(request):
            raise
        db.rollback()
        client = find_client(db, ref)
        field = str(error.fields.get("field") or "form")
        errors = {f"{form_name}.{field}": error.message}
        status, message = status_for(error), ""
    if not _htmx(request):
        request.session[FLASH_KEY] = message
        return RedirectResponse(f"{client_url(ref)}#{anchor}", status_code=303)
    context = {
        **client_memory(db, state, staff, client),
        "ref": ref,
        "memory_errors": errors,
        "memory_form": {"name": form_name, **form} if errors else {},
        "memory_flash": message or None,
    }
    return render(request, template, context, status=status)


@router.post("/clients/{ref:path}/facts")
def add_fact_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    kind: Short = "",
    text: Text = "",
    on_date: Short = "",
) -> Response:
    def write(client: Client) -> str:
        fact = check_fact(kind, text, on_date)
        who = memory.Author(staff.id, staff.name)
        memory.add_fact(
            db,
            client,
            fact,
            author=who,
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
        )
        return f"Remembered: {fact.text}"

    form = {"kind": kind, "text": text, "on_date": on_date}
    return _answer(
        request, db, state, staff, ref, template=FACTS, form_name="fact", form=form,
        write=write, anchor="client-facts",
    )  # fmt: skip


@router.post("/clients/{ref:path}/facts/{fact_id:id}")
def edit_fact_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    fact_id: int,
    version: Short = "",
    kind: Short = "",
    text: Text = "",
    on_date: Short = "",
) -> Response:
    def write(client: Client) -> str:
        from goodwill.domain.facts import check_version

        fact = memory.edit_fact(
            db,
            client,
            fact_id,
            version=check_version(version),
            kind=kind,
            text=text,
            on_date=on_date or None,
            clear_date=not on_date.strip(),
            actor=actor(request, staff),
            now=state.now(),
        )
        return f"Saved: {fact.text}"

    form = {"id": str(fact_id), "kind": kind, "text": text, "on_date": on_date}
    return _answer(
        request, db, state, staff, ref, template=FACTS, form_name=f"fact-{fact_id}", form=form,
        write=write, anchor=f"fact-{fact_id}",
    )  # fmt: skip


@router.post("/clients/{ref:path}/facts/{fact_id:id}/remove")
def remove_fact_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    fact_id: int,
    version: Short = "",
) -> Response:
    def write(client: Client) -> str:
        from goodwill.domain.facts import check_version

        memory.remove_fact(
            db,
            client,
            fact_id,
            version=check_version(version) if version.strip() else None,
            actor=actor(request, staff),
            now=state.now(),
        )
        return "Removed the fact."

    return _answer(
        request, db, state, staff, ref, template=FACTS, form_name=f"fact-{fact_id}",
        form={"id": str(fact_id)}, write=write, anchor="client-facts",
    )  # fmt: skip


@router.post("/clients/{ref:path}/notes")
def add_note_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    text: Text = "",
    pinned: Short = "",
    request_key: Short = "",
) -> Response:
    def write(client: Client) -> str:
        memory.add_note(
            db,
            client,
            text,
            pinned=bool(pinned),
            author=memory.Author(staff.id, staff.name),
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
            key=request_key,
        )
        return "Note kept" + (" and pinned." if pinned else ".")

    return _answer(
        request, db, state, staff, ref, template=NOTES, form_name="note",
        form={"text": text, "pinned": pinned}, write=write, anchor="client-notes",
    )  # fmt: skip


@router.post("/clients/{ref:path}/notes/{note_id:id}")
def edit_note_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    note_id: int,
    version: Short = "",
    text: Text = "",
    pinned: Short = "",
    remove: Short = "",
) -> Response:
    """Save a note's text, pin or unpin it (``pinned`` = yes | no), or remove it."""

    def write(client: Client) -> str:
        from goodwill.domain.facts import check_version

        seen = check_version(version) if version.strip() else None
        if remove:
            memory.remove_note(
                db, client, note_id, version=seen, actor=actor(request, staff), now=state.now()
            )
            return "Removed the note."
        if pinned and pinned not in ("yes", "no"):
            raise InvalidInput("pinned: yes or no", field="pinned")
        memory.edit_note(
            db,
            client,
            note_id,
            version=seen,
            text=text if text.strip() else None,
            pinned=None if not pinned else pinned == "yes",
            actor=actor(request, staff),
            now=state.now(),
        )
        return {"yes": "Pinned the note.", "no": "Unpinned the note."}.get(pinned, "Saved.")

    return _answer(
        request, db, state, staff, ref, template=NOTES, form_name=f"note-{note_id}",
        form={"id": str(note_id), "text": text}, write=write, anchor="client-notes",
    )  # fmt: skip


@router.post("/clients/{ref:path}/interactions")
def log_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    kind: Short = "",
    text: Text = "",
    outcome: Text = "",
    occurred_at: Short = "",
    request_key: Short = "",
) -> Response:
    def write(client: Client) -> str:
        checked = check_interaction(kind, text, outcome)
        when = (
            words.parse_local(occurred_at, zone=state.settings.zone, field="occurred_at")
            if occurred_at.strip()
            else None
        )
        memory.log_interaction(
            db,
            client,
            checked,
            occurred_at=when,
            author=memory.Author(staff.id, staff.name),
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
            key=request_key,
        )
        return f"Logged the {checked.kind}."

    form = {"kind": kind, "text": text, "outcome": outcome, "occurred_at": occurred_at}
    return _answer(
        request, db, state, staff, ref, template=NOTES, form_name="log", form=form,
        write=write, anchor="client-notes",
    )  # fmt: skip


@router.post("/clients/{ref:path}/orders")
def sale_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    amount: Short = "",
    items: Text = "",
    at: Short = "",
    served_by: Short = "",
    request_key: Short = "",
) -> Response:
    def write(client: Client) -> str:
        when = words.parse_local(at, zone=state.settings.zone, field="at") if at.strip() else None
        sale = counter.record_sale(
            db,
            state.settings,
            client,
            amount=amount,
            items=items.splitlines(),
            at=when,
            served_by=served_by or None,
            author=memory.Author(staff.id, staff.name),
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
            key=request_key,
        )
        return f"Sale of {sale.amount} kept."

    form = {"amount": amount, "items": items, "at": at, "served_by": served_by}
    return _answer(
        request, db, state, staff, ref, template=NOTES, form_name="sale", form=form,
        write=write, anchor="client-notes",
    )  # fmt: skip


@router.post("/clients/{ref:path}/payments")
def payment_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    amount: Short = "",
    invoice: Short = "",
    paid_on: Short = "",
    request_key: Short = "",
) -> Response:
    def write(client: Client) -> str:
        paid = counter.record_payment(
            db,
            state.settings,
            client,
            amount=amount,
            invoice=invoice or None,
            paid_on=paid_on or None,
            author=memory.Author(staff.id, staff.name),
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
            key=request_key,
        )
        return f"Payment of {paid.amount} kept."

    form = {"amount": amount, "invoice": invoice, "paid_on": paid_on}
    return _answer(
        request, db, state, staff, ref, template=NOTES, form_name="payment", form=form,
        write=write, anchor="client-notes",
    )  # fmt: skip


@router.post("/inbox/{conversation_id:id}/remember")
def remember_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    conversation_id: int,
    message_id: Short = "",
    kind: Short = "",
    text: Text = "",
    quote: Text = "",
    on_date: Short = "",
) -> Response:
    """ "Remember this": a fact from a sentence of a message, the sentence kept as its quote."""
    check(staff.role, "clients.write", "write on a client's record")
    conversation = db.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}", conversation=conversation_id)
    client = db.get(Client, conversation.client_id)
    assert client is not None
    back = f"/inbox/{conversation_id}"
    try:
        message = None
        if message_id.strip().isdigit():
            message = db.execute(
                select(Message).where(
                    Message.id == int(message_id), Message.conversation_id == conversation_id
                )
            ).scalar_one_or_none()
        if message is None:
            raise InvalidInput(
                "message_id: choose a message of this conversation", field="message_id"
            )
        fact = check_fact(kind, text or quote, on_date, source="conversation", quote=quote)
        kept, created = memory.add_fact(
            db,
            client,
            fact,
            author=memory.Author(staff.id, staff.name),
            actor=actor(request, staff),
            source=SOURCE,
            now=state.now(),
            source_ref=f"message:{message.id}",
        )
    except InvalidInput as error:
        if not _htmx(request):
            raise
        return render(
            request,
            "_remember_result.html",
            {"error": error.message, "field": error.fields.get("field")},
            status=422,
        )
    said = f"Remembered for {client.name}: {kept.text}" if created else "Already remembered."
    if not _htmx(request):
        request.session[FLASH_KEY] = said
        return RedirectResponse(f"{back}#message-{message.id}", status_code=303)
    return render(request, "_remember_result.html", {"said": said, "error": None})

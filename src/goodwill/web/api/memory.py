"""What the team learns, over JSON: a client's facts, notes, logged calls and visits, counter
sales and payments.

A write answers 201 with what it wrote; a retry answers 200 with the same (the same
``Idempotency-Key`` header for notes, interactions, orders and payments; the same kind and text
for a fact). An edit carries the ``version`` it was made on; a stale one answers 409 with the
changes made since. Bad input answers 422 naming the field, and nothing is stored.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from goodwill.domain.access import check
from goodwill.domain.facts import (
    FACT_KINDS,
    INTERACTION_KINDS,
    NOTE_MAX,
    OUTCOME_MAX,
    QUOTE_MAX,
    TEXT_MAX,
    check_fact,
    check_interaction,
)
from goodwill.store import counter, memory
from goodwill.store.models import Client
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import (
    API_ERRORS,
    MAX_ID,
    NOT_BLANK,
    ErrorBody,
    Instant,
    RecordId,
)
from goodwill.web.auth import ApiStaff, Staff, actor
from goodwill.web.state import Db, State

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["client memory"], responses=API_ERRORS)
SOURCE = "api"

FactKind = Literal[
    "birthday",
    "anniversary",
    "family",
    "event",
    "hometown",
    "school",
    "interest",
    "value",
    "sensitivity",
    "note",
]
LogKind = Literal["call", "visit", "service", "meeting"]
assert set(get_args(FactKind)) == set(FACT_KINDS)
assert set(get_args(LogKind)) == set(INTERACTION_KINDS)
#: A day written as ISO 8601 (2027-06-12).
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Any unique text; a retry with the same key writes nothing twice.",
    ),
]


class Change(BaseModel):
    field: str
    before: Any
    after: Any
    who: str = Field(description="Who made the change.")
    when: str = Field(description="When, ISO 8601.")


class StaleBody(ErrorBody):
    field: str | None = None
    version: int | None = Field(default=None, description="The row's version now.")
    changes: list[Change] = Field(default=[], description="What changed since your version.")


def _errors(what: str, *, stale: bool = False) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {
        403: {"model": ErrorBody, "description": "The caller's role may not write on clients."},
        404: {"model": ErrorBody, "description": f"No client with this id, or no such {what}."},
        409: {
            "model": StaleBody if stale else ErrorBody,
            "description": "The version is stale (the changes since are in the body), or the "
            "Idempotency-Key was used for another write.",
        },
    }
    return out


class FactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: FactKind
    text: str = Field(min_length=1, max_length=TEXT_MAX, pattern=NOT_BLANK)
    on_date: str | None = Field(
        default=None,
        pattern=DAY,
        description="The day it is about (birthday, anniversary and event need one; family may "
        "have one; other kinds none). On that day the engine makes a client.life_event.",
    )
    source: Literal["staff", "conversation", "call", "visit", "meeting", "feedback"] = "staff"
    quote: str | None = Field(default=None, max_length=QUOTE_MAX, description="Their own words.")


class FactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID, description="The version the change was made on.")
    kind: FactKind | None = None
    text: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX, pattern=NOT_BLANK)
    on_date: str | None = Field(default=None, pattern=DAY)
    clear_date: bool = Field(default=False, description="Remove the day.")


class FactOut(BaseModel):
    id: int
    kind: str
    text: str
    on_date: str | None
    source: str
    source_ref: str | None
    quote: str | None
    learned_on: str | None
    author: str | None
    version: int


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=NOTE_MAX, pattern=NOT_BLANK)
    pinned: bool = False


class NotePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID)
    text: str | None = Field(default=None, min_length=1, max_length=NOTE_MAX, pattern=NOT_BLANK)
    pinned: bool | None = None


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: LogKind
    text: str = Field(min_length=1, max_length=NOTE_MAX, pattern=NOT_BLANK)
    outcome: str | None = Field(default=None, max_length=OUTCOME_MAX)
    occurred_at: Instant | None = Field(
        default=None, description="When it happened; now if not given."
    )


class InteractionOut(BaseModel):
    id: int
    kind: str
    text: str
    outcome: str | None
    occurred_at: str
    pinned: bool
    author: str
    version: int


class SaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[0-9]{1,9}([.,][0-9]{1,3})?$",
        description="The total in the business currency, e.g. '120.00'; may be left out when "
        "every item has a price.",
    )
    items: list[str] = Field(
        default=[],
        max_length=100,
        description="'Walking boots' or 'Walking boots = 89.90'; the first item with no price "
        "carries what the prices leave of the amount.",
    )
    at: Instant | None = Field(default=None, description="When it was sold; now if not given.")
    served_by: str | None = Field(
        default=None,
        max_length=320,
        description="The staff member's email; the caller if not given.",
    )


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[0-9]{1,9}([.,][0-9]{1,3})?$",
        description="What was paid; may be left out for an invoice on file (its amount).",
    )
    invoice: str | None = Field(
        default=None, max_length=190, description="The invoice paid; none: a receipt is made."
    )
    paid_on: str | None = Field(default=None, pattern=DAY, description="Today if not given.")


class WrittenOut(BaseModel):
    id: int = Field(description="The order's or the invoice's internal id.")
    external_id: str = Field(description="Its id: counter/<key> for one typed in.")
    created: bool
    amount: str


def _client(db: Db, staff: Staff, ref: str) -> Client:
    check(staff.role, "clients.write", "write on a client's record")
    return find_client(db, ref)


def _status(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.post(
    "/clients/{ref:path}/facts",
    response_model=FactOut,
    status_code=201,
    responses={
        200: {"model": FactOut, "description": "Already kept (a retry)."},
        **_errors("fact"),
    },
)
def add_fact_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    body: FactIn,
    response: Response,
) -> dict[str, Any]:
    """Keep a fact about the client."""
    client = _client(db, staff, ref)
    fact = check_fact(body.kind, body.text, body.on_date, source=body.source, quote=body.quote)
    kept, created = memory.add_fact(
        db,
        client,
        fact,
        author=memory.Author(staff.id, staff.name),
        actor=actor(request, staff),
        source=SOURCE,
        now=state.now(),
    )
    _status(response, created)
    return kept.as_dict()


@router.patch(
    "/clients/{ref:path}/facts/{fact_id}",
    response_model=FactOut,
    responses=_errors("fact", stale=True),
)
def edit_fact_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    fact_id: RecordId,
    body: FactPatch,
) -> dict[str, Any]:
    """Change a fact's kind, text or day; fields left out stay as they are."""
    client = _client(db, staff, ref)
    return memory.edit_fact(
        db,
        client,
        fact_id,
        version=body.version,
        kind=body.kind,
        text=body.text,
        on_date=body.on_date,
        clear_date=body.clear_date,
        actor=actor(request, staff),
        now=state.now(),
    ).as_dict()


@router.delete(
    "/clients/{ref:path}/facts/{fact_id}",
    status_code=204,
    responses=_errors("fact", stale=True),
)
def remove_fact_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    fact_id: RecordId,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Remove a fact (with ``version``: only if nobody changed it since)."""
    client = _client(db, staff, ref)
    memory.remove_fact(
        db, client, fact_id, version=version, actor=actor(request, staff), now=state.now()
    )
    return Response(status_code=204)


@router.post(
    "/clients/{ref:path}/notes",
    response_model=InteractionOut,
    status_code=201,
    responses={200: {"model": InteractionOut, "description": "A retry."}, **_errors("note")},
)
def add_note_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    body: NoteIn,
    response: Response,
    key: KeyHeader = None,
) -> dict[str, Any]:
    """Keep a free note, pinned to the top of the client's page or not."""
    client = _client(db, staff, ref)
    note, created = memory.add_note(
        db,
        client,
        body.text,
        pinned=body.pinned,
        author=memory.Author(staff.id, staff.name),
        actor=actor(request, staff),
        source=SOURCE,
        now=state.now(),
        key=key,
    )
    _status(response, created)
    return note.as_dict()


@router.patch(
    "/clients/{ref:path}/notes/{note_id}",
    response_model=InteractionOut,
    responses=_errors("note", stale=True),
)
def edit_note_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    note_id: RecordId,
    body: NotePatch,
) -> dict[str, Any]:
    """Change a note's text, or pin or unpin it."""
    client = _client(db, staff, ref)
    return memory.edit_note(
        db,
        client,
        note_id,
        version=body.version,
        text=body.text,
        pinned=body.pinned,
        actor=actor(request, staff),
        now=state.now(),
    ).as_dict()


@router.delete(
    "/clients/{ref:path}/notes/{note_id}",
    status_code=204,
    responses=_errors("note", stale=True),
)
def remove_note_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    note_id: RecordId,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Remove a note."""
    client = _client(db, staff, ref)
    memory.remove_note(
        db, client, note_id, version=version, actor=actor(request, staff), now=state.now()
    )
    return Response(status_code=204)


@router.post(
    "/clients/{ref:path}/interactions",
    response_model=InteractionOut,
    status_code=201,
    responses={200: {"model": InteractionOut, "description": "A retry."}, **_errors("row")},
)
def log_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    body: InteractionIn,
    response: Response,
    key: KeyHeader = None,
) -> dict[str, Any]:
    """Log a call, visit, service or meeting: a ``service.interaction`` touch point."""
    client = _client(db, staff, ref)
    logged, created = memory.log_interaction(
        db,
        client,
        check_interaction(body.kind, body.text, body.outcome),
        occurred_at=body.occurred_at,
        author=memory.Author(staff.id, staff.name),
        actor=actor(request, staff),
        source=SOURCE,
        now=state.now(),
        key=key,
    )
    _status(response, created)
    return logged.as_dict()


@router.post(
    "/clients/{ref:path}/orders",
    response_model=WrittenOut,
    status_code=201,
    responses={200: {"model": WrittenOut, "description": "A retry."}, **_errors("row")},
)
def sale_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    body: SaleIn,
    response: Response,
    key: KeyHeader = None,
) -> dict[str, Any]:
    """Type in a counter sale; it is an ``order.placed`` like an imported one."""
    client = _client(db, staff, ref)
    sale = counter.record_sale(
        db,
        state.settings,
        client,
        amount=body.amount,
        items=body.items,
        at=body.at,
        served_by=body.served_by,
        author=memory.Author(staff.id, staff.name),
        actor=actor(request, staff),
        source=SOURCE,
        now=state.now(),
        key=key,
    )
    _status(response, sale.created)
    return sale.as_dict()


@router.post(
    "/clients/{ref:path}/payments",
    response_model=WrittenOut,
    status_code=201,
    responses={200: {"model": WrittenOut, "description": "A retry."}, **_errors("invoice")},
)
def payment_api(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    ref: str,
    body: PaymentIn,
    response: Response,
    key: KeyHeader = None,
) -> dict[str, Any]:
    """Type in a payment received, against an invoice on file or as a receipt."""
    client = _client(db, staff, ref)
    paid = counter.record_payment(
        db,
        state.settings,
        client,
        amount=body.amount,
        invoice=body.invoice,
        paid_on=body.paid_on,
        author=memory.Author(staff.id, staff.name),
        actor=actor(request, staff),
        source=SOURCE,
        now=state.now(),
        key=key,
    )
    _status(response, paid.created)
    return paid.as_dict()

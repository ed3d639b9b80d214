"""Writing who the client is over JSON: add a client, edit one (with the version it was read
at), archive and restore, and the contacts of a business client.

The same writes as the dashboard and ``goodwill client add|edit``: a field left out of a PATCH
stays as it is, ``null`` clears it; an email or phone another client holds is refused (422,
naming the field and the ``holder``); an edit made on an older version is refused (409) with
the changes made since.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from goodwill.domain.client_record import CHANNELS, CONSENT, Author
from goodwill.store import client_record as records
from goodwill.store.models import Client
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import (
    API_ERRORS,
    MAX_ID,
    NOT_BLANK,
    ClientRecordOut,
    ErrorBody,
    Instant,
    RecordContactOut,
    RecordId,
)
from goodwill.web.auth import ApiStaff, Staff, actor
from goodwill.web.state import Db, State

router = APIRouter(prefix="/api/v1", tags=["clients"], responses=API_ERRORS)

#: An email as the schema can say it (one @, a dot after it, no spaces); the server also
#: lower-cases it and refuses one another client holds.
EMAIL = r"^[^@\s\x1c-\x1f]+@[^@\s\x1c-\x1f]+\.[^@\s\x1c-\x1f]+$"
Text = Annotated[str | None, Field(default=None, max_length=300)]
Email = Annotated[str, Field(max_length=320, pattern=EMAIL)]
Phone = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\+?[0-9 ()./-]+$")]


class FieldProblem(BaseModel):
    field: str = Field(description="The field, dotted for a nested one; empty for the body.")
    message: str


class InvalidBody(ErrorBody):
    field: str | None = Field(default=None, description="The first field that is wrong.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="Every field that is wrong, with what is wrong with it."
    )
    holder: str | None = Field(
        default=None, description="For an email or phone already held: that client's id."
    )


class Change(BaseModel):
    field: str
    before: Any
    after: Any
    by: str = Field(description="Who changed it.")
    at: str = Field(description="When (ISO 8601).")
    version: int = Field(description="The version the change made.")


class ConflictBody(ErrorBody):
    version: int | None = Field(default=None, description="The version stored now.")
    changes: list[Change] | None = Field(
        default=None, description="What was changed since the version the edit was made on."
    )


NOT_FOUND = {"model": ErrorBody, "description": "No client with this id, email or phone."}
FORBIDDEN = {
    "model": ErrorBody,
    "description": "The role may not change these fields (staff change contact details only).",
}
INVALID = {"model": InvalidBody, "description": "A field is invalid, or held by another client."}
CONFLICT = {
    "model": ConflictBody,
    "description": "The edit was made on an older version; the changes since are listed.",
}
WRITES: dict[int | str, dict[str, Any]] = {403: FORBIDDEN, 404: NOT_FOUND, 422: INVALID}


class ContactIn(BaseModel):
    name: str | None = Field(default=None, max_length=300, pattern=NOT_BLANK)
    email: Email | None = None
    phone: Phone | None = None
    role: str | None = Field(default=None, max_length=100)
    birthday: str | None = Field(
        default=None,
        max_length=40,
        description="1980-06-12, or --06-12 when the year is not known.",
    )


class ContactNew(ContactIn):
    name: str = Field(max_length=300, pattern=NOT_BLANK)


class RecordFields(BaseModel):
    company: Text = None
    email: Email | None = Field(default=None, description="The primary email.")
    other_emails: list[Email] | None = Field(
        default=None, max_length=20, description="Emails besides the primary one (replaced)."
    )
    phone: Phone | None = Field(
        default=None, description="The primary phone; without +country, the business's country."
    )
    other_phones: list[Phone] | None = Field(default=None, max_length=20)
    street: Text = None
    postcode: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    country: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2, e.g. NL."
    )
    timezone: str | None = Field(default=None, max_length=64, description="IANA, e.g. Europe/Rome.")
    contact_window: str | None = Field(
        default=None, max_length=300, description="e.g. 'mon-fri 08:00-10:00; sat 10:00-12:00'."
    )
    preferred_channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    language: str | None = Field(
        default=None, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )
    birthday: str | None = Field(
        default=None, max_length=40, description="1980-06-12, or --06-12 without the year."
    )
    hometown: str | None = Field(default=None, max_length=200)
    client_since: date | None = Field(
        default=None, description="For clients older than the data; not in the future."
    )
    partner: str | None = Field(
        default=None, max_length=200, description="The partner the client came through."
    )
    owner: Email | None = Field(default=None, description="The staff user looking after them.")
    marketing_consent: Literal[tuple(CONSENT)] | None = None  # type: ignore[valid-type]
    consent_at: Instant | None = Field(default=None, description="When consent was given.")
    consent_how: str | None = Field(default=None, max_length=200)


class ClientNew(RecordFields):
    name: str = Field(max_length=300, pattern=NOT_BLANK)
    external_id: str | None = Field(
        default=None, max_length=200, pattern=NOT_BLANK, description="The id in your files."
    )


class ClientPatch(RecordFields):
    version: int = Field(ge=1, le=MAX_ID, description="The version the edit was made on.")
    name: str | None = Field(default=None, max_length=300, pattern=NOT_BLANK)


class VersionIn(BaseModel):
    version: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The version seen (409 when it is stale)."
    )


def _typed(body: BaseModel) -> dict[str, Any]:
    """The fields sent (a null among them clears the field), as the record's reader takes them."""
    out: dict[str, Any] = {}
    for name in body.model_fields_set - {"version"}:
        value = getattr(body, name)
        if isinstance(value, date):
            value = value.isoformat()
        out[name] = value
    return out


def _out(db: Db, client: Client) -> dict[str, Any]:
    return {"id": records.client_ref(client), **records.record_of(db, client)}


def _who(request: Request, db: Db, staff: Staff) -> tuple[Author, Any]:
    acting = actor(request, staff)
    return Author(staff.name, staff.id), acting


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientRecordOut,
    responses={403: FORBIDDEN, 422: INVALID},
)
def create_api(
    request: Request, body: ClientNew, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Add a client by hand. Staff may add one; the id in your files, client since, the
    partner, the owner and marketing consent are for owners and managers."""
    author, acting = _who(request, db, staff)
    client = records.create_client(
        db,
        state.settings,
        _typed(body),
        role=staff.role,
        author=author,
        actor=acting,
        source="api",
        now=state.now(),
    )
    return _out(db, client)


# Subpaths first: the client's own path swallows everything after /clients/.
@router.get(
    "/clients/{ref:path}/contacts",
    response_model=list[RecordContactOut],
    responses={404: NOT_FOUND},
)
def contacts_api(ref: str, staff: ApiStaff, db: Db) -> list[dict[str, Any]]:
    """The people at a business client."""
    client = find_client(db, ref)
    return [records.contact_dict(c) for c in records.contacts_of(db, client.id)]


@router.post(
    "/clients/{ref:path}/contacts",
    status_code=201,
    response_model=RecordContactOut,
    responses=WRITES,
)
def add_contact_api(
    request: Request, ref: str, body: ContactNew, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Add a person at the client, with their own email, phone, role and birthday."""
    client = find_client(db, ref)
    contact = records.add_contact(
        db,
        state.settings,
        client,
        _typed(body),
        role=staff.role,
        actor=actor(request, staff),
        now=state.now(),
    )
    return records.contact_dict(contact)


@router.patch(
    "/clients/{ref:path}/contacts/{contact_id}",
    response_model=RecordContactOut,
    responses=WRITES,
)
def edit_contact_api(
    request: Request,
    ref: str,
    contact_id: RecordId,
    body: ContactIn,
    staff: ApiStaff,
    db: Db,
    state: State,
) -> dict[str, Any]:
    """Change a contact's fields; a field left out stays, ``null`` clears it."""
    client = find_client(db, ref)
    contact = records.edit_contact(
        db,
        state.settings,
        client,
        contact_id,
        _typed(body),
        role=staff.role,
        actor=actor(request, staff),
        now=state.now(),
    )
    return records.contact_dict(contact)


@router.delete(
    "/clients/{ref:path}/contacts/{contact_id}",
    status_code=204,
    responses={403: FORBIDDEN, 404: NOT_FOUND},
)
def remove_contact_api(
    request: Request, ref: str, contact_id: RecordId, staff: ApiStaff, db: Db, state: State
) -> Response:
    """Remove a contact (audited with what they were)."""
    client = find_client(db, ref)
    records.remove_contact(
        db, client, contact_id, role=staff.role, actor=actor(request, staff), now=state.now()
    )
    return Response(status_code=204)


def _archive(
    request: Request,
    ref: str,
    body: VersionIn | None,
    staff: Staff,
    db: Db,
    state: State,
    flag: bool,
) -> dict[str, Any]:
    client = find_client(db, ref)
    author, acting = _who(request, db, staff)
    records.set_archived(
        db,
        client,
        flag,
        version=body.version if body else None,
        role=staff.role,
        author=author,
        actor=acting,
        source="api",
        now=state.now(),
    )
    return _out(db, client)


ARCHIVING: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "Only owners and managers archive and restore."},
    404: NOT_FOUND,
    409: {"model": ConflictBody, "description": "Already so, or the version is stale."},
}


@router.post("/clients/{ref:path}/archive", response_model=ClientRecordOut, responses=ARCHIVING)
def archive_api(
    request: Request, ref: str, staff: ApiStaff, db: Db, state: State, body: VersionIn | None = None
) -> dict[str, Any]:
    """Archive a client: out of the lists and the engine's follow-ups; the history stays."""
    return _archive(request, ref, body, staff, db, state, True)


@router.post("/clients/{ref:path}/restore", response_model=ClientRecordOut, responses=ARCHIVING)
def restore_api(
    request: Request, ref: str, staff: ApiStaff, db: Db, state: State, body: VersionIn | None = None
) -> dict[str, Any]:
    """Bring an archived client back."""
    return _archive(request, ref, body, staff, db, state, False)


@router.patch(
    "/clients/{ref:client}",  # not {ref:path}: PATCH on a subpath is 405
    response_model=ClientRecordOut,
    responses={**WRITES, 409: CONFLICT},
)
def edit_api(
    request: Request, ref: str, body: ClientPatch, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Change the fields sent; ``version`` is the one the edit was made on (from a GET).

    Staff change contact details (emails, phones, address, time zone, contact window, channel,
    language); the other fields are for owners and managers (403 naming them)."""
    client = find_client(db, ref)
    author, acting = _who(request, db, staff)
    records.edit_client(
        db,
        state.settings,
        client,
        _typed(body),
        version=body.version,
        role=staff.role,
        author=author,
        actor=acting,
        now=state.now(),
    )
    return _out(db, client)

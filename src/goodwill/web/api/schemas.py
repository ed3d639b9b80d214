"""The API's response shapes, declared so /openapi.json documents every field.

They mirror the ``as_dict()`` of the store's read models; amounts are exact decimals as text.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
)

from goodwill.domain.touchpoints import TOUCH_POINTS

#: A text with something in it besides spaces (as Python's str.split() counts them).
NOT_BLANK = r"[^\s\x1c-\x1f]"
_NUMBER = re.compile(r"\s*[-+]?[0-9.eE+-]+\s*")


def _written_instant(value: object) -> object:
    """An instant is written out (ISO 8601), never a bare number pydantic would read as seconds."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("write the instant as ISO 8601 with an offset, e.g. 2026-11-23T15:00:00Z")
    return value


#: An aware instant written in ISO 8601 (with an offset or Z).
Instant = Annotated[AwareDatetime, BeforeValidator(_written_instant)]

#: The largest id a record can have on every database goodwill runs on (PostgreSQL's integer).
MAX_ID = 2**31 - 1
#: An id in a path: a positive integer; a larger one than any record has is refused (422).
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="The record's id.")]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code: not_found, invalid, conflict, not_allowed.")
    message: str


#: What any API operation may answer besides its own outcomes.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body cannot be read (not JSON, not UTF-8)."},
    401: {"model": ErrorBody, "description": "No valid API token."},
    422: {"model": ErrorBody, "description": "A parameter or field is invalid."},
}


class ClientSummary(BaseModel):
    id: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    name: str
    email: str | None
    kind: Literal["lead", "client", "former"]
    tier: str | None = Field(description="Value tier from lifetime spend; none for leads.")
    client_since: date | None
    tenure_years: float = Field(
        description="Years as a client; a former client's stop at the last purchase."
    )
    tenure: str = Field(
        description="In words: 'client for 20 years', 'a client for 21 years, until April 2024'."
    )
    client_until: date | None = Field(description="A former client's last purchase; else null.")
    first_purchase: datetime | None
    last_purchase: datetime | None
    purchase_count: int
    total_spend: str = Field(description="Lifetime spend in the business currency, e.g. '1240.00'.")
    currency: str
    late_payment_count: int


class ClientPage(BaseModel):
    total: int = Field(description="Clients matching the search, across all pages.")
    offset: int
    limit: int
    clients: list[ClientSummary]


class ContactOut(BaseModel):
    name: str
    email: str | None
    phone: str | None
    role: str | None


class RecordContactOut(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    role: str | None
    birthday: str | None


class ClientRecordOut(BaseModel):
    """Who the client is, as typed: the fields staff edit, the version, the contacts."""

    id: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    name: str
    company: str | None
    external_id: str | None
    email: str | None
    other_emails: list[str]
    phone: str | None
    other_phones: list[str]
    other_ids: list[str] = Field(description="Import ids of records merged into this one.")
    street: str | None
    postcode: str | None
    city: str | None
    region: str | None
    country: str | None
    timezone: str | None
    contact_window: str | None
    preferred_channel: str | None
    language: str | None
    birthday: str | None
    hometown: str | None
    client_since: str | None
    partner: str | None
    owner: str | None
    marketing_consent: Literal["given", "withdrawn", "unknown"]
    consent_at: str | None
    consent_how: str | None
    version: int
    archived_at: str | None
    contacts: list[RecordContactOut]


class ClientProfile(ClientSummary):
    phone: str | None
    timezone: str | None
    hometown: str | None
    birthday: str | None = Field(description="Day and month, with the year when known.")
    owner: str | None = Field(description="The staff member looking after this client.")
    facts: dict[str, list[str]] = Field(
        description="Personal facts by kind: interest, value, note, family."
    )
    contacts: list[ContactOut]
    channels: list[str] = Field(description="Partners and channels the client bought through.")
    record: ClientRecordOut | None = Field(
        default=None, description="The record as typed, with its version (for an edit)."
    )


TimelineKind = Literal[
    "all", "purchases", "conversations", "notes", "facts", "incidents", "followups"
]


class TimelineLink(BaseModel):
    kind: Literal["conversation", "incident", "followup"] = Field(
        description="What the entry points at: /inbox/{id}, /incidents/{id}, a follow-up."
    )
    id: int


class TimelineFollowUp(BaseModel):
    id: int
    title: str
    status: Literal["open", "done", "closed"]
    outcome: str | None


class TimelineItem(BaseModel):
    occurred_at: datetime
    type: str = Field(
        description="Entry type: an event type (order.placed, message.received, fact.added, ...) "
        "or reply.sent, feedback.answered, followup.done, followup.closed."
    )
    kind: Literal[
        "all", "purchases", "conversations", "notes", "facts", "incidents", "followups"
    ] = Field(description="The filter the entry belongs to ('all' when no narrower one).")
    title: str = Field(description="The entry in plain words.")
    detail: str
    by: str | None = Field(description="Who wrote or did it, where known (a staff name).")
    link: TimelineLink | None
    removed: bool = Field(
        description="The fact, note or purchase it is about has been removed since: no text."
    )
    followups: list[TimelineFollowUp] = Field(
        description="Follow-ups this event led to or closed, with how they ended."
    )
    cursor: str = Field(description="Pass as `before` to get the entries older than this one.")
    payload: dict[str, Any]


class FollowUpOut(BaseModel):
    """A follow-up: a task for a person, with why (events, reason), how, who and by when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    client_name: str
    title: str
    reason: str = Field(description="Why, as a stable slug (e.g. missed-purchase, late-payment).")
    rule: str = Field(description="The playbook rule that created it.")
    event_types: list[str] = Field(description="The touch points behind it, e.g. purchase.missed.")
    events: list[dict[str, Any]] = Field(description="Those events: type, occurred_at, payload.")
    due_at: datetime
    assignee: str | None = Field(description="The assignee's email; null when unassigned.")
    assignee_name: str | None
    channel: str = Field(description="call, email, note, visit or postcard.")
    personal_level: str = Field(
        description="automated, personal_message, handwritten_note or owner_call."
    )
    performer: Literal["person", "machine"] = Field(
        description="person: on someone's list; machine: goodwill sends it (docs/automation.md)."
    )
    handed_over: str | None = Field(
        description="Why a person has an automated touch after all (a bounce, a reply)."
    )
    personal_label: str = Field(description="The level in words, e.g. 'personal message'.")
    template: str | None
    status: str = Field(description="open, done, or closed (by a later event, by itself).")
    outcome: str | None = Field(description="What happened, once done or closed.")
    sequence: int = Field(description="Bumped on every change (the calendar feed's SEQUENCE).")
    created_at: datetime
    updated_at: datetime


class TodayOut(BaseModel):
    overdue: list[FollowUpOut]
    today: list[FollowUpOut] = Field(description="Due later today, in the business's time zone.")
    upcoming: list[FollowUpOut] = Field(description="Due in the next 7 days.")


class CompleteIn(BaseModel):
    outcome: str = Field(max_length=5000, description="What happened; required.")


class SnoozeIn(BaseModel):
    until: Instant = Field(
        description="When to be reminded, with an offset; it must be in the future (422 if not)."
    )


class ReassignIn(BaseModel):
    to: str = Field(max_length=320, description="The email of an active staff member.")


_TOUCH_POINT_NAMES: list[JsonValue] = [*sorted(TOUCH_POINTS)]


class EventIn(BaseModel):
    """A touch point from another system; the client is found by id, else email (or created)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["client_id"], "properties": {"client_id": {"type": "string"}}},
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
            ]
        }
    )

    type: str = Field(
        max_length=100,
        description="A touch-point type, e.g. lead.created.",
        json_schema_extra={"enum": _TOUCH_POINT_NAMES},
    )
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    occurred_at: Instant
    payload: dict[str, Any] = Field(
        default_factory=dict, max_length=200, description="Up to 200 keys of details."
    )
    external_id: str | None = Field(
        default=None,
        max_length=200,
        description="Your id for the event; a retry with the same id is recorded once.",
    )
    source: str = Field(
        default="api",
        max_length=50,
        pattern=r"^[^:]*[^:\s][^:]*$",
        description="Which system sends it: a name without ':'.",
    )


class EventRecorded(BaseModel):
    id: int
    created: bool = Field(description="False when this event was already recorded (a retry).")


class ClientValueOut(BaseModel):
    """A client's rhythm and value; a field is null when unknown (a lead, too few purchases,
    or the engine has not fitted the population models yet)."""

    usual_interval_days: float | None = Field(description="Usual days between purchases.")
    expected_next: date | None = Field(description="Last purchase plus the usual interval.")
    overdue_days: int | None = Field(
        description="Days beyond the end of the client's own usual spread; null when not overdue."
    )
    p_alive: float | None = Field(description="Probability the client still buys, 0 to 1.")
    expected_purchases_year: float | None = Field(description="Purchases expected in 52 weeks.")
    expected_spend: float | None = Field(description="Expected spend per purchase.")
    clv: float | None = Field(description="Value of the next 3 years, discounted at 10% a year.")
    currency: str
    value_missing: str | None = Field(
        default=None,
        description="Why the model figures are null: lead (no purchase), first_day (the first "
        "purchase is today; the figures appear tomorrow), no_fit (no engine pass yet) or "
        "no_good_fit (the history gave only an edge fit; fit_note says why).",
    )
    fit_note: str | None = Field(
        default=None,
        description="Why the latest model refit was not adopted; the figures then come from "
        "the last sound fit, or are null.",
    )


class AtRiskOut(BaseModel):
    """An overdue client (or one product category they stopped buying), most at risk first."""

    client_id: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    name: str
    category: str | None = Field(description="Null for the client's overall rhythm.")
    last_purchase: date
    expected_at: date = Field(description="Last purchase plus the usual interval.")
    days_overdue: int = Field(description="Days since the expected purchase.")
    usual_interval_days: float
    cycle: int = Field(description="Usual intervals missed so far (1 or more).")
    revenue_at_risk: float | None = Field(
        description="A year of this rhythm: mean purchase × purchases a year; null without amounts."
    )
    missed_so_far: float | None = Field(description="Mean purchase × missed cycles (capped).")
    currency: str

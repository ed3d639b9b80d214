"""The API's response shapes, declared so /openapi.json documents every field.

They mirror the ``as_dict()`` of the store's read models; amounts are exact decimals as text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code: not_found, invalid, conflict, not_allowed.")
    message: str


class ClientSummary(BaseModel):
    id: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    name: str
    email: str | None
    kind: Literal["lead", "client", "former"]
    tier: str | None = Field(description="Value tier from lifetime spend; none for leads.")
    client_since: date | None
    tenure_years: float
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


class TimelineItem(BaseModel):
    occurred_at: datetime
    type: str = Field(description="Event type, e.g. order.placed, invoice.issued.")
    title: str
    detail: str
    payload: dict[str, Any]

"""The duplicate finder over the store: every active client read once, in two queries.

Archived clients are left out: they have left the lists, and a merge keeps an active record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.duplicates import Pair, Record, find_pairs
from goodwill.settings import Settings, business_country
from goodwill.store.models import Client, ClientIdentity


def phone_region(settings: Settings) -> str | None:
    """The business's country, which phones written without a country code are read in."""
    return business_country(settings)


@dataclass(frozen=True)
class Side:
    """One record of a pair, as the lists show it."""

    id: int
    ref: str
    name: str
    email: str | None
    phone: str | None
    postcode: str | None
    company: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref": self.ref,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "postcode": self.postcode,
            "company": self.company,
        }


@dataclass(frozen=True)
class Candidate:
    """A likely pair: ``keep`` is the record suggested to keep (the older one)."""

    keep: Side
    other: Side
    score: float
    reasons: tuple[str, ...]
    kinds: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "keep": self.keep.as_dict(),
            "other": self.other.as_dict(),
            "score": self.score,
            "reasons": [
                {"kind": kind, "text": text}
                for kind, text in zip(self.kinds, self.reasons, strict=True)
            ],
        }


def ref_of(client_id: int, external_id: str | None) -> str:
    """How the client is named in links and commands: the imported id, else ``#id``."""
    return external_id or f"#{client_id}"


def find_duplicates(session: Session, settings: Settings, *, limit: int = 200) -> list[Candidate]:
    """The ``limit`` most likely pairs among the active clients, best first."""
    rows = session.execute(
        select(
            Client.id,
            Client.external_id,
            Client.name,
            Client.email,
            Client.phone,
            Client.postcode,
            Client.company,
        ).where(Client.archived_at.is_(None))
    ).all()
    emails: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, list[str]] = defaultdict(list)
    for client_id, kind, value in session.execute(
        select(ClientIdentity.client_id, ClientIdentity.kind, ClientIdentity.value)
        .join(Client, Client.id == ClientIdentity.client_id)
        .where(ClientIdentity.kind.in_(("email", "phone")), Client.archived_at.is_(None))
    ):
        (emails if kind == "email" else phones)[client_id].append(value)
    records = [
        Record(
            id=row.id,
            name=row.name,
            emails=tuple(filter(None, [row.email, *emails.get(row.id, ())])),
            phones=tuple(filter(None, [row.phone, *phones.get(row.id, ())])),
            postcode=row.postcode,
            company=row.company,
        )
        for row in rows
    ]
    pairs = find_pairs(records, region=phone_region(settings))[:limit]
    sides = {
        row.id: Side(
            row.id,
            ref_of(row.id, row.external_id),
            row.name,
            row.email,
            row.phone,
            row.postcode,
            row.company,
        )
        for row in rows
    }
    return [_candidate(pair, sides) for pair in pairs]


def _candidate(pair: Pair, sides: dict[int, Side]) -> Candidate:
    return Candidate(
        keep=sides[pair.first],
        other=sides[pair.second],
        score=pair.score,
        reasons=tuple(r.words for r in pair.reasons),
        kinds=tuple(r.kind for r in pair.reasons),
    )

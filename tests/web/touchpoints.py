"""Follow-ups made the real way for the web tests: touch points in the log, then an engine pass.

Four touch points of the sample business, each a kind the default playbook turns into a
follow-up for the owner: a regular client who missed their usual purchase (due six days before
NOW, so overdue), Margaret's second late payment, a seventh anniversary and a first order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass
from goodwill.settings import Settings
from goodwill.store.models import Client, Event, FollowUp

MISSED_CLIENT = "C-0003"
MISSED_CLIENT_NAME = "Bram Silva"


@dataclass(frozen=True)
class Made:
    """The ids of the follow-ups the engine made, by reason."""

    missed: int
    late: int
    anniversary: int
    first: int


def touch_point(
    session: Session,
    client_ref: str,
    kind: str,
    *,
    at: datetime,
    payload: dict[str, object],
    key: str,
) -> None:
    client = session.execute(select(Client).where(Client.external_id == client_ref)).scalar_one()
    session.add(
        Event(
            type=kind,
            client_id=client.id,
            occurred_at=at,
            recorded_at=at,
            source="tests",
            external_id=key,
            idempotency_key=f"tests:{key}",
            payload=payload,
        )
    )


def run_engine(
    store: sessionmaker[Session], settings: Settings, *, now: datetime, cadence: bool = True
) -> None:
    """One engine pass as of ``now``; ``cadence=False`` keeps the cadence watch quiet.

    The sample business's random histories leave some clients past their rhythm, and the follow-up
    tests count exactly the follow-ups made from the touch points they record.
    """
    if not cadence:
        quiet = {**settings.cadence, "min_purchases": 1_000_000}  # nobody has a rhythm
        settings = dataclasses.replace(settings, cadence=quiet)
    EnginePass(
        store, settings, now=now, playbook=playbook_for(settings), calendar=calendar_for(settings)
    ).run()


def make_followups(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> Made:
    """Record the four touch points and run one engine pass as of ``now``."""
    with store.begin() as session:
        touch_point(
            session,
            MISSED_CLIENT,
            "purchase.missed",
            at=now - timedelta(days=6),
            payload={"expected_at": "2026-11-05", "days_overdue": 12, "category": "Boots"},
            key="missed",
        )
        touch_point(
            session,
            "C-0001",
            "payment.late",
            at=now - timedelta(days=1),
            payload={"invoice_id": "INV-9004", "days_late": 5, "n": 2},
            key="late",
        )
        touch_point(
            session,
            "C-0004",
            "client.anniversary",
            at=now - timedelta(days=1),
            payload={"years": 7, "since": "2019-11-22"},
            key="anniversary",
        )
        touch_point(
            session,
            "C-0005",
            "purchase.first",
            at=now - timedelta(hours=2),
            payload={"order_id": "O-NEW", "n": 1},
            key="first",
        )
    run_engine(store, settings, now=now, cadence=False)
    with store.begin() as session:
        by_reason = {
            reason: i for reason, i in session.execute(select(FollowUp.reason, FollowUp.id))
        }
    return Made(
        missed=by_reason["missed-purchase"],
        late=by_reason["late-payment-escalation"],
        anniversary=by_reason["anniversary"],
        first=by_reason["first-purchase"],
    )

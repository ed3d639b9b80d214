"""A small business whose weekly series are worked out by hand (tests/store/test_insights.py).

The business is in Amsterdam (UTC+1 in November). The range is the four weeks of 2 to 29
November 2026, as of Wednesday 25 November: week 0 is 2 Nov, week 3 (23 Nov) runs to the end of
the 25th. Amounts are in EUR cents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.store.models import (
    Client,
    Conversation,
    Event,
    FollowUp,
    Incident,
    IncidentStep,
    Invoice,
    Order,
    Partner,
)

AS_OF = date(2026, 11, 25)
ZONE = "Europe/Amsterdam"
FIRST = date(2026, 11, 2)

EXPECTED = {
    # A buys at 00:30 on Monday 2 Nov local time (Sunday 23:30 UTC: week 0, not the week before).
    "purchases": [1, 1, 1, 0],
    "revenue": [10.0, 6000.0, 20.0, 0],
    "new_clients": [1, 0, 0, 0],
    # A, B, C, D and F; F's only purchase (18 Nov 2025) turns a year old in week 2.
    "active_clients": [5, 5, 4, 4],
    # D bought every 3 days and went quiet: 4 intervals after 30 Oct is 11 Nov (week 1).
    "clients_lost": [0, 1, 0, 0],
    # C: 90 EUR over 3 orders every 31 days -> 35346 cents a year; D: 30 EUR every 3 days
    # -> 121750 cents, overdue from 4 Nov until lost on 11 Nov.
    "revenue_at_risk": [1570.96, 353.46, 353.46, 353.46],
    "followups_created": [1, 0, 2, 0],
    "followups_done": [0, 1, 0, 0],
    "followups_overdue": [1, 0, 1, 1],
    "late_payments": [1, 0, 1, 0],
    # 1, 2, 3 and 10 hours: median 2.5 h; p90 at position 2.7: 3 + 0.7 * 7 = 7.9 h.
    "first_response_median_h": [None, 2.5, None, None],
    "first_response_p90_h": [None, 7.9, None, None],
    "sla_attainment": [None, 0.75, None, None],
    "incidents_tier_1": [1, 0, 0, 0],
    "incidents_tier_2": [0, 0, 0, 1],
    "incidents_tier_3": [0, 0, 0, 0],
    "recoveries_recovered": [1, 0, 0, 0],
    "recoveries_follow_up_due": [0, 0, 0, 0],
    "recoveries_closed_short": [0, 0, 0, 0],
    "recoveries_open": [0, 0, 0, 1],
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def seed(session: Session) -> dict[str, int]:
    now = utc(2026, 11, 25, 12)
    partner = Partner(name="CityTrips", created_at=now)
    session.add(partner)
    ids: dict[str, int] = {}
    for name in "ABCDF":
        client = Client(
            external_id=name,
            name=f"Client {name}",
            name_key=name.lower(),
            created_at=now,
            updated_at=now,
        )
        session.add(client)
        session.flush()
        ids[name] = client.id
    session.flush()
    orders = [
        ("A", utc(2026, 11, 1, 23, 30), 1000, partner.id),
        ("A", utc(2026, 11, 16, 12), 2000, partner.id),
        ("B", utc(2025, 11, 10, 12), 600000, None),
        ("B", utc(2026, 11, 10, 12), 600000, None),
        ("C", utc(2026, 7, 1, 12), 3000, None),
        ("C", utc(2026, 8, 1, 12), 3000, None),
        ("C", utc(2026, 9, 1, 12), 3000, None),
        ("D", utc(2026, 10, 24, 12), 1000, None),
        ("D", utc(2026, 10, 27, 12), 1000, None),
        ("D", utc(2026, 10, 30, 12), 1000, None),
        ("F", utc(2025, 11, 18, 12), 500, None),
    ]
    for k, (who, at, amount, via) in enumerate(orders):
        session.add(
            Order(
                external_id=f"O{k}",
                client_id=ids[who],
                occurred_at=at,
                currency="EUR",
                amount_minor=amount,
                partner_id=via,
            )
        )
    followups = [
        # created, due, closed (done)
        (utc(2026, 11, 3, 10), utc(2026, 11, 5, 10), utc(2026, 11, 10, 10)),
        (utc(2026, 11, 17, 10), utc(2026, 11, 18, 10), None),
        (utc(2026, 11, 17, 10), utc(2026, 12, 31, 10), None),
    ]
    for k, (created, due, closed) in enumerate(followups):
        session.add(
            FollowUp(
                key=f"f{k}",
                client_id=ids["B"],
                rule="r",
                reason=f"reason {k}",
                open_reason=None if closed else f"reason {k}",
                title="Call",
                channel="phone",
                personal_level="call",
                due_at=due,
                status="done" if closed else "open",
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
            )
        )
    invoices = [
        # due, paid, settled
        (date(2026, 11, 3), date(2026, 11, 5), False),
        (date(2026, 11, 10), date(2026, 11, 10), False),
        (date(2026, 11, 20), None, False),
        (date(2026, 11, 24), None, True),
        (date(2026, 11, 25), None, False),
    ]
    for k, (due, paid, settled) in enumerate(invoices):
        session.add(
            Invoice(
                external_id=f"I{k}",
                client_id=ids["B"],
                currency="EUR",
                amount_minor=100,
                issued_on=due - timedelta(days=14),
                due_on=due,
                paid_on=paid,
                settled=settled,
            )
        )
    start = utc(2026, 11, 10, 9)
    for k, hours in enumerate((1, 2, 3, 10)):
        conversation = Conversation(
            client_id=ids["C"],
            subject=f"Question {k}",
            subject_key=f"question {k}",
            status="answered",
            created_at=start,
            last_message_at=start,
            first_response_at=start + timedelta(hours=hours),
            sla_policy="standard",
            sla_kind="first",
            sla_clock=1,
            sla_elapsed_s=0,
        )
        session.add(conversation)
        session.flush()
        if hours == 10:
            key = f"scan:sla/{conversation.id}/1/breach"
            session.add(
                Event(
                    type="sla.breach",
                    client_id=ids["C"],
                    occurred_at=start + timedelta(hours=4),
                    recorded_at=now,
                    source="engine",
                    external_id=key,
                    idempotency_key=key,
                    payload={},
                )
            )
    recovered = _incident(ids["D"], tier=1, opened=utc(2026, 11, 3, 9), status="closed")
    recovered.confirmed_at = utc(2026, 11, 3, 10)
    session.add(recovered)
    session.add(_incident(ids["D"], tier=2, opened=utc(2026, 11, 24, 9), status="open"))
    session.flush()
    for step in ("listen", "restate", "own", "offer", "resolve", "follow_up"):
        session.add(
            IncidentStep(incident_id=recovered.id, step=step, done_at=utc(2026, 11, 4), by="x@y.z")
        )
    return ids


def _incident(client_id: int, *, tier: int, opened: datetime, status: str) -> Incident:
    return Incident(
        client_id=client_id,
        what="wrong beans",
        currency="EUR",
        ours=True,
        cause="wrong item",
        tier=tier,
        score=1.0,
        factors=[],
        options=[],
        status=status,
        opened_at=opened,
        opened_by="x@y.z",
    )


def buy_again(session: Session) -> None:
    """Client A buys again on 24 November (week 4): one more purchase that week."""
    client = session.scalars(select(Client).where(Client.external_id == "A")).one()
    at = utc(2026, 11, 24, 15)
    session.add(
        Order(
            external_id="again", client_id=client.id, occurred_at=at, currency="EUR",
            amount_minor=9_900,
        )
    )  # fmt: skip

"""A car-rental business for the service-recovery tests (HTTP and browser): Ravi booked through
TripDesk, Dan through RoadTrips; a couple at the hotel desk, two passengers, and Hilda, a client
for twenty years. The owner and a staff member log in with the sample password."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tests.web.sample import add_client, add_purchase, staff_user

RAVI_WORDS = (
    "I'm at the address you sent me and there is no car here. I'm stranded, and my flight "
    "leaves at 3pm tomorrow."
)


def rental_business(session: Session, *, now: datetime) -> None:
    staff_user(session, now=now)
    staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=now)
    ravi = add_client(
        session,
        external_id="R-1",
        name="Ravi Patel",
        email="ravi@example.com",
        since=date(2019, 5, 1),
        now=now,
    )
    dan = add_client(
        session, external_id="R-2", name="Dan Fischer", email="dan@example.com", now=now
    )
    for client, via, order in ((ravi, "TripDesk", "T-1"), (dan, "RoadTrips", "T-2")):
        add_purchase(
            session,
            client,
            order_id=order,
            at=now - timedelta(days=10),
            amount_minor=18_000,
            product="Compact car, 3 days",
            channel=via,
        )
    add_client(session, external_id="H-1", name="Anna Berg", email="anna@example.com", now=now)
    add_client(session, external_id="P-1", name="Lena Ortiz", now=now)
    add_client(session, external_id="P-2", name="Tom Reyes", now=now)
    hilda = add_client(
        session, external_id="S-1", name="Hilda Brand", since=date(2006, 9, 1), now=now
    )
    add_purchase(
        session,
        hilda,
        order_id="S-100",
        at=now - timedelta(days=40),
        amount_minor=12_000,
        product="Walking boots",
    )

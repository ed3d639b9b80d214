"""December's printed touches written straight into the store, for the batch tests.

Follow-ups are rows (a touch point, the follow-up, the link between them), not an engine pass,
so each test knows exactly what is due when. The playbook has a postcard rule and a handwritten
note rule for birthdays, and a postcard rule for anniversaries, all on shipped templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from goodwill.store.models import Client, Event, FollowUp, FollowUpEvent
from tests.web.sample import add_client, add_fact, staff_user

PLAYBOOK = """
[[rule]]
name = "birthday-postcard"
on = "client.birthday_month"
title = "Birthday postcard for {client} ({birthday})"
channel = "postcard"
personal_level = "automated"
assignee = "client_owner"
due = "birthday week monday"
template = "birthday"
reason = "birthday"

[[rule]]
name = "birthday-handwritten"
on = "client.birthday_month"
title = "Handwritten birthday note for {client} ({birthday})"
channel = "note"
personal_level = "handwritten_note"
assignee = "business_owner"
due = "birthday week monday"
template = "birthday"
reason = "birthday-note"

[[rule]]
name = "anniversary-postcard"
on = "client.anniversary"
title = "{years} years with {client}: a postcard"
channel = "postcard"
personal_level = "automated"
assignee = "client_owner"
due = "2 days"
template = "anniversary"
reason = "anniversary"
"""
DECEMBER = "2026-12"


def write_playbook(folder: Path) -> Path:
    path = folder / "postcards-playbook.toml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return path


def due(
    session: Session,
    client: Client,
    *,
    rule: str,
    event: str,
    payload: dict[str, object],
    at: datetime,
    channel: str = "postcard",
    level: str = "automated",
    title: str | None = None,
    status: str = "open",
    performer: str = "machine",
) -> int:
    """An open follow-up of ``rule`` for ``client`` due ``at``, from one ``event`` touch point."""
    key = f"{rule}/{client.id}/{at.isoformat()}"
    happened = at - timedelta(days=6)
    touch = Event(
        type=event,
        client_id=client.id,
        occurred_at=happened,
        recorded_at=happened,
        source="tests",
        external_id=key,
        idempotency_key=f"tests:{key}",
        payload=payload,
    )
    followup = FollowUp(
        key=key,
        client_id=client.id,
        rule=rule,
        reason=key,
        open_reason=key if status == "open" else None,
        title=title or f"{rule} for {client.name}",
        channel=channel,
        personal_level=level,
        template=None,
        due_at=at,
        status=status,
        sequence=0,
        created_at=happened,
        updated_at=happened,
        performer=performer,
    )
    session.add_all([touch, followup])
    session.flush()
    session.add(FollowUpEvent(followup_id=followup.id, event_id=touch.id))
    session.flush()
    return followup.id


def with_address(
    client: Client,
    street: str,
    city: str,
    postcode: str,
    country: str,
    *,
    region: str | None = None,
    company: str | None = None,
) -> Client:
    client.street, client.city, client.postcode, client.country = street, city, postcode, country
    client.region, client.company = region, company
    return client


@dataclass(frozen=True)
class December:
    """The follow-ups of the December batch, by who they are for."""

    margaret: int  # birthday postcard, an address with a second street line and a company
    ines: int  # anniversary postcard
    nora: int  # handwritten birthday note, with facts to mention
    tom: int  # birthday postcard, no street: listed apart
    january: int  # a postcard due in January
    by_mail: int  # a birthday mail in December: not printed


def seed_december(session: Session, *, now: datetime, owner: bool = True) -> December:
    """The owner (unless ``owner`` is False: there is one) and four clients with printed
    touches due in December 2026, and two that are not part of December's batch."""
    if owner:
        staff_user(session, now=now)
    margaret = with_address(
        add_client(session, external_id="P-1", name="Margaret Holloway", now=now),
        "12 Harbour Lane\nFlat 3",
        "Leeds",
        "LS1 4AB",
        "gb",
        region="West Yorkshire",
    )
    ines = with_address(
        add_client(session, external_id="P-2", name="Ines Duarte", now=now),
        "Rua das Flores 8",
        "Porto",
        "4050-262",
        "PT",
        company="Duarte Ceramics",
    )
    nora = with_address(
        add_client(session, external_id="P-3", name="Nora Lindqvist", now=now),
        "Storgatan 5",
        "Uppsala",
        "753 20",
        "SE",
    )
    tom = add_client(session, external_id="P-4", name="Tom Becker", now=now)
    tom.city = "Bremen"
    add_fact(session, nora, "interest", "Sails a wooden boat on Lake Mälaren", now=now)
    add_fact(session, nora, "family", "Her son started university in Lund", now=now)
    add_fact(session, nora, "sensitivity", "Never call before 10", now=now)
    birthday = "client.birthday_month"
    return December(
        margaret=due(
            session,
            margaret,
            rule="birthday-postcard",
            event=birthday,
            payload={"birthday": "9 December"},
            at=datetime(2026, 12, 7, 9, tzinfo=UTC),
        ),
        ines=due(
            session,
            ines,
            rule="anniversary-postcard",
            event="client.anniversary",
            payload={"years": 5, "since": "2021-12-03"},
            at=datetime(2026, 12, 3, 9, tzinfo=UTC),
        ),
        nora=due(
            session,
            nora,
            rule="birthday-handwritten",
            event=birthday,
            payload={"birthday": "16 December"},
            at=datetime(2026, 12, 14, 9, tzinfo=UTC),
            channel="note",
            level="handwritten_note",
            performer="person",
        ),
        tom=due(
            session,
            tom,
            rule="birthday-postcard",
            event=birthday,
            payload={"birthday": "22 December"},
            at=datetime(2026, 12, 21, 9, tzinfo=UTC),
        ),
        january=due(
            session,
            margaret,
            rule="anniversary-postcard",
            event="client.anniversary",
            payload={"years": 20, "since": "2007-01-06"},
            at=datetime(2027, 1, 4, 9, tzinfo=UTC),
        ),
        by_mail=due(
            session,
            ines,
            rule="birthday-card",
            event=birthday,
            payload={"birthday": "10 December"},
            at=datetime(2026, 12, 7, 9, tzinfo=UTC),
            channel="email",
        ),
    )

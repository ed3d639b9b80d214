"""A store with something on every page, for the phone layout tests: the sample business, its
follow-ups, conversations, an incident, an import run with a bad row,
a feedback link and answers that make topics, more users, December's postcards and notes, and a client whose name, email and notes are one long word each."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import incidents
from goodwill.actions.feedback import add_answer, ask, question
from goodwill.actions.imports import import_file
from goodwill.actions.inbox import receive
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.settings import Settings
from goodwill.store.models import Client
from tests.browser.conftest import sample_seed
from tests.conftest import NOW
from tests.web.postcards import seed_december
from tests.web.sample import add_client, add_fact, add_purchase, staff_user
from tests.web.touchpoints import make_followups

SHOP = "care@shop.example"
LONG_REF = "C-0900"
LONG_NAME = "Maximiliane-Augusta Wolkenkratzer-Donaudampfschiffahrtsgesellschaft"
LONG_EMAIL = "maximiliane.augusta.wolkenkratzer@donaudampfschiffahrtsgesellschaft.example"
LONG_URL = "https://www.donaudampfschiffahrtsgesellschaft.example/kapitaenswitwen/rundschreiben"
#: Links the seed made that only it knows (the feedback link's token).
LINKS: dict[str, str] = {}
POLICY = """
[[policy]]
name = "standard"
calendar = "24/7"
first_response = "1h"
next_response = "1h"
"""
#: (sender, subject, body, minutes before the clock it arrived)
MAIL = (
    (
        "Margaret Holloway <margaret@holloway.example>",
        "The lamp arrived broken",
        "The walnut lamp arrived with a cracked shade. Could a new one be here by Friday?\n",
        65,
    ),
    (
        f"Maximiliane <{LONG_EMAIL}>",
        "Rundschreiben der Donaudampfschiffahrtsgesellschaftskapitänswitwen",
        f"Please see {LONG_URL} and reply to {LONG_EMAIL} before Friday.\n",
        30,
    ),
)
#: What clients told staff, over the months: topics for the listening page.
HEARD = (
    "The walnut lamps ship in a box that is far too small.",
    "A walnut lamp arrived without its bulb, again.",
    "Gift wrapping at the counter would be lovely before Christmas.",
    "Could you offer gift wrapping for the linen shirts?",
    "Kapitänswitwen-Rundschreiben-Donaudampfschiffahrtsgesellschaftsbibliothek is what I read.",
)
IMPORT_CSV = (
    "client_id,order_id,occurred_at,amount,currency,product\n"
    "C-0002,IMP-1,2026-10-01,40.00,USD,Linen shirt\n"
    "C-0003,IMP-2,2026-10-02,not-a-number,USD,Boots\n"
    "C-0004,IMP-3,2026-10-03,12.50,USD,Gift card\n"
)


def adjust(settings: Settings, folder: Path) -> Settings:
    """A response-time policy, a sender and a public address (for clocks and feedback links)."""
    (folder / "sla.toml").write_text(POLICY, encoding="utf-8")
    return dataclasses.replace(
        settings,
        sla=folder / "sla.toml",
        mail={"from_address": SHOP},
        public_url="http://goodwill.test",
        uploads=folder / "uploads",
    )


def _mail(sender: str, subject: str, body: str, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SHOP
    message["Subject"] = subject
    message["Message-ID"] = f"<phone-{n}@mail.example>"
    message.set_content(body)
    return message.as_bytes()


def _long_client(session: Session) -> None:
    client = add_client(
        session, external_id=LONG_REF, name=LONG_NAME, email=LONG_EMAIL, now=NOW, hometown="Wien"
    )
    add_purchase(
        session,
        client,
        order_id="O-900-01",
        at=NOW - timedelta(days=20),
        amount_minor=123_456,
        product="Donaudampfschiffahrtsgesellschaftskapitänsmütze",
    )
    add_fact(session, client, "note", f"Sends every order to {LONG_URL}", now=NOW)


def phone_seed(store: sessionmaker[Session], settings: Settings) -> None:
    """Write every kind of row the menu's pages and the detail pages list."""
    sample_seed(store, settings)
    with store.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
        staff_user(
            session, email=LONG_EMAIL, role="manager", name="Maximiliane Wolkenkratzer", now=NOW
        )
        _long_client(session)
        seed_december(session, now=NOW, owner=False)
    make_followups(store, settings, now=NOW)
    for n, (sender, subject, body, minutes) in enumerate(MAIL):
        receive(
            store,
            settings,
            _mail(sender, subject, body, n),
            source="smtp",
            now=NOW - timedelta(minutes=minutes),
        )
    with store.begin() as session:
        made = incidents.open_incident(
            session,
            settings,
            client_ref="C-0001",
            what="the walnut lamp arrived with a cracked shade",
            message="The lamp arrived broken, could a new one be here by Friday?",
            cause="damaged in transit",
            by="owner@example.com",
            actor=Actor.cli("tests"),
            now=NOW - timedelta(hours=2),
        )
        incidents.record_step(
            session, made, "listen", by="owner@example.com", actor=Actor.cli("tests"), now=NOW
        )
        client = session.execute(select(Client).where(Client.external_id == "C-0001")).scalar_one()
        asked = ask(
            session,
            settings,
            client,
            question(settings, "miss-us"),
            key="phone/fresh",
            created_by="test",
            now=NOW,
        )
        assert asked is not None
        LINKS["feedback"] = asked.link.removeprefix("http://goodwill.test")
        long = session.execute(select(Client).where(Client.external_id == LONG_REF)).scalar_one()
        for n, words in enumerate(HEARD * 4):
            add_answer(
                session,
                settings,
                client if n % 2 else long,
                question_text="miss-us",
                answer=words,
                answered_at=NOW - timedelta(days=20 * n + 1),
                channel="call",
                recorded_by="staff",
                now=NOW,
            )
    upload = settings.upload_dir / "phone-purchases.csv"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text(IMPORT_CSV, encoding="utf-8")
    import_file(store, settings, FileKind.PURCHASES, upload, now=NOW, actor=Actor.cli("tests"))

"""Automated touches: a rule the owner switched on is performed by the worker, once, inside
the client's window and the business's hours, only with consent where it is marketing, not when
a person made it moot or the client wrote first; what cannot be sent goes back to a person."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.touches import preview_sends, switch_touches
from goodwill.domain.audit import Actor
from goodwill.domain.playbook_edits import with_enabled
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import default_playbook_document, playbook_for
from goodwill.errors import ConfigError, InvalidInput
from goodwill.settings import Settings
from goodwill.store.followups import list_followups
from goodwill.store.models import AuditEntry, Client, FollowUp, Interaction, Outbox
from tests.engine.conftest import World

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, the shop is open
CLIENTS = "client_id,name,email,client_since\n"
PURCHASES = "order_id,client_id,occurred_at,amount,product\n"


@pytest.fixture
def shop(store: sessionmaker[Session], settings: Settings, tmp_path: Path) -> World:
    settings = dataclasses.replace(
        settings,
        mail={"from_address": "care@roastery.example"},
        public_url="https://care.roastery.example",
        business_name="Roastery Example",
    )
    world = World(store, settings, tmp_path)
    world.staff("olivia@roastery.example", "owner", NOW)
    return world


def switch(world: World, rule: str, *, on: bool = True, now: datetime = NOW) -> int:
    with world.store.begin() as session:
        done = switch_touches(
            session,
            world.settings,
            playbook_for(world.settings),
            rule,
            on=on,
            actor=Actor.cli(),
            now=now,
        )
    return done.moved


def touches(world: World) -> list[tuple[Outbox, EmailMessage]]:
    with world.store() as session:
        rows = session.execute(
            select(Outbox).where(Outbox.key.like("touch/%")).order_by(Outbox.id)
        ).scalars()
        found = []
        for row in rows:
            message = email.message_from_bytes(row.body, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append((row, message))
    return found


def followup(world: World, rule: str) -> FollowUp:
    with world.store() as session:
        return session.execute(select(FollowUp).where(FollowUp.rule == rule)).scalar_one()


def first_order(world: World, *, when: str = "2026-11-18", email: str = "ann@example.com") -> None:
    world.load(FileKind.CLIENTS, CLIENTS + f"A1,Ann Arbor,{email},2026-11-18\n", NOW)
    world.load(FileKind.PURCHASES, PURCHASES + f"O1,A1,{when},42.50,Beans\n", NOW)


def test_a_switched_on_thank_you_is_sent_once_with_an_unsubscribe_and_settles_as_done(
    shop: World,
) -> None:
    switch(shop, "thank-you-first-purchase")
    first_order(shop)
    shop.run(NOW)
    shop.run(NOW + timedelta(minutes=5))
    [(row, mail)] = touches(shop)
    assert row.recipients == ["ann@example.com"] and row.status == "queued"
    assert mail["Subject"] == "Thank you for your first order"
    assert mail["To"] == "Ann Arbor <ann@example.com>"
    assert mail["From"] == "Olivia at Roastery Example <care@roastery.example>"
    assert mail["List-Unsubscribe"].startswith("<https://care.roastery.example/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.get_content()
    assert "Dear Ann" in body and "(O1): Beans" in body and "unsubscribe:" in body
    # Not on anyone's list while the worker has it.
    assert [f.rule for f in shop.followups()] == []
    with shop.store.begin() as session:
        session.execute(update(Outbox).values(status="sent", sent_at=NOW + timedelta(minutes=1)))
    shop.run(NOW + timedelta(minutes=10))
    done = followup(shop, "thank-you-first-purchase")
    assert (done.status, done.performer) == ("done", "machine")
    assert done.outcome is not None and "Subject: Thank you for your first order" in done.outcome
    assert len(touches(shop)) == 1


def test_switched_off_the_rule_leaves_the_thank_you_to_a_person(shop: World) -> None:
    first_order(shop)
    shop.run(NOW)
    assert touches(shop) == []
    [mine] = shop.followups()
    assert (mine.rule, mine.performer, mine.personal_level) == (
        "thank-you-first-purchase",
        "person",
        "personal_message",
    )


def test_switching_on_hands_over_open_follow_ups_not_yet_due_and_off_gives_them_back(
    shop: World,
) -> None:
    first_order(shop, when="2026-11-23")  # due two business days later
    shop.run(NOW)
    assert switch(shop, "thank-you-first-purchase") == 1
    assert shop.followups() == []
    with shop.store() as session:
        [entry] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "touches.on")
        ).scalars()
    assert entry.object_id == "thank-you-first-purchase" and entry.after["followups_moved"] == 1
    assert switch(shop, "thank-you-first-purchase", on=False) == 1
    assert [f.rule for f in shop.followups()] == ["thank-you-first-purchase"]


def test_a_rule_turned_off_sends_nothing_more_and_gives_its_touch_to_a_person(
    shop: World,
) -> None:
    switch(shop, "thank-you-first-purchase")
    first_order(shop, when="2026-11-23")  # due two business days later
    shop.run(NOW)
    assert shop.followups() == []  # the worker has it
    document = with_enabled(default_playbook_document(), "thank-you-first-purchase", on=False)
    shop.settings = dataclasses.replace(shop.settings, page={"playbook": document})
    with shop.store() as session:
        week = preview_sends(session, shop.settings, playbook_for(shop.settings), now=NOW, days=7)
    assert week == []  # nothing is listed as if it would still be sent
    shop.run(NOW + timedelta(days=3))
    assert touches(shop) == []
    [mine] = shop.followups()
    assert (mine.rule, mine.performer) == ("thank-you-first-purchase", "person")
    assert followup(shop, "thank-you-first-purchase").handed_over == "the rule is turned off"


def test_only_email_and_postcard_rules_with_a_template_can_be_switched_on(shop: World) -> None:
    with pytest.raises(InvalidInput, match="its channel is call"):
        switch(shop, "missed-regular-purchase")
    no_sender = dataclasses.replace(shop.settings, mail={})
    with shop.store.begin() as session, pytest.raises(ConfigError, match="from_address"):
        switch_touches(
            session,
            no_sender,
            playbook_for(no_sender),
            "thank-you-first-purchase",
            on=True,
            actor=Actor.cli(),
            now=NOW,
        )


def test_outside_the_clients_contact_window_the_mail_waits_for_it(shop: World) -> None:
    switch(shop, "thank-you-first-purchase")
    first_order(shop)
    with shop.store.begin() as session:
        session.execute(update(Client).values(contact_window="mon-fri 14:00-15:00"))
    shop.run(NOW)
    assert touches(shop) == []
    waiting = followup(shop, "thank-you-first-purchase")
    assert waiting.due_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    shop.run(datetime(2026, 11, 23, 14, 5, tzinfo=UTC))
    assert len(touches(shop)) == 1


def test_a_call_logged_since_the_order_makes_the_thank_you_moot(shop: World) -> None:
    switch(shop, "thank-you-first-purchase")
    first_order(shop)
    with shop.store.begin() as session:
        session.add(
            Interaction(
                client_id=1,
                kind="call",
                text="Thanked her on the phone",
                occurred_at=datetime(2026, 11, 21, 11, 0, tzinfo=UTC),
                author_label="olivia@roastery.example",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    shop.run(NOW)
    assert touches(shop) == []
    moot = followup(shop, "thank-you-first-purchase")
    assert moot.status == "closed"
    assert moot.outcome == "not sent: olivia@roastery.example logged a call with them on 2026-11-21"


def birthday_client(world: World, consent: bool | None) -> None:
    world.load(
        FileKind.CLIENTS,
        CLIENTS.strip() + ",birthday\nB1,Bea Birch,bea@example.com,2026-01-10,1990-11-26\n",
        NOW,
    )
    with world.store.begin() as session:
        session.execute(update(Client).values(marketing_consent=consent, consent_at=NOW))


@pytest.mark.parametrize(
    ("consent", "outcome"),
    [
        (None, "not sent: they have not agreed to news by mail"),
        (False, "not sent: they unsubscribed on 2026-11-23"),
    ],
)
def test_a_birthday_mail_needs_consent(shop: World, consent: bool | None, outcome: str) -> None:
    switch(shop, "birthday-card")
    birthday_client(shop, consent)
    shop.run(NOW)
    assert touches(shop) == []
    closed = followup(shop, "birthday-card")
    assert (closed.status, closed.outcome) == ("closed", outcome)


def test_a_birthday_mail_goes_to_a_client_who_agreed(shop: World) -> None:
    switch(shop, "birthday-card")
    birthday_client(shop, True)
    shop.run(NOW)
    [(_, mail)] = touches(shop)
    assert mail["Subject"] == "Happy birthday, Bea"


def test_a_lead_who_writes_first_stops_the_sequence_and_a_person_is_told(shop: World) -> None:
    from goodwill.actions.inbox import receive

    switch(shop, "lead-checking-in")
    with shop.store.begin() as session:
        from goodwill.domain.records import ClientRef
        from goodwill.store.events import record_touch_point

        record_touch_point(
            session,
            shop.settings,
            type="lead.created",
            client=ClientRef(client_id=None, email="lee@example.com", name="Lee Lane"),
            occurred_at=NOW,
            source="test",
            payload={"via": "web form"},
            now=NOW,
        )
    shop.run(NOW)
    assert followup(shop, "lead-checking-in").performer == "machine"
    message = EmailMessage()
    message["From"] = "Lee Lane <lee@example.com>"
    message["To"] = "care@roastery.example"
    message["Subject"] = "Prices for an office?"
    message["Message-ID"] = "<lee-1@example.com>"
    message["Date"] = "Mon, 23 Nov 2026 11:00:00 +0000"
    message.set_content("How much would 5 kg a week cost?")
    receive(
        shop.store, shop.settings, message.as_bytes(), source="smtp", now=NOW + timedelta(hours=1)
    )
    shop.run(NOW + timedelta(hours=2))
    told = followup(shop, "lead-checking-in")
    assert (told.performer, told.status) == ("person", "open")
    assert told.handed_over is not None and "Lee Lane wrote on 2026-11-23" in told.handed_over
    assert [f.rule for f in shop.followups() if f.rule == "lead-checking-in"] == [
        "lead-checking-in"
    ]
    shop.run(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))  # past the day it was due
    assert touches(shop) == []


def test_an_undeliverable_mail_becomes_a_persons_task_with_the_reason(shop: World) -> None:
    switch(shop, "thank-you-first-purchase")
    first_order(shop, email="gone@example.com")
    shop.run(NOW)
    error = "SMTPRecipientsRefused: {'gone@example.com': (550, b'5.1.1 no such user')}"
    with shop.store.begin() as session:
        session.execute(update(Outbox).values(status="failed", attempts=1, last_error=error))
    shop.run(NOW + timedelta(minutes=5))
    mine = followup(shop, "thank-you-first-purchase")
    assert (mine.performer, mine.status) == ("person", "open")
    assert mine.handed_over == f"the mail could not be delivered: {error}"
    with shop.store() as session:
        [row] = session.execute(select(Outbox)).scalars()
        people = list_followups(session)
    assert row.attempts == 8  # no more retries to a mailbox that does not exist
    assert [f.handed_over for f in people] == [mine.handed_over]


def test_the_preview_shows_what_a_rule_would_send_before_it_is_switched_on(shop: World) -> None:
    first_order(shop, when="2026-11-23")
    shop.run(NOW)
    with shop.store() as session:
        [planned] = preview_sends(
            session, shop.settings, playbook_for(shop.settings), now=NOW, days=7
        )
    assert (planned.rule, planned.to, planned.verdict, planned.automated) == (
        "thank-you-first-purchase",
        "ann@example.com",
        "send",
        False,
    )
    assert planned.subject == "Thank you for your first order"
    assert planned.send_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # at opening


def dsn(message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: care@roastery.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <dsn-9@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n--B--\r\n"
    ).encode()


def test_a_bounce_that_arrives_later_gives_the_touch_back_to_a_person(shop: World) -> None:
    from goodwill.actions.inbox import receive

    switch(shop, "thank-you-first-purchase")
    first_order(shop)
    shop.run(NOW)
    [(_, mail)] = touches(shop)
    with shop.store.begin() as session:
        session.execute(update(Outbox).values(status="sent", sent_at=NOW))
    shop.run(NOW + timedelta(minutes=5))
    assert followup(shop, "thank-you-first-purchase").status == "done"
    later = NOW + timedelta(hours=1)
    forged = str(mail["Message-ID"]).replace("touch.", "touch.9")  # not a mail goodwill sent
    receive(shop.store, shop.settings, dsn(forged), source="smtp", now=later)
    assert followup(shop, "thank-you-first-purchase").status == "done"
    receive(shop.store, shop.settings, dsn(str(mail["Message-ID"])), source="smtp", now=later)
    back = followup(shop, "thank-you-first-purchase")
    assert (back.status, back.performer) == ("open", "person")
    assert back.handed_over == "the mail bounced: ann@example.com: smtp; 552 5.2.2 mailbox full"
    assert [f.rule for f in shop.followups()] == ["thank-you-first-purchase"]


def test_a_mail_that_cannot_be_written_goes_to_a_person_and_nothing_is_queued(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    nobody = World(
        store,
        dataclasses.replace(
            settings,
            mail={"from_address": "care@roastery.example"},
            public_url="https://care.roastery.example",
        ),
        tmp_path,
    )  # no staff member to sign it
    switch(nobody, "thank-you-first-purchase")
    first_order(nobody)
    nobody.run(NOW)
    assert touches(nobody) == []
    mine = followup(nobody, "thank-you-first-purchase")
    assert (mine.performer, mine.status, mine.outbox_key) == ("person", "open", None)
    assert mine.handed_over is not None
    assert mine.handed_over.startswith("the mail could not be written: there is no staff member")

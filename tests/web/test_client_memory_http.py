"""What the team learns, through the client page's forms: facts, notes, calls, sales, payments,
"remember this" in the inbox and a fact when completing a follow-up; on SQLite and PostgreSQL.

Each form is posted as htmx does (the section comes back) and as a plain form (a redirect);
bad input answers 422 with the message next to the field and nothing stored.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, ClientFact, Event, Interaction, Order, StaffUser
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, staff_user
from tests.web.touchpoints import make_followups

PAGE = f"/clients/{LONG_CLIENT}"
HX = {"HX-Request": "true"}


def _csrf(http: TestClient) -> str:
    return csrf_from(http.get(PAGE).text)


def _post(http: TestClient, path: str, data: dict[str, str], *, htmx: bool = True) -> object:
    form = {"csrf_token": _csrf(http), **data}
    return http.post(path, data=form, headers=HX if htmx else {})


def _counts(store: sessionmaker[Session]) -> tuple[int, ...]:
    with store() as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (ClientFact, Interaction, Order, Event, AuditEntry)
        )


def test_a_fact_added_on_the_page_shows_with_its_author_and_appends_its_event(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    response = _post(
        logged_in,
        f"{PAGE}/facts",
        {"kind": "family", "text": "Daughter's wedding in Lisbon", "on_date": "2027-06-12"},
    )
    assert response.status_code == 200, response.text
    assert 'id="client-facts"' in response.text
    assert "Daughter&#39;s wedding in Lisbon" in response.text
    assert "by Olive Owner" in response.text
    with seeded() as session:
        fact = session.execute(
            select(ClientFact).where(ClientFact.text == "Daughter's wedding in Lisbon")
        ).scalar_one()
        assert str(fact.on_date) == "2027-06-12" and fact.author_label == "Olive Owner"
        event = session.execute(select(Event).where(Event.type == "fact.added")).scalar_one()
        assert event.source == "web" and event.payload["fact_id"] == fact.id
        assert event.payload["by"] == "Olive Owner"
        assert event.idempotency_key == f"web:fact.added/{fact.id}"
    page = logged_in.get(PAGE).text
    assert "Daughter&#39;s wedding in Lisbon" in page and "12 June 2027" in page


def test_bad_fact_input_is_named_next_to_its_field_and_changes_nothing(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    before = _counts(seeded)
    cases = [
        ({"kind": "horoscope", "text": "Leo"}, "error-fact-kind", "kind"),
        ({"kind": "event", "text": "Shop launch", "on_date": "next-ish"}, "error-fact-on_date", "not a date"),
        ({"kind": "interest", "text": "x" * 1001}, "error-fact-text", "too long"),
        ({"kind": "interest", "text": "   "}, "error-fact-text", "write something"),
    ]  # fmt: skip
    for data, element, words in cases:
        response = _post(logged_in, f"{PAGE}/facts", data)
        assert response.status_code == 422, response.text
        assert f'id="{element}"' in response.text and words in response.text
    assert _counts(seeded) == before
    unknown = _post(logged_in, "/clients/NO-SUCH/facts", {"kind": "interest", "text": "Tea"})
    assert unknown.status_code == 404
    assert _counts(seeded) == before


def test_a_plain_form_redirects_back_to_the_client_with_a_flash(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    response = _post(
        logged_in, f"{PAGE}/facts", {"kind": "interest", "text": "Fell walking"}, htmx=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}#client-facts"
    assert "Remembered: Fell walking" in logged_in.get(PAGE).text


def test_a_fact_edit_on_an_old_version_is_refused_with_what_changed(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    _post(logged_in, f"{PAGE}/facts", {"kind": "interest", "text": "Jazz"})
    with seeded() as session:
        fact_id = session.execute(
            select(ClientFact.id).where(ClientFact.text == "Jazz")
        ).scalar_one()
    first = _post(
        logged_in,
        f"{PAGE}/facts/{fact_id}",
        {"version": "1", "kind": "interest", "text": "Modern jazz"},
    )
    assert first.status_code == 200 and "Modern jazz" in first.text
    stale = _post(
        logged_in,
        f"{PAGE}/facts/{fact_id}",
        {"version": "1", "kind": "interest", "text": "Swing"},
    )
    assert stale.status_code == 409
    assert "changed since you opened it" in stale.text and "text by owner@example.com" in stale.text
    with seeded() as session:
        fact = session.get(ClientFact, fact_id)
        assert fact is not None and fact.text == "Modern jazz" and fact.version == 2
    removed = _post(logged_in, f"{PAGE}/facts/{fact_id}/remove", {"version": "2"})
    assert removed.status_code == 200 and "Modern jazz" not in removed.text
    with seeded() as session:
        assert session.get(ClientFact, fact_id) is None
        actions = session.execute(
            select(AuditEntry.action).where(AuditEntry.object_type == "fact")
        ).scalars()
        assert list(actions) == ["fact.added", "fact.edited", "fact.removed"]


def test_a_call_is_logged_once_even_when_the_form_is_sent_twice(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    data = {
        "kind": "call",
        "text": "Asked about resoling her boots",
        "outcome": "Bringing them Friday",
        "request_key": "form-key-1",
    }
    assert _post(logged_in, f"{PAGE}/interactions", data).status_code == 200
    again = _post(logged_in, f"{PAGE}/interactions", data)
    assert again.status_code == 200 and "Asked about resoling her boots" in again.text
    with seeded() as session:
        rows = session.execute(select(Interaction)).scalars().all()
        assert len(rows) == 1 and rows[0].author_label == "Olive Owner"
        event = session.execute(
            select(Event).where(Event.type == "service.interaction")
        ).scalar_one()
        assert event.payload == {
            "interaction_id": rows[0].id,
            "kind": "call",
            "summary": "Asked about resoling her boots",
            "outcome": "Bringing them Friday",
            "by": "Olive Owner",
            "by_id": rows[0].author_id,
        }
    bad = _post(logged_in, f"{PAGE}/interactions", {"kind": "telepathy", "text": "Hm"})
    assert bad.status_code == 422 and 'id="error-log-kind"' in bad.text
    late = _post(
        logged_in,
        f"{PAGE}/interactions",
        {"kind": "visit", "text": "Came in", "occurred_at": "yesterday-ish"},
    )
    assert late.status_code == 422 and 'id="error-log-occurred_at"' in late.text


def test_notes_are_kept_pinned_first_and_can_be_unpinned_and_removed(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    _post(logged_in, f"{PAGE}/notes", {"text": "Prefers the Leeds shop"})
    page = _post(logged_in, f"{PAGE}/notes", {"text": "Pays by bank transfer", "pinned": "yes"})
    assert page.status_code == 200
    assert page.text.index("Pays by bank transfer") < page.text.index("Prefers the Leeds shop")
    with seeded() as session:
        pinned = session.execute(
            select(Interaction).where(Interaction.text == "Pays by bank transfer")
        ).scalar_one()
        assert pinned.pinned and pinned.kind == "note"
        kinds = session.execute(select(Event.type).where(Event.type == "note.added")).all()
        assert len(kinds) == 2
    unpinned = _post(logged_in, f"{PAGE}/notes/{pinned.id}", {"version": "1", "pinned": "no"})
    assert unpinned.status_code == 200 and "Unpinned the note." in unpinned.text
    gone = _post(logged_in, f"{PAGE}/notes/{pinned.id}", {"version": "2", "remove": "yes"})
    assert gone.status_code == 200 and "Pays by bank transfer" not in gone.text


def test_a_counter_sale_and_a_payment_go_through_the_import_path_with_who_served(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    data = {
        "amount": "120.00",
        "items": "Walking boots = 89.90\nLaces",
        "served_by": "sam@example.com",
        "request_key": "sale-key-1",
    }
    assert _post(logged_in, f"{PAGE}/orders", data).status_code == 200
    assert _post(logged_in, f"{PAGE}/orders", data).status_code == 200
    with seeded() as session:
        order = session.execute(
            select(Order).where(Order.external_id == "counter/sale-key-1")
        ).scalar_one()
        sam = session.execute(
            select(StaffUser).where(StaffUser.email == "sam@example.com")
        ).scalar_one()
        assert order.amount_minor == 12000 and order.served_by_id == sam.id
        placed = session.execute(
            select(Event).where(Event.type == "order.placed", Event.source == "web")
        ).scalar_one()
        assert placed.payload["served_by"] == "Sam Staff" and placed.payload["by"] == "Olive Owner"
    bad = _post(logged_in, f"{PAGE}/orders", {"amount": "twelve", "request_key": "k2"})
    assert bad.status_code == 422 and 'id="error-sale-amount"' in bad.text
    paid = _post(logged_in, f"{PAGE}/payments", {"amount": "45.50", "request_key": "pay-1"})
    assert paid.status_code == 200 and "Payment of 45.50" in paid.text
    with seeded() as session:
        received = session.execute(
            select(Event).where(Event.type == "payment.received", Event.source == "web")
        ).scalar_one()
        assert received.payload["by"] == "Olive Owner"
    bad_day = _post(logged_in, f"{PAGE}/payments", {"amount": "5", "paid_on": "32/13/2026"})
    assert bad_day.status_code == 422 and 'id="error-payment-paid_on"' in bad_day.text


def test_staff_may_write_what_they_learn(http: TestClient, seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    response = _post(http, f"{PAGE}/facts", {"kind": "sensitivity", "text": "Never before 10"})
    assert response.status_code == 200 and "by Sam Staff" in response.text


def test_remember_this_keeps_the_sentence_of_a_message_as_the_facts_quote(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"] = "margaret@holloway.example", "care@shop.example"
    mail["Subject"], mail["Message-ID"] = "Boots", "<wedding-1@example.com>"
    mail["Date"] = "Mon, 23 Nov 2026 14:00:00 +0000"
    mail.set_content("Thanks! My daughter's wedding is on 12 June in Lisbon, so no rush.")
    received = receive(seeded, web_settings, mail.as_bytes(), source="api", now=NOW)
    conversation = received.conversation_id
    page = logged_in.get(f"/inbox/{conversation}").text
    assert 'class="remember-form' in page
    message_id = re.search(r'name="message_id" value="(\d+)"', page)
    assert message_id
    sentence = "My daughter's wedding is on 12 June in Lisbon"
    form = {
        "csrf_token": csrf_from(page),
        "message_id": message_id.group(1),
        "kind": "family",
        "text": "Daughter's wedding in Lisbon",
        "quote": sentence,
        "on_date": "2027-06-12",
    }
    response = logged_in.post(f"/inbox/{conversation}/remember", data=form, headers=HX)
    assert response.status_code == 200 and "Remembered for Margaret Holloway" in response.text
    with seeded() as session:
        fact = session.execute(select(ClientFact).where(ClientFact.quote == sentence)).scalar_one()
        assert fact.source == "conversation" and fact.source_ref == f"message:{message_id.group(1)}"
    bad = logged_in.post(
        f"/inbox/{conversation}/remember", data={**form, "on_date": "soon"}, headers=HX
    )
    assert bad.status_code == 422 and "on_date" in bad.text


def test_a_fact_can_be_kept_when_completing_a_follow_up(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    made = make_followups(seeded, web_settings, now=NOW)
    csrf = csrf_from(logged_in.get("/today").text)
    refused = logged_in.post(
        f"/followups/{made.missed}/complete",
        data={"csrf_token": csrf, "outcome": "Called", "fact_kind": "event", "fact_text": "Move"},
        headers=HX,
    )
    assert refused.status_code == 422 and "needs its date" in refused.text
    with seeded() as session:
        assert session.execute(select(ClientFact).where(ClientFact.text == "Move")).first() is None
    done = logged_in.post(
        f"/followups/{made.missed}/complete",
        data={
            "csrf_token": csrf,
            "outcome": "Called; she is moving house",
            "fact_kind": "event",
            "fact_text": "Moving house",
            "fact_on": "2027-01-15",
        },
        headers=HX,
    )
    assert done.status_code == 200, done.text
    with seeded() as session:
        fact = session.execute(
            select(ClientFact).where(ClientFact.text == "Moving house")
        ).scalar_one()
        assert fact.source == "followup" and fact.source_ref == f"followup:{made.missed}"

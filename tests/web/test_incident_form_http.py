"""The incident form of a coffee roaster's shop: its examples are the shop's, and opened from a
conversation it holds the client's words that complain (their first message, or the one chosen),
not the latest, where they only say when they can bring the grinder in."""

from __future__ import annotations

import dataclasses
import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Message
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.test_inbox_http import arrive, mail

COMPLAINT = "The grinder arrived with a cracked hopper. I need it for my birthday guests by Friday."
LATER = "Thanks for answering. I can bring it in on Saturday."
HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(web_settings: Settings) -> Settings:
    return dataclasses.replace(web_settings, business_kind="shop")


@pytest.fixture
def staff(shop: Settings, seeded: sessionmaker[Session]) -> TestClient:
    client = TestClient(create_app(shop, clock=lambda: NOW), follow_redirects=False)
    assert log_in(client).status_code == 303
    return client


@pytest.fixture
def conversation(shop: Settings, seeded: sessionmaker[Session]) -> int:
    """Margaret complains, then, a day later in the same thread, says when she can come by."""
    first = mail("Broken grinder", "grinder-1@x.example", body=COMPLAINT + "\n")
    found = arrive(seeded, shop, first, minutes_ago=26 * 60)
    second = mail(
        "Re: Broken grinder",
        "grinder-2@x.example",
        body=LATER + "\n",
        reply_to="grinder-1@x.example",
    )
    assert arrive(seeded, shop, second, minutes_ago=60) == found
    return found


def message_ids(store: sessionmaker[Session], conversation: int) -> list[int]:
    with store() as session:
        return list(
            session.execute(
                select(Message.id)
                .where(Message.conversation_id == conversation)
                .order_by(Message.sent_at)
            ).scalars()
        )


def textarea(page: str) -> str:
    start = page.index('id="f-message"')
    return page[page.index(">", start) + 1 : page.index("</textarea>", start)]


def test_a_shops_form_gives_a_shops_examples(staff: TestClient) -> None:
    page = html.unescape(staff.get("/incidents/new").text)
    assert 'placeholder="The grinder arrived with a cracked hopper"' in page
    assert 'placeholder="damaged in transit"' in page
    assert "booking site" not in page and "flight" not in page and "pick-up" not in page


def test_a_shops_restate_step_gives_a_shops_example(staff: TestClient) -> None:
    token = csrf_from(staff.get("/incidents/new").text)
    fields = {"client": "C-0001", "what": "the grinder arrived broken", "cause": "damaged"}
    opened = staff.post("/incidents", data={"csrf_token": token, **fields})
    assert opened.status_code == 303, opened.text
    page = html.unescape(staff.get(opened.headers["location"]).text)
    assert 'placeholder="Your grinder arrived broken, and you need it for your birthday' in page
    assert "flight" not in page


def test_from_a_conversation_the_form_holds_the_first_words_that_complain(
    staff: TestClient, conversation: int
) -> None:
    page = html.unescape(staff.get(f"/incidents/new?conversation={conversation}").text)
    assert textarea(page).strip() == COMPLAINT
    assert 'name="message_time" type="datetime-local" value="2026-11-22T' in page


def test_each_of_the_clients_messages_can_open_an_incident_about_itself(
    staff: TestClient, conversation: int, seeded: sessionmaker[Session]
) -> None:
    page = html.unescape(staff.get(f"/inbox/{conversation}").text)
    for message in message_ids(seeded, conversation):
        assert f'href="/incidents/new?conversation={conversation}&message={message}"' in page


def test_the_message_chosen_fills_the_form_and_a_day_in_passing_sets_no_deadline(
    staff: TestClient, conversation: int, seeded: sessionmaker[Session]
) -> None:
    later = message_ids(seeded, conversation)[-1]
    page = html.unescape(
        staff.get(f"/incidents/new?conversation={conversation}&message={later}").text
    )
    assert textarea(page).strip() == LATER

    token = csrf_from(page)
    fields = {"client": "C-0001", "what": "the grinder arrived broken", "cause": "damaged"}
    passing = staff.post(
        "/incidents/assess",
        data={"csrf_token": token, **fields, "message": LATER, "message_time": "2026-11-23T13:00"},
        headers=HTMX,
    ).text
    deadline = staff.post(
        "/incidents/assess",
        data={
            "csrf_token": token,
            **fields,
            "message": COMPLAINT,
            "message_time": "2026-11-23T13:00",
        },
        headers=HTMX,
    ).text
    assert "deadline" not in html.unescape(passing) and "Saturday" not in passing
    assert "is in" in html.unescape(deadline)  # "the birthday is in 2 days": Friday is a deadline


def test_a_message_not_in_the_conversation_is_not_found(
    staff: TestClient, conversation: int
) -> None:
    assert (
        staff.get(f"/incidents/new?conversation={conversation}&message=999999").status_code == 404
    )


def test_an_incident_opened_from_a_conversation_is_shown_there_and_a_second_is_warned_of(
    staff: TestClient, conversation: int, seeded: sessionmaker[Session]
) -> None:
    form = html.unescape(staff.get(f"/incidents/new?conversation={conversation}").text)
    assert 'id="already-open"' not in form
    client = form.split('name="client"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    fields = {
        "client": client,
        "what": "the grinder arrived with a cracked hopper",
        "cause": "damaged in transit",
        "conversation": str(conversation),
    }
    opened = staff.post("/incidents", data={"csrf_token": csrf_from(form), **fields})
    assert opened.status_code == 303
    incident = opened.headers["location"].rsplit("/", 1)[1]
    thread = html.unescape(staff.get(f"/inbox/{conversation}").text)
    assert f'<a href="/incidents/{incident}">Incident {incident}: the grinder arrived' in thread
    again = html.unescape(staff.get(f"/incidents/new?conversation={conversation}").text)
    assert 'id="already-open"' in again and f'href="/incidents/{incident}"' in again
    # The incident's page answers in the conversation it came from.
    assert f'href="/inbox/{conversation}"' in staff.get(f"/incidents/{incident}").text


def test_an_incident_cannot_claim_another_clients_conversation(
    staff: TestClient, conversation: int
) -> None:
    form = staff.get("/incidents/new").text
    fields = {
        "client": "C-0002",
        "what": "the grinder arrived with a cracked hopper",
        "cause": "damaged in transit",
        "conversation": str(conversation),
    }
    refused = staff.post("/incidents", data={"csrf_token": csrf_from(form), **fields})
    assert refused.status_code == 422
    assert f"conversation {conversation} is not this client" in html.unescape(refused.text).lower()


def test_opened_from_a_conversation_the_assessment_shows_before_anyone_types(
    staff: TestClient, conversation: int
) -> None:
    form = html.unescape(staff.get(f"/incidents/new?conversation={conversation}").text)
    client = form.split('name="client"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    # What the form sends on load: the client and their words, "what went wrong" still empty.
    loaded = staff.post(
        "/incidents/assess",
        data={
            "csrf_token": csrf_from(form),
            "client": client,
            "what": "",
            "message": COMPLAINT,
            "message_time": "2026-11-23T13:00",
            "conversation": str(conversation),
        },
        headers=HTMX,
    ).text
    assert "Name the client and say what went wrong" not in loaded
    assert 'id="assessment" data-tier=' in loaded


def test_the_form_keeps_the_whole_message_in_sight_beside_the_words_taken_from_it(
    staff: TestClient, shop: Settings, seeded: sessionmaker[Session]
) -> None:
    body = (
        "The lid is cracked too.\n\n"
        "El lun, 23 nov 2026 a las 9:00, Roastery (<care@roastery.example>) escribió:\n"
        "> Is the lid all right?\n"
    )
    found = arrive(seeded, shop, mail("Lid", "lid-1@x.example", body=body), minutes_ago=60)
    page = html.unescape(staff.get(f"/incidents/new?conversation={found}").text)
    assert textarea(page).strip() == "The lid is cracked too."
    whole = page[page.index('class="quoted whole-message"') :]
    assert "escribió:\n> Is the lid all right?" in whole


def test_a_message_with_nothing_left_out_shows_no_second_copy(
    staff: TestClient, conversation: int
) -> None:
    page = staff.get(f"/incidents/new?conversation={conversation}").text
    assert "whole-message" not in page

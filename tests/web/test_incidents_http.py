"""Service recovery over HTTP: DESIGN.md's stories 1, 2, 3, 4 and 8 as staff meet them on the
dashboard (the incident form's live assessment, the incident's steps, the reply box's
guardrails), and the board, the outcomes chart's numbers and the systemic-failure alerts.

A car-rental business: Ravi booked through TripDesk (a partner) and writes that he is stranded;
Dan booked through RoadTrips. Clients arrive as an import would leave them; mail arrives as raw
messages through the inbox's real path.
"""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import incidents as actions
from goodwill.domain.audit import Actor
from goodwill.settings import Settings
from goodwill.store.models import Conversation, Incident, Outbox
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.rentals import RAVI_WORDS, rental_business
from tests.web.test_inbox_http import POLICY, arrive, mail, post_form

HTMX = {"HX-Request": "true"}


@pytest.fixture
def web_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "sla.toml").write_text(POLICY, encoding="utf-8")
    return dataclasses.replace(
        settings,
        secret_key="test-signing-key",
        sla=tmp_path / "sla.toml",
        mail={"from_address": "care@rentals.example"},
        business_kind="hospitality",  # car rentals: rooms, cars and taxis are the trade's options
    )


@pytest.fixture
def rental(store: sessionmaker[Session]) -> sessionmaker[Session]:
    with store.begin() as session:
        rental_business(session, now=NOW)
    return store


@pytest.fixture
def http(web_settings: Settings, rental: sessionmaker[Session]) -> TestClient:
    client = TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False)
    assert log_in(client).status_code == 303
    return client


def assess(http: TestClient, **fields: str) -> str:
    token = csrf_from(http.get("/incidents/new").text)
    response = http.post("/incidents/assess", data={"csrf_token": token, **fields}, headers=HTMX)
    assert response.status_code == 200
    return response.text


def tier_of(fragment: str) -> int:
    found = re.search(r'id="assessment" data-tier="(\d)"', fragment)
    assert found, fragment
    return int(found.group(1))


def open_incident(http: TestClient, **fields: str) -> int:
    response = post_form(http, "/incidents/new", "/incidents", fields)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def text(response: Response) -> str:
    return html.unescape(response.text)


# -- story 1 ------------------------------------------------------------------------------------


def test_story_1_stranded_by_a_partner_we_own_it_and_offer_a_car(
    http: TestClient, rental: sessionmaker[Session], web_settings: Settings
) -> None:
    conversation = arrive(
        rental,
        web_settings,
        mail(
            "No car at the address",
            "ravi-1@example.com",
            body=RAVI_WORDS + "\n",
            sender="Ravi Patel <ravi@example.com>",
        ),
        minutes_ago=5,
    )
    form = text(http.get(f"/incidents/new?conversation={conversation}"))
    assert 'value="R-1"' in form and "there is no car here" in form  # his own words, filled in

    preview = html.unescape(
        assess(
            http,
            client="R-1",
            what="the travel site gave a wrong pick-up address for the rental car",
            message=RAVI_WORDS,
            message_time="2026-11-23T14:55",
            partner="TripDesk",
            cause="wrong address",
        )
    )
    assert tier_of(preview) == 3
    assert "the flight departs in" in preview and "treated as ours" in preview
    assert 'data-option="find the client a car"' in preview
    assert "costs nothing" in preview
    with rental() as session:  # the preview stores nothing
        assert session.execute(select(Incident)).first() is None

    incident_id = open_incident(
        http,
        client="R-1",
        what="the travel site gave a wrong pick-up address for the rental car",
        message=RAVI_WORDS,
        message_time="2026-11-23T14:55",
        partner="TripDesk",
        cause="wrong address",
    )
    page = text(http.get(f"/incidents/{incident_id}"))
    assert "made by TripDesk, acting for us: ours to put right" in page
    assert "by Olive Owner ·" in page and "by owner@example.com" not in page  # a name, not a login
    assert 'data-tier="3"' in page and f'href="/inbox/{conversation}"' in page

    # The reply that hides behind the partner is stopped; the one that owns it goes out.
    thread = f"/inbox/{conversation}"
    shifting = "Dear Ravi,\n\nWe are not affiliated with TripDesk, please contact them.\n\nOlive"
    refused = post_form(http, thread, f"{thread}/reply", {"text": shifting})
    assert refused.status_code == 422
    assert 'data-code="deflection"' in refused.text
    owning = (
        "Dear Ravi,\n\nThe address you were given was wrong, and that is ours to put right. "
        "A car will be brought to you within the hour; I will call you at 4pm to confirm.\n\n"
        "Olive"
    )
    sent = post_form(http, thread, f"{thread}/reply", {"text": owning})
    assert sent.status_code == 303
    with rental() as session:
        assert session.execute(select(Outbox.id).where(Outbox.kind == "email")).first()

    # The steps, in order, to the end.
    url = f"/incidents/{incident_id}"
    for step, note in (("listen", ""), ("own", "apologised for the address")):
        assert post_form(http, url, f"{url}/step", {"step": step, "note": note}).status_code == 303
    restated = "You were sent to a wrong address, have no car, and fly at 3pm tomorrow."
    post_form(http, url, f"{url}/step", {"step": "restate", "note": restated})
    assert post_form(http, url, f"{url}/confirm", {}).status_code == 303
    post_form(http, url, f"{url}/step", {"step": "offer", "note": ""})
    done = post_form(
        http,
        url,
        f"{url}/resolve",
        {"outcome": "A car was brought to the hotel", "option": "find the client a car"},
    )
    assert done.status_code == 303
    page = text(http.get(url))
    assert "Outcome:</strong> A car was brought to the hotel (find the client a car)" in page
    closing = post_form(http, url, f"{url}/close", {})
    assert closing.status_code == 409 and "follow_up" in closing.text  # the follow-up is to come
    closed = post_form(http, url, f"{url}/close", {"reason": "the client flew home"})
    assert closed.status_code == 303
    assert "with steps missing: the client flew home" in text(http.get(url))


# -- story 2 ------------------------------------------------------------------------------------


def test_story_2_a_reply_meant_for_dan_at_another_site_never_leaves(
    http: TestClient, rental: sessionmaker[Session], web_settings: Settings
) -> None:
    conversation = arrive(
        rental,
        web_settings,
        mail("Booking", "ravi-2@example.com", sender="Ravi Patel <ravi@example.com>"),
        minutes_ago=5,
    )
    thread = f"/inbox/{conversation}"
    meant_for_dan = (
        "Dear Dan,\n\nYour RoadTrips booking is confirmed; we will bring the car at 9am "
        "tomorrow.\n\nOlive"
    )
    live = http.post(
        f"{thread}/check",
        data={"text": meant_for_dan, "csrf_token": csrf_from(http.get(thread).text)},
        headers=HTMX,
    )
    assert 'data-code="other_client_name"' in live.text and 'data-code="wrong_partner"' in live.text
    refused = post_form(
        http, thread, f"{thread}/reply", {"text": meant_for_dan, "override_reason": "send it"}
    )
    assert refused.status_code == 422  # a block is not overridden by a reason
    with rental() as session:
        assert session.execute(select(Outbox.id).where(Outbox.kind == "email")).first() is None
        status = session.get(Conversation, conversation)
        assert status is not None and status.status == "open"


# -- stories 3, 4 and 8: the context decides the tier ------------------------------------------


def test_story_3_the_same_spill_is_a_rescue_before_an_interview(http: TestClient) -> None:
    spill = "a flight attendant spilled tea on the passenger's suit"
    interview = html.unescape(
        assess(
            http,
            client="P-1",
            what=spill,
            message="I'm meeting an interviewer straight from the airport at 6pm today.",
            message_time="2026-11-23T15:00",
            cause="spill",
        )
    )
    home = html.unescape(
        assess(
            http,
            client="P-2",
            what=spill,
            message="No harm done, I'm going home, we land at midnight.",
            message_time="2026-11-23T15:00",
            cause="spill",
        )
    )
    assert tier_of(interview) == 3 and tier_of(home) < 3
    assert "an interview is at stake" in interview and "an interview is at stake" not in home
    assert 'data-option="make the client presentable now"' in interview


def test_story_4_a_lost_room_on_a_full_weekend_is_a_rescue_with_free_options(
    http: TestClient,
) -> None:
    preview = html.unescape(
        assess(
            http,
            client="H-1",
            what="the room the couple paid in advance was given away",
            message=(
                "We paid in advance and now there is no room for us tonight. The whole town "
                "is fully booked this weekend and we planned a special evening."
            ),
            deadline="2026-11-23T23:00",
            cost="154",
            cause="room given away",
        )
    )
    assert tier_of(preview) == 3 and "needs the owner's authority" in preview
    assert "a special evening is at stake" in preview and "fully booked" in preview
    assert 'data-option="find the client a room elsewhere"' in preview
    assert "costs nothing" in preview


def test_story_8_out_of_a_size_points_to_a_competitor_and_remembers_twenty_years(
    http: TestClient,
) -> None:
    preview = html.unescape(
        assess(http, client="S-1", what="size 44 is out of stock", cause="out of stock")
    )
    assert "a client for 20 years" in preview
    competitor = re.search(
        r'data-option="refer to a competitor who has it in stock">.*?</li>', preview, re.DOTALL
    )
    assert competitor and "costs nothing" in competitor.group(0)
    assert 'data-option="order and ship"' in preview


# -- the board, the outcomes, the alerts -------------------------------------------------------


def test_the_board_groups_open_incidents_by_tier_and_filters_by_next_step(
    http: TestClient,
) -> None:
    rescue = open_incident(
        http,
        client="H-1",
        what="the room the couple paid in advance was given away",
        message="The whole town is fully booked this weekend and we planned a special evening.",
        deadline="2026-11-23T23:00",
        cost="154",
        cause="room given away",
    )
    small = open_incident(http, client="S-1", what="a lace was missing", cause="packing")
    board = http.get("/incidents").text
    column_3 = board.split('data-tier="3"')[1].split("</section>")[0]
    column_1 = board.split('data-tier="1"')[1].split("</section>")[0]
    assert f'data-incident="{rescue}"' in column_3 and f'data-incident="{small}"' in column_1
    assert "deadline in 8 h" in column_3
    url = f"/incidents/{small}"
    post_form(http, url, f"{url}/step", {"step": "listen"})
    listening = http.get("/incidents?step=listen").text
    assert f'data-incident="{rescue}"' in listening and f'data-incident="{small}"' not in listening
    restating = http.get("/incidents?step=restate").text
    assert f'data-incident="{small}"' in restating


def test_the_outcomes_table_counts_how_recoveries_ended(
    http: TestClient, rental: sessionmaker[Session], web_settings: Settings
) -> None:
    assert "No incidents in the last twelve months." in http.get("/incidents").text
    first = open_incident(http, client="S-1", what="a lace was missing", cause="packing")
    open_incident(http, client="H-1", what="the towel was missing", cause="housekeeping")
    with rental.begin() as session:
        actions.resolve(
            session,
            web_settings,
            first,
            outcome="sent a lace",
            by="owner@example.com",
            now=NOW,
            actor=Actor.cli("tests"),
        )
    board = http.get("/incidents").text
    row = board.split('<th scope="row">2026-11</th>')[1].split("</tr>")[0]
    cells = dict(re.findall(r'data-outcome="(\w+)">(\d+)<', row))
    assert cells == {"recovered": "0", "follow_up_due": "1", "closed_short": "0", "open": "1"}
    assert "0</strong> of 1 clients whose incident was resolved" in board


def test_a_third_incident_of_one_cause_shows_a_systemic_alert(http: TestClient) -> None:
    for client in ("R-1", "R-2", "H-1"):
        open_incident(http, client=client, what="the car was not cleaned", cause="Dirty car")
    board = html.unescape(http.get("/incidents").text)
    alert = board.split('id="systemic-alerts"')[1].split("</section>")[0]
    assert "“dirty car”: 3 incidents in 30 days" in re.sub(r"<[^>]+>", "", alert)
    assert alert.count('href="/incidents/') == 3


def test_an_option_needing_the_owner_is_the_owners_to_grant(
    web_settings: Settings, rental: sessionmaker[Session]
) -> None:
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as owner:
        assert log_in(owner).status_code == 303
        incident_id = open_incident(
            owner,
            client="H-1",
            what="the room the couple paid in advance was given away",
            message="The town is fully booked and we planned a special evening.",
            deadline="2026-11-23T23:00",
            cost="154",
            cause="room given away",
        )
    with rental() as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        owners = [o["name"] for o in found.options if o["authority"] == "owner"]
    assert owners
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as sam:
        assert log_in(sam, email="sam@example.com").status_code == 303
        url = f"/incidents/{incident_id}"
        refused = post_form(sam, url, f"{url}/resolve", {"outcome": "done", "option": owners[0]})
        assert refused.status_code == 422 and "needs the owner" in html.unescape(refused.text)
        with rental() as session:
            still = session.get(Incident, incident_id)
            assert still is not None and still.status == "open"


def test_bad_form_input_is_named_and_nothing_is_stored(
    http: TestClient, rental: sessionmaker[Session]
) -> None:
    response = post_form(
        http,
        "/incidents/new",
        "/incidents",
        {"client": "R-1", "what": "wrong address", "cause": "wrong address", "cost": "lots"},
    )
    assert response.status_code == 422 and 'id="form-error"' in response.text
    assert "--cost" in response.text or "cost" in response.text
    assert 'value="wrong address"' in response.text  # what was typed is kept
    missing = post_form(
        http, "/incidents/new", "/incidents", {"client": "NOPE", "what": "x", "cause": "y"}
    )
    assert missing.status_code == 422 and "NOPE" in html.unescape(missing.text)
    with rental() as session:
        assert session.execute(select(Incident)).first() is None
    assert http.get("/incidents/999").status_code == 404


def test_the_client_page_lists_their_incidents_and_opens_one_for_them(http: TestClient) -> None:
    assert "No mistakes on record with this client." in http.get("/clients/S-1").text
    made = open_incident(http, client="S-1", what="size 44 was out of stock", cause="stock")
    page = http.get("/clients/S-1").text
    assert f'data-incident="{made}"' in page and "size 44 was out of stock" in page
    assert 'href="/incidents/new?client=S-1"' in page
    assert 'value="S-1"' in http.get("/incidents/new?client=S-1").text

"""Service recovery in headless Chromium: DESIGN.md's stories 1, 2 and 3 as staff live them.

1. Ravi, stranded by a partner's wrong address, writes in; staff open an incident from his
   conversation (his words filled in), see the rescue tier and the car among the options, and a
   reply that hides behind the partner is flagged as they type.
2. A canned reply meant for Dan at another booking site is blocked before it leaves.
3. The same tea spill rates a rescue before an interview and less on the way home, live.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import incidents as actions
from goodwill.actions.inbox import receive
from goodwill.domain.audit import Actor
from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, repository_root, serve
from tests.conftest import NOW
from tests.web.rentals import RAVI_WORDS, rental_business

pytestmark = pytest.mark.browser

POLICY = """
[[policy]]
name = "standard"
calendar = "24/7"
first_response = "1h"
next_response = "1h"
"""


def ravi_writes() -> bytes:
    message = EmailMessage()
    message["From"] = "Ravi Patel <ravi@example.com>"
    message["To"] = "care@rentals.example"
    message["Subject"] = "No car at the address"
    message["Message-ID"] = "<ravi-browser@example.com>"
    message.set_content(RAVI_WORDS + "\n")
    return message.as_bytes()


def seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The rental business, Ravi's message, and a few incidents of the past weeks."""
    with store.begin() as session:
        rental_business(session, now=NOW - timedelta(days=60))
    receive(store, settings, ravi_writes(), source="smtp", now=NOW - timedelta(minutes=5))
    owner = "owner@example.com"
    for days, client, what, cause in (
        (40, "S-1", "size 44 was out of stock", "out of stock"),
        (33, "R-2", "the car was not cleaned", "dirty car"),
        (20, "H-1", "the car was not cleaned", "dirty car"),
        (12, "S-1", "the car was not cleaned", "dirty car"),
    ):
        at = NOW - timedelta(days=days)
        with store.begin() as session:
            made = actions.open_incident(
                session,
                settings,
                client_ref=client,
                what=what,
                cause=cause,
                by=owner,
                actor=Actor.cli("tests"),
                now=at,
            )
            for step in ("listen", "own", "offer"):
                actions.record_step(
                    session,
                    made,
                    step,
                    by=owner,
                    actor=Actor.cli("tests"),
                    now=at + timedelta(hours=1),
                )
            if days > 15:
                actions.resolve(
                    session,
                    settings,
                    made,
                    outcome="put right",
                    by=owner,
                    actor=Actor.cli("tests"),
                    now=at + timedelta(hours=2),
                )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live-incidents")
    (folder / "sla.toml").write_text(POLICY, encoding="utf-8")

    yield from serve(
        tmp_path_factory,
        seed,
        adjust=lambda settings: dataclasses.replace(
            settings,
            sla=folder / "sla.toml",
            mail={"from_address": "care@rentals.example"},
            business_kind="hospitality",
        ),
    )


def open_ravis_conversation(page: Any) -> None:
    log_in(page, "/inbox")
    page.get_by_role("link", name="No car at the address").click()
    page.wait_for_url("**/inbox/*")


def test_story_1_an_incident_from_ravis_words_a_rescue_and_the_deflection_flagged(
    page: Any,
) -> None:
    open_ravis_conversation(page)
    conversation_url = page.url
    page.click("#open-incident-link")
    page.wait_for_url("**/incidents/new?conversation=*")
    expect(page.locator("#f-client")).to_have_value("R-1")
    expect(page.locator("#f-message")).to_have_value(RAVI_WORDS)

    page.fill("#f-what", "the travel site gave a wrong pick-up address for the rental car")
    page.fill("#f-partner", "TripDesk")
    page.fill("#f-cause", "wrong address")
    assessment = page.locator("#assessment")
    expect(assessment).to_have_attribute("data-tier", "3")
    expect(assessment).to_contain_text("treated as ours")
    expect(assessment.locator('[data-option="find the client a car"]')).to_be_visible()
    expect(assessment.locator(".badge.free").first).to_be_visible()

    page.click("#open-incident")
    page.wait_for_url("**/incidents/*")
    expect(page.locator("#assessment")).to_have_attribute("data-tier", "3")
    expect(page.locator(".page-head")).to_contain_text("made by TripDesk, acting for us")
    expect(page.locator('.step[data-step="listen"]')).to_have_class("step step-next")

    page.click("#reply-link")
    page.wait_for_url(conversation_url)
    page.locator("#reply-text").press_sequentially(
        "Dear Ravi, we are not affiliated with TripDesk, please contact them."
    )
    expect(page.locator('#reply-findings [data-code="deflection"]').first).to_be_visible()
    page.fill(
        "#reply-text",
        "Dear Ravi, the address was wrong and that is ours to put right. A car will be with "
        "you within the hour; I will call you at 4pm to confirm.",
    )
    page.locator("#reply-text").press("End")
    expect(page.locator("#findings-clear")).to_be_visible()
    page.click("#send-reply")
    page.wait_for_load_state("load")
    expect(page.locator(".flash")).to_contain_text("Reply queued")

    page.goto("/incidents")
    expect(page.locator('.board-column[data-tier="3"] .incident-card')).to_contain_text(
        "Ravi Patel"
    )
    expect(page.locator("#systemic-alerts")).to_contain_text("dirty car")
    expect(page.locator("#outcomes svg")).to_be_visible()
    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-incidents.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_story_2_a_reply_meant_for_dan_is_blocked_before_it_leaves(page: Any) -> None:
    open_ravis_conversation(page)
    page.locator("#reply-text").press_sequentially(
        "Dear Dan, your RoadTrips booking is confirmed; the car is yours at 9am tomorrow."
    )
    findings = page.locator("#reply-findings")
    expect(findings.locator('[data-code="other_client_name"]')).to_be_visible()
    expect(findings.locator('[data-code="wrong_partner"]')).to_be_visible()
    page.click("#send-reply")
    page.wait_for_load_state("load")
    expect(page.locator("#reply-error")).to_be_visible()
    refused = [e for e in page.console_errors if "status of 422" in e]
    assert len(refused) == 1  # the refused send answers 422, which the browser logs
    page.console_errors.remove(refused[0])
    expect(page.locator(".message-out", has_text="RoadTrips")).to_have_count(0)


def test_story_3_the_tier_follows_what_is_at_stake_as_staff_type(page: Any) -> None:
    log_in(page, "/incidents/new")
    page.fill("#f-client", "P-1")
    page.fill("#f-what", "a flight attendant spilled tea on the passenger's suit")
    page.fill("#f-cause", "spill")
    page.fill("#f-message-time", "2026-11-23T15:00")
    page.fill("#f-message", "I'm meeting an interviewer straight from the airport at 6pm today.")
    assessment = page.locator("#assessment")
    expect(assessment).to_have_attribute("data-tier", "3")
    expect(assessment).to_contain_text("an interview is at stake")
    expect(assessment.locator('[data-option="make the client presentable now"]')).to_be_visible()

    page.fill("#f-message", "No harm done, I'm going home, we land at midnight.")
    expect(assessment).not_to_have_attribute("data-tier", "3")
    expect(assessment).not_to_contain_text("an interview is at stake")

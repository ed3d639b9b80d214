"""The personal feedback form over HTTP (no login, no cookie, one answer per link, 410 when used
or expired, 404 when unknown, nothing of the client shown) and answers on the client page."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import ask, question
from goodwill.settings import Settings
from goodwill.store.feedback import list_answers
from goodwill.store.models import Client
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, LONG_CLIENT_NAME


@pytest.fixture
def mailing(web_settings: Settings) -> Settings:
    return dataclasses.replace(
        web_settings,
        mail={"from_address": "care@shop.example"},
        public_url="https://care.shop.example",
        business_name="Holloway & Daughters",
    )


@pytest.fixture
def site(mailing: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(
        create_app(mailing, clock=lambda: NOW),
        base_url="https://testserver",  # public_url is https, so cookies are Secure
        follow_redirects=False,
    ) as client:
        yield client


def link(store: sessionmaker[Session], settings: Settings, key: str, *, days_ago: int = 0) -> str:
    """A personal link for the long-standing client, asked ``days_ago`` days before NOW."""
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        made = ask(
            session,
            settings,
            client,
            question(settings, "miss-us"),
            key=key,
            created_by="test",
            now=NOW - timedelta(days=days_ago),
        )
        assert made is not None
        return "/feedback/" + made.link.rsplit("/", 1)[1]


def test_the_form_shows_the_question_and_the_business_and_nothing_of_the_client(
    site: TestClient, seeded: sessionmaker[Session], mailing: Settings
) -> None:
    page = site.get(link(seeded, mailing, "k"))
    assert page.status_code == 200
    assert "What would you miss if we were gone?" in page.text
    assert "Holloway &amp; Daughters" in page.text
    assert LONG_CLIENT_NAME not in page.text and "Margaret" not in page.text
    assert LONG_CLIENT not in page.text and "margaret@" not in page.text
    assert "set-cookie" not in page.headers  # no session for an anonymous client
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]


def test_an_answer_is_kept_once_and_a_reused_link_answers_410(
    site: TestClient, seeded: sessionmaker[Session], mailing: Settings
) -> None:
    path = link(seeded, mailing, "k")
    thanks = site.post(path, data={"answer": "The people, and never a late delivery."})
    assert thanks.status_code == 200 and "Thank you" in thanks.text
    again = site.post(path, data={"answer": "Twice?"})
    assert again.status_code == 410 and "already been answered" in again.text
    reopened = site.get(path)
    assert reopened.status_code == 410 and "already been answered" in reopened.text
    with seeded() as session:
        [kept] = list_answers(session)
    assert kept.answer == "The people, and never a late delivery."
    assert (kept.client, kept.channel, kept.recorded_by) == (LONG_CLIENT, "form", "client")
    assert set(kept.theme_keys) == {"people", "timeliness"}


def test_an_expired_link_answers_410_and_an_unknown_one_404(
    site: TestClient, seeded: sessionmaker[Session], mailing: Settings
) -> None:
    old = link(seeded, mailing, "old", days_ago=31)
    for response in (site.get(old), site.post(old, data={"answer": "Hello"})):
        assert response.status_code == 410 and "expired" in response.text
    assert site.get("/feedback/nothing-here").status_code == 404
    assert "not known" in site.post("/feedback/nothing-here", data={"answer": "x"}).text
    with seeded() as session:
        assert list_answers(session) == []


def test_an_empty_answer_is_asked_for_again_and_the_link_stays_usable(
    site: TestClient, seeded: sessionmaker[Session], mailing: Settings
) -> None:
    path = link(seeded, mailing, "k")
    empty = site.post(path, data={"answer": "   "})
    assert empty.status_code == 422 and "a few words" in empty.text
    assert site.post(path, data={"answer": "Quick answers."}).status_code == 200


def test_staff_keep_an_answer_from_a_call_and_the_client_page_shows_what_they_value(
    site: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert log_in(site).status_code == 303
    page = site.get(f"/clients/{LONG_CLIENT}")
    assert "No answers yet" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "question": "What would you miss if we were gone?",
        "answer": "Being on time, every single time. And Tom at the counter.",
        "channel": "call",
        "on": "2026-11-20",
    }
    kept = site.post(f"/clients/{LONG_CLIENT}/feedback", data=form)
    assert kept.status_code == 303
    page = site.get(f"/clients/{LONG_CLIENT}")
    assert "Answer kept." in page.text
    assert "Being on time, every single time. And Tom at the counter." in page.text
    assert "What they value:" in page.text and "Timeliness" in page.text
    assert "2026-11-20" in page.text and "years then" in page.text
    forged = site.post(f"/clients/{LONG_CLIENT}/feedback", data={**form, "csrf_token": "x"})
    assert forged.status_code == 403

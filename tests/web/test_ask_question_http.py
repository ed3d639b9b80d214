"""Asking a client a question from their page: by mail as `goodwill feedback ask` does, or a link
to hand over in person; refused for an archived client, and by mail for one who said no to mail."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Client, FeedbackRequest, Outbox
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT

QUESTION = "What would you miss if we were gone?"


def _site(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    ) as client:
        assert log_in(client).status_code == 303
        yield client


@pytest.fixture
def mailing(web_settings: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = dataclasses.replace(
        web_settings,
        mail={"from_address": "care@shop.example"},
        public_url="https://care.shop.example",
        business_name="Holloway & Daughters",
    )
    yield from _site(settings)


@pytest.fixture
def unmailed(web_settings: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from _site(web_settings)


def _ask(site: TestClient, how: str = "mail", ref: str = LONG_CLIENT) -> tuple[int, str]:
    page = site.get(f"/clients/{ref}")
    assert 'id="ask-question"' in page.text
    form = {"csrf_token": csrf_from(page.text), "question": "miss-us", "how": how}
    done = site.post(f"/clients/{ref}/ask", data=form)
    return done.status_code, done.text


def _change(store: sessionmaker[Session], **values: object) -> None:
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        for name, value in values.items():
            setattr(client, name, value)


def _requests(store: sessionmaker[Session]) -> list[FeedbackRequest]:
    with store() as session:
        return list(session.execute(select(FeedbackRequest)).scalars())


def test_with_mail_set_up_the_question_is_mailed_and_the_asking_is_audited(
    mailing: TestClient, seeded: sessionmaker[Session]
) -> None:
    status, text = _ask(mailing)
    assert status == 200
    assert "A mail with their personal link is on its way to margaret@" in text
    assert QUESTION in text and "/feedback/" not in text
    with seeded() as session:
        [mail] = session.execute(select(Outbox)).scalars()
        [entry] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "feedback.asked")
        ).scalars()
    assert mail.recipients[0].startswith("margaret@") and mail.status == "queued"
    assert b"https://care.shop.example/feedback/" in mail.body
    assert entry.actor_kind == "user" and entry.actor_label == "owner@example.com"
    assert entry.after == {"question": "miss-us", "mailed": True}
    [made] = _requests(seeded)
    assert (made.question_key, made.created_by) == ("miss-us", "owner@example.com")


def test_without_mail_the_page_gives_the_link_to_hand_over_and_it_opens_the_form(
    unmailed: TestClient, seeded: sessionmaker[Session]
) -> None:
    page = unmailed.get(f"/clients/{LONG_CLIENT}")
    assert "Not by mail: mail.from_address is not set" in page.text
    status, text = _ask(unmailed, how="in_person")
    assert status == 200
    assert "Hand this link over in person" in text and "Not mailed" not in text
    link = text.split('id="ask-link" class="link-copy" readonly rows="3">')[1].split("<")[0]
    assert link.startswith("https://testserver/feedback/")
    form = unmailed.get(link.removeprefix("https://testserver"))
    assert form.status_code == 200 and QUESTION in form.text
    with seeded() as session:
        assert list(session.execute(select(Outbox)).scalars()) == []
        [entry] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "feedback.asked")
        ).scalars()
    assert entry.after == {"question": "miss-us", "mailed": False}


def test_mail_that_cannot_leave_becomes_a_link_to_hand_over(
    unmailed: TestClient, seeded: sessionmaker[Session]
) -> None:
    status, text = _ask(unmailed, how="mail")  # a form from before the settings changed
    assert status == 200
    assert "Not mailed (mail.from_address is not set)" in text


def test_with_mail_set_up_the_link_can_still_be_handed_over_in_person(
    mailing: TestClient, seeded: sessionmaker[Session]
) -> None:
    status, text = _ask(mailing, how="in_person")
    assert status == 200 and 'rows="3">https://care.shop.example/feedback/' in text
    with seeded() as session:
        assert list(session.execute(select(Outbox)).scalars()) == []


def test_an_archived_client_is_not_asked(
    mailing: TestClient, seeded: sessionmaker[Session]
) -> None:
    page = mailing.get(f"/clients/{LONG_CLIENT}")
    _change(seeded, archived_at=NOW)
    form = {"csrf_token": csrf_from(page.text), "question": "miss-us", "how": "in_person"}
    refused = mailing.post(f"/clients/{LONG_CLIENT}/ask", data=form)
    assert refused.status_code == 422
    assert "is archived: restore them before asking them anything" in refused.text
    assert _requests(seeded) == []
    assert "Archived clients are not asked anything" in mailing.get(f"/clients/{LONG_CLIENT}").text


def test_a_client_who_said_no_to_mail_is_asked_only_in_person(
    mailing: TestClient, seeded: sessionmaker[Session]
) -> None:
    _change(seeded, marketing_consent=False, consent_at=NOW)
    status, text = _ask(mailing, how="mail")
    assert status == 422
    assert "said no to mail from us on 2026-11-23: hand the question over in person" in text
    assert _requests(seeded) == []
    status, text = _ask(mailing, how="in_person")
    assert status == 200 and "Hand this link over in person" in text


def test_an_unknown_question_and_a_forged_form_are_refused(
    mailing: TestClient, seeded: sessionmaker[Session]
) -> None:
    page = mailing.get(f"/clients/{LONG_CLIENT}")
    form = {"csrf_token": csrf_from(page.text), "question": "nope", "how": "mail"}
    unknown = mailing.post(f"/clients/{LONG_CLIENT}/ask", data=form)
    assert unknown.status_code == 422 and "no question with key" in unknown.text
    forged = mailing.post(f"/clients/{LONG_CLIENT}/ask", data={**form, "csrf_token": "x"})
    assert forged.status_code == 403
    assert _requests(seeded) == []

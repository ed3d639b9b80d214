"""The owner's weekly digest: queued once per ISO week after its hour in the business's zone."""

from __future__ import annotations

import dataclasses
import email
import threading
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.digest import slot, weekly_digest
from goodwill.settings import Settings
from goodwill.store.models import Outbox
from tests.store.insights_data import ZONE, seed, utc
from tests.web.sample import staff_user
from tests.web.touchpoints import run_engine


@pytest.fixture
def digest_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        timezone=ZONE,
        mail={"from_address": "shop@example.com"},
        digest={"enabled": True, "weekday": "friday", "hour": 8, "to": []},
    )


@pytest.fixture
def business(store: sessionmaker[Session]) -> sessionmaker[Session]:
    with store.begin() as session:
        staff_user(session, now=utc(2026, 1, 1))
        staff_user(session, email="sam@example.com", role="staff", now=utc(2026, 1, 1))
        seed(session)
    return store


def _rows(store: sessionmaker[Session]) -> list[Outbox]:
    with store() as session:
        return list(session.execute(select(Outbox).order_by(Outbox.id)).scalars())


def test_the_digest_waits_for_its_hour_then_goes_once_to_the_owner(
    business: sessionmaker[Session], digest_settings: Settings
) -> None:
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 27, 6, 59)) == 0
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 27, 7, 0)) == 1  # 08:00 CET
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 27, 9)) == 0
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 29, 22)) == 0
    [row] = _rows(business)
    assert row.key == "digest:2026-W48:owner@example.com"
    assert row.recipients == ["owner@example.com"] and row.status == "queued"
    mail = email.message_from_bytes(row.body)
    assert mail["Subject"].startswith("Your week: 16 Nov")
    body = mail.get_payload(decode=True).decode()
    assert "What changed" in body and "Who is at risk" in body and "What is overdue" in body
    # The next week has its own digest.
    assert weekly_digest(business, digest_settings, now=utc(2026, 12, 4, 7)) == 1
    assert len(_rows(business)) == 2


def test_a_worker_that_was_down_at_the_hour_catches_up_later_that_week(
    business: sessionmaker[Session], digest_settings: Settings
) -> None:
    # Down all Friday; the first pass is on Sunday evening, the last day of the ISO week.
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 29, 21)) == 1
    # Monday: a new week, whose Friday has not come.
    assert weekly_digest(business, digest_settings, now=utc(2026, 11, 30, 7)) == 0
    assert [r.key for r in _rows(business)] == ["digest:2026-W48:owner@example.com"]


def test_the_hour_is_local_on_both_sides_of_the_end_of_summer_time(
    digest_settings: Settings,
) -> None:
    assert slot(digest_settings, utc(2026, 10, 21, 12)) == (utc(2026, 10, 23, 6), "2026-W43")
    assert slot(digest_settings, utc(2026, 10, 28, 12)) == (utc(2026, 10, 30, 7), "2026-W44")
    # Sunday 25 October (the change itself) still belongs to the week of 19 October.
    assert slot(digest_settings, utc(2026, 10, 25, 12))[1] == "2026-W43"
    spring = dataclasses.replace(
        digest_settings, digest={**digest_settings.digest, "weekday": "sunday", "hour": 2}
    )
    # 02:00 does not exist on 29 March 2026 in Amsterdam: the slot is the first instant after.
    at, week = slot(spring, utc(2026, 3, 27, 12))
    assert week == "2026-W13" and at in (utc(2026, 3, 29, 1), utc(2026, 3, 29, 0))


def test_two_workers_at_once_queue_one_digest(
    business: sessionmaker[Session], digest_settings: Settings
) -> None:
    now = utc(2026, 11, 27, 8)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(weekly_digest(business, digest_settings, now=now))
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(_rows(business)) == 1


def test_the_engine_pass_queues_the_digest_once_and_not_when_disabled(
    business: sessionmaker[Session], digest_settings: Settings
) -> None:
    off = dataclasses.replace(digest_settings, digest={**digest_settings.digest, "enabled": False})
    run_engine(business, off, now=utc(2026, 11, 27, 9))
    assert [r for r in _rows(business) if r.key.startswith("digest:")] == []
    for hour in (9, 10):
        run_engine(
            business,
            digest_settings,
            now=datetime(2026, 11, 27, hour, tzinfo=utc(2026, 1, 1).tzinfo),
        )
    assert [r.key for r in _rows(business) if r.key.startswith("digest:")] == [
        "digest:2026-W48:owner@example.com"
    ]


def test_configured_recipients_replace_the_owner(
    business: sessionmaker[Session], digest_settings: Settings
) -> None:
    to = dataclasses.replace(
        digest_settings, digest={**digest_settings.digest, "to": ["a@example.com", "b@example.com"]}
    )
    assert weekly_digest(business, to, now=utc(2026, 11, 27, 8)) == 2
    assert sorted(r.recipients[0] for r in _rows(business)) == ["a@example.com", "b@example.com"]

"""Click tracking over HTTP: a tracked link redirects at once and a person's click is a touch
point; scanners, prefetches, repeats and forged tokens record nothing; replies carry tracked
links only while tracking is on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.mail.tracked_links import ClickSigner
from goodwill.settings import Settings
from goodwill.store.models import Client, Event, Message, Outbox
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.sample import LONG_CLIENT
from tests.web.test_inbox_api import raw

PUBLIC = "https://care.example.com"
SHOP_URL = "https://shop.example/descaler?size=1l"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"
MAIL = "reply:abc@shop.example"


@pytest.fixture
def tracking(web_settings: Settings) -> Settings:
    return dataclasses.replace(
        web_settings,
        public_url=PUBLIC,
        tracking={"clicks": True, "min_seconds": 30},
        mail={"from_address": "care@shop.example"},
    )


@pytest.fixture
def client_id(seeded: sessionmaker[Session]) -> int:
    with seeded.begin() as session:
        found = session.execute(select(Client.id).where(Client.external_id == LONG_CLIENT))
        return found.scalar_one()


def sent_mail(store: sessionmaker[Session], *, at: datetime, key: str = MAIL) -> int:
    """An outbox row for a mail delivered at ``at`` (the redirect reads its ``sent_at``)."""
    with store.begin() as session:
        row = Outbox(
            key=key,
            kind="email",
            recipients=["margaret@example.com"],
            body=b"",
            status="sent",
            attempts=1,
            next_attempt_at=at,
            created_at=at,
            sent_at=at,
        )
        session.add(row)
        session.flush()
        return row.id


def _app(settings: Settings, at: list[datetime]) -> Iterator[TestClient]:
    app = create_app(settings, clock=lambda: at[0])
    with TestClient(app, follow_redirects=False) as http:
        yield http


def _path(settings: Settings, client_id: int, url: str = SHOP_URL) -> str:
    tracked = ClickSigner(str(settings.secret_key), PUBLIC)(client_id, url, MAIL)
    assert tracked.startswith(PUBLIC + "/click/")
    return tracked.removeprefix(PUBLIC)


def _clicks(store: sessionmaker[Session]) -> list[Event]:
    with store() as session:
        query = select(Event).where(Event.type == "email.link_clicked").order_by(Event.id)
        return list(session.execute(query).scalars())


def test_a_click_records_the_touch_point_and_redirects_to_the_link(
    tracking: Settings, seeded: sessionmaker[Session], client_id: int
) -> None:
    outbox_id = sent_mail(seeded, at=NOW - timedelta(hours=2))
    for http in _app(tracking, [NOW]):
        response = http.get(_path(tracking, client_id), headers={"User-Agent": BROWSER})
        assert response.status_code == 303
        assert response.headers["location"] == SHOP_URL
        assert response.headers["referrer-policy"] == "no-referrer"
    (event,) = _clicks(seeded)
    assert event.client_id == client_id and event.source == "click"
    assert event.payload == {"url": SHOP_URL, "mail": MAIL, "outbox_id": outbox_id}


def test_a_second_click_the_same_day_records_once_and_the_next_day_again(
    tracking: Settings, seeded: sessionmaker[Session], client_id: int
) -> None:
    sent_mail(seeded, at=NOW - timedelta(hours=2))
    clock = [NOW]
    for http in _app(tracking, clock):
        path = _path(tracking, client_id)
        for _ in range(2):
            assert http.get(path, headers={"User-Agent": BROWSER}).status_code == 303
        clock[0] = NOW + timedelta(days=1)
        assert http.get(path, headers={"User-Agent": BROWSER}).status_code == 303
    assert len(_clicks(seeded)) == 2


@pytest.mark.parametrize(
    ("method", "agent", "sent_ago"),
    [
        ("HEAD", BROWSER, timedelta(hours=2)),
        ("GET", BROWSER, timedelta(seconds=4)),
        ("GET", "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", timedelta(hours=2)),
        ("GET", "", timedelta(hours=2)),
    ],
    ids=["head", "within-seconds-of-delivery", "scanner-agent", "no-agent"],
)
def test_scanners_and_prefetches_are_redirected_but_record_nothing(
    tracking: Settings,
    seeded: sessionmaker[Session],
    client_id: int,
    method: str,
    agent: str,
    sent_ago: timedelta,
) -> None:
    sent_mail(seeded, at=NOW - sent_ago)
    for http in _app(tracking, [NOW]):
        response = http.request(method, _path(tracking, client_id), headers={"User-Agent": agent})
        assert response.status_code == 303 and response.headers["location"] == SHOP_URL
    assert _clicks(seeded) == []


@pytest.mark.parametrize("change", ["tampered", "other-key", "garbage"])
def test_a_token_goodwill_did_not_sign_is_a_plain_404_and_no_redirect(
    tracking: Settings, seeded: sessionmaker[Session], client_id: int, change: str
) -> None:
    sent_mail(seeded, at=NOW - timedelta(hours=2))
    path = _path(tracking, client_id)
    if change == "tampered":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    elif change == "other-key":
        forged = ClickSigner("someone-else", PUBLIC)(client_id, "https://evil.example/", MAIL)
        path = forged.removeprefix(PUBLIC)
    else:
        path = "/click/no-such-token"
    for http in _app(tracking, [NOW]):
        response = http.get(path, headers={"User-Agent": BROWSER})
        assert response.status_code == 404
        assert "location" not in response.headers
        assert "This link is not known" in response.text
    assert _clicks(seeded) == []


def test_with_tracking_off_a_link_already_sent_still_redirects_and_records_nothing(
    web_settings: Settings, seeded: sessionmaker[Session], client_id: int
) -> None:
    sent_mail(seeded, at=NOW - timedelta(hours=2))
    for http in _app(web_settings, [NOW]):
        response = http.get(_path(web_settings, client_id), headers={"User-Agent": BROWSER})
        assert response.status_code == 303 and response.headers["location"] == SHOP_URL
    assert _clicks(seeded) == []


def _reply(settings: Settings, store: sessionmaker[Session], token: str) -> EmailMessage:
    question = raw("y1@example.net", "How often? My old link: https://old.example/x")
    auth = {"Authorization": f"Bearer {token}"}
    for http in _app(settings, [NOW]):
        handed = http.post(
            "/api/v1/messages",
            content=question,
            headers={**auth, "Content-Type": "message/rfc822"},
        )
        conversation = handed.json()["conversation_id"]
        text = (
            "Every 3 months; I will send you a new one today: https://shop.example/descaler.\n\n"
            "> How often? My old link: https://old.example/x\n"
        )
        replied = http.post(
            f"/api/v1/conversations/{conversation}/reply", json={"text": text}, headers=auth
        )
        assert replied.status_code == 201, replied.text
    with store() as session:
        (row,) = session.execute(select(Outbox)).scalars()
        (sent,) = session.execute(select(Message).where(Message.direction == "out")).scalars()
        assert "https://shop.example/descaler." in sent.text  # the sent copy keeps the words
        mail = message_from_bytes(row.body, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        return mail


def test_a_reply_carries_tracked_links_that_lead_back_to_the_original(
    tracking: Settings, seeded: sessionmaker[Session], token: str
) -> None:
    mail = _reply(tracking, seeded, token)
    body = mail.get_content()
    assert "https://shop.example/descaler" not in body
    assert "> How often? My old link: https://old.example/x" in body
    assert mail["In-Reply-To"] == "<y1@example.net>"
    tracked = next(w for w in body.split() if w.startswith(PUBLIC + "/click/"))
    assert tracked.endswith(".")
    with seeded.begin() as session:
        session.execute(select(Outbox)).scalar_one().status = "sent"
        session.execute(select(Outbox)).scalar_one().sent_at = NOW - timedelta(hours=1)
    for http in _app(tracking, [NOW]):
        response = http.get(tracked[:-1].removeprefix(PUBLIC), headers={"User-Agent": BROWSER})
        assert response.headers["location"] == "https://shop.example/descaler"
    (event,) = _clicks(seeded)
    with seeded() as session:
        yara = session.execute(select(Client).where(Client.email == "yara@example.net"))
        assert event.client_id == yara.scalar_one().id


def test_with_tracking_off_a_reply_leaves_its_links_alone(
    web_settings: Settings, seeded: sessionmaker[Session], token: str
) -> None:
    settings = dataclasses.replace(web_settings, mail={"from_address": "care@shop.example"})
    body = _reply(settings, seeded, token).get_content()
    assert "https://shop.example/descaler." in body and "/click/" not in body

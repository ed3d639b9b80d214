"""The public contact form over HTTP: a visitor's message becomes a lead and a conversation on the
client's clock, with a confirmation in the outbox; bots, floods and bad input are refused and
leave nothing behind."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import (
    Attachment,
    Client,
    Conversation,
    Event,
    InboundMail,
    Message,
    Outbox,
    RateWindow,
)
from goodwill.web import create_app
from goodwill.web.pages.contact import NOT_SENT
from tests.conftest import NOW
from tests.web.conftest import log_in

_TOKEN = re.compile(r'name="token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
POLICY = """
[[policy]]
name = "standard"
calendar = "24/7"
first_response = "4h"
next_response = "4h"
"""


class Clock:
    """The app's clock, moved by the test: a visitor takes their time filling the form."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def form_settings(web_settings: Settings, tmp_path: Path) -> Settings:
    sla = tmp_path / "sla.toml"
    sla.write_text(POLICY, encoding="utf-8")
    return dataclasses.replace(
        web_settings,
        business_name="Linden Lamps",
        mail={"from_address": "care@linden.example"},
        sla=sla,
        contact_form={**web_settings.contact_form, "enabled": True},
    )


@pytest.fixture
def visitor(
    form_settings: Settings, seeded: sessionmaker[Session], clock: Clock
) -> Iterator[TestClient]:
    with TestClient(create_app(form_settings, clock=clock), follow_redirects=False) as http:
        yield http


def token_of(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the form has no token"
    return match.group(1)


FIELDS = {
    "name": "Nora Quist",
    "email": "Nora.Quist@example.org",
    "phone": "+47 912 34 567",
    "choice": "question",
    "message": "Do you ship the walnut lamp to Oslo?\nAnd how long does it take?",
}


def send(
    http: TestClient,
    clock: Clock,
    *,
    token: str | None = None,
    wait: float = 8,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    path: str = "/contact",
    **fields: str,
) -> Response:
    """Open the form, take ``wait`` seconds to fill it in, send it."""
    if token is None:
        token = token_of(http.get(path).text)
    clock.wait(wait)
    data = {**FIELDS, "website": "", **fields, "token": token}
    response: Response = http.post(path, data=data, files=files or None)
    return response


def count(store: sessionmaker[Session], model: Any, *where: Any) -> int:
    with store() as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar())


def stored(store: sessionmaker[Session]) -> tuple[int, int, int, int, int]:
    """What a submission writes: kept mail, messages, clients, events, outbox rows."""
    return (
        count(store, InboundMail),
        count(store, Message),
        count(store, Client),
        count(store, Event),
        count(store, Outbox),
    )


def test_a_new_address_becomes_a_lead_with_a_conversation_on_its_clock(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    page = visitor.get("/contact")
    assert page.status_code == 200 and "Write to Linden Lamps" in page.text
    assert "set-cookie" not in page.headers
    response = send(visitor, clock, token=token_of(page.text))
    assert response.status_code == 303 and response.headers["location"] == "/contact/thanks"
    thanks = visitor.get("/contact/thanks")
    assert "reached Linden Lamps" in thanks.text and "confirmation is on its way" in thanks.text
    with seeded() as session:
        client = session.execute(
            select(Client).where(Client.email == "nora.quist@example.org")
        ).scalar_one()
        assert client.name == "Nora Quist" and client.phone == "+4791234567"
        lead = session.execute(
            select(Event).where(Event.client_id == client.id, Event.type == "lead.created")
        ).scalar_one()
        assert lead.payload["via"] == "web_form"
        conversation = session.execute(
            select(Conversation).where(Conversation.client_id == client.id)
        ).scalar_one()
        assert conversation.subject == "Question: Do you ship the walnut lamp to Oslo?"
        assert conversation.status == "open" and conversation.assignee_id is not None
        assert conversation.sla_due_at == clock.now + timedelta(hours=4)
        message = session.execute(
            select(Message).where(Message.conversation_id == conversation.id)
        ).scalar_one()
        assert "And how long does it take?" in message.text and "Phone: +4791234567" in message.text
        inbound = session.get(InboundMail, message.inbound_id)
        assert inbound is not None and inbound.source == "form" and inbound.status == "parsed"
        outbox = session.execute(select(Outbox)).scalar_one()
        assert outbox.recipients == ["nora.quist@example.org"] and outbox.status == "queued"
        confirmation = message_from_bytes(outbox.body, policy=default_policy)
        assert confirmation["In-Reply-To"] == f"<{message.message_id}>"
        assert confirmation["Auto-Submitted"] == "auto-replied"
        assert "Linden Lamps" in str(confirmation["Subject"])
        assert "walnut" not in outbox.body.decode()  # none of the visitor's words go back out
    assert "Question: Do you ship the walnut lamp" in log_in_and_read_inbox(visitor)


def log_in_and_read_inbox(http: TestClient) -> str:
    assert log_in(http).status_code == 303
    return http.get("/inbox").text


def test_a_known_lead_asking_again_records_that_they_asked(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    assert send(visitor, clock).status_code == 303
    again = send(visitor, clock, choice="client", message="Could you call me about a shop order?")
    assert again.status_code == 303
    with seeded() as session:
        types = list(
            session.execute(
                select(Event.type).where(Event.type.in_(["lead.created", "lead.info_requested"]))
            ).scalars()
        )
        assert sorted(types) == ["lead.created", "lead.info_requested"]
        asked = session.execute(
            select(Event).where(Event.type == "lead.info_requested")
        ).scalar_one()
        assert asked.payload["via"] == "web_form" and asked.source == "form"
        assert asked.payload["topic"].startswith("New client: Could you call me")
    assert count(seeded, Conversation) == 2


def test_something_went_wrong_is_marked_for_staff(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    send(visitor, clock, choice="problem", message="The lamp arrived with a cracked shade.")
    with seeded() as session:
        subject = session.execute(select(Conversation.subject)).scalar_one()
    assert subject == "Something went wrong: The lamp arrived with a cracked shade."


def test_attachments_are_kept_with_the_message(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    files = [
        ("attachments", ("shade.png", PNG, "image/png")),
        ("attachments", ("app.log", b"12:00 started\n12:01 crashed\n", "application/octet-stream")),
    ]
    assert send(visitor, clock, files=files).status_code == 303
    with seeded() as session:
        kept = {
            a.filename: (a.content_type, a.content)
            for a in session.execute(select(Attachment)).scalars()
        }
    assert kept == {
        "shade.png": ("image/png", PNG),
        "app.log": ("text/plain", b"12:00 started\n12:01 crashed\n"),
    }


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ([("attachments", (f"p{i}.png", PNG, "image/png")) for i in range(4)], "at most 3 files"),
        (
            [("attachments", ("big.png", PNG + b"\x00" * (10 * 1024 * 1024), "image/png"))],
            "big.png is larger than 10 MB",
        ),
        (
            [("attachments", ("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))],
            "invoice.pdf is not a kind of file we accept",
        ),
        (
            [("attachments", ("setup.exe", b"MZ\x90\x00", "application/octet-stream"))],
            "setup.exe is not a kind of file we accept",
        ),
    ],
)
def test_attachments_beyond_the_limits_are_refused_naming_the_field(
    visitor: TestClient,
    seeded: sessionmaker[Session],
    clock: Clock,
    files: list[tuple[str, tuple[str, bytes, str]]],
    words: str,
) -> None:
    before = stored(seeded)
    response = send(visitor, clock, files=files)
    assert response.status_code == 422
    assert 'id="attachments-error"' in response.text and words in response.text
    assert 'value="Nora Quist"' in response.text  # what was typed stays
    assert stored(seeded) == before


def test_bad_fields_are_each_named_and_nothing_is_stored(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    before = stored(seeded)
    response = send(visitor, clock, name=" ", email="nora-at-example", choice="", message="")
    assert response.status_code == 422
    for field in ("name", "email", "choice", "message"):
        assert f'id="{field}-error"' in response.text, field
    assert 'aria-invalid="true"' in response.text
    assert stored(seeded) == before
    phone = send(visitor, clock, phone="call me maybe")
    assert phone.status_code == 422 and 'id="phone-error"' in phone.text


def test_a_filled_honeypot_is_refused_with_nothing_stored(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    before = stored(seeded)
    response = send(visitor, clock, website="https://cheap-pills.example")
    assert response.status_code == 400 and NOT_SENT in response.text
    assert "honeypot" not in response.text and "website" not in response.text
    assert stored(seeded) == before


def test_a_form_sent_within_two_seconds_is_refused(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    before = stored(seeded)
    response = send(visitor, clock, wait=1.5)
    assert response.status_code == 400 and NOT_SENT in response.text
    forged = send(visitor, clock, token="1700000000.abc.not-signed-here")
    assert forged.status_code == 400 and NOT_SENT in forged.text
    assert stored(seeded) == before


def test_a_form_left_open_too_long_is_asked_to_be_sent_again(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    before = stored(seeded)
    old = token_of(visitor.get("/contact").text)
    response = send(visitor, clock, token=old, wait=25 * 3600)
    assert response.status_code == 422 and "send it again" in response.text
    assert "walnut lamp to Oslo" in response.text
    fresh = token_of(response.text)
    assert fresh != old and stored(seeded) == before
    assert send(visitor, clock, token=fresh).status_code == 303


def test_the_21st_post_in_a_minute_from_one_address_is_refused_across_processes(
    form_settings: Settings, seeded: sessionmaker[Session], clock: Clock
) -> None:
    """Two apps over one database stand for two server processes: they share one count."""
    with (
        TestClient(create_app(form_settings, clock=clock), follow_redirects=False) as one,
        TestClient(create_app(form_settings, clock=clock), follow_redirects=False) as two,
    ):
        clock.now = clock.now.replace(second=0)
        token = token_of(one.get("/contact").text)
        clock.wait(5)
        for n in range(20):
            http = one if n % 2 else two
            data = {**FIELDS, "message": f"Message number {n}", "token": token}
            assert http.post("/contact", data=data).status_code == 303, n
        before = stored(seeded)
        refused = two.post("/contact", data={**FIELDS, "message": "One more", "token": token})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "55"
        assert "wait 55 seconds" in refused.text
        assert stored(seeded) == before
        clock.wait(60)
        again = one.post("/contact", data={**FIELDS, "message": "One more", "token": token})
        assert again.status_code == 303
    clock.wait(3600)
    with TestClient(create_app(form_settings, clock=clock), follow_redirects=False) as three:
        send(three, clock, message="Much later")
    assert count(seeded, RateWindow) == 1  # the old windows were purged as a new one opened


def test_the_same_submission_sent_twice_is_kept_once(
    visitor: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    token = token_of(visitor.get("/contact").text)
    files = [("attachments", ("shade.png", PNG, "image/png"))]
    assert send(visitor, clock, token=token, files=files).status_code == 303
    after_first = stored(seeded)
    assert send(visitor, clock, token=token, files=files).status_code == 303
    assert stored(seeded) == after_first
    assert count(seeded, Conversation) == 1 and count(seeded, Outbox) == 1


def test_the_form_is_not_there_until_switched_on(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert http.get("/contact").status_code == 404
    response = http.post("/contact", data={**FIELDS, "token": "x"})
    assert response.status_code == 404
    assert count(seeded, RateWindow) == 0


def test_only_the_embed_view_may_be_framed_and_by_the_sites_named(
    visitor: TestClient, form_settings: Settings, seeded: sessionmaker[Session], clock: Clock
) -> None:
    page = visitor.get("/contact")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    embed = visitor.get("/contact?embed=1")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    assert 'action="/contact?embed=1"' in embed.text and "contact-head" not in embed.text
    response = send(visitor, clock, path="/contact?embed=1")
    assert response.headers["location"] == "/contact/thanks?embed=1"
    listed = dataclasses.replace(
        form_settings,
        contact_form={**form_settings.contact_form, "embed_origins": ["https://linden.example"]},
    )
    with TestClient(create_app(listed, clock=clock)) as http:
        framed = http.get("/contact?embed=1")
    policy = framed.headers["content-security-policy"]
    assert "frame-ancestors https://linden.example" in policy


def test_a_body_over_the_attachments_limits_is_refused_before_it_is_read(
    visitor: TestClient, seeded: sessionmaker[Session]
) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "99999999"}
    response = visitor.post("/contact", content=b"--x--", headers=headers)
    assert response.status_code == 413
    assert count(seeded, InboundMail) == 0


def test_behind_a_local_proxy_each_visitor_has_a_count_of_their_own(
    form_settings: Settings, seeded: sessionmaker[Session], clock: Clock
) -> None:
    """The proxy on this machine says who the visitor is in the last X-Forwarded-For entry;
    entries before it are the visitor's own to invent, and change nothing."""
    app = create_app(form_settings, clock=clock)
    with TestClient(app, follow_redirects=False, client=("127.0.0.1", 5000)) as proxy:
        token = token_of(proxy.get("/contact").text)
        clock.wait(5)

        def post(chain: str) -> int:
            data = {**FIELDS, "choice": "", "token": token}  # refused as invalid, counted
            response = proxy.post("/contact", data=data, headers={"X-Forwarded-For": chain})
            return response.status_code

        assert [post(f"10.0.0.{n}, 203.0.113.7") for n in range(20)] == [422] * 20
        assert post("198.51.100.1, 203.0.113.7") == 429
        assert post("203.0.113.8") == 422

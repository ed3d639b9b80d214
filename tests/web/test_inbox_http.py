"""The inbox over HTTP: the list with its clocks in words, one thread, replying, pausing, the
messages that could not be read, and the on-call overrides.

Conversations arrive the real way (raw mail through ``receive``) at instants before the app's
fixed clock, under a 24/7 one-hour response target, so every clock label is known in advance.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.settings import Settings
from goodwill.store.models import Conversation, Outbox, RotaOverride
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT_NAME, staff_user

POLICY = """
warn_at = 0.75
[[policy]]
name = "standard"
calendar = "24/7"
first_response = "1h"
next_response = "1h"
"""
MARGARET = "margaret@holloway.example"
HTMX = {"HX-Request": "true"}
_ROW = re.compile(r'<tr data-conversation="(\d+)" data-status="(\w+)" data-clock="(\w+)">')
_LABEL = re.compile(r'<span class="sla sla-\w+"[^>]*>([^<]+)</span>')


@pytest.fixture
def web_settings(settings: Settings, tmp_path: Path) -> Settings:
    """A one-hour 24/7 response target and a support address to send replies from."""
    (tmp_path / "sla.toml").write_text(POLICY, encoding="utf-8")
    return dataclasses.replace(
        settings,
        secret_key="test-signing-key",
        sla=tmp_path / "sla.toml",
        mail={"from_address": "care@shop.example"},
    )


def mail(
    subject: str,
    message_id: str,
    *,
    body: str = "Where is my order?\n",
    sender: str = f"Margaret Holloway <{MARGARET}>",
    reply_to: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "care@shop.example"
    m["Subject"] = subject
    m["Message-ID"] = f"<{message_id}>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
        m["References"] = f"<{reply_to}>"
    m.set_content(body)
    if attachment:
        name, content = attachment
        m.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return m.as_bytes()


def arrive(
    store: sessionmaker[Session], settings: Settings, raw: bytes, *, minutes_ago: int
) -> int:
    """Receive ``raw`` as if it came ``minutes_ago`` before the app's clock; its conversation."""
    got = receive(store, settings, raw, source="smtp", now=NOW - timedelta(minutes=minutes_ago))
    assert got.status == "parsed" and got.conversation_id is not None
    return got.conversation_id


def rows(html: str) -> list[tuple[int, str, str, str]]:
    """(conversation id, status, clock state, clock words) of each row of the list, in order."""
    found = []
    for block in html.split("<tr data-conversation=")[1:]:
        head = _ROW.match("<tr data-conversation=" + block)
        label = _LABEL.search(block)
        assert head and label
        found.append((int(head.group(1)), head.group(2), head.group(3), label.group(1)))
    return found


def post_form(http: TestClient, page: str, action: str, data: dict[str, str]) -> Response:
    """Post ``data`` to ``action`` with the CSRF token of ``page``, as its form would."""
    token = csrf_from(http.get(page).text)
    response: Response = http.post(action, data={"csrf_token": token, **data})
    return response


@pytest.fixture
def three(seeded: sessionmaker[Session], web_settings: Settings) -> dict[str, int]:
    """Three conversations of Margaret's: one on time, one past its warning, one breached."""
    return {
        "calm": arrive(seeded, web_settings, mail("Gift wrap", "a@x.example"), minutes_ago=42),
        "warned": arrive(seeded, web_settings, mail("Invoice copy", "b@x.example"), minutes_ago=50),
        "late": arrive(seeded, web_settings, mail("Broken lamp", "c@x.example"), minutes_ago=65),
    }


def test_conversations_are_listed_most_urgent_first_with_their_clock_in_words(
    logged_in: TestClient, three: dict[str, int]
) -> None:
    response = logged_in.get("/inbox")
    assert response.status_code == 200
    assert '<a href="/inbox" aria-current="page">Inbox</a>' in response.text
    assert rows(response.text) == [
        (three["late"], "open", "breached", "breached 5 min ago"),
        (three["warned"], "open", "warning", "warning: due in 10 min"),
        (three["calm"], "open", "ok", "due in 18 min"),
    ]
    assert LONG_CLIENT_NAME in response.text
    assert "20 years" in response.text  # the client's tenure at a glance
    assert "Olive Owner" in response.text  # assigned at once


def test_the_list_refreshes_itself_as_a_fragment_with_the_clock_moved_on(
    web_settings: Settings, three: dict[str, int]
) -> None:
    later = NOW + timedelta(minutes=10)
    with TestClient(create_app(web_settings, clock=lambda: later), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        page = http.get("/inbox").text
        assert 'hx-trigger="every 30s"' in page
        fragment = http.get("/inbox", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="inbox-list"')
    assert [label for *_, label in rows(fragment.text)] == [
        "breached 15 min ago",
        "breached just now",  # due exactly now
        "warning: due in 8 min",
    ]


def test_the_filters_narrow_the_list_to_mine_and_to_a_status(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    web_settings: Settings,
    three: dict[str, int],
) -> None:
    with seeded.begin() as session:
        sam = staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
        conversation = session.get(Conversation, three["calm"])
        assert conversation is not None
        conversation.assignee_id = sam.id
    mine = [i for i, *_ in rows(logged_in.get("/inbox?scope=mine").text)]
    assert mine == [three["late"], three["warned"]]
    assert rows(logged_in.get("/inbox?status=closed").text) == []
    assert "No conversations here" in logged_in.get("/inbox?status=closed").text
    assert len(rows(logged_in.get("/inbox?status=nonsense").text)) == 3  # falls back


def test_the_thread_shows_the_new_text_and_folds_the_quoted_history(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    first = arrive(seeded, web_settings, mail("Lamp", "q1@x.example"), minutes_ago=300)
    body = (
        "Thank you, the new shade fits perfectly.\n\n"
        "On Mon, 23 Nov 2026, Olive wrote:\n> We have sent a new shade today.\n"
    )
    again = mail("Re: Lamp", "q2@x.example", body=body, reply_to="q1@x.example")
    assert arrive(seeded, web_settings, again, minutes_ago=5) == first
    page = logged_in.get(f"/inbox/{first}")
    assert page.status_code == 200
    html = page.text
    new_at = html.index("Thank you, the new shade fits perfectly.")
    folded = html.index('<details class="quoted">', new_at)
    assert html.index("&gt; We have sent a new shade today.", folded) > folded
    assert "client for <strong>20 years</strong>" in html
    assert 'href="/clients/C-0001"' in html
    assert "breached 4 h ago" in html  # still owed since the first message: the clock ran on


def test_an_interleaved_reply_keeps_the_whole_message_one_click_away(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    body = "On Mon, 23 Nov 2026, Olive wrote:\n> Blue or green?\n\nGreen.\n\n> Friday?\n\nYes.\n"
    found = arrive(seeded, web_settings, mail("Shade", "i1@x.example", body=body), minutes_ago=5)
    html = logged_in.get(f"/inbox/{found}").text
    folded = html[html.index('<details class="quoted">') :]
    assert "<summary>The whole message</summary>" in folded
    assert "&gt; Blue or green?" in folded and "&gt; Friday?" in folded


def test_a_reply_is_queued_in_the_clients_thread_and_the_conversation_is_answered(
    logged_in: TestClient, seeded: sessionmaker[Session], three: dict[str, int]
) -> None:
    late = three["late"]
    response = post_form(
        logged_in,
        f"/inbox/{late}",
        f"/inbox/{late}/reply",
        {"text": "A new lamp leaves today; I'll send the tracking link by 3pm."},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/{late}"
    page = logged_in.get(f"/inbox/{late}").text
    assert "Reply queued, but it will not leave until mail is set up" in page  # no smtp_host
    assert "mail.smtp_host" in page
    assert 'data-status="answered"' in page
    assert "A new lamp leaves today" in page
    with seeded() as session:
        (queued,) = session.execute(select(Outbox)).scalars()
    sent = email.message_from_bytes(queued.body, policy=email.policy.default)
    assert queued.recipients == [MARGARET]
    assert sent["In-Reply-To"] == "<c@x.example>"
    assert sent["From"] == "Olive Owner <care@shop.example>"
    listed = {i: (status, words) for i, status, _, words in rows(logged_in.get("/inbox").text)}
    assert listed[late] == ("answered", "answered")


def test_with_a_mail_server_a_queued_reply_says_it_goes_out_with_the_next_send(
    web_settings: Settings, three: dict[str, int]
) -> None:
    mail_set_up = {**web_settings.mail, "smtp_host": "smtp.shop.example"}
    ready = dataclasses.replace(web_settings, mail=mail_set_up)
    with TestClient(create_app(ready, clock=lambda: NOW), follow_redirects=False) as http:
        log_in(http)
        calm = three["calm"]
        text = {"text": "Wrapped! It ships tomorrow morning."}
        assert post_form(http, f"/inbox/{calm}", f"/inbox/{calm}/reply", text).status_code == 303
        page = http.get(f"/inbox/{calm}").text
    assert "Reply queued: it goes out with the next send of the outbox." in page
    assert "will not leave" not in page


def test_staff_reply_signed_with_their_own_name(
    http: TestClient, seeded: sessionmaker[Session], three: dict[str, int]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, "sam@example.com").status_code == 303
    calm = three["calm"]
    response = post_form(
        http,
        f"/inbox/{calm}",
        f"/inbox/{calm}/reply",
        {"text": "Wrapped! We will ship it tomorrow morning."},
    )
    assert response.status_code == 303
    with seeded() as session:
        (queued,) = session.execute(select(Outbox)).scalars()
    assert email.message_from_bytes(queued.body)["From"] == "Sam Staff <care@shop.example>"


def test_an_empty_reply_is_refused_on_the_page(
    logged_in: TestClient, seeded: sessionmaker[Session], three: dict[str, int]
) -> None:
    calm = three["calm"]
    response = post_form(logged_in, f"/inbox/{calm}", f"/inbox/{calm}/reply", {"text": "  "})
    assert response.status_code == 422
    assert 'id="reply-error"' in response.text and "A reply needs some text" in response.text
    with seeded() as session:
        assert session.execute(select(Outbox)).first() is None


def test_without_a_support_address_the_page_says_what_to_set_and_keeps_the_draft(
    web_settings: Settings, seeded: sessionmaker[Session], three: dict[str, int]
) -> None:
    unset = dataclasses.replace(web_settings, mail={})
    with TestClient(create_app(unset, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        calm = three["calm"]
        response = post_form(http, f"/inbox/{calm}", f"/inbox/{calm}/reply", {"text": "Soon!"})
    assert response.status_code == 409
    assert "mail.from_address" in response.text
    assert ">Soon!</textarea>" in response.text


def test_waiting_on_the_client_pauses_the_clock_and_reopening_resumes_it(
    logged_in: TestClient, three: dict[str, int]
) -> None:
    calm = three["calm"]
    page = f"/inbox/{calm}"
    response = post_form(logged_in, page, f"{page}/status", {"to": "waiting"})
    assert response.status_code == 303
    html = logged_in.get(page).text
    assert "the clock is paused" in html
    assert 'data-clock="paused"' in html
    listed = {i: (state, words) for i, _, state, words in rows(logged_in.get("/inbox").text)}
    assert listed[calm] == ("paused", "paused")
    assert post_form(logged_in, page, f"{page}/status", {"to": "open"}).status_code == 303
    listed = {i: (state, words) for i, _, state, words in rows(logged_in.get("/inbox").text)}
    assert listed[calm] == ("ok", "due in 18 min")  # no time passed on the fixed clock
    assert post_form(logged_in, page, f"{page}/status", {"to": "closed"}).status_code == 303
    assert calm not in [i for i, *_ in rows(logged_in.get("/inbox").text)]
    assert post_form(logged_in, page, f"{page}/status", {"to": "maybe"}).status_code == 422


def test_a_reply_needs_the_forms_csrf_token(logged_in: TestClient, three: dict[str, int]) -> None:
    response = logged_in.post(f"/inbox/{three['calm']}/reply", data={"text": "Hi"})
    assert response.status_code == 403


def test_the_inbox_needs_a_login(http: TestClient) -> None:
    response = http.get("/inbox/rota")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/inbox/rota"


def test_an_unknown_conversation_is_not_found(logged_in: TestClient) -> None:
    assert logged_in.get("/inbox/999").status_code == 404


def test_attachments_download_and_never_open_in_the_page(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    raw = mail("Receipt", "f@x.example", attachment=("receipt 2026.pdf", b"%PDF-1.4 lamp"))
    conversation = arrive(seeded, web_settings, raw, minutes_ago=1)
    html = logged_in.get(f"/inbox/{conversation}").text
    found = re.search(r'<a href="(/inbox/attachments/\d+)" download>receipt 2026.pdf</a>', html)
    assert found, html
    download = logged_in.get(found.group(1))
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 lamp"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"


def test_a_message_that_could_not_be_read_is_listed_with_its_raw_bytes(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    raw = b"Message-ID: <broken@x.example>\r\nSubject: no sender\r\n\r\nhello\r\n"
    got = receive(seeded, web_settings, raw, source="imap", now=NOW)
    assert got.status == "failed"
    html = logged_in.get("/inbox").text
    assert "Could not be read" in html
    assert "no From header" in html
    download = logged_in.get(f"/inbox/unreadable/{got.inbound_id}.eml")
    assert download.status_code == 200
    assert download.content == raw


# -- the on-call rota ---------------------------------------------------------------------------


def override_form(person: str, starts: datetime, ends: datetime) -> dict[str, str]:
    return {
        "person": person,
        "starts": f"{starts:%Y-%m-%dT%H:%M}",
        "ends": f"{ends:%Y-%m-%dT%H:%M}",
    }


def test_the_owner_puts_someone_on_call_and_removes_it_again(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    local = NOW.astimezone(web_settings.zone).replace(tzinfo=None)
    form = override_form("sam@example.com", local - timedelta(hours=1), local + timedelta(days=1))
    response = post_form(logged_in, "/inbox/rota", "/inbox/rota", form)
    assert response.status_code == 303
    page = logged_in.get("/inbox/rota").text
    assert "Sam Staff is on call from" in page
    assert re.search(r'id="on-call-person"><strong>Sam Staff</strong>', page)
    with seeded() as session:
        (row,) = session.execute(select(RotaOverride)).scalars()
    assert row.person == "sam@example.com" and row.created_by == "owner@example.com"
    assert row.starts_at == NOW - timedelta(hours=1)
    response = post_form(logged_in, "/inbox/rota", f"/inbox/rota/{row.id}/delete", {})
    assert response.status_code == 303
    assert "Override removed" in logged_in.get("/inbox/rota").text
    with seeded() as session:
        assert session.execute(select(RotaOverride)).first() is None


def test_an_override_that_ends_before_it_starts_is_refused(
    logged_in: TestClient, web_settings: Settings
) -> None:
    local = NOW.astimezone(web_settings.zone).replace(tzinfo=None)
    form = override_form("owner@example.com", local + timedelta(days=2), local + timedelta(days=1))
    response = post_form(logged_in, "/inbox/rota", "/inbox/rota", form)
    assert response.status_code == 422
    assert "The end must come after the start." in response.text


def test_only_the_owner_changes_the_rota(
    http: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, "sam@example.com").status_code == 303
    page = http.get("/inbox/rota")
    assert page.status_code == 200
    assert "Only the owner or a manager may change the rota." in page.text
    local = NOW.astimezone(web_settings.zone).replace(tzinfo=None)
    form = override_form("sam@example.com", local, local + timedelta(hours=8))
    assert post_form(http, "/inbox/rota", "/inbox/rota", form).status_code == 403


def test_the_rota_file_names_who_is_on_call_until_an_override_covers_now(
    seeded: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "rota.toml").write_text(
        'timezone = "UTC"\nfallback = "owner@example.com"\n\n'
        '[[override]]\nperson = "sam@example.com"\n'
        'from = "2026-12-24 00:00"\nuntil = "2026-12-27 00:00"\n',
        encoding="utf-8",
    )
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
        staff_user(session, email="kim@example.com", role="staff", name="Kim Staff", now=NOW)
    rota = dataclasses.replace(web_settings, rota=tmp_path / "rota.toml")
    with TestClient(create_app(rota, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        page = http.get("/inbox/rota").text
        assert re.search(r'id="on-call-person"><strong>Olive Owner</strong>', page)  # fallback
        assert re.search(r'id="file-overrides">\s*<li>Sam Staff: Thu 2026-12-24 00:00', page)
        form = override_form("kim@example.com", datetime(2026, 11, 23), datetime(2026, 11, 24))
        assert post_form(http, "/inbox/rota", "/inbox/rota", form).status_code == 303
        page = http.get("/inbox/rota").text
    assert re.search(r'id="on-call-person"><strong>Kim Staff</strong>', page)


def test_a_rota_file_that_cannot_be_read_is_shown_not_a_crash(
    seeded: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "rota.toml").write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    broken = dataclasses.replace(web_settings, rota=tmp_path / "rota.toml")
    with TestClient(create_app(broken, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        page = http.get("/inbox/rota")
    assert page.status_code == 200
    assert "The rota file cannot be read" in page.text and "Mars/Olympus" in page.text


def test_a_merged_conversations_address_leads_to_the_one_it_joined(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    # Two replies whose parents had not arrived; the parent links them.
    lamp = {
        "r1": ("Re: Lamp", "p", "The shade is cracked too."),
        "r2": ("Re: Lamp", "q", "It flickers when switched on."),
        "p": ("Lamp", "q", "Here is the order number you asked for."),
    }
    ids = {
        key: arrive(
            seeded,
            web_settings,
            mail(subject, f"{key}@x.example", reply_to=f"{parent}@x.example", body=body),
            minutes_ago=30 - 10 * n,
        )
        for n, (key, (subject, parent, body)) in enumerate(lamp.items())
    }
    assert ids["r1"] != ids["r2"] and ids["p"] == ids["r1"]
    response = logged_in.get(f"/inbox/{ids['r2']}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/{ids['r1']}"
    page = logged_in.get(f"/inbox/{ids['r1']}").text
    assert all(body in page for _, _, body in lamp.values())

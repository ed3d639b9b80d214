"""What clients bring up, on the listening page: a topic nobody listed, found in answers and
mail, with quotes, new and long-term shares and a trend; how reliable each theme is; and the
owner turning a topic into a theme (saved and audited like the settings page's changes)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import add_answer, load_themes
from goodwill.settings import Settings
from goodwill.store import page_settings
from goodwill.store.models import AuditEntry, Client, FeedbackTheme
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, staff_user

PARKING = [
    "There is never a parking space near the shop.",
    "I drove round twice for a parking space.",
    "A parking space for clients would help a lot.",
    "The parking space out front was taken by vans again.",
]
OTHER = [
    "The staff are lovely and the coffee is good.",
    "Prices went up but it is still worth it.",
    "Always on time with the order.",
    "The new cakes on the menu are great.",
]


@pytest.fixture
def heard(web_settings: Settings, seeded: sessionmaker[Session]) -> sessionmaker[Session]:
    """A new client and a long-standing one told staff, over four months, about parking (the new
    one every time) and other things."""
    with seeded.begin() as session:
        long = session.execute(select(Client).where(Client.external_id == LONG_CLIENT)).scalar_one()
        new = Client(
            name="Priya Shah",
            name_key="priya shah",
            email="priya@example.com",
            client_since=(NOW - timedelta(days=200)).date(),
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(new)
        session.flush()
        for i in range(16):
            client, text = (new, PARKING[i % 4]) if i % 2 else (long, OTHER[i % 4])
            add_answer(
                session,
                web_settings,
                client,
                question_text="miss-us",
                answer=text,
                answered_at=NOW - timedelta(days=120 - 7 * i),
                channel="call",
                recorded_by="staff",
                now=NOW,
            )
    return seeded


def site(settings: Settings) -> TestClient:
    return TestClient(
        create_app(settings, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    )


@pytest.fixture
def owner(web_settings: Settings, heard: sessionmaker[Session]) -> Iterator[TestClient]:
    with site(web_settings) as client:
        assert log_in(client).status_code == 303
        yield client


def topic_row(html: str, word: str) -> str:
    rows = re.findall(r'<tr data-topic="[^"]+">(.*?)</tr>', html, re.S)
    found = [r for r in rows if word in r.split("</th>")[0]]
    assert found, f"no topic named with {word!r}"
    return found[0]


def test_a_topic_nobody_listed_shows_with_quotes_shares_and_a_trend(owner: TestClient) -> None:
    page = owner.get("/listening")
    assert page.status_code == 200
    assert "What clients bring up" in page.text
    row = topic_row(page.text, "parking space")
    assert re.findall(r'class="share-value">([^<]+)<', row) == ["100%", "0%"]
    assert "parking space" in row.split('class="quotes')[1].lower()
    assert '<svg class="chart chart-columns"' in row  # the trend, new and long-term apart
    assert "new clients" in row and "long-term clients" in row
    assert 'action="/listening/topics/promote"' in row


def test_each_shipped_theme_says_how_reliable_it_is(owner: TestClient) -> None:
    page = owner.get("/listening")
    timeliness = re.search(r'<tr data-theme="timeliness">(.*?)</tr>', page.text, re.S)
    assert timeliness
    cell = timeliness.group(1).split('class="reliability')[1]
    assert re.search(r'finds <span class="recall">\d+%</span>', cell)
    assert re.search(r'<span class="precision">\d+%</span> of what it finds is right', cell)
    assert "86 answers labelled by hand" in page.text


def test_the_owner_makes_a_topic_a_theme_and_new_answers_are_read_for_it(
    owner: TestClient, web_settings: Settings, heard: sessionmaker[Session]
) -> None:
    page = owner.get("/listening")
    row = topic_row(page.text, "parking space")
    phrases = re.search(r'name="phrases" value="([^"]+)"', row)
    assert phrases
    done = owner.post(
        "/listening/topics/promote",
        data={"phrases": phrases.group(1), "csrf_token": csrf_from(page.text)},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/listening?promoted=parking-space#topics"
    with heard() as session:
        saved = page_settings.stored(session)["themes"]["theme"]
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.object_id).where(
                AuditEntry.action == "settings.change"
            )
        ).all()
    added = saved[-1]
    assert added["key"] == "parking-space" and "parking space" in added["phrases"]
    assert [t["key"] for t in saved[:-1]] == [
        t.key for t in load_themes(web_settings)
    ]  # the shipped themes stay, the new one comes last
    assert audit == [("settings.change", "themes")]
    shown = owner.get(done.headers["location"])
    assert "is now the theme <strong>parking-space</strong>" in shown.text
    settings = dataclasses.replace(web_settings, page={"themes": {"theme": saved}})
    with heard.begin() as session:
        client = session.execute(select(Client).where(Client.external_id == LONG_CLIENT))
        kept = add_answer(
            session,
            settings,
            client.scalar_one(),
            question_text="miss-us",
            answer="Please sort out a parking space for us.",
            answered_at=NOW,
            channel="call",
            recorded_by="staff",
            now=NOW,
        )
    with heard() as session:
        themes = session.execute(
            select(FeedbackTheme.theme).where(FeedbackTheme.answer_id == kept)
        ).scalars()
        assert "parking-space" in set(themes)
    again = owner.post(
        "/listening/topics/promote",
        data={"phrases": "parking space", "csrf_token": csrf_from(shown.text)},
    )
    assert again.headers["location"] == "/listening?promoted=parking-space-2#topics"


def test_a_topic_without_words_makes_no_theme(
    owner: TestClient, heard: sessionmaker[Session]
) -> None:
    page = owner.get("/listening")
    refused = owner.post(
        "/listening/topics/promote", data={"phrases": " , ", "csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 422
    assert "a topic needs at least one phrase" in refused.text
    with heard() as session:
        assert "themes" not in page_settings.stored(session)


def test_only_the_owner_makes_a_theme(web_settings: Settings, heard: sessionmaker[Session]) -> None:
    with heard.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
    with site(web_settings) as sam:
        assert log_in(sam, "sam@example.com").status_code == 303
        page = sam.get("/listening")
        assert "parking space" in page.text
        assert "/listening/topics/promote" not in page.text
        refused = sam.post(
            "/listening/topics/promote",
            data={"phrases": "parking space", "csrf_token": csrf_from(page.text)},
        )
        assert refused.status_code == 403
    with heard() as session:
        assert "themes" not in page_settings.stored(session)


def test_a_themes_file_wins_over_a_promoted_topic(
    web_settings: Settings, heard: sessionmaker[Session], tmp_path: Path
) -> None:
    themes = tmp_path / "themes.toml"
    themes.write_text('[[theme]]\nkey = "late"\nphrases = ["late"]\n', "utf-8")
    settings = dataclasses.replace(
        web_settings, feedback={**web_settings.feedback, "themes": themes}
    )
    with site(settings) as client:
        assert log_in(client).status_code == 303
        page = client.get("/listening")
        refused = client.post(
            "/listening/topics/promote",
            data={"phrases": "parking space", "csrf_token": csrf_from(page.text)},
        )
        assert refused.status_code == 409
        assert f"come from {themes}" in refused.text

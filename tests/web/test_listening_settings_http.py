"""The questions and themes on the settings page over HTTP: a question added there can be asked
at once (on the client page and with `goodwill feedback ask`), a theme's changed words change what
the listening page counts, a wrong value is shown beside its field with nothing saved, files named
in the settings win, and staff are kept out."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import page_settings
from goodwill.web import create_app
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user
from tests.web.test_feedback_http import link
from tests.web.test_listening_http import linked  # noqa: F401 (a fixture)

HOURS = {"key": "opening-hours", "text": "Which hours would   suit you best to come by?"}


@pytest.fixture
def owner(
    linked: Settings,  # noqa: F811
    seeded: sessionmaker[Session],
) -> Iterator[TestClient]:
    with TestClient(
        create_app(linked, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    ) as client:
        assert log_in(client).status_code == 303
        yield client


def post(http: TestClient, action: str, **fields: Any) -> Any:
    token = csrf_from(http.get("/settings/listening").text)
    return http.post(f"/settings/listening/{action}", data={**fields, "csrf_token": token})


def stored(store: sessionmaker[Session]) -> dict[str, Any]:
    with store() as session:
        return page_settings.stored(session)


def answer_a_link(
    store: sessionmaker[Session], settings: Settings, http: TestClient, text: str
) -> None:
    """The long-standing client is asked what they would miss, and answers on their form."""
    path = link(store, settings, f"test/{text}")
    assert http.post(path, data={"answer": text}).status_code == 200


def test_the_owner_reads_the_shipped_questions_and_themes(owner: TestClient) -> None:
    assert 'href="/settings/listening"' in owner.get("/settings").text
    page = owner.get("/settings/listening")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "What would you miss if we were gone?" in text
    assert 'data-question="miss-us"' in text and 'data-theme="timeliness"' in text
    assert "The shipped questions." in text and "The shipped themes." in text


def test_a_question_added_on_the_page_can_be_asked_at_once(
    owner: TestClient,
    seeded: sessionmaker[Session],
    linked: Settings,  # noqa: F811
) -> None:
    saved = post(owner, "question", original="", **HOURS)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/settings/listening?saved=question#questions",
    )
    page = html.unescape(owner.get("/settings/listening").text)
    assert "Which hours would suit you best to come by?" in page
    assert "Your own questions, saved here by owner@example.com on 2026-11-23" in page
    assert '<option value="Which hours would suit you best to come by?">' in html.unescape(
        owner.get("/clients/C-0001").text
    )
    token = csrf_from(owner.get("/clients/C-0001").text)
    on_the_page = owner.post(
        "/clients/C-0001/ask",
        data={"question": "opening-hours", "how": "in_person", "csrf_token": token},
    )
    assert on_the_page.status_code == 200, on_the_page.text
    assert "Which hours would suit you best to come by?" in html.unescape(on_the_page.text)
    asked = goodwill(
        "feedback", "ask", "--client", "C-0001", "--question", "opening-hours", "--json",
        db=linked.database_url,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert "/feedback/" in json.loads(asked.stdout)["link"]  # to hand over in person
    document = stored(seeded)["questions"]
    assert document["question"][-1] == {
        "key": "opening-hours",
        "text": "Which hours would suit you best to come by?",
    }


def test_a_question_reworded_keeps_its_key_and_one_removed_is_gone(owner: TestClient) -> None:
    reworded = "What would you miss most if we closed?"
    assert (
        post(owner, "question", original="miss-us", key="other", text=reworded).status_code == 303
    )
    assert post(owner, "question/remove", key="benefit").status_code == 303
    page = html.unescape(owner.get("/settings/listening").text)
    assert reworded in page and 'data-question="miss-us"' in page
    assert 'data-question="other"' not in page and 'data-question="benefit"' not in page
    back = post(owner, "question/reset")
    assert back.status_code == 303
    assert 'data-question="benefit"' in owner.get("/settings/listening").text


def test_a_themes_changed_words_change_what_the_listening_page_counts(
    owner: TestClient,
    seeded: sessionmaker[Session],
    linked: Settings,  # noqa: F811
) -> None:
    answer_a_link(seeded, linked, owner, "Ask for Kees, he sorts everything.")
    assert 'data-theme="people"' not in owner.get("/listening").text
    page = owner.get("/settings/listening").text
    block = page[page.index('data-theme="people"') :]
    people = re.search(r'name="phrases"[^>]*>([^<]*)</textarea>', block)
    assert people is not None and "family-run" in people.group(1)
    form = {
        "label": "People and relationship",
        "phrases": html.unescape(people.group(1)) + "\nKees",
    }
    assert post(owner, "theme", original="people", **form).status_code == 303

    answer_a_link(seeded, linked, owner, "Ask for Kees, he sorts everything again.")
    listening = html.unescape(owner.get("/listening").text)
    assert 'data-theme="people"' in listening
    assert "Kees, he sorts everything again." in listening
    assert "sorts everything." not in listening  # kept before the change: read as it was then

    parking = {"key": "parking", "label": "Parking", "phrases": "parking, car park"}
    assert post(owner, "theme", original="", **parking).status_code == 303
    answer_a_link(seeded, linked, owner, "The car park behind the shop.")
    assert 'data-theme="parking"' in owner.get("/listening").text


def test_a_wrong_value_shows_the_readers_words_beside_it_and_saves_nothing(
    owner: TestClient, seeded: sessionmaker[Session]
) -> None:
    bad_key = post(owner, "question", original="", key="Opening Hours", text="When?")
    assert bad_key.status_code == 422
    text = html.unescape(bad_key.text)
    assert '<p class="field-error" id="new-question-key-error">a short lower-case name' in text
    assert 'value="Opening Hours"' in text
    no_words = post(owner, "theme", original="people", label="People", phrases=" , ")
    assert no_words.status_code == 422
    assert re.search(
        r'id="t\d+-phrases-error">expected a list of words or phrases<',
        html.unescape(no_words.text),
    )
    assert stored(seeded) == {}


def test_files_named_in_the_settings_are_shown_and_not_changed_on_the_page(
    linked: Settings,  # noqa: F811
    seeded: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    questions = tmp_path / "questions.toml"
    questions.write_text('[[question]]\nkey = "why"\ntext = "Why us?"\n', encoding="utf-8")
    fixed = dataclasses.replace(linked, feedback={**linked.feedback, "questions": questions})
    with TestClient(
        create_app(fixed, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    ) as http:
        assert log_in(http).status_code == 303
        page = http.get("/settings/listening").text
        assert str(questions) in page and "Why us?" in page
        assert 'action="/settings/listening/question"' not in page
        assert 'action="/settings/listening/theme"' in page  # the themes are no file's
        refused = post(http, "question", original="", **HOURS)
        assert refused.status_code == 409 and "change them there" in refused.text
    assert stored(seeded) == {}


def test_staff_cannot_open_or_change_the_questions_and_themes(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    assert http.get("/settings/listening").status_code == 403
    token = csrf_from(http.get("/today").text)
    for action in ("question", "theme/remove", "question/reset"):
        answer = http.post(f"/settings/listening/{action}", data={**HOURS, "csrf_token": token})
        assert answer.status_code == 403
    assert stored(seeded) == {}

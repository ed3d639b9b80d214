"""The reply box's template picker and personal-touch card over HTTP, and the templates page.
Margaret (tests/web/sample.py) writes; Olive Owner, assigned at once, answers."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client, StaffUser
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import log_in
from tests.web.test_inbox_http import (  # noqa: F401 - fixtures
    HTMX,
    MARGARET,
    post_form,
    three,
    web_settings,
)


def set_people(
    store: sessionmaker[Session],
    *,
    staff_hometown: str | None,
    client_hometown: str | None = None,
    birthday: tuple[int, int] | None = None,
) -> None:
    with store.begin() as session:
        owner = session.execute(
            select(StaffUser).where(StaffUser.email == "owner@example.com")
        ).scalar_one()
        owner.hometown = staff_hometown
        margaret = session.execute(select(Client).where(Client.email == MARGARET)).scalar_one()
        if client_hometown is not None:
            margaret.hometown = client_hometown
        if birthday is not None:
            margaret.birthday_day, margaret.birthday_month = birthday


def draft_of(page: str) -> str:
    start = page.index('id="reply-text"')
    body = page[page.index(">", start) + 1 :]
    return html.unescape(body[: body.index("</textarea>")])


def test_the_picker_fills_the_draft_and_the_guardrails_look_at_it(
    logged_in: TestClient,
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    page = logged_in.get(f"/inbox/{calm}").text
    assert 'id="template-name"' in page and '<option value="late-delivery"' in page
    filled = logged_in.get(
        f"/inbox/{calm}/template", params={"name": "late-delivery", "text": ""}, headers=HTMX
    )
    assert filled.status_code == 200
    assert 'hx-swap-oob="true"' in filled.text
    draft = draft_of(filled.text)
    assert draft.startswith("Dear Margaret,\n")
    assert 'about "Gift wrap"' in draft and draft.rstrip().endswith("Olive Owner")
    assert 'id="reply-findings"' in filled.text  # the checker's view of the filled text


def test_a_typed_draft_is_replaced_only_when_asked(
    logged_in: TestClient,
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    asked = logged_in.get(
        f"/inbox/{calm}/template",
        params={"name": "late-delivery", "text": "Hi Margaret, I am on it"},
        headers=HTMX,
    )
    assert 'id="template-ask"' in asked.text and 'id="reply-text"' not in asked.text
    replaced = logged_in.get(
        f"/inbox/{calm}/template", params={"name": "late-delivery", "replace": "1"}, headers=HTMX
    )
    assert draft_of(replaced.text).startswith("Dear Margaret,")


def test_a_template_needing_an_incident_says_so_and_leaves_the_draft_alone(
    logged_in: TestClient,
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    failed = logged_in.get(
        f"/inbox/{calm}/template", params={"name": "apology-and-fix"}, headers=HTMX
    )
    assert failed.status_code == 200
    assert 'id="template-error"' in failed.text and "{{ incident.what }}" in failed.text
    assert 'id="reply-text"' not in failed.text
    whole = logged_in.get(f"/inbox/{calm}/template", params={"name": "apology-and-fix"})
    assert whole.status_code == 422 and "no open incident" in whole.text
    plain = logged_in.get(f"/inbox/{calm}/template", params={"name": "late-delivery"})
    assert plain.status_code == 200 and draft_of(plain.text).startswith("Dear Margaret,")


def test_the_card_shows_a_shared_hometown_and_a_birthday_soon(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    before = logged_in.get(f"/inbox/{calm}").text
    # Her interests and what she values are suggested already; nothing about towns or days yet.
    assert 'data-kind="interest"' in before and 'data-kind="value"' in before
    assert 'data-kind="same_hometown"' not in before and 'data-kind="birthday"' not in before
    set_people(seeded, staff_hometown="Leeds", birthday=(30, 11))
    page = logged_in.get(f"/inbox/{calm}").text
    assert 'data-kind="same_hometown"' in page and "You are both from Leeds." in page
    assert 'data-kind="birthday"' in page and "birthday is in 7 days" in page
    assert draft_of(page) == ""  # suggested, never inserted


def test_story_9_a_rival_hometown_is_surfaced_and_a_person_decides(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    set_people(seeded, staff_hometown="Rotterdam", client_hometown="Amsterdam")
    page = logged_in.get(f"/inbox/{calm}").text
    assert 'data-kind="rival_hometown"' in page
    assert "Rival hometowns: Amsterdam and Rotterdam." in page
    assert draft_of(page) == ""
    filled = logged_in.get(
        f"/inbox/{calm}/template", params={"name": "late-delivery"}, headers=HTMX
    )
    assert "Rotterdam" not in draft_of(filled.text) and "Amsterdam" not in draft_of(filled.text)


def test_the_shipped_templates_are_read_only_on_the_templates_page(
    logged_in: TestClient,
) -> None:
    page = logged_in.get("/inbox/templates", params={"name": "late-delivery"})
    assert page.status_code == 200
    assert 'data-template="late-delivery"' in page.text and 'id="templates-read-only"' in page.text
    refused = post_form(
        logged_in, "/inbox/templates", "/inbox/templates", {"name": "mine", "source": "Hi"}
    )
    assert refused.status_code == 409 and 'id="template-form-error"' in refused.text
    assert "set `templates`" in html.unescape(refused.text)


@pytest.fixture
def editable(web_settings: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    return dataclasses.replace(web_settings, templates=tmp_path / "replies")


def test_the_owner_saves_a_template_as_a_file_and_the_picker_offers_it(
    editable: Settings,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
) -> None:
    with TestClient(create_app(editable, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        source = "Dear {{ client.first_name }}, from {{ client.hometown }}: we ship today."
        saved = post_form(
            http, "/inbox/templates", "/inbox/templates", {"name": "ship-today", "source": source}
        )
        assert saved.status_code == 303
        assert (editable.templates / "ship-today.txt").read_text(encoding="utf-8") == (
            source + "\n"
        )
        bad = post_form(
            http, "/inbox/templates", "/inbox/templates", {"name": "oops", "source": "{% if %}"}
        )
        assert bad.status_code == 422 and 'id="template-form-error"' in bad.text
        filled = http.get(
            f"/inbox/{three['calm']}/template", params={"name": "ship-today"}, headers=HTMX
        )
        assert draft_of(filled.text) == "Dear Margaret, from Leeds: we ship today.\n"

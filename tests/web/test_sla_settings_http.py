"""Response targets and the on-call rota edited on the owner's settings pages.

A change is checked by the file's own parser, saved, and used on the next request: the inbox's
clock of a conversation already waiting moves to the new target. A wrong value is shown beside
its field and nothing is saved; a file named in the settings makes the pages read-only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive, set_status
from goodwill.actions.sla_in_force import rota_for
from goodwill.domain.audit import Actor
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Conversation
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user
from tests.web.test_inbox_http import MARGARET, mail

ANA, BEN = "ana@shop.example", "ben@shop.example"
STANDARD = {
    "name": "standard",
    "calendar": "24/7",
    "first_response": "1h",
    "next_response": "1h",
}
_CLOCK = re.compile(r'<span class="sla sla-\w+"[^>]*>([^<]+)</span>')


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, secret_key="test-signing-key", mail={"from_address": "care@shop.example"}
    )


def post(http: TestClient, page: str, action: str, data: dict[str, str]) -> Response:
    """Post ``data`` to ``action`` with the CSRF token of ``page``, as its form would."""
    token = csrf_from(http.get(page).text)
    response: Response = http.post(action, data={"csrf_token": token, **data})
    return response


def current(http: TestClient) -> Settings:
    """The settings the app runs on now (the page's values applied)."""
    settings: Settings = http.app.state.goodwill.settings  # type: ignore[attr-defined]
    return settings


def inbox_clock(http: TestClient) -> str:
    found = _CLOCK.search(http.get("/inbox").text)
    assert found, "the inbox shows no clock"
    return found.group(1)


def add_standard(http: TestClient, **changes: str) -> Response:
    return post(http, "/settings/sla", "/settings/sla/policy", {**STANDARD, **changes})


def test_a_new_target_moves_the_clock_of_a_waiting_conversation_on_the_next_request(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    got = receive(
        seeded,
        current(logged_in),
        mail("Gift wrap", "a@x.example"),
        source="smtp",
        now=NOW - timedelta(minutes=42),
    )
    assert got.status == "parsed"
    assert inbox_clock(logged_in) == "no target"

    assert add_standard(logged_in).status_code == 303
    assert inbox_clock(logged_in) == "due in 18 min"

    changed = post(
        logged_in,
        "/settings/sla",
        "/settings/sla/policy",
        {**STANDARD, "index": "0", "first_response": "2h"},
    )
    assert changed.status_code == 303
    page = logged_in.get("/settings/sla").text
    assert "Saved the policy standard." in page
    assert "within 2 hours" in page
    assert inbox_clock(logged_in) == "due in 1 h 18 min"
    assert current(logged_in).page["sla"]["policy"][0]["first_response"] == "2h"
    with seeded.begin() as session:
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "settings.change").order_by(AuditEntry.id)
        ).all()
    assert [(c.object_id, c.actor_label) for c in changes] == [("sla", "owner@example.com")] * 2


def test_policies_read_in_words_with_who_they_are_for(logged_in: TestClient) -> None:
    add_standard(logged_in)
    gold = {
        "name": "gold",
        "tiers": "gold",
        "tags": "vip, press",
        "calendar": "business",
        "first_response": "1h30m",
    }
    assert post(logged_in, "/settings/sla", "/settings/sla/policy", gold).status_code == 303
    window = {
        "client": "C-1042",
        "days": "mon-fri",
        "hours": "08:00-10:00",
        "timezone": "America/Chicago",
        "first_response": "30m",
    }
    assert post(logged_in, "/settings/sla", "/settings/sla/window", window).status_code == 303
    page = logged_in.get("/settings/sla").text
    assert "Every client no other policy names" in page
    assert "Clients tagged press, vip or clients on the tier gold" in page
    assert "within 1 business hour 30 business minutes" not in page
    assert "within 1 business hour 30 minutes" in page
    assert "Round the clock" in page and "Business hours: only the time you are open" in page
    assert "Mon–Fri" in page and "08:00–10:00 (America/Chicago)" in page
    assert current(logged_in).page["sla"]["policy"][1]["tags"] == ["vip", "press"]


def test_a_wrong_duration_is_shown_beside_its_field_and_nothing_is_saved(
    logged_in: TestClient,
) -> None:
    add_standard(logged_in)
    before = current(logged_in).page["sla"]
    bad = post(
        logged_in,
        "/settings/sla",
        "/settings/sla/policy",
        {**STANDARD, "index": "0", "first_response": "2x"},
    )
    assert bad.status_code == 422
    assert re.search(
        r'id="policy-0-first_response" [^>]*value="2x"[^>]*aria-invalid="true"', bad.text, re.S
    )
    error = re.search(
        r'<p class="field-error" id="policy-0-first_response-error">([^<]+)</p>', bad.text
    )
    assert error and "is not a duration" in error.group(1)
    assert current(logged_in).page["sla"] == before
    assert "within 1 hour" in logged_in.get("/settings/sla").text


def test_a_second_policy_with_the_same_name_is_refused_on_the_form_that_adds_it(
    logged_in: TestClient,
) -> None:
    add_standard(logged_in)
    again = add_standard(logged_in, first_response="3h")
    assert again.status_code == 422
    assert (
        'id="new-policy-name-error">&#39;standard&#39; is already the name of policy[0]'
        in again.text
    )
    assert len(current(logged_in).page["sla"]["policy"]) == 1


def test_deleting_the_only_policy_takes_the_clock_off(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    add_standard(logged_in)
    receive(
        seeded,
        current(logged_in),
        mail("Gift wrap", "a@x.example"),
        source="smtp",
        now=NOW - timedelta(minutes=42),
    )
    assert inbox_clock(logged_in) == "due in 18 min"
    gone = post(logged_in, "/settings/sla", "/settings/sla/policy", {"index": "0", "delete": "1"})
    assert gone.status_code == 303
    assert "Deleted the policy standard." in logged_in.get("/settings/sla").text
    assert inbox_clock(logged_in) == "no target"


def test_the_warning_point_is_a_percentage(logged_in: TestClient) -> None:
    add_standard(logged_in)
    assert post(logged_in, "/settings/sla", "/settings/sla", {"warn_at": "80"}).status_code == 303
    assert current(logged_in).page["sla"]["warn_at"] == 0.8
    bad = post(logged_in, "/settings/sla", "/settings/sla", {"warn_at": "120"})
    assert bad.status_code == 422
    assert 'id="warn_at-error"' in bad.text
    assert current(logged_in).page["sla"]["warn_at"] == 0.8


@pytest.fixture
def from_files(
    web_settings: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> Iterator[TestClient]:
    """The owner logged in where the settings name an SLA file and a rota file."""
    (tmp_path / "sla.toml").write_text(
        '[[policy]]\nname = "house"\nfirst_response = "4h"\n', encoding="utf-8"
    )
    (tmp_path / "rota.toml").write_text(
        f'timezone = "Europe/Amsterdam"\nfallback = "{BEN}"\n', encoding="utf-8"
    )
    settings = dataclasses.replace(
        web_settings, sla=tmp_path / "sla.toml", rota=tmp_path / "rota.toml"
    )
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        yield http


def test_a_policy_file_makes_the_page_read_only_and_names_the_file(from_files: TestClient) -> None:
    page = from_files.get("/settings/sla")
    assert page.status_code == 200
    assert "The file decides." in page.text and "sla.toml" in page.text
    assert "house" in page.text and "within 4 business hours" in page.text
    assert 'action="/settings/sla/policy"' not in page.text
    refused = post(from_files, "/settings/sla", "/settings/sla/policy", STANDARD)
    assert refused.status_code == 409
    assert "change it there" in refused.text
    assert "sla" not in current(from_files).page


def test_a_rota_file_makes_the_rota_page_read_only(from_files: TestClient) -> None:
    page = from_files.get("/settings/rota")
    assert "The file decides." in page.text and "rota.toml" in page.text
    assert f'On call now (Mon 2026-11-23 15:00): <strong id="on-call-now">{BEN}' in page.text
    assert 'id="rota-form"' not in page.text
    refused = post(
        from_files, "/settings/rota", "/settings/rota", {"timezone": "UTC", "fallback": ANA}
    )
    assert refused.status_code == 409
    assert rota_for(current(from_files)).fallback == BEN  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["/settings/sla", "/settings/rota"])
def test_staff_may_not_open_or_change_the_pages(
    http: TestClient, seeded: sessionmaker[Session], path: str
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    assert http.get(path).status_code == 403
    token = csrf_from(http.get("/account").text)
    assert http.post(path, data={"csrf_token": token, "warn_at": "50"}).status_code == 403
    assert "sla" not in current(http).page and "rota" not in current(http).page


ROTA = {
    "timezone": "Europe/Amsterdam",
    "fallback": "owner@example.com",
    "rotation-0-every": "week",
    "rotation-0-handover": "2026-11-16T09:00",
    "rotation-0-people": f"{ANA}, {BEN}",
    "override-0-person": "",
    "override-0-from": "",
    "override-0-until": "",
}


def test_the_rota_table_decides_who_is_on_call(logged_in: TestClient) -> None:
    assert rota_for(current(logged_in)) is None
    saved = post(logged_in, "/settings/rota", "/settings/rota", ROTA)
    assert saved.status_code == 303
    rota = rota_for(current(logged_in))
    assert rota is not None and rota.on_call(NOW) == BEN  # the second week of turns
    page = logged_in.get("/settings/rota").text
    assert f'<strong id="on-call-now">{BEN}</strong>' in page
    assert 'value="2026-11-16T09:00"' in page
    inbox_rota = logged_in.get("/inbox/rota").text
    assert "come from the rota on the settings page" in inbox_rota
    assert f'<p id="on-call-person"><strong>{BEN}</strong>' in inbox_rota
    assert current(logged_in).page["rota"]["rotation"] == [
        {"every": "week", "handover": "2026-11-16 09:00", "people": [ANA, BEN]}
    ]

    cover = {
        **ROTA,
        "rotation-1-every": "week",
        "rotation-1-handover": "",
        "rotation-1-people": "",
        "override-0-person": ANA,
        "override-0-from": "2026-11-23T00:00",
        "override-0-until": "2026-11-24T00:00",
    }
    assert post(logged_in, "/settings/rota", "/settings/rota", cover).status_code == 303
    assert rota_for(current(logged_in)).on_call(NOW) == ANA  # type: ignore[union-attr]

    removed = {**cover, "override-0-remove": "1"}
    assert post(logged_in, "/settings/rota", "/settings/rota", removed).status_code == 303
    assert rota_for(current(logged_in)).on_call(NOW) == BEN  # type: ignore[union-attr]


def test_a_wrong_rota_cell_is_shown_beside_it_and_nothing_is_saved(logged_in: TestClient) -> None:
    post(logged_in, "/settings/rota", "/settings/rota", ROTA)
    before = current(logged_in).page["rota"]
    wrong = {**ROTA, "rotation-0-people": "", "timezone": "Europe/Amsterdam"}
    wrong["rotation-0-handover"] = "next monday"
    bad = post(logged_in, "/settings/rota", "/settings/rota", wrong)
    assert bad.status_code == 422
    error = re.search(
        r'<p class="field-error" id="rotation-0-handover-error">([^<]+)</p>', bad.text
    )
    assert error and "is not a local date-time" in error.group(1)
    assert current(logged_in).page["rota"] == before
    zone = post(logged_in, "/settings/rota", "/settings/rota", {**ROTA, "timezone": "Mars/Base"})
    assert zone.status_code == 422
    assert 'id="timezone-error">&#39;Mars/Base&#39; is not a known time zone' in zone.text


def test_a_row_is_added_without_saving_and_the_rota_can_be_dropped(logged_in: TestClient) -> None:
    more = post(logged_in, "/settings/rota", "/settings/rota", {**ROTA, "more": "rotation"})
    assert more.status_code == 200
    assert 'name="rotation-2-people"' in more.text  # the typed row, the added one, a new one
    assert "rota" not in current(logged_in).page
    post(logged_in, "/settings/rota", "/settings/rota", ROTA)
    assert rota_for(current(logged_in)) is not None
    assert post(logged_in, "/settings/rota", "/settings/rota/clear", {}).status_code == 303
    assert rota_for(current(logged_in)) is None
    assert "No rota in use" in logged_in.get("/settings/rota").text


def test_the_page_policies_put_a_new_message_on_their_clock(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    add_standard(logged_in, first_response="3h")
    receive(
        seeded,
        current(logged_in),
        mail("Gift wrap", "a@x.example", sender=f"M <{MARGARET}>"),
        source="smtp",
        now=NOW - timedelta(minutes=30),
    )
    assert inbox_clock(logged_in) == "due in 2 h 30 min"


def test_a_paused_clock_keeps_the_time_it_used_under_a_new_target(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    add_standard(logged_in)
    got = receive(
        seeded,
        current(logged_in),
        mail("Gift wrap", "a@x.example"),
        source="smtp",
        now=NOW - timedelta(minutes=42),
    )
    assert got.conversation_id is not None
    with seeded.begin() as session:  # 30 minutes used, then waiting on the client
        set_status(
            session,
            current(logged_in),
            got.conversation_id,
            "waiting",
            now=NOW - timedelta(minutes=12),
            actor=Actor.cli("tests"),
        )
    post(
        logged_in,
        "/settings/sla",
        "/settings/sla/policy",
        {**STANDARD, "index": "0", "first_response": "2h"},
    )
    assert inbox_clock(logged_in) == "paused"
    with seeded.begin() as session:
        reopened = session.get(Conversation, got.conversation_id)
        assert reopened is not None
        assert (reopened.sla_target_s, reopened.sla_elapsed_s) == (7200, 1800)
        set_status(
            session,
            current(logged_in),
            got.conversation_id,
            "open",
            now=NOW,
            actor=Actor.cli("tests"),
        )
    assert inbox_clock(logged_in) == "due in 1 h 30 min"

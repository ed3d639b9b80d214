"""Editing the playbook on the page over HTTP: the owner changes a rule and the engine uses it,
a bad value is refused with the parser's own words, a new rule makes follow-ups, the preview
shows what the last 30 days would have made, and staff cannot change anything."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.followups import ClientFrame, due_at
from goodwill.domain.playbook_edits import find_rule, form_from_rule
from goodwill.domain.playbooks import parse_due
from goodwill.engine.configuration import (
    calendar_for,
    default_playbook_document,
    default_playbook_text,
)
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Client, Event, FollowUp
from goodwill.store.page_settings import stored
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user
from tests.web.touchpoints import run_engine, touch_point

FIRST = "thank-you-first-purchase"
EDIT = f"/playbook/rules/{FIRST}/edit"


def _form(rule: dict[str, Any], **changes: str | list[str]) -> dict[str, Any]:
    """What the browser sends for ``rule``'s form with ``changes`` typed in."""
    posted: dict[str, Any] = {}
    for key, value in {**form_from_rule(rule), **changes}.items():
        if value is True:
            posted[key] = "1"
        elif value is not False:
            posted[key] = value
    return posted


def _post(http: TestClient, path: str, data: dict[str, Any]) -> Any:
    csrf = csrf_from(http.get("/playbook").text)
    return http.post(path, data={**data, "csrf_token": csrf})


def _shipped(name: str) -> dict[str, Any]:
    found = find_rule(default_playbook_document(), name)
    assert found is not None
    return found


def _in_force(store: sessionmaker[Session], settings: Settings) -> Settings:
    """The settings a worker would read: the file's, with what the page saved."""
    with store() as session:
        return dataclasses.replace(settings, page=stored(session))


def _first_order(store: sessionmaker[Session], ref: str, key: str) -> None:
    with store.begin() as session:
        touch_point(
            session,
            ref,
            "purchase.first",
            at=NOW - timedelta(hours=2),
            payload={"order_id": f"O-{key}", "n": 1},
            key=key,
        )


def _followups(store: sessionmaker[Session], rule: str) -> list[FollowUp]:
    with store() as session:
        return list(session.execute(select(FollowUp).where(FollowUp.rule == rule)).scalars())


def test_the_owner_edits_a_rules_due_time_and_the_next_engine_pass_uses_it(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    page = logged_in.get(EDIT)
    assert page.status_code == 200
    assert 'name="due" type="text" value="2 business days"' in page.text
    answer = _post(logged_in, EDIT, _form(_shipped(FIRST), due="5 business days", action="save"))
    assert answer.status_code == 303 and answer.headers["location"] == "/playbook"
    listed = logged_in.get("/playbook").text
    assert f"Saved the rule {FIRST}." in listed
    assert "Within 5 business days" in listed
    assert "· settings page</p>" in listed
    settings = _in_force(seeded, web_settings)
    _first_order(seeded, "C-0005", "first")
    run_engine(seeded, settings, now=NOW, cadence=False)
    (made,) = _followups(seeded, FIRST)
    with seeded() as session:
        touch = session.execute(select(Event).where(Event.idempotency_key == "tests:first"))
        occurred = touch.scalar_one().occurred_at
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.object_id).where(
                AuditEntry.action == "settings.change"
            )
        ).all()
    five = due_at(
        parse_due("5 business days"),
        base=occurred,
        business=calendar_for(settings),
        client=ClientFrame(zone=settings.zone),
    )
    assert made.due_at == five and five - occurred >= timedelta(days=5)
    assert audit == [("settings.change", "playbook")]


def test_a_bad_value_shows_the_playbook_check_error_beside_its_field_and_saves_nothing(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    answer = _post(logged_in, EDIT, _form(_shipped(FIRST), due="by tomorrow", action="save"))
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="due-error"[^>]*>([^<]*)</p>', answer.text)
    assert error is not None
    assert error.group(1) == (
        "settings page: rule &#39;thank-you-first-purchase&#39;: due: &#39;by tomorrow&#39; is "
        "not a due rule (e.g. &#39;2 business days&#39;, &#39;within 1 hour&#39;, &#39;next "
        "contact window&#39;, &#39;birthday week monday&#39;)"
    )
    assert 'value="by tomorrow"' in answer.text  # what was typed is kept
    missing = _post(logged_in, EDIT, _form(_shipped(FIRST), template="no-such", action="save"))
    assert missing.status_code == 422 and 'id="template-error"' in missing.text
    with seeded() as session:
        assert stored(session) == {}


def test_staff_cannot_open_or_change_the_playbook_forms(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    page = http.get("/playbook").text
    assert "/playbook/rules/new" not in page and "Turn off" not in page
    assert http.get(EDIT).status_code == 403
    assert http.get("/playbook/rules/new").status_code == 403
    csrf = csrf_from(page)
    for path, data in (
        (EDIT, _form(_shipped(FIRST), due="9 days", action="save")),
        (f"/playbook/rules/{FIRST}/enabled", {"on": "0"}),
        ("/playbook/shipped", {}),
    ):
        assert http.post(path, data={**data, "csrf_token": csrf}).status_code == 403, path
    with seeded() as session:
        assert stored(session) == {}


NEW_RULE = {
    "name": "call-about-a-first-order",
    "on": "purchase.first",
    "title": "Call {client} about their first order",
    "channel": "call",
    "personal_level": "owner_call",
    "assignee": "business_owner",
    "due": "1 business days",
    "enabled": "1",
}


def test_a_new_rule_appears_in_the_list_and_creates_follow_ups(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    assert logged_in.get("/playbook/rules/new").status_code == 200
    answer = _post(logged_in, "/playbook/rules/new", {**NEW_RULE, "action": "save"})
    assert answer.status_code == 303, answer.text
    listed = logged_in.get("/playbook").text
    assert 'data-rule="call-about-a-first-order"' in listed
    assert "Call the client about their first order" in listed
    run_engine(seeded, _in_force(seeded, web_settings), now=NOW, cadence=False)
    _first_order(seeded, "C-0005", "first")
    run_engine(seeded, _in_force(seeded, web_settings), now=NOW, cadence=False)
    (made,) = _followups(seeded, "call-about-a-first-order")
    with seeded() as session:
        name = session.execute(select(Client.name).where(Client.external_id == "C-0005"))
        assert made.title == f"Call {name.scalar_one()} about their first order"
    assert made.personal_level == "owner_call" and made.channel == "call"
    again = _post(logged_in, "/playbook/rules/new", {**NEW_RULE, "action": "save"})
    assert again.status_code == 422
    assert "call-about-a-first-order&#39;: name: used by two rules" in again.text


def test_a_rule_turned_off_creates_nothing_and_a_shipped_rule_is_not_deleted(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    off = _post(logged_in, f"/playbook/rules/{FIRST}/enabled", {"on": "0"})
    assert off.status_code == 303
    listed = logged_in.get("/playbook").text
    assert f"The rule {FIRST} is off" in listed and "Turned off: creates nothing" in listed
    _first_order(seeded, "C-0005", "first")
    run_engine(seeded, _in_force(seeded, web_settings), now=NOW, cadence=False)
    assert _followups(seeded, FIRST) == []
    kept = _post(logged_in, f"/playbook/rules/{FIRST}/delete", {})
    assert kept.status_code == 303
    assert "comes with goodwill: turn it off instead" in logged_in.get("/playbook").text
    on = _post(logged_in, f"/playbook/rules/{FIRST}/enabled", {"on": "1"})
    assert on.status_code == 303
    with seeded() as session:
        assert find_rule(stored(session)["playbook"], FIRST) == _shipped(FIRST)


def test_a_custom_rule_is_deleted_and_the_shipped_playbook_comes_back(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    _post(logged_in, "/playbook/rules/new", {**NEW_RULE, "action": "save"})
    gone = _post(logged_in, "/playbook/rules/call-about-a-first-order/delete", {})
    assert gone.status_code == 303
    assert 'data-rule="call-about-a-first-order"' not in logged_in.get("/playbook").text
    _post(logged_in, EDIT, _form(_shipped(FIRST), due="4 business days", action="save"))
    assert "Back to the shipped playbook" in logged_in.get("/playbook").text
    reset = _post(logged_in, "/playbook/shipped", {})
    assert reset.status_code == 303
    listed = logged_in.get("/playbook").text
    assert "Back to the shipped playbook: the rules changed here are gone." in listed
    assert "· default playbook</p>" in listed
    with seeded() as session:
        assert "playbook" not in stored(session)


def test_the_preview_lists_what_the_last_30_days_would_have_made_and_writes_nothing(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    run_engine(seeded, web_settings, now=NOW, cadence=False)  # repeat purchases from the orders
    since = NOW - timedelta(days=30)
    with seeded() as session:
        repeats = session.execute(
            select(Event.client_id, func.count())
            .join(Client, Client.id == Event.client_id)
            .where(Event.type == "purchase.repeat", Event.occurred_at >= since)
            .group_by(Event.client_id)
        ).all()
        before = session.execute(select(func.count(FollowUp.id))).scalar_one()
        names = {c.id: c.name for c in session.execute(select(Client)).scalars()}
    assert repeats, "the sample business has repeat orders in the last 30 days"
    rule = {
        **NEW_RULE,
        "name": "thanks-for-coming-back",
        "on": "purchase.repeat",
        "title": "Thank {client} for order {n}",
        "action": "preview",
    }
    answer = _post(logged_in, "/playbook/rules/new", rule)
    assert answer.status_code == 200, answer.text
    expected = sum(n for _, n in repeats)
    assert f"would have created {expected} follow-up" in answer.text
    rows = re.findall(r'<td class="name card-title"><a [^>]*>([^<]*)</a>', answer.text)
    assert len(rows) == min(expected, 20)
    assert set(rows) <= {names[c] for c, _ in repeats}
    assert answer.text.count('<td data-label="Who">Olive Owner</td>') == len(rows)
    assert "Thank " in answer.text and " for order " in answer.text
    with seeded() as session:
        assert session.execute(select(func.count(FollowUp.id))).scalar_one() == before
        assert stored(session) == {}
    narrowed = _post(logged_in, "/playbook/rules/new", {**rule, "when.ordinal.min": "1000"})
    assert "would have created 0 follow-ups" in narrowed.text


def test_a_playbook_file_decides_and_the_page_says_so(
    web_settings: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    book = tmp_path / "rules.toml"
    book.write_text(default_playbook_text(), encoding="utf-8")
    settings = dataclasses.replace(web_settings, playbook=book)
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        listed = http.get("/playbook").text
        assert f"Edits are off here: the playbook file {book} decides" in listed
        assert "Turn off" not in listed
        assert f"the playbook file {book} decides" in http.get(EDIT).text
        refused = _post(http, EDIT, _form(_shipped(FIRST), due="9 days", action="save"))
        assert refused.status_code == 303
        assert "Not saved: the playbook file" in http.get("/playbook").text
    with seeded() as session:
        assert stored(session) == {}


@pytest.mark.parametrize("path", ["/playbook/rules/no-such-rule/edit"])
def test_an_unknown_rule_is_not_found(logged_in: TestClient, path: str) -> None:
    assert logged_in.get(path).status_code == 404

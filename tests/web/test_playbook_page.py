"""The Playbook page over HTTP: the rules in words, the template check, a rule's message for a
real client, the owner's switch to automated sending, and what would be sent in the next days."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.configuration import default_playbook_text
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Client, FollowUp
from goodwill.store.touch_switches import automated_rules
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user
from tests.web.sending import FIRST, can_send
from tests.web.touchpoints import make_followups


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return can_send(settings)


@pytest.fixture
def first_order(seeded: sessionmaker[Session], web_settings: Settings) -> int:
    """The follow-up the engine makes for C-0005's first order (due in two business days)."""
    return make_followups(seeded, web_settings, now=NOW).first


def _switch(http: TestClient, rule: str, on: str) -> None:
    csrf = csrf_from(http.get("/playbook").text)
    response = http.post(f"/playbook/{rule}/automation", data={"on": on, "csrf_token": csrf})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/playbook?rule={rule}"


def test_the_page_lists_the_rules_in_force_in_words(logged_in: TestClient) -> None:
    page = logged_in.get("/playbook")
    assert page.status_code == 200
    html = page.text
    for name in (FIRST, "birthday-card", "late-payment-owner-conversation", "new-lead-call"):
        assert f'data-rule="{name}"' in html
    assert "Thank the client for their first order" in html
    assert "The client&#39;s 2nd late payment or later" in html or "2nd late payment" in html
    assert "The business owner" in html
    assert "Within 2 business days" in html
    assert "Email, automated" in html
    assert "All templates are valid" in html
    assert 'href="/playbook" aria-current="page">Playbook</a>' in html


def test_a_rule_naming_a_missing_template_is_shown_with_its_name(
    web_settings: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    text = default_playbook_text().replace(
        'template = "birthday"\n', 'template = "birthday-cake"\n', 1
    )
    book = tmp_path / "playbook.toml"
    book.write_text(text, encoding="utf-8")
    settings = dataclasses.replace(web_settings, playbook=book)
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        html = http.get("/playbook").text
        assert "A template needs fixing" in html
        assert "All templates are valid" not in html
        assert "there is no template &#39;birthday-cake&#39;" in html
        assert "Rule <code>birthday-card</code> · template <code>birthday-cake</code>" in html
        api = http.get("/api/v1/playbook")  # the session does not open the API
        assert api.status_code == 401
        csrf = csrf_from(html)
        refused = http.post(
            "/playbook/birthday-card/automation", data={"on": "1", "csrf_token": csrf}
        )
        assert refused.status_code == 303
        assert "Not switched" in http.get("/playbook").text
    with seeded() as session:
        assert automated_rules(session) == set()


def test_a_playbook_file_that_cannot_be_read_is_shown_not_a_server_error(
    web_settings: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    book = tmp_path / "broken.toml"
    book.write_text("[[rule]]\nname = 'x'\n", encoding="utf-8")
    settings = dataclasses.replace(web_settings, playbook=book)
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        page = http.get("/playbook")
        assert page.status_code == 200
        assert "The playbook file cannot be read" in page.text
        assert str(book) in page.text


def test_the_owner_switches_a_rule_on_and_off_and_its_follow_ups_move(
    logged_in: TestClient, seeded: sessionmaker[Session], first_order: int
) -> None:
    assert f'id="followup-{first_order}"' in logged_in.get("/today?scope=everyone").text
    _switch(logged_in, FIRST, "1")
    page = logged_in.get(f"/playbook?rule={FIRST}").text
    assert f"Sending automatically is on for {FIRST}. Moved 1 follow-up to the worker." in page
    assert 'aria-checked="true"' in page
    assert f"Sending automatically is <strong>on</strong> for {FIRST}" in page
    with seeded() as session:
        assert automated_rules(session) == {FIRST}
        followup = session.get(FollowUp, first_order)
        assert followup is not None and followup.performer == "machine"
    assert f'id="followup-{first_order}"' not in logged_in.get("/today?scope=everyone").text
    _switch(logged_in, FIRST, "0")
    page = logged_in.get(f"/playbook?rule={FIRST}").text
    assert "Moved 1 follow-up back to people." in page
    with seeded() as session:
        assert automated_rules(session) == set()
        followup = session.get(FollowUp, first_order)
        assert followup is not None and followup.performer == "person"
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_label)
            .where(AuditEntry.object_type == "rule")
            .order_by(AuditEntry.id)
        ).all()
    assert [(a, o) for a, o, _ in audit] == [("touches.on", FIRST), ("touches.off", FIRST)]
    assert all("owner@example.com" in str(who) for _, _, who in audit)


def test_only_the_owner_switches_but_everyone_reads_the_page(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="mia@example.com", role="manager", name="Mia Manager", now=NOW)
    assert log_in(http, email="mia@example.com").status_code == 303
    page = http.get("/playbook")
    assert page.status_code == 200
    assert 'role="switch"' not in page.text
    csrf = csrf_from(page.text)
    refused = http.post(f"/playbook/{FIRST}/automation", data={"on": "1", "csrf_token": csrf})
    assert refused.status_code == 403
    assert "Only the owner may switch automated sending on or off." in refused.text
    with seeded() as session:
        assert automated_rules(session) == set()


def test_a_rule_that_needs_a_person_cannot_be_switched_on(logged_in: TestClient) -> None:
    page = logged_in.get("/playbook").text
    assert "No: a call needs a person." in page
    csrf = csrf_from(page)
    answer = logged_in.post(
        "/playbook/new-lead-call/automation", data={"on": "1", "csrf_token": csrf}
    )
    assert answer.status_code == 303
    assert "Not switched: rule &#39;new-lead-call&#39; cannot be automated" in (
        logged_in.get("/playbook").text
    )


def test_a_rule_is_previewed_with_a_real_client(logged_in: TestClient, first_order: int) -> None:
    answer = logged_in.get(
        "/playbook/preview",
        params={"rule": FIRST, "client": "C-0005"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert "Subject:" in answer.text and "preview-body" in answer.text
    whole = logged_in.get("/playbook/preview", params={"rule": FIRST, "client": "C-0005"})
    assert whole.status_code == 200 and "<html" in whole.text and "preview-body" in whole.text


def test_a_preview_says_why_it_cannot_be_made_instead_of_failing(
    logged_in: TestClient,
) -> None:
    hx = {"HX-Request": "true"}
    nobody = logged_in.get(
        "/playbook/preview", params={"rule": FIRST, "client": "no-such-person"}, headers=hx
    )
    assert nobody.status_code == 200
    assert "no client matches &#39;no-such-person&#39;" in nobody.text
    untouched = logged_in.get(
        "/playbook/preview", params={"rule": FIRST, "client": "C-0001"}, headers=hx
    )
    assert "has had no purchase.first touch point" in untouched.text
    no_rule = logged_in.get(
        "/playbook/preview", params={"rule": "no-such-rule", "client": "C-0001"}, headers=hx
    )
    assert "there is no rule &#39;no-such-rule&#39;" in no_rule.text
    silent = logged_in.get(
        "/playbook/preview", params={"rule": "anniversary-question", "client": "C-0001"}, headers=hx
    )
    assert "names no template" in silent.text


def test_a_name_that_matches_several_clients_offers_a_choice(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded() as session:
        names = [n for (n,) in session.execute(select(Client.name).order_by(Client.id))]
    common = next(letter for letter in "aeiou" if sum(letter in name.lower() for name in names) > 1)
    answer = logged_in.get(
        "/playbook/preview",
        params={"rule": FIRST, "client": common},
        headers={"HX-Request": "true"},
    )
    assert "Several clients match" in answer.text
    assert len(re.findall(r'hx-get="/playbook/preview\?', answer.text)) > 1


def test_the_next_week_lists_a_follow_up_the_rule_would_send(
    logged_in: TestClient, seeded: sessionmaker[Session], first_order: int
) -> None:
    page = logged_in.get(f"/playbook?rule={FIRST}").text
    assert f'data-followup="{first_order}"' in page
    assert f"Sending automatically is <strong>off</strong> for {FIRST}" in page
    assert "Would be sent once you switch the rule on" in page
    with seeded() as session:
        followup = session.get(FollowUp, first_order)
        client = session.get(Client, followup.client_id) if followup else None
        assert followup is not None and client is not None
        due = followup.due_at
    assert f'href="/clients/%23{client.id}">{client.name}</a>' in page
    assert due.astimezone(logged_in.app.state.goodwill.settings.zone).strftime("%Y-%m-%d") in page
    other = logged_in.get("/playbook?rule=birthday-card").text
    assert f'data-followup="{first_order}"' not in other
    assert "Nothing to send in the next 7 days." in other
    everything = logged_in.get("/playbook").text
    assert f'data-followup="{first_order}"' in everything
    assert "Next 7 days: 1" in everything


def test_a_follow_up_made_by_hand_appears_in_the_next_week_with_why_it_would_not_go(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    """An anniversary mail is marketing: a client who never agreed to news by mail gets none."""
    with seeded.begin() as session:
        client = session.execute(select(Client).where(Client.external_id == "C-0002")).scalar_one()
        client_name = client.name
        followup = FollowUp(
            key="tests:anniversary:C-0002",
            client_id=client.id,
            rule="anniversary",
            reason="anniversary",
            open_reason="anniversary",
            title="3 years with you",
            channel="email",
            personal_level="personal_message",
            template="anniversary",
            due_at=NOW + timedelta(days=2),
            status="open",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(followup)
        session.flush()
        made = followup.id
    page = logged_in.get("/playbook?rule=anniversary").text
    assert f'<tr data-followup="{made}" data-verdict="not sent">' in page
    row = page.split(f'data-followup="{made}"', 1)[1].split("</tr>", 1)[0]
    assert client_name in row
    assert "Would not be sent" in row
    assert "agreed to news by mail" in row
    assert "2026-11-25" in row


def test_a_client_without_the_touch_point_is_offered_clients_who_had_one(
    logged_in: TestClient, first_order: int
) -> None:
    answer = logged_in.get(
        "/playbook/preview",
        params={"rule": "anniversary", "client": "C-0005"},
        headers={"HX-Request": "true"},
    )
    assert "has had no client.anniversary touch point" in answer.text
    assert "Clients who have had one lately:" in answer.text
    assert 'client=C-0004"' in answer.text
    assert 'client=C-0005"' not in answer.text
    chosen = logged_in.get(
        "/playbook/preview",
        params={"rule": "anniversary", "client": "C-0004"},
        headers={"HX-Request": "true"},
    )
    assert "7 years together: thank you" in chosen.text

"""The templates a playbook names: they exist, their placeholders fill, and they render for a
real client and touch point (the preview, and later the automated sending, call this)."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goodwill.actions.replies import render_template
from goodwill.cli.main import app
from goodwill.domain.playbooks import Rule, parse_playbook
from goodwill.engine.configuration import default_playbook_text
from goodwill.errors import ConfigError, NotFound
from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Client, Event, Incident, Order, OrderLine
from goodwill.touch_messages import check_rule_templates, placeholder_uses, preview_rule
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.web.sample import add_client, staff_user

PLAYBOOK = parse_playbook(tomllib.loads(default_playbook_text()), source="default playbook")
TODAY = NOW.date()

#: A realistic payload for each touch point the shipped playbook's templates serve.
PAYLOADS: dict[str, dict[str, Any]] = {
    "lead.created": {"via": "web_form"},
    "lead.info_requested": {"topic": "catering for a wedding"},
    "email.link_clicked": {"url": "https://example.com/menu"},
    "purchase.first": {"order_id": "O-1001", "amount": "42.50", "channel": "shop", "n": 1},
    "purchase.repeat": {"order_id": "O-1001", "amount": "42.50", "channel": "shop", "n": 2},
    "client.milestone": {"order_id": "O-1001", "n": 10, "what": "10th order"},
    "payment.late": {"invoice_id": "INV-207", "days_late": 12, "n": 2},
    "invoice.overdue": {"invoice_id": "INV-207", "due_date": "2026-11-02", "n": 1},
    "purchase.missed": {"expected_at": "2026-11-01", "days_overdue": 22, "category": "coffee"},
    "client.birthday_month": {"birthday": "14 November", "day": 14, "month": 11},
    "client.anniversary": {"years": 3, "since": "2023-11-20"},
    "client.life_event": {
        "fact_id": 1,
        "kind": "event",
        "text": "Her daughter's wedding in Porto",
        "on_date": "2026-11-19",
        "what": "Her daughter's wedding in Porto",
    },
}


def _shop(session: Session, *, name: str, event: str, payload: dict[str, Any]) -> int:
    """A client with an owner, a first order of two lines, a resolved incident and one touch
    point of kind ``event``; the client's id."""
    owner = staff_user(session, name="Olive Owner", now=NOW)
    client = add_client(
        session,
        external_id="C-1",
        name=name,
        email="margaret@example.com",
        since=date(2023, 11, 20),
        now=NOW,
    )
    client.owner_id = owner.id
    order = Order(
        external_id="O-1001",
        client_id=client.id,
        occurred_at=NOW - timedelta(days=2),
        currency="EUR",
        amount_minor=4250,
    )
    session.add(order)
    session.flush()
    session.add_all(
        [
            OrderLine(
                order_id=order.id, line_key="1", product="Ethiopian beans", amount_minor=2450
            ),
            OrderLine(
                order_id=order.id, line_key="2", product="Oat milk", quantity=2, amount_minor=1800
            ),
        ]
    )
    incident = Incident(
        client_id=client.id,
        what="the grinder arrived with a cracked lid",
        currency="EUR",
        ours=True,
        cause="damaged in transit",
        tier=1,
        score=1.0,
        status="resolved",
        opened_at=NOW - timedelta(days=3),
        opened_by="owner@example.com",
    )
    session.add(incident)
    session.flush()
    if event == "incident.resolved":
        payload = {"incident_id": incident.id}
    session.add(
        Event(
            type=event,
            client_id=client.id,
            occurred_at=NOW - timedelta(days=1),
            recorded_at=NOW,
            source="test",
            external_id=event,
            idempotency_key=f"test:{event}",
            payload=payload,
        )
    )
    session.commit()
    return client.id


def _templated() -> list[Rule]:
    return [rule for rule in PLAYBOOK.rules if rule.template is not None]


def test_every_template_the_shipped_playbook_names_ships() -> None:
    check_rule_templates(PLAYBOOK, Settings(database_url="sqlite://"), source="default")
    assert {r.template for r in _templated()} >= {
        "lead-welcome",
        "lead-information",
        "lead-follow-up",
        "thank-you-first-purchase",
        "welcome-back",
        "milestone-thanks",
        "payment-conversation",
        "payment-check-in",
        "missed-purchase",
        "incident-follow-up",
        "birthday",
        "anniversary",
        "life-event",
    }


@pytest.mark.parametrize("rule", _templated(), ids=lambda r: r.name)
@pytest.mark.parametrize(
    ("client_name", "business"), [("Margaret Holloway", "Kade Koffie"), ("Holloways", None)]
)
def test_each_shipped_template_renders_for_a_real_client_of_its_touch_point(
    tmp_path: Path, rule: Rule, client_name: str, business: str | None
) -> None:
    settings = dataclasses.replace(
        load_settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", environ={}),
        business_name=business,
    )
    store = open_store(settings.database_url)
    with store() as session:
        client = _shop(session, name=client_name, event=rule.on, payload=PAYLOADS.get(rule.on, {}))
        message = preview_rule(
            session, settings, PLAYBOOK, rule.name, client_id=client, today=TODAY
        )
    greeting = "Margaret" if client_name == "Margaret Holloway" else client_name
    assert message.subject and "{" not in message.subject and "None" not in message.subject
    assert message.body.startswith(f"Dear {greeting},\n")
    assert "Olive Owner" in message.body
    assert "{" not in message.body and "None" not in message.body and "Subject" not in message.body
    assert (business in message.body) if business else "Kade" not in message.body
    if rule.on == "purchase.first":
        assert "(O-1001): Ethiopian beans, 2 × Oat milk." in message.body
    if rule.on == "incident.resolved":
        assert "the grinder arrived with a cracked lid" in message.body
    if rule.on == "invoice.overdue":
        assert "Invoice INV-207 was due on 2026-11-02" in message.body


def test_a_reply_box_leaves_the_subject_line_out() -> None:
    from goodwill.actions.replies import Placeholders

    text = render_template(
        Settings(database_url="sqlite://"),
        "birthday",
        {
            "client": Placeholders("client", {"greeting": "Margaret"}),
            "business": Placeholders("business", {"name": "Kade Koffie"}),
            "staff": Placeholders("staff", {"name": "Olive Owner"}),
        },
    )
    assert text.startswith("Dear Margaret,\n") and "Subject" not in text


def test_the_check_reads_guards_and_names_unguarded_placeholders() -> None:
    uses = placeholder_uses(
        "{% if client.hometown is defined %}{{ client.hometown }}{% endif %}"
        "{{ order.id }}{{ x.y if x.y is defined }}{{ client.first_name | default(client.name) }}"
        "{% for item in items %}{{ item.name }}{% endfor %}",
        name="t",
    )
    assert [(u.dotted, u.guarded) for u in uses] == [
        ("client.hometown", True),
        ("order.id", False),
        ("x.y", True),
        ("client.first_name", True),
        ("client.name", False),
        ("items", False),
    ]


def _playbook(tmp_path: Path, template: str, source: str | None) -> Path:
    """The shipped playbook with the first-purchase thank-you naming ``template``, written
    (with ``source``) in a templates directory the settings file names."""
    templates = tmp_path / "templates"
    templates.mkdir()
    if source is not None:
        (templates / f"{template}.txt").write_text(source, encoding="utf-8")
    (tmp_path / "goodwill.toml").write_text(f'templates = "{templates}"\n', encoding="utf-8")
    playbook = tmp_path / "mine.toml"
    playbook.write_text(
        default_playbook_text().replace(
            'template = "thank-you-first-purchase"', f'template = "{template}"'
        ),
        encoding="utf-8",
    )
    return playbook


def test_playbook_check_fails_on_a_missing_template_naming_the_rule(tmp_path: Path) -> None:
    playbook = _playbook(tmp_path, "thanks-a-lot", None)
    failed = goodwill("playbook", "check", str(playbook), config=tmp_path / "goodwill.toml")
    assert failed.returncode == 2, failed.stderr
    assert (
        "mine.toml: rule 'thank-you-first-purchase': template: there is no template "
        "'thanks-a-lot', shipped or in the templates directory"
    ) in failed.stderr


def test_playbook_check_fails_on_a_placeholder_the_touch_point_cannot_fill(
    tmp_path: Path,
) -> None:
    source = "Subject: Thanks\nDear {{ client.greeting }}, sorry about {{ incident.what }}.\n"
    playbook = _playbook(tmp_path, "thanks-a-lot", source)
    failed = goodwill("playbook", "check", str(playbook), config=tmp_path / "goodwill.toml")
    assert failed.returncode == 2, failed.stderr
    assert (
        "rule 'thank-you-first-purchase': template: 'thanks-a-lot' uses {{ incident.what }} on "
        "line 2, which the purchase.first touch point cannot fill"
    ) in failed.stderr
    guarded = source.replace(
        "{{ incident.what }}", "{% if incident.what is defined %}{{ incident.what }}{% endif %}"
    )
    (tmp_path / "templates" / "thanks-a-lot.txt").write_text(guarded, encoding="utf-8")
    ok = goodwill("playbook", "check", str(playbook), config=tmp_path / "goodwill.toml")
    assert ok.returncode == 0 and "rules, all valid" in ok.stdout


def test_a_sometimes_empty_placeholder_must_be_guarded() -> None:
    settings = Settings(database_url="sqlite://")
    with pytest.raises(ConfigError, match=r"guard it with \{% if client.first_name is defined"):
        check_rule_templates(
            dataclasses.replace(
                PLAYBOOK,
                rules=tuple(
                    dataclasses.replace(r, template="follow-up-after-incident")
                    if r.name == "birthday-card"
                    else r
                    for r in PLAYBOOK.rules
                ),
            ),
            settings,
            source="p",
        )


def test_playbook_preview_prints_the_subject_and_body_for_a_client(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db)
    with store() as session:
        client = _shop(
            session,
            name="Margaret Holloway",
            event="purchase.first",
            payload=PAYLOADS["purchase.first"],
        )
    runner = CliRunner()
    base = ["--db", db, "--now", NOW.isoformat(), "playbook", "preview"]
    shown = runner.invoke(app, [*base, "thank-you-first-purchase", "--client", str(client)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Subject: Thank you for your first order\n\nDear Margaret,\n")
    assert "Olive Owner" in shown.output
    missing = goodwill("playbook", "preview", "birthday-card", "--client", str(client), db=db)
    assert missing.returncode != 0
    assert "has had no client.birthday_month touch point" in missing.stderr
    unknown = goodwill("playbook", "preview", "no-such-rule", "--client", str(client), db=db)
    assert "there is no rule 'no-such-rule'" in unknown.stderr


def test_preview_of_a_birthday_uses_the_clients_own_date_before_the_month_comes(
    tmp_path: Path,
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", environ={})
    store = open_store(settings.database_url)
    with store() as session:
        client = _shop(session, name="Margaret Holloway", event="lead.created", payload={})
        with pytest.raises(NotFound):
            preview_rule(session, settings, PLAYBOOK, "anniversary", client_id=client, today=TODAY)
        row = session.get(Client, client)
        assert row is not None
        row.birthday_day, row.birthday_month = 14, 3
        session.commit()
        message = preview_rule(
            session, settings, PLAYBOOK, "birthday-card", client_id=client, today=TODAY
        )
    assert message.subject == "Happy birthday, Margaret"

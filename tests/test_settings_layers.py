"""Settings saved on the settings page: laid under the file, checked like it, seen at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import page_settings as page_actions
from goodwill.domain.audit import Actor
from goodwill.errors import ConfigError
from goodwill.settings import Settings, load_settings
from goodwill.settings_layers import LiveSettings, source_of, with_page
from goodwill.store import page_settings
from goodwill.store.database import open_store
from goodwill.store.models import AuditEntry
from tests.conftest import NOW

OWNER = Actor.user(1, "owner@example.com")


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goodwill.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_page_value_applies_where_the_file_is_silent(tmp_path: Path) -> None:
    base = load_settings(config_path=_file(tmp_path, 'currency = "EUR"\n'), environ={})
    made = with_page(base, {"timezone": "Europe/Amsterdam", "currency": "GBP"})
    assert made.timezone == "Europe/Amsterdam"
    assert made.currency == "EUR"  # the file wins
    assert source_of(made, "timezone") == "page"
    assert source_of(made, "currency") == "file"
    assert source_of(made, "date_order") == "default"


def test_tables_merge_key_by_key_with_the_file_winning(tmp_path: Path) -> None:
    path = _file(tmp_path, '[mail]\nfrom_address = "shop@example.com"\n')
    base = load_settings(config_path=path, environ={"GOODWILL_SMTP_PASSWORD": "env-secret"})
    made = with_page(
        base, {"mail": {"smtp_host": "smtp.example.com", "from_address": "other@example.com"}}
    )
    assert made.mail["smtp_host"] == "smtp.example.com"
    assert made.mail["from_address"] == "shop@example.com"
    assert made.mail["smtp_password"] == "env-secret"
    assert source_of(made, "mail.smtp_host") == "page"
    assert source_of(made, "mail.from_address") == "file"
    assert source_of(made, "mail.smtp_password") == "environment"


def test_the_environment_beats_the_page_for_the_trade(tmp_path: Path) -> None:
    base = load_settings(
        config_path=_file(tmp_path, ""), environ={"GOODWILL_BUSINESS_KIND": "cafe"}
    )
    made = with_page(base, {"business_kind": "software"})
    assert made.business_kind == "cafe"
    assert source_of(made, "business_kind") == "environment"


def test_settings_made_in_code_keep_their_values_as_the_files() -> None:
    base = Settings(database_url="sqlite://", timezone="Europe/Paris", currency="EUR")
    made = with_page(base, {"timezone": "Asia/Tokyo", "former_after_days": 400})
    assert (made.timezone, made.currency, made.former_after_days) == ("Europe/Paris", "EUR", 400)
    again = with_page(made, {"former_after_days": 500})
    assert again.former_after_days == 500


@pytest.mark.parametrize(
    ("key", "value", "field", "words"),
    [
        ("timezone", "Mars/Olympus", "timezone", "is not an IANA zone"),
        ("former_after_days", 0, "former_after_days", "1 or more"),
        ("cadence", {"level": 1.5}, "cadence.level", "from 0.5"),
        ("digest", {"hour": 25}, "digest.hour", "0 to 23"),
        ("mail", {"smtp_port": "twenty-five"}, "mail.smtp_port", "must be int"),
        ("business_kind", "bakery", "business_kind", "must be one of"),
        ("secret_key", "x", "secret_key", "cannot be changed on the settings page"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field_and_nothing_is_saved(
    store: sessionmaker[Session],
    settings: Settings,
    key: str,
    value: object,
    field: str,
    words: str,
) -> None:
    with store.begin() as session, pytest.raises(ConfigError) as caught:
        page_actions.change(session, settings, key, value, actor=OWNER, now=NOW)
    assert caught.value.fields["key"] == field
    assert words in caught.value.message
    with store() as session:
        assert page_settings.stored(session) == {}
        assert session.scalars(select(AuditEntry)).all() == []


def test_a_clash_with_the_file_is_refused_before_saving(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    base = load_settings(
        config_path=_file(tmp_path, 'currency = "EUR"\n'), database_url=url, environ={}
    )
    sessions = open_store(url)
    with sessions.begin() as session, pytest.raises(ConfigError) as caught:
        page_actions.change(session, base, "tracking", {"clicks": True}, actor=OWNER, now=NOW)
    assert caught.value.fields["key"] == "tracking.clicks"
    assert "needs public_url" in caught.value.message
    with sessions() as session:
        assert page_settings.stored(session) == {}


def test_a_change_is_saved_audited_with_secrets_hidden_and_cleared_again(
    store: sessionmaker[Session], settings: Settings
) -> None:
    mail = {"smtp_host": "smtp.example.com", "smtp_password": "hunter22"}
    with store.begin() as session:
        made = page_actions.change(session, settings, "mail", mail, actor=OWNER, now=NOW)
    assert made.mail["smtp_host"] == "smtp.example.com"
    with store() as session:
        assert page_settings.stored(session) == {"mail": mail}
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.object_id, entry.actor_label) == (
            "settings.change",
            "mail",
            "owner@example.com",
        )
        assert entry.after == {
            "value": {"smtp_host": "smtp.example.com", "smtp_password": "(changed)"}
        }
        assert "hunter22" not in str(entry.after)
    with store.begin() as session:
        back = page_actions.clear(session, made, "mail", actor=OWNER, now=NOW)
    assert back.mail == {}
    with store() as session:
        assert page_settings.stored(session) == {}


def test_a_running_process_sees_a_saved_change(
    store: sessionmaker[Session], settings: Settings
) -> None:
    ticks = iter(float(n) for n in range(100))
    live = LiveSettings(settings, store, every=1.0, clock=lambda: next(ticks))
    assert live.get().timezone == "UTC"
    with store.begin() as session:
        page_actions.change(session, settings, "timezone", "Europe/Lisbon", actor=OWNER, now=NOW)
    assert live.get().timezone == "Europe/Lisbon"


def test_a_saved_value_the_file_now_contradicts_falls_back_to_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    sessions = open_store(url)
    with sessions.begin() as session:
        page_settings.put(session, "tracking", {"clicks": True}, by="owner", at=NOW)
    base = load_settings(config_path=_file(tmp_path, ""), database_url=url, environ={})
    live = LiveSettings(base, sessions)
    assert live.get().tracking["clicks"] is False
    assert live.problem is not None and "public_url" in live.problem


def test_a_command_reads_the_saved_settings_without_creating_a_store(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'absent.db'}"
    assert page_settings.read_saved(missing) == {}
    assert not (tmp_path / "absent.db").exists()
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with open_store(url).begin() as session:
        page_settings.put(session, "currency", "EUR", by="owner", at=NOW)
    assert page_settings.read_saved(url) == {"currency": "EUR"}


def test_a_value_set_in_code_after_loading_is_never_undone_by_the_page(tmp_path: Path) -> None:
    loaded = load_settings(config_path=_file(tmp_path, 'currency = "EUR"\n'), environ={})
    demo = dataclasses.replace(loaded, secret_key="signing-key", timezone="Europe/Amsterdam")
    made = with_page(demo, {"timezone": "Asia/Tokyo", "business_name": "Kade Koffie"})
    assert (made.secret_key, made.timezone, made.currency) == (
        "signing-key",
        "Europe/Amsterdam",
        "EUR",
    )
    assert made.business_name == "Kade Koffie"
    again = with_page(made, {"business_name": "Kade Koffie & Thee"})
    assert (again.secret_key, again.business_name) == ("signing-key", "Kade Koffie & Thee")

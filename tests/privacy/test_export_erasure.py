"""Export and erasure of one person, on SQLite and PostgreSQL, at the store and CLI levels."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor
from goodwill.errors import InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.audit import entries
from goodwill.store.erasure import erase_client, purge_old_mail
from goodwill.store.export import client_tables, export_audited
from goodwill.store.models import (
    Attachment,
    Base,
    Client,
    Event,
    InboundMail,
    Invoice,
    Message,
    Order,
    OrderLine,
    Payment,
)
from tests.conftest import NOW
from tests.privacy.people import (
    CALL_NOTE,
    CONTACT_EMAIL,
    EMAIL,
    HOMETOWN,
    NAME,
    OTHER_EMAIL,
    PHONE,
    SECRET_NOTE,
    STREET,
    person,
)

OWNER = Actor.user(1, "owner@example.com", address="127.0.0.1")


def _tables_reaching_clients() -> set[str]:
    """Walked here independently of the code under test: every table with a foreign key to
    clients, or to a table that has one, and so on."""
    reached = {"clients"}
    while True:
        more = {
            t.name
            for t in Base.metadata.tables.values()
            if t.name not in reached
            and any(fk.column.table.name in reached for fk in t.foreign_keys)
        }
        if not more:
            return reached
        reached |= more


def _two_people(store: sessionmaker[Session]) -> tuple[int, int]:
    with store.begin() as session:
        return (
            person(session, now=NOW),
            person(session, now=NOW, key="B", name="Bystander Bob", email="bob@example.net"),
        )


def test_the_export_covers_every_table_that_references_the_client(
    store: sessionmaker[Session],
) -> None:
    zoltana, bob = _two_people(store)
    with store.begin() as session:
        data = export_audited(session, zoltana, actor=OWNER, now=NOW)
    archive = zipfile.ZipFile(io.BytesIO(data))
    document = json.loads(archive.read("client.json"))
    tables = document["tables"]
    expected = _tables_reaching_clients()
    assert expected <= {t.name for t in client_tables()}
    for name in expected:
        assert tables.get(name), f"the export has no rows of {name}"
    assert tables["clients"][0]["name"] == NAME
    # Only this client's rows: none of the bystander's.
    assert all(row.get("client_id") in (None, zoltana) for rows in tables.values() for row in rows)
    assert {r["name"] for r in tables["clients"]} == {NAME}
    assert [r["external_id"] for r in tables["orders"]] == ["O-A"]
    # Message bodies, raw mail and attachments are files in the archive.
    assert PHONE in tables["messages"][0]["text"]
    raw_path = tables["inbound_mail"][0]["raw"]["file"]
    assert EMAIL.encode() in archive.read(raw_path)
    # The mail from them that could not be filed is theirs too.
    assert [r["status"] for r in tables["inbound_mail"]] == ["parsed", "failed"]
    attachment = tables["attachments"][0]["content"]["file"]
    assert archive.read(attachment) == f"passport of {NAME}".encode()
    assert tables["followups"][0]["outcome"] == f"{NAME} was delighted"
    assert tables["feedback_answers"][0]["answer"].startswith("Because")
    assert tables["audit_log"][0]["after"] == {"email": EMAIL}
    summary = archive.read("summary.txt").decode()
    assert NAME in summary and PHONE in summary and SECRET_NOTE + "A" in summary
    with store() as session:
        logged = entries(session, client_id=zoltana, action="client.exported")
        assert [e.actor for e in logged] == ["owner@example.com"]
        assert entries(session, client_id=bob, action="client.exported") == []


def test_exporting_an_unknown_client_is_not_found(store: sessionmaker[Session]) -> None:
    with store.begin() as session, pytest.raises(NotFound, match="no client #999"):
        export_audited(session, 999, actor=OWNER, now=NOW)


def test_erasure_removes_the_person_and_keeps_the_books(store: sessionmaker[Session]) -> None:
    zoltana, bob = _two_people(store)
    erasure = erase_client(store, zoltana, actor=OWNER, reason="asked by email", now=NOW)
    assert erasure.counts["messages"] == 1 and erasure.counts["raw_mail"] == 1
    with store() as session:
        client = session.get(Client, zoltana)
        assert client is not None
        assert client.name == f"Erased client #{zoltana}"
        assert (client.email, client.phone, client.hometown, client.birthday_year) == (None,) * 4
        # The books stay: the order with its line and amount, the invoice and its payment.
        order = session.scalars(select(Order).where(Order.client_id == zoltana)).one()
        assert order.amount_minor == 12345
        assert session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).one()
        invoice = session.scalars(select(Invoice).where(Invoice.client_id == zoltana)).one()
        assert session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).one()
        assert session.scalars(select(Event.payload).where(Event.client_id == zoltana)).all() == [
            {}
        ]
        # The bystander keeps everything.
        assert session.scalars(select(Message)).one().from_name == "Bystander Bob"
        kept = session.scalars(select(InboundMail.message_id).order_by(InboundMail.id)).all()
        assert kept == ["<mB@example.org>", "<failedB@example.org>"]
        log = entries(session, client_id=zoltana)
        assert log[0].action == "client.erased" and log[0].detail == "asked by email"
        assert log[0].actor == "owner@example.com"
        updated = next(e for e in log if e.action == "client.updated")
        assert (updated.before, updated.after) == (None, None)
        assert entries(session, client_id=bob)[0].after == {"email": "bob@example.net"}


def test_an_erasure_needs_a_reason(store: sessionmaker[Session]) -> None:
    zoltana, _ = _two_people(store)
    with pytest.raises(InvalidInput, match="reason"):
        erase_client(store, zoltana, actor=OWNER, reason="  ", now=NOW)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_byte_of_an_erased_person_remains_in_the_sqlite_file_or_its_wal(
    store: sessionmaker[Session], settings: Settings
) -> None:
    zoltana, _ = _two_people(store)
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    needles = [NAME, EMAIL, PHONE, HOMETOWN, "A" + CONTACT_EMAIL, SECRET_NOTE, NAME.lower()]
    needles += [STREET, OTHER_EMAIL, CALL_NOTE]

    def held() -> set[str]:
        blob = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        return {n for n in needles if n.encode() in blob}

    # The check can see them: before the erasure every one is in the file or the WAL.
    assert held() == set(needles)
    with store() as reader:  # another connection open meanwhile, as in a running server
        reader.scalars(select(Client)).all()
        reader.rollback()
        erasure = erase_client(store, zoltana, actor=OWNER, reason="asked by email", now=NOW)
    assert erasure.compacted
    assert held() == set()
    assert b"Bystander Bob" in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_retention_purges_old_raw_mail_and_attachments_and_keeps_the_conversation(
    store: sessionmaker[Session],
) -> None:
    _two_people(store)
    assert purge_old_mail(store, days=0, now=NOW).as_dict() == {
        "raw_mail": 0,
        "attachments": 0,
        "outbox": 0,
    }
    assert purge_old_mail(store, days=500, now=NOW).raw_mail == 0
    result = purge_old_mail(store, days=30, now=NOW)
    assert result.as_dict() == {"raw_mail": 4, "attachments": 2, "outbox": 2}
    with store() as session:
        assert session.scalars(select(InboundMail)).all() == []
        assert session.scalars(select(Attachment)).all() == []
        assert len(session.scalars(select(Message)).all()) == 2


def test_a_worker_pass_purges_raw_mail_past_the_retention_setting(
    store: sessionmaker[Session], settings: Settings
) -> None:
    import dataclasses

    from goodwill.engine.worker import privacy_steps, run_pass

    _two_people(store)
    assert privacy_steps(store, settings, now=NOW) == []  # the default, 0, keeps mail
    keeping = dataclasses.replace(settings, privacy={"raw_mail_days": 30})
    steps = privacy_steps(store, keeping, now=NOW)
    assert [s.name for s in steps] == ["privacy: retention"]
    outcome = run_pass(store, steps, as_of=NOW, clock=lambda: NOW, sleep=lambda _s: None)
    assert outcome.counts["privacy: retention"]["raw_mail"] == 4
    with store() as session:
        assert session.scalars(select(InboundMail)).all() == []


@pytest.mark.parametrize("value", ["-1", "true", '"30"', "{ days = 3 }"])
def test_a_wrong_retention_setting_names_the_file_and_the_key(tmp_path: Path, value: str) -> None:
    from goodwill.errors import ConfigError
    from goodwill.settings import load_settings

    config = tmp_path / "goodwill.toml"
    config.write_text(
        f"[privacy]\nraw_mail_days = {value}\n" if "{" not in value else f"privacy = {value}\n"
    )
    with pytest.raises(ConfigError, match=f"{config}: privacy") as raised:
        load_settings(config_path=config, environ={})
    assert raised.value.fields["key"] in ("privacy", "privacy.raw_mail_days")
    config.write_text("[privacy]\nraw_mail_days = 90\n")
    assert load_settings(config_path=config, environ={}).privacy == {"raw_mail_days": 90}

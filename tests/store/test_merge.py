"""Merging two records of one person: every related row counted before and after."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.errors import Conflict, InvalidInput
from goodwill.settings import Settings
from goodwill.store.figures_models import ClientFigures
from goodwill.store.merge import merge_clients, plan_merge
from goodwill.store.models import (
    AuditEntry,
    Base,
    Client,
    ClientFact,
    ClientIdentity,
    Event,
    FollowUp,
    ImportItem,
    ImportRun,
    Interaction,
    Order,
)
from goodwill.store.queries import find_client
from tests.conftest import NOW
from tests.factories import PURCHASE_HEADER, write_csv
from tests.privacy.people import person

ACTOR = Actor.cli("tests")


def _open_followup(session: Session, client_id: int, key: str, reason: str) -> None:
    session.add(
        FollowUp(
            key=key,
            client_id=client_id,
            rule=reason,
            reason=reason,
            open_reason=reason,
            title="Call them",
            channel="call",
            personal_level="call",
            due_at=NOW,
            status="open",
            created_at=NOW,
            updated_at=NOW,
        )
    )


def _two_records(session: Session) -> tuple[int, int]:
    """Two records of one person, each with a row in every table that can hold one, plus a fact
    both hold, an open follow-up for a reason both have open, and one import that brought both."""
    keep = person(session, now=NOW, key="A")
    other = person(session, now=NOW, key="B", name="Zoltana Q.", email="zq@example.org")
    kept = session.get(Client, keep)
    assert kept is not None
    kept.phone, kept.hometown = None, None
    # No address at all: the address moves as one group from the other record.
    kept.street = kept.postcode = kept.city = kept.region = kept.country = None
    merged = session.get(Client, other)
    assert merged is not None
    merged.postcode, merged.client_since = "1011 AB", date(2001, 5, 1)
    for cid in (keep, other):
        session.add(
            ClientFact(client_id=cid, kind="interest", text="teapots", recorded_at=NOW, source="x")
        )
        session.add(
            Interaction(
                client_id=cid,
                kind="call",
                text="asked about teapots",
                occurred_at=NOW,
                author_label="tests",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        _open_followup(session, cid, f"missed/{cid}", "purchase.missed")
    _open_followup(session, other, f"birthday/{other}", "birthday")
    session.add(
        ClientIdentity(client_id=other, kind="email", value="zq.work@example.org", created_at=NOW)
    )
    run = ImportRun(kind="clients", file_name="c.csv", sha256="3" * 64, started_at=NOW)
    session.add(run)
    lone = ImportRun(kind="clients", file_name="d.csv", sha256="4" * 64, started_at=NOW)
    session.add(lone)
    session.flush()
    session.add(ImportItem(import_id=run.id, entity="client", entity_id=keep, created=True))
    session.add(ImportItem(import_id=run.id, entity="client", entity_id=other, created=True))
    session.add(ImportItem(import_id=lone.id, entity="client", entity_id=other, created=True))
    session.flush()
    return keep, other


def _totals(session: Session) -> dict[str, int]:
    return {
        table.name: int(session.execute(select(func.count()).select_from(table)).scalar_one())
        for table in Base.metadata.sorted_tables
    }


def _held(session: Session, client_ids: tuple[int, ...]) -> dict[str, int]:
    """Rows of every table with a client_id column that belong to these clients."""
    out = {}
    for table in Base.metadata.sorted_tables:
        column = table.c.get("client_id")
        if column is None or table.name == "audit_log":
            continue
        out[table.name] = int(
            session.execute(
                select(func.count()).select_from(table).where(column.in_(client_ids))
            ).scalar_one()
        )
    return out


def test_a_merge_moves_every_related_row_and_loses_nothing(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        keep, other = _two_records(session)
    with store() as session:
        totals, held = _totals(session), _held(session, (keep, other))
        plan = plan_merge(session, keep, other)
    assert plan.duplicate_facts == 1 and plan.closed_followups == 1
    with store.begin() as session:
        done = merge_clients(
            session, keep, other, actor=ACTOR, source="cli", by="tests", by_id=None, now=NOW
        )
    assert done.moved == plan.moved
    assert done.moved["orders"] == 1 and done.moved["facts"] == 1 and done.moved["followups"] == 3
    with store() as session:
        after, now_held = _totals(session), _held(session, (keep,))
        expected = dict(totals)
        expected["clients"] -= 1
        expected["client_facts"] -= 1  # the fact both held, once
        expected["events"] += 1  # client.merged
        expected["audit_log"] += 1
        expected["client_identities"] += 2  # the other's import id and email; its phone filled
        expected["import_items"] -= 1  # the import that brought both names the kept one once
        expected["client_figures"] -= 1  # the other's kept figures go; the kept one's to refresh
        expected["rhythm_rows"] -= 1  # the other's kept rhythm goes with the record
        assert after == expected
        expected_held = {name: count for name, count in held.items()}
        expected_held["client_facts"] -= 1
        expected_held["events"] += 1
        expected_held["client_identities"] += 2
        expected_held["client_figures"] -= 1
        expected_held["rhythm_rows"] -= 1
        assert now_held == expected_held
        assert session.get(Client, other) is None
        kept_figures = session.get(ClientFigures, keep)
        assert kept_figures is not None and kept_figures.stale  # rebuilt from the merged orders
        client = session.get(Client, keep)
        assert client is not None
        assert client.phone == "+1 555" and client.hometown == "Elm"  # filled from the other
        assert client.postcode == "1011 AB" and client.client_since == date(2001, 5, 1)
        assert client.email == "zoltana.quibbleworth@example.org"  # its own value wins
        assert client.version == 2
        identities = {
            (i.kind, i.value, i.source)
            for i in session.execute(
                select(ClientIdentity).where(ClientIdentity.client_id == keep)
            ).scalars()
        }
        assert identities == {
            ("external_id", "C-B", "merged"),
            ("email", "zq@example.org", "merged"),
            ("email", "zq.work@example.org", "added"),
            ("email", "zq.at.work@example.net", "added"),  # the kept record's own
            ("email", "B@other.example", "added"),  # the other's, moved as it was
        }
        followups = session.execute(
            select(FollowUp.reason, FollowUp.status).where(FollowUp.client_id == keep)
        ).all()
        assert sorted(followups) == [
            ("birthday", "open"),
            ("purchase.missed", "closed"),
            ("purchase.missed", "open"),
            ("thanks", "done"),
            ("thanks", "done"),
        ]
        items = session.execute(
            select(ImportItem.entity_id, ImportItem.created).where(ImportItem.entity == "client")
        ).all()
        assert sorted(items) == [(keep, False), (keep, True)]
        event = session.execute(select(Event).where(Event.type == "client.merged")).scalar_one()
        assert event.client_id == keep and event.source == "cli"
        assert event.payload["other_id"] == other and event.payload["other_ref"] == "C-B"
        assert event.payload["moved"]["orders"] == 1 and event.payload["by"] == "tests"
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "client.merged")
        ).scalar_one()
        assert entry.client_id == keep and entry.after is not None
        assert entry.after["moved"]["conversations"] == 1
        assert entry.before is not None and entry.before["other"]["name"] == "Zoltana Q."


def test_a_merge_with_itself_or_into_an_archived_record_is_refused_and_changes_nothing(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        keep, other = _two_records(session)
    with store() as session:
        totals = _totals(session)
    with store.begin() as session, pytest.raises(InvalidInput) as itself:
        merge_clients(session, keep, keep, actor=ACTOR, source="cli", by="t", by_id=None, now=NOW)
    assert itself.value.fields["field"] == "other" and "itself" in itself.value.message
    with store.begin() as session:
        client = session.get(Client, keep)
        assert client is not None
        client.archived_at = NOW - timedelta(days=1)
    with store.begin() as session, pytest.raises(InvalidInput) as archived:
        merge_clients(session, keep, other, actor=ACTOR, source="cli", by="t", by_id=None, now=NOW)
    assert archived.value.fields["field"] == "keep" and "archived" in archived.value.message
    with store.begin() as session, pytest.raises(Conflict) as stale:
        merge_clients(
            session,
            other,
            keep,
            actor=ACTOR,
            source="cli",
            by="t",
            by_id=None,
            now=NOW,
            other_version=7,
        )
    assert stale.value.fields["field"] == "other_version"
    with store() as session:
        assert _totals(session) == totals


# Ingest.resolve and find_client read ClientIdentity, so a merged record's ids find the kept one.
def test_a_reimport_of_either_records_files_after_a_merge_finds_the_kept_client(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["1", "C1", "Ann Example", "ann@home.example", "2025-01-01", "5", "EUR", "", "", ""],
        ["2", "C1", "Ann Example", "ann@home.example", "2025-02-01", "7", "EUR", "", "", ""],
        ["3", "C2", "Ann Example", "ann@work.example", "2025-03-01", "9", "EUR", "", "", ""],
    ]
    path = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, rows)
    import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
    with store.begin() as session:
        keep, other = find_client(session, "C1").id, find_client(session, "C2").id
        merge_clients(
            session, keep, other, actor=ACTOR, source="cli", by="tests", by_id=None, now=NOW
        )
    again = import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
    assert (again.imported, again.duplicates, again.errors) == (0, 3, [])
    later = write_csv(
        tmp_path / "later.csv",
        PURCHASE_HEADER,
        [["4", "C2", "Ann Example", "ann@work.example", "2025-04-01", "3", "EUR", "", "", ""]],
    )
    assert import_file(store, settings, FileKind.PURCHASES, later, now=NOW).imported == 1
    with store() as session:
        assert session.execute(select(func.count()).select_from(Client)).scalar_one() == 1
        assert find_client(session, "C2").id == keep
        assert find_client(session, "ann@work.example").id == keep
        orders = session.execute(select(Order.client_id)).scalars().all()
        assert sorted(orders) == [keep] * 4


def test_a_reimported_client_row_of_the_merged_record_does_not_rename_the_kept_one(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    header = ["client_id", "name", "email", "hometown"]
    first = write_csv(
        tmp_path / "c.csv",
        header,
        [
            ["C1", "Ann Example", "ann@home.example", ""],
            ["C2", "A. Example", "ann@work.example", ""],
        ],
    )
    import_file(store, settings, FileKind.CLIENTS, first, now=NOW)
    with store.begin() as session:
        keep, other = find_client(session, "C1").id, find_client(session, "C2").id
        merge_clients(
            session, keep, other, actor=ACTOR, source="cli", by="tests", by_id=None, now=NOW
        )
    again = write_csv(
        tmp_path / "again.csv", header, [["C2", "A. Example", "ann@work.example", "Porto"]]
    )
    import_file(store, settings, FileKind.CLIENTS, again, now=NOW)
    with store() as session:
        kept = find_client(session, "C2")
        assert (kept.id, kept.name, kept.email) == (keep, "Ann Example", "ann@home.example")
        assert kept.hometown == "Porto"  # what the row adds still lands on the kept record

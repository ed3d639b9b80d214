"""The bulk write every import and pass uses: many rows go in as they would one by one
(defaults filled, JSON and aware times kept, stored keys skipped), on SQLite and on PostgreSQL,
where many rows take the COPY path and few the multi-row INSERT."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.among import among
from goodwill.store.idempotent_insert import COPY_FROM, insert_new, insert_rows
from goodwill.store.models import Event
from tests.conftest import NOW
from tests.web.sample import add_client

PARIS = timezone(timedelta(hours=1))


def _events(client_id: int, keys: range, *, payload: bool = True) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in keys:
        row: dict[str, object] = {
            "type": "note.added",
            "client_id": client_id if i % 3 else None,
            "occurred_at": (NOW + timedelta(minutes=i)).astimezone(PARIS),
            "recorded_at": NOW,
            "source": "test",
            "external_id": f"e{i}",
            "idempotency_key": f"note/{i}",
        }
        if payload:
            row["payload"] = {
                "n": i,
                "text": f"line {i}\twith tab, \\ and \n newline",
                "none": None,
            }
        rows.append(row)
    return rows


@pytest.mark.parametrize("count", [3, COPY_FROM, COPY_FROM * 4])
def test_rows_go_in_as_given_and_come_back_by_the_asked_columns(
    store: sessionmaker[Session], count: int
) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        written = insert_rows(
            session, Event, _events(client.id, range(count)), returning=("id", "idempotency_key")
        )
    assert sorted(key for _, key in written) == sorted(f"note/{i}" for i in range(count))
    with store() as session:
        stored = {e.idempotency_key: e for e in session.scalars(select(Event))}
    assert {e.id for e in stored.values()} == {i for i, _ in written}
    for i in range(count):
        event = stored[f"note/{i}"]
        assert event.occurred_at == NOW + timedelta(minutes=i)
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.client_id == (client.id if i % 3 else None)
        assert event.payload == {
            "n": i,
            "text": f"line {i}\twith tab, \\ and \n newline",
            "none": None,
        }


@pytest.mark.parametrize("count", [5, COPY_FROM * 2])
def test_stored_keys_are_skipped_and_left_untouched(
    store: sessionmaker[Session], count: int
) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        assert (
            insert_new(session, Event, _events(client.id, range(count)), ["idempotency_key"])
            == count
        )
    with store.begin() as session:
        again = _events(client.id, range(count + 3))
        for row in again:
            row["source"] = "second"
        new = insert_rows(
            session, Event, again, keys=["idempotency_key"], returning=("idempotency_key",)
        )
    assert sorted(new) == sorted((f"note/{i}",) for i in range(count, count + 3))
    with store() as session:
        sources = {k: v for k, v in session.execute(select(Event.idempotency_key, Event.source))}
    assert len(sources) == count + 3
    assert [sources[f"note/{i}"] for i in range(count + 3)] == ["test"] * count + ["second"] * 3


def test_a_column_the_rows_leave_out_gets_its_default(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        insert_rows(session, Event, _events(client.id, range(COPY_FROM), payload=False))
    with store() as session:
        assert set(map(str, session.scalars(select(Event.payload)))) == {"{}"}


def test_two_bulk_writes_in_one_transaction_each_find_their_rows(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        first = insert_rows(session, Event, _events(client.id, range(COPY_FROM)), returning=("id",))
        second = insert_rows(
            session, Event, _events(client.id, range(COPY_FROM, 2 * COPY_FROM)), returning=("id",)
        )
        assert len(first) == len(second) == COPY_FROM
        assert not {i for (i,) in first} & {i for (i,) in second}
        keys = [f"note/{i}" for i in range(0, 2 * COPY_FROM, 7)] + ["note/none"]
        found = session.scalars(
            select(Event.idempotency_key).where(among(session, Event.idempotency_key, keys))
        ).all()
    assert sorted(found) == sorted(keys[:-1])


def test_among_nothing_is_no_row(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        insert_rows(session, Event, _events(client.id, range(3)))
        assert session.scalars(select(Event.id).where(among(session, Event.id, []))).all() == []


def test_among_does_not_cut_a_long_value_to_a_stored_one(store: sessionmaker[Session]) -> None:
    """The key column holds 400 characters; a longer value asked about is not a match."""
    stored = "k" * 400
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        row = _events(client.id, range(1))[0]
        insert_rows(session, Event, [{**row, "idempotency_key": stored}])
        asked = [stored + "x", stored[:-1]]
        found = session.scalars(
            select(Event.id).where(among(session, Event.idempotency_key, asked))
        ).all()
        assert found == []
        assert (
            len(
                session.scalars(
                    select(Event.id).where(among(session, Event.idempotency_key, [stored]))
                ).all()
            )
            == 1
        )


def test_among_takes_more_values_than_a_statement_has_placeholders(
    store: sessionmaker[Session],
) -> None:
    """A million clients' overdue list asks about more at once than PostgreSQL's 65,535
    placeholders and SQLite's (32,766 by default, 250,000 as Debian builds it)."""
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
        insert_rows(session, Event, _events(client.id, range(COPY_FROM)))
        ids = sorted(session.scalars(select(Event.id)))
        asked = [*ids[::2], *range(10**6, 10**6 + 260_000)]
        found = session.scalars(select(Event.id).where(among(session, Event.id, asked))).all()
        keys = [f"note/{i}" for i in range(1, COPY_FROM, 3)] + [f"x{i}" for i in range(70_000)]
        named = session.scalars(
            select(Event.idempotency_key).where(among(session, Event.idempotency_key, keys))
        ).all()
    assert sorted(found) == ids[::2]
    assert sorted(named) == sorted(keys[: len(range(1, COPY_FROM, 3))])

"""The client record's writes on SQLite and PostgreSQL: identities that find a client (the
import included), stale edits, archive and the engine, and refusals that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.client_record import Author
from goodwill.domain.records import ClientRef, FileKind
from goodwill.engine.configuration import run_pass
from goodwill.errors import Conflict, InvalidInput, NotAllowed
from goodwill.settings import Settings
from goodwill.store.client_record import (
    add_contact,
    changes_since,
    create_client,
    edit_client,
    holder_of,
    set_archived,
)
from goodwill.store.events import record_touch_point
from goodwill.store.models import AuditEntry, Client, ClientIdentity, Event, FollowUp, Order
from goodwill.store.queries import find_client, list_clients
from tests.conftest import NOW

ACTOR = Actor.cli("tests")
AUTHOR = Author("Olive Owner")


def _add(session: Session, settings: Settings, **typed: object) -> Client:
    return create_client(
        session, settings, typed, role=None, author=AUTHOR, actor=ACTOR, source="cli", now=NOW
    )


def _edit(
    session: Session, settings: Settings, client: Client, version: int | None, **typed: object
) -> list[str]:
    return edit_client(
        session,
        settings,
        client,
        typed,
        version=version,
        role=None,
        author=AUTHOR,
        actor=ACTOR,
        now=NOW,
    )


def test_other_emails_phones_and_ids_find_the_client_everywhere(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with store.begin() as session:
        client = _add(
            session,
            settings,
            name="Ana Lima",
            email="ana@example.com",
            other_emails=["ana@work.example"],
            phone="+351 912 345 678",
        )
        session.add(
            ClientIdentity(
                client_id=client.id,
                kind="external_id",
                value="OLD-7",
                source="merged",
                created_at=NOW,
            )
        )
        client_id = client.id
    with store() as session:
        assert find_client(session, "ANA@work.example").id == client_id
        assert find_client(session, "+351912345678").id == client_id
        assert find_client(session, "OLD-7").id == client_id
        assert holder_of(session, "email", "ana@work.example") is not None
        assert holder_of(session, "email", "ana@work.example", other_than=client_id) is None
        found, total = list_clients(session, settings, today=NOW.date(), search="work.example")
        assert total == 1 and found[0].id == client_id
    purchases = tmp_path / "p.csv"
    purchases.write_text(
        "order_id,client_id,client_name,email,occurred_at,amount,currency,product\n"
        "9001,OLD-7,Ana L,,2026-11-01,10,EUR,Beans\n"
        "9002,,Ana,ana@work.example,2026-11-02,12,EUR,Beans\n",
        "utf-8",
    )
    summary = import_file(store, settings, FileKind.PURCHASES, purchases, now=NOW)
    assert summary.imported == 2
    with store() as session:
        owners = set(session.execute(select(Order.client_id)).scalars())
        assert owners == {client_id}
        assert session.execute(select(func.count(Client.id))).scalar_one() == 1


def test_a_stale_edit_is_refused_with_what_changed_and_nothing_is_overwritten(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        client = _add(session, settings, name="Bo Berg", city="Lund")
        assert _edit(session, settings, client, 1, city="Malmö", postcode="211 20") == [
            "city",
            "postcode",
        ]
        client_id = client.id
    with store() as session, pytest.raises(Conflict) as caught:
        _edit(session, settings, session.get(Client, client_id), 1, city="Ystad")  # type: ignore[arg-type]
    assert caught.value.fields["version"] == 2
    changes = caught.value.fields["changes"]
    assert [(c["field"], c["before"], c["after"]) for c in changes] == [  # type: ignore[union-attr]
        ("city", "Lund", "Malmö"),
        ("postcode", None, "211 20"),
    ]
    assert "city, postcode" in caught.value.message
    with store() as session:
        assert session.get(Client, client_id).city == "Malmö"  # type: ignore[union-attr]
        assert changes_since(session, client_id, 2) == []


def test_an_identifier_another_client_holds_is_refused_and_nothing_changes(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        first = _add(session, settings, name="Ann", email="ann@example.com")
        second = _add(session, settings, name="Cy", email="cy@example.com")
        add_contact(
            session,
            settings,
            first,
            {"name": "Dee", "phone": "+31 6 12345678"},
            role=None,
            actor=ACTOR,
            now=NOW,
        )
        second_id = second.id
    with store() as session:
        entries = session.execute(select(func.count(AuditEntry.id))).scalar_one()
        cy = session.get(Client, second_id)
        assert cy is not None
        for field, value in (("other_emails", ["ANN@example.com"]), ("phone", "+31612345678")):
            with pytest.raises(InvalidInput) as caught:
                _edit(session, settings, cy, 1, **{field: value})
            assert (
                caught.value.fields["field"] == field
                and caught.value.fields["holder"] == f"#{first.id}"
            )
            session.rollback()
        with pytest.raises(InvalidInput):
            _add(session, settings, name="Ann again", email="ann@example.com")
        session.rollback()
        assert session.execute(select(func.count(AuditEntry.id))).scalar_one() == entries
        assert session.get(Client, second_id).version == 1  # type: ignore[union-attr]


def test_staff_may_change_contact_details_but_not_the_name_or_archive(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        client = _add(session, settings, name="Eve")
        edit_client(
            session,
            settings,
            client,
            {"city": "Graz", "name": "Eve"},
            version=1,
            role="staff",
            author=AUTHOR,
            actor=ACTOR,
            now=NOW,
        )
        assert client.city == "Graz" and client.version == 2
        with pytest.raises(NotAllowed) as caught:
            edit_client(
                session,
                settings,
                client,
                {"name": "Evelyn"},
                version=2,
                role="staff",
                author=AUTHOR,
                actor=ACTOR,
                now=NOW,
            )
        assert caught.value.fields["fields"] == ["name"]
        with pytest.raises(NotAllowed):
            set_archived(
                session,
                client,
                True,
                version=2,
                role="staff",
                author=AUTHOR,
                actor=ACTOR,
                source="cli",
                now=NOW,
            )


def test_an_archived_client_gets_no_new_follow_ups_and_leaves_the_list(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        kept = _add(session, settings, name="Kept", email="kept@example.com")
        archived = _add(session, settings, name="Gone", email="gone@example.com")
        set_archived(
            session,
            archived,
            True,
            version=1,
            role=None,
            author=AUTHOR,
            actor=ACTOR,
            source="cli",
            now=NOW,
        )
        for email in ("kept@example.com", "gone@example.com"):
            record_touch_point(
                session,
                settings,
                type="lead.created",
                client=ClientRef(None, email, None),
                occurred_at=NOW,
                source="tests",
                payload={},
                now=NOW,
            )
        ids = (kept.id, archived.id)
    run_pass(store, settings, now=NOW)
    with store() as session:
        having = set(session.execute(select(FollowUp.client_id)).scalars())
        assert ids[0] in having and ids[1] not in having
        shown, total = list_clients(session, settings, today=NOW.date())
        assert [c.id for c in shown] == [ids[0]] and total == 1
        gone, _ = list_clients(session, settings, today=NOW.date(), archived=True)
        assert [c.id for c in gone] == [ids[1]]
        kinds = list(
            session.execute(
                select(Event.idempotency_key).where(Event.type.like("client.%")).order_by(Event.id)
            ).scalars()
        )
        assert kinds == [
            f"cli:client.created/{ids[0]}",
            f"cli:client.created/{ids[1]}",
            f"cli:client.archived/{ids[1]}/2",
        ]

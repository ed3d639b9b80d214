"""Profile imports in the store: what each import brought, dry runs, overlapping exports, undo.

Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import run_pass
from goodwill.errors import InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.imports_log import get_import, import_history, undo_import
from goodwill.store.models import (
    Client,
    Event,
    FollowUp,
    ImportItem,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Refund,
)
from goodwill.store.queries import find_client
from goodwill.store.timeline import timeline
from tests.conftest import NOW

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Currency,Total,Refunded Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Billing Name,Cancelled at"
)
JANUARY = f"""{SHOPIFY_HEADER}
#1001,anna@example.com,paid,,EUR,34.95,0.00,2025-01-07 09:50:26 +0100,2,Espresso beans,12.50,Anna Berg,
#1001,,,,,,,,1,Filter papers,5.00,,
#1002,bob@example.com,paid,,EUR,20.00,0.00,2025-01-08 10:00:00 +0100,1,Grinder,20.00,Bob Smit,
"""
# February's export repeats January's orders (Bob's now partly refunded) and adds one.
FEBRUARY = f"""{SHOPIFY_HEADER}
#1001,anna@example.com,paid,,EUR,34.95,0.00,2025-01-07 09:50:26 +0100,2,Espresso beans,12.50,Anna Berg,
#1001,,,,,,,,1,Filter papers,5.00,,
#1002,bob@example.com,partially_refunded,,EUR,20.00,8.00,2025-01-08 10:00:00 +0100,1,Grinder,20.00,Bob Smit,
#1003,cleo@example.com,paid,,EUR,9.00,0.00,2025-02-02 10:00:00 +0100,1,Mug,9.00,Cleo Dias,
#1004,dan@example.com,voided,,EUR,9.00,0.00,2025-02-03 10:00:00 +0100,1,Mug,9.00,Dan,
"""
TABLES = (Client, Order, OrderLine, Refund, Invoice, Payment, Event, FollowUp)


def counts(store: sessionmaker[Session]) -> dict[str, int]:
    with store() as session:
        return {
            m.__tablename__: int(session.execute(select(func.count()).select_from(m)).scalar_one())
            for m in TABLES
        }


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def euro(settings: Settings) -> Settings:
    return replace(settings, timezone="Europe/Amsterdam", currency="EUR")


def test_a_detected_export_lands_with_what_it_created_recorded(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    summary = import_file(
        store, euro, None, write(tmp_path, "jan.csv", JANUARY), now=NOW, actor=Actor.cli("tests")
    )
    assert summary.profile == "shopify" and "Lineitem name" in (summary.detected or "")
    assert summary.created == {
        "clients": 2,
        "orders": 2,
        "invoices": 0,
        "payments": 0,
        "refunds": 0,
    }
    with store() as session:
        anna = session.execute(select(Order).where(Order.external_id == "#1001")).scalar_one()
        # 2 x 12.50 + 5.00 in lines, and 4.95 of shipping and taxes to make the total.
        assert anna.amount_minor == 3495
        rules = dict(
            session.execute(
                select(ImportItem.entity, ImportItem.rule).where(ImportItem.entity == "client")
            ).all()
        )
        assert rules == {"client": "new"}
        record = get_import(session, summary.import_id or 0)
        assert (record.status, record.profile, record.user) == ("done", "shopify", None)
        assert record.bytes_done == record.bytes_total > 0


def test_a_dry_run_reports_what_the_real_run_creates_and_writes_nothing(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "feb.csv", FEBRUARY)
    before = counts(store)
    dry = import_file(store, euro, None, path, now=NOW, dry_run=True)
    assert counts(store) == before
    with store() as session:
        assert import_history(session) == []
    assert dry.import_id is None and dry.preview["orders"][0]["order_id"] == "#1001"
    real = import_file(store, euro, None, path, now=NOW, actor=Actor.cli("tests"))
    assert dry.created == real.created
    assert (dry.read, dry.imported, dry.skipped) == (real.read, real.imported, real.skipped)


def test_a_later_overlapping_export_adds_only_what_is_new_and_undo_takes_only_that(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    jan = import_file(
        store, euro, None, write(tmp_path, "jan.csv", JANUARY), now=NOW, actor=Actor.cli("tests")
    )
    after_jan = counts(store)
    feb = import_file(
        store, euro, None, write(tmp_path, "feb.csv", FEBRUARY), now=NOW, actor=Actor.cli("tests")
    )
    assert feb.created == {"clients": 1, "orders": 1, "invoices": 0, "payments": 0, "refunds": 1}
    assert feb.skipped == 1  # the voided order
    with store() as session:
        bob = session.execute(select(Order).where(Order.external_id == "#1002")).scalar_one()
        assert bob.amount_minor == 1200  # 20.00 less the 8.00 refunded
        client = find_client(session, "bob@example.com")
        entries = timeline(session, client, kind="purchases").entries
        refund = [e for e in entries if e.type == "order.refunded"]
        assert refund and "8.00 EUR" in refund[0].title
    with store.begin() as session:
        report = undo_import(session, feb.import_id or 0, now=NOW, actor=Actor.cli("tests"))
    assert report.removed["orders"] == 1 and report.removed["refunds"] == 1
    assert report.removed["clients"] == 1
    assert counts(store) == after_jan
    with store() as session:
        bob = session.execute(select(Order).where(Order.external_id == "#1002")).scalar_one()
        assert bob.amount_minor == 2000
        assert get_import(session, jan.import_id or 0).status == "done"


def test_undoing_the_first_of_two_overlapping_imports_keeps_what_the_second_also_brought(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    jan = import_file(
        store, euro, None, write(tmp_path, "jan.csv", JANUARY), now=NOW, actor=Actor.cli("tests")
    )
    feb = import_file(
        store, euro, None, write(tmp_path, "feb.csv", FEBRUARY), now=NOW, actor=Actor.cli("tests")
    )
    with store.begin() as session:
        first = undo_import(session, jan.import_id or 0, now=NOW, actor=Actor.cli("tests"))
    assert first.removed["orders"] == 0 and first.kept["orders"] == 2
    assert counts(store)["orders"] == 3
    with store.begin() as session:  # the second import now owns them: its undo empties the store
        undo_import(session, feb.import_id or 0, now=NOW, actor=Actor.cli("tests"))
    assert counts(store) == dict.fromkeys(counts(store), 0)


def test_undo_removes_the_events_and_follow_ups_the_import_caused_and_is_safe_to_repeat(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    empty = counts(store)
    text = JANUARY.replace("2025-01-0", "2026-11-1")  # purchases fresh enough to act on
    summary = import_file(
        store, euro, None, write(tmp_path, "new.csv", text), now=NOW, actor=Actor.cli("tests")
    )
    run_pass(store, euro, now=NOW + timedelta(hours=1))
    made = counts(store)
    assert made["followups"] > 0 and made["events"] > made["orders"]
    with store.begin() as session:
        undo_import(session, summary.import_id or 0, now=NOW, actor=Actor.cli("tests"))
    assert counts(store) == empty
    with store.begin() as session:
        again = undo_import(session, summary.import_id or 0, now=NOW, actor=Actor.cli("tests"))
        assert again.already and get_import(session, summary.import_id or 0).status == "undone"
        with pytest.raises(NotFound):
            undo_import(session, 999, now=NOW, actor=Actor.cli("tests"))


def test_a_client_someone_wrote_about_survives_the_undo(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    from goodwill.store.events import record_touch_point  # noqa: F401 - the public writer

    summary = import_file(
        store, euro, None, write(tmp_path, "jan.csv", JANUARY), now=NOW, actor=Actor.cli("tests")
    )
    with store.begin() as session:
        anna = find_client(session, "anna@example.com")
        session.add(
            Event(
                type="note",
                client_id=anna.id,
                occurred_at=NOW,
                recorded_at=NOW,
                source="web",
                external_id="note/1",
                idempotency_key="web:note/1",
                payload={"text": "prefers oat milk"},
            )
        )
    with store.begin() as session:
        report = undo_import(session, summary.import_id or 0, now=NOW, actor=Actor.cli("tests"))
    assert report.removed["clients"] == 1 and report.kept["clients"] == 1
    with store() as session:
        assert find_client(session, "anna@example.com").name == "Anna Berg"


QUICKBOOKS = """Acme Roasters
Sales by Customer Detail
January - March 2025

,Date,Transaction type,Num,Product/Service,Memo/Description,Qty,Sales Price,Amount,Balance
Harbor Cafe,,,,,,,,,
,01/15/2025,Invoice,1001,Coffee:Espresso beans,House blend,2,15.00,30.00,30.00
,01/15/2025,Invoice,1001,Supplies:Filters,,1,5.00,5.00,35.00
,02/03/2025,Credit Memo,5001,Coffee:Espresso beans,Damaged bag,-1,15.00,-15.00,20.00
,02/04/2025,Payment,77,,,,,,
Total for Harbor Cafe,,,,,,,,$20.00,
Mill Street Bakery,,,,,,,,,
,03/01/2025,Sales Receipt,1001,Coffee:Decaf,,1,"1,549.00","1,549.00",0.00
Total for Mill Street Bakery,,,,,,,,"$1,549.00",
TOTAL,,,,,,,,"$1,569.00",

"Accrual Basis Monday, April 7, 2025 09:15 AM GMT-07:00"
"""


def test_a_report_shaped_export_matches_clients_by_name_within_its_source(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    usd = replace(euro, currency="USD", timezone="America/Los_Angeles")
    path = write(tmp_path, "qb.csv", QUICKBOOKS)
    first = import_file(store, usd, None, path, now=NOW, actor=Actor.cli("tests"))
    assert first.profile == "quickbooks-sales" and first.errors == []
    assert first.created["clients"] == 2 and first.created["orders"] == 2
    assert first.skipped == 1  # the payment row
    with store() as session:
        orders = dict(session.execute(select(Order.external_id, Order.amount_minor)).all())
        assert orders == {"Invoice 1001": 2000, "Sales Receipt 1001": 154900}
        line = session.execute(
            select(OrderLine).where(OrderLine.product == "Espresso beans")
        ).scalar_one()
        assert line.category == "Coffee"
    again = import_file(store, usd, None, path, now=NOW, actor=Actor.cli("tests"))
    assert again.created == dict.fromkeys(again.created, 0)
    with store() as session:
        assert session.execute(select(func.count()).select_from(Client)).scalar_one() == 2
        rules = {
            r
            for (r,) in session.execute(
                select(ImportItem.rule).where(
                    ImportItem.import_id == again.import_id, ImportItem.entity == "client"
                )
            )
        }
        assert rules == {"name"}


def test_a_file_no_profile_fits_is_refused_with_the_way_out(
    store: sessionmaker[Session], euro: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "odd.csv", "when,who,how much\n2025-01-01,Ann,3\n")
    with pytest.raises(InvalidInput, match="no import profile fits") as caught:
        import_file(store, euro, None, path, now=NOW, actor=Actor.cli("tests"))
    assert "--profile" in caught.value.message and "--map" in caught.value.message
    with pytest.raises(InvalidInput, match="not a Shopify orders export file"):
        import_file(store, euro, None, path, now=NOW, profile="shopify")
    with pytest.raises(InvalidInput, match="no such profile"):
        import_file(store, euro, FileKind.PURCHASES, path, now=NOW, profile="nope")

"""Importing CSV files into the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.models import ClientFact, Event, ImportRun, Invoice, Order, OrderLine, Payment
from goodwill.store.queries import client_profile, find_client, list_clients
from goodwill.store.timeline import timeline
from tests.conftest import NOW
from tests.factories import PURCHASE_HEADER, purchase_rows, write_csv

PURCHASES = """\ufefforder_id,client_id,client_name,email,occurred_at,amount,currency,product,category,channel
1001,C1,Ann Example,ann@example.com,2024-03-05T10:00:00+01:00,"$1,240.00",USD,Grinder,Equipment,web shop
1001,C1,Ann Example,ann@example.com,2024-03-05T10:00:00+01:00,12.50,USD,Filter,Supplies,web shop
1002,C2,"Bo, Jr.",bo@example.com,05/03/2024,99,USD,"Beans, dark",Coffee,Reseller: Northwind
1003,C2,Bo,bo@example.com,not a date,99,USD,Beans,Coffee,
1004,C2,Bo,bo@example.com,2024-04-05,lots,USD,Beans,Coffee,
1005,,Cy,cy@example.com,2024-04-06,"1.234,50",USD,Beans,Coffee,Reseller: Northwind
"""


def count(store: sessionmaker[Session], model: type) -> int:
    with store() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def run(store: sessionmaker[Session], settings: Settings, kind: FileKind, path: Path, **kw):
    return import_file(store, settings, kind, path, now=NOW, **kw)


def test_good_rows_land_and_bad_rows_are_reported_with_line_and_column(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES, encoding="utf-8")
    summary = run(store, settings, FileKind.PURCHASES, path)
    assert (summary.read, summary.imported, summary.duplicates) == (6, 4, 0)
    assert [(e.line, e.column) for e in summary.errors] == [(5, "occurred_at"), (6, "amount")]
    assert count(store, Order) == 3 and count(store, OrderLine) == 4
    with store() as session:
        order = session.execute(select(Order).where(Order.external_id == "1001")).scalar_one()
        assert order.amount_minor == 125250
        cy = find_client(session, "cy@example.com")
        assert cy.external_id is None and cy.name == "Cy"


def test_reimporting_the_same_file_creates_nothing_twice(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES, encoding="utf-8")
    run(store, settings, FileKind.PURCHASES, path)
    before = (count(store, Order), count(store, OrderLine), count(store, Event))
    again = run(store, settings, FileKind.PURCHASES, path)
    assert (again.imported, again.duplicates, len(again.errors)) == (0, 4, 2)
    assert (count(store, Order), count(store, OrderLine), count(store, Event)) == before
    assert count(store, ImportRun) == 2


def test_an_overlapping_later_export_adds_only_what_is_new(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = purchase_rows(300, clients=20)
    first = write_csv(tmp_path / "a.csv", PURCHASE_HEADER, rows[:200])
    second = write_csv(tmp_path / "b.csv", PURCHASE_HEADER, rows[100:])
    run(store, settings, FileKind.PURCHASES, first)
    summary = run(store, settings, FileKind.PURCHASES, second, chunk_size=7)
    assert summary.imported == 100 and summary.duplicates == 100
    assert count(store, OrderLine) == 300
    assert count(store, Order) == len({r[0] for r in rows})


def test_identical_lines_within_one_order_are_both_kept(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    row = ["9", "C1", "Ann", "ann@example.com", "2025-01-01", "5.00", "EUR", "Cup", "Bar", ""]
    path = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, [row, row])
    assert run(store, settings, FileKind.PURCHASES, path).imported == 2
    assert run(store, settings, FileKind.PURCHASES, path).duplicates == 2
    assert count(store, OrderLine) == 2


def test_a_file_without_the_required_columns_is_refused_before_writing(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("order,who,when\n1,C1,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"p.csv: line 1: missing column order_id"):
        run(store, settings, FileKind.PURCHASES, path)
    assert count(store, ImportRun) == 0


def test_column_mapping_and_semicolons_and_decimal_commas(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        'Order No;Customer;Date;Total\nA-1;0042;07/10/2025;1.240,50\nA-2;0042;13/10/2025;"3,00"\n',
        encoding="cp1252",
    )
    summary = run(
        store,
        settings,
        FileKind.PURCHASES,
        path,
        mapping={
            "Order No": "order_id",
            "Customer": "client_id",
            "Date": "occurred_at",
            "Total": "amount",
        },
    )
    assert summary.imported == 2 and summary.delimiter == ";"
    with store() as session:
        client = find_client(session, "0042")
        overview = client_profile(session, settings, client, today=date(2026, 1, 1)).overview
        assert overview.figures.total_spend_minor == 124350 and overview.currency == "USD"
        orders = session.execute(select(Order).order_by(Order.external_id)).scalars().all()
        assert [o.occurred_at.date() for o in orders] == [date(2025, 10, 7), date(2025, 10, 13)]


def test_payments_record_late_payments_and_a_later_paid_date_updates(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    header = "invoice_id,client_id,amount,issued_at,due_date,paid_at\n"
    early = tmp_path / "p1.csv"
    early.write_text(
        header + "I1,C1,100,2026-01-01,2026-01-31,2026-01-20\n"
        "I2,C1,100,2026-02-01,2026-03-03,2026-03-20\n"
        "I3,C1,100,2026-04-01,2026-05-01,\n",
        encoding="utf-8",
    )
    later = tmp_path / "p2.csv"
    later.write_text(
        header + "I3,C1,100,2026-04-01,2026-05-01,2026-05-10\nI4,C1,100,2026-10-01,2026-10-31,\n",
        encoding="utf-8",
    )
    first = run(store, settings, FileKind.PAYMENTS, early)
    assert (first.imported, first.updated) == (3, 0)
    second = run(store, settings, FileKind.PAYMENTS, later)
    assert (second.imported, second.updated, second.duplicates) == (1, 1, 0)
    assert run(store, settings, FileKind.PAYMENTS, later).duplicates == 2
    assert count(store, Payment) == 3 and count(store, Invoice) == 4
    with store() as session:
        client = find_client(session, "C1")
        profile = client_profile(session, settings, client, today=date(2026, 11, 23))
        assert profile.overview.figures.late_payment_count == 3  # I2, I3 late; I4 unpaid past due
        kinds = [e.type for e in timeline(session, client).entries]
        assert kinds.count("payment.received") == 3 and kinds.count("invoice.issued") == 4


def test_clients_import_keeps_personal_facts_and_updates_what_changed(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    header = "client_id,name,email,birthday,hometown,notes,interests,values,client_since\n"
    path = tmp_path / "c.csv"
    path.write_text(
        header + 'C1,Ann Example,ann@example.com,--0517,Leiden,"Prefers calls",'
        'sailing;jazz,"being on time matters",2006-03-01\n',
        "utf-8",
    )
    assert run(store, settings, FileKind.CLIENTS, path).imported == 1
    assert run(store, settings, FileKind.CLIENTS, path).duplicates == 1
    path.write_text(header + "C1,Ann Example,ann@example.com,--0517,Delft,,,,\n", "utf-8")
    assert run(store, settings, FileKind.CLIENTS, path).updated == 1
    assert count(store, ClientFact) == 4
    with store() as session:
        profile = client_profile(
            session, settings, find_client(session, "C1"), today=date(2026, 11, 23)
        )
        assert profile.hometown == "Delft" and profile.birthday == "17 May"
        assert profile.facts["interest"] == ["sailing", "jazz"]
        assert profile.overview.tenure == "20 years"
        assert profile.overview.kind.value == "client"


def test_a_client_known_by_email_adopts_the_client_id_from_a_later_file(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    purchases = write_csv(
        tmp_path / "p.csv",
        PURCHASE_HEADER,
        [["1", "", "Ann", "ann@example.com", "2025-01-01", "5", "EUR", "", "", ""]],
    )
    run(store, settings, FileKind.PURCHASES, purchases)
    clients = tmp_path / "c.csv"
    clients.write_text("client_id,name,email\nC1,Ann Example,ann@example.com\n", "utf-8")
    run(store, settings, FileKind.CLIENTS, clients)
    with store() as session:
        rows, total = list_clients(session, settings, today=date(2026, 1, 1))
        assert total == 1 and rows[0].external_id == "C1" and rows[0].name == "Ann Example"
        assert rows[0].figures.purchase_count == 1


def test_search_and_paging_work_on_the_client_list(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, purchase_rows(400, clients=120))
    run(store, settings, FileKind.PURCHASES, path)
    with store() as session:
        page, total = list_clients(
            session, settings, today=date(2026, 1, 1), limit=50, offset=100, sort="spend"
        )
        assert len(page) == total - 100
        spends = [r.figures.total_spend_minor for r in page]
        assert spends == sorted(spends, reverse=True)
        found, n = list_clients(session, settings, today=date(2026, 1, 1), search="client 7")
        assert n == len(found) and all("client 7" in r.name.lower() for r in found)
        oldest, _ = list_clients(session, settings, today=date(2026, 1, 1), sort="since")
        starts = [r.figures.since for r in oldest]
        assert starts == sorted(starts) and None not in starts
        exact, _ = list_clients(session, settings, today=date(2026, 1, 1), search="C00007")
        assert [r.external_id for r in exact] == ["C00007"]


def test_a_killed_import_rerun_leaves_exactly_the_rows_of_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    rows = purchase_rows(40_000, clients=3000)
    path = write_csv(tmp_path / "big.csv", PURCHASE_HEADER, rows)
    cli = [
        sys.executable,
        "-m",
        "goodwill",
        "--db",
        settings.database_url,
        "import",
        "purchases",
        str(path),
        "--json",
    ]
    from goodwill.store.database import open_store

    store = open_store(settings.database_url)
    proc = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    partial = 0
    while time.monotonic() < deadline and proc.poll() is None:
        partial = count(store, OrderLine)
        if partial > 0:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert 0 < partial < len(rows), "the import was not caught mid-file"
    done = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert count(store, OrderLine) == len(rows)
    assert count(store, Order) == len({r[0] for r in rows})
    assert count(store, Event) == len({r[0] for r in rows})


def test_a_file_without_a_currency_column_is_read_in_the_business_currency(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    header = "order_id,client_id,client_name,email,occurred_at,amount,currency\n"
    euros = write_csv(
        tmp_path / "euros.csv",
        header.strip().split(","),
        [["E1", "C1", "Ann", "ann@example.com", "2025-01-01", "40,00", "EUR"]],
    )
    run(store, settings, FileKind.PURCHASES, euros)
    bare = tmp_path / "bare.csv"
    bare.write_text(
        "order_id,client_id,client_name,email,occurred_at,amount\n"
        "B1,C1,Ann,ann@example.com,2025-02-01,25.00\n",
        encoding="utf-8",
    )
    unset = run(store, settings, FileKind.PURCHASES, bare)
    assert unset.notes == [
        "No currency column: amounts are read as EUR, the currency most orders are in "
        "(set the business's currency in the settings to be sure)."
    ]
    with store() as session:
        order = session.execute(select(Order).where(Order.external_id == "B1")).scalar_one()
    assert order.currency == "EUR"  # it counts in spend and lifetime value with the rest

    chosen = dataclasses.replace(settings, currency="EUR")
    set_up = run(store, chosen, FileKind.PURCHASES, bare, dry_run=True)
    assert set_up.notes == ["No currency column: amounts are read as EUR, the business's currency."]
    assert run(store, chosen, FileKind.PURCHASES, euros, dry_run=True).notes == []

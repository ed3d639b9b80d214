"""The demo files: deterministic, in the canonical import formats, and showing every story."""

from __future__ import annotations

import csv
import itertools
import re
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.demo import (
    CLIENT_COLUMNS,
    PAYMENT_COLUMNS,
    PURCHASE_COLUMNS,
    DemoFiles,
    write_demo_files,
)
from goodwill.domain.records import FileKind, Reading, read_row

TODAY = date(2026, 11, 23)


@dataclass(frozen=True)
class Demo:
    clients: list[dict[str, str]]
    purchases: list[dict[str, str]]
    payments: list[dict[str, str]]

    def order_days(self) -> dict[str, list[date]]:
        """Each client's purchase days, one per order, in time order."""
        seen: dict[str, tuple[str, date]] = {}
        for row in self.purchases:
            seen[row["order_id"]] = (row["client_id"], _instant(row["occurred_at"]).date())
        days: dict[str, list[date]] = defaultdict(list)
        for client_id, day in seen.values():
            days[client_id].append(day)
        return {client_id: sorted(found) for client_id, found in days.items()}


def _read(path: Path, header: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == header
    assert all(len(row) == len(header) for row in rows[1:])
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _load(files: DemoFiles) -> Demo:
    return Demo(
        _read(files.clients, CLIENT_COLUMNS),
        _read(files.purchases, PURCHASE_COLUMNS),
        _read(files.payments, PAYMENT_COLUMNS),
    )


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _load(write_demo_files(tmp_path_factory.mktemp("demo"), today=TODAY))


def _bytes(files: DemoFiles) -> list[bytes]:
    return [files.clients.read_bytes(), files.purchases.read_bytes(), files.payments.read_bytes()]


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    first = write_demo_files(tmp_path / "a", seed=11, today=TODAY)
    second = write_demo_files(tmp_path / "b", seed=11, today=TODAY)
    assert _bytes(first) == _bytes(second)


def test_a_different_seed_writes_different_files(tmp_path: Path) -> None:
    first = write_demo_files(tmp_path / "a", seed=11, today=TODAY)
    second = write_demo_files(tmp_path / "b", seed=12, today=TODAY)
    assert all(a != b for a, b in zip(_bytes(first), _bytes(second), strict=True))


def test_the_files_are_utf8_csv_with_the_exact_canonical_headers(tmp_path: Path) -> None:
    files = write_demo_files(tmp_path, today=TODAY, clients=40)
    demo = _load(files)  # _read checks the header and the width of every row
    assert len(demo.clients) == 40
    assert any(not name.isascii() for name in (c["name"] for c in demo.clients))


def test_every_row_is_read_by_the_canonical_importer_rows(demo: Demo) -> None:
    reading = Reading(zone=ZoneInfo("Europe/Amsterdam"), currency="EUR", date_order="ymd")
    for kind, rows in (
        (FileKind.CLIENTS, demo.clients),
        (FileKind.PURCHASES, demo.purchases),
        (FileKind.PAYMENTS, demo.payments),
    ):
        for row in rows:
            read_row(kind, row, reading)


def test_a_business_of_300_clients_has_thousands_of_purchase_lines(demo: Demo) -> None:
    assert len(demo.clients) == 300
    assert 3000 <= len(demo.purchases) <= 8000


def test_lines_of_one_order_are_consecutive_and_belong_to_one_client(demo: Demo) -> None:
    finished: set[str] = set()
    previous: dict[str, str] | None = None
    for row in demo.purchases:
        if previous is not None and row["order_id"] == previous["order_id"]:
            assert row["client_id"] == previous["client_id"]
            assert row["occurred_at"] == previous["occurred_at"]
            assert row["channel"] == previous["channel"]
        else:
            assert row["order_id"] not in finished
            if previous is not None:
                finished.add(previous["order_id"])
        previous = row


def test_orders_and_invoices_name_known_clients(demo: Demo) -> None:
    clients = {c["client_id"]: c for c in demo.clients}
    for row in demo.purchases:
        assert (row["client_name"], row["email"]) == (
            clients[row["client_id"]]["name"],
            clients[row["client_id"]]["email"],
        )
    assert {p["client_id"] for p in demo.payments} <= set(clients)


def test_nothing_happens_after_today(demo: Demo) -> None:
    assert all(_instant(p["occurred_at"]).date() <= TODAY for p in demo.purchases)
    assert all(date.fromisoformat(p["issued_at"]) <= TODAY for p in demo.payments)
    assert all(date.fromisoformat(p["paid_at"]) <= TODAY for p in demo.payments if p["paid_at"])
    assert all(
        date.fromisoformat(c["client_since"]) < TODAY for c in demo.clients if c["client_since"]
    )


def test_invoices_fall_due_thirty_days_after_issue_and_are_paid_after_issue(demo: Demo) -> None:
    for p in demo.payments:
        issued = date.fromisoformat(p["issued_at"])
        assert date.fromisoformat(p["due_date"]) == issued + timedelta(days=30)
        assert not p["paid_at"] or date.fromisoformat(p["paid_at"]) > issued


def test_amounts_are_positive_euro_decimals_with_two_places(demo: Demo) -> None:
    for row in [*demo.purchases, *demo.payments]:
        assert re.fullmatch(r"\d+\.\d\d", row["amount"]), row["amount"]
        assert Decimal(row["amount"]) > 0
        assert row["currency"] == "EUR"


def test_emails_and_client_ids_are_unique(demo: Demo) -> None:
    assert len({c["client_id"] for c in demo.clients}) == len(demo.clients)
    assert len({c["email"].lower() for c in demo.clients}) == len(demo.clients)


def _missed_monthly(demo: Demo, today: date, *, min_orders: int) -> list[str]:
    return [
        client_id
        for client_id, days in demo.order_days().items()
        if len(days) >= min_orders
        and 25 <= statistics.median((b - a).days for a, b in itertools.pairwise(days)) <= 35
        and 40 <= (today - days[-1]).days <= 70
    ]


def test_a_monthly_client_missed_this_month(demo: Demo) -> None:
    assert _missed_monthly(demo, TODAY, min_orders=24)


def test_some_regular_clients_drifted_away(demo: Demo) -> None:
    drifted = [
        client_id
        for client_id, days in demo.order_days().items()
        if len(days) >= 6 and (TODAY - days[-1]).days > 365
    ]
    assert drifted


def test_leads_are_clients_without_purchases(demo: Demo) -> None:
    buyers = {p["client_id"] for p in demo.purchases}
    assert [c for c in demo.clients if c["client_id"] not in buyers]


def _late_counts(demo: Demo) -> dict[str, int]:
    late: dict[str, int] = defaultdict(int)
    for p in demo.payments:
        if p["paid_at"] and p["paid_at"] > p["due_date"]:
            late[p["client_id"]] += 1
    return late


def test_some_clients_paid_late_twice_or_more(demo: Demo) -> None:
    assert any(count >= 2 for count in _late_counts(demo).values())


def test_most_invoices_are_paid_on_time(demo: Demo) -> None:
    assert sum(_late_counts(demo).values()) < len(demo.payments) / 10


def test_an_invoice_is_unpaid_past_its_due_date(demo: Demo) -> None:
    assert [
        p for p in demo.payments if not p["paid_at"] and date.fromisoformat(p["due_date"]) < TODAY
    ]


def test_partners_sell_for_the_business(demo: Demo) -> None:
    channels = {p["channel"] for p in demo.purchases}
    assert {"web shop", "store", "phone"} <= channels
    assert len([c for c in channels if ":" in c]) >= 2


def test_birthdays_fall_in_this_month_with_and_without_a_year(demo: Demo) -> None:
    birthdays = [c["birthday"] for c in demo.clients if c["birthday"]]
    months = {int(b[2:4]) if b.startswith("--") else date.fromisoformat(b).month for b in birthdays}
    assert TODAY.month in months
    assert any(b.startswith("--") for b in birthdays)
    assert len(birthdays) < len(demo.clients)


def test_some_clients_have_been_with_us_for_two_decades(demo: Demo) -> None:
    long_ago = TODAY.replace(year=TODAY.year - 18)
    veterans = [
        c
        for c in demo.clients
        if c["client_since"] and date.fromisoformat(c["client_since"]) < long_ago
    ]
    days = demo.order_days()
    assert len(veterans) >= 2
    assert any(len(days.get(c["client_id"], [])) >= 24 for c in veterans)


def test_the_demo_refuses_too_few_clients_for_its_stories(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 20"):
        write_demo_files(tmp_path, today=TODAY, clients=5)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), today=st.dates(date(2012, 1, 1), date(2040, 12, 31)))
def test_any_seed_and_day_keep_the_rules_and_the_stories(seed: int, today: date) -> None:
    with tempfile.TemporaryDirectory() as directory:
        demo = _load(write_demo_files(Path(directory), seed=seed, today=today, clients=20))
    assert all(_instant(p["occurred_at"]).date() <= today for p in demo.purchases)
    assert all(p["paid_at"] <= today.isoformat() for p in demo.payments if p["paid_at"])
    assert _missed_monthly(demo, today, min_orders=24)
    assert any(count >= 2 for count in _late_counts(demo).values())
    assert [p for p in demo.payments if not p["paid_at"] and p["due_date"] < today.isoformat()]

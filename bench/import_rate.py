"""Import rate: rows per second of `goodwill import purchases` on SQLite and PostgreSQL.

Baseline, measured in the same run on the same store: the same rows, already parsed, written with
one plain executemany INSERT into a bare table (no parsing, no client matching, no idempotency,
no event log). The ratio says what goodwill's guarantees cost over a raw bulk insert.

Run: scripts/bench import_rate  [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert
from sqlalchemy.types import DateTime
from tests.factories import PURCHASE_HEADER, purchase_rows, write_csv

from bench.stores import stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind, PurchaseRow, Reading, read_row
from goodwill.settings import load_settings
from goodwill.store.database import make_engine, open_store

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def baseline(url: str, path: Path) -> float:
    """Seconds to read the file and bulk-insert its parsed rows into a bare table."""
    reading = Reading(zone=load_settings(database_url=url, environ={}).zone, currency="USD")
    engine = make_engine(url)
    meta = MetaData()
    bare = Table(
        "bare_lines",
        meta,
        Column("id", Integer, primary_key=True),
        Column("order_id", String(200)),
        Column("client_id", String(200)),
        Column("occurred_at", DateTime(timezone=True)),
        Column("amount", BigInteger),
        Column("product", String(300)),
    )
    meta.create_all(engine)
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = []
        for record in reader:
            row = read_row(FileKind.PURCHASES, record, reading)
            assert isinstance(row, PurchaseRow)
            rows.append(
                {
                    "order_id": row.order_id,
                    "client_id": row.ref.client_id,
                    "occurred_at": row.occurred_at,
                    "amount": row.amount_minor,
                    "product": row.product,
                }
            )
    with engine.begin() as connection:
        connection.execute(insert(bare), rows)
    return time.perf_counter() - start


def measure(name: str, url_for: callable, path: Path, n: int) -> None:  # type: ignore[valid-type]
    settings = load_settings(database_url=url_for("goodwill"), environ={})
    store = open_store(settings.database_url)
    start = time.perf_counter()
    first = import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
    again_s = time.perf_counter() - start
    assert first.imported == n and again.duplicates == n, (first, again)
    base_s = baseline(url_for("baseline"), path)
    print(
        f"{name:10} import {n / first_s:9,.0f} rows/s ({first_s:6.1f} s)   "
        f"re-import {n / again_s:9,.0f} rows/s ({again_s:6.1f} s)   "
        f"baseline plain insert {n / base_s:9,.0f} rows/s   "
        f"ratio import/baseline time {first_s / base_s:4.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        path = write_csv(
            base / "purchases.csv",
            PURCHASE_HEADER,
            purchase_rows(args.rows, clients=max(10, args.rows // 20)),
        )
        print(f"{args.rows:,} purchase rows, {path.stat().st_size / 1e6:.1f} MB")
        with stores(base) as available:
            for name, url_for in available:
                measure(name, url_for, path, args.rows)


if __name__ == "__main__":
    main()

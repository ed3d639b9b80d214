"""Synthetic canonical CSV files for tests and benchmarks: deterministic, any size."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

PURCHASE_HEADER = [
    "order_id",
    "client_id",
    "client_name",
    "email",
    "occurred_at",
    "amount",
    "currency",
    "product",
    "category",
    "channel",
]


def purchase_rows(n: int, *, clients: int = 1000, seed: int = 1, start: int = 0) -> list[list[str]]:
    """``n`` order lines (1–3 lines per order), orders numbered from ``start``."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    order = start
    base = datetime(2019, 1, 1, tzinfo=UTC)
    while len(rows) < n:
        order += 1
        client = rng.randrange(clients)
        when = base + timedelta(minutes=order * 37 % (6 * 365 * 24 * 60))
        channel = rng.choice(["web shop", "store", "Reseller: Northwind", ""])
        for line in range(min(rng.randint(1, 3), n - len(rows))):
            rows.append(
                [
                    f"O{order:07d}",
                    f"C{client:05d}",
                    f"Client {client}",
                    f"client{client}@example.com",
                    when.isoformat(),
                    f"{rng.randint(100, 99999) / 100:.2f}",
                    "EUR",
                    f"Product {line}",
                    f"Category {rng.randrange(4)}",
                    channel,
                ]
            )
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path

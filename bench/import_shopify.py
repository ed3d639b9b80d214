"""Shopify import rate: rows per second of `goodwill import FILE` on a Shopify orders export.

The export has one row per line item with the order's fields on its first row only, offsets in
the dates, refunds in a column and shipping in the total, as Shopify writes it. Baseline, measured
in the same run on the same store: the same sales written as goodwill's own purchases file (one
row per line, every field on every row) and imported with `goodwill import purchases`. The ratio
says what reading the vendor's shape (grouping, refunds, adjustments, provenance) costs.

Run: scripts/bench import_shopify  [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stores import UrlFor, stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.settings import load_settings
from goodwill.store.database import open_store

NOW = datetime(2026, 11, 23, tzinfo=UTC)
SHOPIFY = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Currency",
    "Subtotal",
    "Shipping",
    "Total",
    "Refunded Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Vendor",
    "Source",
    "Cancelled at",
]
CANONICAL = [
    "order_id",
    "email",
    "client_name",
    "occurred_at",
    "amount",
    "currency",
    "product",
    "quantity",
    "category",
]
PRODUCTS = [("Espresso beans", 1250), ("Filter papers", 500), ("Grinder", 8900), ("Mug", 900)]


def write_exports(base: Path, rows: int) -> tuple[Path, Path, int]:
    """The Shopify export and the same sales in goodwill's columns; (shopify, canonical, n)."""
    rng = random.Random(7)
    clients = max(10, rows // 10)
    shopify, canonical = base / "orders_export.csv", base / "purchases.csv"
    written = 0
    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    with (
        shopify.open("w", newline="", encoding="utf-8") as a,
        canonical.open("w", newline="", encoding="utf-8") as b,
    ):
        sw, cw = csv.writer(a), csv.writer(b)
        sw.writerow(SHOPIFY)
        cw.writerow(CANONICAL)
        number = 1000
        while written < rows:
            number += 1
            client = rng.randrange(clients)
            email, name = f"client{client}@example.com", f"Client {client}"
            when = start + timedelta(minutes=rng.randrange(60 * 24 * 365 * 6))
            stamp = when.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
            lines = [rng.choice(PRODUCTS) for _ in range(min(rng.randint(1, 4), rows - written))]
            quantities = [rng.randint(1, 3) for _ in lines]
            subtotal = sum(price * q for (_, price), q in zip(lines, quantities, strict=True))
            shipping = 495 if subtotal < 5000 else 0
            refunded = subtotal // 4 if rng.random() < 0.03 else 0
            for i, ((product, price), quantity) in enumerate(zip(lines, quantities, strict=True)):
                first = i == 0
                sw.writerow(
                    [
                        f"#{number}",
                        email if first else "",
                        ("partially_refunded" if refunded else "paid") if first else "",
                        stamp if first else "",
                        "EUR" if first else "",
                        f"{subtotal / 100:.2f}" if first else "",
                        f"{shipping / 100:.2f}" if first else "",
                        f"{(subtotal + shipping) / 100:.2f}" if first else "",
                        f"{refunded / 100:.2f}" if first else "",
                        stamp if first else "",
                        quantity,
                        product,
                        f"{price / 100:.2f}",
                        product[:3].upper(),
                        name if first else "",
                        "Roastery",
                        "web" if first else "",
                        "",
                    ]
                )
                cw.writerow(
                    [
                        f"#{number}",
                        email,
                        name,
                        stamp,
                        f"{price * quantity / 100:.2f}",
                        "EUR",
                        product,
                        quantity,
                        "Roastery",
                    ]
                )
                written += 1
    return shopify, canonical, written


def measure(name: str, url_for: UrlFor, shopify: Path, canonical: Path, n: int) -> None:
    settings = load_settings(database_url=url_for("shopify"), environ={})
    store = open_store(settings.database_url)
    start = time.perf_counter()
    first = import_file(store, settings, None, shopify, now=NOW)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = import_file(store, settings, None, shopify, now=NOW)
    again_s = time.perf_counter() - start
    assert first.profile == "shopify" and first.read == n and not first.errors, first.errors[:3]
    assert sum(again.created.values()) == 0, again.created
    base = load_settings(database_url=url_for("canonical"), environ={})
    base_store = open_store(base.database_url)
    start = time.perf_counter()
    plain = import_file(base_store, base, FileKind.PURCHASES, canonical, now=NOW)
    base_s = time.perf_counter() - start
    assert plain.imported == n, plain
    print(
        f"{name:10} shopify {n / first_s:8,.0f} rows/s ({first_s:5.1f} s, "
        f"{first.created['orders']:,} orders)   re-import {n / again_s:8,.0f} rows/s   "
        f"baseline purchases import {n / base_s:8,.0f} rows/s   "
        f"ratio shopify/baseline time {first_s / base_s:4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shopify, canonical, n = write_exports(base, args.rows)
        print(f"{n:,} Shopify line-item rows, {shopify.stat().st_size / 1e6:.1f} MB")
        with stores(base) as available:
            for name, url_for in available:
                measure(name, url_for, shopify, canonical, n)


if __name__ == "__main__":
    main()

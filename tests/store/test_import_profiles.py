"""Each import profile's sample export, imported through the command line, lands in the store
exactly as computed by hand in its ``.expected.json``.

The samples (tests/data/profiles) are shaped like each vendor's export, with the columns the
profiles ignore and the quirks they must handle. The expectations follow the product's rules:
an order is the sum of its lines, with a "Shipping, taxes and discounts" line making up the
difference to a document total, less its refunds; times without an offset are in the business's
zone (Europe/Amsterdam here) unless the profile or the row says otherwise. Each test runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from goodwill.domain.money import from_minor
from goodwill.store.models import (
    Client,
    Event,
    FollowUp,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Refund,
)
from tests.cli.test_cli import goodwill

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "profiles"
PROFILES = sorted(p.name.removesuffix(".expected.json") for p in SAMPLES.glob("*.expected.json"))
#: The business currency of each sample's test; files without a currency column are in it.
CURRENCY = {"square-transactions": "USD", "square-items": "USD", "quickbooks-sales": "USD"}
EMPTIED = (Client, Order, OrderLine, Refund, Invoice, Payment, Event, FollowUp)


def test_every_profile_has_a_sample() -> None:
    assert PROFILES == [
        "quickbooks-sales",
        "shopify",
        "square-items",
        "square-transactions",
        "stripe-invoices",
        "stripe-payments",
        "woocommerce",
        "xero-invoices",
    ]
    assert all((SAMPLES / f"{name}.csv").is_file() for name in PROFILES)


def configuration(tmp_path: Path, profile: str) -> Path:
    path = tmp_path / "goodwill.toml"
    currency = CURRENCY.get(profile, "EUR")
    path.write_text(f'timezone = "Europe/Amsterdam"\ncurrency = "{currency}"\n', encoding="utf-8")
    return path


def run(
    tmp_path: Path, db_url: str, profile: str, *args: str, detect: bool = False
) -> dict[str, Any]:
    """``goodwill import SAMPLE [--profile NAME] --json ARGS``; the JSON summary."""
    chosen = [] if detect else ["--profile", profile]
    done = goodwill(
        "import",
        str(SAMPLES / f"{profile}.csv"),
        *chosen,
        "--json",
        *args,
        db=db_url,
        config=configuration(tmp_path, profile),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["errors"] == []
    return summary


def expected(profile: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{profile}.expected.json").read_text("utf-8"))
    for order in data["orders"]:
        order["amount"], order["refunded"] = Decimal(order["amount"]), Decimal(order["refunded"])
    for invoice in data["invoices"]:
        invoice["amount"] = Decimal(invoice["amount"])
    return {
        "clients": sorted(data["clients"], key=_client_sort),
        "orders": sorted(data["orders"], key=lambda o: o["order_id"]),
        "invoices": sorted(data["invoices"], key=lambda i: i["invoice_id"]),
        "skipped": data["skipped"],
    }


def _client_sort(client: dict[str, Any]) -> str:
    return str(client["client_id"] or client["email"] or client["name"])


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def stored(db_url: str) -> dict[str, Any]:
    """The store, in the shape of the expectations."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            clients = {c.id: c for c in session.execute(select(Client)).scalars()}

            def key(client_id: int) -> str:
                c = clients[client_id]
                return c.external_id or c.email or c.name

            lines = dict(
                session.execute(
                    select(OrderLine.order_id, func.count()).group_by(OrderLine.order_id)
                ).all()
            )
            refunded = dict(
                session.execute(
                    select(Refund.order_id, func.sum(Refund.amount_minor)).group_by(Refund.order_id)
                ).all()
            )
            orders = [
                {
                    "order_id": o.external_id,
                    "client": key(o.client_id),
                    "occurred_at": _utc(o.occurred_at),
                    "amount": from_minor(o.amount_minor, o.currency),
                    "currency": o.currency,
                    "refunded": from_minor(int(refunded.get(o.id, 0)), o.currency),
                    "lines": lines.get(o.id, 0),
                }
                for o in session.execute(select(Order)).scalars()
            ]
            invoices = [
                {
                    "invoice_id": i.external_id,
                    "client": key(i.client_id),
                    "amount": from_minor(i.amount_minor, i.currency),
                    "currency": i.currency,
                    "issued_on": i.issued_on.isoformat(),
                    "due_on": i.due_on.isoformat() if i.due_on else None,
                    "paid_on": i.paid_on.isoformat() if i.paid_on else None,
                    "settled": bool(i.settled),
                }
                for i in session.execute(select(Invoice)).scalars()
            ]
            return {
                "clients": sorted(
                    (
                        {"client_id": c.external_id, "email": c.email, "name": c.name}
                        for c in clients.values()
                    ),
                    key=_client_sort,
                ),
                "orders": sorted(orders, key=lambda o: o["order_id"]),
                "invoices": sorted(invoices, key=lambda i: i["invoice_id"]),
            }
    finally:
        engine.dispose()


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """What the store lacks ("expected") and what it has that it should not ("stored")."""
    found: list[tuple[str, dict[str, Any]]] = []
    for kind in ("clients", "orders", "invoices"):
        found += [("expected", row) for row in want[kind] if row not in got[kind]]
        found += [("stored", row) for row in got[kind] if row not in want[kind]]
        if len(got[kind]) != len(want[kind]):
            found.append(("count", {kind: (len(got[kind]), len(want[kind]))}))
    return found


def counts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return {
                model.__tablename__: int(
                    session.execute(select(func.count()).select_from(model)).scalar_one()
                )
                for model in EMPTIED
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("profile", PROFILES)
def test_a_sample_export_lands_as_computed_by_hand(
    profile: str, db_url: str, tmp_path: Path
) -> None:
    want = expected(profile)
    summary = run(tmp_path, db_url, profile)
    assert summary["profile"] == profile
    got = stored(db_url)
    assert differences(got, want) == []
    assert summary["skipped"] == want["skipped"]


@pytest.mark.parametrize("profile", PROFILES)
def test_the_profile_is_detected_from_the_header_alone(
    profile: str, sqlite_url: str, tmp_path: Path
) -> None:
    summary = run(tmp_path, sqlite_url, profile, "--dry-run", detect=True)
    assert summary["profile"] == profile
    assert summary["detected"]


@pytest.mark.parametrize("profile", PROFILES)
def test_importing_the_same_export_again_adds_nothing(
    profile: str, db_url: str, tmp_path: Path
) -> None:
    first = run(tmp_path, db_url, profile)
    before, tables = stored(db_url), counts(db_url)
    again = run(tmp_path, db_url, profile)
    assert set(again["created"].values()) == {0}, again["created"]
    assert again["imported"] == 0
    assert again["skipped"] == first["skipped"]
    assert stored(db_url) == before
    assert counts(db_url) == tables


@pytest.mark.parametrize("profile", PROFILES)
def test_undoing_a_fresh_import_leaves_the_store_empty(
    profile: str, db_url: str, tmp_path: Path
) -> None:
    summary = run(tmp_path, db_url, profile)
    assert counts(db_url)["orders"] > 0
    done = goodwill(
        "import",
        "undo",
        str(summary["import_id"]),
        "--json",
        db=db_url,
        config=configuration(tmp_path, profile),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(db_url) == dict.fromkeys((m.__tablename__ for m in EMPTIED), 0)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_dry_run_writes_nothing_and_foretells_what_the_import_creates(
    profile: str, db_url: str, tmp_path: Path
) -> None:
    rehearsal = run(tmp_path, db_url, profile, "--dry-run")
    assert rehearsal["dry_run"] is True
    assert counts(db_url) == dict.fromkeys((m.__tablename__ for m in EMPTIED), 0)
    real = run(tmp_path, db_url, profile)
    assert rehearsal["created"] == real["created"]
    assert (rehearsal["imported"], rehearsal["skipped"]) == (real["imported"], real["skipped"])

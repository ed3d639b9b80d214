"""Each client's kept figures equal the figures recomputed from their whole history, after
imports in and out of date order, merges, refunds, undone and repeated imports; and the client
page's value panel reads the same from them as from the history.

Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.settings import Settings
from goodwill.store import client_figures, value
from goodwill.store.client_figures import (
    computed,
    figures_for,
    keep_figures,
    kept_currency,
    mark_stale,
)
from goodwill.store.database import open_store
from goodwill.store.imports_log import undo_import
from goodwill.store.merge import merge_clients
from goodwill.store.models import Client, ClientFigures, ModelFit, Order
from goodwill.store.queries import client_profile, figures_currency, find_client
from goodwill.store.value import client_value, client_value_from_history, keep_values
from tests.store.test_value_fits import business
from tests.web.sample import add_client, add_purchase

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
TODAY = NOW.date()
ACTOR = Actor.cli("tests")
HEADER = "order_id,client_id,occurred_at,amount,product\n"


def purchases(tmp_path: Path, name: str, rows: list[tuple[str, str, datetime, str]]) -> Path:
    """A purchases file: (order, client, when, amount) rows, in the order given."""
    path = tmp_path / name
    body = "".join(f"{o},{c},{at.isoformat()},{amount},Beans\n" for o, c, at, amount in rows)
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def kept_equal_recomputed(
    store: sessionmaker[Session], settings: Settings, *, values: int | None = None
) -> int:
    """Refresh as the engine does, then check every row against the client's orders and every
    client's value panel (the first ``values`` clients') against the history's; returns how
    many clients have orders."""
    keep_values(store, settings, today=TODAY, now=NOW)
    # The history's prior is cached on the orders' count and newest id, which a merge keeps.
    value._PRIORS.clear()
    with store() as session:
        currency = figures_currency(session, settings)
        assert kept_currency(session, settings) == currency
        buyers = set(session.execute(select(Order.client_id).distinct()).scalars())
        rows = {r.client_id: r for r in session.execute(select(ClientFigures)).scalars()}
        assert set(rows) == buyers
        for n, client_id in enumerate(sorted(buyers)):
            assert not rows[client_id].stale
            kept = figures_for(session, settings, client_id)
            assert kept is not None and kept.figures is not None
            fresh = computed(session, client_id, zone=settings.zone, currency=currency)
            assert fresh is not None
            assert_same(kept.figures, fresh)
            if values is not None and n >= values:
                continue
            assert_same(
                client_value(session, settings, client_id, today=TODAY),
                client_value_from_history(session, settings, client_id, today=TODAY),
            )
        return len(buyers)


def assert_same(kept: object, reference: object) -> None:
    """Field by field: floats to 1e-9 relative (sums kept in another order), the rest equal."""
    assert type(kept) is type(reference)
    for field in fields(kept):  # type: ignore[arg-type]
        a, b = getattr(kept, field.name), getattr(reference, field.name)
        if is_dataclass(a):
            assert_same(a, b)
        elif isinstance(a, float) and isinstance(b, float):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), field.name
        else:
            assert a == b, field.name


def test_imports_in_and_out_of_date_order_keep_each_clients_figures(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    first = [
        ("O1", "A", at(90), "12.50"),
        ("O2", "A", at(60), "10.00"),
        ("O3", "A", at(30), "11.00"),
        ("O4", "B", at(40), "5.00"),
        ("O5", "A", at(60.1), "2.00"),  # the same day as O2: one purchase day
        ("O6", "C", at(0.2), "8.00"),  # first bought today: no model figures yet
    ]
    import_file(store, settings, FileKind.PURCHASES, purchases(tmp_path, "a.csv", first), now=NOW)
    assert kept_equal_recomputed(store, settings) == 3
    later = [("O7", "A", at(2), "9.00"), ("O8", "B", at(1), "6.00")]  # added to the rows
    earlier = [("O9", "B", at(200), "7.00")]  # before B's first: B is rebuilt
    path = purchases(tmp_path, "b.csv", later + earlier)
    import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
    with store() as session:
        b = find_client(session, "B")
        assert session.get(ClientFigures, b.id).stale  # type: ignore[union-attr]
        # Until the engine refreshes it, the page computes B's figures from B's orders.
        kept = figures_for(session, settings, b.id)
        assert kept is not None and kept.figures is not None and kept.figures.orders == 3
    assert kept_equal_recomputed(store, settings) == 3
    with store() as session:
        a = session.get(ClientFigures, find_client(session, "A").id)
        assert a is not None and (a.orders, a.days, a.spend_minor) == (5, 4, 4450)


def test_a_merge_keeps_the_kept_clients_figures_and_drops_the_others(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ("O1", "A", at(90), "10.00"),
        ("O2", "A", at(50), "10.00"),
        ("O3", "A2", at(70), "30.00"),
        ("O4", "A2", at(10), "5.00"),
    ]
    import_file(store, settings, FileKind.PURCHASES, purchases(tmp_path, "a.csv", rows), now=NOW)
    kept_equal_recomputed(store, settings)
    with store.begin() as session:
        keep, other = find_client(session, "A").id, find_client(session, "A2").id
        merge_clients(
            session, keep, other, actor=ACTOR, source="cli", by="tests", by_id=None, now=NOW
        )
    with store() as session:
        assert session.get(ClientFigures, other) is None
        kept = figures_for(session, settings, keep)
        assert kept is not None and kept.figures is not None and kept.figures.orders == 4
    assert kept_equal_recomputed(store, settings) == 1
    with store() as session:
        row = session.get(ClientFigures, keep)
        assert row is not None and (row.days, row.spend_minor) == (4, 5500)


SHOPIFY = (
    "Name,Email,Financial Status,Paid at,Currency,Total,Refunded Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Billing Name,Cancelled at\n"
)
JANUARY = SHOPIFY + (
    "#1001,anna@example.com,paid,,EUR,25.00,0.00,2026-01-07 09:50:26 +0100,2,Beans,12.50,Anna,\n"
    "#1002,bob@example.com,paid,,EUR,20.00,0.00,2026-01-08 10:00:00 +0100,1,Grinder,20.00,Bob,\n"
    "#1003,bob@example.com,paid,,EUR,30.00,0.00,2026-01-20 10:00:00 +0100,1,Kettle,30.00,Bob,\n"
)
# February repeats January, Bob's first order now partly refunded, and adds one for Anna.
FEBRUARY = SHOPIFY + (
    "#1001,anna@example.com,paid,,EUR,25.00,0.00,2026-01-07 09:50:26 +0100,2,Beans,12.50,Anna,\n"
    "#1002,bob@example.com,partially_refunded,,EUR,20.00,8.00,2026-01-08 10:00:00 +0100,"
    "1,Grinder,20.00,Bob,\n"
    "#1003,bob@example.com,paid,,EUR,30.00,0.00,2026-01-20 10:00:00 +0100,1,Kettle,30.00,Bob,\n"
    "#1004,anna@example.com,paid,,EUR,9.00,0.00,2026-02-02 10:00:00 +0100,1,Mug,9.00,Anna,\n"
)


def test_refunds_an_undone_import_and_its_repeat_keep_the_figures(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    euro = replace(settings, timezone="Europe/Amsterdam", currency="EUR")
    jan, feb = tmp_path / "jan.csv", tmp_path / "feb.csv"
    jan.write_text(JANUARY, encoding="utf-8")
    feb.write_text(FEBRUARY, encoding="utf-8")
    import_file(store, euro, None, jan, now=NOW, actor=ACTOR)
    kept_equal_recomputed(store, euro)
    done = import_file(store, euro, None, feb, now=NOW, actor=ACTOR)
    assert kept_equal_recomputed(store, euro) == 2
    with store() as session:
        bob = session.get(ClientFigures, find_client(session, "bob@example.com").id)
        assert bob is not None and bob.spend_minor == 1200 + 3000  # less the 8.00 refunded
    with store.begin() as session:
        undo_import(session, done.import_id or 0, now=NOW, actor=ACTOR)
    assert kept_equal_recomputed(store, euro) == 2
    with store() as session:
        bob = session.get(ClientFigures, find_client(session, "bob@example.com").id)
        anna = session.get(ClientFigures, find_client(session, "anna@example.com").id)
        assert bob is not None and bob.spend_minor == 5000
        assert anna is not None and anna.orders == 1
    import_file(store, euro, None, feb, now=NOW, actor=ACTOR)  # imported again
    assert kept_equal_recomputed(store, euro) == 2


def test_a_new_time_zone_rebuilds_every_row_and_until_then_the_page_reads_the_history(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [("O1", "A", at(10.9), "10.00"), ("O2", "A", at(10.1), "10.00")]
    import_file(store, settings, FileKind.PURCHASES, purchases(tmp_path, "a.csv", rows), now=NOW)
    kept_equal_recomputed(store, settings)
    tokyo = replace(settings, timezone="Asia/Tokyo")
    with store() as session:
        assert figures_for(session, tokyo, find_client(session, "A").id) is None
    assert kept_equal_recomputed(store, tokyo) == 1


def test_the_value_panel_reads_the_same_from_the_kept_figures_as_from_the_history(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """A business of two hundred clients, fitted: rhythm, P(alive), purchases, spend and CLV."""
    fitted_business(store)
    assert kept_equal_recomputed(store, settings, values=25) == 200
    with store() as session:
        values = [
            client_value(session, settings, c, today=TODAY)
            for c in session.execute(select(Client.id).order_by(Client.id).limit(40)).scalars()
        ]
        assert sum(v.clv is not None for v in values) > 15
        kept = [figures_for(session, settings, c) for c in range(1, 41)]
        assert all(k is not None and k.values is not None for k in kept)  # kept by the engine
        assert sum(v.usual_interval_days is not None for v in values) > 5
        client = session.execute(select(Client).limit(1)).scalar_one()
        profile = client_profile(session, settings, client, today=TODAY)
        assert profile.overview.figures.purchase_count == len(
            session.execute(select(Order.id).where(Order.client_id == client.id)).all()
        )


def test_a_client_who_buys_while_the_values_are_computed_keeps_no_values_of_old_figures(
    store: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The values are read without the write lock and written afterwards: a row marked stale
    in between is not written, and the next pass computes it from its new figures."""
    fitted_business(store)
    keep_figures(store, settings, today=TODAY, now=NOW)
    computes = value._values_of

    def bought_meanwhile(*args: Any, **kwargs: Any) -> Any:
        with store.begin() as other:
            mark_stale(other, [1])
        return computes(*args, **kwargs)

    monkeypatch.setattr(value, "_values_of", bought_meanwhile)
    keep_values(store, settings, today=TODAY, now=NOW)
    monkeypatch.setattr(value, "_values_of", computes)
    with store() as session:
        rows = {r.client_id: r for r in session.execute(select(ClientFigures)).scalars()}
    assert rows[1].stale and rows[1].value_stamp is None and rows[1].clv is None
    assert all(r.value_stamp is not None for c, r in rows.items() if c != 1)
    assert kept_equal_recomputed(store, settings, values=3) == 200
    with store() as session:
        assert session.get(ClientFigures, 1).value_stamp is not None  # type: ignore[union-attr]


def fitted_business(store: sessionmaker[Session]) -> None:
    """Two hundred clients and fits as the engine stores them (fitting is not the point)."""
    with store.begin() as session:
        business(session, last_on_today=False)
    with store.begin() as session:
        for name, model, params in (
            ("counts", "bg-nbd", {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}),
            ("spend", "gamma-gamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}),
        ):
            session.add(
                ModelFit(
                    name=name,
                    model=model,
                    params=params,
                    log_likelihood=0.0,
                    n_customers=200,
                    period="week",
                    as_of=TODAY,
                    fitted_at=NOW,
                )
            )


@st.composite
def histories(draw: st.DrawFn) -> list[list[tuple[int, float, int]]]:
    """Batches of purchases (client, days ago, cents), each batch one import."""
    purchase = st.tuples(
        st.integers(0, 3), st.floats(0.0, 400.0, allow_nan=False), st.integers(-500, 9000)
    )
    return draw(st.lists(st.lists(purchase, min_size=1, max_size=8), min_size=1, max_size=4))


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=histories())
def test_any_sequence_of_imports_keeps_the_figures_of_the_whole_history(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[int, float, int]]]
) -> None:
    base = tmp_path_factory.mktemp("history")
    settings = Settings(database_url=f"sqlite:///{base / 'g.db'}")
    store = open_store(settings.database_url)
    n = 0
    for i, batch in enumerate(batches):
        rows = []
        for client, days_ago, cents in batch:
            n += 1
            rows.append((f"O{n}", f"C{client}", at(days_ago), f"{cents / 100:.2f}"))
        path = purchases(base, f"{i}.csv", rows)
        import_file(store, settings, FileKind.PURCHASES, path, now=NOW)
        kept_equal_recomputed(store, settings)
    store.kw["bind"].dispose()


def kept_then_one_more(store: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    """Client A's first purchase, kept by the engine; then a second one imported."""
    rows = [("O1", "A", at(30), "10.00")]
    import_file(store, settings, FileKind.PURCHASES, purchases(tmp_path, "a.csv", rows), now=NOW)
    keep_figures(store, settings, today=TODAY, now=NOW)
    more = [("O2", "A", at(3), "4.00")]
    import_file(store, settings, FileKind.PURCHASES, purchases(tmp_path, "b.csv", more), now=NOW)


def test_a_stale_row_is_never_shown(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    kept_then_one_more(store, settings, tmp_path)
    with store() as session:
        client = find_client(session, "A")
        profile = client_profile(session, settings, client, today=TODAY)
        assert profile.overview.figures.purchase_count == 2
        assert profile.overview.figures.total_spend_minor == 1400
        assert profile.overview.figures.last_purchase == at(3)


def test_an_import_that_lands_while_the_engine_computes_leaves_the_row_stale(
    store: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept_then_one_more(store, settings, tmp_path)
    with store() as session:
        client_id = find_client(session, "A").id
    reads = client_figures._orders_of

    def marked_meanwhile(*args: Any, **kwargs: Any) -> Any:
        """Another writer marks the client between the engine's read and its write."""
        with store.begin() as other:
            mark_stale(other, [client_id])
        return reads(*args, **kwargs)

    monkeypatch.setattr(client_figures, "_orders_of", marked_meanwhile)
    # SQLite may refuse the engine's write (its snapshot is older than the mark); it retries.
    with contextlib.suppress(OperationalError):
        keep_figures(store, settings, today=TODAY, now=NOW)
    monkeypatch.setattr(client_figures, "_orders_of", reads)
    with store() as session:
        row = session.get(ClientFigures, client_id)
        assert row is not None and row.stale  # left for the next pass, not fresh and wrong
    assert kept_equal_recomputed(store, settings) == 1


class ClocksBackAcrossMidnight(tzinfo):
    """UTC+2 until 2025-10-25 23:00 UTC (01:00 on the 26th, local), then UTC-1 (22:00 on the
    25th): an hour's orders after the change fall on the day before the hour's before it."""

    CHANGE = datetime(2025, 10, 25, 23, 0)

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=None)
        if utc < self.CHANGE:
            return (utc + timedelta(hours=2)).replace(tzinfo=self)
        wall = utc - timedelta(hours=1)
        return wall.replace(tzinfo=self, fold=int(wall < self.CHANGE + timedelta(hours=2)))

    def utcoffset(self, dt: datetime | None) -> timedelta:
        wall = (dt or datetime.min).replace(tzinfo=None)
        before = wall < self.CHANGE - timedelta(hours=1) or (
            wall < self.CHANGE + timedelta(hours=2) and not getattr(dt, "fold", 0)
        )
        return timedelta(hours=2 if before else -1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "backwards"])
def test_rebuilding_many_clients_at_once_gives_each_the_figures_of_their_orders_one_by_one(
    store: sessionmaker[Session], zone: str
) -> None:
    """Orders at random hours across midnights and clock changes, several on one day, some in
    another currency, stored in no particular order. Where the clocks go back across midnight,
    a later order can fall on an earlier day: that client is folded order by order, and both
    ways refuse such a history alike."""
    rng = np.random.default_rng(17)
    tz: tzinfo = ClocksBackAcrossMidnight() if zone == "backwards" else ZoneInfo(zone)
    start = datetime(2025, 10, 20, tzinfo=UTC)
    change = datetime(2025, 10, 25, 22, 30, tzinfo=UTC)  # 00:30 local, then 22:30 the day before
    with store.begin() as session:
        for c in range(40):
            client = add_client(session, external_id=f"C{c}", name=f"Client {c}", now=start)
            hours = rng.choice(24 * 30, size=int(rng.integers(1, 30)), replace=False)
            moments = [
                start + timedelta(hours=int(h), microseconds=int(rng.integers(10**6)))
                for h in hours
            ]
            if c == 0:
                moments += [change, change + timedelta(hours=1)]
            for k, moment in enumerate(rng.permutation(np.array(moments, dtype=object))):
                add_purchase(
                    session,
                    client,
                    order_id=f"O{c}-{k}",
                    at=moment,
                    amount_minor=int(rng.integers(1, 10_000)),
                    product="Beans",
                    currency="EUR" if rng.random() < 0.1 else "USD",
                )
    with store() as session:
        ids = list(session.execute(select(Client.id).order_by(Client.id)).scalars())
        try:
            many = client_figures.rebuilt(session, ids, zone=tz, currency="USD")
        except ValueError:
            many = None
        with contextlib.ExitStack() as refusal:
            if zone == "backwards":
                refusal.enter_context(pytest.raises(ValueError, match="day order"))
            computed(session, ids[0], zone=tz, currency="USD")
        assert (many is None) == (zone == "backwards")
        if zone == "backwards":  # every other client rebuilt at once
            many = client_figures.rebuilt(session, ids[1:], zone=tz, currency="USD")
            ids = ids[1:]
        assert many is not None and sorted(many) == ids
        for client_id in ids:
            one = computed(session, client_id, zone=tz, currency="USD")
            assert one is not None
            orders = session.execute(select(Order.id).where(Order.client_id == client_id))
            assert many[client_id][1] == max(orders.scalars())
            assert_same(many[client_id][0], one)

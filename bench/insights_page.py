"""The insights page over HTTP: 100,000 clients and 1,000,000 purchases, SQLite and PostgreSQL.

The data set is written with bulk inserts (executemany on SQLite, COPY on PostgreSQL): clients
who start buying at random over six years at their own rhythm (10 days to half a year) and stop
at random, three channels, 50,000 invoices (one in eight paid late) and 20,000 follow-ups, then
ANALYZE (VACUUM ANALYZE on PostgreSQL, as autovacuum would after a bulk load). The
page (26 weeks, the default) is fetched over HTTP from the app served by uvicorn, logged in:
"cold" with the in-process answer cache emptied before each request (every series computed in
SQL), first before any engine pass, then after the engine's figures step kept each client's
figures (as every pass does, and as a business running goodwill has); "warm" as the page is
served again while the data has not changed; and "just after a new order", five times, the
figures worked out again between them: where working them out takes half a second or more the
page shows the last ones at once and works out the next in the background
(store/insights_cache.py), and the line says how many did; "restarted, after an order" the
same with the process's memory emptied before each request, so the last answer comes from the
store (store/insights_answers.py). "Cold" empties both.

Baselines measured in the same run on the same store: a plain ``SELECT count(*) FROM orders``,
and the naive way to the same purchases series: every order read into Python and bucketed there.

Run: python -m bench.insights_page [--quick] [--clients N]
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text

from bench.stores import stores
from goodwill.settings import Settings, load_settings
from goodwill.store import insights_cache
from goodwill.store.client_figures import keep_figures
from goodwill.store.database import open_store
from goodwill.store.models import Order
from goodwill.store.staff import add_user
from goodwill.store.statistics import refresh_statistics
from goodwill.web import create_app

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
START = datetime(2020, 11, 25, tzinfo=UTC)
PASSWORD = "bench-password-1"
PARTNERS = ("web shop", "the shop", "CityTrips")


def orders(n_clients: int, per_client: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """(id, external id, client, instant, amount, partner) rows, about ``per_client`` each."""
    span = (NOW - START).total_seconds()
    order = 0
    for client in range(1, n_clients + 1):
        gap = rng.uniform(10, 180) * 86400
        count = max(1, int(rng.expovariate(1 / per_client)))
        at = rng.uniform(0, max(span - gap * min(count, 4), 1))
        for _ in range(count):
            if at >= span:
                break
            order += 1
            yield (
                order,
                f"O{order}",
                client,
                START + timedelta(seconds=at),
                rng.randint(500, 20000),
                rng.choice((1, 2, 3, None)),
            )
            at += gap * rng.uniform(0.6, 1.4)


def build(url: str, n_clients: int, n_orders: int) -> int:
    """Write the data set; returns how many orders it holds."""
    store = open_store(url)
    engine = store.kw["bind"]
    rng = random.Random(2026)
    per_client = n_orders / n_clients
    with store.begin() as session:
        add_user(
            session,
            email="owner@example.com",
            name="Owner",
            role="owner",
            password=PASSWORD,
            now=NOW,
        )
    clients = [
        (i, f"C{i}", f"Client {i}", f"client {i}", NOW, NOW, "[]") for i in range(1, n_clients + 1)
    ]
    rows = list(orders(n_clients, int(per_client * 1.9), rng))[:n_orders]
    invoices = []
    for k in range(1, 50_001):
        due = (NOW - timedelta(days=rng.uniform(0, 2000))).date()
        paid = due + timedelta(days=rng.choice((-5, -1, 0, 0, 0, 0, 0, 9)))
        invoices.append(
            (
                k,
                f"I{k}",
                rng.randint(1, n_clients),
                10000,
                due - timedelta(days=14),
                due,
                paid if paid <= NOW.date() else None,
            )
        )
    followups = []
    for k in range(1, 20_001):
        created = NOW - timedelta(days=rng.uniform(0, 400))
        due = created + timedelta(days=rng.uniform(0, 20))
        closed = created + timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.8 else None
        closed = closed if closed and closed < NOW else None
        followups.append(
            (
                k,
                f"f{k}",
                rng.randint(1, n_clients),
                "r",
                f"reason {k}",
                None if closed else f"reason {k}",
                "Call",
                "phone",
                "call",
                due,
                "done" if closed else "open",
                created,
                closed or created,
                closed,
            )
        )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            # The throwaway server commits asynchronously; VACUUM marks no page all-visible
            # until the commit that wrote it is flushed, so this load commits as a deployment
            # does.
            cursor.execute("SET synchronous_commit TO on")

        def put(table: str, columns: str, values: list[tuple[Any, ...]]) -> None:
            if postgres:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns.split(","))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in row) for row in values],
                )

        put("partners", "id, name, created_at", [(k + 1, p, NOW) for k, p in enumerate(PARTNERS)])
        put("clients", "id, external_id, name, name_key, created_at, updated_at, tags", clients)
        put(
            "orders",
            "id, external_id, client_id, occurred_at, amount_minor, partner_id, currency",
            [(*r, "EUR") for r in rows],
        )
        put(
            "invoices",
            "id, external_id, client_id, amount_minor, issued_on, due_on, paid_on, currency, "
            "settled",
            [(*i, "EUR", False) for i in invoices],
        )
        put(
            "followups",
            "id, key, client_id, rule, reason, open_reason, title, channel, personal_level, "
            "due_at, status, created_at, updated_at, closed_at, sequence",
            [(*f, 0) for f in followups],
        )
        raw.commit()
        if postgres:
            # What autovacuum does after a bulk load, done now: the statistics, and the
            # visibility map without which no scan reads an index alone (VACUUM needs
            # autocommit).
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return len(rows)


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def serve(settings: Settings) -> tuple[str, Callable[[], None]]:
    # IPPROTO_TCP spelled out: asyncio turns Nagle off only on sockets that say TCP, and with
    # Nagle on, the body waits ~40 ms for the ACK of the headers (uvicorn given host and port,
    # as `goodwill serve` does it, makes such sockets itself).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, clock=lambda: NOW), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def after_changes(
    store: Any, http: httpx.Client, rounds: int, restart: Callable[[], None] | None = None
) -> tuple[float, int]:
    """The median page time right after a new order each round (the figures worked out again
    in between, as a quiet moment would), and how many showed the last figures. ``restart``:
    forget what the process remembers before each request, as a restart does."""
    times, behind = [], 0
    with store() as session:
        client_id = session.execute(text("SELECT MIN(id) FROM clients")).scalar_one()
        newest = session.execute(text("SELECT MAX(id) FROM orders")).scalar_one()
    first = 1_000 if restart is not None else 0  # other orders than another round's
    for k in range(first, first + rounds):
        with store.begin() as session:
            session.add(
                Order(
                    id=newest + k + 1,  # the bulk load wrote its ids, not the sequence
                    external_id=f"bench-new-{k}",
                    client_id=client_id,
                    occurred_at=NOW - timedelta(hours=k + 1),
                    currency="EUR",
                    amount_minor=4_200,
                )
            )
        if restart is not None:
            restart()
        start = time.perf_counter()
        response = http.get("/insights")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
        behind += 'id="insights-behind"' in response.text
        insights_cache.wait_for_work()
    return statistics.median(times), behind


def measure(name: str, url: str, n_clients: int, n_orders: int) -> None:
    made = time.perf_counter()
    count = build(url, n_clients, n_orders)
    built_s = time.perf_counter() - made
    settings = load_settings(database_url=url, environ={})
    base, stop = serve(settings)
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            login = http.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login)
            assert token
            form = {
                "email": "owner@example.com",
                "password": PASSWORD,
                "next": "",
                "csrf_token": token.group(1),
            }
            assert http.post("/login", data=form).status_code == 303

            def page() -> int:
                response = http.get("/insights")
                assert response.status_code == 200, response.text[:300]
                return len(response.content)

            answers = open_store(url)

            def cold() -> int:
                # Nothing remembered in the process, nothing kept in the store.
                insights_cache.forget_remembered()
                with answers.begin() as session:
                    session.execute(text("DELETE FROM insights_answers"))
                return page()

            page()  # warm the connection and the database's own caches
            unkept_s, _ = timed(cold, 5)
            # The engine's figures step keeps each client's figures, as it does every pass.
            kept = time.perf_counter()
            engine_store = open_store(url)
            keep_figures(engine_store, settings, today=NOW.date(), now=NOW)
            kept_s = time.perf_counter() - kept
            refresh_statistics(engine_store, {"client_figures": n_clients})
            engine_store.kw["bind"].dispose()
            page()
            cold_s, size = timed(cold, 5)
            warm_s, _ = timed(page, 10)
            changed_s, behind = after_changes(engine_store, http, 5)
            restarted_s, restarted_behind = after_changes(
                engine_store, http, 5, restart=insights_cache.forget_remembered
            )
            answers.kw["bind"].dispose()
    finally:
        stop()
    store = open_store(url)
    with store() as session:
        count_s, _ = timed(lambda: session.execute(text("SELECT count(*) FROM orders")).scalar(), 5)

        def naive() -> int:
            since = NOW - timedelta(weeks=26)
            weeks: dict[int, int] = {}
            for (at,) in session.execute(text("SELECT occurred_at FROM orders")):
                moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
                moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
                if moment >= since:
                    k = (moment - since).days // 7
                    weeks[k] = weeks.get(k, 0) + 1
            return len(weeks)

        naive_s, _ = timed(naive, 3)
    store.kw["bind"].dispose()
    print(
        f"{name}: {n_clients:,} clients, {count:,} purchases (built in {built_s:.0f} s); "
        f"page {size / 1024:.0f} KiB"
    )
    print(f"  page, cold, no figures kept yet {unkept_s * 1000:8.0f} ms")
    print(f"  (the clients' figures kept in {kept_s:.1f} s)")
    print(f"  page, cold (all series in SQL)  {cold_s * 1000:8.0f} ms")
    print(f"  page, warm (data unchanged)     {warm_s * 1000:8.0f} ms")
    print(
        f"  page, just after a new order    {changed_s * 1000:8.0f} ms "
        f"({behind} of 5 showed the last figures while the next were worked out)"
    )
    print(
        f"  page, restarted, after an order {restarted_s * 1000:8.0f} ms "
        f"({restarted_behind} of 5 showed the figures kept in the store)"
    )
    print(f"  baseline SELECT count(*)        {count_s * 1000:8.0f} ms")
    print(f"  baseline naive rows in Python   {naive_s * 1000:8.0f} ms (purchases series only)")
    print(
        f"  ratios: cold page / naive {cold_s / naive_s:.2f}x; "
        f"warm page / count(*) {warm_s / count_s:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 clients, 100,000 purchases")
    parser.add_argument("--clients", type=int, default=None)
    args = parser.parse_args()
    clients = args.clients or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp, stores(Path(tmp)) as found:
        for name, url_for in found:
            measure(name, url_for("insights"), clients, clients * 10)


if __name__ == "__main__":
    main()

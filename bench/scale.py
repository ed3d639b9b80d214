"""A whole business at a size: import, the engine's passes, the refit and the pages, timed.

The data is generated, seeded, and streamed to goodwill's own import files (docs/import.md):
N clients who start buying at random over three years, each at their own purchase rate (a
Poisson process, gamma-distributed rates, ~10 orders a client), a third of whom stop at a random
moment; timestamps to the second (continuous, not rounded to days); one invoice a client in the
last four months, most paid on time, some late, some still open. A fifth file holds the orders of
the day after, for the daily pass.

Measured on each store, through the code a business runs: ``import_file`` for the three files
(rows/s), the first engine pass over everything and the next day's pass after that day's orders
(the pass as `goodwill engine run` runs it, each step timed, the model refit among them), then
the pages' server time in process (TestClient, no network), logged in as an owner: ~20 sampled
client pages, each "cold" (first request) then "warm" (again), and /today, /at-risk,
/insights and /clients (by name, by highest spend and by latest purchase), the first request
"cold" and the next ones "warm".

The goals (a daily pass under 5 minutes at 1M clients on PostgreSQL; pages p95 under 200 ms) are
printed beside each figure; a pass at a smaller size is also scaled linearly to 1M, which is a
floor, not a promise (indexes grow, caches stop fitting).

Run: python -m bench.scale --clients N [--store sqlite|postgresql|both]   (scripts/bench scale)
     python -m bench.scale --clients N --keep DIR   (keeps DIR/scale.db and DIR/pg), then
     python -m bench.scale --clients N --keep DIR --pages-only     (times the pages again)
     python -m bench.scale --clients N --keep DIR --resume   (finishes a stopped run)
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.pgserver import PostgresServer

from bench.stores import stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass, PassReport
from goodwill.engine.worker import Step
from goodwill.settings import Settings, load_settings
from goodwill.store.at_risk import keep_lapsed
from goodwill.store.database import open_store
from goodwill.store.insights_cache import work_out_ahead
from goodwill.store.staff import add_user
from goodwill.web import create_app
from goodwill.web.rendering import client_url

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
"""The first pass runs as of this instant; the daily pass one day later."""
DAY = timedelta(days=1)
#: The list pages timed, after the sampled client pages.
LIST_PAGES = (
    "/today",
    "/at-risk",
    "/insights",
    "/clients",
    "/clients?sort=spend",
    "/clients?sort=last_purchase",
)
SPAN_DAYS = 3 * 365
OWNER, PASSWORD = "owner@shop.example", "a long bench password"
PRODUCTS = ("Beans", "Grinder", "Filter papers", "Kettle", "Tasting", "Gift card")
DAILY_GOAL_S, PAGE_GOAL_MS, GOAL_CLIENTS = 300.0, 200.0, 1_000_000


@dataclass
class Generated:
    """The files written and how many rows each holds."""

    clients: Path
    purchases: Path
    payments: Path
    daily: Path
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _writer(path: Path, header: list[str]) -> Iterator[Any]:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        yield out


def _at(days_before_now: float) -> str:
    """An instant ``days`` before NOW, to the second, as the files carry it."""
    moment = NOW - timedelta(seconds=round(days_before_now * 86400))
    return moment.isoformat()


def generate(base: Path, n: int, *, seed: int = 2026, orders_per_client: float = 10.0) -> Generated:
    """Write the four import files for ``n`` clients, one client at a time (nothing is held)."""
    rng = random.Random(seed)
    files = Generated(
        base / "clients.csv", base / "purchases.csv", base / "payments.csv", base / "daily.csv"
    )
    counts = dict.fromkeys(("clients", "purchases", "payments", "daily", "stopped", "late"), 0)
    with (
        _writer(files.clients, ["client_id", "name", "email", "city"]) as clients,
        _writer(
            files.purchases, ["order_id", "client_id", "occurred_at", "amount", "product"]
        ) as purchases,
        _writer(
            files.daily, ["order_id", "client_id", "occurred_at", "amount", "product"]
        ) as daily,
        _writer(
            files.payments,
            ["invoice_id", "client_id", "amount", "issued_at", "due_date", "paid_at"],
        ) as payments,
    ):
        order = 0
        for i in range(1, n + 1):
            ref = f"C{i}"
            clients.writerow([ref, f"Client {i}", f"c{i}@mail.example", "Utrecht"])
            counts["clients"] += 1
            first = rng.uniform(20, SPAN_DAYS)  # days before NOW of the first purchase
            # Purchase rate per day: gamma-distributed around ~10 orders over the client's span.
            rate = rng.gammavariate(2.0, 0.5) * orders_per_client / first
            stops = rng.random() < 1 / 3
            end = first - rng.expovariate(1 / 365) if stops else -1.0  # days before NOW
            counts["stopped"] += stops
            spend = rng.lognormvariate(3.3, 0.6)
            at = first
            while at > end and at > -1.0:
                order += 1
                row = [
                    f"O{order}",
                    ref,
                    _at(at),
                    f"{spend * rng.uniform(0.5, 1.5):.2f}",
                    rng.choice(PRODUCTS),
                ]
                if at > 0:
                    purchases.writerow(row)
                    counts["purchases"] += 1
                else:
                    daily.writerow(row)
                    counts["daily"] += 1
                at -= rng.expovariate(rate) if rate > 0 else math.inf
            issued = rng.uniform(1, 120)
            due = issued - 30
            late = rng.random()
            if late < 0.7:  # paid on time
                paid: float | None = issued - rng.uniform(0, 30)
            elif late < 0.85 and due > 0.5:  # paid after the due date
                paid = rng.uniform(0, due)
                counts["late"] += 1
            else:
                paid = None
            payments.writerow(
                [
                    f"I{i}",
                    ref,
                    f"{rng.randint(40, 900)}.00",
                    _at(issued),
                    (NOW - timedelta(days=due)).date().isoformat(),
                    "" if paid is None else _at(max(paid, 0.01)),
                ]
            )
            counts["payments"] += 1
    files.counts = counts
    return files


@dataclass
class Pages:
    """Server time of each page kind in milliseconds, cold and warm, and the answers' statuses."""

    cold: dict[str, list[float]] = field(default_factory=dict)
    warm: dict[str, list[float]] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)


@dataclass
class Result:
    store: str
    clients: int
    imports: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind: (rows, s)
    first: dict[str, float] = field(default_factory=dict)  # step: s
    daily: dict[str, float] = field(default_factory=dict)
    first_report: PassReport = field(default_factory=PassReport)
    daily_report: PassReport = field(default_factory=PassReport)
    pages: Pages = field(default_factory=Pages)


def timed_pass(
    store: sessionmaker[Session], settings: Settings, now: datetime
) -> tuple[PassReport, dict[str, float]]:
    """One pass as `goodwill engine run` makes it, each step's seconds recorded."""
    times: dict[str, float] = {}
    engine = EnginePass(
        store, settings, now=now, playbook=playbook_for(settings), calendar=calendar_for(settings)
    )
    plain = engine.steps

    def clocked(step: Step) -> Step:
        def run() -> Any:
            start = time.perf_counter()
            try:
                return step.run()
            finally:
                times[step.name] = time.perf_counter() - start
                print(f"  {step.name}: {times[step.name]:.1f} s", flush=True)

        return replace(step, run=run)

    engine.steps = lambda: [clocked(step) for step in plain()]  # type: ignore[method-assign]
    start = time.perf_counter()
    report = engine.run()
    times["total"] = time.perf_counter() - start
    return report, times


def _ms(http: TestClient, path: str, pages: Pages) -> float:
    start = time.perf_counter()
    response = http.get(path)
    took = (time.perf_counter() - start) * 1000
    pages.statuses.add(response.status_code)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return took


def browse(
    settings: Settings, now: datetime, n: int, *, sample: int = 20, repeat: int = 10
) -> Pages:
    """Log in as the owner and time the pages: sampled client pages, then each list page."""
    pages = Pages()
    rng = random.Random(7)
    app = create_app(replace(settings, secret_key="bench-signing-key"), clock=lambda: now)
    with TestClient(app, follow_redirects=False) as http:
        login = http.get("/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": OWNER, "password": PASSWORD, "next": "", "csrf_token": token}
        assert http.post("/login", data=form).status_code == 303
        refs = [f"C{rng.randint(1, n)}" for _ in range(sample)]
        # One unrecorded client page first: "cold" is a client not asked for yet, not the
        # process's first render (templates compiled, connections opened).
        _ms(http, client_url(f"C{rng.randint(1, n)}"), Pages())
        pages.cold["client"] = [_ms(http, client_url(ref), pages) for ref in refs]
        pages.warm["client"] = [_ms(http, client_url(ref), pages) for ref in refs]
        for path in LIST_PAGES:
            pages.cold[path] = [_ms(http, path, pages)]
            pages.warm[path] = [_ms(http, path, pages) for _ in range(repeat - 1)]
    return pages


def measure(name: str, url: str, files: Generated, n: int) -> Result:
    """Import the files, run the first and the daily pass, browse; every step timed."""
    result = Result(name, n)
    # A file of 10M orders is past the default bounds on one import (imports.max_rows and
    # max_upload_mb): a business that size raises them as this does.
    config = files.clients.parent / "scale.toml"
    config.write_text("[imports]\nmax_rows = 0\nmax_upload_mb = 0\n", encoding="utf-8")
    settings = load_settings(config_path=config, database_url=url, environ={})
    store = open_store(url)
    with store.begin() as session:
        add_user(session, email=OWNER, name="Owner", role="owner", password=PASSWORD, now=NOW)
    for kind, path, key in (
        (FileKind.CLIENTS, files.clients, "clients"),
        (FileKind.PURCHASES, files.purchases, "purchases"),
        (FileKind.PAYMENTS, files.payments, "payments"),
    ):
        start = time.perf_counter()
        done = import_file(store, settings, kind, path, now=NOW)
        result.imports[key] = (done.imported, time.perf_counter() - start)
        _say(name, f"imported {key}: {done.imported:,} rows in {result.imports[key][1]:.1f} s")
    _passes(name, result, store, settings, files.daily)
    store.kw["bind"].dispose()
    return result


def _passes(
    name: str, result: Result, store: sessionmaker[Session], settings: Settings, daily: Path
) -> None:
    """The first pass as of NOW, the next day's orders, the daily pass, the pages."""
    result.first_report, result.first = timed_pass(store, settings, NOW)
    _say(name, f"first pass {result.first['total']:.1f} s: {result.first_report.as_dict()}")
    start = time.perf_counter()
    done = import_file(store, settings, FileKind.PURCHASES, daily, now=NOW + DAY)
    result.imports["daily"] = (done.imported, time.perf_counter() - start)
    result.daily_report, result.daily = timed_pass(store, settings, NOW + DAY)
    _say(name, f"daily pass {result.daily['total']:.1f} s: {result.daily_report.as_dict()}")
    result.pages = browse(settings, NOW + DAY, result.clients)


def _say(store: str, what: str) -> None:
    """Progress as it happens, so a long run that is stopped still leaves its figures."""
    print(f"  [{store} {time.strftime('%H:%M:%S')}] {what}", flush=True)


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def table(result: Result) -> list[str]:
    """The figures beside the goals, as rows of a Markdown table."""
    n, scale = result.clients, GOAL_CLIENTS / result.clients
    rows = ["| measure | figure | goal | distance |", "|---|---|---|---|"]
    for kind, (count, seconds) in result.imports.items():
        rows.append(
            f"| import {kind} | {count:,} rows, {seconds:.1f} s, "
            f"{count / seconds:,.0f} rows/s | | |"
        )
    for label, times in (("first pass", result.first), ("daily pass", result.daily)):
        steps = ", ".join(f"{k} {v:.1f}" for k, v in times.items() if k != "total")
        total = times["total"]
        at_goal = total * scale
        rows.append(
            f"| {label} ({n:,} clients) | {total:.1f} s ({steps}) | "
            f"{DAILY_GOAL_S:.0f} s at 1M | linear to 1M: {at_goal:,.0f} s "
            f"({at_goal / DAILY_GOAL_S:.2f}x the goal) |"
        )
    rows.append(f"| model refit (in the first pass) | {result.first.get('refit', 0):.1f} s | | |")
    for label, report in (("first", result.first_report), ("daily", result.daily_report)):
        rows.append(
            f"| {label} pass made | {report.derived:,} touch points, {report.created:,} "
            f"follow-ups, {report.closed:,} closed | | |"
        )
    return rows + page_rows(result.pages)


def page_rows(pages: Pages) -> list[str]:
    """Each page kind's p50 and p95 beside the goal, as rows of the Markdown table."""
    rows = []
    for label, series in (("cold", pages.cold), ("warm", pages.warm)):
        for page, values in series.items():
            p50, p95 = _pct(values, 50), _pct(values, 95)
            verdict = "met" if p95 <= PAGE_GOAL_MS else f"{p95 / PAGE_GOAL_MS:.1f}x over"
            rows.append(
                f"| {page} page, {label} ({len(values)} requests) | p50 {p50:.0f} ms, "
                f"p95 {p95:.0f} ms | p95 {PAGE_GOAL_MS:.0f} ms | {verdict} |"
            )
    return rows


def run(
    clients: int, which: str, base: Path, *, seed: int = 2026
) -> tuple[Generated, list[Result]]:
    """Generate once, then measure on each chosen store; prints as it goes."""
    start = time.perf_counter()
    files = generate(base, clients, seed=seed)
    size = sum(p.stat().st_size for p in (files.clients, files.purchases, files.payments))
    c = files.counts
    print(
        f"{clients:,} clients ({c['stopped']:,} stop buying), {c['purchases']:,} orders, "
        f"{c['payments']:,} invoices ({c['late']:,} paid late), {c['daily']:,} orders the next "
        f"day; {size / 1e6:.0f} MB written in {time.perf_counter() - start:.1f} s (seed {seed})"
    )
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    results = []
    pg = server_settings(clients)
    print("postgresql settings: " + ", ".join(f"{k}={v}" for k, v in pg.items()))
    with stores(base, pg) if which != "sqlite" else _sqlite_only(base) as found:
        for name, url_for in found:
            if which in (name, "both"):
                result = measure(name, url_for("scale"), files, clients)
                print(f"\n{name}:")
                print("\n".join(table(result)))
                results.append(result)
                print(f"load average after {name}: {os.getloadavg()[0]:.2f}")
    return files, results


def server_settings(clients: int, memory: int | None = None) -> dict[str, str]:
    """The PostgreSQL server sized as a business of this size would run it: shared buffers
    about 4 KB a client (the default 128 MB up to 32,000 clients, at most a quarter of the
    machine's memory), the cache the planner may count on three quarters of it, room for the
    import's writes between checkpoints, and every statement over 5 s in the server's log
    (the run's folder keeps it with --keep)."""
    if memory is None:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    mb = memory // 2**20
    return {
        "shared_buffers": f"{min(mb // 4, max(128, clients * 4 // 1024))}MB",
        "effective_cache_size": f"{mb * 3 // 4}MB",
        "work_mem": "64MB",
        "maintenance_work_mem": f"{min(1024, mb // 16)}MB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "30min",
        "log_min_duration_statement": "5000",
    }


@contextmanager
def _sqlite_only(base: Path) -> Iterator[list[tuple[str, Callable[[str], str]]]]:
    yield [("sqlite", lambda db: f"sqlite:///{base / db}.db")]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep", type=Path, help="build in this folder and keep it (SQLite: scale.db in it)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help=(
            "finish what a stopped run with --keep left in that folder: the first pass "
            "(resumed where it stopped), the next day's orders, the daily pass and the pages"
        ),
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="time the pages of the stores a run with --keep built in that folder",
    )
    args = parser.parse_args()
    if args.pages_only or args.resume:
        if args.keep is None:
            parser.error("--pages-only and --resume work on the store a run with --keep left")
        (resume if args.resume else pages_only)(args.keep, args.clients)
        return
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.clients, args.store, args.keep, seed=args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args.clients, args.store, Path(tmp), seed=args.seed)


def _kept(base: Path) -> list[tuple[str, Path]]:
    kept = [
        (name, path)
        for name, path in (("sqlite", base / "scale.db"), ("postgresql", base / "pg" / "data"))
        if path.exists()
    ]
    if not kept:
        raise SystemExit(f"no kept store in {base}: run with --keep {base} first")
    return kept


def resume(base: Path, clients: int) -> list[Result]:
    """Finish a stopped run on the stores kept in ``base``: every engine pass can be re-run
    and carries on from its cursors, and the import of the next day's orders skips what it
    already holds, so whatever the run had reached is done once."""
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    results = []
    for name, _ in _kept(base):
        with _kept_url(base, name, clients) as url:
            settings = load_settings(config_path=base / "scale.toml", database_url=url, environ={})
            store = open_store(url)
            result = Result(name, clients)
            _passes(name, result, store, settings, base / "daily.csv")
            store.kw["bind"].dispose()
        print(f"\n{name} (resumed: the first pass's times are what was left of it):")
        print("\n".join(table(result)))
        results.append(result)
    return results


def pages_only(base: Path, clients: int) -> None:
    """Time the pages again on the stores a run with --keep left in ``base`` (after the daily
    pass), nothing rebuilt; a store of an older schema is brought up to date first."""
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    for name, _ in _kept(base):
        with _kept_url(base, name, clients) as url:
            settings = load_settings(database_url=url, environ={})
            _daily_upkeep(settings, NOW + DAY)
            pages = browse(settings, NOW + DAY, clients)
        rows = ["| measure | figure | goal | distance |", "|---|---|---|---|", *page_rows(pages)]
        print(f"\n{name}:\n" + "\n".join(rows))


def _daily_upkeep(settings: Settings, now: datetime) -> None:
    """What the daily pass keeps that an older schema lacked: the kept store was passed on
    ``now``'s day, and a new schema's first pass would keep it so."""
    store = open_store(settings.database_url)
    with store.begin() as session:
        keep_lapsed(session, settings, today=now.date())
    start = time.perf_counter()
    if work_out_ahead(store, settings, today=now.date(), now=now):
        print(f"insights worked out ahead: {time.perf_counter() - start:.1f} s")
    store.kw["bind"].dispose()


@contextmanager
def _kept_url(base: Path, name: str, clients: int) -> Iterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{base / 'scale.db'}"
        return
    server = PostgresServer(base / "pg", server_settings(clients))
    server.start()
    try:
        yield server.url("scale")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

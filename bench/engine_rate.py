"""Engine throughput: events processed per second by one pass with the default playbook.

Workload: N purchase events (order lines imported beforehand, not timed) for N/10 clients over
two years, the last weeks' fresh enough to create follow-ups. The pass derives a touch point for
each (first or repeat purchase, milestones), runs the scans and applies the playbook.

Baseline, in the same run on the same store: the same events merely inserted into the event log
with one executemany (what the log costs without any engine): a store holding the same import,
one row an order with its client and its time and the payload the pass writes. (An earlier
baseline inserted rows with no client, all at one instant, into an empty log: 10-30% quicker on
PostgreSQL, as no foreign key was checked and every index grew at its end.)

The process is made ready as `goodwill worker` and `goodwill engine run` make theirs before
their first pass (engine/heap.py): scipy's optimiser, which the first refit needs, loaded, and
the objects of start-up frozen out of the garbage collector's full walks. Its time is printed;
neither the passes nor the inserts pay it, and the SQLite pass, timed first, does not pay the
load alone.

The pass runs as `goodwill engine run` runs it: on PostgreSQL the derive step, which waits on
the server, beside the refit, the scan and the figures (engine/worker.py, lanes). Each step's
CPU time (its thread's in this process: all of SQLite's work, the client side of PostgreSQL's)
and wall time are printed too, in the order the steps ended. ``--partitions 1`` runs
PostgreSQL's pass on one partition of the clients instead of 16, to see what partitioning costs
a single worker. ``--lanes 1`` runs every step after the one before on PostgreSQL too.

``--clients 20`` gives each client a thousand orders: how numbering each order among its
client's orders grows with a client's history.

Run: scripts/bench engine_rate  [--events N] [--clients N] [--repeats N] [--partitions N]
                               [--lanes N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.stores import stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.engine import claims
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.heap import ENGINE_MODULES, settle
from goodwill.engine.passes import EnginePass
from goodwill.engine.worker import Step, run_pass
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Event, Order
from goodwill.store.staff import add_user

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def workload(path: Path, n: int, clients: int | None = None) -> Path:
    """``n`` orders in turn among ``clients`` clients (a tenth of ``n`` by default)."""
    clients = clients or max(1, n // 10)
    lines = ["order_id,client_id,occurred_at,amount,product"]
    for i in range(n):
        when = NOW - timedelta(minutes=(n - i) * (730 * 24 * 60 // n))
        lines.append(f"O{i},C{i % clients},{when.isoformat()},{10 + i % 90}.50,Beans")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(
    name: str, url_for: Any, csv: Path, n: int, repeats: int, lanes: int | None = None
) -> None:
    """``repeats`` runs, each a fresh store and a fresh baseline table, one after the other;
    medians with the range, and the ratio of the medians."""
    engine_times, base_times, steps = [], [], ""
    for run in range(repeats):
        engine_s, base_s, steps, report = once(url_for, run, csv, n, lanes)
        engine_times.append(engine_s)
        base_times.append(base_s)
    engine_s, base_s = statistics.median(engine_times), statistics.median(base_times)
    ratios = [e / b for e, b in zip(engine_times, base_times, strict=True)]
    print(
        f"{name:10} engine {n / engine_s:8,.0f} events/s ({engine_s:5.2f} s, "
        f"{min(engine_times):.2f}-{max(engine_times):.2f}; {report.derived} touch points, "
        f"{report.created} follow-ups)   the same events inserted {n / base_s:8,.0f} events/s "
        f"({base_s:.2f} s, {min(base_times):.2f}-{max(base_times):.2f})   "
        f"ratio engine/insert time {engine_s / base_s:4.1f}x "
        f"(runs {', '.join(f'{r:.1f}' for r in ratios)})"
    )
    print(
        f"{'':10} steps of the last run, as they ended, CPU s of the step's thread / wall s: "
        f"{steps}"
    )


def once(
    url_for: Any, run: int, csv: Path, n: int, lanes: int | None = None
) -> tuple[float, float, str, Any]:
    """One timed pass on a fresh store, and one plain insert of as many events."""
    url = url_for(f"engine{run}")
    settings = load_settings(database_url=url, environ={})
    store = open_store(url)
    with store.begin() as session:
        add_user(
            session,
            email="o@shop.example",
            name="O",
            role="owner",
            password="a long password",
            now=NOW,
        )
    assert import_file(store, settings, FileKind.PURCHASES, csv, now=NOW).imported == n
    engine = EnginePass(
        store, settings, now=NOW, playbook=playbook_for(settings), calendar=calendar_for(settings)
    )
    steps: dict[str, str] = {}

    def timed(step: Step) -> Step:
        def run() -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return step.run()
            finally:
                took = f"{time.thread_time() - cpu:.2f}/{time.perf_counter() - wall:.2f}"
                steps[step.name] = f"{step.name} {took}"

        return replace(step, run=run)

    start = time.perf_counter()
    # The pass as `goodwill engine run` makes it (its steps beside each other where the store
    # allows: engine/worker.py), each step timed.
    outcome = run_pass(
        store,
        [timed(step) for step in engine.steps()],
        as_of=NOW,
        clock=lambda: NOW,
        sleep=lambda _: None,
        lanes=lanes,
    )
    engine_s = time.perf_counter() - start
    assert not outcome.failures, outcome.failures
    store.kw["bind"].dispose()

    # The peer: the same events written to the same log with one executemany. The store holds
    # the same import (not timed), so each row names its client (the foreign key is checked) and
    # its order's own time, and carries the payload the pass writes.
    base_store = open_store(url_for(f"baseline{run}"))
    assert import_file(base_store, settings, FileKind.PURCHASES, csv, now=NOW).imported == n
    with base_store() as session:
        orders = session.execute(
            select(Order.external_id, Order.client_id, Order.occurred_at, Order.amount_minor)
        ).all()
    rows = [
        {
            "type": "purchase.repeat",
            "client_id": client_id,
            "occurred_at": occurred_at,
            "recorded_at": NOW,
            "source": "engine",
            "external_id": f"derive:purchase/{order}",
            "idempotency_key": f"derive:purchase/{order}",
            "payload": {
                "order_id": order,
                "amount": amount / 100,
                "currency": "USD",
                "channel": None,
                "n": 2,
            },
        }
        for order, client_id, occurred_at, amount in orders
    ]
    start = time.perf_counter()
    with base_store.begin() as session:
        session.execute(insert(Event.__table__), rows)
    base_s = time.perf_counter() - start
    base_store.kw["bind"].dispose()
    return engine_s, base_s, ", ".join(steps.values()), engine.report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per store (medians)")
    parser.add_argument(
        "--clients", type=int, default=None, help="clients the events are shared by (events/10)"
    )
    parser.add_argument(
        "--partitions", type=int, default=None, help="client partitions on PostgreSQL (16)"
    )
    parser.add_argument(
        "--lanes", type=int, default=None, help="steps at once (as the store allows: 2 on PG)"
    )
    args = parser.parse_args()
    if args.partitions:
        claims.PARTITIONS = args.partitions
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        clients = args.clients or max(1, args.events // 10)
        csv = workload(base / "orders.csv", args.events, clients)
        print(f"{args.events:,} purchase events, {clients:,} clients")
        # As a worker starts: the optimiser loaded and start-up's objects frozen, before either
        # store's pass is timed, so both are timed alike (the first used to pay the load alone).
        started = time.perf_counter()
        settle(ENGINE_MODULES)
        print(f"the process made ready as a worker's: {time.perf_counter() - started:.2f} s")
        with stores(base) as available:
            for name, url_for in available:
                measure(name, url_for, csv, args.events, args.repeats, args.lanes)


if __name__ == "__main__":
    main()

"""Engine workers: one pass shared by 1 and by 2 worker processes on PostgreSQL, and one pass
against a plain insert of the same events on SQLite and PostgreSQL.

Workload: N purchase events for N/10 clients over two years (bench/engine_rate.py's, imported
beforehand, not timed) in two identical databases. One database gets one worker, the other two
worker processes started at the same instant; each process is started and connected before the
clock starts, so only the pass is timed (from the first worker's start to the last one's end).
Both databases must end with the same follow-ups; the benchmark checks it.

Then, per store, bench/engine_rate.py's measure: one pass by one worker against the same number
of event rows merely inserted with one executemany.

Run: scripts/bench engine_workers  [--events N] [--workers N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from multiprocessing.synchronize import Event as Signal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.engine_rate import NOW, measure, workload
from bench.stores import stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.engine.heap import ENGINE_MODULES, settle
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import FollowUp
from goodwill.store.staff import add_user


def build(url: str, csv: Path, n: int) -> None:
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
    settings = load_settings(database_url=url, environ={})
    assert import_file(store, settings, FileKind.PURCHASES, csv, now=NOW).imported == n


def worker(url: str, ready: Any, go: Signal, out: Any) -> None:
    """One engine process: made ready as `goodwill worker` makes itself (engine/heap.py),
    connects, says it is ready, waits for the start, runs one pass."""
    from goodwill.engine.configuration import run_pass

    settle(ENGINE_MODULES)
    store = open_store(url)
    settings = load_settings(database_url=url, environ={})
    with store() as session:
        session.execute(select(1))
    ready.put(True)
    go.wait()
    start = time.perf_counter()
    report = run_pass(store, settings, now=NOW)
    out.put((start, time.perf_counter(), report.created, report.derived))


def shared_pass(url: str, workers: int) -> tuple[float, int, list[int]]:
    """Seconds for ``workers`` processes to finish one pass together, the follow-ups created and
    the touch points each worker derived (how the work was split)."""
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    procs = [context.Process(target=worker, args=(url, ready, go, out)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    results = [out.get(timeout=1800) for _ in procs]
    for proc in procs:
        proc.join()
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    return seconds, sum(r[2] for r in results), [r[3] for r in results]


def followups(url: str) -> int:
    with open_store(url)() as session:
        return int(session.execute(select(func.count(FollowUp.id))).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        csv = workload(base / "orders.csv", n)
        print(f"{n:,} purchase events, {n // 10:,} clients; {multiprocessing.cpu_count()} cores")
        settle(ENGINE_MODULES)  # this process's passes below, made ready as a worker's
        with stores(base) as available:
            for name, url_for in available:
                if name != "postgresql":
                    continue
                one, many = url_for("one_worker"), url_for("many_workers")
                build(one, csv, n)
                build(many, csv, n)
                one_s, one_created, _ = shared_pass(one, 1)
                many_s, many_created, split = shared_pass(many, args.workers)
                assert one_created == many_created == followups(one) == followups(many)
                print(
                    f"postgresql 1 worker {n / one_s:8,.0f} events/s ({one_s:5.1f} s)   "
                    f"{args.workers} workers {n / many_s:8,.0f} events/s ({many_s:5.1f} s)   "
                    f"ratio {one_s / many_s:4.2f}x   ({one_created} follow-ups each, once; "
                    f"touch points derived by each worker {'+'.join(map(str, split))})"
                )
            for name, url_for in available:
                measure(name, url_for, csv, n, 1)


if __name__ == "__main__":
    main()

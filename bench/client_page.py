"""A client page's server time at 10, 100, 1,000 and 10,000 purchases, against the same page
with its figures computed from the client's whole history (the way before they were kept).

The store: a few thousand generated clients (bench/scale.py's generator: ~10 orders each over
three years, continuous timestamps, one invoice each), plus, for each history length, a few
clients with that many purchases spread over the last thousand days; the models fitted and the
figures kept as the engine's pass leaves them. Then, logged in as an owner, each of those
clients' pages is asked for through the app in process (TestClient, no network): "cold" the
first time, "warm" ten times more. Half of the clients are shown the kept way (their row and the
stored fits), the other half the history way (``client_value_from_history``, the per-client
aggregate over orders and the population prior learned from every order), in the same run.

Run: python -m bench.client_page [--clients N] [--store sqlite|postgresql|both]
(scripts/bench client_page)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastapi.testclient import TestClient

from bench.scale import NOW, OWNER, PASSWORD, _at, generate
from bench.stores import stores
from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.settings import Settings, load_settings
from goodwill.store import client_figures, queries
from goodwill.store.database import open_store
from goodwill.store.staff import add_user
from goodwill.store.value import client_value_from_history, keep_values, refresh_fits
from goodwill.web import create_app
from goodwill.web.pages import clients as client_pages
from goodwill.web.rendering import client_url

LENGTHS = (10, 100, 1_000, 10_000)
#: Clients per history length and way (kept, history): the cold samples.
EACH = 3
WARM = 10
GOAL_MS = 30.0
WAYS = ("kept", "history")


@dataclass
class Times:
    """Server milliseconds by (way, history length): cold and warm samples."""

    cold: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    warm: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    #: The process's CPU milliseconds per request (server and client threads): what a request
    #: costs whatever else shares the machine.
    cpu: dict[tuple[str, int], list[float]] = field(default_factory=dict)


def heavy_file(base: Path, *, seed: int = 11) -> Path:
    """The long histories: client H<n>-<way>-<k> with n purchases over the last 1,000 days."""
    rng = random.Random(seed)
    path = base / "heavy.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["order_id", "client_id", "occurred_at", "amount", "product"])
        for n in LENGTHS:
            for way in WAYS:
                for k in range(EACH):
                    ref = f"H{n}-{way}-{k}"
                    moments = sorted(rng.uniform(1.0, 1000.0) for _ in range(n))
                    for j, days_ago in enumerate(moments):
                        out.writerow(
                            [f"{ref}/{j}", ref, _at(days_ago), f"{rng.uniform(5, 80):.2f}", "Beans"]
                        )
    return path


def build(url: str, base: Path, clients: int) -> Settings:
    """Import the business and the long histories, fit the models, keep the figures."""
    settings = load_settings(database_url=url, environ={})
    store = open_store(url)
    with store.begin() as session:
        add_user(session, email=OWNER, name="Owner", role="owner", password=PASSWORD, now=NOW)
    base.mkdir(parents=True, exist_ok=True)
    files = generate(base, clients)
    for kind, path in (
        (FileKind.CLIENTS, files.clients),
        (FileKind.PURCHASES, files.purchases),
        (FileKind.PAYMENTS, files.payments),
        (FileKind.PURCHASES, heavy_file(base)),
    ):
        import_file(store, settings, kind, path, now=NOW)
    today = NOW.astimezone(settings.zone).date()
    with store.begin() as session:
        refresh_fits(session, settings, today=today, now=NOW)
    keep_values(store, settings, today=today, now=NOW)
    store.kw["bind"].dispose()
    return settings


@contextmanager
def the_history_way() -> Iterator[None]:
    """The page as it was: value and figures computed from the client's history."""
    saved = (client_pages.client_value, client_figures.figures_for, client_figures.kept_currency)
    client_pages.client_value = client_value_from_history  # type: ignore[assignment]
    client_figures.figures_for = lambda *_: None  # type: ignore[assignment]
    client_figures.kept_currency = queries.figures_currency
    try:
        yield
    finally:
        client_pages.client_value, client_figures.figures_for, client_figures.kept_currency = saved


def _ms(http: TestClient, path: str, cpu: list[float] | None = None) -> float:
    start, used = time.perf_counter(), time.process_time()
    response = http.get(path)
    took = (time.perf_counter() - start) * 1000
    if cpu is not None:
        cpu.append((time.process_time() - used) * 1000)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return took


def browse(settings: Settings) -> Times:
    """Each long-history client's page, cold then warm, kept and history way interleaved."""
    times = Times()
    app = create_app(replace(settings, secret_key="bench-signing-key"), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as http:
        login = http.get("/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": OWNER, "password": PASSWORD, "next": "", "csrf_token": token}
        assert http.post("/login", data=form).status_code == 303
        for way in WAYS:  # one unrecorded page each way: templates compiled, prior learned
            with the_history_way() if way == "history" else _as_is():
                _ms(http, client_url("C1" if way == "kept" else "C2"))
        for n in LENGTHS:
            for k in range(EACH):
                for way in WAYS:
                    url = client_url(f"H{n}-{way}-{k}")
                    cpu = times.cpu.setdefault((way, n), [])
                    with the_history_way() if way == "history" else _as_is():
                        times.cold.setdefault((way, n), []).append(_ms(http, url))
                        warm = [_ms(http, url, cpu) for _ in range(WARM)]
                    times.warm.setdefault((way, n), []).extend(warm)
    return times


@contextmanager
def _as_is() -> Iterator[None]:
    yield


def figures_only(settings: Settings) -> dict[tuple[str, int], list[float]]:
    """The page's figures alone (the profile's figures and the value panel), in process: CPU
    milliseconds per client page, kept against the history way, WARM times each client."""
    from goodwill.store.queries import client_profile, find_client
    from goodwill.store.value import client_value

    out: dict[tuple[str, int], list[float]] = {}
    store = open_store(settings.database_url)
    today = NOW.astimezone(settings.zone).date()
    with store() as session:
        for n in LENGTHS:
            for k in range(EACH):
                for way in WAYS:
                    client = find_client(session, f"H{n}-kept-{k}")
                    value = client_value if way == "kept" else client_value_from_history
                    with the_history_way() if way == "history" else _as_is():
                        for _ in range(WARM):
                            used = time.process_time()
                            client_profile(session, settings, client, today=today)
                            value(session, settings, client.id, today=today)
                            took = (time.process_time() - used) * 1000
                            out.setdefault((way, n), []).append(took)
    store.kw["bind"].dispose()
    return out


def _pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def table(times: Times, figures: dict[tuple[str, int], list[float]]) -> list[str]:
    rows = [
        "| purchases | requests | kept p50 / p95 | history p50 / p95 | history / kept (p50) "
        "| 30 ms goal (kept p95) |",
        "|---|---|---|---|---|---|",
    ]
    for n in LENGTHS:
        kept, old = figures[("kept", n)], figures[("history", n)]
        rows.append(
            f"| {n:,} figures alone, CPU | {len(kept)} + {len(old)} | {_pct(kept, 50):.1f} / "
            f"{_pct(kept, 95):.1f} ms | {_pct(old, 50):.1f} / {_pct(old, 95):.1f} ms "
            f"| {_pct(old, 50) / _pct(kept, 50):.1f}x | |"
        )
    for n in LENGTHS:
        kept, old = times.cpu[("kept", n)], times.cpu[("history", n)]
        p95 = _pct(kept, 95)
        verdict = "met" if p95 <= GOAL_MS else f"{p95 / GOAL_MS:.1f}x over"
        rows.append(
            f"| {n:,} warm, CPU | {len(kept)} + {len(old)} | {_pct(kept, 50):.1f} / {p95:.1f} ms "
            f"| {_pct(old, 50):.1f} / {_pct(old, 95):.1f} ms "
            f"| {_pct(old, 50) / _pct(kept, 50):.1f}x | {verdict} |"
        )
    for label, series in (("cold", times.cold), ("warm", times.warm)):
        for n in LENGTHS:
            kept, old = series[("kept", n)], series[("history", n)]
            p95 = _pct(kept, 95)
            verdict = "met" if p95 <= GOAL_MS else f"{p95 / GOAL_MS:.1f}x over"
            rows.append(
                f"| {n:,} {label} | {len(kept)} + {len(old)} | {_pct(kept, 50):.1f} / {p95:.1f} ms "
                f"| {_pct(old, 50):.1f} / {_pct(old, 95):.1f} ms "
                f"| {_pct(old, 50) / _pct(kept, 50):.1f}x | {verdict} |"
            )
    return rows


def run(clients: int, which: str, base: Path) -> None:
    print(f"{clients:,} clients, and {EACH} a way at each of {LENGTHS} purchases")
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with stores(base) if which != "sqlite" else _sqlite_only(base) as found:
        for name, url_for in found:
            if which not in (name, "both"):
                continue
            start = time.perf_counter()
            settings = build(url_for("page"), base / name, clients)
            print(f"\n{name}: store built in {time.perf_counter() - start:.0f} s")
            times = browse(settings)
            print("\n".join(table(times, figures_only(settings))))
            print(f"load average after {name}: {os.getloadavg()[0]:.2f}")


@contextmanager
def _sqlite_only(base: Path) -> Iterator[list[tuple[str, Callable[[str], str]]]]:
    yield [("sqlite", lambda db: f"sqlite:///{base / db}.db")]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=3_000)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args.clients, args.store, Path(tmp))


if __name__ == "__main__":
    main()

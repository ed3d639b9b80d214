"""The At risk page with the engine's lapsed marks against the same page without them.

The list shows the kept rhythm rows overdue and not lapsed. Without the marks a page reads every
row ever overdue (tens of thousands at 200,000 clients) to find the few hundred on the list;
with them, the rows whose open due day has passed. This times both on a store a scale run kept
(``python -m bench.scale --clients N --keep DIR``), on the same list in the same run: rounds that
alternate the marks off (the snapshot's marking day unset, as before the engine first marks)
and on, each round one unrecorded request then ten timed, through the page as a browser asks
for it and through the store function alone. The rows and counts must be equal either way.

Without ``--keep`` it first builds a store of ``--clients`` (default 10,000) on each store kind
in a temporary folder, as ``bench.scale`` does (a few minutes).

Run: python -m bench.at_risk_marks [--keep DIR] [--clients N] [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from bench.scale import DAY, NOW, OWNER, PASSWORD, _kept_url, run
from goodwill.settings import Settings, load_settings
from goodwill.store.at_risk import at_risk_page, keep_lapsed
from goodwill.store.database import open_store
from goodwill.store.rhythm_models import RhythmSnapshot
from goodwill.web import create_app


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def compare(settings: Settings, *, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request: page and store function, marks off and on."""
    store = open_store(settings.database_url)
    today = (NOW + DAY).date()
    with store.begin() as session:
        keep_lapsed(session, settings, today=today)  # as the day's engine pass does
        snapshot = session.get(RhythmSnapshot, 1)
        if snapshot is None:
            raise SystemExit("no kept rhythms in this store: the engine has not run on it")
        marked_on = snapshot.lapsed_on

    def marks(on: bool) -> None:
        with store.begin() as session:
            kept = session.get(RhythmSnapshot, 1)
            assert kept is not None
            kept.lapsed_on = marked_on if on else None

    times: dict[str, list[float]] = {k: [] for k in ("page off", "page on", "list off", "list on")}
    seen: dict[bool, object] = {}
    app = create_app(replace(settings, secret_key="bench-signing-key"), clock=lambda: NOW + DAY)
    try:
        with TestClient(app, follow_redirects=False) as http:
            login = http.get("/login").text
            token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            form = {"email": OWNER, "password": PASSWORD, "next": "", "csrf_token": token}
            assert http.post("/login", data=form).status_code == 303
            for _ in range(rounds):
                for on in (False, True):
                    marks(on)
                    word = "on" if on else "off"
                    http.get("/at-risk")
                    for _ in range(10):
                        start = time.perf_counter()
                        assert http.get("/at-risk").status_code == 200
                        times[f"page {word}"].append((time.perf_counter() - start) * 1000)
                    with store() as session:
                        for _ in range(10):
                            start = time.perf_counter()
                            page = at_risk_page(session, settings, as_of=today, limit=50)
                            times[f"list {word}"].append((time.perf_counter() - start) * 1000)
                    seen[on] = ([r.as_dict() for r in page.rows], page.count, page.total)
    finally:
        marks(True)
        store.kw["bind"].dispose()
    assert seen[True] == seen[False], "the marks changed the list"
    return times


def report(base: Path, clients: int, *, rounds: int) -> None:
    """Print the comparison for each store kept in ``base``."""
    kept = [
        n for n, f in (("sqlite", "scale.db"), ("postgresql", "pg/data")) if (base / f).exists()
    ]
    if not kept:
        raise SystemExit(f"no kept store in {base}: run bench.scale with --keep first")
    print(f"{date.today()}, {rounds} rounds of ten requests each way")
    for name in kept:
        with _kept_url(base, name, clients) as url:
            times = compare(load_settings(database_url=url, environ={}), rounds=rounds)
        print(f"\n{name}:\n| read | marks off: p50 / p95 | marks on: p50 / p95 | ratio (p50) |")
        print("|---|---|---|---|")
        for what in ("page", "list"):
            off, on = times[f"{what} off"], times[f"{what} on"]
            print(
                f"| {'/at-risk page' if what == 'page' else 'at_risk_page()'} "
                f"| {statistics.median(off):.1f} / {_p(off, 0.95):.1f} ms "
                f"| {statistics.median(on):.1f} / {_p(on, 0.95):.1f} ms "
                f"| {statistics.median(off) / statistics.median(on):.1f}x |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, help="the folder a scale run kept")
    parser.add_argument("--clients", type=int, default=10_000, help="the store's size")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.keep is not None:
        report(args.keep, args.clients, rounds=args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args.clients, "both", Path(tmp))
        report(Path(tmp), args.clients, rounds=args.rounds)


if __name__ == "__main__":
    main()

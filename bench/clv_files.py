"""`goodwill clv summarize` and `clv fit --summary` on files, against their peers in one run.

1. Summarize: ``--rows`` transactions (default 10,000,000) for a tenth as many customers, written
   seeded to a CSV with continuous timestamps (``2023-04-05 13:07:42``) and amounts with cents.
   ``summarize_command`` (read, summarise with calibration and holdout, write the summary CSV) is
   timed against one DuckDB query computing the same summary over the same file, and the two
   summaries are compared (ids, frequency, spend, holdout).
2. Fit: ``--customers`` rows (default 1,000,000) of a BG/NBD summary with continuous recency and
   age (no two rows alike, so nothing collapses), written to a CSV. ``goodwill clv fit --model
   bg-nbd --summary FILE`` is timed as a whole process (start, read, fit, print) against a process
   running pandas ``read_csv`` and lifetimes' ``BetaGeoFitter.fit`` on the same file.

Each timing is the median of ``--repeats`` runs (first runs included: nothing is warmed), with the
range; the machine may be shared, so only the ratios measured in the same run mean anything.

Run: python -m bench.clv_files [--rows 10000000] [--customers 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from goodwill.analysis.clv_files import summarize_command

CALIBRATION_END = date(2024, 6, 30)
OBSERVATION_END = date(2024, 12, 31)

QUERY = """
COPY (
  WITH days AS (
    SELECT customer_id, CAST("date" AS DATE) AS day, sum(amount) AS spent
    FROM read_csv('{path}', header = true,
                  columns = {{'customer_id': 'BIGINT', 'date': 'TIMESTAMP', 'amount': 'DOUBLE'}})
    WHERE CAST("date" AS DATE) <= DATE '{obs}'
    GROUP BY ALL
  )
  SELECT customer_id,
         count(*) FILTER (day <= DATE '{cal}') - 1 AS frequency,
         (max(day) FILTER (day <= DATE '{cal}') - min(day)) / 7.0 AS recency,
         (DATE '{cal}' - min(day)) / 7.0 AS T,
         coalesce((sum(spent) FILTER (day <= DATE '{cal}') - arg_min(spent, day))
                  / nullif(count(*) FILTER (day <= DATE '{cal}') - 1, 0), 0) AS monetary_value,
         count(*) FILTER (day > DATE '{cal}') AS frequency_holdout
  FROM days
  GROUP BY customer_id
  HAVING min(day) <= DATE '{cal}'
  ORDER BY customer_id
) TO '{out}' (HEADER, DELIMITER ',')
"""

LIFETIMES = """
import sys
import pandas as pd
from lifetimes import BetaGeoFitter
frame = pd.read_csv(sys.argv[1])
fitter = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
print(dict(fitter.params_))
"""


def write_transactions(path: Path, rows: int, customers: int, seed: int = 7) -> None:
    """customer_id,date,amount with second-resolution timestamps over two years, in chunks."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00")
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer_id,date,amount\n")
        chunk = 1_000_000
        for done in range(0, rows, chunk):
            n = min(chunk, rows - done)
            ids = rng.integers(1, customers + 1, n)
            seconds = rng.integers(0, 731 * 86400, n).astype("timedelta64[s]")
            stamps = np.char.replace((start + seconds).astype(str), "T", " ")
            cents = rng.integers(100, 50_000, n)
            text = "\n".join(
                f"{i},{d},{c // 100}.{c % 100:02d}"
                for i, d, c in zip(ids.tolist(), stamps.tolist(), cents.tolist(), strict=True)
            )
            handle.write(text + "\n")


def write_summary(path: Path, customers: int, seed: int = 11) -> None:
    """A BG/NBD population (r .5, alpha 6, a .8, b 2.5) with continuous t_x and T in weeks."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(1.0, 52.0, customers)
    rate = rng.gamma(0.5, 1 / 6.0, customers)
    drop = rng.beta(0.8, 2.5, customers)
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    clock = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        gap = rng.exponential(1.0, customers) / np.maximum(rate, 1e-12)
        clock = np.where(alive, clock + gap, clock)
        bought = alive & (clock <= age)
        x += bought
        t_x = np.where(bought, clock, t_x)
        alive = bought & (rng.random(customers) >= drop)
    frame = np.column_stack([np.arange(1, customers + 1), x, t_x, age])
    np.savetxt(
        path,
        frame,
        delimiter=",",
        fmt=["%d", "%d", "%.6f", "%.6f"],
        header="customer_id,frequency,recency,T",
        comments="",
    )


def timed(work: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Median, fastest and slowest wall time of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def shown(name: str, result: tuple[float, float, float]) -> str:
    median, low, high = result
    return f"{name:<42} {median:7.2f} s  ({low:.2f}-{high:.2f})"


def summarize_bench(folder: Path, rows: int, customers: int, repeats: int) -> None:
    import duckdb

    path = folder / "transactions.csv"
    write_transactions(path, rows, customers)
    print(f"{rows:,} transactions, {path.stat().st_size / 1e6:,.0f} MB, timestamps", flush=True)
    ours_out, duck_out = folder / "summary.csv", folder / "duck.csv"

    def ours() -> None:
        summarize_command(
            path,
            period="week",
            calibration_end=CALIBRATION_END,
            observation_end=OBSERVATION_END,
            out=ours_out,
        )

    def duck() -> None:
        query = QUERY.format(path=path, out=duck_out, cal=CALIBRATION_END, obs=OBSERVATION_END)
        duckdb.connect().execute(query)

    mine, theirs = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        mine.append(timed(ours, 1)[0])
        theirs.append(timed(duck, 1)[0])
    a = np.loadtxt(ours_out, delimiter=",", skiprows=1, usecols=(0, 1, 4, 5))
    b = np.loadtxt(duck_out, delimiter=",", skiprows=1, usecols=(0, 1, 4, 5))
    same = a.shape == b.shape and bool(
        np.array_equal(a[:, [0, 1, 3]], b[:, [0, 1, 3]]) and np.allclose(a[:, 2], b[:, 2])
    )
    ours_t = (statistics.median(mine), min(mine), max(mine))
    duck_t = (statistics.median(theirs), min(theirs), max(theirs))
    print(shown("goodwill clv summarize (in process)", ours_t))
    print(shown("DuckDB, one SQL query", duck_t))
    print(
        f"ratio goodwill / DuckDB: {ours_t[0] / duck_t[0]:.2f} (target at most 1.2); "
        f"{'same' if same else 'DIFFERENT'} summary, {a.shape[0]:,} customers",
        flush=True,
    )


def fit_bench(folder: Path, customers: int, repeats: int) -> None:
    path = folder / "fit_summary.csv"
    write_summary(path, customers)
    print(f"{customers:,} summary rows, continuous recency and T", flush=True)
    ours_cmd = [sys.executable, "-m", "goodwill", "clv", "fit", "--model", "bg-nbd"]
    ours_cmd += ["--summary", str(path)]
    peer_cmd = [sys.executable, "-c", LIFETIMES, str(path)]

    def run(command: list[str]) -> Callable[[], object]:
        return lambda: subprocess.run(command, check=True, capture_output=True)

    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(timed(run(ours_cmd), 1)[0])
        theirs.append(timed(run(peer_cmd), 1)[0])
    ours_t = (statistics.median(mine), min(mine), max(mine))
    peer_t = (statistics.median(theirs), min(theirs), max(theirs))
    print(shown("goodwill clv fit --summary (process)", ours_t))
    print(shown("pandas read_csv + lifetimes fit (process)", peer_t))
    print(f"ratio lifetimes / goodwill: {peer_t[0] / ours_t[0]:.1f}x (target at least 10x)")
    print(subprocess.run(ours_cmd, check=True, capture_output=True, text=True).stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("summarize", "fit"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "summarize"):
            summarize_bench(Path(folder), args.rows, max(args.rows // 10, 1), args.repeats)
        if args.only in (None, "fit"):
            fit_bench(Path(folder), args.customers, args.repeats)


if __name__ == "__main__":
    main()

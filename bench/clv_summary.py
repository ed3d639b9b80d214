"""Summarising a transactions CSV into the CLV summary, against one DuckDB query in the same run.

Writes ``--rows`` transactions (default 10,000,000) for ``--customers`` customers (default
1,000,000: integer ids, ISO dates over two years, amounts with cents) to a temporary CSV, then
times ``goodwill.analysis.clv_files.summarize_command`` end to end (read, summarise, write the
summary CSV). The baseline is DuckDB computing the same per-customer summary (distinct purchase days,
first and last day, repeat spend, holdout days) with one SQL query over the same file
(``read_csv`` and ``GROUP BY``), writing its result to a CSV too. The two summaries' totals are
compared so that "the same summary" is checked, not assumed.

Run: python -m bench.clv_summary [--rows 10000000] [--customers 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from goodwill.analysis.clv_files import summarize_command

CALIBRATION_END = date(2024, 6, 30)
OBSERVATION_END = date(2024, 12, 31)

QUERY = """
COPY (
  WITH days AS (
    SELECT customer_id, "date" AS day, sum(amount) AS spent
    FROM read_csv('{path}', header = true,
                  columns = {{'customer_id': 'BIGINT', 'date': 'DATE', 'amount': 'DOUBLE'}})
    WHERE "date" <= DATE '{obs}'
    GROUP BY customer_id, "date"
  ),
  firsts AS (
    SELECT customer_id, min(day) AS first_day FROM days GROUP BY customer_id
  )
  SELECT d.customer_id,
         count(*) FILTER (WHERE day <= DATE '{cal}') - 1 AS frequency,
         (max(day) FILTER (WHERE day <= DATE '{cal}') - f.first_day) / 7.0 AS recency,
         (DATE '{cal}' - f.first_day) / 7.0 AS T,
         coalesce(sum(spent) FILTER (WHERE day <= DATE '{cal}' AND day > f.first_day)
                  / nullif(count(*) FILTER (WHERE day <= DATE '{cal}') - 1, 0), 0)
           AS monetary_value,
         count(*) FILTER (WHERE day > DATE '{cal}') AS frequency_holdout
  FROM days d JOIN firsts f USING (customer_id)
  WHERE f.first_day < DATE '{cal}'
  GROUP BY d.customer_id, f.first_day
  ORDER BY d.customer_id
) TO '{out}' (HEADER, DELIMITER ',')
"""


def write_transactions(path: Path, rows: int, customers: int, seed: int = 7) -> None:
    """A customer_id,date,amount CSV, written in chunks with numpy (no row loop)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01")
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer_id,date,amount\n")
        chunk = 1_000_000
        for done in range(0, rows, chunk):
            n = min(chunk, rows - done)
            ids = rng.integers(1, customers + 1, n)
            days = (start + rng.integers(0, 731, n).astype("timedelta64[D]")).astype(str)
            cents = rng.integers(100, 50_000, n)
            text = "\n".join(
                f"{i},{d},{c // 100}.{c % 100:02d}"
                for i, d, c in zip(ids.tolist(), days.tolist(), cents.tolist(), strict=True)
            )
            handle.write(text + "\n")


def run(rows: int, customers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        started = time.perf_counter()
        write_transactions(path, rows, customers)
        size_mb = path.stat().st_size / 1e6
        print(
            f"{rows:,} transactions, {customers:,} customers, {size_mb:,.0f} MB "
            f"(written in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        ours_out = Path(folder) / "summary.csv"
        started = time.perf_counter()
        n = summarize_command(
            path,
            period="week",
            calibration_end=CALIBRATION_END,
            observation_end=OBSERVATION_END,
            out=ours_out,
        )
        ours_s = time.perf_counter() - started
        print(f"goodwill summarize_command  {ours_s:7.2f} s  {n:,} customers", flush=True)

        import duckdb

        duck_out = Path(folder) / "duck.csv"
        query = QUERY.format(path=path, out=duck_out, cal=CALIBRATION_END, obs=OBSERVATION_END)
        connection = duckdb.connect()
        started = time.perf_counter()
        connection.execute(query)
        duck_s = time.perf_counter() - started
        ours = np.loadtxt(ours_out, delimiter=",", skiprows=1, usecols=(0, 1, 4, 5))
        duck = np.loadtxt(duck_out, delimiter=",", skiprows=1, usecols=(0, 1, 4, 5))
        same = ours.shape == duck.shape and bool(
            np.array_equal(ours[:, [0, 1, 3]], duck[:, [0, 1, 3]])
            and np.allclose(ours[:, 2], duck[:, 2], rtol=1e-9)
        )
        print(f"DuckDB one SQL query        {duck_s:7.2f} s  {duck.shape[0]:,} customers")
        print(
            f"ratio goodwill / DuckDB: {ours_s / duck_s:.2f} "
            f"({'same' if same else 'DIFFERENT'} summary: ids, frequency, spend, holdout)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args()
    customers = args.customers or max(args.rows // 10, 1)
    run(args.rows, customers)


if __name__ == "__main__":
    main()

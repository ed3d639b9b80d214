"""The overdue scan (cadence.learn + cadence.overdue) against the same computation in DuckDB SQL.

Clients are simulated from the cadence model itself: each client's log-intervals are
Normal(mu, sigma^2) with (mu, sigma^2) drawn from a normal-inverse-gamma population (median
interval 30 days, clients from weekly to quarterly); 1 + Poisson(10.9) purchases are drawn per
client and placed so that most clients are still buying on the scan date (their purchases after it
are dropped, leaving about 10 per client) and one in seven stopped a little before it. Each
purchase has an amount; the rows are shuffled; client ids are spread out as database keys are.

goodwill: ``learn`` + ``overdue`` on the numpy columns, timed end to end (one thread).
Baseline: one DuckDB SQL statement over a DuckDB table holding the same columns (the load is timed
separately), computing the same thing — same-day purchases merged, log-intervals by window
function, per-client mean and sum of squares, the method-of-moments prior with the same formulas
and caps, the conjugate update, and the overdue rows ordered by revenue at risk. The one
difference: SQL has no Student-t quantile, so the query computes it from the normal quantile z
(passed in) by the four-term Cornish-Fisher expansion t = z + g1/nu + g2/nu^2 + g3/nu^3 + g4/nu^4;
the overdue sets are compared and their agreement reported. (The weak prior for small populations
is not in the SQL; this population is large.) DuckDB uses every core.

Run: python -m bench.overdue_scan [--quick] [--purchases N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import ndtri  # type: ignore[import-untyped]

from goodwill.domain.cadence import (
    MAX_KAPPA0,
    MAX_SHAPE0,
    MIN_LOG_SD,
    CadenceSettings,
    Overdue,
    learn,
    overdue,
)

AS_OF = np.datetime64("2024-06-30")
PURCHASES_PER_CLIENT = 10
# Purchases drawn per client, of which those after AS_OF (about 13%) are dropped.
DRAWN_PER_CLIENT = 11.9

SQL = """
WITH days AS (
    SELECT client, day, sum(amount) AS spent FROM purchases GROUP BY client, day
), gaps AS (
    SELECT client, day, spent,
           ln(day - lag(day) OVER (PARTITION BY client ORDER BY day)) AS y
    FROM days
), units AS (
    SELECT client, count(*) AS n, max(day) AS last, avg(spent) AS mean_value,
           count(y)::DOUBLE AS k, coalesce(sum(y), 0) AS total, coalesce(sum(y * y), 0) AS ss
    FROM gaps GROUP BY client
), stats AS (
    SELECT *, CASE WHEN k > 0 THEN total / k ELSE 0 END AS ybar,
           greatest(ss - CASE WHEN k > 0 THEN total * total / k ELSE 0 END, 0) AS s
    FROM units
), pooled AS (
    SELECT greatest(sum(s) / sum(k - 1), $floor) AS m2, avg(1 / (k - 1)) AS h,
           avg(1 / k) AS hk, avg(ybar) AS m0, var_pop(ybar) AS vy
    FROM stats WHERE k >= 2
), moments AS (
    SELECT avg(power(s.s / (s.k - 1) - p.m2, 2)) AS raw
    FROM stats s, pooled p WHERE s.k >= 2
), variances AS (
    SELECT m0, m2, (raw - 2 * m2 * m2 * h) / (1 + 2 * h) AS v, vy - m2 * hk AS tau2
    FROM pooled, moments
), prior AS (
    SELECT m0, m2,
           CASE WHEN v <= 0 THEN $max_shape ELSE least(2 + m2 * m2 / v, $max_shape) END AS a0,
           CASE WHEN tau2 <= 0 THEN $max_kappa ELSE least(m2 / tau2, $max_kappa) END AS kappa0
    FROM variances
), posterior AS (
    SELECT u.client, u.last, u.mean_value, p.kappa0 + u.k AS kappa,
           (p.kappa0 * p.m0 + u.k * u.ybar) / (p.kappa0 + u.k) AS m,
           p.a0 + u.k / 2 AS a,
           p.m2 * (p.a0 - 1) + u.s / 2
             + p.kappa0 * u.k * power(u.ybar - p.m0, 2) / (2 * (p.kappa0 + u.k)) AS b
    FROM stats u, prior p WHERE u.n >= $min_purchases
), quantile AS (
    SELECT *, 2 * a AS nu FROM posterior
), thresholds AS (
    SELECT client, last, mean_value, exp(m) AS usual,
           exp(m + ($z
                    + ($z ^ 3 + $z) / 4 / nu
                    + (5 * $z ^ 5 + 16 * $z ^ 3 + 3 * $z) / 96 / nu ^ 2
                    + (3 * $z ^ 7 + 19 * $z ^ 5 + 17 * $z ^ 3 - 15 * $z) / 384 / nu ^ 3
                    + (79 * $z ^ 9 + 776 * $z ^ 7 + 1482 * $z ^ 5 - 1920 * $z ^ 3 - 945 * $z)
                      / 92160 / nu ^ 4)
                   * sqrt(b * (kappa + 1) / (a * kappa))) AS threshold
    FROM quantile
), late AS (
    SELECT client, last, usual, threshold, last + round(usual)::BIGINT AS expected,
           greatest(floor(($as_of - last) / usual + 1e-9), 1)::BIGINT AS cycle, mean_value
    FROM thresholds WHERE $as_of > last + floor(threshold)::BIGINT
)
SELECT client, expected, $as_of - expected AS days_overdue, usual, cycle,
       mean_value * cycle AS revenue_at_risk
FROM late ORDER BY revenue_at_risk DESC, days_overdue DESC, client
"""


def simulate(rng: np.random.Generator, n_clients: int) -> dict[str, np.ndarray]:
    """Purchases (client, day as int days since 1970, amount), shuffled, none after AS_OF."""
    var = 1.0 / rng.gamma(4.0, 1.0 / 0.45, n_clients)  # sigma^2: mean 0.15
    mu = rng.normal(np.log(30.0), np.sqrt(var / 0.4))
    counts = 1 + rng.poisson(DRAWN_PER_CLIENT - 1, n_clients)
    owner = np.repeat(np.arange(n_clients), counts)
    firsts = np.cumsum(counts) - counts
    gaps = np.maximum(np.rint(np.exp(rng.normal(mu[owner], np.sqrt(var[owner])))), 1)
    gaps[firsts] = 0
    steps = np.cumsum(gaps.astype(np.int64))
    since_first = steps - np.repeat(steps[firsts], counts)
    end = int(AS_OF.astype(np.int64))
    # Each client's drawn history ends 0.7 to 1.05 of its span after AS_OF: most are still buying
    # (their later purchases are dropped), one in seven stopped a while ago.
    span = steps[np.cumsum(counts) - 1] - steps[firsts]
    start = end - np.floor(rng.uniform(0.7, 1.05, n_clients) * span).astype(np.int64)
    day = start[owner] + since_first
    spend = rng.gamma(2.0, 40.0, n_clients)
    amount = np.round(spend[owner] * rng.gamma(8.0, 1 / 8.0, owner.size), 2)
    kept = np.flatnonzero(day <= end)
    order = rng.permutation(kept)
    # Client ids are spread out (as database keys are), not 0..n-1.
    return {"client": owner[order] * 7 + 1000, "day": day[order], "amount": amount[order]}


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def goodwill_scan(data: dict[str, np.ndarray], settings: CadenceSettings) -> Overdue:
    rhythms = learn(data["client"], data["day"], data["amount"], settings=settings)
    return overdue(rhythms, as_of=AS_OF)


def duckdb_scan(con: Any, settings: CadenceSettings) -> dict[str, np.ndarray]:
    parameters = {
        "floor": MIN_LOG_SD**2,
        "max_shape": MAX_SHAPE0,
        "max_kappa": MAX_KAPPA0,
        "min_purchases": settings.min_purchases,
        "z": float(ndtri(settings.level)),
        "as_of": int(AS_OF.astype(np.int64)),
    }
    result: dict[str, np.ndarray] = con.execute(SQL, parameters).fetchnumpy()
    return result


def run(n_purchases: int) -> None:
    try:
        import duckdb
    except ImportError:
        print("duckdb is not installed (pip install duckdb): no baseline to compare with")
        return
    settings = CadenceSettings()
    rng = np.random.default_rng(2024)
    n_clients = n_purchases // PURCHASES_PER_CLIENT
    made_s, data = timed(lambda: simulate(rng, n_clients))
    rows = data["client"].size
    print(
        f"{rows:,} purchases, {n_clients:,} clients simulated in {made_s:.1f} s; "
        f"scan on {AS_OF}, level {settings.level}"
    )

    ours_s, ours = timed(lambda: goodwill_scan(data, settings))
    again_s, _ = timed(lambda: goodwill_scan(data, settings))
    ours_s = min(ours_s, again_s)

    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.register("simulated", data)
    load_s, _ = timed(
        lambda: con.execute("CREATE TABLE purchases AS SELECT * FROM simulated").fetchall()
    )
    base_s, theirs = timed(lambda: duckdb_scan(con, settings))
    again_s, _ = timed(lambda: duckdb_scan(con, settings))
    base_s = min(base_s, again_s)

    ours_set = set(ours.client.tolist())
    theirs_set = set(theirs["client"].tolist())
    both = len(ours_set & theirs_set)
    either = len(ours_set | theirs_set)
    agreement = 100.0 * both / either if either else 100.0
    shared = np.intersect1d(ours.client, theirs["client"])
    ours_usual = ours.usual_interval[np.argsort(ours.client)][
        np.searchsorted(np.sort(ours.client), shared)
    ]
    theirs_usual = theirs["usual"][np.argsort(theirs["client"])][
        np.searchsorted(np.sort(theirs["client"]), shared)
    ]
    usual_gap = float(np.max(np.abs(ours_usual / theirs_usual - 1))) if shared.size else 0.0
    same_cycles = (
        np.array_equal(
            ours.cycle[np.argsort(ours.client)][np.searchsorted(np.sort(ours.client), shared)],
            theirs["cycle"][np.argsort(theirs["client"])][
                np.searchsorted(np.sort(theirs["client"]), shared)
            ],
        )
        if shared.size
        else True
    )
    print(f"goodwill learn+overdue   {ours_s:7.2f} s  ({rows / ours_s:,.0f} purchases/s, 1 thread)")
    print(
        f"DuckDB one SQL query     {base_s:7.2f} s  ({threads} threads; "
        f"table load {load_s:.2f} s not counted)"
    )
    print(f"ratio                    {base_s / ours_s:7.2f}x (DuckDB time / goodwill time)")
    print(
        f"overdue: goodwill {len(ours_set):,}, DuckDB {len(theirs_set):,}, "
        f"agreement {agreement:.3f}% ({either - both} differ); usual intervals within "
        f"{usual_gap:.1e}; cycles {'equal' if same_cycles else 'differ'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 purchases")
    parser.add_argument("--purchases", type=int, default=None)
    args = parser.parse_args()
    run(args.purchases or (1_000_000 if args.quick else 10_000_000))


if __name__ == "__main__":
    main()

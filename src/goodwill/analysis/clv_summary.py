"""The customer summary of a transactions CSV, computed by DuckDB in one pass over the file.

A columnar engine reads and groups ten million rows in parallel in the time numpy takes to parse
them; the result is the same summary as ``domain.btyd.summary.summarize`` (purchase days, repeat
spend, calibration and holdout), written straight to CSV by DuckDB. The ``date`` column may hold
dates or date-times (``2024-03-01 14:05:09``): purchases are counted by day, so the time of day is
dropped. A file DuckDB cannot read as expected (a bad date, a blank amount, an odd column) returns
None, and the caller reads it the strict way, which names the line and column of the problem.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from goodwill.domain.btyd.summary import period_days

log = logging.getLogger(__name__)

_AGGREGATE = """
CREATE TEMP TABLE customers AS
WITH purchase_days AS (
  SELECT customer_id AS id, CAST("date" AS DATE) AS day, {spend} AS spent, {blank} AS blank
  FROM read_csv($path, header = true, delim = ',', quote = '"', types = {types})
  WHERE CAST("date" AS DATE) <= $obs OR "date" IS NULL
  GROUP BY ALL
)
SELECT id,
       count(*) FILTER (day <= $cal) - 1 AS frequency,
       min(day) AS first_day,
       max(day) FILTER (day <= $cal) AS last_day,
       sum(spent) FILTER (day <= $cal) - arg_min(spent, day) AS repeat_spent,
       count(*) FILTER (day > $cal) AS holdout,
       bool_or(day IS NULL OR id IS NULL) OR sum(blank) > 0 AS unreadable
FROM purchase_days
GROUP BY id
HAVING min(day) <= $cal OR bool_or(day IS NULL OR id IS NULL) OR sum(blank) > 0
"""

_WRITE = """
COPY (
  SELECT id AS customer_id,
         frequency,
         (last_day - first_day) / {days} AS recency,
         ($cal - first_day) / {days} AS "T"
         {money}
         {holdout}
  FROM customers
  ORDER BY try_cast(id AS BIGINT) NULLS LAST, id
) TO '{out}' (HEADER, DELIMITER ',')
"""


def summarize_csv(
    path: Path,
    *,
    with_amounts: bool,
    period: str,
    calibration_end: date,
    observation_end: date | None,
    out: Path,
) -> int | None:
    """Write the summary CSV of ``path`` to ``out``; the number of customers, or None when the
    file is not plain enough for DuckDB (the caller then reads it strictly and names the fault).

    Customers first seen on the calibration end are kept, with T = 0 (the fits leave them out
    and say so; predictions treat them as new customers).
    """
    import duckdb

    days = period_days(period)
    money = (
        ", CASE WHEN frequency > 0 THEN repeat_spent / frequency ELSE 0.0 END AS monetary_value"
        if with_amounts
        else ""
    )
    holdout = ""
    if observation_end is not None:
        length = (observation_end - calibration_end).days / days
        holdout = f", holdout AS frequency_holdout, {float(length)!r} AS duration_holdout"
    write = _WRITE.format(
        days=float(days), money=money, holdout=holdout, out=str(out).replace("'", "''")
    )
    obs = observation_end or calibration_end
    connection = duckdb.connect()
    try:
        # Ids are text: an integer reading would merge "007" with "7" (DuckDB's sniffer samples
        # only the start of the file, so it cannot promise there is no such id further down).
        types = "{'customer_id': 'VARCHAR', 'date': 'TIMESTAMP'"
        types += ", 'amount': 'DOUBLE'}" if with_amounts else "}"
        aggregate = _AGGREGATE.format(
            types=types,
            spend="sum(amount)" if with_amounts else "0.0",
            blank="count(*) - count(amount)" if with_amounts else "0",
        )
        connection.execute(aggregate, {"path": str(path), "cal": calibration_end, "obs": obs})
        row = connection.execute(
            "SELECT count(*), coalesce(bool_or(unreadable), false) FROM customers"
        ).fetchone()
        assert row is not None
        count, unreadable = int(row[0]), bool(row[1])
        if unreadable:
            return None
        connection.execute(write, {"cal": calibration_end})
    except duckdb.Error as exc:
        log.info("transactions read the strict way: %s", str(exc).splitlines()[0])
        return None
    finally:
        connection.close()
    return count


def read_summary_columns(
    path: Path, names: list[str], *, with_ids: bool
) -> dict[str, NDArray[np.generic]] | None:
    """The named number columns of a summary CSV (and the ids as text), read by DuckDB in
    parallel; None when DuckDB cannot read them as numbers (the caller reads strictly)."""
    import duckdb

    types = ", ".join(f"'{n}': 'DOUBLE'" for n in names)
    if with_ids:
        types += ", 'customer_id': 'VARCHAR'"
    wanted = ", ".join(f'"{n}"' for n in (["customer_id"] if with_ids else []) + names)
    query = f"SELECT {wanted} FROM read_csv($path, header = true, types = {{{types}}})"
    connection = duckdb.connect()
    try:
        columns = connection.execute(query, {"path": str(path)}).fetchnumpy()
    except duckdb.Error as exc:
        log.info("summary read the strict way: %s", str(exc).splitlines()[0])
        return None
    finally:
        connection.close()
    out: dict[str, NDArray[np.generic]] = {}
    for name, column in columns.items():
        if isinstance(column, np.ma.MaskedArray):
            if bool(np.ma.getmaskarray(column).any()):
                return None  # a blank cell: the strict reader names it
            column = column.data
        out[name] = np.asarray(column)
    return out


__all__ = ["read_summary_columns", "summarize_csv"]

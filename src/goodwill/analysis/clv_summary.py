"""The customer summary of a transactions CSV, computed by DuckDB in one pass over the file.

A columnar engine reads and groups ten million rows in parallel in the time numpy takes to parse
them; the result is the same summary as ``domain.btyd.summary.summarize`` (purchase days, repeat
spend, calibration and holdout), written straight to CSV by DuckDB. The ``date`` column may hold
dates or date-times (``2024-03-01 14:05:09``): purchases are counted by day, so the time of day is
dropped. A file DuckDB cannot read as expected (a bad date, a blank amount, an odd column) returns
None, and the caller reads it the strict way, which names the line and column of the problem.
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from goodwill.domain.btyd.summary import period_days

log = logging.getLogger(__name__)

#: Marks the one failure that sends a file from the whole-number reading of its ids to the text
#: reading, rather than to the strict reader.
_NOT_PLAIN = "goodwill: an id that is not a plain whole number"

#: The powers of ten a plain whole number of 1 to 15 digits lies between (exact as doubles too).
_POWERS = "[" + ", ".join(str(10**k) for k in range(15)) + "]"

#: Each id as a number when its text is exactly that number's ("42", not "042", "+42", " 42",
#: "4e1" or "42.0", which DuckDB would also read as 42), else the query stops with ``_NOT_PLAIN``.
_PLAIN_ID = f"""CASE WHEN try_cast(customer_id AS BIGINT)
       BETWEEN {_POWERS}[length(customer_id)] AND {_POWERS}[length(customer_id)] * 10 - 1
     THEN try_cast(customer_id AS BIGINT) ELSE error('{_NOT_PLAIN}') END"""

_SUMMARY = """
COPY (
  WITH purchase_days AS (
    SELECT {id} AS id,
           coalesce(CAST("date" AS DATE), error('a blank date')) AS day,
           {spend} AS spent
    FROM read_csv($path, header = true, delim = ',', quote = '"', types = {types})
    WHERE CAST("date" AS DATE) <= $obs OR "date" IS NULL
    GROUP BY ALL
  ), customers AS (
    SELECT id,
           count(*) FILTER (day <= $cal) - 1 AS frequency,
           min(day) AS first_day,
           max(day) FILTER (day <= $cal) AS last_day,
           sum(spent) FILTER (day <= $cal) - arg_min(spent, day) AS repeat_spent,
           count(*) FILTER (day > $cal) AS holdout
    FROM purchase_days
    GROUP BY id
    HAVING min(day) <= $cal
  )
  SELECT id AS customer_id,
         frequency,
         (last_day - first_day) / {days} AS recency,
         ($cal - first_day) / {days} AS "T"
         {money}
         {holdout}
  FROM customers
  ORDER BY {order}
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
    and say so; predictions treat them as new customers). Ids are customers' names, not numbers
    ("007" and "7" are two customers), but a file whose ids are all plain whole numbers is
    grouped by number, a good deal faster than by text; the first id that is not sends the file
    to the text reading. The summary is written beside ``out`` and moved there when complete.
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
    types = "{'customer_id': 'VARCHAR', 'date': 'TIMESTAMP'"
    types += ", 'amount': 'DOUBLE'}" if with_amounts else "}"
    part = out.with_name(out.name + ".part")
    shape = {
        "types": types,
        "spend": "sum(CASE WHEN isfinite(amount) THEN amount ELSE error('a blank amount') END)"
        if with_amounts
        else "0.0",
        "days": float(days),
        "money": money,
        "holdout": holdout,
        "out": str(part).replace("'", "''"),
    }
    plain = _PLAIN_ID, "id"
    text = "coalesce(customer_id, error('a blank id'))", "try_cast(id AS BIGINT) NULLS LAST, id"
    readings = [plain, text] if _plain_first_id(path) else [text]
    values = {"path": str(path), "cal": calibration_end, "obs": observation_end or calibration_end}
    for key, order in readings:
        connection = duckdb.connect()
        try:
            query = _SUMMARY.format(id=key, order=order, **shape)
            row = connection.execute(query, values).fetchone()
        except duckdb.Error as exc:
            part.unlink(missing_ok=True)
            if _NOT_PLAIN in str(exc):
                continue
            log.info("transactions read the strict way: %s", str(exc).splitlines()[0])
            return None
        finally:
            connection.close()
        assert row is not None  # COPY answers with the rows it wrote
        part.replace(out)
        return int(row[0])
    return None  # not reached: the text reading is last and never stops for _NOT_PLAIN


def _plain_first_id(path: Path) -> bool:
    """Whether the first row's id is a plain whole number, so the file is worth reading by
    number first (a file of ids such as "C-1042" goes straight to the text reading)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = csv.reader(handle)
        header = [name.strip().lstrip("\ufeff") for name in next(rows, [])]
        first = next(rows, [])
    column = header.index("customer_id") if "customer_id" in header else len(first)
    found = first[column] if column < len(first) else ""
    return found.isascii() and found.isdigit() and found[0] != "0" and len(found) <= 15


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

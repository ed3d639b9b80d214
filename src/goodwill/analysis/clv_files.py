"""CSV in and out for the ``goodwill clv`` commands: transactions to summary, summary to fits.

Transactions CSV: a header with ``customer_id`` and ``date`` (ISO ``YYYY-MM-DD``) and optionally
``amount``, in any order, other columns ignored. Summary CSV: ``customer_id, frequency, recency,
T`` and optionally ``monetary_value``, ``frequency_holdout``, ``duration_holdout``.

Files are parsed by numpy's C reader (``np.loadtxt``); a csv-module loop is several times
slower. Transactions are read with ids and dates as raw bytes, then the ISO dates are converted
and validated by byte arithmetic and numeric ids turned into integers column by column (both
vectorised); a file that fails that strict check is read again the plain way, which names the
file, line and column of the first bad value in an ``InvalidInput``.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from goodwill.analysis.clv_summary import read_summary_columns, summarize_csv
from goodwill.domain.btyd.clv import count_model, lifetime_value
from goodwill.domain.btyd.edges import edge_reason
from goodwill.domain.btyd.spend import MEAN_SPEND, expected_spend, fit_spend
from goodwill.domain.btyd.summary import Summary, summarize
from goodwill.errors import InvalidInput

log = logging.getLogger(__name__)

MODELS = ("bg-nbd", "pareto-nbd", "mbg-nbd", "gamma-gamma")
_LOADTXT_ERROR = re.compile(r"at row (\d+), column (\d+)")


def summarize_command(
    transactions: Path,
    *,
    period: str,
    calibration_end: date,
    observation_end: date | None = None,
    out: Path,
) -> int:
    """Write the per-customer summary of a transactions CSV; returns the number of customers.

    Example: goodwill clv summarize --transactions sales.csv --period week
    --calibration-end 2025-06-30 --out summary.csv
    """
    header = _header(transactions)
    _require(transactions, header, ["customer_id", "date"])
    count = summarize_csv(
        transactions,
        with_amounts="amount" in header,
        period=period,
        calibration_end=calibration_end,
        observation_end=observation_end,
        out=out,
    )
    if count is not None:
        log.info("clv summary written: %d customers from %s", count, transactions.name)
        return count
    columns = read_transactions(transactions)
    summary = summarize(
        columns["customer_id"],
        columns["date"],
        columns.get("amount"),
        period=period,
        calibration_end=calibration_end,
        observation_end=observation_end,
        first_day_customers=True,
    )
    _write_summary(out, summary)
    log.info("clv summary written: %d customers from %s", len(summary), transactions.name)
    return len(summary)


def fit_command(model: str, summary: Path) -> dict[str, object]:
    """Fit ``model`` to a summary CSV; the JSON-ready result, with ``notes`` saying which
    customers were left out and why, and ``edge`` when the fit is an edge solution.

    Example: goodwill clv fit --model bg-nbd --summary summary.csv --json
    """
    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    columns = _numbers(_read_summary(summary, need_money=model == "gamma-gamma", with_ids=False))
    if model == "gamma-gamma":
        spend = fit_spend(columns["frequency"], columns["monetary_value"])
        log.info("clv model fitted: %s on %d customers", spend.model, spend.n_customers)
        return {
            "model": spend.model,
            "params": dict(spend.params),
            "log_likelihood": spend.log_likelihood,
            "n_customers": spend.n_customers,
            "converged": spend.model != MEAN_SPEND,
            "notes": list(spend.notes),
        }
    x, t_x, age = columns["frequency"], columns["recency"], columns["T"]
    aged, notes = _aged(age)
    result = count_model(model).fit(x[aged], t_x[aged], age[aged])
    log.info("clv model fitted: %s on %d customers", model, result.n_customers)
    shown = result.as_dict()
    edge = edge_reason(result)
    if edge is not None:
        shown["edge"] = edge
        notes.append(f"not an estimate: {edge}")
    shown["notes"] = notes
    return shown


def predict_command(
    model: str, summary: Path, t: float, out: Path, *, discount_rate: float = 0.01
) -> int:
    """Fit and write per-customer predictions for the next ``t`` periods; returns the row count.

    Columns: customer_id, p_alive, expected_purchases, and, when the summary has monetary
    values, expected_spend (Gamma-Gamma, or the mean spend where Gamma-Gamma cannot be
    estimated) and clv (over t periods at ``discount_rate`` per period). For ``--model
    gamma-gamma``: customer_id and expected_spend. Customers first seen on the calibration end
    (T = 0) are predicted as new customers: the limit as T goes to 0.

    Example: goodwill clv predict --model bg-nbd --summary summary.csv --t 52 --out predictions.csv
    """
    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if not (math.isfinite(t) and t > 0):
        raise InvalidInput(f"--t must be a number of periods above 0; got {t:g}", option="--t")
    if not (math.isfinite(discount_rate) and discount_rate >= 0):
        raise InvalidInput("--discount-rate must be 0 or more", option="--discount-rate")
    raw = _read_summary(summary, need_money=model == "gamma-gamma", with_ids=True)
    ids = raw["customer_id"]
    columns = _numbers(raw)
    x = columns["frequency"]
    table: dict[str, NDArray[np.generic]] = {"customer_id": ids}
    money = columns.get("monetary_value")
    spend = None
    if money is not None:
        spend_model = fit_spend(x, money)
        for note in spend_model.notes:
            log.warning("%s", note)
        spend = expected_spend(spend_model.model, spend_model.params, x, money)
    if model != "gamma-gamma":
        counts = count_model(model)
        aged, _ = _aged(columns["T"])
        params = counts.fit(x[aged], columns["recency"][aged], columns["T"][aged])
        edge = edge_reason(params)
        if edge is not None:
            raise InvalidInput(f"no predictions: the fit is not an estimate: {edge}")
        # T = 0 (first seen on the calibration end): the new-customer limit, T -> 0.
        age = np.maximum(columns["T"], _NEW_CUSTOMER_T)
        history = (x, columns["recency"], age)
        alive, expected = counts.predictions(params, [t], *history)
        table["p_alive"] = alive
        table["expected_purchases"] = expected[0]
        if spend is not None:
            table["expected_spend"] = spend
            table["clv"] = lifetime_value(
                counts, params, *history, spend, horizon=t, discount_rate=discount_rate
            )
    else:
        assert spend is not None
        table["expected_spend"] = spend
    _write_table(out, table)
    log.info("clv predictions written: %s for %d customers", model, ids.size)
    return int(ids.size)


# T for customers first seen on the calibration end: small enough that the predictions equal
# the T -> 0 limit to about 1e-9 relative, large enough to keep the models' T > 0 contract.
_NEW_CUSTOMER_T = 1e-9


def _aged(age: NDArray[np.float64]) -> tuple[NDArray[np.bool_], list[str]]:
    """Customers with T > 0 (the fits need it) and a note on those left out."""
    aged = age > 0
    new = int(aged.size - np.count_nonzero(aged))
    notes = []
    if new:
        notes.append(
            f"{new} customer{'s' if new != 1 else ''} first seen on the calibration end "
            "(T = 0) left out of the fit: there is no time yet to learn from"
        )
    return aged, notes


def read_transactions(path: Path) -> dict[str, NDArray[np.generic]]:
    """``customer_id`` (int64 when every id is a plain number, else strings), ``date``
    (datetime64[D]) and, when the file has it, ``amount`` (float64) from a transactions CSV.
    """
    header = _header(path)
    names = ["customer_id", "date"] + (["amount"] if "amount" in header else [])
    types = {"customer_id": "S", "date": "S", "amount": "f8"}
    columns = _read_columns(path, header, names, types)
    days = _iso_days(columns["date"])
    if days is None:
        # Some date is not a valid YYYY-MM-DD: numpy's parser finds it and names the line.
        columns = _read_columns(path, header, names, {"date": "M8[D]", "amount": "f8"})
    else:
        columns["date"] = days
    columns["customer_id"] = _compact_ids(columns["customer_id"])
    _refuse_blanks(path, columns)
    return columns


_BLANK = {
    "customer_id": "blank; every purchase needs its customer",
    "date": "blank; every purchase needs its date",
    "amount": "not a number; every purchase needs its amount",
}


def _refuse_blanks(path: Path, columns: dict[str, NDArray[np.generic]]) -> None:
    """Name the line and column of the first blank id or date, or amount that is not a
    number: a purchase without them cannot be counted, and summing a blank as nothing would
    change a client's figures without a word."""
    ids, days = columns["customer_id"], columns["date"]
    blank = {
        "customer_id": ids == ids.dtype.type() if ids.dtype.kind in "US" else np.zeros(0, bool),
        "date": np.isnat(days),
    }
    if "amount" in columns:
        blank["amount"] = ~np.isfinite(columns["amount"].astype(np.float64))
    firsts = {name: np.flatnonzero(rows)[:1] for name, rows in blank.items()}
    found = [(int(first[0]), name) for name, first in firsts.items() if first.size]
    if found:
        row, column = min(found)
        line = row + 2  # after the header, as loadtxt counts rows
        raise InvalidInput(
            f"{path}, line {line}, column {column}: {_BLANK[column]}",
            file=str(path),
            line=line,
            column=column,
        )


def _iso_days(column: NDArray[np.generic]) -> NDArray[np.datetime64] | None:
    """``YYYY-MM-DD`` byte strings as datetime64[D], or None if any is not a valid date."""
    if column.dtype.kind != "S" or column.dtype.itemsize < 10:
        return None
    size = column.size
    if column.dtype.itemsize > 10:
        # A longer field ("2024-01-01T10") must not pass as its first ten characters.
        wide = column.view(np.uint8).reshape(size, column.dtype.itemsize)
        if bool(np.any(wide[:, 10:])):
            return None
    raw = np.ascontiguousarray(column.astype("S10")).view(np.uint8).reshape(size, 10)
    # Byte minus '0' wraps around below '0' (uint8), so "> 9" catches every non-digit.
    d = [(raw[:, k] - np.uint8(ord("0"))) for k in range(10)]
    bad = np.zeros(size, dtype=bool)
    for k in (0, 1, 2, 3, 5, 6, 8, 9):
        bad |= d[k] > 9
    bad |= raw[:, 4] != ord("-")
    bad |= raw[:, 7] != ord("-")
    if bool(bad.any()):
        return None
    n = [x.astype(np.int32) for x in d]
    year = ((n[0] * 10 + n[1]) * 10 + n[2]) * 10 + n[3]
    month = n[5] * 10 + n[6]
    day = n[8] * 10 + n[9]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + (leap & (month == 2)).astype(np.int32)
    if size and bool(np.any((year < 1) | (month < 1) | (month > 12) | (day < 1))):
        return None
    if size and bool(np.any(day > month_days)):
        return None
    # Days since 1970-01-01 from the civil date (the proleptic Gregorian calendar).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era.astype(np.int64) * 146097 + doe - 719468
    out: NDArray[np.datetime64] = days.astype("datetime64[D]")
    return out


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            row = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file", file=str(path)) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text", file=str(path)) from None
    if not row:
        raise InvalidInput(f"{path}, line 1: the file is empty; a header is needed", file=str(path))
    return [name.strip().lstrip("\ufeff") for name in row]


def _read_columns(
    path: Path, header: list[str], names: Sequence[str], types: dict[str, str]
) -> dict[str, NDArray[np.generic]]:
    """The named columns, parsed by np.loadtxt; ids as strings wide enough for any line."""
    _require(path, header, names)
    longest, quoted = _scan(path)

    def dtype_of(name: str) -> str:
        kind = types.get(name, "U")
        # Strings ("U" text, "S" raw bytes) as wide as the longest line: no field is longer.
        return f"{kind}{max(longest, 1)}" if kind in ("U", "S") else kind

    dtype = [(n, dtype_of(n)) for n in names]
    try:
        data = np.loadtxt(
            path,
            delimiter=",",
            skiprows=1,
            usecols=[header.index(n) for n in names],
            dtype=dtype,
            # Quote handling costs a third of the parse time: only when the file has quotes.
            quotechar='"' if quoted else None,
            encoding="utf-8",
            ndmin=1,
        )
    except ValueError as error:
        raise _located(path, header, error) from None
    return {n: np.ascontiguousarray(data[n]) for n in names}


def _require(path: Path, header: list[str], names: Sequence[str]) -> None:
    missing = [n for n in names if n not in header]
    if missing:
        raise InvalidInput(
            f"{path}, line 1: missing column {', '.join(missing)} (found {', '.join(header)})",
            file=str(path),
            line=1,
            column=missing[0],
        )


def _located(path: Path, header: list[str], error: ValueError) -> InvalidInput:
    """Turn loadtxt's 'at row R, column C' into the file's line and column name."""
    match = _LOADTXT_ERROR.search(str(error))
    if match is None:
        return InvalidInput(f"{path}: {error}", file=str(path))
    # loadtxt counts data rows from 0 after the skipped header, and columns from 1.
    line = int(match.group(1)) + 2
    index = int(match.group(2)) - 1
    column = header[index] if 0 <= index < len(header) else str(index + 1)
    reason = str(error).split(" at row")[0]
    return InvalidInput(
        f"{path}, line {line}, column {column}: {reason}",
        file=str(path),
        line=line,
        column=column,
    )


def _scan(path: Path) -> tuple[int, bool]:
    """The longest line's length (no field can be longer) and whether any quote appears."""
    raw = np.fromfile(path, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    bounds = np.r_[-1, ends, raw.size]
    return int(np.diff(bounds).max()), bool(np.any(raw == ord('"')))


def _numbers(columns: dict[str, NDArray[np.generic]]) -> dict[str, NDArray[np.float64]]:
    return {k: v.astype(np.float64) for k, v in columns.items() if k != "customer_id"}


def _compact_ids(column: NDArray[np.generic]) -> NDArray[np.generic]:
    """Numeric ids without leading zeros as integers (the fast path); others as strings.

    Byte strings (``S``) are read digit column by digit column; other ids are decoded to text.
    """
    if column.dtype.kind in "iu":
        return column
    if column.dtype.kind == "S":
        numbers = _byte_integers(column)
        if numbers is not None:
            return numbers
        try:
            return column.astype(f"U{max(column.dtype.itemsize, 1)}")
        except UnicodeDecodeError:
            return np.char.decode(cast(NDArray[np.bytes_], column), "utf-8")
    ids = cast(NDArray[np.str_], column)
    if ids.size == 0 or not bool(np.all(np.strings.isdigit(ids))):
        return ids
    lengths = np.strings.str_len(ids)
    if bool(np.any((lengths > 1) & np.strings.startswith(ids, "0"))) or int(lengths.max()) > 18:
        return ids
    return ids.astype(np.int64)


def _byte_integers(column: NDArray[np.generic]) -> NDArray[np.int64] | None:
    """``S`` ids that are all plain numbers (1 to 18 digits, no leading zero) as int64."""
    size, width = column.size, column.dtype.itemsize
    if size == 0 or width == 0:
        return None
    raw = np.ascontiguousarray(column).view(np.uint8).reshape(size, width)
    filled = raw != 0
    length = filled.sum(axis=1)
    used = int(length.max())
    if used > 18 or bool(np.any(length == 0)):
        return None
    # NUL padding only at the end of each id, digits before it, and no leading zero.
    if used < width and bool(np.any(raw[:, used:])):
        return None
    value = np.zeros(size, dtype=np.int64)
    for k in range(used):
        byte = raw[:, k]
        active = filled[:, k]
        digit = byte.astype(np.int64) - ord("0")
        if bool(np.any(active & ((digit < 0) | (digit > 9)))):
            return None
        if k + 1 < used and bool(np.any(~active & filled[:, k + 1])):
            return None
        np.copyto(value, value * 10 + digit, where=active)
    if bool(np.any((raw[:, 0] == ord("0")) & (length > 1))):
        return None
    return value


def _read_summary(
    path: Path, *, need_money: bool, with_ids: bool
) -> dict[str, NDArray[np.generic]]:
    header = _header(path)
    names = ["frequency", "recency", "T"]
    if "monetary_value" in header or need_money:
        names.append("monetary_value")
    _require(path, header, (["customer_id"] if with_ids else []) + names)
    columns = read_summary_columns(path, names, with_ids=with_ids)
    if columns is None:
        ids = ["customer_id"] if with_ids else []
        columns = _read_columns(path, header, ids + names, dict.fromkeys(names, "f8"))
    x = columns["frequency"].astype(np.float64)
    bad = np.flatnonzero((x < 0) | (x != np.floor(x)))
    if bad.size:
        line = int(bad[0]) + 2
        raise InvalidInput(
            f"{path}, line {line}, column frequency: must be a whole number, 0 or more",
            file=str(path),
            line=line,
            column="frequency",
        )
    return columns


def _write_summary(path: Path, summary: Summary) -> None:
    table: dict[str, NDArray[np.generic]] = {
        "customer_id": summary.customer_id,
        "frequency": summary.frequency.astype(np.int64),
        "recency": summary.recency,
        "T": summary.T,
    }
    if summary.monetary_value is not None:
        table["monetary_value"] = summary.monetary_value
    if summary.frequency_holdout is not None and summary.duration_holdout is not None:
        table["frequency_holdout"] = summary.frequency_holdout.astype(np.int64)
        table["duration_holdout"] = np.full(len(summary), summary.duration_holdout)
    _write_table(path, table)


def _write_table(path: Path, table: dict[str, NDArray[np.generic]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table)
        writer.writerows(zip(*(_as_text(column) for column in table.values()), strict=True))


def _as_text(column: NDArray[np.generic]) -> list[str]:
    """Each value as the csv module writes it (repr for floats, str for the rest).

    Float columns of a summary repeat few values (recency and T are day counts over a
    constant), so each distinct value is formatted once.
    """
    if column.dtype.kind == "f" and column.size > 1000:
        values, inverse = np.unique(column, return_inverse=True)
        if values.size * 4 < column.size:
            text = np.array([repr(v) for v in values.tolist()], dtype=object)
            return cast(list[str], text[inverse].tolist())
        return [repr(v) for v in column.tolist()]
    return [str(v) for v in column.tolist()]


__all__ = ["MODELS", "fit_command", "predict_command", "read_transactions", "summarize_command"]

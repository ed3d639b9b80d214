"""The per-customer summary the count models take, computed from raw transactions.

For each customer whose first purchase falls on or before the calibration end:

- ``frequency`` x: repeat purchases, counted as distinct purchase days after the first day
  (several purchases on one day are one transaction, their amounts summed);
- ``recency`` t_x: time from the first to the last purchase day in the calibration period;
- ``T``: time from the first purchase day to the calibration end (both days counted as dates, so
  a customer who first bought on the calibration end has T = 0; such customers are left out
  unless ``first_day_customers`` is set, as the models need T > 0 to be fitted);
- ``monetary_value``: mean amount of the repeat purchase days (0 when x = 0), as in Fader,
  Hardie & Lee's CDNOW summary;
- with an observation end: ``frequency_holdout``, purchase days after the calibration end up to
  and including the observation end, and ``duration_holdout``, the holdout length.

Times are in periods: day = 1 day, week = 7 days, month = 30.4375 days (the mean Gregorian month,
365.25 / 12), so t_x and T are fractional for week and month. Customers whose first purchase is
after the calibration end are not in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray

from goodwill.domain.btyd.fit import FloatArray
from goodwill.errors import InvalidInput

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375}


@dataclass(frozen=True)
class Summary:
    """Columns of the customer summary, one entry per customer, in customer order."""

    customer_id: NDArray[np.generic]
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray | None
    frequency_holdout: FloatArray | None
    duration_holdout: float | None

    def __len__(self) -> int:
        return int(self.frequency.size)


def period_days(period: str) -> float:
    """Days per period for ``day``, ``week`` or ``month``."""
    try:
        return PERIOD_DAYS[period]
    except KeyError:
        raise InvalidInput(
            f"unknown period {period!r}; expected day, week or month", field="period"
        ) from None


def summarize(
    customers: ArrayLike,
    days: ArrayLike,
    amounts: ArrayLike | None = None,
    *,
    period: str,
    calibration_end: date,
    observation_end: date | None = None,
    first_day_customers: bool = False,
) -> Summary:
    """Summarise transactions (customer, day[, amount]) into the per-customer summary.

    ``days`` is anything numpy reads as ``datetime64[D]``. Vectorised: one sort of the
    (customer, day) pairs, then reductions over contiguous runs.
    """
    length = period_days(period)
    cal_end = np.datetime64(calibration_end, "D").astype(np.int64)
    obs_end = (
        cal_end if observation_end is None else np.datetime64(observation_end, "D").astype(np.int64)
    )
    if obs_end < cal_end:
        raise InvalidInput("the observation end must not be before the calibration end")
    ids = np.asarray(customers)
    day = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    if ids.ndim != 1 or day.shape != ids.shape:
        raise InvalidInput("customers and days must be columns of the same length")
    if np.any(day == np.iinfo(np.int64).min):
        raise InvalidInput("a transaction has no date")
    money: FloatArray | None = None
    if amounts is not None:
        money = np.asarray(amounts, dtype=np.float64)
        if money.shape != ids.shape:
            raise InvalidInput("amounts must be a column as long as the customers")
        if not np.all(np.isfinite(money)):
            raise InvalidInput("an amount is missing or not a number")

    kept = np.flatnonzero(day <= obs_end)
    if kept.size == 0:
        return _empty(ids[:0], money is not None, observation_end is not None)
    everything = kept.size == day.size
    if not everything:
        day = day[kept]
        money = None if money is None else money[kept]

    # One sort of a 63-bit (customer, day) key orders customers and, within each, their days.
    base = int(day.min())
    offset = day - base
    day_bits = max(int(offset.max()).bit_length(), 1)
    keyed = _customer_key(ids, 63 - day_bits)
    if keyed is not None and not everything:
        keyed = (keyed[0][kept], None if keyed[1] is None else keyed[1][kept])
    order, sorted_key = _sort(keyed, offset, day_bits)
    if order is None:
        _, code = np.unique(ids if everything else ids[kept], return_inverse=True)
        order, sorted_key = _sort((code.astype(np.int64), None), offset, day_bits)
    assert order is not None and sorted_key is not None
    new_day = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    day_starts = np.flatnonzero(new_day)
    cust_of_day = sorted_key[day_starts] >> day_bits
    when = (sorted_key[day_starts] & ((1 << day_bits) - 1)) + base
    spent = None if money is None else np.add.reduceat(money[order], day_starts)
    first_row_of_day = order[day_starts]

    starts = np.flatnonzero(np.r_[True, cust_of_day[1:] != cust_of_day[:-1]])
    first = when[starts]
    in_cal = when <= cal_end
    cal_days = np.add.reduceat(in_cal.astype(np.int64), starts)
    holdout_days = np.add.reduceat((~in_cal).astype(np.int64), starts)
    # Days are sorted inside each customer, so the last calibration day is at start + count - 1.
    last = when[np.maximum(starts + cal_days - 1, starts)]
    present = ((first <= cal_end) if first_day_customers else (first < cal_end)) & (cal_days > 0)

    frequency = (cal_days - 1).astype(np.float64)
    monetary: FloatArray | None = None
    if spent is not None:
        cal_spent = np.add.reduceat(np.where(in_cal, spent, 0.0), starts)
        repeat_spent = cal_spent - spent[starts]
        monetary = np.divide(
            repeat_spent, frequency, out=np.zeros_like(repeat_spent), where=frequency > 0
        )[present]
    first_rows = first_row_of_day[starts][present]
    labels = ids[first_rows if everything else kept[first_rows]]
    # Customers come out sorted by id, whatever order the hashing put them in.
    by_id = np.argsort(labels, kind="stable")
    holdout = None
    if observation_end is not None:
        holdout = holdout_days[present].astype(np.float64)[by_id]
    return Summary(
        customer_id=labels[by_id],
        frequency=frequency[present][by_id],
        recency=((last - first) / length)[present][by_id],
        T=((cal_end - first) / length)[present][by_id],
        monetary_value=None if monetary is None else monetary[by_id],
        frequency_holdout=holdout,
        duration_holdout=None if observation_end is None else float((obs_end - cal_end) / length),
    )


def _customer_key(
    ids: NDArray[np.generic], bits: int
) -> tuple[NDArray[np.int64], NDArray[np.uint64] | None] | None:
    """A non-negative integer below 2**bits per row, equal for equal ids, and a check hash.

    Integer ids are used as they are when their range fits (no check needed). Other ids are
    hashed twice over their characters (FNV-1a-style with two seeds); the first hash is the key,
    the second must then be constant within each key, or the caller falls back to an exact
    factorisation. Returns None when integer ids span too wide a range.
    """
    if np.issubdtype(ids.dtype, np.integer):
        low = int(ids.min())
        if int(ids.max()) - low < (1 << bits):
            return (ids.astype(np.int64) - low).astype(np.int64), None
        return None
    text = np.ascontiguousarray(ids if ids.dtype.kind == "U" else ids.astype(str))
    width = text.dtype.itemsize // 4
    # Fixed-width strings are padded with zeros: skip the columns no id reaches.
    used = int(np.strings.str_len(text).max()) if text.size and width else 0
    chars = np.ascontiguousarray(text.view(np.uint32).reshape(text.size, width)[:, :used].T)
    h1 = np.full(text.size, 0xCBF29CE484222325, dtype=np.uint64)
    h2 = np.full(text.size, 0x84222325CBF29CE4, dtype=np.uint64)
    p1, p2 = np.uint64(0x100000001B3), np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for column in range(used):
            c = chars[column].astype(np.uint64)
            h1 = (h1 ^ c) * p1
            h2 = (h2 ^ c) * p2
    key: NDArray[np.int64] = (h1 >> np.uint64(64 - bits)).astype(np.int64)
    return key, h2


def _sort(
    keyed: tuple[NDArray[np.int64], NDArray[np.uint64] | None] | None,
    offset: NDArray[np.int64],
    day_bits: int,
) -> tuple[NDArray[np.intp] | None, NDArray[np.int64] | None]:
    """Row order by (customer key, day) and the sorted combined keys; (None, None) on collision."""
    if keyed is None:
        return None, None
    key, check = keyed
    combined = (key << day_bits) | offset
    order = np.argsort(combined)
    sorted_key = combined[order]
    if check is not None:
        cust = sorted_key >> day_bits
        starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
        sorted_check = check[order]
        group_first = np.repeat(starts, np.diff(np.r_[starts, cust.size]))
        if not np.array_equal(sorted_check, sorted_check[group_first]):
            return None, None
    return order, sorted_key


def _empty(labels: NDArray[np.generic], with_money: bool, with_holdout: bool) -> Summary:
    nothing = np.zeros(0)
    return Summary(
        customer_id=labels,
        frequency=nothing,
        recency=nothing,
        T=nothing,
        monetary_value=nothing if with_money else None,
        frequency_holdout=nothing if with_holdout else None,
        duration_holdout=None,
    )


__all__ = ["PERIOD_DAYS", "Summary", "period_days", "summarize"]

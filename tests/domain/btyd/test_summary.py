"""The customer summary from raw transactions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from goodwill.domain.btyd.summary import summarize
from goodwill.errors import InvalidInput


def test_same_day_purchases_are_one_transaction_with_the_amounts_summed() -> None:
    s = summarize(
        ["b", "a", "a", "a", "a"],
        ["2024-01-10", "2024-01-01", "2024-01-01", "2024-01-08", "2024-01-15"],
        [7.0, 5.0, 5.0, 20.0, 40.0],
        period="week",
        calibration_end=date(2024, 1, 29),
    )
    assert s.customer_id.tolist() == ["a", "b"]
    assert s.frequency.tolist() == [2.0, 0.0]
    assert s.recency.tolist() == [2.0, 0.0]
    assert s.T.tolist() == [4.0, 19 / 7]
    assert s.monetary_value is not None and s.monetary_value.tolist() == [30.0, 0.0]


def test_customers_first_seen_after_the_calibration_end_are_left_out_and_holdout_counted() -> None:
    s = summarize(
        [1, 1, 1, 2],
        ["2024-01-01", "2024-02-01", "2024-03-15", "2024-02-20"],
        period="month",
        calibration_end=date(2024, 2, 15),
        observation_end=date(2024, 3, 31),
    )
    assert s.customer_id.tolist() == [1]
    assert s.frequency.tolist() == [1.0]
    assert s.recency[0] == pytest.approx(31 / 30.4375)
    assert s.frequency_holdout is not None and s.frequency_holdout.tolist() == [1.0]
    assert s.duration_holdout == pytest.approx(45 / 30.4375)
    assert s.monetary_value is None


def test_string_and_integer_ids_give_the_same_summary() -> None:
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 500, 20_000)
    days = np.datetime64("2023-01-01") + rng.integers(0, 400, ids.size).astype("timedelta64[D]")
    amounts = rng.gamma(2.0, 10.0, ids.size)
    kwargs = {
        "period": "day",
        "calibration_end": date(2023, 9, 1),
        "observation_end": date(2024, 2, 1),
    }
    as_int = summarize(ids, days, amounts, **kwargs)
    as_str = summarize(np.char.add("c", ids.astype(str)), days, amounts, **kwargs)
    order = np.argsort(np.char.add("c", as_int.customer_id.astype(str)))
    np.testing.assert_array_equal(as_int.frequency[order], as_str.frequency)
    np.testing.assert_allclose(as_int.monetary_value[order], as_str.monetary_value)
    np.testing.assert_array_equal(as_int.frequency_holdout[order], as_str.frequency_holdout)


def test_cdnow_transactions_give_the_published_summary(cdnow, cdnow_transactions) -> None:
    raw = np.loadtxt(cdnow_transactions, dtype=str)
    days = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    s = summarize(
        raw[:, 1], days, raw[:, 4].astype(float), period="week", calibration_end=date(1997, 9, 30)
    )
    assert len(s) == 2357
    np.testing.assert_array_equal(s.frequency, cdnow["x"])
    np.testing.assert_allclose(s.recency, cdnow["t_x"], atol=0.005)
    np.testing.assert_allclose(s.T, cdnow["T"], atol=0.005)
    np.testing.assert_allclose(s.monetary_value, cdnow["m"], atol=0.0051)


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown period"):
        summarize([1], ["2024-01-01"], period="fortnight", calibration_end=date(2024, 2, 1))

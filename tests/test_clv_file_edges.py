"""The CLV file commands at the edges: new customers, refunds, flat spend, edge fits, bad input."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from goodwill.analysis.clv_files import fit_command, predict_command, summarize_command
from goodwill.domain.btyd.summary import summarize
from goodwill.errors import InvalidInput
from tests.domain.btyd import simulate


def summary_file(path: Path, rows: list[tuple[object, ...]], *, money: bool = True) -> Path:
    header = ["customer_id", "frequency", "recency", "T"] + (["monetary_value"] if money else [])
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def population(n: int = 600, seed: int = 3) -> list[tuple[object, ...]]:
    """Customers drawn from BG/NBD (r .5, alpha 6, a .8, b 2.5) with varied repeat spend."""
    rng = np.random.default_rng(seed)
    x, t_x, age = simulate.bg_family(rng, n, 0.5, 6.0, 0.8, 2.5, at_first=False)
    money = np.where(x > 0, np.round(rng.gamma(3.0, 10.0, n), 2), 0.0)
    return [(i + 1, int(x[i]), float(t_x[i]), float(age[i]), float(money[i])) for i in range(n)]


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_customers_first_seen_on_the_calibration_end_are_kept_with_t_zero(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date\n1,2024-01-01\n1,2024-01-15\n2,2024-02-01\n3,2024-02-02\n")
    out = tmp_path / "s.csv"
    assert summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out) == 2
    assert out.read_text().splitlines()[1:] == ["1,1,14.0,31.0", "2,0,0.0,0.0"]


def test_the_strict_reader_keeps_new_customers_too(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    # A header DuckDB reads differently (spaces) sends the file to the strict reader.
    path.write_text("customer_id, date\n1,2024-01-01\n1,2024-01-15\n2,2024-02-01\n")
    out = tmp_path / "s.csv"
    assert summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out) == 2
    assert out.read_text().splitlines()[1:] == ["1,1,14.0,31.0", "2,0,0.0,0.0"]


def test_text_ids_after_a_long_run_of_numbers_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    lines = ["customer_id,date"] + [f"{i},2024-01-01" for i in range(1, 30_001)]
    lines += ["007,2024-01-02", "7,2024-01-03"]
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "s.csv"
    n = summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out)
    assert n == 30_001
    assert "007,0,0.0,30.0" in out.read_text().splitlines()


def test_timestamps_count_by_day(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "customer_id,date,amount\n"
        "1,2024-01-01 09:00:00,5\n1,2024-01-01 17:30:00,5\n1,2024-01-08 10:15:00,4\n"
    )
    out = tmp_path / "s.csv"
    assert summarize_command(path, period="day", calibration_end=date(2024, 1, 31), out=out) == 1
    assert out.read_text().splitlines()[1] == "1,1,7.0,30.0,4.0"


def test_a_fit_leaves_out_new_customers_and_says_so(tmp_path: Path) -> None:
    rows = [*population(), (9001, 0, 0.0, 0.0, 0.0), (9002, 0, 0.0, 0.0, 0.0)]
    result = fit_command("bg-nbd", summary_file(tmp_path / "s.csv", rows))
    assert result["n_customers"] == 600
    assert result["notes"] == [
        "2 customers first seen on the calibration end (T = 0) left out of the fit: "
        "there is no time yet to learn from"
    ]


def test_new_customers_are_predicted_as_new(tmp_path: Path) -> None:
    rows = [*population(), (9001, 0, 0.0, 0.0, 0.0)]
    out = tmp_path / "p.csv"
    assert predict_command("bg-nbd", summary_file(tmp_path / "s.csv", rows), 10.0, out) == 601
    new = read(out)[-1]
    assert new["customer_id"] == "9001" and float(new["p_alive"]) == pytest.approx(1.0)
    assert float(new["expected_purchases"]) > 0


def test_a_refund_leaves_its_buyer_out_of_the_spend_model_not_everyone(tmp_path: Path) -> None:
    rows = population()
    rows[5] = (6, 2, 5.0, 20.0, -12.5)
    out = tmp_path / "p.csv"
    assert predict_command("bg-nbd", summary_file(tmp_path / "s.csv", rows), 10.0, out) == 600
    predictions = read(out)
    assert all(float(r["expected_spend"]) > 0 for r in predictions)
    result = fit_command("gamma-gamma", summary_file(tmp_path / "s.csv", rows))
    assert result["model"] == "gamma-gamma"
    assert result["notes"] == [
        "1 repeat buyer with a mean spend of 0 or less (refunds) left out of the spend model; "
        "they get the population's mean spend"
    ]


def test_spend_that_does_not_vary_falls_back_to_the_mean_and_says_why(tmp_path: Path) -> None:
    rows = [(i, x, t_x, age, 20.0 if x else 0.0) for i, x, t_x, age, _ in population()]
    path = summary_file(tmp_path / "s.csv", rows)
    result = fit_command("gamma-gamma", path)
    assert result["model"] == "mean-spend" and result["params"] == {"mean": 20.0}
    assert result["notes"] == [
        "every repeat buyer's mean spend is 20.00: with no variation Gamma-Gamma cannot be "
        "estimated, so the mean spend is used for everyone"
    ]
    out = tmp_path / "p.csv"
    predict_command("bg-nbd", path, 10.0, out)
    assert {r["expected_spend"] for r in read(out)} == {"20.0"}


@pytest.mark.parametrize("t", [-1.0, 0.0, float("nan")])
def test_a_horizon_that_is_not_ahead_is_refused_naming_the_option(tmp_path: Path, t: float) -> None:
    path = summary_file(tmp_path / "s.csv", population())
    with pytest.raises(InvalidInput, match="--t must be a number of periods above 0") as caught:
        predict_command("bg-nbd", path, t, tmp_path / "p.csv")
    assert caught.value.fields == {"option": "--t"}


def test_every_last_purchase_on_the_last_day_is_flagged_as_an_edge_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows: list[tuple[object, ...]] = []
    for i in range(300):
        age = float(rng.uniform(5, 40))
        x = int(rng.integers(1, 6))
        rows.append((i + 1, x, age, age))
    path = summary_file(tmp_path / "s.csv", rows, money=False)
    result = fit_command("bg-nbd", path)
    assert "edge solution" in str(result["edge"]) or "limit of the search" in str(result["edge"])
    notes = result["notes"]
    assert isinstance(notes, list) and notes[-1].startswith("not an estimate: bg-nbd: ")
    with pytest.raises(InvalidInput, match="not an estimate"):
        predict_command("bg-nbd", path, 10.0, tmp_path / "p.csv")


def test_identical_customers_are_flagged_as_an_edge_fit_for_mbg_nbd(tmp_path: Path) -> None:
    rows = [(i, 3, 30.0, 39.0) for i in range(1, 1001)]
    result = fit_command("mbg-nbd", summary_file(tmp_path / "s.csv", rows, money=False))
    edge = str(result["edge"])
    assert "edge solution" in edge or "limit of the search" in edge


def test_a_blank_amount_is_refused_not_summed_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date,amount\n1,2024-01-01,5\n1,2024-01-08,\n")
    with pytest.raises(InvalidInput):
        summarize_command(
            path, period="day", calibration_end=date(2024, 1, 31), out=tmp_path / "s.csv"
        )


@pytest.mark.parametrize("first", ["1", "C-1", "007"])
def test_ids_a_number_reading_would_merge_stay_apart_whatever_the_first_id(
    tmp_path: Path, first: str
) -> None:
    """ "7", "07", "+7", "7.0" and "7e0" are five customers, as the strict reader sees them,
    whether the file starts with a plain number (read by number until an id is not) or not,
    and whichever column holds the id."""
    rng = np.random.default_rng(5)
    forms = [first, "7", "07", "+7", "7.0", "7e0", "70", "700", "8", "C-8", "9"]
    n = 3_000
    ids = [first] + [forms[i] for i in rng.integers(0, len(forms), n - 1)]
    days = np.datetime64("2024-01-01") + rng.integers(0, 200, n)
    cents = rng.integers(100, 9_000, n)
    path = tmp_path / "t.csv"
    rows = [f"{d},{c / 100:.2f},{i}" for i, d, c in zip(ids, days, cents, strict=True)]
    path.write_text("date,amount,customer_id\n" + "\n".join(rows) + "\n")
    cal, obs = date(2024, 5, 1), date(2024, 7, 1)
    out = tmp_path / "s.csv"
    n_found = summarize_command(
        path, period="week", calibration_end=cal, observation_end=obs, out=out
    )
    expected = summarize(
        np.array(ids),
        days,
        cents / 100,
        period="week",
        calibration_end=cal,
        observation_end=obs,
        first_day_customers=True,
    )
    found = {row["customer_id"]: row for row in read(out)}
    assert n_found == len(found) == len(expected) and "07" in found and "7e0" in found
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []
    for i, customer in enumerate(expected.customer_id):
        row = found[str(customer)]
        assert int(row["frequency"]) == expected.frequency[i]
        assert float(row["recency"]) == pytest.approx(expected.recency[i], rel=1e-12)
        assert float(row["T"]) == pytest.approx(expected.T[i], rel=1e-12)
        assert expected.monetary_value is not None and expected.frequency_holdout is not None
        assert float(row["monetary_value"]) == pytest.approx(expected.monetary_value[i])
        assert int(row["frequency_holdout"]) == expected.frequency_holdout[i]


def test_plain_number_ids_are_listed_in_number_order(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date\n10,2024-01-01\n9,2024-01-02\n100,2024-01-01\n")
    out = tmp_path / "s.csv"
    summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out)
    assert [row["customer_id"] for row in read(out)] == ["9", "10", "100"]


@pytest.mark.parametrize(
    ("second", "column"),
    [("2,,7", "date"), (",2024-01-02,7", "customer_id"), ("2,2024-01-02,nan", "amount")],
)
def test_a_refused_file_names_the_line_and_column_and_leaves_no_summary(
    tmp_path: Path, second: str, column: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"customer_id,date,amount\n1,2024-01-01,5\n{second}\n")
    out = tmp_path / "s.csv"
    with pytest.raises(InvalidInput, match=f"line 3, column {column}: ") as refused:
        summarize_command(path, period="day", calibration_end=date(2024, 1, 31), out=out)
    assert refused.value.fields["line"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]

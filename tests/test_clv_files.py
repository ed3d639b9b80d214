"""The `goodwill clv` file commands: transactions CSV to summary, fits and predictions."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from goodwill.analysis.clv_files import fit_command, predict_command, summarize_command
from goodwill.errors import InvalidInput
from tests.domain.btyd.conftest import lifetimes_datasets


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = np.loadtxt(lifetimes_datasets() / "CDNOW_sample.txt", dtype=str)
    path = tmp_path_factory.mktemp("cdnow") / "transactions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["amount", "customer_id", "date"])
        for row in raw:
            writer.writerow([row[4], row[1], f"{row[2][:4]}-{row[2][4:6]}-{row[2][6:]}"])
    return path


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("summary") / "summary.csv"
    n = summarize_command(
        cdnow_csv,
        period="week",
        calibration_end=date(1997, 9, 30),
        observation_end=date(1998, 6, 30),
        out=out,
    )
    assert n == 2357
    return out


def test_summary_file_has_the_standard_columns(cdnow_summary: Path) -> None:
    with cdnow_summary.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "frequency_holdout",
        "duration_holdout",
    ]
    assert rows[0]["customer_id"] == "0001"
    assert (rows[0]["frequency"], round(float(rows[0]["recency"]), 2)) == ("2", 30.43)
    assert sum(int(r["frequency_holdout"]) for r in rows) == 1882


def test_fit_prints_the_published_bg_nbd_estimates(cdnow_summary: Path) -> None:
    result = fit_command("bg-nbd", cdnow_summary)
    assert json.loads(json.dumps(result))["converged"] is True
    assert result["model"] == "bg-nbd" and result["n_customers"] == 2357
    assert {k: round(v, 3) for k, v in result["params"].items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert result["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_fit_gamma_gamma_uses_repeat_buyers(cdnow_summary: Path) -> None:
    result = fit_command("gamma-gamma", cdnow_summary)
    assert result["n_customers"] == 946
    assert set(result["params"]) == {"p", "q", "gamma"}


def test_predict_writes_p_alive_purchases_spend_and_clv(
    cdnow_summary: Path, tmp_path: Path
) -> None:
    out = tmp_path / "predictions.csv"
    assert predict_command("pareto-nbd", cdnow_summary, 39.0, out, discount_rate=0.01) == 2357
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "customer_id",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    predicted = sum(float(r["expected_purchases"]) for r in rows)
    assert 1500 < predicted < 2000  # the CDNOW holdout has 1,882 repeat purchase days
    assert all(0 <= float(r["p_alive"]) <= 1 and float(r["clv"]) >= 0 for r in rows)


def test_a_bad_date_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date\nA,2024-01-01\nB,2024-13-01\n")
    with pytest.raises(InvalidInput) as caught:
        summarize_command(
            path, period="week", calibration_end=date(2024, 6, 1), out=tmp_path / "s.csv"
        )
    assert caught.value.fields == {"file": str(path), "line": 3, "column": "date"}


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("client,date\nA,2024-01-01\n")
    with pytest.raises(InvalidInput, match="missing column customer_id"):
        summarize_command(
            path, period="week", calibration_end=date(2024, 6, 1), out=tmp_path / "s.csv"
        )


def test_an_unknown_model_is_refused(cdnow_summary: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown model"):
        fit_command("nbd", cdnow_summary)


def test_a_day_past_the_month_end_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\n7,2024-02-29,1.5\n8,2023-02-29,2.0\n")
    with pytest.raises(InvalidInput) as caught:
        summarize_command(
            path, period="week", calibration_end=date(2024, 6, 1), out=tmp_path / "s.csv"
        )
    assert caught.value.fields == {"file": str(path), "line": 3, "column": "date"}


def test_numeric_and_text_ids_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("date,customer_id\n2024-01-01,12\n2024-01-08,12\n2024-01-02,3\n")
    out = tmp_path / "s.csv"
    assert summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out) == 2
    assert out.read_text().splitlines()[1:] == ["3,0,0.0,30.0", "12,1,7.0,31.0"]
    path.write_text("customer_id,date\nc-01,2024-01-01\n007,2024-01-02\n")
    assert summarize_command(path, period="day", calibration_end=date(2024, 2, 1), out=out) == 2
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ["007", "c-01"]

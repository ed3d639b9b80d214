"""The CLV commands as an analyst meets them: CDNOW from raw transactions to predictions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.test_cli import goodwill
from tests.domain.btyd.conftest import lifetimes_datasets


def cdnow_transactions(tmp_path: Path) -> Path:
    """The CDNOW sample (fixed-width in its package) as the customer_id,date,amount CSV."""
    out = tmp_path / "cdnow.csv"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "date", "amount"])
        for line in (lifetimes_datasets() / "CDNOW_sample.txt").read_text().splitlines():
            customer, _, day, _, amount = line.split()
            writer.writerow([customer, f"{day[:4]}-{day[4:6]}-{day[6:]}", amount])
    return out


def test_cdnow_from_transactions_to_the_published_bg_nbd_estimates(tmp_path: Path) -> None:
    transactions = cdnow_transactions(tmp_path)
    summary = tmp_path / "summary.csv"
    done = goodwill(
        "clv",
        "summarize",
        "--transactions",
        str(transactions),
        "--period",
        "week",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--out",
        str(summary),
    )
    assert done.returncode == 0, done.stderr
    with summary.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2357
    assert {"customer_id", "frequency", "recency", "T", "monetary_value"} <= set(rows[0])
    fitted = goodwill("clv", "fit", "--model", "bg-nbd", "--summary", str(summary), "--json")
    assert fitted.returncode == 0, fitted.stderr
    result = json.loads(fitted.stdout)
    assert result["model"] == "bg-nbd" and result["converged"] is True
    assert result["n_customers"] == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert abs(result["params"][name] - value) / value < 0.005, (name, result["params"])
    assert abs(result["log_likelihood"] - -9582.4) < 0.5
    predictions = tmp_path / "predictions.csv"
    done = goodwill(
        "clv",
        "predict",
        "--model",
        "bg-nbd",
        "--summary",
        str(summary),
        "--t",
        "39",
        "--out",
        str(predictions),
    )
    assert done.returncode == 0, done.stderr
    with predictions.open(encoding="utf-8") as handle:
        predicted = list(csv.DictReader(handle))
    assert len(predicted) == 2357
    assert all(0 <= float(p["p_alive"]) <= 1 for p in predicted)


def test_a_model_name_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    done = goodwill("clv", "fit", "--model", "bg/nbd", "--summary", str(tmp_path / "s.csv"))
    assert done.returncode == 2 and "--model must be one of" in done.stderr


def test_a_horizon_below_zero_is_one_clear_line_naming_the_option(tmp_path: Path) -> None:
    summary = tmp_path / "s.csv"
    summary.write_text("customer_id,frequency,recency,T\n1,1,2.0,5.0\n")
    done = goodwill(
        "clv",
        "predict",
        "--model",
        "bg-nbd",
        "--summary",
        str(summary),
        "--t",
        "-1",
        "--out",
        str(tmp_path / "p.csv"),
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--t must be a number of periods above 0" in done.stderr


def test_flat_spend_prints_the_mean_and_why(tmp_path: Path) -> None:
    summary = tmp_path / "s.csv"
    rows = [f"{i},{1 + i % 3},{2.0 + i % 5},{20.0 + i % 7},12.5" for i in range(1, 41)]
    summary.write_text("customer_id,frequency,recency,T,monetary_value\n" + "\n".join(rows) + "\n")
    done = goodwill("clv", "fit", "--model", "gamma-gamma", "--summary", str(summary))
    assert done.returncode == 0, done.stderr
    assert "mean-spend: mean = 12.5 over 40 customers" in done.stdout
    assert "note: every repeat buyer's mean spend is 12.50" in done.stdout


def test_summarize_keeps_ids_apart_and_a_blank_amount_is_one_line_naming_where(
    tmp_path: Path,
) -> None:
    sales, out = tmp_path / "sales.csv", tmp_path / "summary.csv"
    sales.write_text("customer_id,date,amount\n7,2024-01-01,5\n007,2024-01-02,6\n7,2024-01-09,4\n")
    args = ["clv", "summarize", "--transactions", str(sales), "--period", "day"]
    args += ["--calibration-end", "2024-01-31", "--out", str(out)]
    done = goodwill(*args)
    assert done.returncode == 0, done.stderr
    with out.open() as handle:
        rows = {row["customer_id"]: row["frequency"] for row in csv.DictReader(handle)}
    assert rows == {"7": "1", "007": "0"}
    out.unlink()
    sales.write_text("customer_id,date,amount\n7,2024-01-01,5\n8,2024-01-02,\n")
    done = goodwill(*args)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "line 3, column amount" in done.stderr and not out.exists()

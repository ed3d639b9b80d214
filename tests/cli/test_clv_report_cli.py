"""`goodwill clv report` as an analyst runs it: CDNOW transactions in, one HTML page out."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import goodwill
from tests.cli.test_clv_cli import cdnow_transactions


def report(transactions: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    done = goodwill(
        "clv",
        "report",
        "--transactions",
        str(transactions),
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--out",
        str(out),
        *extra,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_report_is_written_and_its_headline_printed(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, stderr = report(cdnow_transactions(tmp_path), out)
    assert code == 0, stderr
    assert f"report written to {out}" in stdout
    assert "1,653 holdout repeat purchases predicted, 1,882 happened (12.1% under)" in stdout
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "http" not in html


def test_pareto_nbd_by_name_and_a_count_model_only(tmp_path: Path) -> None:
    transactions = cdnow_transactions(tmp_path)
    code, _, stderr = report(transactions, tmp_path / "p.html", "--model", "pareto-nbd")
    assert code == 0, stderr
    assert "Pareto/NBD on cdnow.csv" in (tmp_path / "p.html").read_text(encoding="utf-8")
    code, _, stderr = report(transactions, tmp_path / "g.html", "--model", "gamma-gamma")
    assert code == 2 and "--model must be one of bg-nbd, pareto-nbd, mbg-nbd" in stderr
    assert not (tmp_path / "g.html").exists()


def test_a_holdout_ending_before_it_starts_fails_with_one_clear_line(tmp_path: Path) -> None:
    done = goodwill(
        "clv",
        "report",
        "--transactions",
        str(cdnow_transactions(tmp_path)),
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1997-09-01",
        "--out",
        str(tmp_path / "r.html"),
    )
    assert done.returncode == 2
    assert "observation end must be after the calibration end" in done.stderr
    assert "Traceback" not in done.stderr

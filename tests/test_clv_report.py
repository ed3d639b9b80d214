"""The calibration/holdout report on CDNOW: the numbers, the expectations and the page."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from scipy.special import hyp2f1  # type: ignore[import-untyped]

from goodwill.analysis.clv_report import (
    ReportSummary,
    by_frequency,
    period_ends,
    render_html,
    report_data,
    unconditional_expected,
    write_report,
)
from goodwill.domain.btyd.clv import count_model
from goodwill.errors import InvalidInput
from tests.domain.btyd.conftest import lifetimes_datasets

CALIBRATION_END = date(1997, 9, 30)
OBSERVATION_END = date(1998, 6, 30)
EPOCH = date(1970, 1, 1)
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}
SVG_LEAVES = {"line", "rect", "circle", "polyline", "path"}


def raw_cdnow() -> list[tuple[str, date]]:
    """(customer, day) for every line of the CDNOW sample, read without goodwill."""
    rows = []
    for line in (lifetimes_datasets() / "CDNOW_sample.txt").read_text().splitlines():
        customer, _, day, _, _ = line.split()
        rows.append((customer, date(int(day[:4]), int(day[4:6]), int(day[6:]))))
    return rows


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "date"])
        writer.writerows((c, d.isoformat()) for c, d in raw_cdnow())
    return path


@pytest.fixture(scope="module")
def written(cdnow_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportSummary, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    summary = write_report(
        cdnow_csv, out=out, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END
    )
    return summary, out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(written: tuple[ReportSummary, str]) -> ReportSummary:
    return written[0]


def independent_holdout() -> int:
    """Repeat purchase days after the calibration end, counted straight from the raw file."""
    days = sorted(set(raw_cdnow()))
    first: dict[str, date] = {}
    for customer, day in days:
        first.setdefault(customer, day)
    return sum(
        1
        for customer, day in days
        if first[customer] < CALIBRATION_END and CALIBRATION_END < day <= OBSERVATION_END
    )


def test_the_actual_holdout_total_is_the_count_from_the_raw_file(report: ReportSummary) -> None:
    expected = independent_holdout()
    assert expected == 1882
    assert report.actual_holdout == expected
    calibration = report.tracking[report.calibration_index]
    assert report.tracking[-1].actual - calibration.actual == expected


def test_bg_nbd_is_fitted_to_the_published_estimates_on_all_2357_customers(
    report: ReportSummary,
) -> None:
    assert report.model == "bg-nbd" and report.n_customers == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in report.params.items()} == published
    assert report.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_bg_nbd_predicts_the_holdout_close_to_what_happened(report: ReportSummary) -> None:
    # The conditional forecast is 12% under on CDNOW (1,653 against 1,882); FHL's models under-
    # forecast this holdout, so the bound is 15%, not a tighter one that would hide a regression.
    assert report.relative_error is not None
    assert -0.15 < report.relative_error < 0
    # The unconditional tracking curve ends within 5% of the cumulative actual at week 78 ...
    last = report.tracking[-1]
    assert last.actual == 4339
    assert abs(last.predicted - last.actual) / last.actual < 0.05
    # ... and follows the calibration period it was fitted on within 3%.
    calibration = report.tracking[report.calibration_index]
    assert calibration.actual == 2457
    assert abs(calibration.predicted - calibration.actual) / calibration.actual < 0.03


def test_the_tracking_runs_week_by_week_from_the_first_purchase_to_the_observation_end(
    report: ReportSummary,
) -> None:
    points = report.tracking
    assert len(points) == 79 and report.calibration_index == 39
    assert points[0].end == date(1996, 12, 31) and points[0].actual == 0
    assert points[0].predicted == 0
    assert points[39].end == CALIBRATION_END and points[-1].end == OBSERVATION_END
    assert [p.periods for p in points] == [float(k) for k in range(79)]
    assert all(b.actual >= a.actual for a, b in pairwise(points))
    assert all(b.predicted > a.predicted for a, b in pairwise(points[1:]))


def test_the_frequency_table_has_eight_rows_covering_every_customer(
    report: ReportSummary,
) -> None:
    rows = report.by_frequency
    assert [r.label for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r.customers for r in rows) == 2357
    # The published summary's x column, bucketed, gives the same customer counts.
    published = np.loadtxt(
        lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv",
        delimiter=",",
        skiprows=1,
    )[:, 1]
    assert [r.customers for r in rows] == np.bincount(np.minimum(published, 7).astype(int)).tolist()
    assert sum(r.actual_mean * r.customers for r in rows) == pytest.approx(1882)
    assert sum(r.predicted_mean * r.customers for r in rows) == pytest.approx(
        report.predicted_holdout
    )
    # The conditional expectation rises with past frequency, as in FHL's figure.
    means = [r.predicted_mean for r in rows]
    assert means == sorted(means)


def test_an_empty_frequency_bucket_keeps_its_row_with_zero_means() -> None:
    rows = by_frequency(np.array([0.0, 0.0, 9.0]), np.array([1.0, 0.0, 4.0]), np.ones(3), top=3)
    assert [(r.label, r.customers, r.actual_mean) for r in rows] == [
        ("0", 2, 0.5),
        ("1", 0, 0.0),
        ("2", 0, 0.0),
        ("3+", 1, 4.0),
    ]


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("bg-nbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        ("bg-nbd", {"r": 1.7, "alpha": 0.9, "a": 3.2, "b": 0.6}),
        ("mbg-nbd", {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
        ("mbg-nbd", {"r": 2.0, "alpha": 12.0, "a": 1.8, "b": 5.0}),
        ("pareto-nbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
        ("pareto-nbd", {"r": 0.553, "alpha": 10.578, "s": 1.0, "beta": 11.669}),
    ],
)
def test_the_unconditional_expectation_matches_the_papers_closed_forms(
    model: str, params: dict[str, float]
) -> None:
    t = np.array([0.0, 0.5, 1.0, 13.0, 39.0, 78.0, 520.0])
    got = unconditional_expected(model, params, t)
    r, alpha = params["r"], params["alpha"]
    z = t / (alpha + t)
    lead = (alpha / (alpha + t)) ** r
    if model == "bg-nbd":  # FHL 2005, eq. 7
        a, b = params["a"], params["b"]
        closed = (a + b - 1) / (a - 1) * (1 - lead * hyp2f1(r, b, a + b - 1, z))
    elif model == "mbg-nbd":  # Batislam et al. 2007
        a, b = params["a"], params["b"]
        closed = b / (a - 1) * (1 - lead * hyp2f1(r, b + 1, a + b, z))
    else:  # Fader & Hardie's note, eq. 17, and its limit at s = 1
        s, beta = params["s"], params["beta"]
        if s == 1.0:
            closed = r * beta / alpha * np.log1p(t / beta)
        else:
            closed = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    np.testing.assert_allclose(got, closed, rtol=1e-10, atol=1e-12)
    # It is also btyd's conditional expectation for a customer who has only just bought.
    brand_new = count_model(model).expected_purchases(params, 39.0, [0.0], [0.0], [1e-10])
    assert brand_new[0] == pytest.approx(unconditional_expected(model, params, np.array([39.0]))[0])


def test_period_ends_close_a_partial_last_period_and_cover_the_first_purchase() -> None:
    cal, obs = (CALIBRATION_END - EPOCH).days, (date(1997, 10, 10) - EPOCH).days
    ends = period_ends(cal - 10, cal, obs, "week")
    assert ends.tolist() == [cal - 14, cal - 7, cal, cal + 7, obs]
    assert period_ends(cal - 14, cal, cal + 14, "week").tolist()[0] == cal - 21


@pytest.mark.parametrize("model", ["pareto-nbd", "mbg-nbd"])
def test_the_other_models_report_on_the_same_actuals(
    model: str, cdnow_csv: Path, report: ReportSummary, tmp_path: Path
) -> None:
    other = write_report(
        cdnow_csv,
        out=tmp_path / "r.html",
        model=model,
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )
    assert other.model == model and other.actual_holdout == report.actual_holdout
    assert [p.actual for p in other.tracking] == [p.actual for p in report.tracking]
    assert other.relative_error is not None and abs(other.relative_error) < 0.2


class Page(HTMLParser):
    """Checks that every element is closed in order, and collects tags and text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_the_page_is_well_formed_self_contained_and_has_both_charts_and_tables(
    written: tuple[ReportSummary, str],
) -> None:
    _, html = written
    page = parse(html)
    assert page.errors == [] and page.stack == []
    assert page.tags.count("svg") == 2
    # Tracking totals, every week, by frequency, and the models compared.
    assert page.tags.count("table") == 4
    assert "http" not in html and "<script" not in html and "src=" not in html
    text = " ".join(page.text)
    assert "BG/NBD predicts 1,653 repeat purchases" in text
    assert "1,882 happened (12.1% under)" in text
    assert "calibration ends 1997-09-30" in text
    assert "-9,582.43" in text and "7+" in text


def test_every_text_on_the_page_is_escaped(report: ReportSummary) -> None:
    hostile = ReportSummary(**{**report.__dict__, "source": '<script>alert("x")</script>&.csv'})
    html = render_html(hostile)
    page = parse(html)
    assert "script" not in page.tags and page.errors == []
    assert '<script>alert("x")</script>&.csv' in " ".join(page.text)


def test_a_holdout_that_does_not_follow_the_calibration_is_refused(cdnow_csv: Path) -> None:
    customers = np.array(["1", "1", "2"])
    days = np.array([(CALIBRATION_END - EPOCH).days - k for k in (30, 2, 20)], dtype=np.int64)
    with pytest.raises(InvalidInput, match="observation end must be after"):
        report_data(
            customers,
            days,
            source="x.csv",
            model="bg-nbd",
            period="week",
            calibration_end=CALIBRATION_END,
            observation_end=CALIBRATION_END,
        )
    with pytest.raises(InvalidInput, match="unknown model 'gamma-gamma'"):
        report_data(
            customers,
            days,
            source="x.csv",
            model="gamma-gamma",
            period="week",
            calibration_end=CALIBRATION_END,
            observation_end=CALIBRATION_END + timedelta(days=7),
        )


def test_a_missing_date_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,when\n1,1997-01-01\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=re.escape("tx.csv, line 1: missing column date")):
        write_report(
            path,
            out=tmp_path / "r.html",
            calibration_end=CALIBRATION_END,
            observation_end=OBSERVATION_END,
        )


def test_the_report_compares_every_count_model_on_the_same_holdout(
    written: tuple[ReportSummary, str],
) -> None:
    summary, html = written
    models = [c.model for c in summary.comparison]
    assert models == ["bg-nbd", "pareto-nbd", "mbg-nbd"]
    bg = summary.comparison[0]
    assert bg.fit is not None and bg.fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert bg.actual_holdout == 1882 and bg.predicted_holdout == pytest.approx(
        summary.predicted_holdout
    )
    assert "<h2>The models compared</h2>" in html and html.count("(best)") == 1

"""The words and shapes of the value panel and the At risk page: rhythms, percentages, amounts,
chart geometry and CSV cells."""

from __future__ import annotations

from datetime import date

import pytest

from goodwill.store.value import ClientValue
from goodwill.web.charts import Bar, bar_chart, nice_step, shorten, tick_text
from goodwill.web.pages.at_risk import csv_cell
from goodwill.web.rendering import estimate
from goodwill.web.value_words import percent, rhythm_words, value_panel

UNKNOWN = ClientValue(None, None, None, None, None, None, None, "EUR")


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (7.2, "~7 days"),
        (31.0, "~31 days"),
        (69.4, "~69 days"),
        (91.0, "~3 months"),
        (365.0, "~12 months"),
        (730.0, "~2 years"),
        (1.0, "~1 day"),
    ],
)
def test_a_rhythm_reads_in_days_months_or_years(days: float, words: str) -> None:
    assert rhythm_words(days) == words


def test_a_percentage_is_never_rounded_to_certainty() -> None:
    assert [percent(p) for p in (0.0, 0.001, 0.424, 0.996, 1.0)] == [0, 1, 42, 99, 100]


def test_estimates_are_money_in_the_currency_without_float_noise() -> None:
    assert estimate(2843.005, "EUR") == "2,843.01 EUR"
    assert estimate(2843.5, "eur", whole=True) == "2,844 EUR"
    assert estimate(1200.4, "JPY") == "1,200 JPY"
    assert estimate(None, "EUR") == "—"


def test_a_lead_has_no_rhythm_and_no_value_for_a_reason() -> None:
    panel = value_panel(UNKNOWN, purchases=0)
    assert (panel.rhythm_missing, panel.value_missing) == ("lead", "lead")
    fresh = value_panel(UNKNOWN, purchases=5)
    assert (fresh.rhythm_missing, fresh.value_missing) == ("no_rhythm", "no_fit")


def test_an_overdue_client_is_late_by_the_days_since_the_expected_purchase() -> None:
    value = ClientValue(30.4, date(2026, 10, 8), 46, 0.811, 7.5, 235.4, 4087.9, "EUR")
    panel = value_panel(value, purchases=14)
    assert panel.rhythm == "buys every ~30 days"
    assert panel.late_days == 46
    assert panel.p_alive_percent == 81
    on_time = value_panel(
        ClientValue(30.4, date(2026, 11, 30), None, 0.9, 8.0, 50.0, 900.0, "EUR"),
        purchases=9,
    )
    assert on_time.late_days is None


@pytest.mark.parametrize(
    ("maximum", "step"), [(0.0, 1.0), (9.0, 5.0), (7.0, 2.0), (2986.0, 1000.0), (4300.0, 2000.0)]
)
def test_axis_steps_are_round_numbers(maximum: float, step: float) -> None:
    assert nice_step(maximum) == step


def test_bars_are_scaled_to_a_round_axis_in_the_given_order() -> None:
    chart = bar_chart([Bar("Nora", 2986.0, "2,986 EUR"), Bar("Ivo", 1473.5, "1,474 EUR")])
    first, second = chart.bars
    assert first.y < second.y
    assert first.width == pytest.approx(chart.plot_width * 2986 / 3000)
    assert second.width == pytest.approx(chart.plot_width * 1473.5 / 3000)
    assert [t.text for t in chart.ticks] == ["0", "1,000", "2,000", "3,000"]
    assert chart.height > chart.plot_bottom
    assert tick_text(40_000) == "40k" and tick_text(12_500) == "12.5k"
    assert shorten("x" * 40) == "x" * 31 + "…"


def test_csv_cells_a_spreadsheet_would_run_are_quoted() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("Nora Quist") == "Nora Quist"
    assert csv_cell(None) == "" and csv_cell(12.5) == 12.5

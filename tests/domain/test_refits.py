"""The refit policy: a fit is kept until it is a week old or 5% more purchases arrived."""

from __future__ import annotations

from datetime import date, timedelta

from goodwill.domain.refits import MAX_AGE_DAYS, FitBasis, decide

TODAY = date(2026, 11, 24)


def basis(days_old: int, purchases: int | None = 10_000) -> FitBasis:
    return FitBasis(TODAY - timedelta(days=days_old), purchases, 500)


def test_no_fit_yet_is_refitted() -> None:
    decision = decide(today=TODAY, fit=None, refused_on=None, new_purchases=0)
    assert decision.refit and decision.reason == "no fit yet" and decision.last_fit is None


def test_a_fit_made_today_is_kept_whatever_arrived_since() -> None:
    decision = decide(today=TODAY, fit=basis(0), refused_on=None, new_purchases=9_000)
    assert not decision.refit and decision.reason == "refitted today (2026-11-24)"


def test_a_day_old_fit_with_few_new_purchases_is_kept_and_says_when_it_will_be_refitted() -> None:
    decision = decide(today=TODAY, fit=basis(1), refused_on=None, new_purchases=340)
    assert not decision.refit
    assert decision.last_fit == date(2026, 11, 23)
    assert decision.reason == (
        "kept the fit of 2026-11-23: 340 new purchases since (3.4% of its 10000); "
        "refit at 500 or on 2026-11-30"
    )


def test_five_percent_more_purchases_calls_a_refit_one_fewer_does_not() -> None:
    assert decide(today=TODAY, fit=basis(2), refused_on=None, new_purchases=500).refit
    assert not decide(today=TODAY, fit=basis(2), refused_on=None, new_purchases=499).refit
    tiny = decide(today=TODAY, fit=basis(2, purchases=3), refused_on=None, new_purchases=1)
    assert tiny.refit and tiny.reason.startswith("1 new purchases since the fit of 2026-11-22")


def test_a_week_old_fit_is_refitted_even_with_no_new_purchase() -> None:
    kept = decide(today=TODAY, fit=basis(MAX_AGE_DAYS - 1), refused_on=None, new_purchases=0)
    assert not kept.refit
    old = decide(today=TODAY, fit=basis(MAX_AGE_DAYS), refused_on=None, new_purchases=0)
    assert old.refit and old.reason == "the fit of 2026-11-17 is 7 days old (weekly at most)"


def test_a_fit_that_does_not_record_its_purchases_is_refitted() -> None:
    decision = decide(today=TODAY, fit=basis(1, purchases=None), refused_on=None, new_purchases=0)
    assert decision.refit and "does not record" in decision.reason


def test_a_refused_refit_is_tried_again_the_next_day_not_the_same_day() -> None:
    same_day = decide(today=TODAY, fit=basis(3), refused_on=TODAY, new_purchases=0)
    assert not same_day.refit and "refused" in same_day.reason
    next_day = decide(today=TODAY, fit=None, refused_on=TODAY - timedelta(days=1), new_purchases=0)
    assert next_day.refit and next_day.reason == "the refit of 2026-11-23 was refused"

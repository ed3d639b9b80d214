from datetime import UTC, date, datetime

from goodwill.domain.clients import Figures, Kind, is_late, kind_of, tenure_label, tier_of
from goodwill.domain.records import upcoming_birthday

TODAY = date(2026, 11, 23)


def figures(first: date | None, last: date | None, count: int, since: date | None = None):
    as_dt = lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC) if d else None  # noqa: E731
    return Figures(as_dt(first), as_dt(last), count, 0, 0, client_since=since)


def test_someone_who_never_bought_is_a_lead() -> None:
    assert kind_of(figures(None, None, 0), today=TODAY, former_after_days=730) is Kind.LEAD


def test_a_client_silent_beyond_the_threshold_is_a_former_client() -> None:
    recent = figures(date(2010, 1, 1), date(2026, 1, 1), 40)
    gone = figures(date(2010, 1, 1), date(2023, 1, 1), 40)
    assert kind_of(recent, today=TODAY, former_after_days=730) is Kind.CLIENT
    assert kind_of(gone, today=TODAY, former_after_days=730) is Kind.FORMER


def test_tenure_starts_at_the_earliest_known_fact() -> None:
    f = figures(date(2020, 5, 1), date(2026, 11, 1), 70, since=date(2006, 3, 1))
    assert f.since == date(2006, 3, 1)
    assert tenure_label(f.since, today=TODAY) == "20 years"
    assert tenure_label(date(2026, 11, 10), today=TODAY) == "new"
    assert tenure_label(date(2026, 5, 1), today=TODAY) == "6 months"
    assert tenure_label(date(2025, 11, 1), today=TODAY) == "1 year"


def test_tier_is_the_highest_threshold_reached() -> None:
    tiers = {"gold": 5000, "silver": 1000}
    assert tier_of(7000, tiers, is_lead=False) == "gold"
    assert tier_of(1000, tiers, is_lead=False) == "silver"
    assert tier_of(10, tiers, is_lead=False) == "bronze"
    assert tier_of(0, tiers, is_lead=True) is None


def test_late_means_paid_after_due_or_unpaid_past_due() -> None:
    due = date(2026, 10, 1)
    assert is_late(due, date(2026, 10, 2), today=TODAY)
    assert not is_late(due, date(2026, 10, 1), today=TODAY)
    assert is_late(due, None, today=TODAY)
    assert not is_late(date(2026, 12, 1), None, today=TODAY)


def test_a_29_february_birthday_falls_on_28_february_in_other_years() -> None:
    assert upcoming_birthday(29, 2, today=date(2027, 1, 1)) == date(2027, 2, 28)
    assert upcoming_birthday(29, 2, today=date(2028, 1, 1)) == date(2028, 2, 29)
    assert upcoming_birthday(23, 11, today=TODAY) == TODAY

from datetime import UTC, date, datetime

from goodwill.domain.clients import (
    Figures,
    Kind,
    is_late,
    kind_of,
    month_year,
    tenure_label,
    tenure_of,
    tier_of,
)
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


def test_a_former_clients_tenure_stops_at_their_last_purchase() -> None:
    gone = figures(date(2003, 2, 1), date(2024, 4, 18), 300)
    kind = kind_of(gone, today=TODAY, former_after_days=365)
    assert kind is Kind.FORMER
    tenure = tenure_of(gone, kind, today=TODAY)
    assert tenure.words == "a client for 21 years, until April 2024"
    assert (tenure.label, tenure.until, tenure.until_words) == (
        "21 years",
        date(2024, 4, 18),
        "April 2024",
    )
    assert 21 <= tenure.years < 22  # not the 23 years since they began
    assert "with us" not in tenure.words


def test_a_current_client_counts_until_today() -> None:
    here = figures(date(2006, 3, 1), date(2026, 11, 1), 90)
    tenure = tenure_of(here, Kind.CLIENT, today=TODAY)
    assert (tenure.words, tenure.until) == ("client for 20 years", None)
    assert (
        tenure_of(
            figures(date(2026, 11, 10), date(2026, 11, 10), 1), Kind.CLIENT, today=TODAY
        ).words
        == "new client"
    )
    assert tenure_of(figures(None, None, 0), Kind.LEAD, today=TODAY).words == "no purchases yet"


def test_a_former_client_of_a_few_weeks_reads_as_less_than_a_month() -> None:
    brief = figures(date(2023, 3, 1), date(2023, 3, 20), 2)
    tenure = tenure_of(brief, Kind.FORMER, today=TODAY)
    assert tenure.words == "a client for less than a month, until March 2023"


def test_month_year_is_in_english_whatever_the_locale() -> None:
    assert month_year(date(2024, 4, 30)) == "April 2024"
    assert month_year(date(1999, 12, 1)) == "December 1999"

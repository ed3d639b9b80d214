from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from goodwill.analysis.calendar_files import (
    KEYS,
    add_hours_command,
    calendar_from_mapping,
    load_calendar,
)
from goodwill.domain.calendars import Interval
from goodwill.errors import ConfigError, InvalidInput

DENVER = ZoneInfo("America/Denver")
ROOT = Path(__file__).parent.parent

SPEC_EXAMPLE = """
timezone = "America/Denver"
holidays = ["2026-12-25", "2027-01-01"]      # explicit dates; a country/region key may add more
[hours]
mon = ["09:00-12:00", "13:00-17:30"]         # days missing = closed
tue = ["09:00-17:00"]
"""

WEEKDAYS = """
timezone = "America/Denver"
[hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "office.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_form_from_the_spec_loads(tmp_path: Path) -> None:
    cal = load_calendar(write(tmp_path, SPEC_EXAMPLE))
    assert cal.zone == DENVER
    assert cal.hours == {
        0: (Interval(time(9), time(12)), Interval(time(13), time(17, 30))),
        1: (Interval(time(9), time(17)),),
    }
    assert cal.holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    assert cal.is_open(datetime(2026, 5, 18, 13, 0, tzinfo=DENVER))
    assert not cal.is_open(datetime(2026, 5, 20, 10, 0, tzinfo=DENVER))  # Wednesday is missing


def test_country_holidays_are_closed(tmp_path: Path) -> None:
    cal = load_calendar(write(tmp_path, 'country = "US"\nsubdivision = "CO"\n' + WEEKDAYS))
    # Independence Day 2030 is a Thursday; 2026's falls on a Saturday, observed Friday the 3rd.
    assert not cal.is_open(datetime(2030, 7, 4, 10, tzinfo=DENVER))
    assert not cal.is_open(datetime(2026, 7, 3, 10, tzinfo=DENVER))
    assert cal.is_open(datetime(2030, 7, 5, 10, tzinfo=DENVER))
    due = cal.add(datetime(2030, 7, 3, 16, tzinfo=DENVER), timedelta(hours=2))
    assert due.astimezone(DENVER) == datetime(2030, 7, 5, 10, tzinfo=DENVER)


def test_explicit_holidays_may_be_toml_dates_and_a_name_is_kept() -> None:
    data = {"timezone": "UTC", "name": "Support", "holidays": [date(2026, 12, 24)]}
    cal = calendar_from_mapping(data, source="test")
    assert cal.holidays == {date(2026, 12, 24)}
    assert cal.name == "Support"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[hours]\nmon = ["09:00-12:00", "13:00-12:00"]',
            "hours.mon[1]: '13:00-12:00' ends before",
        ),
        ('[hours]\nmon = ["09:00-12:00", "11:00-13:00"]', "hours.mon[1]: '11:00-13:00' overlaps"),
        (
            '[hours]\nmonday = ["9:00-17:00"]\nfunday = ["09:00-12:00"]',
            "hours.funday: unknown weekday",
        ),
        ('[hours]\nmon = "09:00-17:00"', "hours.mon: expected a list"),
        ('[hours]\nmon = ["9 to 5"]', "hours.mon[0]: '9 to 5' is not an interval"),
        ('hours = "always"', "hours: expected a table"),
        ('holidays = ["2026-02-30"]', "holidays[0]: '2026-02-30' is not a date"),
        ('holidays = "2026-12-25"', "holidays: expected a list"),
        ('country = "XX"', "country: not supported"),
        ('country = "US"\nsubdivision = "ZZ"', "subdivision: not supported"),
        ('subdivision = "CO"', "subdivision: needs a country"),
        ('holiday = ["2026-12-25"]', "holiday: unknown key"),
        ("name = 3", "name: 3 is not a string"),
    ],
)
def test_each_validation_error_names_the_file_and_the_key(
    tmp_path: Path, extra: str, message: str
) -> None:
    path = write(tmp_path, f'timezone = "UTC"\n{extra}\n')
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ('"Mars/Olympus"', "'Mars/Olympus' is not a known time zone"),
        ('"America"', "'America' is not a known time zone"),
        ("5", "5 is not a time zone name"),
    ],
)
def test_a_bad_time_zone_is_named(tmp_path: Path, zone: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"timezone: {message}"):
        load_calendar(write(tmp_path, f"timezone = {zone}\n"))


def test_a_top_level_key_written_under_the_hours_table_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hours.country: .* move it above the \[hours\] table"):
        load_calendar(write(tmp_path, WEEKDAYS + 'country = "US"\n'))


def test_a_missing_time_zone_or_file_or_broken_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="timezone: missing"):
        load_calendar(write(tmp_path, '[hours]\nmon = ["09:00-17:00"]\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_calendar(write(tmp_path, "timezone = \n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_calendar(tmp_path / "absent.toml")


def test_the_check_command_prints_the_due_instant_with_its_offset(tmp_path: Path) -> None:
    path = write(tmp_path, WEEKDAYS)
    # Saturday 23:59 local, 4 business hours: Monday 13:00 Mountain Daylight Time.
    assert add_hours_command(path, "2026-05-16T23:59", 4) == "2026-05-18T13:00:00-06:00"
    assert add_hours_command(path, "2026-05-18T15:00:00Z", 1.5) == "2026-05-18T10:30:00-06:00"
    assert add_hours_command(path, "2026-12-04T16:00-07:00", 2) == "2026-12-07T10:00:00-07:00"


@pytest.mark.parametrize(
    ("start", "hours"), [("tomorrow", 1.0), ("2026-05-18", -1.0), ("2026-05-18", float("nan"))]
)
def test_the_check_command_refuses_bad_input(tmp_path: Path, start: str, hours: float) -> None:
    with pytest.raises(InvalidInput):
        add_hours_command(write(tmp_path, WEEKDAYS), start, hours)


def test_every_calendar_key_is_documented() -> None:
    docs = (ROOT / "docs" / "calendars.md").read_text(encoding="utf-8")
    assert [key for key in KEYS if f"`{key}`" not in docs] == []


def test_results_of_a_loaded_calendar_are_utc(tmp_path: Path) -> None:
    cal = load_calendar(write(tmp_path, WEEKDAYS))
    assert cal.next_open(datetime(2026, 5, 16, tzinfo=UTC)).tzinfo is UTC

"""`goodwill insights` from a terminal: the JSON shape, the table with sparklines, the digest."""

from __future__ import annotations

import json
from pathlib import Path

from goodwill.store.database import open_store
from goodwill.store.insights import SERIES_KEYS
from tests.cli.test_cli import goodwill
from tests.store.insights_data import EXPECTED, ZONE, seed


def _business(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    store = open_store(url)
    with store.begin() as session:
        seed(session)
    store.kw["bind"].dispose()
    config = tmp_path / "goodwill.toml"
    config.write_text(f'timezone = "{ZONE}"\n', encoding="utf-8")
    return url, config


def test_insights_json_has_the_weeks_and_every_series(tmp_path: Path) -> None:
    url, config = _business(tmp_path)
    done = goodwill(
        "insights", "--weeks", "4", "--as-of", "2026-11-25", "--json", db=url, config=config
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == ["weeks", "series"]
    assert data["weeks"] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    assert list(data["series"]) == list(SERIES_KEYS)
    assert data["series"]["active_clients"] == EXPECTED["active_clients"]
    assert data["series"]["first_response_p90_h"] == EXPECTED["first_response_p90_h"]


def test_insights_prints_sparklines_and_filters_by_partner(tmp_path: Path) -> None:
    url, config = _business(tmp_path)
    table = goodwill("insights", "--weeks", "4", "--as-of", "2026-11-25", db=url, config=config)
    assert table.returncode == 0, table.stderr
    assert "Active clients" in table.stdout and "▁" in table.stdout
    assert "Revenue at risk" in table.stdout
    only = goodwill(
        "insights",
        "--weeks",
        "4",
        "--as-of",
        "2026-11-25",
        "--partner",
        "CityTrips",
        "--json",
        db=url,
        config=config,
    )
    assert json.loads(only.stdout)["series"]["purchases"] == [1, 0, 1, 0]
    bad = goodwill("insights", "--tier", "platinum", db=url, config=config)
    assert bad.returncode == 2 and "no tier 'platinum'" in bad.stderr


def test_the_digest_is_printed_with_what_changed(tmp_path: Path) -> None:
    url, config = _business(tmp_path)
    done = goodwill("insights", "digest", "--as-of", "2026-11-25", db=url, config=config)
    assert done.returncode == 0, done.stderr
    assert "The week of Monday 16 November to Sunday 22 November 2026" in done.stdout
    assert "- Purchases: 1 (same as the week before" in done.stdout
    assert "What is overdue" in done.stdout

"""The scale benchmark at a tiny size on both stores, so the command keeps working: what it
generates is what lands, the passes make follow-ups, and every page it times answers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bench.at_risk_marks import report
from bench.scale import (
    LIST_PAGES,
    NOW,
    OWNER,
    PASSWORD,
    generate,
    measure,
    pages_only,
    resume,
    run,
    server_settings,
)

from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import add_user


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_small_business_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    files, results = run(200, "sqlite", tmp_path, seed=11)
    (result,) = results
    counts = files.counts
    assert counts["clients"] == 200 and counts["payments"] == 200
    assert 1_000 < counts["purchases"] < 3_000  # about ten orders a client
    assert 0 < counts["stopped"] < 200 and counts["late"] > 0
    for kind in ("clients", "purchases", "payments", "daily"):
        assert result.imports[kind][0] == counts[kind] == len(_rows(getattr(files, kind)))
    times = {_rows(files.purchases)[k]["occurred_at"][-14:-6] for k in range(50)}
    assert len(times) > 40, "timestamps are continuous, not rounded to days"
    assert result.first_report.derived >= counts["purchases"]
    assert result.first_report.created > 0
    assert {"derive", "refit", "apply", "total"} <= set(result.first) & set(result.daily)
    assert result.pages.statuses == {200}
    assert len(result.pages.cold["client"]) == 20
    assert set(result.pages.warm) == {"client", *LIST_PAGES}
    assert "/clients?sort=last_purchase" in LIST_PAGES


def test_the_server_is_sized_to_the_store_and_the_machine() -> None:
    gib = 2**30
    small, large = server_settings(2_000, gib * 24), server_settings(1_000_000, gib * 24)
    assert small["shared_buffers"] == "128MB"  # PostgreSQL's own default, for a small store
    assert large["shared_buffers"] == "3906MB"  # about 4 KB a client
    assert server_settings(1_000_000, gib * 8)["shared_buffers"] == "2048MB"  # a quarter at most
    assert large["effective_cache_size"] == "18432MB"


@pytest.mark.postgres
def test_a_small_business_runs_end_to_end_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    files = generate(tmp_path, 200, seed=11)
    result = measure("postgresql", postgres_url, files, 200)
    counts = files.counts
    for kind in ("clients", "purchases", "payments", "daily"):
        assert result.imports[kind][0] == counts[kind]
    assert result.first_report.derived >= counts["purchases"]
    assert result.first_report.created > 0 and result.daily_report.derived > 0
    assert result.pages.statuses == {200}


@pytest.mark.postgres
def test_the_pages_of_kept_stores_are_timed_again(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--keep leaves both stores; --pages-only starts the kept PostgreSQL server again and
    times the pages of each, nothing rebuilt."""
    run(60, "both", tmp_path, seed=5)
    assert (tmp_path / "scale.db").exists() and (tmp_path / "pg" / "data").exists()
    capsys.readouterr()
    pages_only(tmp_path, 60)
    out = capsys.readouterr().out
    for store in ("sqlite:", "postgresql:"):
        assert store in out
    assert out.count("| /clients?sort=last_purchase page, warm") == 2
    assert "imported" not in out
    report(tmp_path, 60, rounds=1)  # the At risk marks off and on: the same list
    out = capsys.readouterr().out
    assert out.count("| /at-risk page |") == 2 and out.count("| at_risk_page() |") == 2


def test_a_run_stopped_after_its_imports_is_finished_once(tmp_path: Path) -> None:
    """--resume finishes what a stopped run left: the first pass over everything imported,
    the next day's orders (once, however often it is resumed), the daily pass, the pages."""
    files = generate(tmp_path, 80, seed=3)
    (tmp_path / "scale.toml").write_text("[imports]\nmax_rows = 0\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'scale.db'}"
    settings = load_settings(config_path=tmp_path / "scale.toml", database_url=url, environ={})
    store = open_store(url)
    with store.begin() as session:
        add_user(session, email=OWNER, name="Owner", role="owner", password=PASSWORD, now=NOW)
    for kind, path in ((FileKind.CLIENTS, files.clients), (FileKind.PURCHASES, files.purchases)):
        import_file(store, settings, kind, path, now=NOW)
    store.kw["bind"].dispose()

    (first,) = resume(tmp_path, 80)
    assert first.first_report.derived >= files.counts["purchases"] > 0
    assert first.first_report.created > 0
    assert first.imports["daily"][0] == files.counts["daily"] > 0
    assert first.daily_report.derived > 0
    assert first.pages.statuses == {200}

    (again,) = resume(tmp_path, 80)
    assert again.imports["daily"][0] == 0
    assert again.first_report.derived == again.daily_report.derived == 0
    assert again.first_report.created == again.daily_report.created == 0

"""Several engine processes at once create each follow-up exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Event, FollowUp, FollowUpEvent
from goodwill.store.staff import add_user

NOW = "2026-11-23T08:00:00+00:00"
GOODWILL = str(Path(sys.executable).parent / "goodwill")


def build(url: str, tmp: Path) -> None:
    settings = load_settings(database_url=url, environ={})
    store = open_store(url)
    with store.begin() as session:
        add_user(
            session,
            email="o@shop.example",
            name="O",
            role="owner",
            password="a long password",
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    rows = "".join(
        f"X{i}-{k},C{i},2026-{11 if k else 10}-{1 + (i + k * 7) % 20:02d},{20 + i},Cup\n"
        for i in range(400)
        for k in range(2)
    )
    path = tmp / "purchases.csv"
    path.write_text("order_id,client_id,occurred_at,amount,product\n" + rows, "utf-8")
    summary = import_file(
        store, settings, FileKind.PURCHASES, path, now=datetime(2026, 11, 23, tzinfo=UTC)
    )
    assert summary.imported == 800


def state(url: str) -> tuple[int, int, int, int]:
    store = open_store(url)
    with store() as session:
        followups = session.execute(select(func.count(FollowUp.id))).scalar_one()
        distinct = session.execute(
            select(func.count()).select_from(
                select(FollowUp.rule, FollowUp.client_id).distinct().subquery()
            )
        ).scalar_one()
        events = session.execute(select(func.count(Event.id))).scalar_one()
        links = session.execute(select(func.count(FollowUpEvent.id))).scalar_one()
    return followups, distinct, events, links


def engine(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GOODWILL, "--db", url, "--now", NOW, "engine", "run", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers", [3])
def test_concurrent_workers_create_each_follow_up_exactly_once(
    db_url: str, request: pytest.FixtureRequest, tmp_path: Path, workers: int
) -> None:
    build(db_url, tmp_path)
    reference = (
        request.getfixturevalue("postgres_server").create_database(f"ref_{uuid.uuid4().hex[:8]}")
        if db_url.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'reference.db'}"
    )
    (tmp_path / "ref").mkdir()
    build(reference, tmp_path / "ref")
    single = engine(reference)
    assert single.wait(timeout=300) == 0, single.stderr.read() if single.stderr else ""
    expected = state(reference)
    assert expected[0] == expected[1] > 0

    procs = [engine(db_url) for _ in range(workers)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    assert sum(r["created"] for r in reports) == expected[0]
    assert state(db_url) == expected

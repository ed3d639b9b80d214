"""The Today page in headless Chromium: an overdue follow-up is done with an outcome, in place.

The server's store holds the sample business, a second staff member and the follow-ups one
engine pass made from a handful of touch points (a missed regular purchase among them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, repository_root, sample_seed, serve
from tests.conftest import NOW
from tests.web.sample import staff_user
from tests.web.touchpoints import MISSED_CLIENT_NAME, make_followups, touch_point

pytestmark = pytest.mark.browser


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    sample_seed(store, settings)
    with store.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
        touch_point(
            session,
            "C-0008",
            "lead.created",
            at=NOW - timedelta(minutes=20),
            payload={"via": "web_form"},
            key="lead",
        )
        touch_point(
            session,
            "C-0007",
            "incident.resolved",
            at=NOW - timedelta(hours=3),
            payload={"incident_id": "INC-12"},
            key="incident",
        )
    make_followups(store, settings, now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def test_staff_marks_an_overdue_follow_up_done_and_it_leaves_the_list(page: Any) -> None:
    log_in(page, "/today")
    assert "Engine last ran" in page.inner_text("#engine-status")
    overdue = page.locator(".group-overdue .followup")
    row = page.locator('.group-overdue .followup[data-events="purchase.missed"]')
    expect(row).to_have_count(1)
    late = overdue.count()
    assert MISSED_CLIENT_NAME in row.inner_text()
    assert "A regular client missed their usual purchase" in row.inner_text()
    assert row.get_attribute("data-events") == "purchase.missed"
    assert "6 days overdue" in row.inner_text()
    assert row.inner_text().count("overdue") == 1  # the purchase is "expected on", not overdue
    expect(page.locator(".group-overdue .count")).to_have_text(str(late))
    today_count = page.locator(".group-today .count").inner_text()
    row_id = row.get_attribute("id")

    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-today.png"
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000

    row.get_by_role("button", name="Done").click()  # no outcome yet: the browser asks for one
    expect(page.locator(f"#{row_id}.is-overdue")).to_have_count(1)
    row.get_by_label("What happened").fill("Called Bram: new boots ordered for next week")
    row.get_by_role("button", name="Done").click()
    done = page.locator(f"#{row_id}")
    expect(done).to_have_class("followup is-closed")
    assert "new boots ordered" in done.inner_text()
    assert page.url.endswith("/today")  # swapped in place, no page load
    expect(page.locator(".group-overdue .count")).to_have_text(str(late - 1))
    expect(page.locator(".group-today .count")).to_have_text(today_count)

    page.reload()
    expect(overdue).to_have_count(late - 1)
    expect(page.locator(f"#{row_id}")).to_have_count(0)
    assert page.locator(".followup").count() >= 4

"""The client timeline over HTTP: plain words with links and authors, filters by kind, paging by
cursor (on the page, for htmx, and in the API), and former clients' tenure."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import Client
from tests.conftest import NOW
from tests.web.sample import add_client, add_purchase
from tests.web.timeline_story import STORY, many_events, story


def _titles(page: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", t)).strip()
        for t in re.findall(r"<span class=\"event-title\">(.*?)</span>", page)
    ]


def test_each_entry_reads_in_plain_words_with_its_link_and_author(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        made = story(session, now=NOW)
    page = logged_in.get(f"/clients/{STORY}").text
    titles = _titles(page)
    assert "Message from Bram: “Can you resend the invoice?”" in titles
    assert f'<a href="/inbox/{made.conversation}">Message from Bram' in page
    assert "Reply from Anna: “Sent again just now.”" in titles
    assert sum(t.startswith("Waited past our response target") for t in titles) == 1  # once
    assert "Call: “Asked about the winter teas”" in titles
    assert "Note: “Prefers invoices by post”" in titles
    assert "Learned: Daughter's wedding in Lisbon" in titles
    assert "A fact (sensitivity) was noted; it has since been removed" in titles
    assert "secret" not in page
    assert f'<a href="/incidents/{made.incident}">Incident opened: Parcel went' in page
    assert "Follow-up done: Call Bram about the slow answer" in titles
    assert "Feedback: “Being on time”" in titles
    assert "Merged with the record of B. Peeters (C-OLD)" in titles
    assert "Purchase S-1: 45.00 USD" in titles
    assert "served by Anna" in page
    assert page.count('<span class="event-by">by Anna</span>') >= 7
    # The breach links to the follow-up it led to, and that to its outcome.
    assert "Follow-up done: “Apologised; he was fine”" in page
    link = re.search(r'href="([^"]+#followup-' + str(made.followup) + ')"', page)
    assert link and "kind=followups" in link.group(1)
    target = logged_in.get(link.group(1).replace("&amp;", "&")).text
    assert f'id="followup-{made.followup}"' in target
    assert _titles(target)[0] == "Follow-up done: Call Bram about the slow answer"


def test_a_filter_shows_only_its_kind_on_the_page_for_htmx_and_in_the_api(
    logged_in: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    with seeded.begin() as session:
        story(session, now=NOW)
    talk = logged_in.get(f"/clients/{STORY}", params={"kind": "conversations"}).text
    assert set(re.findall(r'data-kind="([a-z]+)" id=|id="[^"]+" data-kind="([a-z]+)"', talk))
    kinds = re.findall(r'<li class="event [^"]*" id="[^"]+" data-kind="([a-z]+)"', talk)
    assert kinds and set(kinds) == {"conversations"}
    assert 'class="current" aria-current="true">Conversations</a>' in talk
    part = logged_in.get(
        f"/clients/{STORY}/timeline", params={"kind": "notes"}, headers={"HX-Request": "true"}
    )
    assert part.status_code == 200 and "<html" not in part.text
    assert _titles(part.text) == [
        "Note: “Prefers invoices by post”",
        "Call: “Asked about the winter teas”",
    ]
    auth = {"Authorization": f"Bearer {token}"}
    facts = logged_in.get(
        f"/api/v1/clients/{STORY}/timeline", params={"kind": "facts"}, headers=auth
    ).json()
    assert [e["type"] for e in facts] == ["fact.added", "fact.added"]
    removed = facts[0]
    assert removed["removed"] is True and "secret" not in str(removed)
    assert facts[1]["by"] == "Anna"
    incidents = logged_in.get(
        f"/api/v1/clients/{STORY}/timeline", params={"kind": "incidents"}, headers=auth
    ).json()
    assert [e["link"] for e in incidents] == [
        {"kind": "incident", "id": incidents[0]["link"]["id"]}
    ]
    followups = logged_in.get(
        f"/api/v1/clients/{STORY}/timeline", params={"kind": "followups"}, headers=auth
    ).json()
    assert [e["type"] for e in followups] == ["followup.done"]
    assert followups[0]["by"] == "Anna"


def test_pages_follow_each_other_by_cursor_without_gaps_or_repeats(
    http: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    with seeded.begin() as session:
        story(session, now=NOW)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/clients/{STORY}/timeline"
    whole = http.get(url, params={"limit": 500}, headers=auth).json()
    assert (
        len(whole) >= 12
        and "Link" not in http.get(url, params={"limit": 500}, headers=auth).headers
    )
    seen: list[dict[str, Any]] = []
    params: dict[str, object] = {"limit": 4}
    while True:
        response = http.get(url, params=params, headers=auth)
        assert response.status_code == 200
        seen += response.json()
        if "Link" not in response.headers:
            break
        following = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"])
        assert following and "before=" in following.group(1)
        params = {"limit": 4, "before": response.json()[-1]["cursor"]}
    assert [e["cursor"] for e in seen] == [e["cursor"] for e in whole]


def test_the_older_link_loads_the_next_page_for_htmx_and_opens_it_without_script(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    page = logged_in.get("/clients/C-0001").text  # Margaret: twenty years, hundreds of entries
    first = re.findall(r'<time datetime="([^"]+)"', page)
    assert len(first) == 50
    older = re.search(r'<p class="more timeline-more"><a href="([^"]+)"\s+hx-get="([^"]+)"', page)
    assert older, "no older-entries link"
    plain, fragment = (u.replace("&amp;", "&") for u in older.groups())
    more = logged_in.get(fragment, headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<html" not in more.text
    assert more.text.lstrip().startswith('<ol class="events">')
    second = re.findall(r'<time datetime="([^"]+)"', more.text)
    assert len(second) == 50 and max(second) <= min(first)
    assert "Older entries" in more.text
    full = logged_in.get(plain.split("#")[0]).text
    assert re.findall(r'<time datetime="([^"]+)"', full) == second
    assert "The newest entries" in full


def test_bad_filters_and_cursors_are_refused_naming_the_field(
    logged_in: TestClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/clients/C-0001/timeline"
    for params, name in (
        ({"kind": "gossip"}, "kind"),
        ({"before": "yesterday"}, "before"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
    ):
        response = logged_in.get(url, params=params, headers=auth)
        assert response.status_code == 422, params
        assert response.json()["code"] == "invalid" and name in response.json()["message"]
    page = logged_in.get("/clients/C-0001", params={"before": "yesterday"})
    assert page.status_code in (400, 422) and "before" in page.text
    page = logged_in.get("/clients/C-0001", params={"kind": "gossip"})
    assert page.status_code in (400, 422) and "kind" in page.text
    missing = logged_in.get("/api/v1/clients/NOPE/timeline", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa_event.listen(Engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        sa_event.remove(Engine, "before_cursor_execute", keep)


def test_a_page_of_a_client_with_5000_events_reads_one_page_of_them(
    logged_in: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    with seeded.begin() as session:
        client = session.execute(select(Client).where(Client.external_id == "C-0001")).scalar_one()
        many_events(session, client, 5_000, start=NOW - timedelta(days=1))
    auth = {"Authorization": f"Bearer {token}"}
    with statements() as seen:
        first = logged_in.get("/api/v1/clients/C-0001/timeline", headers=auth)
    assert first.status_code == 200 and len(first.json()) == 50
    reading = [s for s in seen if re.search(r"\bFROM events\b", s)]
    # One query picks the page (cut in the database), one reads its events by id: never all.
    assert len(reading) == 2, reading
    assert all(re.search(r"\bLIMIT\b|\bIN\b", s) for s in reading), reading
    assert len(seen) < 25, seen
    cursor = first.json()[-1]["cursor"]
    with statements() as seen_later:
        later = logged_in.get(
            "/api/v1/clients/C-0001/timeline", params={"before": cursor}, headers=auth
        )
    entries = later.json()
    assert len(entries) == 50 and entries[0]["cursor"] != cursor
    assert entries[0]["occurred_at"] <= first.json()[-1]["occurred_at"]
    assert len([s for s in seen_later if re.search(r"\bFROM events\b", s)]) == 2
    assert len(seen_later) < 25
    page = logged_in.get("/clients/C-0001")
    assert page.status_code == 200 and page.text.count("<time datetime=") == 50


def test_a_former_client_reads_as_a_client_until_they_left_everywhere(
    logged_in: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    with seeded.begin() as session:
        gone = add_client(
            session, external_id="C-GONE", name="Greta Gone", now=NOW, email="greta@example.com"
        )
        start = datetime(2003, 2, 10, 12, tzinfo=UTC)
        for n in range(22):
            add_purchase(
                session,
                gone,
                order_id=f"G-{n}",
                at=start + timedelta(days=365 * n),
                amount_minor=10_000,
                product="Tea",
            )
        add_purchase(
            session,
            gone,
            order_id="G-last",
            at=datetime(2024, 4, 18, 12, tzinfo=UTC),
            amount_minor=10_000,
            product="Tea",
        )
    page = logged_in.get("/clients/C-GONE").text
    assert (
        'a client for <strong>21 years</strong>, until <span class="nowrap">April 2024</span>'
        in page
    )
    assert "years with us" not in page
    assert "years as a client, until April 2024" in page  # the badge
    listing = logged_in.get("/clients", params={"q": "greta"}).text
    assert "21 years, until April 2024" in listing
    auth = {"Authorization": f"Bearer {token}"}
    body = logged_in.get("/api/v1/clients/C-GONE", headers=auth).json()
    assert body["tenure"] == "a client for 21 years, until April 2024"
    assert body["client_until"] == "2024-04-18" and 21 <= body["tenure_years"] < 22
    here = logged_in.get("/clients/C-0001").text
    assert "years with us" in here and "until" not in re.sub(
        r"<[^>]+>", "", here.split("tenure-line")[1][:300]
    )

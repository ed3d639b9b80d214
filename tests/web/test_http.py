"""The dashboard and the API over HTTP, on SQLite and PostgreSQL, with a fixed clock."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.client_figures import keep_figures
from goodwill.store.models import Client, StaffUser
from goodwill.store.queries import figures_currency
from goodwill.web.pages import clients as clients_pages
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, LONG_CLIENT_NAME, add_client, add_purchase


def rows(html: str) -> int:
    body = html.split("<tbody>", 1)[-1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return body.count("<tr>")


def test_logging_in_with_the_right_password_leads_to_today(http: TestClient) -> None:
    response = log_in(http)
    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    page = http.get("/clients")
    assert page.status_code == 200
    assert "Olive Owner" in page.text
    assert LONG_CLIENT_NAME in page.text


def test_a_wrong_password_is_refused_with_a_message_and_no_session(http: TestClient) -> None:
    response = log_in(http, password="not the password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert http.get("/clients").status_code == 303


def test_pages_redirect_to_login_with_the_page_to_come_back_to(http: TestClient) -> None:
    response = http.get("/clients?q=hol&page=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote("/clients?q=hol&page=1", "/")
    after = log_in(http, next="/clients?q=hol&page=1")
    assert after.headers["location"] == "/clients?q=hol&page=1"


def test_an_htmx_request_after_the_session_ended_is_sent_to_the_login_page(
    http: TestClient,
) -> None:
    response = http.get("/clients?q=a", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_a_post_without_the_csrf_token_is_refused(logged_in: TestClient) -> None:
    refused = logged_in.post("/logout")
    assert refused.status_code == 403
    assert "expired" in refused.text
    assert logged_in.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert logged_in.get("/clients").status_code == 200  # still logged in


def test_a_login_post_without_the_csrf_token_is_refused(http: TestClient) -> None:
    http.get("/login")
    response = http.post("/login", data={"email": "owner@example.com", "password": "x" * 20})
    assert response.status_code == 403


def test_logging_out_ends_the_session(logged_in: TestClient) -> None:
    token = csrf_from(logged_in.get("/clients").text)
    response = logged_in.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert logged_in.get("/clients").status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_login_never_redirects_to_another_site(http: TestClient, target: str) -> None:
    assert log_in(http, next=target).headers["location"] == "/today"
    assert http.get("/login", params={"next": target}).headers["location"] == "/today"


def test_a_deactivated_user_is_logged_out_on_the_next_request(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        user = session.execute(
            select(StaffUser).where(StaffUser.email == "owner@example.com")
        ).scalar_one()
        user.active = False
    assert logged_in.get("/clients").status_code == 303


def test_the_root_redirects_to_today(logged_in: TestClient) -> None:
    assert logged_in.get("/").headers["location"] == "/today"


def test_the_client_list_shows_figures_and_finds_by_name_email_or_id(
    logged_in: TestClient,
) -> None:
    page = logged_in.get("/clients").text
    assert "Showing 1–36 of 36 clients" in page
    for search in ("holloway", "MARGARET@holloway.example", LONG_CLIENT):
        found = logged_in.get("/clients", params={"q": search}).text
        assert rows(found) == 1, search
        assert LONG_CLIENT_NAME in found
        assert "20 years" in found
        assert "2006-03-01" in found
    assert "No clients match" in logged_in.get("/clients", params={"q": "zzz-nobody"}).text


def test_the_client_list_pages_fifty_at_a_time(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        for n in range(20):
            add_client(session, external_id=f"L-{n:03d}", name=f"Lead {n:03d}", now=NOW)
    first = logged_in.get("/clients").text
    assert "Showing 1–50 of 56 clients" in first
    assert rows(first) == 50
    assert 'rel="next"' in first
    second = logged_in.get("/clients", params={"page": 2}).text
    assert "Showing 51–56 of 56 clients" in second
    assert rows(second) == 6
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_a_long_client_list_is_counted_only_so_far_past_the_page(
    logged_in: TestClient, seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a million clients takes longer than the page: the list counts in steps past
    the page shown and says "more than", exact once the end is within reach."""
    monkeypatch.setattr(clients_pages, "PAGE_SIZE", 10)
    monkeypatch.setattr(clients_pages, "COUNTED", 20)
    with seeded.begin() as session:
        for n in range(20):
            add_client(session, external_id=f"L-{n:03d}", name=f"Lead {n:03d}", now=NOW)
    first = logged_in.get("/clients").text
    assert "Showing 1–10 of more than 20 clients" in first
    assert "Page 1</span>" in first and 'rel="next"' in first
    second = logged_in.get("/clients", params={"page": 2}).text
    assert "Showing 11–20 of more than 40 clients" in second
    fifth = logged_in.get("/clients", params={"page": 5}).text
    assert "Showing 41–50 of 56 clients" in fifth and "Page 5 of 6" in fifth
    last = logged_in.get("/clients", params={"page": 6}).text
    assert "Showing 51–56 of 56 clients" in last and 'rel="next"' not in last
    searched = logged_in.get("/clients", params={"q": "lead"}).text
    assert "Showing 1–10 of 20 clients" in searched  # 20 counted past a page: all of them


def test_the_client_list_offers_sorting_and_ignores_an_unknown_sort(
    logged_in: TestClient,
) -> None:
    page = logged_in.get("/clients", params={"sort": "spend", "q": "a"}).text
    assert '<a href="/clients?q=a&amp;sort=spend" class="sorted">Total spend</a>' in page
    assert 'href="/clients?q=a&amp;sort=last_purchase"' in page
    assert logged_in.get("/clients", params={"sort": "nonsense"}).status_code == 200


def test_sorting_by_spend_puts_the_biggest_spender_first(http: TestClient, token: str) -> None:
    body = http.get(
        "/api/v1/clients",
        params={"sort": "spend", "limit": 100},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    spends = [Decimal(c["total_spend"]) for c in body["clients"]]
    assert spends == sorted(spends, reverse=True)
    assert body["clients"][0]["id"] == LONG_CLIENT


def test_the_htmx_search_returns_the_table_alone(logged_in: TestClient) -> None:
    response = logged_in.get("/clients", params={"q": "holloway"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert LONG_CLIENT_NAME in response.text
    restore = logged_in.get(
        "/clients",
        params={"q": "holloway"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_the_client_page_shows_tenure_facts_and_the_timeline_newest_first(
    logged_in: TestClient,
) -> None:
    response = logged_in.get(f"/clients/{LONG_CLIENT}")
    assert response.status_code == 200
    page = response.text
    assert (
        'client for <strong>20 years</strong> — since <span class="nowrap">2006-03-01</span>'
        in page
    )
    assert 'class="tenure-badge"' in page
    for fact in (
        "17 May 1961",
        "Leeds",
        "Europe/London",
        "+44 20 7946 0018",
        "sailing",
        "six figures of our daily cash flow",
        "Harbour Travel",
        "Web shop",
        "Prefers a call before 10 am",
    ):
        assert fact in page, fact
    dates = re.findall(r'<time datetime="[^"]+">(\d{4}-\d{2}-\d{2})</time>', page)
    assert len(dates) == 50  # one page; the rest is behind "Older entries"
    assert dates == sorted(dates, reverse=True)
    assert "Older entries" in page


def test_a_client_is_found_by_email_or_internal_id_in_the_url(logged_in: TestClient) -> None:
    by_email = logged_in.get("/clients/margaret@holloway.example")
    assert by_email.status_code == 200
    internal = re.search(r"<span class=\"ref muted\">([^<]+)</span>", by_email.text)
    assert internal and internal.group(1) == LONG_CLIENT
    assert logged_in.get("/clients/" + quote("#1", safe="")).status_code == 200


def test_what_clients_wrote_is_escaped(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        client = add_client(
            session,
            external_id="X-1",
            name="<script>alert(1)</script>",
            now=NOW,
            email="x@example.com",
        )
        add_purchase(
            session,
            client,
            order_id="X-O1",
            at=NOW,
            amount_minor=100,
            product="<img src=x onerror=alert(2)>",
        )
    listing = logged_in.get("/clients", params={"q": "X-1"}).text
    page = logged_in.get("/clients/X-1").text
    for html in (listing, page):
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in page


def test_an_unknown_client_page_is_a_404_page(logged_in: TestClient) -> None:
    response = logged_in.get("/clients/NOPE-404")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "NOPE-404" in response.text


def test_the_api_refuses_requests_without_a_valid_token(http: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer gw_wrong"}, {"Authorization": "Basic eDp5"}):
        response = http.get("/api/v1/clients", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "not_allowed"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_api_does_not_accept_the_session_cookie(logged_in: TestClient) -> None:
    assert logged_in.get("/api/v1/clients").status_code == 401


def test_the_api_lists_clients_with_their_figures(http: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    body = http.get("/api/v1/clients", params={"limit": 5}, headers=auth).json()
    assert body["total"] == 36 and body["offset"] == 0 and body["limit"] == 5
    assert len(body["clients"]) == 5
    names = [c["name"] for c in body["clients"]]
    assert names == sorted(names, key=str.lower)
    searched = http.get("/api/v1/clients", params={"q": "holloway"}, headers=auth).json()
    assert searched["total"] == 1
    top = searched["clients"][0]
    assert top["id"] == LONG_CLIENT and top["name"] == LONG_CLIENT_NAME
    assert top["kind"] == "client" and top["tier"] == "gold"
    assert top["client_since"] == "2006-03-01"
    assert top["tenure_years"] > 20
    assert top["late_payment_count"] == 2
    assert top["currency"] == "USD" and "." in top["total_spend"]
    paged = http.get("/api/v1/clients", params={"offset": 30, "limit": 10}, headers=auth).json()
    assert len(paged["clients"]) == 6


def test_the_api_returns_a_profile_and_a_timeline(http: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    profile = http.get(f"/api/v1/clients/{LONG_CLIENT}", headers=auth).json()
    assert profile["hometown"] == "Leeds"
    assert profile["birthday"] == "17 May 1961"
    assert profile["facts"]["interest"] == ["sailing", "birdwatching"]
    assert profile["channels"] == ["Harbour Travel", "Web shop"]
    assert profile["purchase_count"] > 80
    entries = http.get(
        f"/api/v1/clients/{LONG_CLIENT}/timeline", params={"limit": 500}, headers=auth
    ).json()
    assert len(entries) > 80
    assert {"occurred_at", "type", "title", "detail", "by", "link", "cursor", "payload"} <= set(
        entries[0]
    )
    stamps = [entry["occurred_at"] for entry in entries]
    assert stamps == sorted(stamps, reverse=True)
    limited = http.get(
        f"/api/v1/clients/{LONG_CLIENT}/timeline", params={"limit": 3}, headers=auth
    ).json()
    assert limited == entries[:3]


def test_the_api_answers_404_json_for_an_unknown_client(http: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/clients/NOPE", "/api/v1/clients/NOPE/timeline"):
        response = http.get(path, headers=auth)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "NOPE" in response.json()["message"]


def test_the_api_refuses_a_limit_above_500_as_invalid(http: TestClient, token: str) -> None:
    response = http.get(
        "/api/v1/clients", params={"limit": 501}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert "limit" in response.json()["message"]


def test_openapi_documents_the_api_paths_and_shapes(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    assert schema["info"]["title"] == "goodwill"
    assert {
        "/api/v1/clients",
        "/api/v1/clients/{ref}",
        "/api/v1/clients/{ref}/timeline",
        "/healthz",
    } <= set(schema["paths"])
    assert "/login" not in schema["paths"]
    assert {"ClientPage", "ClientProfile", "TimelineItem", "ErrorBody"} <= set(
        schema["components"]["schemas"]
    )
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_healthz_answers_without_login(http: TestClient) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["worker"]["last_completed_pass"] is None and body["worker"]["stale"] is True
    assert http.get("/healthz", params={"worker_within": 15}).status_code == 503


def test_pages_carry_security_headers_and_static_files_are_served(http: TestClient) -> None:
    page = http.get("/login")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert '<meta name="viewport"' in page.text
    htmx = http.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and htmx.text.startswith("/*! htmx 2")
    assert http.get("/static/goodwill.css").status_code == 200


@pytest.mark.parametrize("sort", ["spend", "last_purchase"])
def test_the_sorted_list_reads_the_kept_figures_and_agrees_with_every_order(
    http: TestClient, token: str, seeded: sessionmaker[Session], web_settings: Settings, sort: str
) -> None:
    """Once the engine keeps the figures, the top of the list comes from them (a page of two),
    a client who bought since on top; the whole list (grouped from every order) agrees."""

    def ids(limit: int) -> list[str]:
        body = http.get(
            "/api/v1/clients",
            params={"sort": sort, "limit": limit},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        return [c["id"] for c in body["clients"]]

    keep_figures(seeded, web_settings, today=NOW.date(), now=NOW)
    assert ids(2) == ids(100)[:2]
    with seeded.begin() as session:
        client = session.scalars(select(Client).order_by(Client.id)).first()
        assert client is not None and client.external_id is not None
        add_purchase(
            session, client, order_id="kept-big", at=NOW - timedelta(minutes=1),
            amount_minor=10**11, product="Beans", currency=figures_currency(session, web_settings),
        )  # fmt: skip
    top = ids(2)
    assert top[0] == client.external_id
    assert top == ids(100)[:2]

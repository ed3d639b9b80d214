"""Every route of the app, asked by each role and by nobody, answers as the access table says.

The routes come from the app itself (``app.routes``), so a route added without a line in ROUTES
fails the test. Each line names the lowest role that may use the route ("public" needs no login):
a role below it is refused (403, or 404 where a record is hidden), a role at or above it is not
refused, and nobody at all is sent to log in (303 to /login on pages, 401 on the API). Path
parameters are filled with real rows of a small seeded business; the follow-up used is the owner's,
so staff acting on it are refused as on someone else's work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount

from goodwill.actions.inbox import receive
from goodwill.actions.incidents import open_incident
from goodwill.domain.access import ROLES, may
from goodwill.domain.audit import Actor
from goodwill.settings import Settings
from goodwill.store.models import StaffUser
from goodwill.store.staff import create_token, new_calendar_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, staff_user
from tests.web.touchpoints import make_followups

Level = str  # "public" or a role
LEVELS = ("public", "staff", "manager", "owner")

#: (method, path as the router declares it) -> the lowest level allowed.
ROUTES: dict[tuple[str, str], Level] = {
    ("GET", "/"): "public",
    ("GET", "/openapi.json"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("GET", "/calendar/{token}.ics"): "public",
    ("GET", "/feedback/{token}"): "public",
    ("POST", "/feedback/{token}"): "public",
    ("GET", "/contact"): "public",
    ("POST", "/contact"): "public",
    ("GET", "/contact/thanks"): "public",
    ("GET", "/click/{token}"): "public",
    ("GET", "/unsubscribe/{token}"): "public",
    ("POST", "/unsubscribe/{token}"): "public",
    ("GET", "/reset"): "public",
    ("POST", "/reset"): "public",
    ("GET", "/reset/{token}"): "public",
    ("POST", "/reset/{token}"): "public",
    ("GET", "/invite/{token}"): "public",
    ("POST", "/invite/{token}"): "public",
    # Public while nobody has an account, and then only on this machine or with the setup code
    # (tests/web/test_first_run_http.py); here, with accounts, GET sends to /login, POST is 404.
    ("GET", "/setup"): "public",
    ("POST", "/setup"): "public",
    ("GET", "/setup/business"): "owner",
    ("POST", "/setup/business"): "owner",
    ("POST", "/logout"): "staff",
    ("GET", "/account"): "staff",
    ("POST", "/account/password"): "staff",
    ("POST", "/account/sessions/{session_id}/end"): "staff",
    ("POST", "/account/tokens"): "staff",
    ("POST", "/account/tokens/{token_id}/revoke"): "staff",
    ("GET", "/users"): "owner",
    ("GET", "/settings"): "owner",
    ("POST", "/settings/section/{slug}"): "owner",
    ("GET", "/settings/recovery"): "owner",
    ("POST", "/settings/recovery/option"): "owner",
    ("POST", "/settings/recovery/remove"): "owner",
    ("POST", "/settings/recovery/reset"): "owner",
    ("GET", "/settings/listening"): "owner",
    ("POST", "/settings/listening/{part}"): "owner",
    ("POST", "/settings/listening/{part}/remove"): "owner",
    ("POST", "/settings/listening/{part}/reset"): "owner",
    ("POST", "/listening/topics/promote"): "owner",
    ("POST", "/users/invite"): "owner",
    ("POST", "/users/{user_id}/{change}"): "owner",
    ("GET", "/settings/mail"): "owner",
    ("POST", "/settings/mail"): "owner",
    ("POST", "/settings/mail/test"): "owner",
    ("POST", "/settings/mail/check"): "owner",
    ("GET", "/audit"): "owner",
    ("POST", "/clients/{ref:path}/export"): "owner",
    ("POST", "/clients/{ref:path}/erase"): "owner",
    ("GET", "/today"): "staff",
    ("GET", "/at-risk"): "staff",
    ("GET", "/at-risk.csv"): "staff",
    ("POST", "/followups/{followup_id}/complete"): "manager",
    ("POST", "/followups/{followup_id}/snooze"): "manager",
    ("POST", "/followups/{followup_id}/reassign"): "manager",
    ("POST", "/calendar/new-link"): "staff",
    ("GET", "/imports"): "staff",
    ("POST", "/imports"): "manager",
    ("GET", "/imports/preview/{token}"): "staff",
    ("POST", "/imports/preview/{token}/confirm"): "manager",
    ("POST", "/imports/preview/{token}/cancel"): "manager",
    ("GET", "/imports/{import_id:id}"): "staff",
    ("POST", "/imports/{import_id:id}/undo"): "manager",
    ("POST", "/imports/{import_id:id}/cancel"): "manager",
    ("GET", "/inbox"): "staff",
    ("GET", "/inbox/{conversation_id:id}"): "staff",
    ("GET", "/inbox/{conversation_id:id}/template"): "staff",
    ("GET", "/inbox/{conversation_id:id}/clock"): "staff",
    ("POST", "/inbox/{conversation_id:id}/check"): "staff",
    ("POST", "/inbox/{conversation_id:id}/reply"): "staff",
    ("POST", "/inbox/{conversation_id:id}/status"): "staff",
    ("GET", "/inbox/templates"): "staff",
    ("POST", "/inbox/templates"): "manager",
    ("GET", "/inbox/attachments/{attachment_id:id}"): "staff",
    ("GET", "/inbox/unreadable/{inbound_id:id}.eml"): "staff",
    ("GET", "/inbox/rota"): "staff",
    ("POST", "/inbox/rota"): "manager",
    ("POST", "/inbox/rota/{override_id:id}/delete"): "manager",
    ("GET", "/incidents"): "staff",
    ("GET", "/incidents/new"): "staff",
    ("POST", "/incidents/assess"): "staff",
    ("POST", "/incidents"): "staff",
    ("GET", "/incidents/{incident_id:id}"): "staff",
    ("POST", "/incidents/{incident_id:id}/step"): "staff",
    ("POST", "/incidents/{incident_id:id}/confirm"): "staff",
    ("POST", "/incidents/{incident_id:id}/resolve"): "staff",
    ("POST", "/incidents/{incident_id:id}/close"): "staff",
    ("GET", "/touches/batches"): "staff",
    ("GET", "/touches/batches/{month}.csv"): "staff",
    ("GET", "/touches/batches/{month}/sheet"): "staff",
    ("POST", "/touches/batches/{month}/sent"): "manager",
    ("GET", "/insights"): "staff",
    ("GET", "/insights.csv"): "staff",
    ("GET", "/listening"): "staff",
    ("POST", "/clients/{ref:path}/feedback"): "staff",
    ("POST", "/clients/{ref:path}/ask"): "staff",
    ("GET", "/clients"): "staff",
    ("GET", "/clients/new"): "staff",
    ("POST", "/clients/new"): "staff",
    ("GET", "/clients/{ref:path}/edit"): "staff",
    ("POST", "/clients/{ref:path}/edit"): "staff",
    ("POST", "/clients/{ref:path}/archive"): "manager",
    ("POST", "/clients/{ref:path}/restore"): "manager",
    ("POST", "/clients/{ref:path}/contacts"): "staff",
    ("POST", "/clients/{ref:path}/contacts/{contact_id:int}"): "staff",
    ("POST", "/clients/{ref:path}/contacts/{contact_id:int}/remove"): "staff",
    ("POST", "/api/v1/clients"): "staff",
    ("PATCH", "/api/v1/clients/{ref:client}"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/archive"): "manager",
    ("POST", "/api/v1/clients/{ref:path}/restore"): "manager",
    ("GET", "/api/v1/clients/{ref:path}/contacts"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/contacts"): "staff",
    ("PATCH", "/api/v1/clients/{ref:path}/contacts/{contact_id}"): "staff",
    ("DELETE", "/api/v1/clients/{ref:path}/contacts/{contact_id}"): "staff",
    ("POST", "/clients/{ref:path}/facts"): "staff",
    ("POST", "/clients/{ref:path}/facts/{fact_id:id}"): "staff",
    ("POST", "/clients/{ref:path}/facts/{fact_id:id}/remove"): "staff",
    ("POST", "/clients/{ref:path}/notes"): "staff",
    ("POST", "/clients/{ref:path}/notes/{note_id:id}"): "staff",
    ("POST", "/clients/{ref:path}/interactions"): "staff",
    ("POST", "/clients/{ref:path}/orders"): "staff",
    ("POST", "/clients/{ref:path}/payments"): "staff",
    ("POST", "/inbox/{conversation_id:id}/remember"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/facts"): "staff",
    ("PATCH", "/api/v1/clients/{ref:path}/facts/{fact_id}"): "staff",
    ("DELETE", "/api/v1/clients/{ref:path}/facts/{fact_id}"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/notes"): "staff",
    ("PATCH", "/api/v1/clients/{ref:path}/notes/{note_id}"): "staff",
    ("DELETE", "/api/v1/clients/{ref:path}/notes/{note_id}"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/interactions"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/orders"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/payments"): "staff",
    ("GET", "/clients/{ref:path}/timeline"): "staff",
    ("GET", "/clients/{ref:path}"): "staff",
    ("GET", "/clients/duplicates"): "staff",
    ("GET", "/clients/{ref:path}/merge"): "manager",
    ("POST", "/clients/{ref:path}/merge"): "manager",
    ("GET", "/api/v1/clients/duplicates"): "staff",
    ("POST", "/api/v1/clients/{ref:path}/merge"): "manager",
    ("GET", "/api/v1/clients"): "staff",
    ("GET", "/api/v1/clients/{ref:path}/export"): "owner",
    ("POST", "/api/v1/clients/{ref:path}/erase"): "owner",
    ("GET", "/api/v1/me"): "staff",
    ("GET", "/api/v1/me/tokens"): "staff",
    ("POST", "/api/v1/me/tokens"): "staff",
    ("DELETE", "/api/v1/me/tokens/{token_id}"): "staff",
    ("GET", "/api/v1/users"): "owner",
    ("POST", "/api/v1/users/{user_id}/{change}"): "owner",
    ("GET", "/api/v1/clients/{ref:path}/timeline"): "staff",
    ("GET", "/api/v1/clients/{ref:path}/value"): "staff",
    ("GET", "/api/v1/clients/{ref:path}"): "staff",
    ("GET", "/api/v1/followups"): "staff",
    ("GET", "/api/v1/followups/{followup_id}"): "manager",
    ("POST", "/api/v1/followups/{followup_id}/complete"): "manager",
    ("POST", "/api/v1/followups/{followup_id}/snooze"): "manager",
    ("POST", "/api/v1/followups/{followup_id}/reassign"): "manager",
    ("GET", "/api/v1/today"): "staff",
    ("POST", "/api/v1/events"): "staff",
    ("GET", "/api/v1/at-risk"): "staff",
    ("GET", "/api/v1/conversations"): "staff",
    ("GET", "/api/v1/conversations/{conversation_id}"): "staff",
    ("POST", "/api/v1/messages"): "staff",
    ("POST", "/api/v1/conversations/{conversation_id}/reply"): "staff",
    ("POST", "/api/v1/incidents/assess"): "staff",
    ("POST", "/api/v1/incidents"): "staff",
    ("GET", "/api/v1/incidents"): "staff",
    ("GET", "/api/v1/incidents/{incident_id:int}"): "staff",
    ("POST", "/api/v1/incidents/{incident_id:int}/steps"): "staff",
    ("POST", "/api/v1/incidents/{incident_id:int}/confirm"): "staff",
    ("POST", "/api/v1/incidents/{incident_id:int}/resolve"): "staff",
    ("POST", "/api/v1/incidents/{incident_id:int}/close"): "staff",
    ("GET", "/playbook"): "staff",
    ("GET", "/playbook/preview"): "staff",
    ("POST", "/playbook/{rule}/automation"): "owner",
    ("GET", "/playbook/rules/new"): "owner",
    ("POST", "/playbook/rules/new"): "owner",
    ("GET", "/playbook/rules/{rule}/edit"): "owner",
    ("POST", "/playbook/rules/{rule}/edit"): "owner",
    ("POST", "/playbook/rules/{rule}/enabled"): "owner",
    ("POST", "/playbook/rules/{rule}/delete"): "owner",
    ("POST", "/playbook/shipped"): "owner",
    ("GET", "/settings/sla"): "owner",
    ("POST", "/settings/sla"): "owner",
    ("POST", "/settings/sla/policy"): "owner",
    ("POST", "/settings/sla/window"): "owner",
    ("GET", "/settings/rota"): "owner",
    ("POST", "/settings/rota"): "owner",
    ("POST", "/settings/rota/clear"): "owner",
    ("GET", "/api/v1/playbook"): "staff",
    ("GET", "/api/v1/playbook/sends"): "staff",
    ("GET", "/api/v1/playbook/rules/{rule}/preview"): "staff",
    ("POST", "/api/v1/playbook/rules/{rule}/automation"): "owner",
}

#: Bodies for the routes that read one before they can tell who may act (the API's models).
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/followups/{followup_id}/reassign"): {"data": {"to": "owner@example.com"}},
    ("POST", "/api/v1/followups/{followup_id}/complete"): {"json": {"outcome": "Called her"}},
    ("POST", "/api/v1/followups/{followup_id}/snooze"): {"json": {"until": "2026-12-01T09:00Z"}},
    ("POST", "/api/v1/followups/{followup_id}/reassign"): {"json": {"to": "owner@example.com"}},
    ("POST", "/playbook/{rule}/automation"): {"data": {"on": "0"}},
    ("POST", "/playbook/rules/{rule}/enabled"): {"data": {"on": "1"}},
    ("POST", "/api/v1/playbook/rules/{rule}/automation"): {"json": {"on": False}},
    ("POST", "/settings/mail/test"): {"data": {"to": "owner@example.com"}},
    ("POST", "/setup/business"): {
        "data": {"business_name": "Shop", "timezone": "UTC", "currency": "EUR", "country": ""}
    },
}

#: Parameters with no seeded row behind them: an allowed role may get 404 there.
UNSEEDED = {
    "token",
    "import_id",
    "attachment_id",
    "inbound_id",
    "override_id",
    "session_id",
    "token_id",
    "user_id",
    "contact_id",
    "fact_id",
    "note_id",
}
#: Mounts answer files, not data; the only one is the static directory.
MOUNTS = {"/static"}
#: The session ends here, so each role asks it last.
LAST = ("POST", "/logout")


@dataclass(frozen=True)
class Rows:
    followup: int
    incident: int
    conversation: int
    calendar: str


def routes(app_routes: list[object]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in iter_route_contexts(app_routes):  # type: ignore[arg-type]
        if isinstance(route.original_route, Mount):
            assert route.path in MOUNTS, f"a new mount {route.path} needs a line in the table"
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, str(route.path)))
    return found


@pytest.fixture
def rows(seeded: sessionmaker[Session], web_settings: Settings) -> Rows:
    made = make_followups(seeded, web_settings, now=NOW)
    with seeded.begin() as session:
        for email, role, name in (
            ("mia@example.com", "manager", "Mia Manager"),
            ("sam@example.com", "staff", "Sam Staff"),
        ):
            staff_user(session, email=email, role=role, name=name, now=NOW)
        owner = user_by_email(session, "owner@example.com")
        calendar = new_calendar_token(session, owner)
    with seeded.begin() as session:
        incident = open_incident(
            session,
            web_settings,
            client_ref=LONG_CLIENT,
            what="the boots came in the wrong size",
            cause="wrong size",
            by="owner@example.com",
            actor=Actor.cli("tests"),
            now=NOW,
        )
    mail = EmailMessage()
    mail["From"], mail["To"] = "margaret@example.com", "care@shop.example"
    mail["Subject"], mail["Message-ID"] = "Boots", "<boots-1@example.com>"
    mail["Date"] = "Mon, 23 Nov 2026 14:00:00 +0000"
    mail.set_content("The boots are too small.")
    received = receive(seeded, web_settings, mail.as_bytes(), source="api", now=NOW)
    assert received.conversation_id is not None
    return Rows(made.missed, incident, received.conversation_id, calendar)


def _path(template: str, rows: Rows) -> str:
    values = {
        "{ref:path}": LONG_CLIENT,
        "{ref:client}": LONG_CLIENT,
        "{followup_id}": str(rows.followup),
        "{incident_id:int}": str(rows.incident),
        "{incident_id:id}": str(rows.incident),
        "{conversation_id}": str(rows.conversation),
        "{conversation_id:id}": str(rows.conversation),
        "{import_id:id}": "1",
        "{attachment_id:id}": "1",
        "{inbound_id:id}": "1",
        "{override_id:id}": "1",
        "{session_id}": "999999",
        "{token_id}": "999999",
        "{user_id}": "999999",
        "{change}": "activate",
        "{slug}": "privacy",
        "{part}": "theme",
        "{month}": "2026-12",
        "{rule}": "thank-you-first-purchase",
        "{contact_id:int}": "999999",
        "{contact_id}": "999999",
        "{fact_id:id}": "999999",
        "{fact_id}": "999999",
        "{note_id:id}": "999999",
        "{note_id}": "999999",
    }
    path = template
    for name, value in values.items():
        path = path.replace(name, value)
    if path.startswith("/calendar/"):
        return path.replace("{token}", rows.calendar)
    return path.replace("{token}", "no-such-token")


def _ask(
    http: TestClient, method: str, template: str, path: str, headers: dict[str, str]
) -> tuple[int, str]:
    body: dict[str, object] = BODIES.get((method, template), {})
    response = http.request(method, path, headers=headers, **body)  # type: ignore[arg-type]
    return response.status_code, response.headers.get("location", "")


@pytest.fixture
def app_settings(web_settings: Settings) -> Settings:
    return dataclasses.replace(
        web_settings,
        mail={"from_address": "care@shop.example"},
        contact_form={**web_settings.contact_form, "enabled": True},
    )


def _client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        yield http


def test_every_route_is_in_the_access_table(app_settings: Settings, rows: Rows) -> None:
    app = create_app(app_settings, clock=lambda: NOW)
    declared = routes(app.routes)
    missing = sorted(set(declared) - set(ROUTES))
    assert not missing, f"routes missing from the access table: {missing}"
    gone = sorted(set(ROUTES) - set(declared))
    assert not gone, f"the table names routes the app no longer has: {gone}"


def test_nobody_logged_in_is_sent_to_log_in_everywhere_but_the_public_routes(
    app_settings: Settings, rows: Rows
) -> None:
    for http in _client(app_settings):
        for (method, template), level in sorted(ROUTES.items()):
            # A public form (a reset, an invitation) may start a new session: ask each time.
            csrf = csrf_from(http.get("/login").text)
            path = _path(template, rows)
            status, location = _ask(http, method, template, path, {"X-CSRF-Token": csrf})
            where = f"{method} {path} without credentials answered {status} {location}"
            if level == "public":  # answers for itself (the login form: 401 for no password)
                assert status < 500 and not location.startswith("/login?next="), where
            elif path.startswith("/api/"):
                assert status == 401, where
            else:
                assert status == 303 and location.startswith("/login"), where


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_allows_and_nothing_more(
    app_settings: Settings, seeded: sessionmaker[Session], rows: Rows, role: str
) -> None:
    email = {"owner": "owner@example.com", "manager": "mia@example.com"}.get(
        role, "sam@example.com"
    )
    with seeded.begin() as session:
        user = user_by_email(session, email)
        assert isinstance(user, StaffUser) and user.role == role
        token = create_token(session, user, label="access table", now=NOW)
    for http in _client(app_settings):
        assert log_in(http, email=email).status_code == 303
        csrf = csrf_from(http.get("/today").text)
        headers = {"Authorization": f"Bearer {token}", "X-CSRF-Token": csrf}
        ordered = sorted(ROUTES.items(), key=lambda item: (item[0] == LAST, item[0]))
        for (method, template), level in ordered:
            path = _path(template, rows)
            status, location = _ask(http, method, template, path, headers)
            where = f"{method} {path} as {role} answered {status} {location}"
            assert status < 500, where
            if level == "public":
                assert not location.startswith("/login?next="), where
            elif LEVELS.index(role) >= LEVELS.index(level):
                assert status not in (401, 403), where
                assert not location.startswith("/login?next="), where
                if status == 404:
                    assert any(f"{{{name}" in template for name in UNSEEDED), where
            else:
                assert status in (403, 404), where


def test_the_table_of_abilities_orders_the_roles() -> None:
    abilities = {"followups.everyone", "imports.run", "users.manage", "clients.read"}
    for ability in abilities:
        allowed = [role for role in ROLES if may(role, ability)]  # type: ignore[arg-type]
        assert allowed == list(ROLES[: len(allowed)]), ability
    assert may("manager", "followups.everyone") and not may("staff", "followups.everyone")
    assert may("manager", "imports.run") and not may("manager", "users.manage")
    assert not may("manager", "clients.erase") and not may("manager", "backups.run")
    assert not may("nobody", "clients.read")

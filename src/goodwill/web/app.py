"""The web application: dashboard pages and the JSON API over one store, one clock, one key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

import goodwill
from goodwill.settings import Settings, max_message_bytes
from goodwill.store.database import open_store
from goodwill.web import auth, busy, errors, health
from goodwill.web.api import at_risk as api_at_risk
from goodwill.web.api import client_merge as api_client_merge
from goodwill.web.api import client_record as api_record
from goodwill.web.api import client_timeline as api_client_timeline
from goodwill.web.api import clients as api_clients
from goodwill.web.api import followups as api_followups
from goodwill.web.api import inbox as api_inbox
from goodwill.web.api import incidents as api_incidents
from goodwill.web.api import me as api_me
from goodwill.web.api import memory as api_memory
from goodwill.web.api import playbook as api_playbook
from goodwill.web.api import privacy as api_privacy
from goodwill.web.csrf import CsrfGuard
from goodwill.web.import_jobs import ImportJobs
from goodwill.web.limits import BodyLimit, RequestLimits
from goodwill.web.pages import account, at_risk, calendar, followups, imports, inbox, login, today
from goodwill.web.pages import clicks as click_pages
from goodwill.web.pages import client_memory as client_memory_pages
from goodwill.web.pages import client_merge as client_merge_pages
from goodwill.web.pages import client_record as record_pages
from goodwill.web.pages import client_timeline as timeline_pages
from goodwill.web.pages import clients as client_pages
from goodwill.web.pages import contact as contact_pages
from goodwill.web.pages import feedback as feedback_pages
from goodwill.web.pages import first_run as first_run_pages
from goodwill.web.pages import incidents as incident_pages
from goodwill.web.pages import insights as insight_pages
from goodwill.web.pages import listening as listening_pages
from goodwill.web.pages import listening_settings as listening_settings_pages
from goodwill.web.pages import mail_settings as mail_settings_pages
from goodwill.web.pages import playbook as playbook_pages
from goodwill.web.pages import playbook_edit as playbook_edit_pages
from goodwill.web.pages import privacy as privacy_pages
from goodwill.web.pages import recovery_settings as recovery_settings_pages
from goodwill.web.pages import rota_settings as rota_settings_pages
from goodwill.web.pages import settings as settings_pages
from goodwill.web.pages import sla_settings as sla_settings_pages
from goodwill.web.pages import touch_batches as touch_batch_pages
from goodwill.web.pages import unsubscribe as unsubscribe_pages
from goodwill.web.secret import secret_key
from goodwill.web.state import WebState, system_clock

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "goodwill_session"
SESSION_DAYS = 14

#: Only our own files may run or style the pages; htmx is served from /static like the CSS.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No page needs a device or a browser feature beyond showing itself.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "serial=(), bluetooth=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), "
    "display-capture=(), screen-wake-lock=()",
}
#: Pages, JSON, CSV and calendar feeds carry client data: no cache (browser or proxy) keeps them.
NO_STORE = "no-store"


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The app for ``settings``: opens (and migrates) the store now, disposes of it at shutdown.

    ``clock`` returns an aware UTC datetime (default: real time); "today" for tenure and lateness
    is that instant's date in the business's time zone.
    """
    sessions = open_store(settings.database_url, options=settings.database)
    state = WebState(base_settings=settings, sessions=sessions, clock=clock or system_clock)
    import_jobs = ImportJobs(sessions, lambda: state.settings, now=state.now())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(import_jobs.close)
        bind = sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()

    app = FastAPI(
        title="goodwill",
        version=goodwill.__version__,
        summary="A self-hosted client-care engine: remember every client.",
        docs_url=None,  # the interactive docs load from a CDN; the schema is at /openapi.json
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.goodwill = state
    app.state.import_jobs = import_jobs
    # Innermost first: the CSRF check needs the session; the bounds come before anything else.
    app.add_middleware(CsrfGuard, refuse=errors.error_response)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 86400,
        same_site="lax",
        https_only=settings.secure_cookie,
    )
    app.middleware("http")(_security_headers)
    bounds = settings.server
    app.add_middleware(
        BodyLimit,
        default=int(bounds["max_body_bytes"]),
        routes={
            ("POST", "/imports"): int(bounds["max_upload_bytes"]),
            ("POST", "/api/v1/messages"): max_message_bytes(settings),
            ("POST", contact_pages.PATH): contact_pages.body_limit(settings),
        },
    )
    app.add_middleware(
        RequestLimits,
        max_concurrent=int(bounds["max_concurrent"]),
        timeout=float(bounds["request_timeout"]),
    )
    errors.install(app)
    busy.install(app)
    auth.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (login.router, today.router, at_risk.router, followups.router, calendar.router):
        app.include_router(router)
    app.include_router(first_run_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(recovery_settings_pages.router)
    app.include_router(listening_settings_pages.router)
    app.include_router(imports.router)
    app.include_router(inbox.router)
    app.include_router(incident_pages.router)
    app.include_router(insight_pages.router)
    app.include_router(listening_pages.router)
    app.include_router(mail_settings_pages.router)
    app.include_router(playbook_pages.router)
    app.include_router(playbook_edit_pages.router)
    app.include_router(sla_settings_pages.router)
    app.include_router(rota_settings_pages.router)
    app.include_router(feedback_pages.router)
    app.include_router(contact_pages.router)
    app.include_router(click_pages.router)
    app.include_router(unsubscribe_pages.router)
    app.include_router(touch_batch_pages.router)
    app.include_router(privacy_pages.router)  # before /clients/{ref:path}, which takes any path
    app.include_router(client_merge_pages.router)  # before /clients/{ref:path} too
    app.include_router(record_pages.router)  # likewise
    app.include_router(client_memory_pages.router)  # before /clients/{ref:path} too
    app.include_router(timeline_pages.router)  # before /clients/{ref:path}
    app.include_router(client_pages.router)
    app.include_router(api_privacy.router)
    app.include_router(account.router)
    app.include_router(api_me.router)
    app.include_router(api_client_merge.router)  # before /api/v1/clients/{ref:path}
    app.include_router(api_memory.router)  # before /api/v1/clients/{ref:path}
    app.include_router(api_client_timeline.router)  # before /api/v1/clients/{ref:path}
    # Its PATCH /api/v1/clients/{ref:path} takes any path: after every router with subpaths.
    app.include_router(api_record.router)
    app.include_router(api_clients.router)
    app.include_router(api_followups.router)
    app.include_router(api_at_risk.router)
    app.include_router(api_inbox.router)
    app.include_router(api_incidents.router)
    app.include_router(api_playbook.router)
    app.add_api_route("/", _home, methods=["GET"], include_in_schema=False)
    app.include_router(health.router)
    return app


def _home() -> Response:
    """The day's work first (the login form sends a visitor not logged in back here)."""
    return RedirectResponse(auth.HOME, status_code=303)


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    framed = "frame-ancestors 'none'" not in response.headers.get(
        "Content-Security-Policy", "frame-ancestors 'none'"
    )
    for name, value in SECURITY_HEADERS.items():
        if name == "X-Frame-Options" and framed:
            continue  # a page that may be framed (the contact form's embed) names where in its CSP
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = NO_STORE
    return response

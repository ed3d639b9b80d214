"""The first run in the browser: the owner makes their account on a database nobody has one on
(``/setup``), then says what the business is (``/setup/business``, saved as the settings
page saves), then how mail reaches it (``/settings/mail``).

``/setup`` is open only while no account exists, and then only to a browser on the machine
goodwill runs on or to one that brings the setup code ``goodwill serve`` printed. "On this
machine" is strict: the peer is a loopback address, the Host asked for is a loopback name, and
no proxy header came along, because a reverse proxy on the same machine (docs/production.md)
makes every visitor's connection come from 127.0.0.1. Behind a proxy, the setup code is the way.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.first_run import ALREADY_SET_UP, HOW_TO_GET_A_CODE, do_create_owner
from goodwill.errors import Conflict, InvalidInput, NotAllowed, NotFound
from goodwill.settings_form import FIRST_RUN
from goodwill.store.first_run import needs_owner
from goodwill.web.auth import PageStaff, address_of, log_in
from goodwill.web.document_edits import require_owner
from goodwill.web.pages.settings import MAX_ANSWER, save_answers, setting_rows
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

router = APIRouter(include_in_schema=False)

#: Headers a reverse proxy adds; any of them means the browser is not on this machine.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "via")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_this_machine(request: Request) -> bool:
    """Whether the browser runs on the machine goodwill runs on (see the module docstring)."""
    peer = request.client.host if request.client else ""
    if not _loopback(peer) or any(name in request.headers for name in PROXY_HEADERS):
        return False
    host = request.headers.get("host", "")
    name = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return _loopback(name)


def _setup_page(request: Request, *, local: bool, status: int, **values: object) -> Response:
    context: dict[str, object] = {
        "local": local,
        "how_to_get_a_code": HOW_TO_GET_A_CODE,
        "problem": None,
        "name": "",
        "email": "",
        **values,
    }
    return render(request, "setup.html", context, status=status)


@router.get("/setup")
def setup_form(request: Request, db: Db) -> Response:
    if not needs_owner(db):
        return RedirectResponse("/login", status_code=303)
    local = from_this_machine(request)
    return _setup_page(request, local=local, status=200 if local else 403)


@router.post("/setup")
def setup(
    request: Request,
    db: Db,
    state: State,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    code: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Make the owner's account and log them in; the business comes next."""
    local = from_this_machine(request)
    try:
        user = do_create_owner(
            db,
            name=name,
            email=email,
            password=password,
            from_this_machine=local,
            code=code or None,
            address=address_of(request),
            now=state.now(),
            accounts=state.settings.accounts,
        )
    except NotFound:
        db.rollback()
        raise NotFound(ALREADY_SET_UP) from None
    except (InvalidInput, Conflict, NotAllowed) as exc:
        db.rollback()  # a refused password must not spend the setup code
        status = 403 if isinstance(exc, NotAllowed) else 422
        return _setup_page(
            request, local=local, status=status, problem=exc.message, name=name, email=email
        )
    response = RedirectResponse("/setup/business", status_code=303)
    log_in(request, response, db, state, user)
    return response


def _business_page(
    request: Request,
    db: Session,
    state: WebState,
    *,
    answers: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    settings = state.settings
    context = {
        "rows": setting_rows(db, settings, FIRST_RUN, answers),
        "problems": problems or {},
        "intro": FIRST_RUN.intro,
        "calendar_file": settings.calendar if not isinstance(settings.calendar, dict) else None,
        "propose_zone": settings.timezone == "UTC" and answers is None,
        "section": "setup",
    }
    return render(request, "setup_business.html", context, status=status)


@router.get("/setup/business")
def business_form(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    require_owner(staff)
    return _business_page(request, db, state)


@router.post("/setup/business")
async def business(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    """Save what the business is; then on to how mail reaches it."""
    require_owner(staff)
    form = await request.form()
    answers = {f.name: str(form.get(f.name) or "")[:MAX_ANSWER] for f in FIRST_RUN.fields}
    required = {"business_name": "Write the business's name as clients know it."}
    problems = save_answers(request, db, state, staff, FIRST_RUN, answers, required=required)
    if problems:
        return _business_page(request, db, state, answers=answers, problems=problems, status=422)
    return RedirectResponse("/settings/mail?first=1", status_code=303)

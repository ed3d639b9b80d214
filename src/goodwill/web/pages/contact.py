"""The public contact form: ``/contact`` (and ``/contact?embed=1`` for a frame on the business's
own website), a thanks page, and the refusals.

No login, no cookie: the pages are rendered without the session, and the form's post is exempt
from the CSRF check (``web.csrf``), because a post from a frame on another site cannot carry
goodwill's cookie and acts for nobody. What guards it instead: a per-address rate limit kept in
the database (counted before the body is read), a signed, timestamped token (time-to-fill), a
honeypot field, and bounded input (the body limit for this route is the attachments' limits plus
a little; fields have lengths). A bot is told only that its message was not sent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from goodwill.actions.contact_form import check_rate, submit
from goodwill.domain import contact_form as form
from goodwill.errors import InvalidInput, NotFound, Throttled
from goodwill.settings import Settings
from goodwill.web.rendering import templates
from goodwill.web.secret import secret_key
from goodwill.web.state import State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/contact"
#: The one answer a bot gets, whatever gave it away; a person reading it knows what to do.
NOT_SENT = "Your message was not sent. Please reload this page and send it again."
EXPIRED = (
    "This page was open for a long time, so your message was not sent yet. "
    "Please check it and send it again."
)
#: Room for the text fields and the multipart framing, above the attachments themselves.
FIELDS_BYTES = 64 * 1024
#: The policy of goodwill's pages, without the frame-ancestors directive (see ``_headers``).
POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def body_limit(settings: Settings) -> int:
    """The largest body a post to /contact may have: every file at its largest, and the rest."""
    limits = settings.contact_form
    return int(limits["max_files"]) * int(limits["max_file_bytes"]) * 4 // 3 + FIELDS_BYTES


def _open(state: WebState) -> None:
    if not state.settings.contact_form["enabled"]:
        raise NotFound("there is no contact form here")


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"goodwill contact form\0" + secret_key(settings).encode()).digest()


def _headers(settings: Settings, embed: bool) -> dict[str, str]:
    """Framing: the embed view may be framed by the listed sites (or any); the page itself not."""
    origins = list(settings.contact_form["embed_origins"]) or ["*"]
    ancestors = " ".join(origins) if embed else "'none'"
    return {
        "Content-Security-Policy": f"{POLICY}; frame-ancestors {ancestors}",
        "Referrer-Policy": "no-referrer",
    }


def _page(
    request: Request,
    state: WebState,
    name: str,
    context: dict[str, Any],
    *,
    embed: bool,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page for a visitor: rendered without the session, so no cookie is ever set."""
    limits = state.settings.contact_form
    full = {
        "business": state.settings.business_name,
        "embed": embed,
        "choices": form.CHOICES,
        "max_files": int(limits["max_files"]),
        "files_hint": _files_hint(limits),
        "accept": _accept(limits["allowed_types"]),
        "confirming": bool(state.settings.mail.get("from_address")),
        **context,
    }
    response = templates.TemplateResponse(
        request,
        name,
        full,
        status_code=status,
        headers={**_headers(state.settings, embed), **(headers or {})},
    )
    assert isinstance(response, HTMLResponse)
    return response


def _form(
    request: Request,
    state: WebState,
    *,
    embed: bool,
    token: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    files_lost: bool = False,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        state,
        "contact.html",
        {
            "token": token or form.issue_token(_key(state.settings), now=state.now()),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "files_lost": files_lost,
            "honeypot": form.HONEYPOT,
            "max_name": form.MAX_NAME,
            "max_phone": form.MAX_PHONE,
            "max_message": form.MAX_MESSAGE,
        },
        embed=embed,
        status=status,
    )


@router.get(PATH)
def contact_form(request: Request, state: State) -> Response:
    _open(state)
    return _form(request, state, embed=request.query_params.get("embed") == "1")


@router.get(PATH + "/thanks")
def contact_thanks(request: Request, state: State) -> Response:
    _open(state)
    embed = request.query_params.get("embed") == "1"
    return _page(request, state, "contact_thanks.html", {}, embed=embed)


@router.post(PATH)
async def contact_send(request: Request, state: State) -> Response:
    """Check the rate, the token and the honeypot, then the fields; file the message; thank."""
    _open(state)
    embed = request.query_params.get("embed") == "1"
    settings = state.settings
    now = state.now()
    address = address_of(request)
    try:
        await run_in_threadpool(check_rate, state.sessions, settings, address, now=now)
    except Throttled as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        context = {"message": exc.message}
        return _page(
            request, state, "contact_refused.html", context, embed=embed, status=429, headers=retry
        )
    posted = await request.form(max_files=form.MAX_PARTS, max_fields=form.MAX_PARTS)
    values = {k: _text(posted, k) for k in ("name", "email", "phone", "choice", "message")}
    limits = settings.contact_form
    check = form.check_token(
        _key(settings),
        _text(posted, "token"),
        now=now,
        min_seconds=float(limits["min_seconds"]),
        max_age=timedelta(hours=float(limits["token_hours"])),
    )
    if _text(posted, form.HONEYPOT) or check.verdict in ("forged", "too_fast"):
        log.info("contact form post refused as a bot's (%s)", _why(posted, check.verdict))
        context = {"message": NOT_SENT}
        return _page(request, state, "contact_refused.html", context, embed=embed, status=400)
    uploads = await _uploads(posted, int(limits["max_file_bytes"]))
    if check.verdict == "expired" or check.nonce is None:
        lost = bool(uploads)
        return _form(
            request, state, embed=embed, values=values, notice=EXPIRED, files_lost=lost, status=422
        )
    try:
        submission = form.validate(
            **values, uploads=uploads, limits=limits, region=_region(settings)
        )
    except InvalidInput as exc:
        wrong = {str(e["field"]): str(e["message"]) for e in _errors(exc)}
        token = _text(posted, "token")
        return _form(
            request,
            state,
            embed=embed,
            token=token,
            values=values,
            errors=wrong,
            files_lost=bool(uploads),
            status=422,
        )
    nonce = check.nonce
    await run_in_threadpool(submit, state.sessions, settings, submission, nonce=nonce, now=now)
    return RedirectResponse(PATH + "/thanks" + ("?embed=1" if embed else ""), status_code=303)


def address_of(request: Request) -> str | None:
    """Whom the rate limit counts: the peer, or, when the peer is a proxy on this machine (the
    setup docs/production.md describes), the address that proxy put last in X-Forwarded-For.
    The last entry is the one our own proxy wrote; those before it are the client's to invent."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer is None or not forwarded.strip():
        return peer
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return peer
    if not local:
        return peer
    return forwarded.rsplit(",", 1)[-1].strip()[:64] or peer


def _text(posted: FormData, name: str) -> str:
    value = posted.get(name)
    return value[: form.MAX_MESSAGE * 2] if isinstance(value, str) else ""


async def _uploads(posted: FormData, largest: int) -> list[form.Upload]:
    """The files posted, each read to one byte past the limit at most (enough to refuse it)."""
    found = []
    for item in posted.getlist("attachments"):
        if isinstance(item, UploadFile):
            content = await item.read(largest + 1)
            if item.filename or content:  # an empty file input sends an empty part
                found.append(form.Upload(item.filename or "", item.content_type or "", content))
    return found


def _errors(exc: InvalidInput) -> list[dict[str, object]]:
    listed = exc.fields.get("errors")
    if isinstance(listed, list):
        return listed
    return [{"field": exc.fields.get("field", ""), "message": exc.message}]


def _why(posted: FormData, verdict: str) -> str:
    return "honeypot" if _text(posted, form.HONEYPOT) else verdict


def _region(settings: Settings) -> str | None:
    """The business's country, for phone numbers written without a country code."""
    calendar = settings.calendar
    country = calendar.get("country") if isinstance(calendar, Mapping) else None
    return country if isinstance(country, str) else None


def _accept(allowed: list[str]) -> str:
    """The file input's ``accept``: the extensions of the allowed types, and the types."""
    extensions = [
        ext
        for ext, kind in form.EXTENSIONS.items()
        if any(kind == a or (a.endswith("/*") and kind.startswith(a[:-1])) for a in allowed)
    ]
    return ",".join([*extensions, *allowed])


def _files_hint(limits: Any) -> str:
    most = int(limits["max_files"])
    size = form.size_words(int(limits["max_file_bytes"]))
    kinds = form.kinds_words(list(limits["allowed_types"]))
    return f"Up to {most} file{'s' if most != 1 else ''}, {size} each: {kinds}."

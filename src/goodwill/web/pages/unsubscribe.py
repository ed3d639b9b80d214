"""The unsubscribe link of a marketing email: ``/unsubscribe/<token>``.

GET shows a small page with one button and changes nothing, so a link scanner or a mail
program's preview that fetches the address never unsubscribes anyone. POST withdraws marketing
consent: from that button, or as the RFC 8058 one-click POST a mail program sends by itself
(body ``List-Unsubscribe=One-Click``). That POST carries no cookie, so the route is exempt from
the CSRF check like the feedback form (``web.csrf``): the signed token in the address is the only
credential, and the one thing it can do is stop marketing to its own client (docs/security.md).

No login, no cookie, never cached or indexed. An altered token, or one whose client no longer
exists, is a plain 404. Answering twice is fine: the second POST changes nothing and says so.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from goodwill.domain.audit import Actor
from goodwill.domain.unsubscribe import read_token
from goodwill.store.consent import withdraw_marketing
from goodwill.store.models import Client
from goodwill.web.pages.feedback import public_page
from goodwill.web.secret import secret_key
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/unsubscribe/{token}"


def _client(db: Db, state: WebState, token: str) -> Client | None:
    client_id = read_token(secret_key(state.settings), token)
    return None if client_id is None else db.get(Client, client_id)


def _unknown(request: Request, state: WebState) -> HTMLResponse:
    return public_page(request, state, "feedback_gone.html", {"reason": "unknown"}, status=404)


@router.get(PATH)
def unsubscribe_form(request: Request, db: Db, state: State, token: str) -> Response:
    client = _client(db, state, token)
    if client is None:
        return _unknown(request, state)
    return public_page(
        request, state, "unsubscribe.html", {"already": client.marketing_consent is False}
    )


@router.post(PATH)
def unsubscribe(request: Request, db: Db, state: State, token: str) -> Response:
    """Withdraw marketing consent; the body is not read (the button and the one-click POST mean
    the same)."""
    client = _client(db, state, token)
    if client is None:
        return _unknown(request, state)
    address = request.client.host if request.client else None
    actor = Actor.anonymous("client, through the unsubscribe link", address=address)
    changed = withdraw_marketing(db, client, now=state.now(), actor=actor)
    if not changed:
        log.info("client %s unsubscribe link used again: nothing to change", client.id)
    return public_page(request, state, "unsubscribe_done.html", {})

"""The public redirect behind a tracked link (``/click/<token>``).

It answers at once: a verified token is a 303 to the address goodwill signed, whether or not the
click is recorded (see ``actions.clicks``); anything else is a plain 404 page and no redirect, so
the route cannot send anyone to an address of someone else's choosing. No login, no cookie; the
referrer policy keeps the token from reaching the site the link leads to.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from goodwill.actions.clicks import record_click
from goodwill.mail.tracked_links import PATH, ClickSigner
from goodwill.web.rendering import templates
from goodwill.web.secret import secret_key
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@router.api_route(PATH + "/{token}", methods=["GET", "HEAD"])
def click(request: Request, db: Db, state: State, token: str) -> Response:
    settings = state.settings
    # Read with the key alone: links already sent keep working after tracking is switched off.
    signer = ClickSigner(secret_key(settings), settings.public_url or "")
    found = signer.read(token)
    if found is None:
        context = {"staff": None, "csrf_token": "", "section": None}
        response = templates.TemplateResponse(
            request, "click_gone.html", context, status_code=404, headers=HEADERS
        )
        assert isinstance(response, HTMLResponse)
        return response
    record_click(
        db,
        settings,
        found,
        method=request.method,
        user_agent=request.headers.get("user-agent"),
        now=state.now(),
    )
    return RedirectResponse(found.url, status_code=303, headers=HEADERS)

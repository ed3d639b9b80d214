"""Server-side HTML: one Jinja2 environment (autoescaping on) with the filters the pages share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from goodwill.domain.money import exponent, format_money
from goodwill.web.csrf import FIELD, csrf_token

TEMPLATES = Path(__file__).parent / "templates"

#: The sections of the dashboard, in the order of a working day.
NAV = (
    ("today", "Today", "/today"),
    ("at-risk", "At risk", "/at-risk"),
    ("clients", "Clients", "/clients"),
)


def client_url(ref: str) -> str:
    """The page of a client; the ref is quoted whole, so ``#12`` or ``a/b`` stay one segment."""
    return "/clients/" + quote(ref, safe="@")


def estimate(value: float | None, currency: str, *, whole: bool = False) -> str:
    """A model's money estimate as the dashboard writes amounts (``1,240.00 EUR``); "—" if unknown.

    Estimates arrive as floats from the models; they are rounded half-up to the currency's minor
    unit (or to whole units with ``whole``) through Decimal, so the text never shows float noise.
    """
    if value is None:
        return "—"
    places = 0 if whole else exponent(currency)
    amount = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{amount:,.{places}f} {currency.upper()}"


def query_url(path: str, params: Mapping[str, object]) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["count"] = "{:,}".format
    env.filters["estimate"] = estimate
    env.filters["client_url"] = client_url
    env.globals["query_url"] = query_url
    env.globals["nav"] = NAV
    env.globals["csrf_field"] = FIELD
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name`` with the values every page needs (the staff user, CSRF token, local day)."""
    state = getattr(request.app.state, "goodwill", None)
    zone = state.settings.zone if state is not None else None

    def day(value: date | datetime | None) -> str:
        """A date as the business sees it: instants are shown in the business's time zone."""
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = (value.astimezone(zone) if zone else value).date()
        return value.isoformat()

    full = {
        "staff": getattr(request.state, "staff", None),
        "csrf_token": csrf_token(request),
        "day": day,
        "section": None,
        **context,
    }
    response = templates.TemplateResponse(
        request, name, full, status_code=status, headers=dict(headers) if headers else None
    )
    assert isinstance(response, HTMLResponse)
    return response

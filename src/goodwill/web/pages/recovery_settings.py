"""The recovery options on the settings page: the catalog in force as a readable list (what each
option costs, which tiers and incidents it fits, who may grant it), each option changed, added or
removed on the page, and the way back to the options shipped for the business's kind.

Saved as ``page["recovery_options"]`` in the catalog file's shape, checked by the file's own
reader first; the next incident's assessment offers what was saved. A catalog file named by
``recovery.catalog`` wins: the page then shows it and changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.recovery_catalog import (
    PAGE_KEY,
    CatalogInForce,
    catalog_in_force,
    shipped_document,
)
from goodwill.domain.recovery_options import SITUATIONS, TIERS, Option, parse_catalog
from goodwill.domain.stakes import TIER_NAMES
from goodwill.errors import ConfigError
from goodwill.store import page_settings
from goodwill.web.auth import PageStaff
from goodwill.web.document_edits import Document, answer, forget, listed, require_owner, save, why
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

router = APIRouter(include_in_schema=False)

CATALOG = Document(
    PAGE_KEY, "option", "name", lambda doc: parse_catalog(doc, source="settings page")
)

#: Each business kind as the page speaks of it ("the options shipped for a shop").
KIND_WORDS = {
    "shop": "a shop",
    "cafe": "a café or restaurant",
    "hospitality": "a B&B or hotel",
    "services": "an agency or service business",
    "software": "a software business",
    "wholesale": "a wholesaler or distributor",
    "other": "any business",
}
#: The situations in the owner's words.
SITUATION_WORDS = {
    "stranded": "the client is stranded",
    "out_of_stock": "out of stock",
    "late": "late",
    "damaged": "damaged",
    "wrong_item": "the wrong thing",
    "partner": "a partner let them down",
    "any": "any incident",
}
#: The fields of an option's form, in the order the page shows them.
FIELDS = ("name", "description", "cost", "tiers", "fits", "authority", "mentions")
#: What the add form is called when it fails.
NEW = "+new"


def _form_values(table: dict[str, Any]) -> dict[str, Any]:
    """An option's table as its form shows it."""
    return {
        "name": str(table.get("name", "")),
        "description": str(table.get("description", "")),
        "cost": str(table.get("cost", "")),
        "tiers": [t for t in table.get("tiers", []) if t in TIERS],
        "fits": [f for f in table.get("fits", ["any"]) if f in SITUATIONS],
        "authority": str(table.get("authority", "staff")),
        "mentions": ", ".join(str(m) for m in table.get("mentions", [])),
    }


def _option_of(form: Any) -> dict[str, Any]:
    """The option the form describes, as the catalog file would hold it."""
    table: dict[str, Any] = {
        "name": answer(form, "name").strip(),
        "description": answer(form, "description").strip(),
        "cost": answer(form, "cost").strip(),
        "tiers": [int(t) if str(t).isdigit() else t for t in form.getlist("tiers")],
        "fits": [str(f) for f in form.getlist("fits")],
        "authority": answer(form, "authority") or "staff",
    }
    mentions = listed(answer(form, "mentions"))
    if mentions:
        table["mentions"] = mentions
    return table


def cost_words(option: Option, currency: str | None) -> str:
    if option.refund:
        return "what the client paid (a refund)"
    if option.free:
        return "nothing"
    return f"{option.cost} {currency or ''}".strip()


def _editable(found: CatalogInForce, kind: str) -> dict[str, Any]:
    """The document an edit starts from: the page's own, else the kind's shipped options (its
    ``[words]`` left with the kind, so they follow it when the kind changes)."""
    if found.where == "page":
        return dict(found.document)
    return {"option": shipped_document(kind)["option"]}


def _page(
    request: Request,
    db: Session,
    state: WebState,
    *,
    failed: str | None = None,
    answers: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    settings = state.settings
    options: list[dict[str, Any]] = []
    try:
        found = catalog_in_force(settings)
        parsed = parse_catalog(found.document, source=found.source).options
    except ConfigError as exc:  # a catalog file that cannot be read: the page says why
        path = settings.recovery.get("catalog")
        found = CatalogInForce("file", {}, path) if path else catalog_in_force(settings)
        parsed, problem = (), problem or exc.message
    tables = CATALOG.tables(found.document)
    for n, (table, option) in enumerate(zip(tables, parsed, strict=False), 1):
        mine = failed == option.name and answers is not None
        options.append(
            {
                "n": n,
                "option": option,
                "cost": cost_words(option, settings.currency),
                "form": answers if mine else _form_values(table),
                "failed": mine,
            }
        )
    context = {
        "section": "settings",
        "found": found,
        "kind_name": KIND_WORDS.get(settings.business_kind, settings.business_kind),
        "options": options,
        "new": answers if failed == NEW and answers is not None else _form_values({}),
        "new_failed": failed == NEW,
        "problems": problems or {},
        "problem": problem,
        "saved_by": page_settings.saved_by(db).get(PAGE_KEY) if found.where == "page" else None,
        "flash": request.query_params.get("saved"),
        "tiers": [(t, TIER_NAMES[t]) for t in TIERS],
        "situations": [(s, SITUATION_WORDS[s]) for s in SITUATIONS],
    }
    return render(request, "settings_recovery.html", context, status=status)


def _file_wins(request: Request, db: Session, state: WebState) -> Response | None:
    path = state.settings.recovery.get("catalog")
    if path is None:
        return None
    words = f"The options come from {path}; change them there."
    return _page(request, db, state, problem=words, status=409)


@router.get("/settings/recovery")
def recovery_page(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    require_owner(staff)
    return _page(request, db, state)


@router.post("/settings/recovery/option")
async def save_option(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    """Change one option (``original`` names it) or add one (``original`` empty)."""
    require_owner(staff)
    if refused := _file_wins(request, db, state):
        return refused
    form = await request.form()
    original = answer(form, "original")
    option = _option_of(form)
    base = _editable(catalog_in_force(state.settings), state.settings.business_kind)
    if original and not any(t.get("name") == original for t in CATALOG.tables(base)):
        original = ""  # removed meanwhile: saved as a new option
    problem = save(request, db, state, staff, CATALOG, CATALOG.put(base, original, option))
    if problem is None:
        return RedirectResponse("/settings/recovery?saved=option", status_code=303)
    field = _field_of(problem)
    shown = {**option, "mentions": answer(form, "mentions")}
    return _page(
        request,
        db,
        state,
        failed=original or NEW,
        answers=shown,
        problems={field: why(problem, field)} if field else {},
        problem=None if field else why(problem, None),
        status=422,
    )


def _field_of(problem: ConfigError) -> str | None:
    """The option's field the reader's message names, None for the catalog as a whole."""
    key = problem.fields.get("key")
    if key in FIELDS:
        return str(key)
    if key is None and "option" in problem.fields:
        return "name"  # listed twice
    return None


@router.post("/settings/recovery/remove")
async def remove_option(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    require_owner(staff)
    if refused := _file_wins(request, db, state):
        return refused
    name = answer(await request.form(), "name")
    base = _editable(catalog_in_force(state.settings), state.settings.business_kind)
    problem = save(request, db, state, staff, CATALOG, CATALOG.drop(base, name))
    if problem is not None:
        words = f"{name!r} is still offered: {why(problem, None)}"
        return _page(request, db, state, problem=words, status=422)
    return RedirectResponse("/settings/recovery?saved=removed", status_code=303)


@router.post("/settings/recovery/reset")
def reset_options(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    """Back to the options shipped for the business's kind."""
    require_owner(staff)
    if refused := _file_wins(request, db, state):
        return refused
    forget(request, db, state, staff, CATALOG)
    return RedirectResponse("/settings/recovery?saved=shipped", status_code=303)

"""The owner's page for the on-call rota: who answers when the business is closed, as a table
of rotations and overrides with rows to add and remove, and who is on call now.

The table is turned into the rota file's document and checked by the rota file's parser, so the
page and the file accept the same things; an error is shown beside the cell it names and nothing
is saved. When the ``rota`` setting names a file, the file decides and the page only reads.
The dashboard's short overrides (``/inbox/rota``) stay where they are and still win.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from goodwill.actions.sla_in_force import rota_for
from goodwill.actions.sla_settings import clear_rota, origin, save_rota, saved_document
from goodwill.domain.access import check
from goodwill.domain.rota import Rota
from goodwill.errors import ConfigError, Conflict
from goodwill.web import sla_words
from goodwill.web.auth import PageStaff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.pages.sla_settings import where_wrong
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/settings/rota"
#: The columns of each table, as the rota file spells them.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "rotation": ("every", "handover", "people"),
    "override": ("person", "from", "until"),
}
#: Rows a form may send per table (a rota is a handful of lines).
MAX_ROWS = 100
MAX_FIELD = 2000
_WALL = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")


@dataclass
class RotaForm:
    """The rota as its form shows it: the top fields, the rows of each table, the errors."""

    top: dict[str, str]
    rows: dict[str, list[dict[str, str]]]
    errors: dict[str, str] = field(default_factory=dict)


def _local_input(value: object) -> str:
    """A stored date-time as a ``datetime-local`` input wants it (``2026-01-05T09:00``)."""
    found = _WALL.match(str(value or ""))
    return f"{found[1]}T{found[2]}" if found else str(value or "")


def form_from_document(document: Mapping[str, Any]) -> RotaForm:
    rows: dict[str, list[dict[str, str]]] = {}
    for table, columns in COLUMNS.items():
        raw = document.get(table, [])
        rows[table] = []
        for entry in raw if isinstance(raw, list) else []:
            row: dict[str, str] = {}
            for column in columns:
                value = entry.get(column)
                if isinstance(value, list):
                    row[column] = ", ".join(str(v) for v in value)
                elif column in ("handover", "from", "until"):
                    row[column] = _local_input(value)
                else:
                    row[column] = "" if value is None else str(value)
            rows[table].append(row)
    top = {k: str(document.get(k) or "") for k in ("timezone", "fallback")}
    return RotaForm(top, rows)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def form_from_post(form: FormData) -> RotaForm:
    """The rows as typed; a row ticked "remove" is left out, so is one left wholly empty."""
    rows: dict[str, list[dict[str, str]]] = {}
    for table, columns in COLUMNS.items():
        rows[table] = []
        for i in range(MAX_ROWS):
            if f"{table}-{i}-{columns[0]}" not in form:
                break
            row = {c: _text(form, f"{table}-{i}-{c}").strip() for c in columns}
            blank = not any(row[c] for c in columns if c != "every")
            if _text(form, f"{table}-{i}-remove") or blank:
                continue
            rows[table].append(row)
    return RotaForm({k: _text(form, k).strip() for k in ("timezone", "fallback")}, rows)


def document_from_form(typed: RotaForm) -> dict[str, Any]:
    """The rota file's document from the form; date-times kept as local ``YYYY-MM-DD HH:MM``."""
    document: dict[str, Any] = {"timezone": typed.top["timezone"]}
    if typed.top["fallback"]:
        document["fallback"] = typed.top["fallback"]
    for table in COLUMNS:
        document[table] = [
            {
                column: (
                    [p.strip() for p in value.split(",") if p.strip()]
                    if column == "people"
                    else value.replace("T", " ")
                )
                for column, value in row.items()
                if value
            }
            for row in typed.rows[table]
        ]
    return document


def _in_force(state: WebState) -> tuple[Rota | None, str | None]:
    try:
        return rota_for(state.settings), None
    except ConfigError as exc:
        return None, exc.message


def page_context(
    request: Request, state: WebState, *, typed: RotaForm | None = None
) -> dict[str, Any]:
    where, path = origin(state.settings, "rota")
    rota, problem = _in_force(state)
    shown = typed or form_from_document(saved_document(state.settings, "rota"))
    now = state.now()
    return {
        "section": "settings",
        "origin": where,
        "file": path,
        "rota": rota,
        "problem": problem,
        "form": shown,
        "columns": COLUMNS,
        "on_call": rota.on_call(now) if rota is not None else None,
        "on_call_setting": state.settings.on_call,
        "now_local": f"{now.astimezone(state.settings.zone):%a %Y-%m-%d %H:%M}",
        "page_flash": pop_flash(request),
        "words": sla_words,
    }


@router.get(PATH)
def rota_page(request: Request, staff: PageStaff, state: State) -> Response:
    check(staff.role, "settings.change", "change the on-call rota")
    return render(request, "settings_rota.html", page_context(request, state))


@router.post(PATH)
async def save_rota_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    """Save the table, or give it one more empty row ("more" names the table) without saving."""
    check(staff.role, "settings.change", "change the on-call rota")
    form = await request.form()
    typed = form_from_post(form)
    more = _text(form, "more")
    if more in COLUMNS:
        typed.rows[more].append(dict.fromkeys(COLUMNS[more], ""))
        return render(request, "settings_rota.html", page_context(request, state, typed=typed))
    document = document_from_form(typed)
    try:
        save_rota(db, state.settings, document, actor=actor(request, staff), now=state.now())
    except Conflict as exc:
        db.rollback()
        typed.errors["form"] = exc.message
        return _again(request, state, typed, 409)
    except ConfigError as exc:
        db.rollback()
        table, index, name, detail = where_wrong(exc)
        if table is None:
            typed.errors[name if name in typed.top else "form"] = detail
        else:
            # positions count the rows kept, as the form now shows them
            typed.errors[f"{table}-{index}-{name}"] = detail
        return _again(request, state, typed, 422)
    state.refresh(db)
    log.info("on-call rota changed on the page by staff user %s", staff.id)
    request.session[FLASH_KEY] = "Rota saved: it decides who is on call from now on."
    return RedirectResponse(PATH, status_code=303)


def _again(request: Request, state: WebState, typed: RotaForm, status: int) -> Response:
    context = page_context(request, state, typed=typed)
    return render(request, "settings_rota.html", context, status=status)


@router.post(PATH + "/clear")
def clear_rota_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    """Stop using the page's rota (outside hours the on-call setting, then the owner, answer)."""
    check(staff.role, "settings.change", "change the on-call rota")
    try:
        clear_rota(db, state.settings, actor=actor(request, staff), now=state.now())
    except Conflict as exc:
        db.rollback()
        typed = form_from_document({})
        typed.errors["form"] = exc.message
        return _again(request, state, typed, 409)
    state.refresh(db)
    request.session[FLASH_KEY] = "The rota is no longer used."
    return RedirectResponse(PATH, status_code=303)

"""The owner's page for response targets: the SLA policies and critical windows in words, a form
to change each, add one or delete one, and the warning point.

Each form changes one part of the saved document and the whole candidate is checked by the SLA
file's parser, so the page and the file accept the same things; an error is shown beside the
field it names and nothing is saved. When the ``sla`` setting names a file, the file decides:
the page says so and shows its policies without forms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.sla_in_force import policies_for
from goodwill.actions.sla_settings import origin, save_sla, saved_document
from goodwill.domain.access import check
from goodwill.domain.sla import DEFAULT_WARN_FRACTION, SlaPolicies
from goodwill.errors import ConfigError, Conflict, InvalidInput
from goodwill.web import sla_words
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/settings/sla"
#: The fields of each part of the document, as the file spells them, in the forms' order.
FIELDS: Mapping[str, tuple[str, ...]] = {
    "policy": ("name", "tiers", "tags", "clients", "calendar", "first_response", "next_response"),
    "critical_window": ("client", "days", "hours", "timezone", "first_response", "next_response"),
}
#: Fields written as lists in the file and as comma-separated names in a form.
LISTS = frozenset({"tiers", "tags", "clients"})
Text = Annotated[str, Form(max_length=500)]
MAX_FIELD = 500

_KEY = re.compile(r"^(?P<part>\w+)\[(?P<index>\d+)\]\.(?P<field>\w+)$")


@dataclass
class Editing:
    """The form that was sent back with a problem: which part, its values and its errors."""

    part: str
    index: int | None  # None: the form that adds one
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def where_wrong(exc: ConfigError) -> tuple[str | None, int | None, str, str]:
    """(part, position, field, what is wrong) of a parser error; part None for a top key."""
    key = str(exc.fields.get("key", ""))
    detail = exc.message.split(f"{key}: ", 1)[-1] if key else exc.message
    found = _KEY.match(key)
    if found is None:
        return None, None, key, detail
    return found["part"], int(found["index"]), found["field"], detail


def table_from_form(part: str, values: Mapping[str, str]) -> dict[str, Any]:
    """One ``[[policy]]`` or ``[[critical_window]]`` table from a form; empty fields left out."""
    table: dict[str, Any] = {}
    for name in FIELDS[part]:
        value = values.get(name, "").strip()
        if value:
            table[name] = (
                [v.strip() for v in value.split(",") if v.strip()] if name in LISTS else value
            )
    return table


def form_from_table(part: str, table: Mapping[str, Any]) -> dict[str, str]:
    """A table as its form shows it: lists as comma-separated names."""
    values: dict[str, str] = {}
    for name in FIELDS[part]:
        value = table.get(name)
        if isinstance(value, list):
            values[name] = ", ".join(str(v) for v in value)
        else:
            values[name] = "" if value is None else str(value)
    return values


def _tables(document: Mapping[str, Any], part: str) -> list[dict[str, Any]]:
    raw = document.get(part, [])
    return [dict(t) for t in raw] if isinstance(raw, list) else []


def _in_force(state: WebState) -> tuple[SlaPolicies | None, str | None]:
    try:
        return policies_for(state.settings), None
    except ConfigError as exc:
        return None, exc.message


@dataclass(frozen=True)
class Card:
    """One policy or window on the page: its place, what goodwill reads, what its form shows."""

    index: int
    parsed: Any
    values: dict[str, str]


def _cards(
    part: str, parsed: Sequence[Any], tables: list[dict[str, Any]], *, from_file: bool
) -> list[Card]:
    count = len(parsed) if from_file else len(tables)
    return [
        Card(
            i,
            parsed[i] if i < len(parsed) else None,
            form_from_table(part, tables[i]) if i < len(tables) else {},
        )
        for i in range(count)
    ]


def page_context(
    request: Request, state: WebState, *, editing: Editing | None = None
) -> dict[str, Any]:
    where, path = origin(state.settings, "sla")
    policies, problem = _in_force(state)
    document = saved_document(state.settings, "sla")
    from_file = where == "file"
    parsed = {
        "policy": policies.policies if policies else (),
        "critical_window": policies.windows if policies else (),
    }
    warn = policies.warn_fraction if policies else DEFAULT_WARN_FRACTION
    return {
        "section": "settings",
        "origin": where,
        "file": path,
        "problem": problem,
        "cards": {
            part: _cards(part, parsed[part], _tables(document, part), from_file=from_file)
            for part in FIELDS
        },
        "field_names": FIELDS,
        "warn_at": round(warn * 100),
        "editing": editing,
        "page_flash": pop_flash(request),
        "words": sla_words,
    }


def _show(request: Request, state: WebState, editing: Editing, status: int) -> Response:
    context = page_context(request, state, editing=editing)
    return render(request, "settings_sla.html", context, status=status)


@router.get(PATH)
def sla_page(request: Request, staff: PageStaff, state: State) -> Response:
    check(staff.role, "settings.change", "change response targets")
    return render(request, "settings_sla.html", page_context(request, state))


def _save(
    request: Request,
    staff: Staff,
    db: Session,
    state: WebState,
    document: Mapping[str, Any],
    editing: Editing,
    done: str,
) -> Response:
    """Check and save ``document``; back to the form with the error beside its field if wrong."""
    try:
        save_sla(db, state.settings, document, actor=actor(request, staff), now=state.now())
    except Conflict as exc:
        db.rollback()
        editing.errors["form"] = exc.message
        return _show(request, state, editing, 409)
    except ConfigError as exc:
        db.rollback()
        part, index, name, detail = where_wrong(exc)
        if part == editing.part and index == _position(editing, document):
            editing.errors[name] = detail  # beside the field of the form that was sent
        elif part is None and name in editing.values:
            editing.errors[name] = detail
        elif part is None:
            editing.errors["form"] = f"{name}: {detail}"
        else:
            editing.errors["form"] = f"{_label(part, index, document)}, {name}: {detail}"
        return _show(request, state, editing, 422)
    state.refresh(db)
    log.info("SLA policies changed on the page by staff user %s", staff.id)
    request.session[FLASH_KEY] = done
    return RedirectResponse(PATH, status_code=303)


def _position(editing: Editing, document: Mapping[str, Any]) -> int:
    """Where the edited table sits in the candidate (an added one goes last)."""
    if editing.index is not None:
        return editing.index
    return len(_tables(document, editing.part)) - 1


def _label(part: str | None, index: int | None, document: Mapping[str, Any]) -> str:
    """Another table named in words: ``the policy "gold"``, ``critical window 2``."""
    tables = _tables(document, part or "")
    if part == "policy" and index is not None and index < len(tables):
        return f'the policy "{tables[index].get("name", "")}"'
    return f"{(part or '').replace('_', ' ')} {(index or 0) + 1}"


@router.post(PATH)
def save_warning(
    request: Request, staff: PageStaff, db: Db, state: State, warn_at: Text = ""
) -> Response:
    """The warning point, in percent of the target."""
    check(staff.role, "settings.change", "change response targets")
    document = saved_document(state.settings, "sla")
    editing = Editing("warn", None, {"warn_at": warn_at})
    percent = warn_at.strip().rstrip("%").strip()
    if not percent.isdigit() or not 0 < int(percent) < 100:
        editing.errors["warn_at"] = f"{warn_at!r} is not a whole percentage from 1 to 99, e.g. 75"
        return _show(request, state, editing, 422)
    document["warn_at"] = int(percent) / 100
    done = f"Warnings now come when {percent}% of the time is used."
    return _save(request, staff, db, state, document, editing, done)


async def _typed(request: Request, part: str) -> tuple[int | None, bool, dict[str, str]]:
    """(position or None to add, whether to delete, the fields as typed) of a part's form."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value[:MAX_FIELD] if isinstance(value, str) else ""

    index = text("index").strip()
    if index and not index.isdigit():
        raise InvalidInput(f"index: {index!r} is not a position in the list", field="index")
    values = {name: text(name) for name in FIELDS[part]}
    return (int(index) if index else None), text("delete") == "1", values


async def _change_part(
    request: Request, staff: Staff, db: Session, state: WebState, part: str
) -> Response:
    """Add a policy or window (no index), change the one at ``index``, or delete it."""
    check(staff.role, "settings.change", "change response targets")
    position, delete, values = await _typed(request, part)
    document = saved_document(state.settings, "sla")
    tables = _tables(document, part)
    editing = Editing(part, position, values)
    if position is not None and position >= len(tables):
        editing.errors["form"] = "That one is gone: the list changed since the page was shown."
        return _show(request, state, editing, 409)
    what = "policy" if part == "policy" else "critical window"
    if delete and position is not None:
        gone = tables.pop(position)
        done = f"Deleted the {what} {gone.get('name') or gone.get('client') or ''}".strip()
    else:
        table = table_from_form(part, values)
        if position is None:
            tables.append(table)
        else:
            tables[position] = table
        verb = "Added" if position is None else "Saved"
        done = f"{verb} the {what} {table.get('name') or table.get('client') or ''}".strip()
    document[part] = tables
    return _save(request, staff, db, state, document, editing, done + ".")


@router.post(PATH + "/policy")
async def change_policy(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    return await _change_part(request, staff, db, state, "policy")


@router.post(PATH + "/window")
async def change_window(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    return await _change_part(request, staff, db, state, "critical_window")

"""The owner's settings page: every setting an owner would change, each with where its value
comes from, saved section by section into the store (actions/page_settings.py) and in force on
the next request. A value the file or an environment variable sets is shown, not editable: the
file wins, so a deployment stays what its file says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions import page_settings as page_actions
from goodwill.errors import ConfigError, NotFound
from goodwill.settings import Settings
from goodwill.settings_form import (
    SECTION_BY_SLUG,
    SECTIONS,
    Section,
    check_calendar,
    in_force,
    lookup,
    place,
    read,
    shown,
)
from goodwill.settings_layers import check_page_value, source_of
from goodwill.store import page_settings
from goodwill.store.models import StaffUser
from goodwill.web.auth import PageStaff, Staff
from goodwill.web.document_edits import require_owner
from goodwill.web.pages.privacy import actor_of
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

router = APIRouter(include_in_schema=False)

#: The longest answer one field takes (tiers and holiday lists are the long ones).
MAX_ANSWER = 4000

#: Pages of their own, linked from the settings page.
ELSEWHERE = (
    ("/settings/mail", "Mail", "How mail reaches clients and reaches you; send a test."),
    ("/settings/sla", "Response targets", "How soon each kind of client gets an answer."),
    ("/settings/rota", "On-call rota", "Who answers out of hours."),
    ("/settings/recovery", "Recovery options", "What staff may offer to make things right."),
    (
        "/settings/listening",
        "Questions and themes",
        "What clients are asked, and the words that find what they value.",
    ),
    ("/playbook", "Playbook", "Which touch points make which follow-ups; automated sending."),
    ("/users", "Staff", "Invite people, change roles, switch accounts off."),
)


def _staff_choices(db: Session) -> tuple[tuple[str, str], ...]:
    rows = db.execute(
        select(StaffUser.email, StaffUser.name).where(StaffUser.active).order_by(StaffUser.email)
    ).all()
    return tuple((email, f"{name} ({email})" if name else email) for email, name in rows)


def setting_rows(
    db: Session,
    settings: Settings,
    section: Section,
    answers: Mapping[str, str] | None,
    saved: Mapping[str, tuple[str | None, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Each field of ``section`` with its value (or the answer given), where it comes from and
    whether the file or the environment fixes it."""
    saved = page_settings.saved_by(db) if saved is None else saved
    people = _staff_choices(db) if section.slug == "people" else ()
    rows = []
    for field in section.fields:
        source = source_of(settings, field.dotted)
        if field.dotted.startswith("calendar.") and not isinstance(
            settings.calendar, dict | type(None)
        ):
            source = "file"  # a calendar file decides every opening hour
        value = in_force(settings, field)
        by = saved.get(field.key) if source == "page" else None
        rows.append(
            {
                "field": field,
                "value": answers.get(field.name, "")
                if answers is not None
                else shown(field, value),
                "source": source,
                "locked": source in ("file", "environment"),
                "saved_by": by,
                "choices": people if section.slug == "people" else field.choices,
            }
        )
    return rows


def _page(
    request: Request,
    db: Session,
    state: WebState,
    *,
    problems: dict[str, str] | None = None,
    answers: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response:
    settings = state.settings
    saved = page_settings.saved_by(db)
    sections = [
        {
            "section": section,
            "rows": setting_rows(
                db, settings, section, answers if section.slug == failed else None, saved
            ),
        }
        for section in SECTIONS
    ]
    context = {
        "sections": sections,
        "problems": problems or {},
        "failed": failed,
        "saved": request.query_params.get("saved"),
        "elsewhere": ELSEWHERE,
        "file": settings.config_path,
        "calendar_file": settings.calendar if not isinstance(settings.calendar, dict) else None,
        "problem": state.live.problem,
        "section": "settings",
    }
    return render(request, "settings.html", context, status=status)


@router.get("/settings")
def settings_page(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    require_owner(staff)
    return _page(request, db, state)


@router.post("/settings/section/{slug}")
async def save_section(
    request: Request, slug: str, db: Db, state: State, staff: PageStaff
) -> Response:
    """Save one section; on any problem nothing of it is saved and the answers stay."""
    require_owner(staff)
    section = SECTION_BY_SLUG.get(slug)
    if section is None:
        raise NotFound(f"no settings section {slug!r}")
    form = await request.form()
    answers = {f.name: str(form.get(f.name) or "")[:MAX_ANSWER] for f in section.fields}
    problems = save_answers(request, db, state, staff, section, answers)
    if problems:
        return _page(
            request, db, state, problems=problems, answers=answers, failed=slug, status=422
        )
    return RedirectResponse(f"/settings?saved={slug}#{slug}", status_code=303)


def save_answers(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    section: Section,
    answers: Mapping[str, str],
    *,
    required: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Read each answer as the file would hold it, check it as the file's values are checked,
    and save the section's settings; the problems by field (nothing saved when there are any).
    ``required``: fields that may not be left empty, with what to say when they are."""
    settings = state.settings
    page = page_settings.stored(db)
    problems: dict[str, str] = {
        dotted: words
        for dotted, words in (required or {}).items()
        if not answers.get(dotted.replace(".", "__"), "").strip()
    }
    changed = dict(page)
    for field in section.fields:
        source = source_of(settings, field.dotted)
        if source in ("file", "environment"):
            continue
        try:
            value = read(field, answers.get(field.name, ""))
        except ConfigError as exc:
            problems[field.dotted] = exc.message
            continue
        if source == "default" and field.key != "calendar" and value == in_force(settings, field):
            continue  # left as it was: the default stays a default (a calendar is saved whole)
        changed = place(changed, field, value)
    keys = sorted({field.key for field in section.fields})
    problems = {**_on_fields(_check(changed, keys, settings), section), **problems}
    if problems:
        return problems
    actor = actor_of(request, staff)
    now = state.now()
    try:
        for key in keys:
            if changed.get(key) != page.get(key):
                page_actions.change(db, settings, key, changed.get(key), actor=actor, now=now)
                page[key] = changed.get(key)
    except ConfigError as exc:  # a clash with what the file says
        db.rollback()
        return {_field_of(exc, section): _words(exc)}
    state.refresh(db)
    return {}


def _check(changed: dict[str, Any], keys: list[str], settings: Settings) -> dict[str, str]:
    problems: dict[str, str] = {}
    for key in keys:
        try:
            check_page_value(key, changed.get(key))
            if key == "calendar":
                timezone = changed.get("timezone") or settings.timezone
                check_calendar(lookup(changed, "calendar"), str(timezone))
        except ConfigError as exc:
            problems[str(exc.fields.get("key") or key)] = _words(exc)
    return problems


def _on_fields(problems: dict[str, str], section: Section) -> dict[str, str]:
    """Each problem beside a field of the section: a table's problem (``tiers``, ``cadence``)
    beside its first field."""
    out: dict[str, str] = {}
    for key, message in problems.items():
        out[_field_of_key(key, section)] = message
    return out


def _field_of(exc: ConfigError, section: Section) -> str:
    return _field_of_key(str(exc.fields.get("key") or ""), section)


def _field_of_key(key: str, section: Section) -> str:
    names = [field.dotted for field in section.fields]
    if key in names:
        return key
    near = [name for name in names if name.startswith(key + ".") or key.startswith(name + ".")]
    head = [name for name in names if name.split(".")[0] == key.split(".")[0]]
    return (near or head or names)[0]


def _words(exc: ConfigError) -> str:
    """The file's message without the "settings page: " it starts with."""
    return exc.message.removeprefix("settings page: ")

"""The questions clients are asked and the themes their answers are read for, on the settings
page: each question's words and each theme's phrases changed, added or removed, and the way back
to the shipped ones.

Saved as ``page["questions"]`` and ``page["themes"]`` in the files' shapes, checked by the files'
own readers first; the next question asked and the next answer stored use what was saved. A file
named by ``feedback.questions`` or ``feedback.themes`` wins: the page then shows it and changes
nothing of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.feedback import InForce, in_force
from goodwill.actions.topics import theme_from_topic
from goodwill.domain.questions import parse_questions
from goodwill.domain.themes import parse_themes
from goodwill.errors import ConfigError, NotFound
from goodwill.store import page_settings
from goodwill.web.auth import PageStaff
from goodwill.web.document_edits import Document, answer, forget, listed, require_owner, save, why
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

router = APIRouter(include_in_schema=False)

QUESTIONS = Document(
    "questions", "question", "key", lambda doc: parse_questions(doc, source="settings page")
)
THEMES = Document("themes", "theme", "key", lambda doc: parse_themes(doc, source="settings page"))
#: The page's two documents by the word in their addresses.
DOCUMENTS = {"question": QUESTIONS, "theme": THEMES}
#: The fields of each form, as the files name them.
FIELDS = {
    "question": ("key", "text"),
    "theme": ("key", "label", "description", "phrases", "except"),
}
#: What the add form is called when it fails.
NEW = "+new"


def _form_values(table: dict[str, Any]) -> dict[str, str]:
    """A question's or a theme's table as its form shows it (lists one phrase a line)."""
    return {
        name: "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for name, value in table.items()
    }


def _table_of(part: str, form: Any) -> dict[str, Any]:
    """The question or theme the form describes, as the file would hold it."""
    if part == "question":
        return {"key": answer(form, "key").strip(), "text": " ".join(answer(form, "text").split())}
    table: dict[str, Any] = {"key": answer(form, "key").strip()}
    label = answer(form, "label").strip()
    if label:
        table["label"] = label
    description = answer(form, "description").strip()
    if description:
        table["description"] = description
    table["phrases"] = listed(answer(form, "phrases"))
    exceptions = listed(answer(form, "except"))
    if exceptions:
        table["except"] = exceptions
    return table


def _part(part: str) -> Document:
    found = DOCUMENTS.get(part)
    if found is None:
        raise NotFound(f"nothing called {part!r} on this page")
    return found


def _section(
    db: Session, state: WebState, part: str, failed: tuple[str, str] | None, answers: Any
) -> dict[str, Any]:
    kind = DOCUMENTS[part]
    trouble = None
    try:
        found = in_force(state.settings, kind.key)
    except ConfigError as exc:  # a file that cannot be read: the page says why
        found, trouble = InForce("file", {}, state.settings.feedback.get(kind.key)), exc.message
    items = []
    for n, table in enumerate(kind.tables(found.document), 1):
        mine = failed == (part, table.get("key")) and answers is not None
        items.append(
            {
                "n": n,
                "table": table,
                "form": answers if mine else _form_values(table),
                "failed": mine,
            }
        )
    return {
        "found": found,
        "items": items,
        "new": answers if failed == (part, NEW) else {},
        "new_failed": failed == (part, NEW),
        "saved_by": page_settings.saved_by(db).get(kind.key) if found.where == "page" else None,
        "trouble": trouble,
    }


def _page(
    request: Request,
    db: Session,
    state: WebState,
    *,
    failed: tuple[str, str] | None = None,
    answers: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "settings",
        "questions": _section(db, state, "question", failed, answers),
        "themes": _section(db, state, "theme", failed, answers),
        "problems": problems or {},
        "problem": problem,
        "flash": request.query_params.get("saved"),
    }
    return render(request, "settings_listening.html", context, status=status)


def _file_wins(request: Request, db: Session, state: WebState, kind: Document) -> Response | None:
    path = state.settings.feedback.get(kind.key)
    if path is None:
        return None
    words = f"The {kind.key} come from {path}; change them there."
    return _page(request, db, state, problem=words, status=409)


def _editable(state: WebState, kind: Document) -> dict[str, Any]:
    return in_force(state.settings, kind.key).document


@router.get("/settings/listening")
def listening_settings(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    require_owner(staff)
    return _page(request, db, state)


@router.post("/settings/listening/{part}")
async def save_item(
    request: Request, part: str, db: Db, state: State, staff: PageStaff
) -> Response:
    """Change one question or theme (``original`` names it) or add one (``original`` empty);
    an existing one keeps its key, which past answers and playbook rules name."""
    require_owner(staff)
    kind = _part(part)
    if refused := _file_wins(request, db, state, kind):
        return refused
    form = await request.form()
    original = answer(form, "original")
    base = _editable(state, kind)
    if not any(t.get("key") == original for t in kind.tables(base)):
        original = ""
    table = _table_of(part, form)
    if original:
        table["key"] = original
    problem = save(request, db, state, staff, kind, kind.put(base, original, table))
    if problem is None:
        return RedirectResponse(f"/settings/listening?saved={part}#{part}s", status_code=303)
    field = _field_of(problem, part)
    shown = {name: answer(form, name) for name in FIELDS[part]} | {"key": table["key"]}
    return _page(
        request,
        db,
        state,
        failed=(part, original or NEW),
        answers=shown,
        problems={field: why(problem, field)} if field else {},
        problem=None if field else why(problem, None),
        status=422,
    )


def _field_of(problem: ConfigError, part: str) -> str | None:
    field = problem.fields.get("field")
    return str(field) if field in FIELDS[part] else None


@router.post("/settings/listening/{part}/remove")
async def remove_item(
    request: Request, part: str, db: Db, state: State, staff: PageStaff
) -> Response:
    require_owner(staff)
    kind = _part(part)
    if refused := _file_wins(request, db, state, kind):
        return refused
    key = answer(await request.form(), "key")
    problem = save(request, db, state, staff, kind, kind.drop(_editable(state, kind), key))
    if problem is not None:
        words = f"{key!r} is still there: {why(problem, None)}"
        return _page(request, db, state, problem=words, status=422)
    return RedirectResponse(f"/settings/listening?saved=removed#{part}s", status_code=303)


@router.post("/settings/listening/{part}/reset")
def reset_items(request: Request, part: str, db: Db, state: State, staff: PageStaff) -> Response:
    """Back to the shipped questions or themes."""
    require_owner(staff)
    kind = _part(part)
    if refused := _file_wins(request, db, state, kind):
        return refused
    forget(request, db, state, staff, kind)
    return RedirectResponse(f"/settings/listening?saved=shipped#{part}s", status_code=303)


@router.post("/listening/topics/promote")
async def promote_topic(request: Request, db: Db, state: State, staff: PageStaff) -> Response:
    """A topic found in what clients said becomes a named theme, its phrases as the theme's
    words: saved into the themes kept on this page, audited like any change here."""
    require_owner(staff)
    if refused := _file_wins(request, db, state, THEMES):
        return refused
    form = await request.form()
    table = theme_from_topic(
        state.settings, listed(answer(form, "phrases")), label=answer(form, "label") or None
    )
    base = _editable(state, THEMES)
    problem = save(request, db, state, staff, THEMES, THEMES.put(base, "", table))
    if problem is not None:
        return _page(request, db, state, problem=why(problem, None), status=422)
    return RedirectResponse(f"/listening?promoted={table['key']}#topics", status_code=303)

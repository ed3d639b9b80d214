"""The import page: upload a file, preview its dry run, confirm, watch it land, undo it.

The owner uploads; detection names the profile that fits (or the owner picks one), a dry run in
the background says what the file would create and which rows are wrong, and Confirm starts the
real import. Its progress is read from the store, so the page survives a reload and shows the same
in every browser. Staff may look; uploading, confirming and undoing are the owner's. While a run
goes on, htmx asks for the progress fragment every second (the same URL, with ``HX-Request``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.import_headers import detect_file, load_profiles
from goodwill.domain.access import Ability, check
from goodwill.domain.records import FileKind
from goodwill.errors import InvalidInput
from goodwill.store.imports_log import get_import, import_history, undo_import
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.import_jobs import ImportJobs, Preview, Reading
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: Imports listed on the page, newest first.
HISTORY_ROWS = 100
#: Row errors shown on a page; the rest are counted (a file can be wrong on every line).
ERROR_ROWS = 500
KIND_PREFIX = "kind:"
KIND_TITLES = {
    FileKind.CLIENTS: "goodwill clients file",
    FileKind.PURCHASES: "goodwill purchases file",
    FileKind.PAYMENTS: "goodwill payments file",
}
ENTITIES = ("clients", "orders", "invoices", "payments", "refunds")
#: What undo counts, in the order people think of them, as they say them: (key, one, many).
COUNT_WORDS = (
    ("clients", "client", "clients"),
    ("orders", "order", "orders"),
    ("lines", "order line", "order lines"),
    ("refunds", "refund", "refunds"),
    ("invoices", "invoice", "invoices"),
    ("payments", "payment", "payments"),
    ("events", "timeline entry", "timeline entries"),
)
STATUS_WORDS = {
    "queued": "waiting",
    "running": "running",
    "done": "done",
    "failed": "failed",
    "undone": "undone",
}


def get_jobs(request: Request) -> ImportJobs:
    jobs = request.app.state.import_jobs
    assert isinstance(jobs, ImportJobs)
    return jobs


Jobs = Annotated[ImportJobs, Depends(get_jobs)]


def check_may(staff: Staff, ability: Ability, doing: str) -> None:
    """Refuse (403) unless the user's role allows ``ability`` (goodwill.domain.access)."""
    check(staff.role, ability, doing)


def _partial(request: Request) -> bool:
    """An htmx poll for the progress fragment (a history restore needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def size_words(count: int) -> str:
    """Bytes as people read them: ``820 B``, ``14.2 kB``, ``3.1 MB``."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def count_words(counts: Mapping[str, int]) -> str:
    """``{"clients": 3, "orders": 1}`` as ``3 clients, 1 order`` (zeros left out)."""
    known = {key for key, _, _ in COUNT_WORDS}
    parts = [
        f"{counts[key]} {one if counts[key] == 1 else many}"
        for key, one, many in COUNT_WORDS
        if counts.get(key)
    ]
    parts += [f"{n} {key}" for key, n in counts.items() if n and key not in known]
    return ", ".join(parts)


def percent(done: int, total: int) -> int:
    return 100 if total <= 0 else max(0, min(100, done * 100 // total))


def _choices(state: WebState) -> list[tuple[str, str]]:
    """The form's "read as" options after detection: every profile, then goodwill's own files."""
    profiles = load_profiles(state.settings)
    named = sorted(((name, p.title) for name, p in profiles.items()), key=lambda c: c[1].lower())
    own = [(KIND_PREFIX + kind.value, title) for kind, title in KIND_TITLES.items()]
    return named + own


def _reading(value: str, state: WebState) -> Reading | None:
    """How the form asked to read the file (None: detect it from the header row)."""
    if not value:
        return None
    if value.startswith(KIND_PREFIX):
        kind = value.removeprefix(KIND_PREFIX)
        if kind in {k.value for k in FileKind}:
            return Reading(KIND_TITLES[FileKind(kind)], kind=FileKind(kind))
    profiles = load_profiles(state.settings)
    if value in profiles:
        return Reading(profiles[value].title, profile=value)
    raise InvalidInput(f"there is no import profile named {value!r}", field="profile")


def _detected(state: WebState, path: Path) -> Reading:
    found = detect_file(state.settings, path)
    return Reading(found.profile.title, reason=found.reason)


def _page_context(db: Session, state: WebState, staff: Staff) -> dict[str, Any]:
    return {
        "section": "imports",
        "history": import_history(db, limit=HISTORY_ROWS),
        "choices": _choices(state),
        "chosen": "",
        "upload_error": None,
        "page_flash": None,
        "local": _local_time(state),
        "status_words": STATUS_WORDS,
        "may_import": staff.may("imports.run"),
    }


def _local_time(state: WebState) -> Any:
    zone = state.settings.zone

    def local(value: datetime | None) -> str:
        return "—" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"

    return local


def _shared(state: WebState, staff: Staff) -> dict[str, Any]:
    """What the preview and run fragments both use."""
    return {
        "section": "imports",
        "size_words": size_words,
        "percent": percent,
        "entities": ENTITIES,
        "error_rows": ERROR_ROWS,
        "local": _local_time(state),
        "status_words": STATUS_WORDS,
        "may_import": staff.may("imports.run"),
        "page_flash": None,
    }


@router.get("/imports")
def imports_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    context = _page_context(db, state, staff)
    context["page_flash"] = pop_flash(request)
    return render(request, "imports.html", context)


@router.post("/imports")
def upload(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    jobs: Jobs,
    file: Annotated[UploadFile | None, File()] = None,
    profile: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Save the file, check it can be read, start its dry run; then to the preview."""
    check_may(staff, "imports.run", "import files")
    saved: Path | None = None
    try:
        reading = _reading(profile, state)
        if file is None or not file.filename:
            raise InvalidInput("choose a file to import", field="file")
        saved = jobs.save(file.file, file_name=file.filename)
        if reading is None:
            reading = _detected(state, saved)
        preview = jobs.start_preview(saved, reading=reading, user=staff.email, now=state.now())
    except InvalidInput as error:
        if saved is not None:
            jobs.discard(saved)
        context = _page_context(db, state, staff)
        message = error.message.replace(str(saved), saved.name) if saved else error.message
        context.update(chosen=profile, upload_error=message)
        return render(request, "imports.html", context, status=422)
    except BaseException:
        if saved is not None:
            jobs.discard(saved)  # whatever went wrong, no upload is left behind
        raise
    log.info("import preview %s started by staff user %s", preview.token[:8], staff.id)
    return RedirectResponse(f"/imports/preview/{preview.token}", status_code=303)


@router.get("/imports/preview/{token}")
def preview_page(
    request: Request, staff: PageStaff, state: State, jobs: Jobs, token: str
) -> Response:
    preview = jobs.preview(token)
    if preview.import_id is not None:
        target = f"/imports/{preview.import_id}"
        if _partial(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    context = _shared(state, staff) | {"p": preview, "s": preview.summary}
    if _partial(request):
        return render(request, "_import_preview.html", context)
    return render(request, "import_preview.html", context)


@router.post("/imports/preview/{token}/confirm")
def confirm(request: Request, staff: PageStaff, state: State, jobs: Jobs, token: str) -> Response:
    check_may(staff, "imports.run", "import files")
    who = actor(request, staff)
    import_id = jobs.confirm(token, user=staff.email, now=state.now(), actor=who)
    log.info("import %s confirmed by staff user %s", import_id, staff.id)
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


@router.post("/imports/preview/{token}/cancel")
def cancel(request: Request, staff: PageStaff, jobs: Jobs, token: str) -> Response:
    check_may(staff, "imports.run", "import files")
    preview: Preview = jobs.preview(token)
    jobs.cancel(token)
    request.session[FLASH_KEY] = f"Cancelled: {preview.file_name} was not imported."
    return RedirectResponse("/imports", status_code=303)


@router.post("/imports/{import_id:id}/cancel")
def cancel_import(request: Request, staff: PageStaff, jobs: Jobs, import_id: int) -> Response:
    """Stop a running import at its next row; what it wrote stays (importing again completes
    it, writing nothing twice)."""
    check_may(staff, "imports.run", "cancel imports")
    jobs.cancel_import(import_id)
    log.info("import %s cancelled by staff user %s", import_id, staff.id)
    request.session[FLASH_KEY] = "Cancelled: the import stops at its next row."
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


@router.get("/imports/{import_id:id}")
def run_page(request: Request, staff: PageStaff, db: Db, state: State, import_id: int) -> Response:
    record = get_import(db, import_id)
    context = _shared(state, staff) | {"r": record, "s": record.summary or {}}
    if _partial(request):
        return render(request, "_import_run.html", context)
    profiles = load_profiles(state.settings)
    context["titles"] = {name: profile.title for name, profile in profiles.items()}
    context["page_flash"] = pop_flash(request)
    return render(request, "import_run.html", context)


@router.post("/imports/{import_id:id}/undo")
def undo(request: Request, staff: PageStaff, db: Db, state: State, import_id: int) -> Response:
    check_may(staff, "imports.run", "undo imports")
    report = undo_import(
        db, import_id, now=state.now(), actor=actor(request, staff)
    )  # committed before the redirect
    if report.already:
        message = "This import was already undone."
    else:
        removed = count_words(report.removed) or "nothing"
        message = f"Undone: removed {removed}."
        if report.kept:
            message += f" Kept {count_words(report.kept)} that other imports or records need."
    log.info("import %s undone by staff user %s", import_id, staff.id)
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/imports/{import_id}", status_code=303)

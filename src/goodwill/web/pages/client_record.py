"""The client record on the dashboard: add a client, edit one, archive and restore, contacts.

Forms post to themselves; with htmx the form alone comes back (errors next to their fields, or
a redirect to the client's page), without JavaScript the whole page does. Fields staff may not
change are shown but not editable; the server refuses them anyway (store/client_record.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.domain.client_record import CHANNELS, CONTACT_FIELDS, FIELDS, MANAGED, Author
from goodwill.errors import Conflict, InvalidInput, NotAllowed
from goodwill.store import client_record as records
from goodwill.store.models import Client
from goodwill.store.queries import find_client
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.rendering import client_url, render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

#: The longest value a form field takes (the longest is a list of other emails or phones).
MAX_FIELD = 8000


def record_buttons(db: Session, staff: Staff, client: Client) -> dict[str, Any]:
    """What the client page's head and "About" need: the record as typed, which record
    buttons this user sees, and the archive date with the version a Restore posts."""
    return {
        "profile_record": records.record_of(db, client),
        "may_edit_record": staff.may("clients.write"),
        "may_archive": staff.may("clients.manage"),
        "archived_at": client.archived_at,
        "record_version": client.version,
    }


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def _typed(request: Request, names: frozenset[str] | tuple[str, ...]) -> dict[str, str]:
    """The form's fields among ``names`` as typed (a field not sent stays as it is)."""
    form = await request.form()
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str):
            if len(value) > MAX_FIELD:
                raise InvalidInput(f"{name}: is too long", field=name)
            out[name] = value
    return out


def _form_values(snapshot: dict[str, Any]) -> dict[str, str]:
    """A record as a form shows it: lists one per line, nothing as empty."""
    out: dict[str, str] = {}
    for field in FIELDS:
        value = snapshot.get(field)
        if isinstance(value, list):
            out[field] = "\n".join(value)
        elif field == "consent_at" and value:
            out[field] = str(value)[:10]
        else:
            out[field] = "" if value is None else str(value)
    return out


def _redirect(request: Request, url: str) -> Response:
    if _htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _context(staff: Staff, **extra: Any) -> dict[str, Any]:
    return {
        "section": "clients",
        "channels": CHANNELS,
        "may_manage": staff.may("clients.manage"),
        "managed": MANAGED,
        "errors": {},
        "holder": None,
        "holder_name": None,
        "conflict": None,
        **extra,
    }


def by_field(errors: object) -> dict[str, str]:
    """An error's ``errors`` list (field, message), as the form shows them: by field."""
    if not isinstance(errors, list):
        return {}
    return {
        str(e.get("field") or "form"): str(e.get("message", ""))
        for e in errors
        if isinstance(e, dict)
    }


def _refused(
    request: Request, name: str, context: dict[str, Any], error: InvalidInput | NotAllowed
) -> Response:
    """The form again with the errors next to their fields (htmx: the form alone, 200)."""
    fields = error.fields
    errors = by_field(fields.get("errors"))
    if not errors:
        errors = {str(fields.get("field") or "form"): error.message}
    if isinstance(error, NotAllowed):
        errors = {"form": error.message}
    holder = fields.get("holder")
    context |= {"errors": errors, "holder": holder, "holder_name": fields.get("holder_name")}
    partial = _htmx(request)
    status = 200 if partial else (403 if isinstance(error, NotAllowed) else 422)
    return render(request, f"_{name}" if partial else name, context, status=status)


@router.get("/clients/new")
def new_client_page(request: Request, staff: PageStaff) -> Response:
    staff_may_write(staff)
    form = dict.fromkeys(FIELDS, "") | {"marketing_consent": "unknown"}
    return render(request, "client_new.html", _context(staff, form=form, action="/clients/new"))


def staff_may_write(staff: Staff) -> None:
    if not staff.may("clients.write"):
        raise NotAllowed("you may not add or edit clients")


@router.post("/clients/new")
async def create_client_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    typed = await _typed(request, FIELDS)
    allowed = FIELDS if staff.may("clients.manage") else FIELDS - records.MANAGED_ON_CREATE
    given = {k: v for k, v in typed.items() if k in allowed and (v.strip() or k == "name")}
    if given.get("marketing_consent") == "unknown":
        del given["marketing_consent"]
    context = _context(staff, form=dict.fromkeys(FIELDS, "") | typed, action="/clients/new")
    try:
        client = records.create_client(
            db,
            state.settings,
            given,
            role=staff.role,
            author=Author(staff.name, staff.id),
            actor=actor(request, staff),
            source="web",
            now=state.now(),
        )
    except (InvalidInput, NotAllowed) as error:
        db.rollback()
        return _refused(request, "client_new.html", context, error)
    request.session[FLASH_KEY] = f"{client.name} added."
    return _redirect(request, client_url(records.client_ref(client)))


def _edit_context(
    db: Session, staff: Staff, client: Client, ref: str, form: dict[str, str], version: int
) -> dict[str, Any]:
    return _context(
        staff,
        form=form,
        version=version,
        client=client,
        ref=ref,
        action=client_url(ref) + "/edit",
        contacts=[records.contact_dict(c) for c in records.contacts_of(db, client.id)],
        contact_errors={},
        contact_form=dict.fromkeys(CONTACT_FIELDS, ""),
    )


@router.get("/clients/{ref:path}/edit")
def edit_client_page(request: Request, staff: PageStaff, db: Db, ref: str) -> Response:
    staff_may_write(staff)
    client = find_client(db, ref)
    form = _form_values(records.snapshot(db, client))
    return render(
        request, "client_edit.html", _edit_context(db, staff, client, ref, form, client.version)
    )


@router.post("/clients/{ref:path}/edit")
async def save_client_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str
) -> Response:
    staff_may_write(staff)
    client = find_client(db, ref)
    typed = await _typed(request, FIELDS | {"version"})
    version_text = typed.pop("version", "")
    if not staff.may("clients.manage"):
        typed = {k: v for k, v in typed.items() if k not in MANAGED}
    form = _form_values(records.snapshot(db, client)) | typed
    version = int(version_text) if version_text.isdigit() else client.version
    context = _edit_context(db, staff, client, ref, form, version)
    try:
        if not version_text.isdigit():
            raise InvalidInput("version: the form lost its version; open it again", field="form")
        moved = records.edit_client(
            db,
            state.settings,
            client,
            typed,
            version=int(version_text),
            role=staff.role,
            author=Author(staff.name, staff.id),
            actor=actor(request, staff),
            now=state.now(),
        )
    except (InvalidInput, NotAllowed) as error:
        db.rollback()
        return _refused(request, "client_edit.html", context, error)
    except Conflict as error:
        db.rollback()
        fresh = find_client(db, ref)
        context |= {
            "conflict": error.fields.get("changes") or [],
            "version": fresh.version,
            "errors": {"form": error.message.removeprefix("version: ")},
        }
        partial = _htmx(request)
        return render(
            request,
            "_client_edit.html" if partial else "client_edit.html",
            context,
            status=200 if partial else 409,
        )
    request.session[FLASH_KEY] = (
        f"Saved: {', '.join(f.replace('_', ' ') for f in moved)}." if moved else "Nothing changed."
    )
    return _redirect(request, client_url(records.client_ref(client)))


async def _version(request: Request) -> int | None:
    form = await request.form()
    value = form.get("version")
    return int(value) if isinstance(value, str) and value.isdigit() else None


@router.post("/clients/{ref:path}/archive")
async def archive_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str
) -> Response:
    return await _archive(request, staff, db, state, ref, True)


@router.post("/clients/{ref:path}/restore")
async def restore_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str
) -> Response:
    return await _archive(request, staff, db, state, ref, False)


async def _archive(
    request: Request, staff: Staff, db: Session, state: Any, ref: str, flag: bool
) -> Response:
    client = find_client(db, ref)
    records.set_archived(
        db,
        client,
        flag,
        version=await _version(request),
        role=staff.role,
        author=Author(staff.name, staff.id),
        actor=actor(request, staff),
        source="web",
        now=state.now(),
    )
    request.session[FLASH_KEY] = (
        f"{client.name} archived: out of the lists, no new follow-ups."
        if flag
        else f"{client.name} restored."
    )
    return _redirect(request, client_url(ref))


@router.post("/clients/{ref:path}/contacts")
async def add_contact_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str
) -> Response:
    client = find_client(db, ref)
    typed = await _typed(request, CONTACT_FIELDS)
    try:
        records.add_contact(
            db,
            state.settings,
            client,
            {k: v for k, v in typed.items() if v.strip() or k == "name"},
            role=staff.role,
            actor=actor(request, staff),
            now=state.now(),
        )
    except (InvalidInput, NotAllowed) as error:
        db.rollback()
        return _contact_refused(request, db, staff, ref, typed, error, None)
    request.session[FLASH_KEY] = f"Contact {typed.get('name', '').strip()} added."
    return _redirect(request, client_url(ref) + "/edit#contacts")


@router.post("/clients/{ref:path}/contacts/{contact_id:int}")
async def edit_contact_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str, contact_id: int
) -> Response:
    client = find_client(db, ref)
    typed = await _typed(request, CONTACT_FIELDS)
    try:
        records.edit_contact(
            db,
            state.settings,
            client,
            contact_id,
            typed,
            role=staff.role,
            actor=actor(request, staff),
            now=state.now(),
        )
    except (InvalidInput, NotAllowed) as error:
        db.rollback()
        return _contact_refused(request, db, staff, ref, typed, error, contact_id)
    request.session[FLASH_KEY] = "Contact saved."
    return _redirect(request, client_url(ref) + "/edit#contacts")


@router.post("/clients/{ref:path}/contacts/{contact_id:int}/remove")
def remove_contact_page(
    request: Request, staff: PageStaff, db: Db, state: State, ref: str, contact_id: int
) -> Response:
    client = find_client(db, ref)
    records.remove_contact(
        db, client, contact_id, role=staff.role, actor=actor(request, staff), now=state.now()
    )
    request.session[FLASH_KEY] = "Contact removed."
    return _redirect(request, client_url(ref) + "/edit#contacts")


def _contact_refused(
    request: Request,
    db: Session,
    staff: Staff,
    ref: str,
    typed: dict[str, str],
    error: InvalidInput | NotAllowed,
    contact_id: int | None,
) -> Response:
    """The edit page again, the refused contact form showing what was typed and why."""
    client = find_client(db, ref)
    form = _form_values(records.snapshot(db, client))
    context = _edit_context(db, staff, client, ref, form, client.version)
    errors = by_field(error.fields.get("errors"))
    if not errors or isinstance(error, NotAllowed):
        errors = {"form": error.message}
    context |= {
        "contact_errors": errors,
        "contact_id": contact_id,
        "contact_form": dict.fromkeys(CONTACT_FIELDS, "") | typed,
        "holder": error.fields.get("holder"),
        "holder_name": error.fields.get("holder_name"),
    }
    status = 403 if isinstance(error, NotAllowed) else 422
    return render(request, "client_edit.html", context, status=200 if _htmx(request) else status)

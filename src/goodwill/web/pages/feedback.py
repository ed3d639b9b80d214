"""Listening on the web: the client's personal feedback form, and answers on the client page.

The form at ``/feedback/<token>`` needs no login and sets no cookie: the token in the address is
the only credential (see ``web.csrf``). It shows the question and the business's name, nothing
else of the client. A link takes one answer; a link already answered or past its date answers
410 Gone with a page that says so, an unknown one 404. Its pages are never cached and never
indexed, and the referrer policy keeps the address from leaking to other sites.

Staff record an answer heard on a call or a visit from the client's page, and ask a client one
of the configured questions there (by mail as ``goodwill feedback ask`` does, or a link to hand
over in person); the page shows the client's answers and what they value (their themes, most
frequent first).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.actions.feedback import (
    add_answer,
    answer_link,
    ask_client,
    can_mail,
    load_questions,
    load_themes,
    question,
)
from goodwill.errors import Conflict, GoodwillError, InvalidInput, NotAllowed, NotFound
from goodwill.store.feedback import MAX_ANSWER, client_themes, list_answers, request_for_token
from goodwill.store.models import Client
from goodwill.store.queries import find_client
from goodwill.web.auth import PageStaff, actor
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.rendering import client_url, render, templates
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
#: How a staff member heard the answer.
STAFF_CHANNELS = (("call", "On a call"), ("visit", "At a visit"), ("email", "By email"))


def public_page(
    request: Request, state: WebState, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A page for a client: rendered without the session (no cookie is set, no staff shown);
    the unsubscribe page uses it too."""
    full = {
        "staff": None,
        "csrf_token": "",
        "section": None,
        "business": state.settings.business_name,
        **context,
    }
    response = templates.TemplateResponse(request, name, full, status_code=status, headers=PRIVATE)
    assert isinstance(response, HTMLResponse)
    return response


def _refused(request: Request, state: WebState, error: GoodwillError) -> HTMLResponse:
    reason = str(error.fields.get("reason", "unknown"))
    status = 404 if isinstance(error, NotFound) else 410
    return public_page(request, state, "feedback_gone.html", {"reason": reason}, status=status)


@router.get("/feedback/{token}")
def feedback_form(request: Request, db: Db, state: State, token: str) -> Response:
    try:
        found = request_for_token(db, token, now=state.now())
    except (NotFound, Conflict) as exc:
        return _refused(request, state, exc)
    return public_page(
        request,
        state,
        "feedback_form.html",
        {"question": found.question, "answer": "", "error": None, "max_answer": MAX_ANSWER},
    )


@router.post("/feedback/{token}")
def feedback_answer(
    request: Request,
    db: Db,
    state: State,
    token: str,
    answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
) -> Response:
    now = state.now()
    try:
        found = request_for_token(db, token, now=now)
        if not answer.strip():
            return public_page(
                request,
                state,
                "feedback_form.html",
                {
                    "question": found.question,
                    "answer": answer,
                    "error": "Please write a few words before sending.",
                    "max_answer": MAX_ANSWER,
                },
                status=422,
            )
        answer_id = answer_link(db, state.settings, token, answer, now=now)
    except (NotFound, Conflict) as exc:
        return _refused(request, state, exc)
    log.info("feedback answer %s given through a personal link", answer_id)
    return public_page(request, state, "feedback_thanks.html", {})


# -- on the client page ----------------------------------------------------------------------


def client_feedback(db: Session, state: WebState, client: Client) -> dict[str, Any]:
    """What the client page shows of listening: answers, what they value, the staff forms."""
    client_id = client.id
    labels = {t.key: t.label for t in load_themes(state.settings)}
    return {
        "feedback_answers": list_answers(db, client_id=client_id),
        "feedback_values": [
            (labels.get(theme, theme), count) for theme, count in client_themes(db, client_id)
        ],
        "feedback_labels": labels,
        "feedback_questions": list(load_questions(state.settings).values()),
        "feedback_channels": STAFF_CHANNELS,
        "feedback_today": state.today().isoformat(),
        "feedback_unmailed": can_mail(state.settings)
        or (None if client.email else "the client has no email address"),
        "feedback_archived": client.archived_at is not None,
    }


@router.post("/clients/{ref:path}/feedback")
def record_answer(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    question: Annotated[str, Form(max_length=2000)] = "",
    answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
    channel: Annotated[str, Form(max_length=20)] = "call",
    on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Keep an answer a staff member heard; back to the client page with a note."""
    client = find_client(db, ref)
    now = state.now()
    if channel not in {c for c, _ in STAFF_CHANNELS}:
        raise InvalidInput(f"channel {channel!r} is not one staff record", field="channel")
    answered = now
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError as exc:
            raise InvalidInput("the date must look like 2026-11-23", field="on") from exc
        if day != state.today():  # an earlier day: noon there, so the day is kept in any zone
            answered = datetime.combine(day, time(12)).replace(tzinfo=state.settings.zone)
    answer_id = add_answer(
        db,
        state.settings,
        client,
        question_text=question,
        answer=answer,
        answered_at=answered,
        channel=channel,
        recorded_by="staff",
        staff_id=staff.id,
        now=now,
    )
    log.info("feedback answer %s recorded by staff user %s", answer_id, staff.id)
    request.session[FLASH_KEY] = "Answer kept."
    return RedirectResponse(client_url(ref) + "#listening", status_code=303)


@router.post("/clients/{ref:path}/ask")
def ask_question(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    key: Annotated[str, Form(alias="question", max_length=200)] = "",
    how: Annotated[str, Form(max_length=20)] = "mail",
) -> Response:
    """Ask the client one of the configured questions now; the page that answers shows the
    link to hand over when it was not mailed, or why nothing was asked."""
    if not staff.may("feedback.record"):
        raise NotAllowed("you may not ask clients questions")
    client = find_client(db, ref)
    context: dict[str, Any] = {"section": "clients", "client": client, "ref": ref}
    try:
        asked = question(state.settings, key)
        done = ask_client(
            db,
            state.settings,
            client,
            asked,
            actor=actor(request, staff),
            in_person=how == "in_person",
            now=state.now(),
        )
    except (InvalidInput, NotFound, Conflict) as error:
        db.rollback()
        status = 409 if isinstance(error, Conflict) else 422
        refused = context | {"error": error.message}
        return render(request, "feedback_asked.html", refused, status=status, headers=PRIVATE)
    link = done.asked.link
    if link.startswith("/"):  # no public_url: the address this page was reached at
        link = str(request.base_url).rstrip("/") + link
    log.info("feedback request %s made by staff user %s", done.asked.request_id, staff.id)
    return render(
        request,
        "feedback_asked.html",
        context
        | {
            "error": None,
            "question": asked,
            "link": link,
            "unmailed": done.unmailed,
            "why": None if how == "in_person" else done.unmailed,  # chosen: no reason to give
            "until": done.asked.expires_at.astimezone(state.settings.zone).date(),
        },
        headers=PRIVATE,  # the page holds a personal link: never cached
    )

"""The month's postcards and handwritten notes on the dashboard: the batch, its CSV for the
postcard service, the printable sheet of notes, and marking it as sent.

Anyone who works follow-ups may look (``followups.own``); marking a batch as sent closes
everyone's follow-ups in it, so it takes ``followups.everyone`` (the owner or a manager). The
form carries the follow-ups the page showed, so a card that arrived since is not closed unseen.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.domain.access import check
from goodwill.domain.touch_batches import KINDS, OTHER, check_kind, parse_month
from goodwill.engine.configuration import playbook_for
from goodwill.store.touch_batches import Batch, mark_sent, month_batch
from goodwill.touch_sheets import sheet_html
from goodwill.web.auth import PageStaff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PATH = "/touches/batches"
#: The ids a "mark as sent" form may carry: a month's cards, with room to spare.
MAX_IDS_TEXT = 100_000


def _batch(db: Session, state: WebState, month: date, kind: str | None) -> Batch:
    settings = state.settings
    return month_batch(
        db, settings, playbook_for(settings), month=month, kind=kind, today=state.today()
    )


def _month(text: str, state: WebState) -> date:
    """The month asked for; this month (in the business's zone) when none is."""
    return parse_month(text) if text.strip() else state.today().replace(day=1)


def _step(month: date, by: int) -> str:
    index = month.year * 12 + month.month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@router.get(PATH)
def batch_page(
    request: Request, staff: PageStaff, db: Db, state: State, month: str = "", kind: str = ""
) -> Response:
    check(staff.role, "followups.own", "see the postcard batch")
    found = _batch(db, state, _month(month, state), check_kind(kind))
    params = {"kind": found.kind}
    return render(
        request,
        "touch_batches.html",
        {
            "section": "today",
            "batch": found,
            "kinds": [*KINDS.values(), OTHER],
            "csv_url": query_url(f"{PATH}/{found.key}.csv", params),
            "sheet_url": query_url(f"{PATH}/{found.key}/sheet", params),
            "sent_url": f"{PATH}/{found.key}/sent",
            "previous_url": query_url(PATH, {"month": _step(found.month, -1), **params}),
            "next_url": query_url(PATH, {"month": _step(found.month, 1), **params}),
            "may_mark": staff.may("followups.everyone"),
            "ids": ",".join(str(i) for i in found.followup_ids),
            "page_flash": pop_flash(request),
        },
    )


@router.get(PATH + "/{month}.csv")
def batch_csv(staff: PageStaff, db: Db, state: State, month: str, kind: str = "") -> Response:
    """The postcards as the CSV postcard services take (UTF-8, a header line)."""
    check(staff.role, "followups.own", "download the postcard batch")
    found = _batch(db, state, parse_month(month), check_kind(kind))
    name = f"postcards-{found.key}{f'-{found.kind}' if found.kind else ''}.csv"
    return Response(
        found.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(PATH + "/{month}/sheet")
def batch_sheet(staff: PageStaff, db: Db, state: State, month: str, kind: str = "") -> Response:
    """The handwritten notes, one card per client, to print."""
    check(staff.role, "followups.own", "see the notes to write")
    found = _batch(db, state, parse_month(month), check_kind(kind))
    back = query_url(PATH, {"month": found.key, "kind": found.kind})
    html = sheet_html(
        found,
        business=state.settings.business_name,
        stylesheet="/static/touch-sheet.css",
        back=back,
    )
    return HTMLResponse(html)


@router.post(PATH + "/{month}/sent")
def batch_sent(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    month: str,
    kind: Annotated[str, Form(max_length=40)] = "",
    ids: Annotated[str, Form(max_length=MAX_IDS_TEXT)] = "",
) -> Response:
    """Close the follow-ups the page showed as sent; those closed already stay as they are."""
    check(staff.role, "followups.everyone", "mark a batch as sent")
    shown = {int(i) for i in ids.split(",") if i.strip().isdigit()}
    found = _batch(db, state, parse_month(month), check_kind(kind)).only(shown)
    closed = mark_sent(db, found, actor=actor(request, staff), now=state.now())
    log.info("touch batch %s marked as sent by staff user %s", found.key, staff.id)
    request.session[FLASH_KEY] = (
        f"Marked as sent: {closed} follow-up{'' if closed == 1 else 's'} closed."
        if closed
        else "Nothing left to mark: this batch was already marked as sent."
    )
    return RedirectResponse(query_url(PATH, {"month": found.key, "kind": found.kind}), 303)

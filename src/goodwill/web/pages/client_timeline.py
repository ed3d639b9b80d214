"""The timeline on a client's page: the filter by kind and the "older entries" link.

The client page shows the newest page; a filter or the older link fetches the timeline alone
(htmx) from ``/clients/{ref}/timeline``. Without JavaScript the same links open the client page
with ``kind`` and ``before`` in the address, so every page of the history has its own URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.domain.timeline import FILTERS, Link
from goodwill.store.models import Client
from goodwill.store.queries import find_client
from goodwill.store.timeline import FollowUpLink, TimelineEntry, timeline
from goodwill.web.auth import PageStaff
from goodwill.web.followup_words import event_words
from goodwill.web.rendering import client_url, query_url, render
from goodwill.web.state import Db

router = APIRouter(include_in_schema=False)

#: Entries per page: a screenful or two, so a twenty-year client's page stays fast and short.
PAGE_SIZE = 50
LABELS = {
    "order.placed": "Purchase",
    "invoice.issued": "Invoice",
    "payment.received": "Payment",
    "order.refunded": "Refund",
    "message.received": "Message",
    "reply.sent": "Reply",
    "sla.breach": "Response target",
    "service.interaction": "Call or visit",
    "note.added": "Note",
    "fact.added": "Fact",
    "client.life_event": "A day to remember",
    "incident.opened": "Incident",
    "incident.resolved": "Incident",
    "feedback.answered": "Feedback",
    "followup.done": "Follow-up",
    "followup.closed": "Follow-up",
    "client.created": "Record",
    "client.archived": "Record",
    "client.restored": "Record",
    "client.merged": "Record",
    "client.unsubscribed": "Consent",
}


def entry_label(entry_type: str) -> str:
    """A short label above each entry; touch points the engine derived are put into words."""
    label = LABELS.get(entry_type) or event_words(entry_type)
    return label[:1].upper() + label[1:]


def timeline_context(
    db: Session, client: Client, ref: str, *, kind: str | None = None, before: str | None = None
) -> dict[str, Any]:
    """What ``_client_timeline.html`` needs: a page of entries and the links around it."""
    page = timeline(db, client, kind=kind, before=before, limit=PAGE_SIZE)
    base = client_url(ref)

    def page_url(chosen: str, cursor: str | None = None) -> str:
        kept = {"kind": chosen if chosen != "all" else None, "before": cursor}
        return query_url(base, kept)

    def part_url(chosen: str, cursor: str | None = None) -> str:
        kept = {"kind": chosen if chosen != "all" else None, "before": cursor}
        return query_url(base + "/timeline", kept)

    def link_url(entry: TimelineEntry) -> str | None:
        return _link(entry.link, base)

    def followup_url(f: FollowUpLink) -> str:
        if f.cursor is None:
            return f"{base}#followup-{f.id}"  # still open: the list above the timeline
        return query_url(base, {"kind": "followups", "before": f.cursor}) + f"#followup-{f.id}"

    return {
        "timeline": page,
        "timeline_filters": FILTERS,
        "timeline_before": before,
        "timeline_page_url": page_url,
        "timeline_part_url": part_url,
        "entry_link": link_url,
        "entry_label": entry_label,
        "followup_url": followup_url,
    }


def _link(link: Link | None, base: str) -> str | None:
    if link is None:
        return None
    if link.kind == "conversation":
        return f"/inbox/{link.id}"
    if link.kind == "incident":
        return f"/incidents/{link.id}"
    return None  # a follow-up's entry is where its outcome is: the entry itself


@router.get("/clients/{ref:path}/timeline")
def timeline_part(
    request: Request,
    staff: PageStaff,
    db: Db,
    ref: str,
    kind: str = "all",
    before: str | None = None,
) -> Response:
    """The timeline alone, for htmx: a filter, or the next older page appended."""
    client = find_client(db, ref)
    context = timeline_context(db, client, ref, kind=kind, before=before)
    if request.headers.get("HX-Request") != "true":
        # Someone opened the fragment's address: the page shows the same entries in full.
        target = context["timeline_page_url"](context["timeline"].kind, before) + "#timeline"
        return RedirectResponse(target, status_code=303)
    name = "_client_timeline_page.html" if before else "_client_timeline.html"
    response = render(request, name, {"ref": ref, **context})
    response.headers["Vary"] = "HX-Request"
    return response

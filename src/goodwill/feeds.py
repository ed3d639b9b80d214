"""Follow-ups as an iCalendar feed that calendar apps can subscribe to.

Google Calendar, Outlook and Apple Calendar ignore VTODO in subscribed feeds, so each follow-up
is a VEVENT: a 30-minute event at the due time (UTC), TRANSP:TRANSPARENT so it never blocks the
day, with a UID from the follow-up's permanent id and a SEQUENCE bumped on every change. Done and
closed follow-ups leave the feed; overdue ones are moved to today so they are not lost in the past.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from goodwill.store.followups import FollowUpView

DURATION = timedelta(minutes=30)


def followups_calendar(
    items: Iterable[FollowUpView], *, name: str, now: datetime, base_url: str, host: str
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//goodwill//follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT30M")
    for item in items:
        if item.status != "open":
            continue
        start = (
            max(item.due_at, now.replace(second=0, microsecond=0))
            if item.due_at < now
            else item.due_at
        )
        event = Event()
        event.add("uid", f"followup-{item.id}@{host}")
        event.add("sequence", item.sequence)
        event.add("dtstamp", now)
        event.add("last-modified", item.updated_at)
        event.add("dtstart", start)
        event.add("dtend", start + DURATION)
        event.add("transp", "TRANSPARENT")
        overdue = " (overdue)" if item.due_at < now else ""
        event.add("summary", f"{item.title}{overdue}")
        event.add(
            "description",
            f"Why: {', '.join(item.event_types) or item.reason}\n"
            f"How: {item.channel}, {item.personal_label}\n"
            f"Client: {item.client_name} ({item.client_id})\n"
            f"{base_url}/clients/{item.client_id}",
        )
        event.add("url", f"{base_url}/clients/{item.client_id}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())

"""Follow-ups as an iCalendar feed that calendar apps can subscribe to.

Google Calendar, Outlook and Apple Calendar ignore VTODO in subscribed feeds, so each follow-up
is a VEVENT: a 30-minute event at the due time (UTC), TRANSP:TRANSPARENT so it never blocks the
day, with a UID from the follow-up's permanent id and a SEQUENCE bumped on every change. Done and
closed follow-ups leave the feed; overdue ones become all-day events on today (in the business's
time zone), so they are not lost in the past and do not pile up as one stack at the current hour.
Descriptions use the same words as the Today page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from goodwill.store.followups import FollowUpView
from goodwill.web.followup_words import channel_label, event_words, reason_words

DURATION = timedelta(minutes=30)


def followups_calendar(
    items: Iterable[FollowUpView],
    *,
    name: str,
    now: datetime,
    zone: ZoneInfo,
    base_url: str,
    host: str,
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
        overdue = item.due_at < now
        event = Event()
        event.add("uid", f"followup-{item.id}@{host}")
        event.add("sequence", item.sequence)
        event.add("dtstamp", now)
        event.add("last-modified", item.updated_at)
        if overdue:
            today = now.astimezone(zone).date()
            event.add("dtstart", today)
            event.add("dtend", today + timedelta(days=1))
        else:
            event.add("dtstart", item.due_at)
            event.add("dtend", item.due_at + DURATION)
        event.add("transp", "TRANSPARENT")
        event.add("summary", f"{item.title} (overdue)" if overdue else item.title)
        why = "; ".join(event_words(kind) for kind in item.event_types)
        event.add(
            "description",
            f"Why: {_first_upper(why or reason_words(item.reason))}\n"
            f"How: {channel_label(item.channel)}, {item.personal_label}\n"
            f"Client: {item.client_name} ({item.client_id})\n"
            f"{base_url}/clients/{item.client_id}",
        )
        event.add("url", f"{base_url}/clients/{item.client_id}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]

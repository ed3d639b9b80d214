"""A client's frame for timing a follow-up: their zone, contact window and birthday."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goodwill.domain.contact_windows import parse_contact_window
from goodwill.domain.followups import ClientFrame
from goodwill.settings import Settings
from goodwill.store.models import Client

log = logging.getLogger(__name__)


def client_frame(client: Client, settings: Settings) -> ClientFrame:
    """The client's zone, contact window and birthday; a bad stored window is ignored."""
    zone = settings.zone
    if client.timezone:
        try:
            zone = ZoneInfo(client.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = settings.zone
    window = None
    if client.contact_window:
        try:
            window = parse_contact_window(client.contact_window, zone)
        except ValueError:
            log.warning("client %s has an unreadable contact window", client.id)
    birthday = (
        (client.birthday_day, client.birthday_month)
        if client.birthday_day and client.birthday_month
        else None
    )
    return ClientFrame(zone=zone, window=window, birthday=birthday)

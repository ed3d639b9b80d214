"""Bounces: a delivery status notification (RFC 3464) saying a message goodwill sent could not be
delivered, read for which message it was and what the receiving server said."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message

__all__ = ["Bounce", "read_bounce"]

#: Only the start of a message is looked at to decide whether it is a report at all.
_HEAD = 8192
_REPORT = re.compile(rb"content-type:\s*multipart/report", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")


@dataclass(frozen=True)
class Bounce:
    """The Message-IDs the report is about and the reason in the server's words."""

    message_ids: tuple[str, ...]
    reason: str


def _fields(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field groups of a message/delivery-status part."""
    payload = part.get_payload()
    groups: list[dict[str, str]] = []
    if isinstance(payload, list):  # the email package parses each group as a header block
        for block in payload:
            if isinstance(block, Message):
                groups.append({k.lower(): str(v) for k, v in block.items()})
        return groups
    text = payload if isinstance(payload, str) else ""
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        if fields:
            groups.append(fields)
    return groups


def read_bounce(raw: bytes) -> Bounce | None:
    """The failed delivery ``raw`` reports, or None when it is not a report of a failure
    (a delay warning, a successful delivery notice, ordinary mail)."""
    if not _REPORT.search(raw[:_HEAD]):
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        return None
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    reasons: list[str] = []
    ids: list[str] = []
    failed = False
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for fields in _fields(part):
                if fields.get("action", "").lower() == "failed":
                    failed = True
                    said = fields.get("diagnostic-code") or fields.get("status") or ""
                    who = fields.get("final-recipient", "").partition(";")[2].strip()
                    reasons.append(f"{who}: {said}".strip(": ") if who else said)
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            ids += _original_ids(part)
    if not failed or not ids:
        return None
    reason = "; ".join(r for r in reasons if r) or "the receiving server refused it"
    return Bounce(tuple(dict.fromkeys(ids)), " ".join(reason.split())[:1000])


def _original_ids(part: Message) -> list[str]:
    payload = part.get_payload()
    if isinstance(payload, list):  # message/rfc822: the original message, parsed
        headers = [
            str(inner.get("Message-ID", "")) for inner in payload if isinstance(inner, Message)
        ]
        return [found for value in headers for found in _MESSAGE_ID.findall(value)]
    text = payload if isinstance(payload, str) else ""
    found = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return _MESSAGE_ID.findall(found.group(1)) if found else []

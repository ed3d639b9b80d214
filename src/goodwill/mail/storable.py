"""Mail text made fit for a text column, on SQLite and PostgreSQL alike.

Mail carries whatever bytes its sender wrote: NUL characters (which PostgreSQL's text columns
refuse), bytes that are not UTF-8 (which the parser hands on as lone surrogates, and which no
database driver can encode), and ids longer than a column. Raw messages are kept as bytes;
every piece of mail text passes through :func:`storable_text` before it reaches a text column.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_ID", "storable_id", "storable_text"]

#: The longest Message-ID kept as it is (the Message-ID columns hold 998 characters).
MAX_ID = 900
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(value: str, *, limit: int | None = None) -> str:
    """``value`` with NUL characters removed and lone surrogates (undecodable bytes) replaced by
    U+FFFD, cut to ``limit`` characters when given. Linear in the length; idempotent."""
    value = value.replace("\x00", "")
    if not value.isascii():
        value = _SURROGATE.sub("\ufffd", value)
    return value if limit is None else value[:limit]


def storable_id(message_id: str) -> str:
    """A Message-ID as stored: cleaned, and one too long for the column kept as its hash, so a
    hostile or broken header cannot block a mailbox; the same id always gives the same result."""
    message_id = storable_text(message_id)
    if len(message_id) <= MAX_ID:
        return message_id
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()
    return f"{digest}@long-id.goodwill.invalid"

"""Which conversation a new message joins: the one holding the message it answers (In-Reply-To,
then References from the nearest parent back), and only when the store knows none of those ids,
a recent conversation of the same client with the same subject.

In the spirit of Jamie Zawinski's threading algorithm, but for one message at a time against what
is already stored, and tolerant of clients that drop or mangle the headers. The subject fallback
is narrow on purpose: an empty or generic subject ("Hi", "Question") never joins anything, and the
caller scopes the look-up to one client and a recent window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["GENERIC_SUBJECTS", "ThreadHeaders", "ThreadMatch", "find_thread", "normalise_subject"]

How = Literal["in-reply-to", "references", "subject", "new"]

#: Normalised subjects too common to say two messages belong together.
GENERIC_SUBJECTS = frozenset(
    {
        "hi",
        "hello",
        "hallo",
        "hey",
        "bonjour",
        "hoi",
        "question",
        "questions",
        "quick question",
        "help",
        "info",
        "information",
        "inquiry",
        "enquiry",
        "request",
        "update",
        "follow up",
        "follow-up",
        "followup",
        "thanks",
        "thank you",
        "no subject",
        "(no subject)",
        "kein betreff",
        "(kein betreff)",
        "sans objet",
        "geen onderwerp",
        "test",
        "urgent",
        "hello there",
        "message",
        "contact",
        "feedback",
    }
)

# Reply and forward markers of common clients and languages, optionally counted ("Re[2]:"),
# and list tags ("[clients]"); any number of them, in any mix.
_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:re|fwd?|fw|aw|wg|sv|vs|antw|antwort|réf|ref|tr|rv|enc|odp|pd|ynt|回复|答复|转发)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[[^\]]*\]"
    r")\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ThreadHeaders:
    """The headers of a new message that threading reads; ids carry no angle brackets."""

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class ThreadMatch:
    """The conversation a message joins (None: it starts a new one) and what decided it."""

    conversation_id: int | None
    how: How


def find_thread(
    message: ThreadHeaders,
    known: Callable[[Sequence[str]], Mapping[str, int]],
    recent_by_subject: Callable[[str], int | None],
) -> ThreadMatch:
    """The conversation ``message`` belongs to.

    ``known(ids)`` returns ``{message_id: conversation_id}`` for the ids the store holds; it is
    called once. ``recent_by_subject(key)`` returns a conversation whose normalised subject is
    ``key``, scoped by the caller to the sender's client and a recent window; it is called only
    when no id is known and the subject is neither empty nor generic.
    """
    parents = [message.in_reply_to] if message.in_reply_to else []
    parents += reversed(message.references)  # the nearest ancestor is listed last
    candidates = [i for i in dict.fromkeys(parents) if i and i != message.message_id]
    found = known(candidates) if candidates else {}
    for parent in candidates:
        if parent in found:
            how: How = "in-reply-to" if parent == message.in_reply_to else "references"
            return ThreadMatch(found[parent], how)
    key = normalise_subject(message.subject)
    if key and key not in GENERIC_SUBJECTS:
        conversation_id = recent_by_subject(key)
        if conversation_id is not None:
            return ThreadMatch(conversation_id, "subject")
    return ThreadMatch(None, "new")


def normalise_subject(text: str) -> str:
    """The subject as a thread key: reply, forward and list-tag prefixes removed, whitespace
    collapsed, case folded. ``"RE: Fwd: [Acme] Invoice  42"`` gives ``"invoice 42"``."""
    key = " ".join(text.split())
    while True:
        stripped = _PREFIX.sub("", key, count=1)
        if stripped == key:
            return key.casefold()
        key = stripped

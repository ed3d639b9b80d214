"""Which conversation a new message joins, and which conversations it shows to be one.

Jamie Zawinski's threading, one message at a time against what is stored. Every id a
conversation's messages carry is kept with it: the messages' own ids, and the ids they answer
(In-Reply-To, References) that have not arrived, as placeholders. A new message joins the
conversation holding any of its ids, its own included (a reply that came first left a
placeholder for it); when its ids sit in several conversations, it shows them to be one thread
and they merge into the earliest. So replies to the same missing root meet at the root's
placeholder, and a parent arriving after its replies pulls them together.

The subject joins only where the headers say nothing: a message with no In-Reply-To or References
joins the recent messages of the same client under the same subject, and a reply joins such a
header-less message. The relation is the same whichever message arrives first, so the
conversations do not depend on the order of delivery. An empty or generic subject ("Hi",
"Question") never joins anything; the caller scopes the look-up to one client and a window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GENERIC_SUBJECTS",
    "ThreadHeaders",
    "ThreadMatch",
    "find_thread",
    "normalise_subject",
    "subject_key",
]

How = Literal["in-reply-to", "references", "answered-before", "subject", "new"]

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

    @property
    def parents(self) -> tuple[str, ...]:
        """The ids it answers, nearest first: In-Reply-To, then References from the last."""
        found = [self.in_reply_to] if self.in_reply_to else []
        found += reversed(self.references)  # the nearest ancestor is listed last
        return tuple(i for i in dict.fromkeys(found) if i and i != self.message_id)


@dataclass(frozen=True)
class ThreadMatch:
    """The conversation a message joins (None: it starts a new one), what decided it, and the
    other conversations it links, which merge into that one (the earliest: lowest id)."""

    conversation_id: int | None
    how: How
    merged: tuple[int, ...] = ()


def find_thread(
    message: ThreadHeaders,
    known: Callable[[Sequence[str]], Mapping[str, int]],
    same_subject: Callable[[str, bool], Collection[int]],
) -> ThreadMatch:
    """The conversation ``message`` belongs to, and the conversations it merges.

    ``known(ids)`` returns ``{id: conversation_id}`` for the ids the store keeps (messages'
    own and placeholders); it is called once, with the message's own id first.
    ``same_subject(key, headerless_only)`` returns the conversations of the sender's client
    holding a message under subject ``key`` within the window (only header-less messages when
    ``headerless_only``, which is asked for a message that has headers of its own); it is
    called once, and only for a subject that is neither empty nor generic.
    """
    parents = message.parents
    found = known((message.message_id, *parents))
    key = subject_key(message.subject)
    by_subject = set(same_subject(key, bool(parents))) if key else set()
    linked = set(found.values()) | by_subject
    if not linked:
        return ThreadMatch(None, "new")
    kept = min(linked)
    merged = tuple(sorted(linked - {kept}))
    how: How = "subject"
    if message.in_reply_to in found:
        how = "in-reply-to"
    elif any(p in found for p in parents):
        how = "references"
    elif message.message_id in found:
        how = "answered-before"
    return ThreadMatch(kept, how, merged)


def subject_key(text: str) -> str | None:
    """The subject as a key that may join messages: None when empty or generic."""
    key = normalise_subject(text)
    return key if key and key not in GENERIC_SUBJECTS else None


def normalise_subject(text: str) -> str:
    """The subject as a thread key: reply, forward and list-tag prefixes removed, whitespace
    collapsed, case folded. ``"RE: Fwd: [Acme] Invoice  42"`` gives ``"invoice 42"``."""
    key = " ".join(text.split())
    while True:
        stripped = _PREFIX.sub("", key, count=1)
        if stripped == key:
            return key.casefold()
        key = stripped

"""Click tracking: which links of an outgoing mail go through the signed redirect, and which
clicks count as a person's.

Pure: the signing itself is a :class:`LinkSigner` passed in (``mail.tracked_links`` makes one
from the settings), so the rewrite can be tested with any stand-in and the worker that builds
automated mail uses the same function as the reply path.

What is rewritten: ``http``/``https`` links in the text, and the ``href`` of ``<a>`` tags in
HTML. What is left alone: links in quoted text (plain-text lines starting with ``>``, anything
inside ``<blockquote>``), since they are the client's own words and not goodwill's; links to
goodwill itself (under the signer's ``base``: feedback, unsubscribe), mailto/tel and other
schemes, and addresses longer than :data:`MAX_URL`.
"""

from __future__ import annotations

import html as markup
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from goodwill.errors import ConfigError

#: The ``[tracking]`` table's defaults: off; a click within ``min_seconds`` of delivery is a
#: prefetch by a link scanner, not a person.
DEFAULTS: Mapping[str, Any] = {"clicks": False, "min_seconds": 30}

#: Substrings (lower case) of the user agents of mail-security scanners and link-preview bots
#: that open every link of a mail as it arrives. Short on purpose: the delay after delivery
#: catches most of the rest.
SCANNER_AGENTS: tuple[str, ...] = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "microsoft office",
    "bingpreview",
    "googleimageproxy",
    "slackbot",
    "bot",
    "spider",
    "crawler",
    "curl/",
    "python-requests",
    "wget/",
)

#: Longer addresses are left as they are (a token carrying them would not fit a URL well).
MAX_URL = 2000

_TEXT_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_HREF = re.compile(r"""(\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TRAILING = ".,;:!?"


class LinkSigner(Protocol):
    """Makes the tracked address of one link; ``base`` is goodwill's own public URL."""

    base: str

    def __call__(self, client_id: int, url: str, mail_ref: str) -> str: ...


def track_links(
    body: str, client_id: int, mail_ref: str, signer: LinkSigner, *, html: bool | None = None
) -> str:
    """``body`` with its links made tracked ones; ``html`` says whether it is HTML (None: guessed
    from its tags).

    Each rewritten link carries ``client_id`` and ``mail_ref`` (the outbox row's key) in the
    signer's token. Quoted text and goodwill's own links are left alone (see the module).
    """
    if _looks_html(body) if html is None else html:
        return _track_html(body, client_id, mail_ref, signer)
    return _track_text(body, client_id, mail_ref, signer)


def trackable(url: str, signer: LinkSigner) -> bool:
    """Whether ``url`` is one goodwill would send through the redirect."""
    lowered = url.lower()
    if not lowered.startswith(("http://", "https://")) or len(url) > MAX_URL:
        return False
    base = signer.base.rstrip("/").lower()
    return not (lowered == base or lowered.startswith(base + "/"))


def _looks_html(body: str) -> bool:
    return bool(re.search(r"<(html|body|a|p|div|br|table)\b", body, re.IGNORECASE))


def _track_text(body: str, client_id: int, mail_ref: str, signer: LinkSigner) -> str:
    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and (
            url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url, tail = url[:-1], url[-1] + tail
        if not trackable(url, signer):
            return match.group(0)
        return signer(client_id, url, mail_ref) + tail

    lines = body.splitlines(keepends=True)
    return "".join(
        line if line.lstrip().startswith(">") else _TEXT_URL.sub(one, line) for line in lines
    )


def _track_html(body: str, client_id: int, mail_ref: str, signer: LinkSigner) -> str:
    depth = 0

    def href(match: re.Match[str]) -> str:
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        url = markup.unescape(raw).strip()
        if not trackable(url, signer):
            return match.group(0)
        return f'{match.group(1)}"{markup.escape(signer(client_id, url, mail_ref))}"'

    def tag(match: re.Match[str]) -> str:
        nonlocal depth
        closing, name = match.group(1), match.group(2).lower()
        if name == "blockquote":
            depth = max(0, depth - 1) if closing else depth + 1
        if name != "a" or closing or depth:
            return match.group(0)
        return f"<{name}{_HREF.sub(href, match.group(3))}>"

    return _TAG.sub(tag, body)


def is_scanner(user_agent: str | None) -> bool:
    """Whether the user agent is a known link scanner (or missing, as scanners' often is)."""
    agent = (user_agent or "").strip().lower()
    return not agent or any(name in agent for name in SCANNER_AGENTS)


def counts_as_person(
    *,
    method: str,
    user_agent: str | None,
    delivered_at: datetime | None,
    delivered: bool,
    now: datetime,
    min_seconds: float,
) -> bool:
    """Whether a click is a person's: a GET, from no known scanner, ``min_seconds`` or more after
    the mail was delivered. ``delivered`` False (the mail is still queued) never counts;
    ``delivered_at`` None with ``delivered`` True (the sent copy was purged) counts."""
    if method.upper() != "GET" or is_scanner(user_agent) or not delivered:
        return False
    return delivered_at is None or now - delivered_at >= timedelta(seconds=min_seconds)


def parse_settings(value: object, path: Path) -> dict[str, Any]:
    """The ``[tracking]`` table over :data:`DEFAULTS`; ConfigError naming the key."""
    out: dict[str, Any] = dict(DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(
            f"{path}: tracking takes {', '.join(out)}", file=str(path), key="tracking"
        )
    clicks = value.get("clicks", out["clicks"])
    if not isinstance(clicks, bool):
        raise ConfigError(
            f"{path}: tracking.clicks must be true or false", file=str(path), key="tracking.clicks"
        )
    seconds = value.get("min_seconds", out["min_seconds"])
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ConfigError(
            f"{path}: tracking.min_seconds must be a number, 0 or more",
            file=str(path),
            key="tracking.min_seconds",
        )
    out.update(clicks=clicks, min_seconds=seconds)
    return out

"""The outbox, delivered: mail over SMTP and webhooks over HTTP, with retries, each row sent once.

A worker claims a due row with a compare-and-set UPDATE (status and attempt count as read), so
two workers never send the same row; the claim holds the row for ``LEASE`` and a worker that dies
holding it leaves it to be claimed again when the lease runs out (the only case where a row may be
sent twice: SMTP has no way to ask whether a message arrived). A failed attempt records its error
and the next attempt, ``1 min``, ``2 min``, ``4 min`` … at most ``1 h`` later; after
``MAX_ATTEMPTS`` the row stays ``failed`` with its error, visible in ``goodwill mail outbox`` and
never dropped.

Rows are written elsewhere (a reply, an SLA notice): kind ``email`` carries the complete RFC 5322
message in ``body`` and the envelope recipients in ``recipients``; kind ``webhook`` carries the
JSON in ``body`` and ``recipients == [url]``.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import logging
import re
import smtplib
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill import __version__
from goodwill.settings import Settings
from goodwill.store.models import Outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
#: How long a claim holds a row before another worker may take it over.
LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_S = 60
WEBHOOK_TIMEOUT_S = 10

#: How goodwill writes an outbox message: CRLF line ends as SMTP wants, and header lines up to
#: the 998 characters RFC 5322 allows, so a long link in ``List-Unsubscribe`` stays a link instead
#: of being folded into encoded words no mail program would follow.
OUTBOX_POLICY = email.policy.SMTP.clone(max_line_length=998)
_BARE_LINE_END = re.compile(rb"\r?\n")

SendMail = Callable[[str, Sequence[str], bytes], None]
"""Send ``message`` from the envelope sender to the envelope recipients; raise on failure."""
Post = Callable[[str, bytes], None]
"""POST JSON bytes to a URL; raise unless the answer is 2xx."""


class DeliveryFailed(Exception):
    """A transport's answer that is not a success (an HTTP status outside 2xx)."""


@dataclass(frozen=True)
class DeliveryReport:
    """What one round did: ``sent``; ``retrying`` (failed, tried again later); ``failed`` (gave
    up after ``MAX_ATTEMPTS``, kept with its error); ``taken`` (claimed by another worker first)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    taken: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "taken": self.taken,
        }


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1 min, 2, 4, … capped at 1 h."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_WAIT)


class SmtpTransport:
    """Sends over SMTP as ``[mail]`` says: ``smtp_security`` none, starttls (the default) or
    tls (SMTPS); login when ``smtp_user`` is set."""

    def __init__(self, mail: Mapping[str, Any]) -> None:
        self.host = str(mail.get("smtp_host") or "localhost")
        self.security = str(mail.get("smtp_security") or "starttls")
        default_port = {"tls": 465, "starttls": 587}.get(self.security, 25)
        self.port = int(mail.get("smtp_port") or default_port)
        self.user = mail.get("smtp_user")
        self.password = mail.get("smtp_password")

    def connect(self, *, timeout: float = SMTP_TIMEOUT_S) -> smtplib.SMTP:
        """A connection that has read the server's greeting (over TLS from the start for
        ``tls``); ``timeout`` bounds each network step, in seconds."""
        if self.security == "tls":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=timeout)

    def secure(self, client: smtplib.SMTP) -> None:
        """Switch to TLS with STARTTLS when ``smtp_security`` says starttls."""
        if self.security == "starttls":
            client.starttls(context=ssl.create_default_context())

    def log_in(self, client: smtplib.SMTP) -> None:
        """Log in when ``smtp_user`` is set."""
        if self.user:
            client.login(str(self.user), str(self.password or ""))

    def __call__(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        with self.connect() as client:
            self.secure(client)
            self.log_in(client)
            refused = client.sendmail(sender, list(recipients), on_the_wire(message))
        if refused:  # some recipients took it: the row is sent; the refusals are logged
            log.warning("smtp: %d recipient(s) refused: %s", len(refused), sorted(refused))


def on_the_wire(message: bytes) -> bytes:
    """``message`` with every line ending CRLF: smtplib sends bytes as they are, and a server
    may refuse bare LF (Postfix does) or read a whole message as one over-long line."""
    return _BARE_LINE_END.sub(b"\r\n", message)


def http_post(url: str, body: bytes) -> None:
    """POST ``body`` as JSON; any answer outside 2xx (or no answer in 10 s) raises."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"goodwill/{__version__}"},
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        status = int(response.status)
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


def deliver_due(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    send_mail: SendMail | None = None,
    post: Post | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """Send up to ``limit`` outbox rows due at ``now``; see the module docstring."""
    send_mail = send_mail or SmtpTransport(settings.mail)
    post = post or http_post
    due = and_(
        Outbox.next_attempt_at <= now,
        or_(
            Outbox.status == "queued",
            and_(Outbox.status == "failed", Outbox.attempts < MAX_ATTEMPTS),
            Outbox.status == "sending",  # a claim whose lease ran out: its worker died
        ),
    )
    with store() as session:
        candidates = session.execute(
            select(Outbox.id, Outbox.status, Outbox.attempts)
            .where(due)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
        ).all()
    counts = {"sent": 0, "retrying": 0, "failed": 0, "taken": 0}
    for row_id, status, attempts in candidates:
        row = _claim(store, row_id, status, attempts, now=now)
        if row is None:
            counts["taken"] += 1
            continue
        if row.attempts > MAX_ATTEMPTS:  # the last attempt's worker died mid-send
            counts[_fail(store, row, "the last attempt was interrupted", now=now)] += 1
            continue
        try:
            if row.kind == "webhook":
                post(row.recipients[0], row.body)
            else:
                send_mail(_envelope_sender(settings, row.body), row.recipients, row.body)
        except Exception as exc:  # whatever the transport raised is the row's visible error
            counts[_fail(store, row, f"{type(exc).__name__}: {exc}", now=now)] += 1
            continue
        with store.begin() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.id == row.id)
                .values(status="sent", sent_at=now, last_error=None)
            )
        counts["sent"] += 1
        log.info("outbox %s sent (%s, attempt %s)", row.id, row.kind, row.attempts)
    return DeliveryReport(**counts)


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    recipients: list[str]
    body: bytes
    attempts: int


def _claim(
    store: sessionmaker[Session], row_id: int, status: str, attempts: int, *, now: datetime
) -> _Claimed | None:
    """Take the row if it is still as read (compare-and-set); None when another worker did."""
    with store.begin() as session:
        taken = session.execute(
            update(Outbox)
            .where(
                Outbox.id == row_id,
                Outbox.status == status,
                Outbox.attempts == attempts,
                Outbox.next_attempt_at <= now,
            )
            .values(status="sending", attempts=attempts + 1, next_attempt_at=now + LEASE)
            .returning(Outbox.id, Outbox.kind, Outbox.recipients, Outbox.body)
        ).one_or_none()
    if taken is None:
        return None
    return _Claimed(int(taken.id), taken.kind, list(taken.recipients), taken.body, attempts + 1)


def _fail(store: sessionmaker[Session], row: _Claimed, error: str, *, now: datetime) -> str:
    """Record a failed attempt; returns ``retrying`` or, after the last attempt, ``failed``."""
    final = row.attempts >= MAX_ATTEMPTS
    with store.begin() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(
                status="failed",
                attempts=min(row.attempts, MAX_ATTEMPTS),
                last_error=error[:2000],
                next_attempt_at=now if final else now + backoff(row.attempts),
            )
        )
    if final:
        log.error("outbox %s failed for good after %s attempts", row.id, MAX_ATTEMPTS)
        return "failed"
    log.warning("outbox %s attempt %s failed; retrying", row.id, row.attempts)
    return "retrying"


def _envelope_sender(settings: Settings, message: bytes) -> str:
    """``mail.from_address``, else the message's From address (bounces go there)."""
    configured = settings.mail.get("from_address")
    if configured:
        return str(configured)
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(message)
    return email.utils.parseaddr(str(headers.get("From") or ""))[1]


# -- the outbox, listed --------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxView:
    id: int
    kind: str
    recipients: list[str]
    status: str
    attempts: int
    next_attempt_at: datetime | None  # None when nothing more will be tried
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "recipients": self.recipients,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": _iso(self.next_attempt_at),
            "last_error": self.last_error,
            "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at),
        }


def list_outbox(
    store: sessionmaker[Session], *, status: str | None = None, limit: int = 200
) -> list[OutboxView]:
    """Outbox rows, newest first (``status`` filters)."""
    query = select(Outbox).order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Outbox.status == status)
    with store() as session:
        rows = session.execute(query).scalars().all()
    return [
        OutboxView(
            id=r.id,
            kind=r.kind,
            recipients=list(r.recipients),
            status=r.status,
            attempts=r.attempts,
            next_attempt_at=None
            if r.status == "sent" or (r.status == "failed" and r.attempts >= MAX_ATTEMPTS)
            else r.next_attempt_at,
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
        )
        for r in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

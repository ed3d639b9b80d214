"""IMAP polling: fetch the messages a mailbox received since the last poll, each exactly once.

The mailbox's UIDVALIDITY and the last UID stored are kept in ``mailbox_state``. A poll asks for
the UIDs above the last one, fetches them in order with ``BODY.PEEK[]`` (the mailbox is opened
read-only, so nothing is marked read), hands each to :func:`~goodwill.actions.inbox.receive` and
advances the last UID only after the message is stored. A crash between the two fetches one
message again, and the unique Message-ID keeps one copy. A changed UIDVALIDITY (the mailbox was
rebuilt) fetches everything again, with the same guarantee.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.errors import ConfigError, GoodwillError
from goodwill.mail.poll import PollReport
from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import MailboxState

log = logging.getLogger(__name__)

#: Messages fetched per round trip.
BATCH = 50
TIMEOUT_S = 60
_UID = re.compile(rb"\bUID (\d+)")


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    mailbox: str
    tls: bool

    @property
    def key(self) -> str:
        """The mailbox_state key: one row per account and mailbox."""
        return f"{self.user}@{self.host}/{self.mailbox}"

    @classmethod
    def from_settings(cls, mail: Mapping[str, Any]) -> ImapAccount:
        missing = [k for k in ("imap_host", "imap_user", "imap_password") if not mail.get(k)]
        if missing:
            raise ConfigError(f"set mail.{missing[0]} to poll IMAP", key=f"mail.{missing[0]}")
        tls = bool(mail.get("imap_tls", True))
        return cls(
            host=str(mail["imap_host"]),
            port=int(mail.get("imap_port") or (993 if tls else 143)),
            user=str(mail["imap_user"]),
            password=str(mail["imap_password"]),
            mailbox=str(mail.get("imap_mailbox") or "INBOX"),
            tls=tls,
        )


def dial(account: ImapAccount, *, timeout: float = TIMEOUT_S) -> imaplib.IMAP4:
    """A connection that has read the server's greeting, not yet logged in (TLS from the start
    when ``imap_tls``, the default); ``timeout`` bounds each network step, in seconds."""
    if account.tls:
        return imaplib.IMAP4_SSL(
            account.host, account.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    return imaplib.IMAP4(account.host, account.port, timeout=timeout)


def connect(account: ImapAccount) -> imaplib.IMAP4:
    """A logged-in connection (TLS from the start when ``imap_tls``, the default)."""
    try:
        conn = dial(account)
        conn.login(account.user, account.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise GoodwillError(f"IMAP {account.host}:{account.port}: {exc}") from exc
    return conn


def poll_imap(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    account: ImapAccount | None = None,
) -> PollReport:
    """Store the messages that arrived in the mailbox since the last poll."""
    account = account or ImapAccount.from_settings(settings.mail)
    conn = connect(account)
    try:
        return _poll(conn, store, settings, account, clock)
    except imaplib.IMAP4.error as exc:
        raise GoodwillError(f"IMAP {account.key}: {exc}") from exc
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            log.warning("imap: logout from %s failed", account.host)


def _poll(
    conn: imaplib.IMAP4,
    store: sessionmaker[Session],
    settings: Settings,
    account: ImapAccount,
    clock: Callable[[], datetime],
) -> PollReport:
    kind, data = conn.select(quoted_mailbox(account.mailbox), readonly=True)
    if kind != "OK":
        raise GoodwillError(f"IMAP {account.key}: cannot open the mailbox: {data!r}")
    uidvalidity = _uidvalidity(conn, account.mailbox)
    last_uid = _start(store, account.key, uidvalidity, clock())
    kind, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if kind != "OK":
        raise GoodwillError(f"IMAP {account.key}: UID SEARCH failed: {data!r}")
    # "n:*" always includes the highest UID, even one below n: keep only the new ones.
    listed = b" ".join(x for x in data if isinstance(x, bytes))
    uids = sorted(u for u in map(int, listed.split()) if u > last_uid)
    report = PollReport()
    for uid, raw in _fetch(conn, uids):
        received = receive(store, settings, raw, source="imap", now=clock())
        report.count(received.status)
        with store.begin() as session:
            session.execute(
                update(MailboxState)
                .where(
                    MailboxState.mailbox == account.key,
                    MailboxState.uidvalidity == uidvalidity,
                    MailboxState.last_uid < uid,
                )
                .values(last_uid=uid, updated_at=clock())
            )
        log.info("imap: uid %s of %s is inbound %s", uid, account.key, received.inbound_id)
    return report


def _uidvalidity(conn: imaplib.IMAP4, mailbox: str) -> int:
    _, data = conn.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    kind, data = conn.status(quoted_mailbox(mailbox), "(UIDVALIDITY)")
    found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"") if kind == "OK" and data else None
    if found is None:
        raise GoodwillError(f"IMAP {mailbox}: the server gave no UIDVALIDITY")
    return int(found.group(1))


def _start(store: sessionmaker[Session], key: str, uidvalidity: int, now: datetime) -> int:
    """The last UID stored under this UIDVALIDITY (0 when new or when the mailbox was rebuilt)."""
    with store.begin() as session:
        insert_new(
            session,
            MailboxState,
            [{"mailbox": key, "uidvalidity": uidvalidity, "last_uid": 0, "updated_at": now}],
            ["mailbox"],
        )
        state = session.execute(
            select(MailboxState).where(MailboxState.mailbox == key).with_for_update()
        ).scalar_one()
        if state.uidvalidity != uidvalidity:
            log.warning(
                "imap: %s UIDVALIDITY changed (%s to %s); fetching it all again",
                key,
                state.uidvalidity,
                uidvalidity,
            )
            state.uidvalidity, state.last_uid, state.updated_at = uidvalidity, 0, now
        return int(state.last_uid)


def _fetch(conn: imaplib.IMAP4, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
    """``(uid, raw)`` in ascending UID order, ``BATCH`` messages per round trip."""
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        kind, data = conn.uid("FETCH", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
        if kind != "OK":
            raise GoodwillError(f"IMAP UID FETCH failed: {data!r}")
        found: dict[int, bytes] = {}
        for i, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            head, body = item
            tail = data[i + 1] if i + 1 < len(data) else None
            match = _UID.search(head)
            if match is None and isinstance(tail, bytes):
                match = _UID.search(tail)  # the UID came after the literal
            if match is not None:
                found[int(match.group(1))] = body
        for uid in batch:
            if uid in found:  # a message expunged meanwhile is simply gone
                yield uid, found[uid]


def quoted_mailbox(mailbox: str) -> str:
    """``mailbox`` as an IMAP quoted string (a name may hold spaces)."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'

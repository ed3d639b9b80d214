"""The inbound SMTP listener: every message a client's mail server hands over is stored before the
listener says yes.

``250`` is answered only after :func:`~goodwill.actions.inbox.receive` has returned, that is after
the raw bytes are committed, so an accepted message is never lost; whatever the bytes hold, a
message that cannot be filed is kept, marked failed and accepted. Only a store error answers
``451`` (try again later), and the sender's retry is stored once thanks to the unique Message-ID.
A message larger than mail.max_message_bytes is refused with ``552`` (announced in EHLO as
SIZE, checked against MAIL FROM's SIZE and while DATA is read). The
store is blocking (SQLAlchemy), so each message is received in a thread pool while the event loop
goes on talking SMTP to the other connections.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import Received, receive
from goodwill.settings import Settings, max_message_bytes

log = logging.getLogger(__name__)

#: Threads storing messages at once. Storing is mostly Python (parsing, threading) under one
#: interpreter lock, so more threads mostly add waiting: on the reference machine 2 threads
#: stored 20-40% more messages per second than 8, with a p99 a quarter as long on SQLite.
WORKERS = 2


class InboxHandler:
    """aiosmtpd handler: DATA stores the message through ``receive`` in ``executor``."""

    def __init__(
        self,
        store: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        executor: ThreadPoolExecutor,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.executor = executor

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        work = partial(receive, self.store, self.settings, raw, source="smtp", now=self.clock())
        try:
            received: Received = await asyncio.get_running_loop().run_in_executor(
                self.executor, work
            )
        except Exception:  # anything short of a commit must not be acknowledged
            log.exception("smtp: message from %s not stored", session.peer)
            return "451 4.3.0 The message could not be stored; please try again later"
        log.info(
            "smtp: inbound %s %s (conversation %s)",
            received.inbound_id,
            received.status,
            received.conversation_id,
        )
        return f"250 2.0.0 Stored as {received.inbound_id}"


async def _serve(
    store: sessionmaker[Session],
    settings: Settings,
    host: str,
    port: int,
    clock: Callable[[], datetime],
    *,
    executor: ThreadPoolExecutor,
    ready: Callable[[str, int], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    handler = InboxHandler(store, settings, clock=clock, executor=executor)
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname=host if host not in ("", "0.0.0.0", "::") else None,
            ident="goodwill ESMTP",
            enable_SMTPUTF8=True,
            data_size_limit=max_message_bytes(settings),
        ),
        host=host,
        port=port,
    )
    bound = server.sockets[0].getsockname()
    log.info("smtp: listening on %s:%s", bound[0], bound[1])
    if ready is not None:
        ready(str(bound[0]), int(bound[1]))
    try:
        await stopping.wait()
    finally:
        server.close()


def serve_smtp(
    store: sessionmaker[Session],
    settings: Settings,
    host: str,
    port: int,
    clock: Callable[[], datetime],
    *,
    workers: int = WORKERS,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Listen on ``host:port`` until SIGINT or SIGTERM; ``ready`` is called with the bound
    address once connections are accepted (port 0 picks a free port)."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtpd") as executor:
        asyncio.run(_serve(store, settings, host, port, clock, executor=executor, ready=ready))
    # Leaving the executor waited for the messages being stored; their senders, cut off before
    # the reply, send again and the store keeps one copy.
    log.info("smtp: stopped")

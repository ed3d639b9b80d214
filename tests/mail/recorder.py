"""An aiosmtpd handler that keeps what it is given, for the tests that send mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from tests.pgserver import free_port


@dataclass
class Recorder:
    """An SMTP server's handler that keeps every envelope; refuses recipients at ``refuse``."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: str = "nobody@client.example"
    delay_s: float = 0.0

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay_s)  # holds the sender, so that two workers overlap
        self.received.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), envelope.original_content or b"")
        )
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for _, _, raw in self.received
        ]


@contextmanager
def recording_server() -> Iterator[tuple[Recorder, int]]:
    """A :class:`Recorder` listening on a free loopback port, for the length of the block."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()

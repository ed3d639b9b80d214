"""Does mail work? One test message out, one look at the mailbox in, each with what went wrong.

An owner setting up mail needs the one step that failed and the setting or server answer behind
it ("smtp.example.com:587 refused the login for 'shop@example.com': 535 5.7.8 Authentication
failed"), not a traceback. Both checks use the same code the outbox and the pollers use
(:class:`~goodwill.mail.outbound.SmtpTransport`, :func:`~goodwill.mail.imap.dial`), step by
step, so a check that passes means the real thing connects the same way. Network trouble is
reported, never raised; ``timeout`` bounds each network step (seconds).
"""

from __future__ import annotations

import ast
import email.utils
import imaplib
import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from goodwill.errors import ConfigError
from goodwill.mail.imap import ImapAccount, dial, quoted_mailbox
from goodwill.mail.maildir import unseen
from goodwill.mail.outbound import OUTBOX_POLICY, SmtpTransport, on_the_wire

log = logging.getLogger(__name__)

#: Seconds each network step may take: long enough for a slow provider, short enough to wait for
#: on a page.
TIMEOUT_S = 15.0

#: Where a check can stop, in the order they happen, with what goodwill was doing there.
DOING = {
    "setting": "reading the settings",
    "resolve": "looking up the server's name",
    "connect": "connecting",
    "tls": "starting TLS",
    "login": "logging in",
    "sender": "giving the sender",
    "recipient": "giving the recipient",
    "message": "handing over the message",
    "mailbox": "opening the mailbox",
}


@dataclass(frozen=True)
class MailCheck:
    """What a check found: ``ok``; ``stage`` where it stopped (a key of :data:`DOING`, None
    when ok); ``message``, one plain sentence; ``setting``, the one to look at, if any;
    ``way`` (smtp, imap, maildir or listener); ``count``, messages in the mailbox."""

    ok: bool
    way: str
    message: str
    stage: str | None = None
    setting: str | None = None
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "way": self.way,
            "stage": self.stage,
            "setting": self.setting,
            "message": self.message,
            "count": self.count,
        }


# -- out: one test message -----------------------------------------------------------------------


def send_test(
    mail: Mapping[str, Any], to: str, *, now: datetime, timeout: float = TIMEOUT_S
) -> MailCheck:
    """Send one short test message from ``mail.from_address`` to ``to`` over the configured
    SMTP server, the way the outbox sends; say where it stopped if it did not get through."""
    sender = str(mail.get("from_address") or "").strip()
    if not sender:
        return _stopped(
            "smtp",
            "setting",
            "mail.from_address is not set: it is the address your mail comes from.",
            "mail.from_address",
        )
    to = to.strip()
    if "@" not in email.utils.parseaddr(to)[1] or to != email.utils.parseaddr(to)[1]:
        return _stopped("smtp", "recipient", f"{to!r} is not an email address.")
    transport = SmtpTransport(mail)
    server = f"{transport.host}:{transport.port}"
    guessed = (
        "" if mail.get("smtp_host") else " (mail.smtp_host is not set, so goodwill tries localhost)"
    )
    stage = "resolve"
    try:
        socket.getaddrinfo(transport.host, transport.port, type=socket.SOCK_STREAM)
        stage = "connect"
        with transport.connect(timeout=timeout) as client:
            stage = "tls"
            transport.secure(client)
            stage = "login"
            transport.log_in(client)
            stage = "sender"
            client.ehlo_or_helo_if_needed()
            code, answer = client.mail(sender)
            if code != 250:
                hint = "" if transport.user else "; set mail.smtp_user and mail.smtp_password"
                return _stopped(
                    "smtp",
                    stage,
                    f"{server} refused the sender {sender!r} (mail.from_address): "
                    f"{code} {_text(answer)}{hint}",
                    "mail.from_address",
                )
            stage = "recipient"
            code, answer = client.rcpt(to)
            if code not in (250, 251):
                return _stopped(
                    "smtp", stage, f"{server} refused the recipient {to!r}: {code} {_text(answer)}"
                )
            stage = "message"
            code, answer = client.data(on_the_wire(_test_message(sender, to, server, now)))
            if code != 250:
                return _stopped(
                    "smtp", stage, f"{server} refused the message: {code} {_text(answer)}"
                )
    except (OSError, UnicodeError) as exc:  # smtplib's errors are OSErrors too
        return _smtp_trouble(exc, stage, server + guessed, transport, timeout)
    log.info("mail check: a test message went out through %s", server)
    return MailCheck(
        ok=True,
        way="smtp",
        message=f"{server} took a test message from {sender} to {to}: see that it arrives "
        "(look in the spam folder too).",
    )


def _test_message(sender: str, to: str, server: str, now: datetime) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Test message from goodwill"
    message["Date"] = email.utils.format_datetime(now.astimezone(UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"This message was sent through {server} to check that mail from goodwill goes out.\n"
        "It arrived, so it does: nothing more to do.\n"
    )
    return message.as_bytes(policy=OUTBOX_POLICY)


def _smtp_trouble(
    exc: BaseException, stage: str, server: str, transport: SmtpTransport, timeout: float
) -> MailCheck:
    """The sentence for an SMTP conversation that broke off at ``stage``."""
    setting = {
        "resolve": "mail.smtp_host",
        "connect": "mail.smtp_port",
        "tls": "mail.smtp_security",
        "login": "mail.smtp_password",
        "sender": "mail.from_address",
    }.get(stage)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        said = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return _stopped(
            "smtp", "login", f"{server} refused the login for {transport.user!r}: {said}", setting
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError) and stage == "tls":
        message = (
            f"{server} does not offer STARTTLS: set mail.smtp_security to tls (usually port "
            "465), or to none only on a trusted network."
        )
        return _stopped("smtp", stage, message, setting)
    if isinstance(exc, smtplib.SMTPNotSupportedError) and stage == "login":
        message = (
            f"{server} offers no login on this connection: leave mail.smtp_user empty, or use "
            "the port where it asks for one."
        )
        return _stopped("smtp", stage, message, "mail.smtp_user")
    if isinstance(exc, smtplib.SMTPResponseException):
        said = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return _stopped(
            "smtp", stage, f"{server} answered {said} while goodwill was {DOING[stage]}.", setting
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        message = f"{server} closed the connection while goodwill was {DOING[stage]}"
        if stage == "connect" and transport.security != "tls":
            message += " (if it speaks TLS from the start, set mail.smtp_security to tls)"
        return _stopped("smtp", stage, message + ".", setting)
    if isinstance(exc, smtplib.SMTPException):
        return _stopped("smtp", stage, f"{server}: {exc} (while {DOING[stage]}).", setting)
    return _network_trouble("smtp", exc, stage, server, timeout, setting)


def _network_trouble(
    way: str, exc: BaseException, stage: str, server: str, timeout: float, setting: str | None
) -> MailCheck:
    """Name lookup, connection, TLS and time-outs: the same sentences for SMTP and IMAP."""
    prefix = "mail.smtp" if way == "smtp" else "mail.imap"
    if isinstance(exc, socket.gaierror) or stage == "resolve":
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        message = f"goodwill cannot find the server {server} ({prefix}_host): {reason}."
        return _stopped(way, "resolve", message, f"{prefix}_host")
    if isinstance(exc, ssl.SSLError):
        tls_setting = "mail.smtp_security" if way == "smtp" else "mail.imap_tls"
        reason = exc.reason or str(exc)
        message = f"The TLS handshake with {server} failed: {reason}"
        if "WRONG_VERSION_NUMBER" in str(exc):
            message += " (the port does not speak TLS from the start: check the port and "
            message += f"{tls_setting})"
        return _stopped(way, "tls", message + ".", tls_setting)
    if isinstance(exc, TimeoutError):
        message = (
            f"{server} did not answer within {timeout:g} seconds while goodwill was "
            f"{DOING[stage]} (check {prefix}_host and {prefix}_port, and that no firewall "
            "stands between)."
        )
        return _stopped(way, stage, message, setting or f"{prefix}_port")
    if isinstance(exc, ConnectionRefusedError):
        message = (
            f"{server} refused the connection: nothing listens on that port "
            f"({prefix}_host, {prefix}_port)."
        )
        return _stopped(way, "connect", message, f"{prefix}_port")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return _stopped(way, stage, f"{server}: {reason} (while goodwill was {DOING[stage]}).", setting)


# -- in: the mailbox -----------------------------------------------------------------------------


def check_mailbox(mail: Mapping[str, Any], *, timeout: float = TIMEOUT_S) -> MailCheck:
    """Look at what the settings say mail comes in through: the IMAP mailbox (log in, open it,
    count), the Maildir (there, with cur/ new/ tmp/, readable, count), or, with neither, the
    SMTP listener and the API, and how to start the listener."""
    checks = []
    if any(mail.get(k) for k in ("imap_host", "imap_user", "imap_password")):
        checks.append(_check_imap(mail, timeout))
    if mail.get("maildir"):
        checks.append(check_maildir(Path(str(mail["maildir"]))))
    if not checks:
        return MailCheck(
            ok=True,
            way="listener",
            message="Neither an IMAP mailbox (mail.imap_host) nor a Maildir (mail.maildir) is "
            "set, so mail reaches goodwill through its SMTP listener or the API: start the "
            "listener (goodwill smtpd --host 0.0.0.0 --port 2525) and have your mail server "
            "forward to it, or hand messages in with POST /api/v1/messages.",
        )
    failed = [c for c in checks if not c.ok]
    if failed or len(checks) == 1:
        return (failed or checks)[0]
    return MailCheck(
        ok=True,
        way="+".join(c.way for c in checks),
        message=" ".join(c.message for c in checks),
        count=sum(c.count or 0 for c in checks),
    )


def _check_imap(mail: Mapping[str, Any], timeout: float) -> MailCheck:
    try:
        account = ImapAccount.from_settings(mail)
    except ConfigError as exc:
        key = str(exc.fields.get("key") or "mail.imap_host")
        message = (
            f"{key} is not set: reading an IMAP mailbox needs mail.imap_host, mail.imap_user "
            "and mail.imap_password."
        )
        return _stopped("imap", "setting", message, key)
    server = f"{account.host}:{account.port}"
    stage = "resolve"
    conn: imaplib.IMAP4 | None = None
    try:
        socket.getaddrinfo(account.host, account.port, type=socket.SOCK_STREAM)
        stage = "connect"
        conn = dial(account, timeout=timeout)
        stage = "login"
        conn.login(account.user, account.password)
        stage = "mailbox"
        kind, data = conn.select(quoted_mailbox(account.mailbox), readonly=True)
        if kind != "OK":
            said = " ".join(_text(d) for d in data if isinstance(d, bytes | str))
            message = (
                f"{server} has no mailbox {account.mailbox!r} for {account.user!r} "
                f"(mail.imap_mailbox): {said}"
            )
            return _stopped("imap", stage, message, "mail.imap_mailbox")
        count = int(data[0] or 0) if data and isinstance(data[0], bytes | str) else 0
    except imaplib.IMAP4.error as exc:
        said = _text(str(exc))
        if stage == "login":
            message = f"{server} refused the login for {account.user!r}: {said}"
            return _stopped("imap", stage, message, "mail.imap_password")
        return _stopped(
            "imap", stage, f"{server} answered {said!r} while goodwill was {DOING[stage]}."
        )
    except (OSError, UnicodeError) as exc:
        return _network_trouble("imap", exc, stage, server, timeout, None)
    finally:
        if conn is not None:
            _log_out(conn)
    return MailCheck(
        ok=True,
        way="imap",
        message=f"{server} let {account.user!r} in: the mailbox {account.mailbox!r} holds "
        f"{_messages(count)}.",
        count=count,
    )


def _log_out(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        log.info("mail check: IMAP logout failed; the connection is closed anyway")


def check_maildir(path: Path) -> MailCheck:
    """Whether ``path`` is a Maildir goodwill can read and file from, and how much it holds."""
    path = path.expanduser()
    setting = "mail.maildir"
    if not path.exists():
        message = (
            f"{path} does not exist (mail.maildir): point it at the Maildir your mail server "
            "delivers into."
        )
        return _stopped("maildir", "mailbox", message, setting)
    if not path.is_dir():
        return _stopped(
            "maildir", "mailbox", f"{path} is a file, not a Maildir folder (mail.maildir).", setting
        )
    missing = [sub for sub in ("cur", "new", "tmp") if not (path / sub).is_dir()]
    if missing:
        message = (
            f"{path} is not a Maildir: it has no {', '.join(f'{m}/' for m in missing)} "
            "(a Maildir holds cur/, new/ and tmp/; check mail.maildir)."
        )
        return _stopped("maildir", "mailbox", message, setting)
    try:
        total = sum(
            1 for sub in ("cur", "new") for name in os.listdir(path / sub) if name[:1] != "."
        )
        waiting = sum(1 for _ in unseen(path))
    except OSError as exc:
        message = (
            f"goodwill may not read {path} (mail.maildir): {exc.strerror or exc}; let the user "
            "goodwill runs as read and write it."
        )
        return _stopped("maildir", "mailbox", message, setting)
    for sub in ("cur", "new"):
        if not os.access(path / sub, os.R_OK | os.W_OK | os.X_OK):
            message = (
                f"goodwill may read but not change {path / sub} (mail.maildir): it marks each "
                "message it files as seen; let the user goodwill runs as write there."
            )
            return _stopped("maildir", "mailbox", message, setting)
    return MailCheck(
        ok=True,
        way="maildir",
        message=f"{path} is a Maildir goodwill can read: it holds {_messages(total)}, "
        f"{waiting} to file at the next poll.",
        count=total,
    )


# -- words ---------------------------------------------------------------------------------------


def _stopped(way: str, stage: str, message: str, setting: str | None = None) -> MailCheck:
    log.info("mail check: %s stopped at %s", way, stage)
    return MailCheck(ok=False, way=way, stage=stage, message=message, setting=setting)


def _messages(count: int) -> str:
    return "1 message" if count == 1 else f"{count} messages"


def _text(answer: bytes | str) -> str:
    """A server's answer as text on one line (imaplib gives ``b'...'`` in its errors)."""
    if isinstance(answer, str) and answer[:2] in ("b'", 'b"'):
        try:
            literal = ast.literal_eval(answer)
        except (ValueError, SyntaxError):
            literal = answer
        answer = literal if isinstance(literal, bytes | str) else answer
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return " ".join(answer.split())

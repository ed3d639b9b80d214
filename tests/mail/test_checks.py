"""Checking mail works, against real servers on loopback: an aiosmtpd server that takes (or
refuses) the test message, a closed port, and the Dovecot of tests/mail/dovecot.py; Maildirs in
temporary folders. Each failure names the step and the setting or the server's answer."""

from __future__ import annotations

import email
import email.policy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from goodwill.mail.checks import check_mailbox, check_maildir, send_test
from goodwill.store import page_settings
from goodwill.store.database import open_store
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.recorder import Recorder
from tests.pgserver import free_port


def smtp(port: int, **more: Any) -> dict[str, Any]:
    return {
        "from_address": "care@shop.example",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        **more,
    }


def refuse_everyone(*_: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def locked_server() -> Iterator[int]:
    """An SMTP server that asks for a login and takes no password."""
    controller = Controller(
        Recorder(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=refuse_everyone,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def test_the_test_message_reaches_the_smtp_server_from_the_business_address(
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    report = send_test(smtp(port), "owner@shop.example", now=NOW, timeout=5)
    assert report.ok and report.stage is None, report
    assert report.message.startswith(f"127.0.0.1:{port} took a test message from care@shop.example")
    (sender, recipients, raw), *_ = recorder.received
    assert (sender, recipients) == ("care@shop.example", ["owner@shop.example"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Test message from goodwill"
    assert message["From"] == "care@shop.example" and message["To"] == "owner@shop.example"
    assert message["Date"] == "Mon, 23 Nov 2026 15:00:00 +0000"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_a_closed_port_stops_at_connect_and_names_the_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there once the probe socket is closed
    report = send_test(smtp(port), "owner@shop.example", now=NOW, timeout=5)
    assert not report.ok and report.stage == "connect"
    assert report.setting == "mail.smtp_port"
    assert report.message == (
        f"127.0.0.1:{port} refused the connection: nothing listens on that port "
        "(mail.smtp_host, mail.smtp_port)."
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_refused_login_stops_at_login_with_the_servers_answer(locked_server: int) -> None:
    mail = smtp(locked_server, smtp_user="shop@example.com", smtp_password="wrong")
    report = send_test(mail, "owner@shop.example", now=NOW, timeout=5)
    assert not report.ok and report.stage == "login"
    assert report.setting == "mail.smtp_password"
    assert report.message == (
        f"127.0.0.1:{locked_server} refused the login for 'shop@example.com': "
        "535 5.7.8 Authentication credentials invalid"
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_server_that_wants_a_login_refuses_the_sender_and_says_which_settings(
    locked_server: int,
) -> None:
    report = send_test(smtp(locked_server), "owner@shop.example", now=NOW, timeout=5)
    assert not report.ok and report.stage == "sender"
    assert report.message == (
        f"127.0.0.1:{locked_server} refused the sender 'care@shop.example' (mail.from_address): "
        "530 5.7.0 Authentication required; set mail.smtp_user and mail.smtp_password"
    )


def test_a_refused_recipient_is_named_with_the_servers_answer(
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    report = send_test(smtp(port), recorder.refuse, now=NOW, timeout=5)
    assert (report.ok, report.stage) == (False, "recipient")
    assert report.message.endswith(
        f"refused the recipient '{recorder.refuse}': 550 5.1.1 No such user here"
    )
    assert recorder.received == []


def test_starttls_asked_of_a_server_without_it_stops_at_tls(
    smtp_server: tuple[Recorder, int],
) -> None:
    _, port = smtp_server
    report = send_test(smtp(port, smtp_security="starttls"), "o@shop.example", now=NOW, timeout=5)
    assert (report.ok, report.stage, report.setting) == (False, "tls", "mail.smtp_security")
    assert "does not offer STARTTLS: set mail.smtp_security to tls" in report.message


def test_tls_asked_of_a_plain_port_stops_at_tls_for_smtp_and_imap(
    smtp_server: tuple[Recorder, int], imap: Dovecot
) -> None:
    _, port = smtp_server
    report = send_test(smtp(port, smtp_security="tls"), "o@shop.example", now=NOW, timeout=5)
    assert (report.ok, report.stage, report.setting) == (False, "tls", "mail.smtp_security")
    assert report.message.startswith(f"The TLS handshake with 127.0.0.1:{port} failed: ")
    mail = {
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_user": "u",
        "imap_password": "p",
    }
    report = check_mailbox(mail, timeout=5)  # imap_tls is on unless set off
    assert (report.way, report.stage, report.setting) == ("imap", "tls", "mail.imap_tls")


def test_an_unknown_host_stops_at_resolve() -> None:
    mail = smtp(25, smtp_host="no-such-host.invalid")
    report = send_test(mail, "owner@shop.example", now=NOW, timeout=5)
    assert (report.ok, report.stage, report.setting) == (False, "resolve", "mail.smtp_host")
    assert report.message.startswith("goodwill cannot find the server no-such-host.invalid:25")


def test_missing_sender_and_a_bad_recipient_are_said_before_connecting() -> None:
    report = send_test({"smtp_host": "127.0.0.1"}, "owner@shop.example", now=NOW)
    assert (report.stage, report.setting) == ("setting", "mail.from_address")
    report = send_test(smtp(1), "not an address", now=NOW)
    assert (report.stage, report.message) == (
        "recipient",
        "'not an address' is not an email address.",
    )


# -- the mailbox ---------------------------------------------------------------------------------


def maildir(base: Path, *, new: int = 0, cur: tuple[str, ...] = ()) -> Path:
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True)
    for n in range(new):
        (base / "new" / f"1700000000.{n}.host").write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
    for name in cur:
        (base / "cur" / name).write_bytes(b"Subject: old\r\n\r\nold\r\n")
    return base


def test_a_good_maildir_is_counted(tmp_path: Path) -> None:
    path = maildir(tmp_path / "Maildir", new=2, cur=("1600000000.1.host:2,S",))
    report = check_mailbox({"maildir": str(path)})
    assert (report.ok, report.way, report.count) == (True, "maildir", 3)
    assert report.message == (
        f"{path} is a Maildir goodwill can read: it holds 3 messages, 2 to file at the next poll."
    )


def test_a_missing_maildir_and_a_plain_folder_say_what_is_wrong(tmp_path: Path) -> None:
    missing = check_maildir(tmp_path / "nowhere")
    assert (missing.ok, missing.stage, missing.setting) == (False, "mailbox", "mail.maildir")
    assert missing.message.startswith(f"{tmp_path / 'nowhere'} does not exist (mail.maildir)")
    (tmp_path / "plain" / "new").mkdir(parents=True)
    plain = check_maildir(tmp_path / "plain")
    assert not plain.ok and plain.message.startswith(
        f"{tmp_path / 'plain'} is not a Maildir: it has no cur/, tmp/"
    )
    (tmp_path / "file").write_text("x")
    assert "is a file, not a Maildir" in check_maildir(tmp_path / "file").message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_maildir_goodwill_may_not_read_says_so(tmp_path: Path) -> None:
    path = maildir(tmp_path / "Maildir", new=1)
    (path / "new").chmod(0)
    try:
        report = check_maildir(path)
    finally:
        (path / "new").chmod(0o700)
    assert not report.ok and report.message.startswith(f"goodwill may not read {path}")


def test_with_neither_imap_nor_maildir_mail_comes_through_the_listener() -> None:
    report = check_mailbox({"from_address": "care@shop.example"})
    assert (report.ok, report.way) == (True, "listener")
    assert "goodwill smtpd --host 0.0.0.0 --port 2525" in report.message


def test_the_imap_mailbox_is_opened_and_counted(imap: Dovecot, user: str) -> None:
    imap.append(user, *[_mail(n) for n in range(3)])
    mail = {
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_user": user,
        "imap_password": PASSWORD,
        "imap_tls": False,
    }
    report = check_mailbox(mail, timeout=5)
    assert (report.ok, report.way, report.count) == (True, "imap", 3), report
    assert report.message == (
        f"127.0.0.1:{imap.port} let '{user}' in: the mailbox 'INBOX' holds 3 messages."
    )
    wrong = check_mailbox({**mail, "imap_password": "wrong"}, timeout=5)
    assert (wrong.ok, wrong.stage, wrong.setting) == (False, "login", "mail.imap_password")
    assert wrong.message.startswith(f"127.0.0.1:{imap.port} refused the login for '{user}': ")
    # imaplib's bytes repr (b'...') stays out of the server's words; the user's name, which may
    # end in a b, is quoted before them.
    assert "b'" not in wrong.message.removeprefix(
        f"127.0.0.1:{imap.port} refused the login for '{user}'"
    )
    elsewhere = check_mailbox({**mail, "imap_mailbox": "Archive"}, timeout=5)
    assert (elsewhere.stage, elsewhere.setting) == ("mailbox", "mail.imap_mailbox")
    assert elsewhere.message.startswith(f"127.0.0.1:{imap.port} has no mailbox 'Archive'")


def test_an_imap_server_on_a_closed_port_stops_at_connect() -> None:
    port = free_port()
    mail = {"imap_host": "127.0.0.1", "imap_port": port, "imap_user": "u", "imap_password": "p"}
    report = check_mailbox(mail, timeout=5)
    assert (report.ok, report.way, report.stage) == (False, "imap", "connect")
    assert report.message.startswith(f"127.0.0.1:{port} refused the connection")
    unset = check_mailbox({"imap_host": "imap.shop.example"})
    assert (unset.stage, unset.setting) == ("setting", "mail.imap_user")


def _mail(n: int) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = "client@client.example"
    message["To"] = "care@shop.example"
    message["Subject"] = f"Question {n}"
    message["Message-ID"] = f"<check{n}@client.example>"
    message.set_content("Hello")
    return message


# -- from the terminal ---------------------------------------------------------------------------


def test_mail_test_and_mail_check_from_the_terminal(
    smtp_server: tuple[Recorder, int], tmp_path: Path
) -> None:
    recorder, port = smtp_server
    config = tmp_path / "goodwill.toml"
    config.write_text(
        f'[mail]\nfrom_address = "care@shop.example"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\nsmtp_security = "none"\nmaildir = "{tmp_path / "Maildir"}"\n',
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    sent = goodwill("mail", "test", "--to", "owner@shop.example", db=db, config=config)
    assert sent.returncode == 0, sent.stderr
    assert "took a test message" in sent.stdout
    assert [r for _, r, _ in recorder.received] == [["owner@shop.example"]]
    checked = goodwill("mail", "check", db=db, config=config)
    assert checked.returncode == 1
    assert "does not exist (mail.maildir)" in checked.stdout
    maildir(tmp_path / "Maildir", new=1)
    checked = goodwill("mail", "check", db=db, config=config)
    assert checked.returncode == 0, checked.stdout
    assert "holds 1 message, 1 to file at the next poll" in checked.stdout


def test_a_command_uses_the_mail_settings_saved_on_the_page(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    with open_store(db).begin() as session:
        page_settings.put(
            session, "mail", {"maildir": str(tmp_path / "Maildir")}, by="owner", at=NOW
        )
    maildir(tmp_path / "Maildir", new=2)
    checked = goodwill("mail", "check", db=db, config=None)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "holds 2 messages, 2 to file at the next poll" in checked.stdout

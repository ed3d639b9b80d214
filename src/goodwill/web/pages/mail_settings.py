"""The owner's mail page (``/settings/mail``): the mail settings in force and where each comes
from, a test message to send and a mailbox to check, each answering with the step that failed
and why (goodwill.mail.checks), on the page or, with htmx, in place."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from goodwill.domain.access import check
from goodwill.mail.checks import DOING, MailCheck, check_mailbox, send_test
from goodwill.mail.outbound import SmtpTransport
from goodwill.settings import Settings
from goodwill.web.auth import PageStaff, Staff
from goodwill.web.rendering import render
from goodwill.web.state import State

router = APIRouter(include_in_schema=False)

PATH = "/settings/mail"
#: Seconds each network step of a check may take while the owner waits for the page.
TIMEOUT_S = 10.0
SECRETS = ("smtp_password", "imap_password")


@dataclass(frozen=True)
class Row:
    """One mail setting as the page shows it: ``value`` is what is in force (a password only
    as "set" or "not set"); ``origin`` says where it comes from."""

    key: str
    label: str
    value: str
    origin: str


SENDING = (
    ("from_address", "Sends as"),
    ("smtp_host", "SMTP server"),
    ("smtp_port", "SMTP port"),
    ("smtp_security", "Security"),
    ("smtp_user", "Login"),
    ("smtp_password", "Password"),
)
RECEIVING = (
    ("imap_host", "IMAP server"),
    ("imap_port", "IMAP port"),
    ("imap_tls", "TLS"),
    ("imap_user", "Login"),
    ("imap_password", "Password"),
    ("imap_mailbox", "Mailbox"),
    ("maildir", "Maildir"),
)


def _in_file(settings: Settings) -> Mapping[str, Any]:
    """The [mail] table of the settings file, to tell its values from the environment's."""
    path = settings.config_path
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("mail") if path else None
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def _defaults(mail: Mapping[str, Any]) -> dict[str, object]:
    """What goodwill uses for a key nobody set."""
    transport = SmtpTransport(mail)
    tls = bool(mail.get("imap_tls", True))
    return {
        "smtp_host": transport.host,
        "smtp_port": transport.port,
        "smtp_security": transport.security,
        "imap_port": 993 if tls else 143,
        "imap_tls": True,
        "imap_mailbox": "INBOX",
    }


def rows(settings: Settings, keys: tuple[tuple[str, str], ...]) -> list[Row]:
    mail, in_file, defaults = settings.mail, _in_file(settings), _defaults(settings.mail)
    found = []
    for key, label in keys:
        value = mail.get(key)
        if value is None or value == "":
            shown = "not set" if key in SECRETS else str(defaults.get(key, "not set"))
            origin = "default" if key in defaults else ""
        else:
            shown = "set" if key in SECRETS else str(value).lower() if value is True else str(value)
            if key in in_file and in_file[key] == value:
                origin = f"file {settings.config_path}"
            elif key in SECRETS:
                origin = "environment (GOODWILL_" + key.upper() + ")"
            else:
                origin = "settings page"
        found.append(Row(key, label, shown, origin))
    return found


def way_in(mail: Mapping[str, Any]) -> str:
    """How mail reaches goodwill, in words."""
    ways = []
    if mail.get("imap_host"):
        ways.append("an IMAP mailbox, polled by `goodwill mail poll --imap`")
    if mail.get("maildir"):
        ways.append("a Maildir, polled by `goodwill mail poll`")
    return " and ".join(ways) or "the SMTP listener (`goodwill smtpd`) or the API"


def _page(
    request: Request,
    state: State,
    staff: Staff,
    *,
    to: str | None = None,
    sent: MailCheck | None = None,
    checked: MailCheck | None = None,
) -> Response:
    settings = state.settings
    context = {
        "section": "settings",
        "sending": rows(settings, SENDING),
        "receiving": rows(settings, RECEIVING),
        "way_in": way_in(settings.mail),
        "to": staff.email if to is None else to,
        "sent": sent,
        "checked": checked,
        "doing": DOING,
    }
    return render(request, "settings_mail.html", context)


def _result(request: Request, name: str, report: MailCheck) -> Response | None:
    """The result alone when htmx asked for it, to swap in place."""
    if request.headers.get("HX-Request") != "true":
        return None
    context = {"report": report, "name": name, "doing": DOING}
    return render(request, "_mail_check.html", context)


@router.get(PATH)
def mail_page(request: Request, state: State, staff: PageStaff) -> Response:
    check(staff.role, "settings.change", "see and change the mail settings")
    return _page(request, state, staff)


@router.post(PATH + "/test")
def test_message(
    request: Request,
    state: State,
    staff: PageStaff,
    to: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """Send one test message to ``to`` and show how far it got."""
    check(staff.role, "settings.change", "send a test message")
    report = send_test(state.settings.mail, to, now=state.now(), timeout=TIMEOUT_S)
    return _result(request, "test", report) or _page(request, state, staff, to=to, sent=report)


@router.post(PATH + "/check")
def check_inbox(request: Request, state: State, staff: PageStaff) -> Response:
    """Look at the mailbox mail comes in through and show what was found."""
    check(staff.role, "settings.change", "check the mailbox")
    report = check_mailbox(state.settings.mail, timeout=TIMEOUT_S)
    return _result(request, "check", report) or _page(request, state, staff, checked=report)

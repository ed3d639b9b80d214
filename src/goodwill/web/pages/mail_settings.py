"""The owner's mail page (``/settings/mail``): the mail settings in force and where each comes
from, a form to change them (saved as the settings page's ``mail``, under the file), a test
message to send and a mailbox to check, each answering with the step that failed and why
(goodwill.mail.checks), on the page or, with htmx, in place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from goodwill.actions import page_settings
from goodwill.domain.access import check
from goodwill.errors import ConfigError
from goodwill.mail.checks import DOING, MailCheck, check_mailbox, send_test
from goodwill.mail.outbound import SmtpTransport
from goodwill.settings import Settings
from goodwill.settings_layers import PAGE_LABEL, source_of
from goodwill.web.auth import PageStaff, Staff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.rendering import render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

PATH = "/settings/mail"
#: Seconds each network step of a check may take while the owner waits for the page.
TIMEOUT_S = 10.0
SECRETS = page_settings.SECRETS


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


def _origin(settings: Settings, key: str, *, has_default: bool) -> str:
    source = source_of(settings, f"mail.{key}")
    if source == "file":
        return f"the settings file {settings.config_path or ''}".rstrip()
    if source == "environment":
        return f"the environment (GOODWILL_{key.upper()})"
    if source == "page":
        return "this page"
    return "default" if has_default else ""


def rows(settings: Settings, keys: tuple[tuple[str, str], ...]) -> list[Row]:
    mail, defaults = settings.mail, _defaults(settings.mail)
    found = []
    for key, label in keys:
        value = mail.get(key)
        if value is None or value == "":
            value = defaults.get(key)
        if key in SECRETS:
            shown = "set" if value else "not set"
        elif value is None or value == "":
            shown = "not set"
        else:
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        found.append(Row(key, label, shown, _origin(settings, key, has_default=key in defaults)))
    return found


def way_in(mail: Mapping[str, Any]) -> str:
    """How mail reaches goodwill, in words."""
    ways = []
    if mail.get("imap_host"):
        ways.append("an IMAP mailbox, fetched by the worker or goodwill mail poll --imap")
    if mail.get("maildir"):
        ways.append("a Maildir, read by the worker or goodwill mail poll")
    return " and ".join(ways) or "the SMTP listener (goodwill smtpd) or the API"


class MailForm(BaseModel):
    """The edit form as posted (an empty field arrives as None)."""

    from_address: str | None = None
    smtp_host: str | None = None
    smtp_port: str | None = None
    smtp_security: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    forget_smtp_password: str | None = None
    imap_host: str | None = None
    imap_port: str | None = None
    imap_tls: str | None = None
    imap_user: str | None = None
    imap_password: str | None = None
    forget_imap_password: str | None = None
    imap_mailbox: str | None = None
    maildir: str | None = None


#: The fields of the edit form, in the page's order.
EDITABLE = tuple(key for key, _ in SENDING + RECEIVING)
PORTS = ("smtp_port", "imap_port")


def fixed(settings: Settings, key: str) -> bool:
    """Whether the file or the environment sets ``mail.key``: it wins, so the page shows it
    without offering to change it."""
    return source_of(settings, f"mail.{key}") in ("file", "environment")


def page_mail(held: Mapping[str, Any], form: MailForm, offered: Iterable[str]) -> dict[str, Any]:
    """The page's new ``mail`` table: ``held`` with the ``offered`` fields of the form laid over
    it (the others, fixed by the file, keep what the page held). An empty field unsets its key;
    an empty password keeps the stored one unless asked to forget it; a port of digits becomes a
    number (anything else goes on, for the file's check to refuse)."""
    mail = dict(held)
    for key in offered:
        given = (getattr(form, key) or "").strip()
        if key in SECRETS:
            if getattr(form, f"forget_{key}"):
                mail.pop(key, None)
            elif given:
                mail[key] = given
        elif not given:
            mail.pop(key, None)
        elif key == "imap_tls":
            mail[key] = given == "yes"
        else:
            mail[key] = int(given) if key in PORTS and given.isdigit() else given
    return mail


def _fields(settings: Settings) -> list[dict[str, Any]]:
    """The edit form's fields: what the page holds, or, when the file or the environment sets
    the key (and so wins), the value in force, not editable here."""
    held = settings.page.get("mail") or {}
    fields = []
    for key, label in SENDING + RECEIVING:
        from_file = fixed(settings, key)
        value = settings.mail.get(key) if from_file else held.get(key)
        if key in SECRETS:
            value = ""
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        fields.append(
            {
                "key": key,
                "label": label,
                "value": "" if value is None else str(value),
                "fixed": _origin(settings, key, has_default=False) if from_file else "",
                "stored": key in SECRETS and bool(held.get(key)),
            }
        )
    return fields


def _page(
    request: Request,
    state: State,
    staff: Staff,
    *,
    to: str | None = None,
    sent: MailCheck | None = None,
    checked: MailCheck | None = None,
    problems: Mapping[str, str] | None = None,
    status: int = 200,
    first: bool = False,
) -> Response:
    settings = state.settings
    context = {
        "section": "settings",
        "page_flash": pop_flash(request),
        "fields": _fields(settings),
        "problems": problems or {},
        "sending": rows(settings, SENDING),
        "receiving": rows(settings, RECEIVING),
        "way_in": way_in(settings.mail),
        "to": staff.email if to is None else to,
        "sent": sent,
        "checked": checked,
        "doing": DOING,
        "first": first,
    }
    return render(request, "settings_mail.html", context, status=status)


def _result(request: Request, name: str, report: MailCheck) -> Response | None:
    """The result alone when htmx asked for it, to swap in place."""
    if request.headers.get("HX-Request") != "true":
        return None
    context = {"report": report, "name": name, "doing": DOING}
    return render(request, "_mail_check.html", context)


@router.get(PATH)
def mail_page(
    request: Request,
    state: State,
    staff: PageStaff,
    first: Annotated[bool, Query(description="Reached from the first-run setup.")] = False,
) -> Response:
    check(staff.role, "settings.change", "see and change the mail settings")
    return _page(request, state, staff, first=first)


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


@router.post(PATH)
def save(
    request: Request,
    db: Db,
    state: State,
    staff: PageStaff,
    form: Annotated[MailForm, Form()],
) -> Response:
    """Save the mail settings as the settings page's ``mail``; a wrong value is shown beside
    its field and nothing is saved."""
    check(staff.role, "settings.change", "change the mail settings")
    settings = state.settings
    offered = [key for key in EDITABLE if not fixed(settings, key)]
    mail = page_mail(settings.page.get("mail") or {}, form, offered)
    try:
        page_settings.change(
            db, settings, "mail", mail or None, actor=actor(request, staff), now=state.now()
        )
    except ConfigError as exc:
        db.rollback()
        key = str(exc.fields.get("key") or "mail").removeprefix("mail.")
        message = exc.message.removeprefix(f"{PAGE_LABEL}: ")
        return _page(request, state, staff, problems={key: message}, status=422)
    state.refresh(db)
    request.session[FLASH_KEY] = "Mail settings saved: they are in force now."
    return RedirectResponse(PATH, status_code=303)

"""The owner's mail page over HTTP: the settings in force without their passwords, a test message
that reaches a real SMTP server on loopback, a mailbox check, with and without htmx; staff may
not see it."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.page_settings import change
from goodwill.domain.audit import Actor
from goodwill.settings import Settings, load_settings
from goodwill.store.page_settings import stored
from goodwill.web import create_app
from tests.conftest import NOW
from tests.mail.recorder import Recorder, recording_server
from tests.pgserver import free_port
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user

SECRET = "s3cret-smtp-password"


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with recording_server() as server:
        yield server


def mail_app(
    settings: Settings, store: sessionmaker[Session], **mail: object
) -> Iterator[TestClient]:
    """The app, the owner logged in, with ``mail`` saved as the settings page's."""
    if mail:
        with store.begin() as session:
            change(session, settings, "mail", mail, actor=Actor.cli("tests"), now=NOW)
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        yield http


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_owner_sees_the_settings_in_force_and_never_a_password(
    web_settings: Settings, seeded: sessionmaker[Session], smtp: tuple[Recorder, int]
) -> None:
    _, port = smtp
    for http in mail_app(
        web_settings,
        seeded,
        from_address="care@shop.example",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_password=SECRET,
    ):
        page = http.get("/settings/mail")
        assert page.status_code == 200
        assert "<title>Mail settings · goodwill</title>" in page.text
        assert page.text.count('id="mail-change"') == 1
        assert SECRET not in page.text
        shown = text(page.text)
        assert "Sends as ( mail.from_address ) care@shop.example this page" in shown
        assert f"SMTP port ( mail.smtp_port ) {port}" in shown
        assert "Password ( mail.smtp_password ) set" in shown
        assert "Password ( mail.imap_password ) not set" in shown
        assert "Mailbox ( mail.imap_mailbox ) INBOX default" in shown
        assert "the SMTP listener (goodwill smtpd) or the API" in shown
        assert 'name="to" type="email" value="owner@example.com"' in page.text
        assert "Last step of the setup" not in page.text
        first = http.get("/settings/mail?first=1")
        assert "Last step of the setup: mail." in text(first.text)
        assert 'href="/today"' in first.text


def test_a_test_message_reaches_the_server_and_the_page_says_so_with_and_without_htmx(
    web_settings: Settings, seeded: sessionmaker[Session], smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    mail = {"from_address": "care@shop.example", "smtp_host": "127.0.0.1", "smtp_port": port}
    for http in mail_app(web_settings, seeded, **mail, smtp_security="none"):
        csrf = csrf_from(http.get("/settings/mail").text)
        page = http.post(
            "/settings/mail/test", data={"to": "anna@shop.example", "csrf_token": csrf}
        )
        assert page.status_code == 200
        assert "<h1>Mail</h1>" in page.text
        assert f"Works. 127.0.0.1:{port} took a test message" in text(page.text)
        assert 'value="anna@shop.example"' in page.text
        part = http.post(
            "/settings/mail/test",
            data={"to": "owner@example.com", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )
        assert part.text.lstrip().startswith('<div id="mail-test-result"')
        assert "<h1>" not in part.text
    assert [r for _, r, _ in recorder.received] == [["anna@shop.example"], ["owner@example.com"]]
    sent = email.message_from_bytes(recorder.received[0][2], policy=email.policy.default)
    assert sent["Subject"] == "Test message from goodwill"


def test_a_failed_test_names_the_step_and_the_setting(
    web_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    port = free_port()
    mail = {"from_address": "care@shop.example", "smtp_host": "127.0.0.1", "smtp_port": port}
    for http in mail_app(web_settings, seeded, **mail, smtp_security="none"):
        csrf = csrf_from(http.get("/settings/mail").text)
        page = http.post("/settings/mail/test", data={"to": "o@example.com", "csrf_token": csrf})
        shown = text(page.text)
        assert f"Stopped while connecting. 127.0.0.1:{port} refused the connection" in shown
        assert "Look at: mail.smtp_port" in shown


def test_checking_the_mailbox_shows_what_a_maildir_holds(
    web_settings: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "Maildir" / sub).mkdir(parents=True)
    (tmp_path / "Maildir" / "new" / "1.a.host").write_bytes(b"Subject: hi\r\n\r\nhi\r\n")
    for http in mail_app(web_settings, seeded, maildir=str(tmp_path / "Maildir")):
        page = http.get("/settings/mail")
        assert "a Maildir, read by the worker or goodwill mail poll" in text(page.text)
        csrf = csrf_from(page.text)
        checked = http.post("/settings/mail/check", data={"csrf_token": csrf})
        assert "Works." in text(checked.text) and "holds 1 message" in checked.text
        (tmp_path / "Maildir" / "tmp").rmdir()
        part = http.post(
            "/settings/mail/check", data={"csrf_token": csrf}, headers={"HX-Request": "true"}
        )
        assert "Stopped while opening the mailbox." in text(part.text)
        assert "it has no tmp/" in part.text


def test_staff_and_managers_may_not_open_the_mail_page(
    web_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
        staff_user(session, email="mia@example.com", role="manager", name="Mia", now=NOW)
    for email_address in ("sam@example.com", "mia@example.com"):
        app = create_app(web_settings, clock=lambda: NOW)
        with TestClient(app, follow_redirects=False) as http:
            assert log_in(http, email=email_address).status_code == 303
            assert http.get("/settings/mail").status_code == 403
            csrf = csrf_from(http.get("/account").text)
            refused = http.post("/settings/mail/test", data={"to": "x@y.z", "csrf_token": csrf})
            assert refused.status_code == 403


def form(html: str, **values: str) -> dict[str, str]:
    """The edit form's fields as the page fills them, with ``values`` changed."""
    section = html[html.index('id="mail-change"') :]
    filled = dict(re.findall(r'<input id="mail-[a-z_]+" name="([a-z_]+)" value="([^"]*)"', section))
    chosen = re.findall(
        r'<select id="mail-[a-z_]+" name="([a-z_]+)">.*?(?:<option value="([^"]*)" selected)',
        section,
        flags=re.S,
    )
    filled.update(dict(chosen))
    return {
        **filled,
        "smtp_password": "",
        "imap_password": "",
        **values,
        "csrf_token": csrf_from(html),
    }


def test_the_owner_changes_the_mail_settings_and_they_are_in_force_at_once(
    web_settings: Settings, seeded: sessionmaker[Session], smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    for http in mail_app(web_settings, seeded):
        page = http.get("/settings/mail")
        saved = http.post(
            "/settings/mail",
            data=form(
                page.text,
                from_address="care@shop.example",
                smtp_host="127.0.0.1",
                smtp_port=str(port),
                smtp_security="none",
                smtp_user="",
                smtp_password=SECRET,
            ),
        )
        assert saved.status_code == 303 and saved.headers["location"] == "/settings/mail"
        page = http.get("/settings/mail")
        shown = text(page.text)
        assert "Mail settings saved: they are in force now." in shown
        assert f"SMTP port ( mail.smtp_port ) {port} this page" in shown
        assert "Password ( mail.smtp_password ) set this page" in shown
        assert SECRET not in page.text
        # Saved again with the password left empty: the stored one stays.
        assert http.post("/settings/mail", data=form(page.text)).status_code == 303
        test = http.post(
            "/settings/mail/test",
            data={"to": "owner@example.com", "csrf_token": csrf_from(page.text)},
        )
        assert "Works." in text(test.text)
    assert [r for _, r, _ in recorder.received] == [["owner@example.com"]]
    with seeded() as session:
        held = stored(session)["mail"]
    assert held["smtp_password"] == SECRET and held["smtp_port"] == port
    assert "smtp_user" not in held
    for http in mail_app(web_settings, seeded):
        page = http.get("/settings/mail")
        assert 'name="forget_smtp_password"' in page.text
        forget = form(page.text, forget_smtp_password="1", smtp_port="")
        assert http.post("/settings/mail", data=forget).status_code == 303
        shown = text(http.get("/settings/mail").text)
        print(shown[shown.find("Sending") :][:900])
        assert "Password ( mail.smtp_password ) not set" in shown
    with seeded() as session:
        held = stored(session)["mail"]
    assert "smtp_password" not in held and "smtp_port" not in held  # emptied: unset
    assert held["smtp_host"] == "127.0.0.1"


def test_a_wrong_value_is_shown_beside_its_field_and_nothing_is_saved(
    web_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    for http in mail_app(web_settings, seeded, from_address="care@shop.example"):
        page = http.get("/settings/mail")
        refused = http.post("/settings/mail", data=form(page.text, smtp_port="five"))
        assert refused.status_code == 422
        assert (
            '<p class="field-error" id="mail-smtp_port-error">mail.smtp_port must be int</p>'
            in (refused.text)
        )
        assert 'id="mail-smtp_port" name="smtp_port" value=""' in refused.text
    with seeded() as session:
        assert stored(session)["mail"] == {"from_address": "care@shop.example"}


def test_a_setting_the_file_holds_is_shown_from_the_file_and_not_editable(
    seeded: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text('[mail]\nsmtp_host = "mail.shop.example"\n', encoding="utf-8")
    from_file = dataclasses.replace(
        load_settings(config_path=config, database_url=web_settings.database_url, environ={}),
        secret_key="test-signing-key",
    )
    for http in mail_app(from_file, seeded, smtp_host="ignored.example", smtp_user="shop"):
        page = http.get("/settings/mail")
        shown = text(page.text)
        assert (
            f"SMTP server ( mail.smtp_host ) mail.shop.example the settings file {config}" in shown
        )
        assert f"Set in the settings file {config}, which wins over this page" in shown
        assert 'name="smtp_host"' not in page.text
        assert "Login ( mail.smtp_user ) shop this page" in shown

"""Automated touches end to end, with a real SMTP server on loopback as the client's mail
server: the worker delivers the thank-you for a first order once, with the one-click unsubscribe;
a birthday mail goes only with consent; a one-click unsubscribe stops the next one; a lead who
writes first stops the sequence."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

from fastapi.testclient import TestClient

from goodwill.settings import load_settings
from goodwill.web import create_app
from tests.cli.test_cli import goodwill
from tests.mail.recorder import Recorder

MONDAY = "2026-11-23T10:00:00+00:00"
PLAYBOOK = """
[[rule]]
name = "thank-you-first-purchase"
on = "purchase.first"
title = "Thank {client} for their first order"
channel = "email"
personal_level = "personal_message"
assignee = "client_owner"
due = "2 business days"
template = "thank-you-first-purchase"
reason = "first-purchase"

[[rule]]
name = "birthday-card"
on = "client.birthday_month"
title = "Birthday card for {client} ({birthday})"
channel = "email"
personal_level = "automated"
assignee = "client_owner"
due = "birthday week monday"
template = "birthday"
reason = "birthday"
fresh_days = 31

[[rule]]
name = "lead-checking-in"
on = "lead.created"
title = "Check in with {client}, a lead"
channel = "email"
personal_level = "automated"
assignee = "client_owner"
due = "3 business days"
template = "lead-follow-up"
reason = "lead-checking-in"
until_reply = true
"""
CLIENTS = """client_id,name,email,client_since,birthday,marketing_consent
A1,Ann Arbor,ann@client.example,2026-11-18,,
B1,Bea Birch,bea@client.example,2020-01-10,1990-11-25,no
C1,Cai Chen,cai@client.example,2026-11-18,1985-11-30,yes
D1,Dee Dale,dee@client.example,2019-03-02,1979-11-26,yes
"""
PURCHASES = """order_id,client_id,occurred_at,amount,product
O1,A1,2026-11-18,42.50,Beans
O2,C1,2026-11-18,18.00,Grinder brush
"""


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_automated_touches_reach_a_real_mail_server_once_and_respect_consent(
    tmp_path: Path,
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    folder = tmp_path / "Maildir"
    mailbox.Maildir(folder, create=True)
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    config = tmp_path / "goodwill.toml"
    config.write_text(
        'business_name = "Kade Koffie"\n'
        'public_url = "https://care.kade.example"\n'
        f'playbook = "{tmp_path / "playbook.toml"}"\n'
        'secret_key = "a test key that stays the same"\n'
        "[mail]\n"
        'from_address = "care@kade.example"\n'
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {port}\n"
        'smtp_security = "none"\n'
        f'maildir = "{folder}"\n',
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'g.db'}"

    def run(*args: str, now: str = MONDAY) -> str:
        done = goodwill(
            *args, db=db, config=config, now=now, env={"GOODWILL_NEW_PASSWORD": "a long password"}
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("user", "add", "--email", "ana@kade.example", "--name", "Ana Kade", "--role", "owner")
    (tmp_path / "clients.csv").write_text(CLIENTS, encoding="utf-8")
    (tmp_path / "purchases.csv").write_text(PURCHASES, encoding="utf-8")
    run("import", "clients", str(tmp_path / "clients.csv"))
    run("import", "purchases", str(tmp_path / "purchases.csv"))
    assert "now sent by goodwill" in run("touches", "on", "thank-you-first-purchase")
    run("touches", "on", "birthday-card")
    run("touches", "on", "lead-checking-in")
    preview = json.loads(run("touches", "preview", "--days", "14", "--json"))
    assert {(p["rule"], p["to"]) for p in preview if p["verdict"] == "send"} == set()  # none yet

    run("worker", "--passes", "1")
    by_address = {rcpt[0]: parsed(raw) for _, rcpt, raw in recorder.received}
    # Ann and Cai: the thank-you; Dee: her birthday week has come and she agreed; Bea said no.
    assert sorted(by_address) == ["ann@client.example", "cai@client.example", "dee@client.example"]
    thanks = by_address["ann@client.example"]
    assert thanks["Subject"] == "Thank you for your first order"
    assert thanks["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert thanks["List-Unsubscribe"].startswith("<https://care.kade.example/unsubscribe/")
    raw = next(raw for _, rcpt, raw in recorder.received if rcpt == ["ann@client.example"])
    assert b"\r\nList-Unsubscribe: <https://care.kade.example/unsubscribe/" in raw  # not encoded
    assert "Dear Ann" in thanks.get_content() and "Ana Kade" in thanks.get_content()
    assert by_address["dee@client.example"]["Subject"] == "Happy birthday, Dee"

    run("worker", "--passes", "1", now="2026-11-23T10:30:00+00:00")
    assert len(recorder.received) == 3  # a second pass delivers nothing more

    # Cai clicks "unsubscribe" in her mail program: one POST to the link in the header.
    link = by_address["cai@client.example"]["List-Unsubscribe"].split(",")[0].strip("<> ")
    settings = load_settings(config_path=config, database_url=db)
    with TestClient(create_app(settings), follow_redirects=False) as web:
        answer = web.post(
            link.removeprefix("https://care.kade.example"),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200
    # Her birthday week comes; she is not sent the birthday mail.
    run("worker", "--passes", "1", now="2026-11-30T10:00:00+00:00")
    assert len(recorder.received) == 3
    history = json.loads(run("followups", "--json", "--status", "closed", "--performer", "machine"))
    assert any(
        f["client_id"] == "C1" and f["outcome"].startswith("not sent: they unsubscribed")
        for f in history
    )

    # A new lead writes before the check-in mail is due: the sequence stops, a person is told.
    run(
        "event",
        "add",
        "lead.created",
        "--email",
        "lee@lead.example",
        "--payload",
        "{}",
        now="2026-11-30T10:00:00+00:00",
    )
    run("worker", "--passes", "1", now="2026-11-30T10:05:00+00:00")
    reply = EmailMessage()
    reply["From"] = "Lee Lane <lee@lead.example>"
    reply["To"] = "care@kade.example"
    reply["Subject"] = "Before you write again"
    reply["Message-ID"] = "<lee-1@lead.example>"
    reply["Date"] = "Mon, 30 Nov 2026 11:00:00 +0000"
    reply.set_content("We chose another roaster, thank you.")
    mailbox.Maildir(folder).add(reply)
    run("worker", "--passes", "1", now="2026-11-30T11:00:00+00:00")
    run("worker", "--passes", "1", now="2026-12-04T10:00:00+00:00")
    assert "lee@lead.example" not in {rcpt[0] for _, rcpt, _ in recorder.received}
    mine = json.loads(run("followups", "--json"))
    told = [f for f in mine if f["rule"] == "lead-checking-in"]
    assert len(told) == 1 and "wrote on 2026-11-30" in told[0]["handed_over"]

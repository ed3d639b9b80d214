"""The worker does the mail rounds: a message dropped in the Maildir becomes a conversation, and
the reply queued from the terminal reaches the client's mail server, threaded."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

from tests.cli.test_cli import goodwill
from tests.mail.recorder import Recorder

NOW = "2026-11-23T10:00:00+00:00"


def test_the_worker_reads_the_maildir_and_sends_the_outbox(
    tmp_path: Path,
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    m = EmailMessage()
    m["From"] = "Lea Brandt <lea@client.example>"
    m["To"] = "care@shop.example"
    m["Subject"] = "Beans for the office"
    m["Message-ID"] = "<lea-1@client.example>"
    m["Date"] = "Mon, 23 Nov 2026 09:30:00 +0000"
    m.set_content("Can you deliver 5 kg on Thursday?")
    box.add(m)
    config = tmp_path / "goodwill.toml"
    config.write_text(
        "[mail]\n"
        'from_address = "care@shop.example"\n'
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {port}\n"
        'smtp_security = "none"\n'
        f'maildir = "{folder}"\n',
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'g.db'}"
    added = goodwill(
        "user",
        "add",
        "--email",
        "ana@shop.example",
        "--name",
        "Ana",
        "--role",
        "owner",
        db=db,
        config=config,
        env={"GOODWILL_NEW_PASSWORD": "a long password"},
    )
    assert added.returncode == 0, added.stderr
    first = goodwill("worker", "--passes", "1", db=db, config=config, now=NOW)
    assert first.returncode == 0, first.stderr
    (conversation,) = json.loads(goodwill("inbox", "--json", db=db, config=config).stdout)
    assert conversation["subject"] == "Beans for the office"
    answer = tmp_path / "answer.txt"
    answer.write_text("Yes: Thursday before noon.", encoding="utf-8")
    replied = goodwill(
        "conversation",
        "reply",
        str(conversation["id"]),
        "--text-file",
        str(answer),
        "--as",
        "ana@shop.example",
        db=db,
        config=config,
        now=NOW,
    )
    assert replied.returncode == 0, replied.stderr
    second = goodwill("worker", "--passes", "1", db=db, config=config, now=NOW)
    assert second.returncode == 0, second.stderr
    (sent,) = recorder.messages()
    assert sent["To"] == "lea@client.example"
    assert sent["In-Reply-To"] == "<lea-1@client.example>"
    assert "Thursday before noon" in sent.get_content()

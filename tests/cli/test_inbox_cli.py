"""`goodwill inbox` and `goodwill conversation ...` as a user meets them (the real console script)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import add_user
from tests.cli.test_cli import goodwill

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def message(message_id: str, body: str, reply_to: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "Dana Reyes <dana@example.com>"
    m["To"] = "care@roastery.example"
    m["Subject"] = "Re: Grinder" if reply_to else "Grinder"
    m["Date"] = "Mon, 23 Nov 2026 09:55:00 +0000"
    m["Message-ID"] = f"<{message_id}>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
    m.set_content(body)
    return m.as_bytes()


def test_inbox_lists_conversations_with_each_messages_new_and_full_text(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    config = tmp_path / "goodwill.toml"
    config.write_text('[mail]\nfrom_address = "care@roastery.example"\n', encoding="utf-8")
    settings = load_settings(database_url=db, config_path=config, environ={})
    store = open_store(db)
    with store.begin() as session:
        add_user(
            session,
            email="ana@roastery.example",
            name="Ana",
            role="owner",
            password="a long password",
            now=AT,
        )
    receive(
        store, settings, message("a1@example.com", "The grinder squeaks."), source="smtp", now=AT
    )
    quoted = "It still squeaks.\n\nOn Mon, 23 Nov 2026, Care wrote:\n> Try the oil.\n"
    receive(
        store,
        settings,
        message("a2@example.com", quoted, reply_to="a1@example.com"),
        source="smtp",
        now=AT,
    )

    listed = goodwill("inbox", "--json", "--messages", db=db, config=config)
    assert listed.returncode == 0, listed.stderr
    (conversation,) = json.loads(listed.stdout)
    assert conversation["client_id"] == "dana@example.com"
    assert conversation["status"] == "open" and conversation["assignee"] == "ana@roastery.example"
    assert {"id", "subject", "sla_due_at"} <= set(conversation)
    first, second = conversation["messages"]
    assert first["message_id"] == "a1@example.com" and first["from"] == "dana@example.com"
    assert second["new_text"].strip() == "It still squeaks."
    assert "> Try the oil." in second["full_text"]
    assert second["received_at"].startswith("2026-11-23T09:55")

    answer = tmp_path / "answer.txt"
    answer.write_text("A new gasket is on its way today.", encoding="utf-8")
    replied = goodwill(
        "conversation",
        "reply",
        str(conversation["id"]),
        "--text-file",
        str(answer),
        "--as",
        "ana@roastery.example",
        db=db,
        config=config,
    )
    assert replied.returncode == 0, replied.stderr
    after = json.loads(goodwill("inbox", "--json", db=db, config=config).stdout)
    assert after[0]["status"] == "answered" and after[0]["sla_due_at"] is None

    cid = str(conversation["id"])
    nobody = goodwill("conversation", "assign", cid, "--to", "x@y.example", db=db, config=config)
    assert nobody.returncode == 3 and "no active staff user" in nobody.stderr
    assigned = goodwill(
        "conversation", "assign", cid, "--to", "ana@roastery.example", db=db, config=config
    )
    assert assigned.returncode == 0, assigned.stderr

    missing = goodwill("conversation", "wait", "999", db=db, config=config)
    assert missing.returncode == 3 and "no conversation 999" in missing.stderr

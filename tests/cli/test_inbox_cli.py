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


def test_inbox_messages_say_what_was_left_out_and_whole_shows_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    config = tmp_path / "goodwill.toml"
    config.write_text('[mail]\nfrom_address = "care@roastery.example"\n', encoding="utf-8")
    settings = load_settings(database_url=db, config_path=config, environ={})
    body = "Still squeaks.\n\nVon: Care <care@roastery.example>\nGesendet: Montag\nBetreff: Grinder\n\nTry the oil.\n"
    receive(open_store(db), settings, message("w1@example.com", body), source="smtp", now=AT)

    short = goodwill("inbox", "--messages", db=db, config=config, env={"COLUMNS": "200"})
    assert short.returncode == 0, short.stderr
    assert "Still squeaks." in short.stdout and "Try the oil." not in short.stdout
    assert "--whole shows it" in short.stdout
    whole = goodwill("inbox", "--messages", "--whole", db=db, config=config)
    assert "Still squeaks." in whole.stdout and "Try the oil." in whole.stdout


def test_evaluate_quotes_prints_each_language_for_goodwill_and_the_libraries() -> None:
    fixtures = Path(__file__).parent.parent / "data" / "quotes"
    done = goodwill("mail", "evaluate-quotes", str(fixtures), env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if "│" in line}
    assert {"de", "ja", "ru", "tr", "all"} <= set(rows)
    assert "goodwill" in done.stdout and "quotequail" in done.stdout
    right, replies = rows["all"].split("│")[2].split()[0].split("/")
    assert right == replies and int(replies) > 200


def test_evaluate_quotes_without_fixtures_says_where_it_looked(tmp_path: Path) -> None:
    done = goodwill("mail", "evaluate-quotes", str(tmp_path))
    assert done.returncode != 0 and "no reply fixtures in" in done.stderr

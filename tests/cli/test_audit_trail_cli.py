"""What is done from the command line is audited as the command line (with the machine's user),
one entry per action, and `goodwill audit --client` shows a client's entries."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import add_user
from tests.cli.test_cli import goodwill
from tests.cli.test_inbox_cli import message

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ME = f"command line ({getpass.getuser()})"


def test_the_command_line_leaves_one_entry_per_action(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    config = tmp_path / "goodwill.toml"
    config.write_text('[mail]\nfrom_address = "care@roastery.example"\n', encoding="utf-8")
    store = open_store(db)
    with store.begin() as session:
        for email, role in (("ana@roastery.example", "owner"), ("sam@roastery.example", "staff")):
            add_user(session, email=email, name="A", role=role, password="a long password", now=AT)

    def run(*args: str, code: int = 0) -> Any:
        done = goodwill(*args, db=db, config=config)
        assert done.returncode == code, done.stderr
        return json.loads(done.stdout) if "--json" in args and code == 0 else done

    def log(client: str) -> list[dict[str, Any]]:
        return list(reversed(run("audit", "--client", client, "--json")))

    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,owner\nC7,Dana Reyes,dana@example.com,ana@roastery.example\n",
        encoding="utf-8",
    )
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "invoice_id,client_id,amount,issued_at,due_date,paid_at\n"
        "I1,C7,100,2026-06-01,2026-07-01,2026-07-20\n"
        "I2,C7,100,2026-10-10,2026-11-09,2026-11-20\n",
        encoding="utf-8",
    )
    run("import", "clients", str(clients))
    run("import", "payments", str(payments))
    imports = run("audit", "--action", "import.", "--json")
    assert [(e["action"], e["actor_kind"], e["actor"]) for e in imports] == [
        ("import.run", "cli", ME),
        ("import.run", "cli", ME),
    ]
    assert imports[0]["after"]["file"] == "payments.csv"
    assert imports[0]["after"]["counts"]["imported"] == 2
    run("engine", "run")
    [followup] = run("followups", "--json")
    number = str(followup["id"])
    run("followup", "snooze", number, "--until", "2026-11-01T09:00+00:00", code=2)
    run("followup", "snooze", number, "--until", "2026-12-01T09:00+00:00")
    run("followup", "reassign", number, "--to", "sam@roastery.example")
    run("followup", "done", number, "--outcome", "Called; paid")
    entries = log("C7")
    assert [(e["action"], e["object_type"], e["object_id"]) for e in entries] == [
        ("followup.snoozed", "followup", number),
        ("followup.reassigned", "followup", number),
        ("followup.done", "followup", number),
    ]
    assert {e["actor"] for e in entries} == {ME}
    assert entries[0]["after"] == {"due_at": "2026-12-01T09:00:00+00:00"}
    assert entries[1]["after"] == {"assignee": "sam@roastery.example"}
    assert entries[2]["after"] == {"status": "done", "outcome": "Called; paid"}

    settings = load_settings(database_url=db, config_path=config, environ={})
    got = receive(store, settings, message("a1@example.com", "It squeaks."), source="smtp", now=AT)
    cid = str(got.conversation_id)
    blocked = tmp_path / "blocked.txt"
    blocked.write_text("Dear [First Name], hi.", encoding="utf-8")
    reply = ["conversation", "reply", cid, "--as", "ana@roastery.example", "--text-file"]
    run(*reply, str(blocked), code=2)
    answer = tmp_path / "answer.txt"
    answer.write_text("A new gasket is on its way today.", encoding="utf-8")
    run(*reply, str(answer))
    run("conversation", "wait", cid)
    run("conversation", "assign", cid, "--to", "sam@roastery.example")
    run(
        "incident",
        "open",
        "--client",
        "C7",
        "--what",
        "a squeaking grinder",
        "--cause",
        "parts",
        "--by",
        "ana@roastery.example",
    )
    about = [e for e in log("C7") if not e["action"].startswith("followup.")]
    assert [e["action"] for e in about] == [
        "reply.sent",
        "conversation.status",
        "conversation.assigned",
        "incident.opened",
    ]
    assert {e["actor_kind"] for e in about} == {"cli"}
    assert about[1]["before"] == {"status": "answered"} and about[1]["after"] == {
        "status": "waiting"
    }
    assert about[2]["after"] == {"assignee": "sam@roastery.example"}
    shown = run("audit", "--client", "C7").stdout
    assert "conversation.assigned" in shown and "followup.done" in shown

    extra = tmp_path / "extra.csv"
    extra.write_text("client_id,name,email\nC9,Bo Hart,bo@example.com\n", encoding="utf-8")
    run("import", "clients", str(extra))
    [latest, *_] = run("audit", "--action", "import.run", "--json")
    assert latest["after"]["file"] == "extra.csv"
    run("import", "undo", latest["object_id"])
    run("import", "undo", latest["object_id"])  # already undone: nothing happens, nothing logged
    [entry] = run("audit", "--action", "import.undone", "--json")
    assert (entry["actor"], entry["object_id"], entry["before"]) == (
        ME,
        latest["object_id"],
        {"status": "done"},
    )
    assert entry["after"]["removed"]["clients"] == 1

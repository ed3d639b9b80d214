"""The privacy, audit and backup commands as a user runs them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from goodwill.store.database import open_store
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.privacy.people import EMAIL, NAME, person


def test_export_erase_audit_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(db)
    with store.begin() as session:
        cid = person(session, now=NOW)
    store.kw["bind"].dispose()
    archive = tmp_path / "out.zip"
    result = goodwill("client", "export", f"#{cid}", "--out", str(archive), db=db)
    assert result.returncode == 0, result.stderr
    assert (
        json.loads(zipfile.ZipFile(archive).read("client.json"))["tables"]["clients"][0]["email"]
        == EMAIL
    )
    assert (archive.stat().st_mode & 0o777) == 0o600
    copy = tmp_path / "backup.db"
    assert goodwill("backup", str(copy), db=db).returncode == 0
    refused = goodwill("client", "erase", f"#{cid}", "--reason", "  ", "--yes", db=db)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    erased = goodwill("client", "erase", f"#{cid}", "--reason", "asked", "--yes", db=db)
    assert erased.returncode == 0, erased.stderr
    log = goodwill("audit", "--action", "client", "--json", db=db)
    actions = [e["action"] for e in json.loads(log.stdout)]
    assert actions == ["client.erased", "client.exported", "client.updated"]
    table = goodwill("audit", "--client", f"#{cid}", db=db)
    assert "client.erased" in table.stdout and NAME not in table.stdout
    assert goodwill("audit", "--since", "someday", db=db).returncode == 2
    restored = goodwill("restore", str(copy), "--yes", db=db)
    assert restored.returncode == 0, restored.stderr
    shown = goodwill("client", "show", f"#{cid}", "--json", db=db)
    assert NAME in shown.stdout
    kept = goodwill("privacy", "purge", db=db)
    assert kept.returncode == 0 and "nothing purged" in kept.stdout
    purged = goodwill("privacy", "purge", "--days", "30", db=db)
    assert purged.returncode == 0 and "2 raw messages, 1 attachments" in purged.stdout
    junk = tmp_path / "junk.db"
    junk.write_text("not a backup")
    bad = goodwill("restore", str(junk), "--yes", db=db)
    assert bad.returncode == 2 and "not a goodwill backup" in bad.stderr


def test_the_audit_table_prints_what_people_typed_as_text_not_markup(tmp_path: Path) -> None:
    from goodwill.domain.audit import Actor
    from goodwill.store.audit import record

    db = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(db)
    with store.begin() as session:
        record(
            session,
            Actor.anonymous("[bold red]mallory[/]\x1b[2J", address="10.0.0.9"),
            "login.failed",
            at=NOW,
            detail="[link=http://evil]click[/link]",
        )
    store.kw["bind"].dispose()
    result = goodwill("audit", db=db)
    assert result.returncode == 0, result.stderr
    assert "[bold red]mallory[/]" in result.stdout
    assert "[link=http://evil]click[/link]" in result.stdout
    assert "\x1b[2J" not in result.stdout

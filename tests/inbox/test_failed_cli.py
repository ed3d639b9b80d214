"""`goodwill mail failed` and `goodwill mail retry` from the terminal: a message that could not be
filed is listed with its reason, and filed once the reason is dealt with."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from tests.cli.test_cli import goodwill
from tests.inbox.test_hostile_mail import HOSTILE, good

BROKEN_SLA = "[[policy]\nname = "
SLA = '[[policy]]\nname = "all"\nfirst_response = "4h"\n'


def test_failed_mail_is_listed_with_its_reason_and_filed_again_once_it_is_dealt_with(
    tmp_path: Path,
) -> None:
    sla = tmp_path / "sla.toml"
    sla.write_text(BROKEN_SLA, encoding="utf-8")
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(good(1))
    box.add(HOSTILE["broken headers"])
    box.close()
    config = tmp_path / "goodwill.toml"
    config.write_text(f'sla = "{sla}"\n[mail]\nmaildir = "{folder}"\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"

    polled = goodwill("mail", "poll", db=db, config=config)
    assert polled.returncode == 0, polled.stderr
    assert "2 fetched: 0 filed, 2 failed (kept: goodwill mail failed)" in polled.stdout

    listed = goodwill("mail", "failed", "--json", db=db, config=config)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [2, 1]  # newest first
    by_from = {r["from"]: r for r in rows}
    unreadable, client = by_from[None], by_from["ivo@example.com"]
    assert (unreadable["subject"], unreadable["reason"]) == ("", "no mail headers")
    assert client["subject"] == "Opening hours"
    assert f"{sla}: not valid TOML" in client["reason"]
    assert client["failed_at"] == client["received_at"]
    table = goodwill("mail", "failed", db=db, config=config)
    assert "Opening hours" in table.stdout and "no mail headers" in table.stdout

    sla.write_text(SLA, encoding="utf-8")
    retried = goodwill("mail", "retry", "--all", db=db, config=config)
    assert retried.returncode == 1  # one of them still cannot be filed
    assert f"{client['id']}: filed in conversation 1" in retried.stdout
    assert f"{unreadable['id']}: failed again (goodwill mail failed)" in retried.stdout
    left = json.loads(goodwill("mail", "failed", "--json", db=db, config=config).stdout)
    assert [r["id"] for r in left] == [unreadable["id"]]

    filed = goodwill("mail", "retry", str(client["id"]), db=db, config=config)
    assert filed.returncode == 2
    assert f"inbound message {client['id']} is parsed, not failed" in filed.stderr
    missing = goodwill("mail", "retry", "99", db=db, config=config)
    assert missing.returncode == 3 and "no inbound message 99" in missing.stderr
    neither = goodwill("mail", "retry", db=db, config=config)
    assert neither.returncode == 2 and "--all" in neither.stderr
    assert not any("Traceback" in r.stderr for r in (filed, missing, neither))

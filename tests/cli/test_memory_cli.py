"""What the team learns, from a terminal: each command prints the id it wrote (or JSON), names
the author with --by, writes once per --key, and refuses bad input with one line naming the
field and a non-zero exit, changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import goodwill

CLIENTS = "client_id,name,email\nC-1,Ann Smith,ann@example.com\n"


def _business(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    path = tmp_path / "clients.csv"
    path.write_text(CLIENTS, encoding="utf-8")
    assert goodwill("import", "clients", str(path), db=db).returncode == 0
    added = goodwill(
        "user", "add", "--email", "anna@shop.example", "--name", "Anna", "--role", "staff",
        db=db, env={"GOODWILL_NEW_PASSWORD": "a long password"},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return db


def test_a_fact_a_call_a_note_a_sale_and_a_payment_from_the_terminal(tmp_path: Path) -> None:
    db = _business(tmp_path)
    fact = goodwill(
        "client", "fact", "add", "C-1", "--kind", "family", "--text", "Daughter's wedding",
        "--on", "2027-06-12", "--by", "anna@shop.example", "--json", db=db,
    )  # fmt: skip
    assert fact.returncode == 0, fact.stderr
    written = json.loads(fact.stdout)
    assert written["author"] == "Anna" and written["on_date"] == "2027-06-12"
    fact_id = str(written["id"])
    edit = goodwill(
        "client", "fact", "edit", "C-1", fact_id, "--version", "1", "--text", "Wedding in Porto",
        db=db,
    )  # fmt: skip
    assert edit.returncode == 0 and edit.stdout.strip() == f"fact {fact_id}"
    stale = goodwill(
        "client", "fact", "edit", "C-1", fact_id, "--version", "1", "--text", "x", db=db
    )
    assert stale.returncode == 4 and "changed since you opened it" in stale.stderr
    call = goodwill(
        "client", "log", "C-1", "--kind", "call", "--text", "Asked about boots", "--outcome",
        "Friday", "--key", "call-1", db=db,
    )  # fmt: skip
    assert call.returncode == 0 and call.stdout.startswith("interaction ")
    again = goodwill(
        "client", "log", "C-1", "--kind", "call", "--text", "Asked about boots", "--key",
        "call-1", db=db,
    )  # fmt: skip
    assert again.stdout.strip() == call.stdout.strip() + " (already kept)"
    note = goodwill("client", "note", "C-1", "--text", "Prefers Leeds", "--pin", db=db)
    assert note.returncode == 0 and note.stdout.startswith("note ")
    sale = goodwill(
        "client", "sale", "C-1", "--amount", "120", "--item", "Boots = 89.90", "--item", "Laces",
        "--served-by", "anna@shop.example", "--key", "s1", "--json", db=db,
    )  # fmt: skip
    assert sale.returncode == 0, sale.stderr
    assert json.loads(sale.stdout)["external_id"] == "counter/s1"
    paid = goodwill("client", "payment", "C-1", "--amount", "45.50", db=db)
    assert paid.returncode == 0 and paid.stdout.startswith("invoice ")
    removed = goodwill("client", "fact", "remove", "C-1", fact_id, "--version", "2", db=db)
    assert removed.returncode == 0 and removed.stdout.strip() == f"fact {fact_id} removed"
    shown = json.loads(goodwill("client", "show", "C-1", "--json", db=db).stdout)
    types = [entry["type"] for entry in shown["timeline"]]
    assert {"service.interaction", "note.added", "order.placed", "payment.received"} <= set(types)


def test_bad_input_is_one_line_naming_the_field_and_changes_nothing(tmp_path: Path) -> None:
    db = _business(tmp_path)
    cases = [
        (("client", "fact", "add", "C-9", "--kind", "note", "--text", "x"), 3, "C-9"),
        (("client", "fact", "add", "C-1", "--kind", "star", "--text", "x"), 2, "kind"),
        (("client", "fact", "add", "C-1", "--kind", "event", "--text", "x", "--on", "soon"), 2,
         "on_date"),
        (("client", "fact", "add", "C-1", "--kind", "note", "--text", "x" * 1001), 2, "text"),
        (("client", "log", "C-1", "--kind", "call", "--text", "x", "--at", "later"), 2, "at"),
        (("client", "note", "C-1", "--text", "x", "--by", "ghost@shop.example"), 2, "by"),
        (("client", "sale", "C-1", "--amount", "lots"), 2, "amount"),
        (("client", "payment", "C-1", "--amount", "5", "--paid-on", "32/13/2026"), 2, "paid_on"),
    ]  # fmt: skip
    for args, code, words in cases:
        run = goodwill(*args, db=db)
        assert run.returncode == code, (args, run.stdout, run.stderr)
        assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    shown = json.loads(goodwill("client", "show", "C-1", "--json", db=db).stdout)
    assert shown["facts"] == {} and all(
        e["type"] not in ("note.added", "order.placed") for e in shown["timeline"]
    )

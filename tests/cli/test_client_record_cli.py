"""`goodwill client add|edit|archive|restore|contact add` as a user meets them: the console script."""

from __future__ import annotations

import json

from tests.cli.test_cli import goodwill


def _json(*args: str, db: str) -> dict[str, object]:
    done = goodwill(*args, "--json", db=db)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    return body


def test_a_client_is_added_edited_archived_and_shown_with_the_new_fields(sqlite_url: str) -> None:
    made = goodwill(
        "client", "add", "--name", "Ana Lima", "--email", "ana@example.com",
        "--email", "ana@work.example", "--phone", "+351 912 345 678", "--country", "pt",
        "--birthday=--06-12", "--since", "2004-03-01", db=sqlite_url,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "added client #1: Ana Lima (version 1)" in made.stdout
    edited = _json("client", "edit", "#1", "--city", "Porto", "--if-version", "1", db=sqlite_url)
    assert edited["city"] == "Porto" and edited["version"] == 2
    stale = goodwill("client", "edit", "#1", "--city", "Braga", "--if-version", "1", db=sqlite_url)
    assert stale.returncode == 4 and "city" in stale.stderr and "version 2" in stale.stderr
    contact = _json(
        "client", "contact", "add", "ana@work.example", "--name", "Rui", "--role", "buyer",
        db=sqlite_url,
    )  # fmt: skip
    assert contact["id"] == 1 and contact["role"] == "buyer"
    shown = _json("client", "show", "#1", db=sqlite_url)
    record = shown["record"]
    assert isinstance(record, dict)
    assert record["other_emails"] == ["ana@work.example"] and record["country"] == "PT"
    assert record["birthday"] == "--06-12" and record["client_since"] == "2004-03-01"
    assert record["contacts"][0]["name"] == "Rui"  # type: ignore[index]
    archived = goodwill("client", "archive", "#1", db=sqlite_url)
    assert archived.returncode == 0 and "archived client #1" in archived.stdout
    listed = _json("clients", db=sqlite_url)
    assert listed["total"] == 0
    assert _json("clients", "--archived", db=sqlite_url)["total"] == 1
    assert goodwill("client", "restore", "#1", db=sqlite_url).returncode == 0


def test_bad_input_exits_non_zero_naming_the_field_and_changes_nothing(sqlite_url: str) -> None:
    assert (
        goodwill(
            "client", "add", "--name", "Bo", "--email", "bo@example.com", db=sqlite_url
        ).returncode
        == 0
    )
    taken = goodwill("client", "add", "--name", "Cy", "--email", "BO@example.com", db=sqlite_url)
    assert (
        taken.returncode == 2
        and "email: bo@example.com belongs to another client, Bo (#1)" in taken.stderr
    )
    bad_day = goodwill("client", "edit", "#1", "--since", "31/02/2020", db=sqlite_url)
    assert bad_day.returncode == 2 and "client_since" in bad_day.stderr
    unknown = goodwill("client", "edit", "NOPE", "--city", "X", db=sqlite_url)
    assert unknown.returncode == 3 and "NOPE" in unknown.stderr
    nobody = goodwill("client", "archive", "#1", "--by", "nobody@example.com", db=sqlite_url)
    assert nobody.returncode == 2 and "by" in nobody.stderr
    listed = _json("clients", db=sqlite_url)
    assert listed["total"] == 1
    shown = _json("client", "show", "#1", db=sqlite_url)
    assert shown["record"]["version"] == 1 and shown["record"]["archived_at"] is None  # type: ignore[index]

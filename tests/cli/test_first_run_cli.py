"""The first run from the terminal: `goodwill init` says what comes next, and `goodwill serve`
prints where to make the owner's account and a one-time setup code while nobody has one."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from goodwill.cli.serve import setup_code_lines
from goodwill.store.first_run import spend_setup_code
from tests.cli.test_cli import NOW, goodwill
from tests.web.sample import staff_user

AT = datetime.fromisoformat(NOW)
CODE = re.compile(r"setup code: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})$")


def test_init_on_a_new_database_says_to_open_setup_and_later_how_to_log_in(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    first = goodwill("init", db=url)
    assert first.returncode == 0, first.stderr
    assert (
        "next: run goodwill serve, then open http://127.0.0.1:8000/setup from this machine, "
        "or use the setup code goodwill serve prints"
    ) in " ".join(first.stdout.split())
    added = goodwill(
        "user", "add", "--email", "ann@shop.example", "--name", "Ann", "--role", "owner",
        db=url,
        env={"GOODWILL_NEW_PASSWORD": "a quiet harbour at dawn"},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    again = goodwill("init", db=url)
    assert "next: run goodwill serve, then log in at http://127.0.0.1:8000/login" in again.stdout


def test_init_names_the_public_address_when_the_settings_have_one(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text('public_url = "https://care.shop.example/"\n', encoding="utf-8")
    done = goodwill("init", db=f"sqlite:///{tmp_path / 'goodwill.db'}", config=config)
    assert "open https://care.shop.example/setup from this machine" in " ".join(done.stdout.split())


def test_serve_prints_a_setup_code_that_works_once_while_nobody_has_an_account(
    store: sessionmaker[Session],
) -> None:
    lines = setup_code_lines(store, url="http://127.0.0.1:8000", now=AT)
    assert lines[0] == (
        "Nobody has an account yet: open http://127.0.0.1:8000/setup in a browser on this "
        "machine to create the owner's."
    )
    match = CODE.search(lines[1])
    assert match, lines
    assert "works once, for 24 hours" in lines[2]
    newer = CODE.search(setup_code_lines(store, url="http://127.0.0.1:8000", now=AT)[1])
    assert newer and newer.group(1) != match.group(1)
    with store.begin() as session:
        assert not spend_setup_code(session, match.group(1), now=AT)  # the restart replaced it
        assert spend_setup_code(session, newer.group(1), now=AT)


def test_serve_prints_no_code_once_someone_has_an_account(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        staff_user(session, now=AT)
    assert setup_code_lines(store, url="http://127.0.0.1:8000", now=AT) == []

"""`goodwill user deactivate|activate|password|reset-link|invite|sessions|tokens|revoke` as a user
meets them (the real console script), with the store checked afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from goodwill.store.accounts import open_session
from goodwill.store.audit import entries
from goodwill.store.database import open_store
from goodwill.store.models import AccountLink, StaffUser, WebSession
from goodwill.store.staff import authenticate, user_by_email
from tests.cli.test_cli import NOW, goodwill

PASSWORD = {"GOODWILL_NEW_PASSWORD": "a long password"}


def _add(url: str, email: str, role: str = "staff") -> None:
    added = goodwill(
        "user", "add", "--email", email, "--name", "X", "--role", role, db=url, env=PASSWORD
    )
    assert added.returncode == 0, added.stderr


def test_a_short_blank_or_common_password_is_refused_with_the_reason(sqlite_url: str) -> None:
    for weak, why in (
        ("12345678", "at least 10 characters"),
        (" " * 12, "only spaces"),
        ("password123", "most common"),
        ("bcdefghijklm", "straight run"),
    ):
        done = goodwill(
            "user",
            "add",
            "--email",
            "a@shop.example",
            "--name",
            "A",
            db=sqlite_url,
            env={"GOODWILL_NEW_PASSWORD": weak},
        )
        assert done.returncode == 2 and why in done.stderr, (weak, done.stderr)


def test_deactivating_ends_sessions_and_tokens_and_activating_restores_login(
    sqlite_url: str,
) -> None:
    _add(sqlite_url, "sam@shop.example")
    token = goodwill(
        "user", "token", "sam@shop.example", "--scope", "read", "--days", "30", db=sqlite_url
    ).stdout.strip()
    store = open_store(sqlite_url)
    now = datetime.fromisoformat(NOW)
    with store.begin() as session:
        open_session(session, user_by_email(session, "sam@shop.example"), now=now)
    listed = goodwill("user", "sessions", "sam@shop.example", db=sqlite_url)
    assert listed.returncode == 0 and now.strftime("%Y-%m-%dT%H:%M") in listed.stdout
    done = goodwill("user", "deactivate", "sam@shop.example", db=sqlite_url)
    assert done.returncode == 0 and "deactivated" in done.stdout
    with store() as session:
        assert session.execute(select(WebSession)).first() is None
        assert authenticate(session, "sam@shop.example", "a long password") is None
    tokens = goodwill("user", "tokens", "sam@shop.example", db=sqlite_url).stdout
    assert "read" in tokens and (now + timedelta(days=30)).date().isoformat() in tokens
    assert token.startswith("gw_") and token not in tokens
    assert goodwill("user", "activate", "sam@shop.example", db=sqlite_url).returncode == 0
    with store() as session:
        assert authenticate(session, "sam@shop.example", "a long password") is not None
        actions = [e.action for e in entries(session, limit=20)]
    assert {"user.deactivated", "user.activated", "token.created"} <= set(actions)


def test_password_reset_link_invite_and_revoke_from_the_command_line(sqlite_url: str) -> None:
    _add(sqlite_url, "ann@shop.example", role="owner")
    store = open_store(sqlite_url)
    now = datetime.fromisoformat(NOW)
    with store.begin() as session:
        open_session(session, user_by_email(session, "ann@shop.example"), now=now)
    changed = goodwill(
        "user",
        "password",
        "ann@shop.example",
        db=sqlite_url,
        env={"GOODWILL_NEW_PASSWORD": "another long phrase"},
    )
    assert changed.returncode == 0 and "1 session(s) ended" in changed.stdout
    link = goodwill(
        "user",
        "reset-link",
        "ann@shop.example",
        "--base-url",
        "https://care.example",
        db=sqlite_url,
    ).stdout.strip()
    assert link.startswith("https://care.example/reset/")
    invite = goodwill("user", "invite", "kim@shop.example", db=sqlite_url).stdout.strip()
    assert "/invite/" in invite
    with store() as session:
        purposes = sorted(session.execute(select(AccountLink.purpose)).scalars())
        assert purposes == ["invite", "reset"]
        assert (
            session.execute(select(StaffUser.email).where(StaffUser.email.like("kim%"))).first()
            is None
        )
    goodwill("user", "token", "ann@shop.example", db=sqlite_url)
    listed = goodwill("user", "tokens", "ann@shop.example", db=sqlite_url).stdout
    token_id = listed.split("│")[1].strip() if "│" in listed else "1"
    assert goodwill("user", "revoke", "ann@shop.example", token_id, db=sqlite_url).returncode == 0
    assert "never" not in goodwill("user", "tokens", "ann@shop.example", db=sqlite_url).stdout
    missing = goodwill("user", "revoke", "ann@shop.example", token_id, db=sqlite_url)
    assert missing.returncode != 0 and "no token" in missing.stderr

"""Helpers for engine tests: import canonical CSV text, run passes with an injected clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass, PassReport
from goodwill.settings import Settings
from goodwill.store.followups import FollowUpView, list_followups
from goodwill.store.models import StaffUser
from goodwill.store.staff import add_user


class World:
    """A business under test: its store, its settings and a clock the test moves."""

    def __init__(self, store: sessionmaker[Session], settings: Settings, tmp: Path) -> None:
        self.store, self.settings, self.tmp = store, settings, tmp
        self.files = 0

    def staff(self, email: str, role: str, now: datetime, team: str | None = None) -> int:
        with self.store.begin() as session:
            user = add_user(
                session,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                password="a long password",
                now=now,
            )
            user.team = team
            return user.id

    def load(self, kind: FileKind, text: str, now: datetime) -> None:
        self.files += 1
        path = self.tmp / f"{kind.value}-{self.files}.csv"
        path.write_text(text, encoding="utf-8")
        summary = import_file(self.store, self.settings, kind, path, now=now)
        assert summary.errors == [], summary.errors

    def engine(self, now: datetime, **kw) -> EnginePass:
        """A pass as of ``now`` with the settings' playbook and calendar."""
        return EnginePass(
            self.store,
            self.settings,
            now=now,
            playbook=playbook_for(self.settings),
            calendar=calendar_for(self.settings),
            **kw,
        )

    def run(self, now: datetime, **kw) -> PassReport:
        return self.engine(now, **kw).run()

    def followups(self, status: str | None = "open") -> list[FollowUpView]:
        with self.store() as session:
            return list_followups(session, status=status)

    def user_email(self, user_id: int | None) -> str | None:
        with self.store() as session:
            user = session.get(StaffUser, user_id) if user_id else None
            return user.email if user else None


@pytest.fixture
def world(store: sessionmaker[Session], settings: Settings, tmp_path: Path) -> World:
    return World(store, settings, tmp_path)

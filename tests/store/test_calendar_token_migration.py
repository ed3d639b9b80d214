"""Calendar tokens move to their SHA-256 without breaking the feed links already given out."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from goodwill.store.database import alembic_config, make_engine
from goodwill.store.models import StaffUser
from goodwill.store.staff import user_for_calendar_token
from tests.conftest import NOW


def test_a_feed_link_given_before_the_upgrade_still_opens_the_feed(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0012")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (email, name, role, password_hash, active, created_at,"
                " calendar_token) VALUES ('ann@example.com', 'Ann', 'staff', 'x', :yes, :now,"
                " 'old-plain-token')"
            ),
            {"yes": True, "now": NOW},
        )
    command.upgrade(alembic_config(engine), "head")
    with Session(engine) as session:
        stored = session.execute(text("SELECT calendar_token FROM staff_users")).scalar_one()
        assert stored != "old-plain-token" and len(stored) == 64
        user = user_for_calendar_token(session, "old-plain-token")
        assert isinstance(user, StaffUser) and user.email == "ann@example.com"
        assert user_for_calendar_token(session, stored) is None  # the hash is not the key
    engine.dispose()

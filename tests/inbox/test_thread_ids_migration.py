"""The thread ids are filled once from the mail a store already holds, so a parent that arrives
after the upgrade still finds the replies filed before it."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from alembic import command
from sqlalchemy import select

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import alembic_config, open_store
from goodwill.store.models import ThreadId
from tests.conftest import NOW


def raw(message_id: str, parent: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "Ivo <ivo@example.com>"
    m["Subject"] = "Re: Sunday opening" if parent else "Sunday opening"
    m["Message-ID"] = f"<{message_id}>"
    if parent:
        m["In-Reply-To"] = f"<{parent}>"
    m.set_content("Are you open on Sunday?")
    return m.as_bytes()


def test_ids_of_mail_filed_before_the_upgrade_thread_mail_arriving_after_it(db_url: str) -> None:
    settings = load_settings(database_url=db_url, environ={})
    store = open_store(db_url)
    engine = store.kw["bind"]
    first = receive(store, settings, raw("r1@x", parent="p@x"), source="smtp", now=NOW)
    receive(store, settings, raw("r2@x", parent="r1@x"), source="smtp", now=NOW)
    command.downgrade(alembic_config(engine), "0019")  # as a store made before thread ids
    command.upgrade(alembic_config(engine), "head")
    with store() as session:
        kept = {
            t.message_id: (t.conversation_id, t.seen)
            for t in session.execute(select(ThreadId)).scalars()
        }
    conversation = first.conversation_id
    assert kept == {
        "r1@x": (conversation, True),
        "r2@x": (conversation, True),
        "p@x": (conversation, False),
    }
    later = receive(store, settings, raw("p@x"), source="smtp", now=NOW + timedelta(hours=1))
    assert later.conversation_id == conversation

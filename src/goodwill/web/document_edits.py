"""Documents the owner keeps on the settings page (the recovery options, the feedback questions,
the listening themes): one table of the document's list changed, added or removed, the whole
checked by the file's own reader, then saved as the file would hold it.

A document a file names is never changed here (the file wins); the pages show it read-only.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from goodwill.actions import page_settings as page_actions
from goodwill.errors import ConfigError, NotAllowed
from goodwill.web.auth import Staff
from goodwill.web.pages.privacy import actor_of
from goodwill.web.state import WebState

#: The longest answer one field takes (a theme's phrases are the long ones).
MAX_ANSWER = 8000


@dataclass(frozen=True)
class Document:
    """One document on the settings page: its page key, the list of tables it holds (``option``,
    ``question``, ``theme``), the field naming a table, and the reader that checks it."""

    key: str
    table: str
    name: str
    check: Callable[[Mapping[str, Any]], object]

    def tables(self, document: Mapping[str, Any]) -> list[dict[str, Any]]:
        found = document.get(self.table)
        return [dict(t) for t in found] if isinstance(found, list) else []

    def put(
        self, document: Mapping[str, Any], original: str, table: dict[str, Any]
    ) -> dict[str, Any]:
        """``document`` with the table named ``original`` replaced by ``table`` (added at the
        end when ``original`` is empty or names none)."""
        out = copy.deepcopy(dict(document))
        tables = self.tables(out)
        at = next(
            (i for i, t in enumerate(tables) if original and t.get(self.name) == original), None
        )
        if at is None:
            tables.append(table)
        else:
            tables[at] = table
        out[self.table] = tables
        return out

    def drop(self, document: Mapping[str, Any], name: str) -> dict[str, Any]:
        out = copy.deepcopy(dict(document))
        out[self.table] = [t for t in self.tables(out) if t.get(self.name) != name]
        return out


def require_owner(staff: Staff) -> None:
    if not staff.may("settings.change"):
        raise NotAllowed("only the owner changes the settings", reason="owner_only")


def save(
    request: Request,
    db: Session,
    state: WebState,
    staff: Staff,
    kind: Document,
    document: Mapping[str, Any],
) -> ConfigError | None:
    """Check ``document`` as its file would be checked and save it; the problem (nothing saved)
    or None. In force on the next request of every page."""
    try:
        kind.check(document)
        page_actions.change(
            db,
            state.settings,
            kind.key,
            dict(document),
            actor=actor_of(request, staff),
            now=state.now(),
        )
    except ConfigError as exc:
        db.rollback()
        return exc
    state.refresh(db)
    return None


def forget(request: Request, db: Session, state: WebState, staff: Staff, kind: Document) -> None:
    """Drop the page's own document: the shipped one applies again."""
    page_actions.clear(
        db, state.settings, kind.key, actor=actor_of(request, staff), now=state.now()
    )
    state.refresh(db)


def why(exc: ConfigError, field: str | None) -> str:
    """The reader's message without where it was read, and without the field's name when it is
    shown beside that field."""
    message = exc.message.removeprefix("settings page: ")
    if field and f"{field}: " in message:
        return message.split(f"{field}: ", 1)[1]
    return message


def listed(text: str) -> list[str]:
    """Words or phrases given one a line or separated by commas."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def answer(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name) or "")[:MAX_ANSWER]

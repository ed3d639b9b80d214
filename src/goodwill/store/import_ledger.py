"""What one import brought: the entities it created or found, and the first rows to preview.

An import's dry run and its history page both read the ledger, so it is kept apart from the
writes themselves (:mod:`goodwill.store.ingest`), which only add to it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from goodwill.store.idempotent_insert import insert_new
from goodwill.store.models import ImportItem

#: How many first rows of each kind an import keeps to show (the dry-run preview).
PREVIEW_ROWS = 5
ENTITIES = ("client", "order", "line", "refund", "invoice", "payment")


@dataclass
class Ledger:
    """What one import brought: every entity it created or found already stored, how each
    client was matched, and the first rows of each kind for the preview."""

    items: dict[tuple[str, int], tuple[bool, str | None]] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    preview: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    #: For a preview, whose chunks are each rolled back: what was shown of each entity created,
    #: so one a later chunk creates again (a client in many chunks) is counted once.
    shown_once: set[tuple[str, tuple[tuple[str, str], ...]]] | None = None

    def add(
        self,
        entity: str,
        entity_id: int,
        *,
        created: bool,
        rule: str | None = None,
        shown: dict[str, str] | None = None,
    ) -> None:
        key = (entity, entity_id)
        before = self.items.get(key)
        if before is not None and (before[0] or not created):
            return
        self.items[key] = (created, rule)
        if created and self.shown_once is not None and shown is not None:
            seen = (entity, tuple(sorted(shown.items())))
            if seen in self.shown_once:
                return
            self.shown_once.add(seen)
        if created:
            self.created[entity] += 1
            rows = self.preview.setdefault(entity, [])
            if shown is not None and len(rows) < PREVIEW_ROWS:
                rows.append(shown)

    def flush(self, session: Session, import_id: int) -> None:
        """Write the items gathered so far for ``import_id`` (idempotent), then forget them."""
        rows = [
            {
                "import_id": import_id,
                "entity": entity,
                "entity_id": entity_id,
                "created": created,
                "rule": rule,
            }
            for (entity, entity_id), (created, rule) in self.items.items()
        ]
        for start in range(0, len(rows), 5000):
            insert_new(
                session,
                ImportItem,
                rows[start : start + 5000],
                ["import_id", "entity", "entity_id"],
            )
        self.items.clear()

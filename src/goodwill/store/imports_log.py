"""The record of imports, and undoing one.

Undo removes what the import created and no other live import also brought (an overlapping
export of the same orders keeps them; they become that import's to undo), together with the
events derived from it and the follow-ups those events caused. Clients go only when nothing else
refers to them: no order or invoice left, and no event recorded by anything but imports and the
engine (a note, a call, a message).

A running import marks its run with the process running it and when it was last heard of
(:func:`running_mark`), so a process starting later can tell a run whose process stopped
(killed, restarted) from one still going, and mark it failed (:func:`fail_abandoned`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.errors import Conflict, NotFound
from goodwill.store.audit import record
from goodwill.store.client_figures import mark_stale
from goodwill.store.import_ledger import ENTITIES
from goodwill.store.ingest import recompute_orders
from goodwill.store.models import (
    Client,
    Event,
    FollowUp,
    FollowUpEvent,
    ImportItem,
    ImportRun,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Refund,
)

log = logging.getLogger(__name__)

#: A run whose process has not been heard from for this long has stopped (see fail_abandoned).
ABANDONED_AFTER = timedelta(minutes=2)
#: This process, as a run's ``summary.running_on`` names it: host, pid and a token of this start.
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

#: Event sources that imports and the engine write; any other source is someone's own record.
DERIVED_SOURCES = ("import", "engine")
LIVE = ("running", "done", "failed")


@dataclass(frozen=True)
class ImportRecord:
    id: int
    kind: str
    profile: str | None
    file_name: str
    sha256: str
    user: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    undone_at: datetime | None
    counts: dict[str, Any]
    bytes_done: int
    bytes_total: int
    summary: dict[str, Any]

    @classmethod
    def of(cls, run: ImportRun) -> ImportRecord:
        return cls(
            id=run.id,
            kind=run.kind,
            profile=run.profile,
            file_name=run.file_name,
            sha256=run.sha256,
            user=run.user,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            undone_at=run.undone_at,
            counts=dict(run.counts or {}),
            bytes_done=run.bytes_done,
            bytes_total=run.bytes_total,
            summary=dict(run.summary or {}),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "profile": self.profile,
            "file": self.file_name,
            "sha256": self.sha256,
            "user": self.user,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "undone_at": self.undone_at.isoformat() if self.undone_at else None,
            "counts": self.counts,
        }


@dataclass
class UndoReport:
    import_id: int
    already: bool = False
    removed: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "already_undone": self.already,
            "removed": self.removed,
            "kept": self.kept,
        }


def running_mark() -> dict[str, Any]:
    """What a running run's summary holds: which process runs it, last heard of when (the real
    time, not an injected one: another process judges by it whether this one still runs)."""
    return {"running_on": PROCESS, "alive_at": datetime.now(UTC).isoformat()}


def fail_abandoned(session: Session, *, now: datetime) -> int:
    """Mark failed the runs left "running" by a process that stopped (a killed server or CLI);
    how many. Run as a process starts: a run is abandoned when it names this host and a
    process that is gone (or this very pid, from an earlier start), or when another host's
    process has not been heard of for :data:`ABANDONED_AFTER`. Running the same import again
    completes it; nothing is written twice."""
    runs = session.execute(select(ImportRun).where(ImportRun.status == "running")).scalars()
    stopped = [run for run in runs if not _still_running(run.summary or {}, now=now)]
    for run in stopped:
        run.status, run.finished_at = "failed", now
        run.summary = {
            **(run.summary or {}),
            "error": "the process running this import stopped before it finished; "
            "import the file again to complete it (nothing is written twice)",
        }
    for run in stopped:
        log.warning("import %s was left running by a stopped process: marked failed", run.id)
    return len(stopped)


def _still_running(summary: Mapping[str, Any], *, now: datetime) -> bool:
    owner = str(summary.get("running_on", ""))
    if owner == PROCESS:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return False  # this pid's earlier life (a restarted container's server)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, another user's
        return True
    try:
        heard = datetime.fromisoformat(str(summary.get("alive_at")))
    except ValueError:
        return False
    return heard.tzinfo is not None and now - heard < ABANDONED_AFTER


def import_history(session: Session, *, limit: int = 100) -> list[ImportRecord]:
    runs = session.execute(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit))
    return [ImportRecord.of(run) for run in runs.scalars()]


def get_import(session: Session, import_id: int) -> ImportRecord:
    run = session.get(ImportRun, import_id)
    if run is None:
        raise NotFound(f"no import with id {import_id}", import_id=import_id)
    return ImportRecord.of(run)


def undo_import(
    session: Session, import_id: int, *, now: datetime, actor: Actor, force: bool = False
) -> UndoReport:
    """Remove what import ``import_id`` created (see the module docstring); safe to repeat.

    An import still marked running is refused unless ``force``: a process killed mid-import
    never marks its run finished, and only the user knows it is not still going."""
    run = session.get(ImportRun, import_id, with_for_update=True)
    if run is None:
        raise NotFound(f"no import with id {import_id}", import_id=import_id)
    report = UndoReport(import_id)
    if run.status == "undone":
        report.already = True
        return report
    if run.status == "running" and run.finished_at is None and not force:
        raise Conflict(
            f"import {import_id} is still running; undo it when it has finished "
            "(or, if its process was killed, with --force)",
            import_id=import_id,
        )
    mine: dict[str, set[int]] = {entity: set() for entity in ENTITIES}
    for entity, entity_id in session.execute(
        select(ImportItem.entity, ImportItem.entity_id).where(
            ImportItem.import_id == import_id, ImportItem.created.is_(True)
        )
    ):
        mine.setdefault(entity, set()).add(int(entity_id))
    remove: dict[str, set[int]] = {}
    for entity, ids in mine.items():
        others = _brought_by_others(session, import_id, entity, ids)
        remove[entity] = ids - set(others)
        if others:
            report.kept[f"{entity}s"] = len(others)
            _hand_over(session, entity, others)
    _remove(session, remove, report)
    before, run.status = run.status, "undone"
    run.undone_at = now
    run.counts = {**(run.counts or {}), "removed": report.removed}
    record(
        session,
        actor,
        "import.undone",
        at=now,
        object_type="import",
        object_id=import_id,
        before={"status": before},
        after={"status": "undone", "removed": report.removed, "kept": report.kept},
    )
    return report


def _brought_by_others(
    session: Session, import_id: int, entity: str, ids: set[int]
) -> dict[int, int]:
    """Of ``ids``, those another live import brought too: id -> the earliest such import."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(ids)):
        for entity_id, other in session.execute(
            select(ImportItem.entity_id, func.min(ImportItem.import_id))
            .join(ImportRun, ImportRun.id == ImportItem.import_id)
            .where(
                ImportItem.entity == entity,
                ImportItem.entity_id.in_(chunk),
                ImportItem.import_id != import_id,
                ImportRun.status.in_(LIVE),
            )
            .group_by(ImportItem.entity_id)
        ):
            found[int(entity_id)] = int(other)
    return found


def _hand_over(session: Session, entity: str, owners: dict[int, int]) -> None:
    """What another import also brought becomes that import's creation, so its undo takes it."""
    for entity_id, owner in owners.items():
        session.execute(
            update(ImportItem)
            .where(
                ImportItem.import_id == owner,
                ImportItem.entity == entity,
                ImportItem.entity_id == entity_id,
            )
            .values(created=True)
        )


def _remove(session: Session, remove: dict[str, set[int]], report: UndoReport) -> None:
    keys: list[str] = []  # idempotency keys of the events to remove
    mark_stale(
        session,
        {
            int(c)
            for chunk in _chunks(sorted(remove.get("order", set())))
            for (c,) in _rows(session, select(Order.client_id).where(Order.id.in_(chunk)))
        },
    )
    orders = _external_ids(session, Order, remove.get("order", set()))
    for external in orders:
        keys += [f"import:order/{external}", f"derive:purchase/{external}"]
        keys.append(f"derive:milestone/order/{external}")
    refund_keys = _external_ids(session, Refund, remove.get("refund", set()))
    keys += [f"import:refund/{key}" for key in refund_keys]
    invoices = _external_ids(session, Invoice, remove.get("invoice", set()))
    for external in invoices:
        keys += [f"import:invoice/{external}", f"scan:overdue/{external}"]
    payments = [
        (str(external), paid_on)
        for external, paid_on in _rows(
            session,
            select(Invoice.external_id, Payment.paid_on)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                or_(
                    Payment.id.in_(remove.get("payment", set())),
                    Invoice.id.in_(remove.get("invoice", set())),
                )
            ),
        )
    ]
    for external, paid_on in payments:
        keys += [f"import:payment/{external}/{paid_on}", f"derive:payment/{external}/{paid_on}"]
    touched_orders = {
        int(order_id)
        for (order_id,) in _rows(
            session,
            select(OrderLine.order_id).where(OrderLine.id.in_(remove.get("line", set()))),
        )
    } | {
        int(order_id)
        for (order_id,) in _rows(
            session, select(Refund.order_id).where(Refund.id.in_(remove.get("refund", set())))
        )
    }
    touched_invoices = {
        int(invoice_id)
        for (invoice_id,) in _rows(
            session,
            select(Payment.invoice_id).where(Payment.id.in_(remove.get("payment", set()))),
        )
    }
    report.removed["events"] = _remove_events(session, keys)
    for entity, model in (
        ("payment", Payment),
        ("refund", Refund),
        ("line", OrderLine),
        ("invoice", Invoice),
        ("order", Order),
    ):
        ids = remove.get(entity, set())
        for chunk in _chunks(sorted(ids)):
            session.execute(delete(model).where(model.id.in_(chunk)))
        report.removed[f"{entity}s"] = len(ids)
    kept_orders = touched_orders - remove.get("order", set())
    recompute_orders(session, kept_orders)
    for invoice in session.scalars(
        select(Invoice).where(Invoice.id.in_(touched_invoices - remove.get("invoice", set())))
    ):
        invoice.paid_on = session.execute(
            select(func.max(Payment.paid_on)).where(Payment.invoice_id == invoice.id)
        ).scalar_one()
    report.removed["clients"] = _remove_clients(session, remove.get("client", set()))
    in_use = len(remove.get("client", set())) - report.removed["clients"]
    if in_use:
        report.kept["clients"] = report.kept.get("clients", 0) + in_use


def _remove_events(session: Session, keys: Sequence[str]) -> int:
    """Delete the events, and the follow-ups they alone caused."""
    removed = 0
    for chunk in _chunks(list(dict.fromkeys(keys))):
        ids = [
            int(i)
            for (i,) in _rows(session, select(Event.id).where(Event.idempotency_key.in_(chunk)))
        ]
        if not ids:
            continue
        caused = {
            int(f)
            for (f,) in _rows(
                session,
                select(FollowUpEvent.followup_id).where(FollowUpEvent.event_id.in_(ids)),
            )
        }
        session.execute(delete(FollowUpEvent).where(FollowUpEvent.event_id.in_(ids)))
        session.execute(delete(Event).where(Event.id.in_(ids)))
        removed += len(ids)
        if caused:
            still = {
                int(f)
                for (f,) in _rows(
                    session,
                    select(FollowUpEvent.followup_id).where(FollowUpEvent.followup_id.in_(caused)),
                )
            }
            session.execute(delete(FollowUp).where(FollowUp.id.in_(caused - still)))
    return removed


def _remove_clients(session: Session, candidates: set[int]) -> int:
    """Clients with nothing left that others wrote: no orders, invoices or own events."""
    removed = 0
    for chunk in _chunks(sorted(candidates)):
        busy = (
            {
                int(c)
                for (c,) in _rows(
                    session, select(Order.client_id).where(Order.client_id.in_(chunk))
                )
            }
            | {
                int(c)
                for (c,) in _rows(
                    session, select(Invoice.client_id).where(Invoice.client_id.in_(chunk))
                )
            }
            | {
                int(c)
                for (c,) in _rows(
                    session,
                    select(Event.client_id).where(
                        Event.client_id.in_(chunk), Event.source.not_in(DERIVED_SOURCES)
                    ),
                )
            }
        )
        free = [c for c in chunk if c not in busy]
        if free:
            session.execute(delete(Client).where(Client.id.in_(free)))
            removed += len(free)
    return removed


def _external_ids(session: Session, model: Any, ids: Iterable[int]) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(sorted(ids)):
        out += [
            str(e) for (e,) in _rows(session, select(model.external_id).where(model.id.in_(chunk)))
        ]
    return out


def _ids(session: Session, query: Any) -> set[int]:
    return {int(value) for value in session.scalars(query)}


def _rows(session: Session, query: Any) -> list[Any]:
    return list(session.execute(query).all())


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])

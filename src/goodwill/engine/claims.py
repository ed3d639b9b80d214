"""How engine workers share the event log: a cursor per step, and on PostgreSQL per partition.

SQLite has one writer. Each step reads the log behind one cursor row (``derive``, ``apply``);
the UPDATE that opens a batch takes the database's write lock, so a second worker waits.

On PostgreSQL the clients are split into ``PARTITIONS`` partitions (client id modulo the count),
each with its own cursor row per step (``derive@3/16``). A worker claims a partition by locking
its row with ``SELECT … FOR UPDATE SKIP LOCKED``, handles one batch of that partition's events
after the cursor and moves the cursor in the same transaction; other workers skip the locked row
and take another partition. A worker that dies mid-batch loses its connection, PostgreSQL rolls
the transaction back, the lock goes with it and the cursor has not moved: the next worker to
claim the partition does the batch again. One client's events are always in one partition, read
in log order by one worker at a time, so a purchase that closes a follow-up is never handled
before the event that opened it.

A worker claims as many free partitions at once as it expects to fill one batch with
(``claim_several``, ``share_after``): one at a time while batches come back full, more when they
come back light, so a lone worker's daily pass reads a few batches, not one a partition, while
N workers on a busy log still each hold one.

A step ends for a worker only once it has read every partition to the end itself; when all the
partitions it still has to read are held by others, it waits for one (a plain ``FOR UPDATE``),
so what an earlier step of its pass wrote is always read by a later one (as with one cursor).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from goodwill.store.idempotent_insert import insert_new
from goodwill.store.models import EVENT_PARTITIONS, EngineCursor, Event

#: Partitions of the clients on PostgreSQL: more than the workers one would run (16 at most on
#: one database is the design), so that a worker finding its partition taken finds another.
PARTITIONS = EVENT_PARTITIONS


def partitions_for(session: Session) -> int:
    """1 on SQLite (one writer), ``PARTITIONS`` on PostgreSQL."""
    return PARTITIONS if _postgres(session) else 1


def cursor_name(step: str, partition: int, partitions: int) -> str:
    """The cursor row of ``step`` for one partition; the step's own name when there is one."""
    return step if partitions == 1 else f"{step}@{partition}/{partitions}"


def in_partition(partition: int, partitions: int) -> object:
    """The events of one partition's clients (events with no client are partition 0's)."""
    return _partition_of_event(partitions) == partition


def in_partitions(members: Collection[int], partitions: int) -> Any:
    """The events of several partitions' clients (one partition: ``in_partition``)."""
    if len(members) == 1:
        return in_partition(next(iter(members)), partitions)
    return _partition_of_event(partitions).in_(sorted(members))


def _partition_of_event(partitions: int) -> Any:
    """An event's partition. The 0 and the count are written into the statement, not bound, so
    that even a plan made once for any values (a statement prepared ahead) is the expression
    PostgreSQL's index of the log by partition is built on (``ix_events_partition``, migration
    0024)."""
    nil: Any = literal_column("0")
    count: Any = literal_column(str(int(partitions)))
    return func.coalesce(Event.client_id, nil) % count


def share_after(claimed: int, read: int, batch: int, partitions: int) -> int:
    """How many partitions to claim next: as many as the last batch suggests fill one batch
    (``read`` new events from ``claimed`` partitions), at least one, at most all."""
    if read <= 0:
        return partitions
    return max(1, min(partitions, claimed * batch // read))


def ensure_cursors(session: Session, step: str, partitions: int, *, now: datetime) -> None:
    """The step's cursor rows, one per partition. New rows start where the step's lowest cursor
    stands (a store that ran with one cursor, or with other partitions, reads from there again:
    every effect is idempotent, so reading again costs time, never a second follow-up)."""
    start = session.execute(
        select(func.min(EngineCursor.position)).where(
            or_(EngineCursor.name == step, EngineCursor.name.like(f"{step}@%"))
        )
    ).scalar_one_or_none()
    rows = [
        {"name": cursor_name(step, k, partitions), "position": start or 0, "updated_at": now}
        for k in range(partitions)
    ]
    insert_new(session, EngineCursor, rows, ["name"])


def claim(
    session: Session,
    step: str,
    todo: Collection[int],
    partitions: int,
    *,
    now: datetime,
    wait: bool,
) -> tuple[int, int] | None:
    """Lock one cursor among the partitions ``todo`` and return (partition, position).

    Without ``wait``: any one no other worker holds, None when all are held. With ``wait``: the
    first, waiting until its holder's transaction ends. The lock lasts until the transaction
    ends, committed (the cursor moved) or rolled back (the batch is left to whoever comes next).
    """
    names = {cursor_name(step, k, partitions): k for k in todo}
    if not names:
        return None
    if not _postgres(session):  # SQLite: take the write lock first; FOR UPDATE means nothing
        session.execute(
            update(EngineCursor).where(EngineCursor.name.in_(names)).values(updated_at=now)
        )
    query = select(EngineCursor.name, EngineCursor.position)
    if wait:
        query = query.where(EngineCursor.name == min(names)).with_for_update()
    else:
        query = (
            query.where(EngineCursor.name.in_(names))
            .order_by(EngineCursor.updated_at, EngineCursor.name)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    row = session.execute(query).first()
    return None if row is None else (names[row[0]], int(row[1]))


def claim_several(
    session: Session,
    step: str,
    todo: Collection[int],
    partitions: int,
    *,
    now: datetime,
    most: int,
) -> list[tuple[int, int]]:
    """Lock up to ``most`` cursors among the partitions ``todo`` that no other worker holds, the
    least recently moved first, and return their (partition, position); [] when all are held.
    PostgreSQL only (``FOR UPDATE SKIP LOCKED`` locks the rows it returns, and only those)."""
    names = {cursor_name(step, k, partitions): k for k in todo}
    if not names:
        return []
    rows = session.execute(
        select(EngineCursor.name, EngineCursor.position)
        .where(EngineCursor.name.in_(names))
        .order_by(EngineCursor.updated_at, EngineCursor.name)
        .limit(max(1, most))
        .with_for_update(skip_locked=True)
    ).all()
    return [(names[name], int(position)) for name, position in rows]


def advance(session: Session, name: str, position: int, *, now: datetime) -> None:
    """Move a locked cursor (in the batch's transaction: the batch and the cursor commit
    together)."""
    session.execute(
        update(EngineCursor)
        .where(EngineCursor.name == name)
        .values(position=position, updated_at=now)
    )


def lock(session: Session, name: str, *, now: datetime, skip: bool = False) -> int | None:
    """Take the cursor row ``name`` (made at 0 if new) and return its position. With ``skip``,
    on PostgreSQL, None at once when another worker holds it (that worker does the duty)."""
    insert_new(session, EngineCursor, [{"name": name, "position": 0, "updated_at": now}], ["name"])
    postgres = _postgres(session)
    if not postgres:
        session.execute(
            update(EngineCursor).where(EngineCursor.name == name).values(updated_at=now)
        )
    row = session.execute(
        select(EngineCursor.position)
        .where(EngineCursor.name == name)
        .with_for_update(skip_locked=skip and postgres)
    ).first()
    return None if row is None else int(row[0])


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"

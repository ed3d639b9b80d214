"""Importing CSV exports into client memory.

The file is streamed; rows are read by the domain (dates, amounts, ids) and written in chunks,
each chunk one short transaction (the store's write lock is never held while the file is read).
A bad row is reported with its line (as an editor shows it, the header being line 1), its column
and the reason, and the good rows land. Killing the process loses at most the chunk in flight,
which the next run of the same import writes; nothing is ever written twice because every write
is keyed by the source's own ids. A run left "running" by a process that stopped is marked
failed by :func:`goodwill.store.imports_log.fail_abandoned` (the web app calls it as it starts).

A dry run (the preview) writes each chunk in a transaction that is rolled back at once, so it
keeps nothing and holds no lock between chunks. Any bytes are read: a file that is not valid
UTF-8 is read as cp1252, bytes neither can read are replaced (U+FFFD) and counted in the
summary; a binary file, one past the ``imports`` limits (size, rows, columns) or a cancelled
one stops with an error that says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import csv_files
from goodwill.actions.csv_files import (
    HEADER_SEARCH,
    Counting,
    Stop,
    check_rows,
    delimiter_of,
    limit,
)
from goodwill.actions.import_headers import detect_header, load_profiles, resolve_header
from goodwill.domain.audit import Actor
from goodwill.domain.exports import (
    Document,
    Layout,
    Problem,
    RefundDoc,
    Skipped,
    find_header,
    read_documents,
)
from goodwill.domain.profiles import Profile
from goodwill.domain.records import (
    ClientRow,
    FileKind,
    PaymentRow,
    PurchaseRow,
    Reading,
    Row,
    RowError,
    read_row,
)
from goodwill.errors import GoodwillError, InvalidInput
from goodwill.settings import Settings
from goodwill.store.audit import record as audit_record
from goodwill.store.consent import import_consent
from goodwill.store.import_ledger import Ledger
from goodwill.store.imports_log import running_mark
from goodwill.store.ingest import Ingest, LineRow, Outcome, RefundRow, line_key
from goodwill.store.models import ImportRun
from goodwill.store.queries import business_currency
from goodwill.store.statistics import refresh_statistics

log = logging.getLogger(__name__)

#: The tables an import may grow, whose planner statistics a big import refreshes at its end.
IMPORTED_TABLES = (
    "clients",
    "client_identities",
    "contacts",
    "partners",
    "orders",
    "order_lines",
    "invoices",
    "payments",
    "refunds",
    "events",
    "import_items",
)

Progress = Callable[[int, int], None]
"""Called with (bytes read so far, file size) as the import goes."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class ImportSummary:
    file: str
    kind: FileKind
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    updated: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    import_id: int | None = None
    profile: str | None = None
    detected: str | None = None  # why the profile was chosen, when it was detected
    dry_run: bool = False
    skipped: int = 0  # rows the profile leaves out (voided, failed, drafts)
    replaced: int = 0  # bytes that could not be read in the file's encoding, read as U+FFFD
    created: dict[str, int] = field(default_factory=dict)
    preview: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how the file was read, where it matters

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind.value,
            "profile": self.profile,
            "detected": self.detected,
            "dry_run": self.dry_run,
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
            "encoding": self.encoding,
            "replaced": self.replaced,
            "delimiter": self.delimiter,
            "import_id": self.import_id,
            "created": self.created,
            "preview": self.preview,
            "notes": self.notes,
        }


def import_file(
    store: sessionmaker[Session],
    settings: Settings,
    kind: FileKind | None,
    path: Path,
    *,
    now: datetime,
    mapping: Mapping[str, str] | None = None,
    profile: str | None = None,
    dry_run: bool = False,
    user: str | None = None,
    actor: Actor | None = None,
    on_progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
    should_stop: Stop | None = None,
    chunk_size: int = 2000,
) -> ImportSummary:
    """Import one CSV file; see the module docstring for the guarantees.

    ``kind`` reads the canonical columns (with ``mapping``); ``profile`` (or, with neither,
    the profile detected from the header) reads a vendor's export. ``dry_run`` writes each chunk
    in a transaction rolled back at once, so the summary tells what would be created and the
    store keeps nothing. ``should_stop`` is asked at every row: True stops the run with
    :class:`Cancelled` (a real run is then marked failed; running it again completes it).
    A finished real run is written to the audit log as ``import.run`` by ``actor`` (when no one
    is named, the import itself, by its file name).
    """
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", file=str(path))
    profiles = load_profiles(settings)
    chosen: Profile | None = None
    columns = dict(mapping or {})
    if profile is not None:
        if profile in profiles and (kind is None or profile not in settings.mappings):
            chosen = profiles[profile]
        elif kind is not None and profile in settings.mappings:
            columns = {**settings.mappings[profile], **columns}
        else:
            known = ", ".join(sorted({*profiles, *settings.mappings}))
            raise InvalidInput(
                f"--profile {profile!r}: no such profile (known: {known})", option="--profile"
            )
    scan = csv_files.scan(path)
    check_rows(settings, path, scan)
    delimiter = delimiter_of(scan.sample)
    max_columns = limit(settings, "max_columns")
    detected: str | None = None
    if chosen is None and kind is None:
        detection = detect_header(profiles, path, scan.encoding, delimiter, max_columns)
        chosen, detected = detection.profile, detection.reason
    summary = ImportSummary(
        file=str(path),
        kind=kind if chosen is None and kind is not None else FileKind.PROFILE,
        encoding=scan.encoding.replace("-sig", ""),
        delimiter=delimiter,
        profile=chosen.name if chosen else None,
        detected=detected,
        dry_run=dry_run,
        replaced=scan.replaced,
    )
    if scan.replaced:
        log.info("import of a file with %d unreadable bytes (replaced)", scan.replaced)
    job = _Job(
        settings=settings,
        path=path,
        sha=scan.sha256,
        encoding=scan.encoding,
        max_columns=max_columns,
        stop=should_stop,
        now=now,
        summary=summary,
        user=user,
        actor=actor or Actor.importer(path.name),
        on_progress=on_progress,
        chunk_size=chunk_size,
        scope=tuple(p.name for p in profiles.values() if chosen and p.source == chosen.source),
        on_start=None if dry_run else on_start,
        currency=business_currency(store, settings),
    )
    with _writing(store, dry_run) as target:
        job.store = target
        try:
            if chosen is not None:
                job.run_profile(chosen)
            else:
                assert kind is not None
                job.run_canonical(kind, columns)
        except BaseException as exc:
            job.fail(exc)
            raise
        job.finish()
    if not dry_run:
        refresh_statistics(store, dict.fromkeys(IMPORTED_TABLES, summary.read))
    return summary


class _Target(Protocol):
    """Where an import's chunks go: each ``begin()`` is one short transaction."""

    def begin(self) -> AbstractContextManager[Session]: ...


class _Discarded:
    """A dry run's target: each chunk in its own transaction, rolled back as it ends, so a
    preview keeps nothing and holds no lock between chunks (or while it reads the file)."""

    def __init__(self, store: sessionmaker[Session]) -> None:
        self._store = store

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._store() as session:
            try:
                yield session
                session.flush()
            finally:
                session.rollback()


@contextmanager
def _writing(store: sessionmaker[Session], dry_run: bool) -> Iterator[_Target]:
    """Where an import writes: the store, or for a dry run nowhere (:class:`_Discarded`)."""
    yield _Discarded(store) if dry_run else store


@dataclass
class _Job:
    """One run of an import: the file, the record of the run, the writer of its chunks."""

    settings: Settings
    path: Path
    sha: str
    encoding: str
    now: datetime
    summary: ImportSummary
    user: str | None
    actor: Actor
    on_progress: Progress | None
    chunk_size: int
    scope: tuple[str, ...]
    max_columns: int = 0
    stop: Stop | None = None
    on_start: Callable[[int], None] | None = None
    store: _Target | None = None
    run_id: int = 0
    position: int = 0
    ledger: Ledger = field(default_factory=Ledger)
    currency: tuple[str, str] = ("USD", "")  # rows naming no currency are read in it, and why
    unchanged: set[int] = field(default_factory=set)  # first lines of documents stored as they are

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def _reading(self, profile: Profile | None = None) -> Reading:
        return Reading(
            zone=self.settings.zone,
            currency=self.currency[0],
            date_order=(profile.date_order if profile else None) or self.settings.date_order,
            decimal_comma=profile.decimal_comma if profile else None,
        )

    def _unnamed_currency(self) -> None:
        code, why = self.currency
        self.summary.notes.append(f"No currency column: amounts are read as {code}, {why}.")

    def _start(self, kind: str) -> None:
        assert self.store is not None
        if self.summary.dry_run:
            # Nothing of a preview is kept, so there is no run to record; what it would create
            # is counted once across its chunks, each rolled back before the next.
            self.ledger.shown_once = set()
            return
        with self.store.begin() as session:
            run = ImportRun(
                kind=kind,
                file_name=self.path.name,
                sha256=self.sha,
                started_at=self.now,
                counts={},
                profile=self.summary.profile,
                user=self.user,
                status="running",
                bytes_total=self.size,
                summary=running_mark(),
            )
            session.add(run)
            session.flush()
            self.run_id = run.id
        self.summary.import_id = None if self.summary.dry_run else self.run_id
        if self.on_start is not None:
            self.on_start(self.run_id)
        log.info(
            "import %s started: kind=%s profile=%s sha256=%s",
            self.run_id,
            kind,
            self.summary.profile,
            self.sha[:12],
        )

    def _progress(self, position: int) -> None:
        self.position = position
        if self.on_progress:
            self.on_progress(position, self.size)

    def _commit(self, write: Callable[[Ingest], None]) -> None:
        """One chunk: its rows, what it brought, and how far the import got, in one
        transaction."""
        assert self.store is not None
        with self.store.begin() as session:
            ingest = Ingest(
                session,
                now=self.now,
                zone=self.settings.zone,
                ledger=self.ledger,
                name_scope=self.scope,
            )
            write(ingest)
            if self.summary.dry_run:
                self.ledger.items.clear()
                return
            self.ledger.flush(session, self.run_id)
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(bytes_done=self.position, summary=running_mark())
            )

    # -- canonical files ---------------------------------------------------------------------

    def run_canonical(self, kind: FileKind, mapping: Mapping[str, str]) -> None:
        counter: list[Counting] = []
        records = csv_files.records(
            self.path,
            self.encoding,
            self.summary.delimiter,
            counter,
            max_columns=self.max_columns,
            stop=self.stop,
        )
        try:
            _, header = next(records)
        except StopIteration:
            raise InvalidInput(f"{self.path}: the file is empty", file=str(self.path)) from None
        fields = resolve_header(kind, header, mapping, self.path)
        if "amount" in fields and "currency" not in fields:
            self._unnamed_currency()
        reading = self._reading()
        self._start(kind.value)
        writer = _ChunkWriter(self, kind)
        occurrences: Counter[tuple[str, str]] = Counter()
        pending: list[tuple[int, Row | LineRow]] = []
        summary = self.summary
        for line, record in records:
            if not any(value.strip() for value in record):
                continue
            summary.read += 1
            extra = record[len(fields) :]
            if any(value.strip() for value in extra):
                summary.errors.append(
                    RowProblem(
                        line, "", f"{len(record)} values but the header has {len(fields)} columns"
                    )
                )
                continue
            values = {f: record[i] if i < len(record) else "" for i, f in enumerate(fields) if f}
            try:
                row = read_row(kind, values, reading)
            except RowError as exc:
                summary.errors.append(RowProblem(line, exc.column, exc.reason))
                continue
            item: Row | LineRow = row
            if isinstance(row, PurchaseRow):
                basis = line_key(row, 0)
                occurrences[(row.order_id, basis)] += 1
                item = LineRow(row, line_key(row, occurrences[(row.order_id, basis)] - 1))
                if len(pending) >= self.chunk_size and _order_of(pending[-1][1]) != row.order_id:
                    writer.write(pending)
                    pending = []
            elif len(pending) >= self.chunk_size:
                writer.write(pending)
                pending = []
            pending.append((line, item))
            if counter:
                self._progress(counter[0].position)
        if pending:
            writer.write(pending)

    # -- vendor exports ----------------------------------------------------------------------

    def run_profile(self, profile: Profile) -> None:
        counter: list[Counting] = []
        records = csv_files.records(
            self.path,
            self.encoding,
            self.summary.delimiter,
            counter,
            max_columns=self.max_columns,
            stop=self.stop,
        )
        found = find_header(profile, records, within=HEADER_SEARCH)
        if found is None:
            raise InvalidInput(
                f"{self.path}: this is not a {profile.title} file: no header row has "
                f"{', '.join(repr(d) for d in profile.detect)}",
                file=str(self.path),
            )
        header_line, header = found
        layout = Layout.of(profile, header)
        missing = layout.missing()
        if missing:
            raise InvalidInput(
                f"{self.path}: line {header_line}: missing column {', '.join(missing)}",
                file=str(self.path),
                line=header_line,
            )
        if "currency" not in layout.positions:
            self._unnamed_currency()
        self._start("profile")
        summary = self.summary
        data_rows = _counted(records, summary)
        pending: list[Document] = []
        refunds: list[RefundDoc] = []
        for item in read_documents(layout, data_rows, self._reading(profile)):
            if isinstance(item, Problem):
                summary.errors.append(RowProblem(item.line, item.column, item.reason))
            elif isinstance(item, Skipped):
                summary.skipped += len(item.lines)
            elif isinstance(item, RefundDoc):
                refunds.append(item)
            else:
                pending.append(item)
                if sum(len(d.lines) for d in pending) >= self.chunk_size:
                    refunds = self._write_documents(pending, refunds)
                    pending = []
            if counter:
                self._progress(counter[0].position)
        if pending or (summary.dry_run and refunds):
            refunds = self._write_documents(pending, refunds, last=True)
        for start in range(0, len(refunds), self.chunk_size):
            self._write_refunds(refunds[start : start + self.chunk_size])

    def _write_documents(
        self, documents: list[Document], refunds: list[RefundDoc], *, last: bool = False
    ) -> list[RefundDoc]:
        """Write a chunk of documents; the refunds still to write after them.

        A real import writes every refund at the end (a refund may come before its order). A
        preview's chunks are rolled back one by one, so it writes the refunds seen so far of
        this chunk's orders with them, and with the last chunk all the others.
        """
        due: list[RefundDoc] = []
        if self.summary.dry_run and refunds:
            mine = {d.order_id for d in documents}
            due = [r for r in refunds if last or r.order_id in mine]
            refunds = [r for r in refunds if not (last or r.order_id in mine)]
        with_refunds = self._refund_writer(due)

        def write(ingest: Ingest) -> None:
            rows = [
                LineRow(
                    PurchaseRow(
                        ref=d.ref,
                        order_id=d.order_id,
                        occurred_at=d.occurred_at,
                        amount_minor=line.amount_minor,
                        currency=d.currency,
                        product=line.product,
                        category=line.category,
                        channel=d.channel,
                        quantity=line.quantity,
                    ),
                    line.key,
                )
                for d in documents
                for line in d.lines
            ]
            outcomes = ingest.purchases(rows)
            by_order: dict[str, list[Outcome]] = {}
            for row, outcome in zip(rows, outcomes, strict=True):
                by_order.setdefault(row.row.order_id, []).append(outcome)
            invoices = [d for d in documents if d.invoice is not None]
            paid = ingest.payments(
                [
                    PaymentRow(
                        ref=d.ref,
                        invoice_id=d.order_id,
                        amount_minor=d.invoice.amount_minor,
                        currency=d.currency,
                        issued_at=d.invoice.issued_on,
                        due_date=d.invoice.due_on,
                        paid_at=d.invoice.paid_on,
                        settled=d.invoice.settled,
                    )
                    for d in invoices
                    if d.invoice is not None
                ]
            )
            for d, outcome in zip(invoices, paid, strict=True):
                by_order.setdefault(d.order_id, []).append(outcome)
            for d in documents:
                self._count(d.lines_read, by_order.get(d.order_id, []))
            import_consent(ingest, documents, self.summary.profile)
            with_refunds(ingest)

        self._guarded(write, [d.lines_read for d in documents] + [(r.line,) for r in due])
        return refunds

    def _write_refunds(self, refunds: list[RefundDoc]) -> None:
        self._guarded(self._refund_writer(refunds), [(r.line,) for r in refunds])

    def _refund_writer(self, refunds: list[RefundDoc]) -> Callable[[Ingest], None]:
        def write(ingest: Ingest) -> None:
            if not refunds:
                return
            outcomes = ingest.refunds(
                [
                    RefundRow(
                        ref=r.ref,
                        order_id=r.order_id,
                        key=r.key,
                        amount_minor=r.amount_minor,
                        occurred_at=r.occurred_at,
                        currency=r.currency,
                        cumulative=r.cumulative,
                    )
                    for r in refunds
                ]
            )
            for r, outcome in zip(refunds, outcomes, strict=True):
                if r.cumulative:  # the document's own row, already counted with it
                    if isinstance(outcome, RowError):
                        self.summary.errors.append(
                            RowProblem(r.line, outcome.column, outcome.reason)
                        )
                    elif outcome == "imported" and r.line in self.unchanged:
                        self.unchanged.discard(r.line)
                        self.summary.duplicates -= 1
                        self.summary.updated += 1
                else:
                    self._count((r.line,), [outcome])

        return write

    def _guarded(self, write: Callable[[Ingest], None], lines: list[tuple[int, ...]]) -> None:
        try:
            self._commit(write)
        except IntegrityError as exc:
            first = min((group[0] for group in lines if group), default=0)
            log.warning("import %s: a chunk conflicts with stored data: %s", self.run_id, exc)
            self.summary.errors.append(
                RowProblem(first, "", "these rows conflict with stored data; nothing was written")
            )

    def _count(self, lines: tuple[int, ...], outcomes: list[Outcome]) -> None:
        errors = [o for o in outcomes if isinstance(o, RowError)]
        if errors:
            self.summary.errors.append(RowProblem(lines[0], errors[0].column, errors[0].reason))
            return
        if "imported" in outcomes and all(o == "imported" for o in outcomes[:1]):
            self.summary.imported += len(lines)
        elif "imported" in outcomes or "updated" in outcomes:
            self.summary.updated += len(lines)
        else:
            self.summary.duplicates += len(lines)
            self.unchanged.add(lines[0])

    # -- the end -----------------------------------------------------------------------------

    def fail(self, exc: BaseException) -> None:
        """Mark a run that stopped on an error, with the reason; what its committed chunks wrote
        stays, and running the same import again completes it."""
        if not self.run_id or self.store is None or self.summary.dry_run:
            return
        reason = exc.message if isinstance(exc, GoodwillError) else f"{type(exc).__name__}: {exc}"
        try:
            with self.store.begin() as session:
                session.execute(
                    update(ImportRun)
                    .where(ImportRun.id == self.run_id)
                    .values(
                        status="failed",
                        finished_at=self.now,
                        summary={**self.summary.as_dict(), "error": reason},
                    )
                )
        except Exception:  # the store itself may be what failed
            log.exception("import %s: could not record the failure", self.run_id)

    def finish(self) -> None:
        assert self.store is not None
        summary = self.summary
        summary.errors.sort(key=lambda e: e.line)
        summary.created = {
            "clients": self.ledger.created["client"],
            "orders": self.ledger.created["order"],
            "invoices": self.ledger.created["invoice"],
            "payments": self.ledger.created["payment"],
            "refunds": self.ledger.created["refund"],
        }
        summary.preview = {
            f"{entity}s": rows for entity, rows in self.ledger.preview.items() if entity != "line"
        }
        self._progress(self.size)
        if summary.dry_run:
            return
        with self.store.begin() as session:
            stored = session.get(ImportRun, self.run_id)
            if stored is not None:
                stored.finished_at = self.now
                stored.status = "done"
                stored.bytes_done = self.size
                stored.counts = {
                    "read": summary.read,
                    "imported": summary.imported,
                    "duplicates": summary.duplicates,
                    "updated": summary.updated,
                    "skipped": summary.skipped,
                    "errors": len(summary.errors),
                    "created": summary.created,
                }
                stored.summary = summary.as_dict()
                audit_record(
                    session,
                    self.actor,
                    "import.run",
                    at=self.now,
                    object_type="import",
                    object_id=self.run_id,
                    after={
                        "file": self.path.name,
                        "profile": summary.profile or str(summary.kind),
                        "counts": stored.counts,
                    },
                )
        log.info(
            "import %s finished: read=%d imported=%d duplicates=%d updated=%d skipped=%d errors=%d",
            self.run_id,
            summary.read,
            summary.imported,
            summary.duplicates,
            summary.updated,
            summary.skipped,
            len(summary.errors),
        )


def _counted(
    records: Iterator[tuple[int, list[str]]], summary: ImportSummary
) -> Iterator[tuple[int, list[str]]]:
    for line, record in records:
        if any(value.strip() for value in record):
            summary.read += 1
        yield line, record


def _order_of(item: Row | LineRow) -> str | None:
    return item.row.order_id if isinstance(item, LineRow) else None


class _ChunkWriter:
    """Writes a chunk of canonical rows in one transaction; a chunk the store refuses is retried
    row by row, so one conflicting row is reported and the others still land."""

    def __init__(self, job: _Job, kind: FileKind) -> None:
        self.job, self.kind = job, kind
        self.summary = job.summary

    def write(self, chunk: list[tuple[int, Row | LineRow]]) -> None:
        outcomes: list[Outcome] = []
        try:
            self.job._commit(lambda ingest: outcomes.extend(self._write(ingest, chunk)))
        except IntegrityError:
            if len(chunk) == 1:
                line = chunk[0][0]
                self.summary.errors.append(RowProblem(line, "", "conflicts with stored data"))
                return
            for single in chunk:
                self.write([single])
            return
        for (line, _), outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, RowError):
                self.summary.errors.append(RowProblem(line, outcome.column, outcome.reason))
            elif outcome == "imported":
                self.summary.imported += 1
            elif outcome == "updated":
                self.summary.updated += 1
            else:
                self.summary.duplicates += 1

    def _write(self, ingest: Ingest, chunk: list[tuple[int, Row | LineRow]]) -> list[Outcome]:
        items = [item for _, item in chunk]
        if self.kind is FileKind.PURCHASES:
            return ingest.purchases([i for i in items if isinstance(i, LineRow)])
        if self.kind is FileKind.PAYMENTS:
            return ingest.payments([i for i in items if isinstance(i, PaymentRow)])
        return ingest.clients([i for i in items if isinstance(i, ClientRow)])

"""Importing CSV exports into client memory.

The file is streamed; rows are read by the domain (dates, amounts, ids) and written in chunks,
each chunk one transaction. A bad row is reported with its line (as an editor shows it, the header
being line 1), its column and the reason, and the good rows land. Killing the process loses at most
the chunk in flight, which the next run of the same import writes; nothing is ever written twice
because every write is keyed by the source's own ids.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.exports import (
    Document,
    Layout,
    Problem,
    RefundDoc,
    Skipped,
    find_header,
    read_documents,
)
from goodwill.domain.profiles import Detection, Profile, detect, parse_profiles
from goodwill.domain.records import (
    COLUMNS,
    ClientRow,
    FileKind,
    PaymentRow,
    PurchaseRow,
    Reading,
    Row,
    RowError,
    missing_columns,
    read_row,
)
from goodwill.errors import ConfigError, GoodwillError, InvalidInput
from goodwill.settings import Settings
from goodwill.store.ingest import Ingest, Ledger, LineRow, Outcome, RefundRow, line_key
from goodwill.store.models import ImportRun

log = logging.getLogger(__name__)

PROFILES = Path(__file__).resolve().parent.parent / "defaults" / "profiles.toml"
#: Rows searched for the header row (reports put title rows above it).
HEADER_SEARCH = 25

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
    created: dict[str, int] = field(default_factory=dict)
    preview: dict[str, list[dict[str, str]]] = field(default_factory=dict)

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
            "delimiter": self.delimiter,
            "import_id": self.import_id,
            "created": self.created,
            "preview": self.preview,
        }


def normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``--map source_column=field`` options as a dict; refuses anything else by name."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InvalidInput(f"--map {pair!r}: expected source_column=field", option="--map")
        mapping[source.strip()] = target.strip()
    return mapping


def resolve_header(
    kind: FileKind, header: Sequence[str], mapping: Mapping[str, str], path: Path
) -> list[str]:
    """The canonical field name of each column ('' for a column that is ignored)."""
    required, optional = COLUMNS[kind]
    known = set(required) | set(optional)
    by_source = {normalise_header(k): v for k, v in mapping.items()}
    normalised = [normalise_header(h) for h in header]
    for source, target in by_source.items():
        if target not in known:
            raise InvalidInput(
                f"{path}: --map {source}={target}: {target!r} is not a {kind.value} field "
                f"(fields: {', '.join(sorted(known))})",
                file=str(path),
                field=target,
            )
        if source not in normalised:
            raise InvalidInput(
                f"{path}: --map {source}={target}: the file has no column {source!r}",
                file=str(path),
                column=source,
            )
    fields = [by_source.get(h, h if h in known else "") for h in normalised]
    for name, count in Counter(f for f in fields if f).items():
        if count > 1:
            raise InvalidInput(
                f"{path}: line 1: more than one column maps to {name!r}",
                file=str(path),
                line=1,
                field=name,
            )
    missing = missing_columns(kind, fields)
    if missing:
        raise InvalidInput(
            f"{path}: line 1: missing column {', '.join(missing)} "
            f"(the header has: {', '.join(header)})",
            file=str(path),
            line=1,
            column=missing[0],
        )
    return fields


def _scan(path: Path) -> tuple[str, str, str]:
    """(sha256, encoding, a sample) in one pass: UTF-8 (with or without BOM), else cp1252."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig"
    sample = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if len(sample) < 65536:
                sample += chunk[: 65536 - len(sample)]
            if encoding == "utf-8-sig":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "cp1252"
    text = sample.decode(encoding, errors="ignore")
    return digest.hexdigest(), encoding, text


def _delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


class _Counting(io.RawIOBase):
    """A binary reader that counts bytes, so progress can be shown by position in the file."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.position += n
        return n


def _records(
    path: Path, encoding: str, delimiter: str, counter: list[_Counting]
) -> Iterator[tuple[int, list[str]]]:
    with path.open("rb") as raw:
        counting = _Counting(raw)
        counter.append(counting)
        text = io.TextIOWrapper(io.BufferedReader(counting), encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(
                    f"{path}: line {start}: {exc}", file=str(path), line=start
                ) from exc
            yield start, record


def load_profiles(settings: Settings) -> dict[str, Profile]:
    """The built-in profiles, with the business's own added or overriding them."""
    builtin = parse_profiles(
        tomllib.loads(PROFILES.read_text(encoding="utf-8")), source=str(PROFILES), builtin=True
    )
    if not settings.profiles:
        return builtin
    source = str(settings.config_path or "configuration")
    return parse_profiles({"profiles": settings.profiles}["profiles"], source=source, base=builtin)


def detect_file(settings: Settings, path: Path) -> Detection:
    """The profile the file's header row fits (looking past a report's title rows)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", file=str(path))
    _, encoding, sample = _scan(path)
    return _detect(load_profiles(settings), path, encoding, _delimiter(sample))


def _detect(
    profiles: Mapping[str, Profile], path: Path, encoding: str, delimiter: str
) -> Detection:
    for count, (_, record) in enumerate(_records(path, encoding, delimiter, [])):
        try:
            found = detect(profiles, record)
        except ConfigError as exc:
            raise InvalidInput(f"{path}: {exc.message}", file=str(path)) from exc
        if found is not None:
            return found
        if count >= HEADER_SEARCH:
            break
    raise InvalidInput(
        f"{path}: no import profile fits this file's header row; name one with --profile "
        f"({', '.join(sorted(profiles))}) or import it as clients, purchases or payments "
        "with --map",
        file=str(path),
    )


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
    on_progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
) -> ImportSummary:
    """Import one CSV file; see the module docstring for the guarantees.

    ``kind`` reads the canonical columns (with ``mapping``); ``profile`` (or, with neither,
    the profile detected from the header) reads a vendor's export. ``dry_run`` does all of it
    in a transaction that is rolled back, so the summary tells what would be created.
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
    sha, encoding, sample = _scan(path)
    delimiter = _delimiter(sample)
    detected: str | None = None
    if chosen is None and kind is None:
        detection = _detect(profiles, path, encoding, delimiter)
        chosen, detected = detection.profile, detection.reason
    summary = ImportSummary(
        file=str(path),
        kind=kind if chosen is None and kind is not None else FileKind.PROFILE,
        encoding=encoding.replace("-sig", ""),
        delimiter=delimiter,
        profile=chosen.name if chosen else None,
        detected=detected,
        dry_run=dry_run,
    )
    job = _Job(
        settings=settings,
        path=path,
        sha=sha,
        encoding=encoding,
        now=now,
        summary=summary,
        user=user,
        on_progress=on_progress,
        chunk_size=chunk_size,
        scope=tuple(p.name for p in profiles.values() if chosen and p.source == chosen.source),
        on_start=None if dry_run else on_start,
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
    return summary


@contextmanager
def _writing(store: sessionmaker[Session], dry_run: bool) -> Iterator[sessionmaker[Session]]:
    """Where an import writes: the store, or for a dry run one transaction rolled back at the
    end, in which every chunk is a savepoint."""
    if not dry_run:
        yield store
        return
    engine = store.kw["bind"]
    with engine.connect() as connection:
        outer = connection.begin()
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver opens its transaction at the first write; open it now, so the
            # chunks' savepoints nest inside it instead of committing on release.
            connection.execute(text("UPDATE imports SET id = id WHERE 1 = 0"))
        try:
            yield sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        finally:
            outer.rollback()


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
    on_progress: Progress | None
    chunk_size: int
    scope: tuple[str, ...]
    on_start: Callable[[int], None] | None = None
    store: sessionmaker[Session] | None = None
    run_id: int = 0
    position: int = 0
    ledger: Ledger = field(default_factory=Ledger)
    unchanged: set[int] = field(default_factory=set)  # first lines of documents stored as they are

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def _reading(self, profile: Profile | None = None) -> Reading:
        return Reading(
            zone=self.settings.zone,
            currency=self.settings.currency or "USD",
            date_order=(profile.date_order if profile else None) or self.settings.date_order,
            decimal_comma=profile.decimal_comma if profile else None,
        )

    def _start(self, kind: str) -> None:
        assert self.store is not None
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
            self.ledger.flush(session, self.run_id)
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(bytes_done=self.position)
            )

    # -- canonical files ---------------------------------------------------------------------

    def run_canonical(self, kind: FileKind, mapping: Mapping[str, str]) -> None:
        counter: list[_Counting] = []
        records = _records(self.path, self.encoding, self.summary.delimiter, counter)
        try:
            _, header = next(records)
        except StopIteration:
            raise InvalidInput(f"{self.path}: the file is empty", file=str(self.path)) from None
        fields = resolve_header(kind, header, mapping, self.path)
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
        counter: list[_Counting] = []
        records = _records(self.path, self.encoding, self.summary.delimiter, counter)
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
                    self._write_documents(pending)
                    pending = []
            if counter:
                self._progress(counter[0].position)
        if pending:
            self._write_documents(pending)
        for start in range(0, len(refunds), self.chunk_size):
            self._write_refunds(refunds[start : start + self.chunk_size])

    def _write_documents(self, documents: list[Document]) -> None:
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

        self._guarded(write, [d.lines_read for d in documents])

    def _write_refunds(self, refunds: list[RefundDoc]) -> None:
        def write(ingest: Ingest) -> None:
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

        self._guarded(write, [(r.line,) for r in refunds])

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

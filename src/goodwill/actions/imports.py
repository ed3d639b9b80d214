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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

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
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.ingest import Ingest, LineRow, Outcome, line_key
from goodwill.store.models import ImportRun

log = logging.getLogger(__name__)

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind.value,
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "errors": [e.as_dict() for e in self.errors],
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "import_id": self.import_id,
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


def import_file(
    store: sessionmaker[Session],
    settings: Settings,
    kind: FileKind,
    path: Path,
    *,
    now: datetime,
    mapping: Mapping[str, str] | None = None,
    on_progress: Progress | None = None,
    chunk_size: int = 2000,
) -> ImportSummary:
    """Import one CSV file of ``kind``; see the module docstring for the guarantees."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", file=str(path))
    sha, encoding, sample = _scan(path)
    delimiter = _delimiter(sample)
    summary = ImportSummary(
        file=str(path), kind=kind, encoding=encoding.replace("-sig", ""), delimiter=delimiter
    )
    size = path.stat().st_size
    counter: list[_Counting] = []
    records = _records(path, encoding, delimiter, counter)
    try:
        _, header = next(records)
    except StopIteration:
        raise InvalidInput(f"{path}: the file is empty", file=str(path)) from None
    fields = resolve_header(kind, header, mapping or {}, path)
    reading = Reading(
        zone=settings.zone, currency=settings.currency or "USD", date_order=settings.date_order
    )
    with store.begin() as session:
        run = ImportRun(kind=kind.value, file_name=path.name, sha256=sha, started_at=now, counts={})
        session.add(run)
        session.flush()
        summary.import_id = run.id
    log.info("import %s started: kind=%s sha256=%s", run.id, kind.value, sha[:12])
    writer = _ChunkWriter(store, settings, kind, now, summary)
    occurrences: Counter[tuple[str, str]] = Counter()
    pending: list[tuple[int, Row | LineRow]] = []
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
            if len(pending) >= chunk_size and _order_of(pending[-1][1]) != row.order_id:
                writer.write(pending)
                pending = []
        elif len(pending) >= chunk_size:
            writer.write(pending)
            pending = []
        pending.append((line, item))
        if on_progress and counter:
            on_progress(counter[0].position, size)
    if pending:
        writer.write(pending)
    if on_progress:
        on_progress(size, size)
    summary.errors.sort(key=lambda e: e.line)
    with store.begin() as session:
        stored = session.get(ImportRun, run.id)
        if stored is not None:
            stored.finished_at = now
            stored.counts = {
                k: v
                for k, v in summary.as_dict().items()
                if k in ("read", "imported", "duplicates", "updated")
            } | {"errors": len(summary.errors)}
    log.info(
        "import %s finished: read=%d imported=%d duplicates=%d updated=%d errors=%d",
        run.id,
        summary.read,
        summary.imported,
        summary.duplicates,
        summary.updated,
        len(summary.errors),
    )
    return summary


def _order_of(item: Row | LineRow) -> str | None:
    return item.row.order_id if isinstance(item, LineRow) else None


class _ChunkWriter:
    """Writes a chunk in one transaction; a chunk the store refuses is retried row by row, so
    one conflicting row is reported and the others still land."""

    def __init__(
        self,
        store: sessionmaker[Session],
        settings: Settings,
        kind: FileKind,
        now: datetime,
        summary: ImportSummary,
    ) -> None:
        self.store, self.settings, self.kind, self.now = store, settings, kind, now
        self.summary = summary

    def write(self, chunk: list[tuple[int, Row | LineRow]]) -> None:
        try:
            outcomes = self._write([item for _, item in chunk])
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

    def _write(self, items: list[Row | LineRow]) -> list[Outcome]:
        with self.store.begin() as session:
            ingest = Ingest(session, now=self.now, zone=self.settings.zone)
            if self.kind is FileKind.PURCHASES:
                return ingest.purchases([i for i in items if isinstance(i, LineRow)])
            if self.kind is FileKind.PAYMENTS:
                return ingest.payments([i for i in items if isinstance(i, PaymentRow)])
            return ingest.clients([i for i in items if isinstance(i, ClientRow)])

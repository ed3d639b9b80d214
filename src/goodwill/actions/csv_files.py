"""Reading an import's CSV file, whatever bytes it holds: its encoding and delimiter, its
records, within the ``imports`` limits.

A file that is not valid UTF-8 is read as cp1252; bytes neither reads are replaced (U+FFFD)
and counted, so nothing stops on them. A binary file (NUL bytes), more rows or columns than the
limits allow, or a stop asked for ends the reading with an error that says which.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodwill.errors import InvalidInput
from goodwill.setting_tables import IMPORTS_DEFAULTS
from goodwill.settings import Settings

#: Rows searched for the header row (reports put title rows above it).
HEADER_SEARCH = 25
Stop = Callable[[], bool]
"""Asked as the import goes (at every row); True stops it with :class:`Cancelled`."""

#: Bytes cp1252 leaves undefined: read as U+FFFD and counted.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


class Cancelled(InvalidInput):
    """The import was cancelled while it ran; what its committed chunks wrote stays."""


@dataclass(frozen=True)
class Scan:
    sha256: str
    encoding: str  # the codec the file is read with (bytes it cannot read become U+FFFD)
    sample: str  # the first 64 KiB, decoded
    replaced: int  # bytes the codec cannot read
    lines: int  # line breaks in the file


_ASCII = bytes(range(128))


def scan(path: Path) -> Scan:
    """One pass over the bytes: hash, encoding, a sample and the line count.

    UTF-8 (with or without BOM) when every byte reads as UTF-8, or when the valid non-ASCII
    sequences outnumber the broken ones (a UTF-8 file with a few stray bytes: those are
    replaced); otherwise cp1252, whose five undefined bytes are replaced. A NUL byte means the
    file is not text (a spreadsheet, an archive, UTF-16): refused with an error saying so.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    broken = foreign = undefined = lines = 0
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            if b"\x00" in chunk:
                raise InvalidInput(
                    f"{path}: this is not a CSV file: it holds binary data (NUL bytes); "
                    "save it as CSV (comma-separated values, UTF-8) and import that",
                    file=str(path),
                )
            lines += chunk.count(b"\n")
            undefined += sum(chunk.count(b) for b in CP1252_UNDEFINED)
            foreign += len(chunk.translate(None, _ASCII))
            broken += decoder.decode(chunk).count("\ufffd")
        broken += decoder.decode(b"", final=True).count("\ufffd")
    if broken == 0:
        encoding, replaced = "utf-8-sig", 0
    elif foreign - broken > broken:
        encoding, replaced = "utf-8-sig", broken
    else:
        encoding, replaced = "cp1252", undefined
    sample = head.decode(encoding, errors="replace")
    return Scan(digest.hexdigest(), encoding, sample, replaced, lines)


def delimiter_of(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


class Counting(io.RawIOBase):
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


def records(
    path: Path,
    encoding: str,
    delimiter: str,
    counter: list[Counting],
    *,
    max_columns: int = 0,
    stop: Stop | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """The file's records with the line each starts on; bytes the encoding cannot read are
    U+FFFD. A record wider than ``max_columns`` (0: no limit) or a ``stop`` ends it."""
    with path.open("rb") as raw:
        counting = Counting(raw)
        counter.append(counting)
        text = io.TextIOWrapper(
            io.BufferedReader(counting), encoding=encoding, errors="replace", newline=""
        )
        reader = csv.reader(text, delimiter=delimiter)
        while True:
            start = reader.line_num + 1
            if stop is not None and stop():
                raise Cancelled(f"cancelled at line {start}", file=str(path), line=start)
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(
                    f"{path}: line {start}: {exc}", file=str(path), line=start
                ) from exc
            if max_columns and len(record) > max_columns:
                raise InvalidInput(
                    f"{path}: line {start}: {len(record):,} columns, more than the "
                    f"{max_columns:,} an import may have (the imports.max_columns setting)",
                    file=str(path),
                    line=start,
                )
            yield start, record


def limit(settings: Settings, name: str) -> int:
    return int(settings.imports.get(name, IMPORTS_DEFAULTS[name]))


def check_rows(settings: Settings, path: Path, scan: Scan) -> None:
    """Refuse a file with more lines than ``imports.max_rows`` allows (plus title rows)."""
    most = limit(settings, "max_rows")
    if most and scan.lines > most + HEADER_SEARCH:
        raise InvalidInput(
            f"{path}: {scan.lines:,} lines, more than the {most:,} rows an import may have "
            "(the imports.max_rows setting)",
            file=str(path),
        )


__all__ = [
    "CP1252_UNDEFINED",
    "HEADER_SEARCH",
    "Cancelled",
    "Counting",
    "Scan",
    "Stop",
    "check_rows",
    "delimiter_of",
    "limit",
    "records",
    "scan",
]

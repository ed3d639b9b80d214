"""Which column of an import file is which: a profile recognised from the header row (looking
past a report's title rows), or the columns named by hand with ``--map``.

The built-in profiles live in ``defaults/profiles.toml``; a business adds its own in settings.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from goodwill.actions import csv_files
from goodwill.actions.csv_files import HEADER_SEARCH, check_rows, delimiter_of, limit
from goodwill.domain.profiles import Detection, Profile, detect, parse_profiles
from goodwill.domain.records import COLUMNS, FileKind, missing_columns
from goodwill.errors import ConfigError, InvalidInput
from goodwill.settings import Settings

PROFILES = Path(__file__).resolve().parent.parent / "defaults" / "profiles.toml"


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
    scan = csv_files.scan(path)
    check_rows(settings, path, scan)
    columns = limit(settings, "max_columns")
    return detect_header(
        load_profiles(settings), path, scan.encoding, delimiter_of(scan.sample), columns
    )


def detect_header(
    profiles: Mapping[str, Profile],
    path: Path,
    encoding: str,
    delimiter: str,
    max_columns: int = 0,
) -> Detection:
    records = csv_files.records(path, encoding, delimiter, [], max_columns=max_columns)
    for count, (_, record) in enumerate(records):
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

"""`goodwill import` on any bytes: undecodable bytes are replaced and reported, a binary file
or one past the limits stops with one line naming why, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from goodwill.store.database import open_store
from goodwill.store.models import Client
from tests.cli.test_cli import goodwill

HEADER = b"client_id,name,email\n"
UNDEFINED = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D])


def names(url: str) -> dict[str, str]:
    with open_store(url)() as session:
        return {str(c.external_id): c.name for c in session.execute(select(Client)).scalars()}


def test_bytes_cp1252_leaves_undefined_are_replaced_and_reported(
    tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(HEADER + b"C1,Ren\xe9e " + UNDEFINED + b",renee@example.com\nC2,Bo,\n")
    done = goodwill("import", "clients", str(path), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "5 bytes could not be read as cp1252 and were replaced" in done.stdout
    assert names(sqlite_url)["C1"] == "Renée \ufffd\ufffd\ufffd\ufffd\ufffd"
    report = json.loads(goodwill("import", "clients", str(path), "--json", db=sqlite_url).stdout)
    assert report["encoding"] == "cp1252" and report["replaced"] == 5


def test_a_utf8_file_with_a_stray_byte_stays_utf8_with_the_byte_replaced(
    tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "clients.csv"
    rows = "C1,Zoë Ødegård,zoe@example.com\nC2,Łukasz Żak,\n".encode()
    path.write_bytes(HEADER + rows + b"C3,Stray \x81 Byte,\n")
    done = goodwill("import", "clients", str(path), "--json", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["encoding"], report["replaced"], report["imported"]) == ("utf-8", 1, 3)
    stored = names(sqlite_url)
    assert stored["C1"] == "Zoë Ødegård" and stored["C3"] == "Stray \ufffd Byte"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "not a CSV file"),
        ("client_id,name\nC1,Ann\n".encode("utf-16"), "not a CSV file"),
    ],
    ids=["xlsx", "utf-16"],
)
def test_a_binary_file_is_refused_in_one_line(
    tmp_path: Path, sqlite_url: str, content: bytes, words: str
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(content)
    done = goodwill("import", "clients", str(path), db=sqlite_url)
    assert done.returncode != 0
    assert words in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("error:") == 1


def test_the_row_and_column_limits_are_named(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text("[imports]\nmax_rows = 3\nmax_columns = 4\n", "utf-8")
    many = tmp_path / "many.csv"
    many.write_bytes(HEADER + b"".join(b"C%d,N%d,\n" % (i, i) for i in range(40)))
    done = goodwill("import", "clients", str(many), db=sqlite_url, config=config)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "imports.max_rows" in done.stderr and "more than the 3 rows" in done.stderr
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b",".join(b"c%d" % i for i in range(1000)) + b"\n")
    done = goodwill("import", "clients", str(wide), db=sqlite_url, config=config)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "imports.max_columns" in done.stderr and "1,000 columns" in done.stderr
    assert names(sqlite_url) == {}

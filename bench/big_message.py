"""Filing one big message of short lines (50 MB by default), against the standard library's mail
parser reading the same bytes.

goodwill: ``receive`` end to end — the raw bytes stored, the message parsed, the new text
separated from the quotes (on the head of the text only), threaded and filed with its full text —
on SQLite and on PostgreSQL. Baseline: ``email.parser.BytesParser`` (policy.default) parsing the
same bytes and decoding the body, nothing stored: the least any filing of this message costs.
Also reported: the quote separation alone on 50,000 lines, the work that was unbounded before
(about 110 µs a line).

Run: python -m bench.big_message [--megabytes N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from bench.stores import stores
from goodwill.actions.inbox import receive
from goodwill.mail.parse import reply_text
from goodwill.settings import load_settings
from goodwill.store.database import open_store

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
LINE = b"> ok, thanks\r\n"


def message(megabytes: float) -> bytes:
    lines = int(megabytes * 1024 * 1024 / len(LINE))
    return (
        b"From: Ivo <ivo@example.com>\r\nTo: care@shop.example\r\nSubject: Logs\r\n"
        b"Message-ID: <big@example.com>\r\n\r\nThe logs you asked for are below.\r\n\r\n"
        + LINE
        * lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50.0)
    args = parser.parse_args()
    raw = message(args.megabytes)
    started = time.perf_counter()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    body = parsed.get_payload(decode=True)
    assert isinstance(body, bytes) and body.decode()
    baseline = time.perf_counter() - started
    lines_in = raw.count(b"\n")
    print(f"message: {len(raw) / 1e6:.1f} MB, {lines_in:,} lines")
    print(f"baseline: the standard library's parser alone: {baseline:.2f} s")
    lines = "\n".join(["Thanks."] + ["> ok, thanks"] * 50_000)
    started = time.perf_counter()
    reply_text(lines)
    print(f"quote separation alone, 50,000 lines: {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as folder, stores(Path(folder)) as found:
        for name, url_for in found:
            settings = load_settings(database_url=url_for("big"), environ={})
            store = open_store(settings.database_url)
            started = time.perf_counter()
            got = receive(store, settings, raw, source="smtp", now=NOW)
            took = time.perf_counter() - started
            assert got.status == "parsed", got
            print(
                f"goodwill {name}: filed in {took:.2f} s ({took / baseline:.1f}x the parser alone)"
            )
            store.kw["bind"].dispose()


if __name__ == "__main__":
    main()

"""Threading agreement: a mailbox file filed through the real inbox, against a reference that
sees every message at once.

Workload: an mbox (default tests/data/threads.mbox) filed message by message through
``goodwill.actions.inbox.receive`` (what `goodwill mail poll` and `goodwill smtpd` call) into a
scratch SQLite store, in delivery order: each message delivered at its Date plus a delay drawn
uniformly from 0 to N minutes (seeded), so with N > 0 replies may come before their parents.

Peer, in the same run: the reference threader, JWZ over the whole file at once: the connected
components of Message-ID, In-Reply-To and References (placeholders for ids not in the file
included). Printed per window: conversations made vs reference, reference threads matched
exactly, split (one reference thread in several conversations) and merged (one conversation
holding several reference threads); and, when the file carries ``X-Written-Thread`` (the
fixture does; the inbox never reads it), the same against the threads as written.

Run: scripts/bench threads  (the fixture, windows 0, 15 and 360 minutes), or on a file of your own:
.venv/bin/python -m bench.threads FILE.mbox [--shuffle-minutes N ...] [--seed S]
"""

from __future__ import annotations

import argparse
import mailbox
import random
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from sqlalchemy import select

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Message

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "threads.mbox"
_ID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Mail:
    message_id: str
    parents: tuple[str, ...]
    sent_at: datetime
    raw: bytes
    written: str | None


@dataclass(frozen=True)
class Agreement:
    made: int
    reference: int
    exact: int
    split: int
    merged: int

    def line(self) -> str:
        return (
            f"{self.made} conversations vs {self.reference} in the reference, "
            f"{self.exact} exact, {self.split} split, {self.merged} merged"
        )


def read_mbox(path: Path) -> list[Mail]:
    """The file's messages with their ids; those without a Message-ID or Date are left out."""
    out = []
    for m in mailbox.mbox(str(path), create=False):
        own = _ID.findall(str(m.get("Message-ID", "")))
        if not own or not m.get("Date"):
            continue
        parents = _ID.findall(str(m.get("In-Reply-To", ""))) + _ID.findall(
            str(m.get("References", ""))
        )
        sent = parsedate_to_datetime(str(m["Date"]))
        sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
        written = m.get("X-Written-Thread")
        out.append(
            Mail(
                own[0], tuple(parents), sent.astimezone(UTC), m.as_bytes(), written and str(written)
            )
        )
    return out


def reference(mails: Sequence[Mail]) -> list[set[str]]:
    """JWZ over the whole file: messages linked by any id, through placeholders too."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in mails:
        for p in m.parents:
            parent[root(p)] = root(m.message_id)
        root(m.message_id)
    groups: dict[str, set[str]] = {}
    for m in mails:
        groups.setdefault(root(m.message_id), set()).add(m.message_id)
    return list(groups.values())


def agreement(made: Iterable[set[str]], truth: Iterable[set[str]]) -> Agreement:
    made, truth = [set(g) for g in made], [set(g) for g in truth]
    where = {i: n for n, g in enumerate(made) for i in g}
    truth_of = {i: n for n, g in enumerate(truth) for i in g}
    exact = sum(1 for g in truth if any(g == m for m in made))
    split = sum(1 for g in truth if len({where[i] for i in g}) > 1)
    merged = sum(1 for g in made if len({truth_of[i] for i in g}) > 1)
    return Agreement(len(made), len(truth), exact, split, merged)


def deliveries(mails: Sequence[Mail], minutes: float, seed: int) -> list[tuple[datetime, Mail]]:
    """Each message at its Date plus a uniform delay of up to ``minutes``, in delivery order."""
    rng = random.Random(seed)
    timed = [
        (m.sent_at + timedelta(minutes=rng.uniform(0, minutes)), n, m) for n, m in enumerate(mails)
    ]
    return [(at, m) for at, _, m in sorted(timed, key=lambda row: (row[0], row[1]))]


def file_through_inbox(delivered: Sequence[tuple[datetime, Mail]]) -> list[set[str]]:
    """File each message through the real inbox into a scratch store; its conversations."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/threads.db"
        settings = load_settings(database_url=url, environ={})
        store = open_store(url)
        for at, m in delivered:
            receive(store, settings, m.raw, source="maildir", now=at)
        with store() as session:
            rows = session.execute(
                select(Message.message_id, Message.conversation_id).where(Message.direction == "in")
            ).all()
        store.kw["bind"].dispose()
    groups: dict[int, set[str]] = {}
    ids = {m.message_id for _, m in delivered}
    for message_id, conversation_id in rows:
        if message_id in ids:
            groups.setdefault(int(conversation_id), set()).add(str(message_id))
    filed = set().union(*groups.values()) if groups else set()
    unfiled = [{i} for i in sorted(ids - filed)]  # each counted as a conversation of its own
    if unfiled:
        print(f"  {len(unfiled)} messages were not filed")
    return [*groups.values(), *unfiled]


def evaluate(
    path: Path, windows: Sequence[float], seed: int
) -> list[tuple[float, Agreement, Agreement | None, float]]:
    mails = read_mbox(path)
    truth = reference(mails)
    written: Mapping[str, set[str]] = {}
    if mails and all(m.written for m in mails):
        grouped: dict[str, set[str]] = {}
        for m in mails:
            grouped.setdefault(str(m.written), set()).add(m.message_id)
        written = grouped
    out = []
    for minutes in windows:
        started = time.perf_counter()
        made = file_through_inbox(deliveries(mails, minutes, seed))
        took = time.perf_counter() - started
        vs_written = agreement(made, written.values()) if written else None
        out.append((minutes, agreement(made, truth), vs_written, took))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mbox", nargs="?", type=Path, default=FIXTURE)
    parser.add_argument(
        "--shuffle-minutes",
        type=float,
        action="append",
        metavar="N",
        help="Delay each delivery by up to N minutes (repeatable; default 0, 15 and 360).",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    windows = args.shuffle_minutes or [0, 15, 360]
    mails = read_mbox(args.mbox)
    print(f"{args.mbox.name}: {len(mails)} messages, {len(reference(mails))} reference threads")
    started = time.perf_counter()
    reference(mails)
    peer = time.perf_counter() - started
    for minutes, vs_reference, vs_written, took in evaluate(args.mbox, windows, args.seed):
        rate = len(mails) / took
        print(
            f"reordered by up to {minutes:g} min (seed {args.seed}): filed at {rate:,.0f} "
            f"messages/s, {took / peer:,.0f}x the reference's time over the whole file "
            f"({peer * 1000:.1f} ms)"
        )
        print(f"  against JWZ over the whole file: {vs_reference.line()}")
        if vs_written is not None:
            print(f"  against the threads as written:  {vs_written.line()}")


if __name__ == "__main__":
    main()

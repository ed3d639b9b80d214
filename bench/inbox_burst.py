"""Inbound burst: N messages over SMTP on loopback into `goodwill smtpd`, none lost or duplicated.

Workload: N messages (threads of five, ten messages per sender, N/10 senders) sent over several
concurrent smtplib connections to the real listener (`goodwill smtpd`, a separate process) on
SQLite and PostgreSQL. Afterwards exactly N inbound rows and N messages must exist. Printed:
messages/s over the whole burst, and the p50/p99 latency from the start of a message's SMTP
transaction to its message row being visible to another reader of the store (the listener
answers 250 only once the message is stored, so the 250 comes first).

Baseline, in the same run: the same messages over the same connections to an aiosmtpd server
whose handler only appends them to a list (the cost of the SMTP transport itself).

Run: scripts/bench inbox_burst  [--messages N] [--connections C]
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from tests.pgserver import free_port

from bench.stores import stores
from goodwill.store.database import open_store
from goodwill.store.models import InboundMail, Message

GOODWILL = str(Path(sys.executable).parent / "goodwill")
PER_SENDER = 10
PER_THREAD = 5


def messages(n: int) -> list[tuple[str, bytes]]:
    """``(message_id, raw)``: sender ``i % senders``; each sender's messages in threads of 5."""
    senders = max(1, n // PER_SENDER)
    out = []
    for i in range(n):
        sender, k = i % senders, i // senders
        thread, position = k // PER_THREAD, k % PER_THREAD
        message = EmailMessage()
        message["From"] = f"Client {sender} <client{sender}@burst.example>"
        message["To"] = "care@shop.example"
        subject = f"Order {sender}-{thread}"
        message["Subject"] = subject if position == 0 else f"Re: {subject}"
        message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
        message_id = f"b{i}@burst.example"
        message["Message-ID"] = f"<{message_id}>"
        if position:
            previous = f"b{i - senders}@burst.example"
            message["In-Reply-To"] = f"<{previous}>"
            message["References"] = f"<{previous}>"
        message.set_content(f"Message {position + 1} about order {sender}-{thread}.\n")
        out.append((message_id, message.as_bytes(policy=SMTP)))
    return out


def burst(
    port: int,
    batch: list[tuple[str, bytes]],
    connections: int,
    visible: Callable[[str], bool] | None,
) -> tuple[float, list[float]]:
    """Send ``batch`` over ``connections`` connections; (seconds, per-message latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def sender(part: list[tuple[str, bytes]]) -> None:
        mine = []
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            for message_id, raw in part:
                start = time.perf_counter()
                client.sendmail("client@burst.example", ["care@shop.example"], raw)
                while visible is not None and not visible(message_id):
                    time.sleep(0.001)
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=sender, args=(batch[i::connections],)) for i in range(connections)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


class Appender:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        return "250 OK"


def baseline(batch: list[tuple[str, bytes]], connections: int) -> tuple[float, list[float]]:
    handler = Appender()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        seconds, latencies = burst(controller.port, batch, connections, None)
    finally:
        controller.stop()
    assert len(handler.received) == len(batch)
    return seconds, latencies


def listener(url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [GOODWILL, "--db", url, "smtpd", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "GOODWILL_CONFIG": os.devnull},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"goodwill smtpd exited: {process.communicate()[1]!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("goodwill smtpd did not listen within 60 s")


def measure(name: str, url_for: Any, batch: list[tuple[str, bytes]], connections: int) -> None:
    url = url_for("burst")
    store = open_store(url)
    port = free_port()
    process = listener(url, port)
    readers: dict[int, Any] = {}  # one session per sending thread

    def visible(message_id: str) -> bool:
        session = readers.get(threading.get_ident())
        if session is None:
            session = readers[threading.get_ident()] = store()
        found = session.execute(
            select(Message.conversation_id).where(Message.message_id == message_id)
        ).first()
        session.rollback()  # a fresh snapshot for the next look
        return found is not None

    try:
        seconds, latencies = burst(port, batch, connections, visible)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        for session in readers.values():
            session.close()
    with store() as session:
        inbound = session.execute(select(func.count()).select_from(InboundMail)).scalar_one()
        distinct = session.execute(
            select(func.count(func.distinct(InboundMail.message_id)))
        ).scalar_one()
        stored = session.execute(select(func.count()).select_from(Message)).scalar_one()
        failed = session.execute(
            select(func.count()).select_from(InboundMail).where(InboundMail.status != "parsed")
        ).scalar_one()
        conversations = session.execute(
            select(func.count(func.distinct(Message.conversation_id)))
        ).scalar_one()
    n = len(batch)
    assert (inbound, distinct, stored, failed) == (n, n, n, 0), (inbound, distinct, stored, failed)
    base_s, base_latencies = baseline(batch, connections)
    cuts = statistics.quantiles(latencies, n=100)
    base_cuts = statistics.quantiles(base_latencies, n=100)
    print(
        f"{name:10} {n:,} stored, none lost or duplicated ({conversations:,} conversations)   "
        f"{n / seconds:7,.0f} messages/s ({seconds:5.1f} s)   "
        f"send → visible p50 {cuts[49] * 1000:6.1f} ms  p99 {cuts[98] * 1000:6.1f} ms   "
        f"baseline list-append {n / base_s:7,.0f} messages/s "
        f"(p50 {base_cuts[49] * 1000:.1f} ms, p99 {base_cuts[98] * 1000:.1f} ms)   "
        f"ratio burst/baseline time {seconds / base_s:5.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    batch = messages(args.messages)
    print(
        f"{args.messages:,} messages from {max(1, args.messages // PER_SENDER):,} senders, "
        f"threads of {PER_THREAD}, over {args.connections} concurrent SMTP connections"
    )
    with tempfile.TemporaryDirectory() as tmp, stores(Path(tmp)) as available:
        for name, url_for in available:
            measure(name, url_for, batch, args.connections)


if __name__ == "__main__":
    main()

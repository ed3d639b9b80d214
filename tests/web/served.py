"""A real `goodwill serve` in a child process on a free loopback port, for tests at HTTP level.

Also the raw-socket helpers those tests need to send a request the way a hostile or slow client
would (headers first, the body in pieces, or never), and to see which process holds a connection.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(
    database_url: str, config: Path, *, workers: int = 1, startup: float = 90.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``goodwill serve`` over ``database_url`` with ``config``; yields its base URL and process.

    Waits (at most ``startup`` seconds) until /healthz answers; stops the server afterwards.
    """
    port = free_port()
    command = [sys.executable, "-m", "goodwill", "--db", database_url, "--config", str(config)]
    command += ["serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if process.poll() is not None:
                raise AssertionError(f"goodwill serve exited: {process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"goodwill serve did not answer within {startup} s")
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def raw_request(base: str, head: str, body: bytes = b"", *, timeout: float = 15.0) -> bytes:
    """Send ``head`` (request line and headers, CRLF-separated, without the blank line) and
    ``body``, never more; the answer's bytes as the server sent them before closing or pausing."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        return read_answer(connection)


def read_answer(connection: socket.socket) -> bytes:
    """The response's bytes: its head, and its body as far as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    while length and len(rest) < int(length.group(1)):
        chunk = connection.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (uvicorn's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def holder_of(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server side of the loopback connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        if f"socket:[{inode}]" in _links(Path(f"/proc/{pid}/fd")):
            return pid
    return None


def _links(folder: Path) -> set[str]:
    """What a process's open files point at; one closed while read (a worker opening and
    closing its database files) is left out, not the whole process."""
    links: set[str] = set()
    try:
        fds = list(folder.iterdir())
    except OSError:
        return links
    for fd in fds:
        try:
            links.add(os.readlink(fd))
        except OSError:
            continue
    return links

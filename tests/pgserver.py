"""A throwaway PostgreSQL server for the tests, from the Debian package's binaries."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    env = os.environ.get("GOODWILL_PG_BINDIR")
    candidates = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, base: Path, settings: dict[str, str] | None = None) -> None:
        """``settings`` are server settings on top of the throwaway ones (a benchmark at a
        size sizes the server's memory as a production server would be)."""
        self.base = base
        self.settings = dict(settings or {})
        self.data = base / "data"
        self.port = 0
        self._user: str | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        bindir = _bindir()
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and no 'postgres' user") from exc
            self._user = "postgres"
            shutil.chown(self.base, "postgres")
            os.chmod(self.base, 0o755)
            parent = self.base.parent
            while parent != parent.parent:  # postgres must be able to reach its directory
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
                parent = parent.parent
        if not (self.data / "PG_VERSION").exists():  # else a kept one (bench.scale --keep)
            done = self._init(bindir)
            if done.returncode != 0:
                raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-300:]}")
        self._serve(bindir)

    def _init(self, bindir: Path) -> subprocess.CompletedProcess[str]:
        return self._run(
            str(bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def _serve(self, bindir: Path) -> None:
        self.port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.base} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        ) + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        done = self._run(
            str(bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode != 0:
            log = (
                (self.base / "server.log").read_text(errors="replace")[-500:]
                if (self.base / "server.log").exists()
                else ""
            )
            raise PostgresUnavailable(f"pg_ctl start failed: {done.stderr.strip()} {log}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._psql("SELECT 1").returncode == 0:
                return
            time.sleep(0.2)
        raise PostgresUnavailable("server did not accept connections within 30 s")

    def _psql(self, sql: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        done = self._psql(f'CREATE DATABASE "{name}"')
        if done.returncode != 0:
            raise PostgresUnavailable(f"CREATE DATABASE failed: {done.stderr.strip()}")
        return self.url(name)

    def stop(self) -> None:
        self._run(str(_bindir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

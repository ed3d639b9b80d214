"""A real Dovecot IMAP server on loopback for the tests: started from Debian's dovecot-imapd
(scripts/setup --test installs it), with a generated configuration in a temporary directory,
run as an unprivileged user."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from tests.pgserver import free_port

PASSWORD = "imap-test-password"


class Dovecot:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise RuntimeError(
                "dovecot not installed (scripts/setup --test installs dovecot-imapd)"
            )
        # Dovecot runs unprivileged: as the `dovecot` user when the tests run as root.
        user = "dovecot" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        for sub in ("run", "state", "mail"):
            (self.base / sub).mkdir()
        self.port = free_port()
        conf = self.base / "dovecot.conf"
        conf.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.base}/run
state_dir = {self.base}/state
log_path = {self.base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
first_valid_uid = 1
mail_location = maildir:{self.base}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={self.base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            for path in [self.base, *self.base.rglob("*")]:
                shutil.chown(path, user, user)
            parent = self.base.parent
            while parent != parent.parent:  # the user must be able to reach its directory
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
                parent = parent.parent
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            user=user if os.geteuid() == 0 else None,
            group=user if os.geteuid() == 0 else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.communicate()[1]!r}")
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not listen within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(user, PASSWORD)
        return conn

    def append(self, user: str, *messages: EmailMessage) -> None:
        conn = self.client(user)
        try:
            for message in messages:
                kind, data = conn.append("INBOX", None, None, message.as_bytes(policy=SMTP))
                assert kind == "OK", data
        finally:
            conn.logout()

"""The public contact form, without I/O: its settings, what a submission must hold, and the checks
that keep bots out without a third-party captcha.

A person gets a clear message naming the field to fix. A bot gets one generic refusal whatever
gave it away: a filled honeypot field, a form sent within ``min_seconds`` of being shown, or a
token that was not signed here. The form's token is ``{issued unix time}.{nonce}.{signature}``
(HMAC-SHA256 under a key derived from the app's secret): the time makes the time-to-fill check,
the nonce names the submission, so the same form sent twice is one message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import mimetypes
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from goodwill.domain.identifiers import IdentifierError, normalize_email, normalize_phone
from goodwill.errors import ConfigError, InvalidInput

__all__ = [
    "CHOICES",
    "DEFAULTS",
    "HONEYPOT",
    "Submission",
    "TokenCheck",
    "Upload",
    "check_token",
    "file_type",
    "issue_token",
    "kinds_words",
    "parse_settings",
    "size_words",
    "subject_for",
    "validate",
    "window_of",
]

#: What the visitor writes about: the value sent, and the words on the form.
CHOICES: Mapping[str, str] = {
    "client": "I'd like to become a client",
    "question": "I have a question",
    "problem": "Something went wrong",
}
#: The start of the conversation's subject for each choice (staff read it in the inbox list).
SUBJECT_PREFIX: Mapping[str, str] = {
    "client": "New client",
    "question": "Question",
    "problem": "Something went wrong",
}
#: The field a person leaves empty (it is off-screen and skipped by the keyboard); bots fill it.
HONEYPOT = "website"

MAX_NAME = 200
MAX_PHONE = 40
MAX_MESSAGE = 10_000
MIN_MESSAGE = 2
#: The longest filename kept as given (longer ones are cut, keeping the extension).
MAX_FILENAME = 200
#: How many files a post may carry before they are even looked at (a bound, not the setting).
MAX_PARTS = 20

#: The `contact_form` table's settings and their defaults.
DEFAULTS: Mapping[str, Any] = {
    "enabled": False,
    "max_files": 3,
    "max_file_bytes": 10 * 1024 * 1024,
    "allowed_types": [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/heic",
        "application/pdf",
        "text/plain",
        "application/zip",
    ],
    "min_seconds": 2,
    "token_hours": 24,
    "per_minute": 20,
    "embed_origins": [],
}

#: Types by extension, read the same on every machine (``mimetypes`` is the fallback).
EXTENSIONS: Mapping[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heic",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".zip": "application/zip",
}


# -- settings ------------------------------------------------------------------------------------


def parse_settings(value: object, path: Path) -> dict[str, Any]:
    """The ``[contact_form]`` table over :data:`DEFAULTS`; ConfigError naming the key."""
    out: dict[str, Any] = {k: list(v) if isinstance(v, list) else v for k, v in DEFAULTS.items()}
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(
            f"{path}: contact_form takes {', '.join(out)}", file=str(path), key="contact_form"
        )

    def fail(key: str, what: str) -> ConfigError:
        return ConfigError(
            f"{path}: contact_form.{key} must be {what}", file=str(path), key=f"contact_form.{key}"
        )

    for key, item in value.items():
        if key == "enabled":
            if not isinstance(item, bool):
                raise fail(key, "true or false")
        elif key in ("allowed_types", "embed_origins"):
            if not isinstance(item, list) or not all(isinstance(v, str) for v in item):
                raise fail(key, "a list of strings")
            if key == "allowed_types" and not all("/" in v for v in item):
                raise fail(key, 'a list of media types such as "image/png" or "image/*"')
            if key == "embed_origins" and not all(
                v.startswith(("https://", "http://")) and "/" not in v.split("://", 1)[1]
                for v in item
            ):
                raise fail(key, 'a list of origins such as "https://www.example.com"')
            item = [v.lower() for v in item] if key == "allowed_types" else list(item)
        elif isinstance(item, bool) or not isinstance(item, int | float):
            raise fail(key, "a number")
        elif key == "max_files" and not (isinstance(item, int) and 0 <= item <= MAX_PARTS):
            raise fail(key, f"a whole number from 0 to {MAX_PARTS}")
        elif key in ("max_file_bytes", "per_minute") and not (isinstance(item, int) and item > 0):
            raise fail(key, "a whole number above 0")
        elif key == "token_hours" and item <= 0:
            raise fail(key, "a number above 0")
        elif key == "min_seconds" and item < 0:
            raise fail(key, "a number, 0 or more")
        out[key] = item
    return out


# -- the submission ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file: as the browser sent it (the type it claimed), or as accepted (a safe name, and
    the type goodwill found, never the browser's claim)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Submission:
    name: str
    email: str
    phone: str | None
    choice: str
    message: str
    attachments: tuple[Upload, ...]

    def digest(self) -> str:
        """A hash of everything sent: the same form sent twice gives the same digest."""
        parts = [self.name, self.email, self.phone or "", self.choice, self.message]
        for a in self.attachments:
            parts.append(f"{a.filename}\0{hashlib.sha256(a.content).hexdigest()}")
        return hashlib.sha256("\0\0".join(parts).encode("utf-8", "replace")).hexdigest()


def validate(
    *,
    name: str,
    email: str,
    phone: str,
    choice: str,
    message: str,
    uploads: Sequence[Upload],
    limits: Mapping[str, Any],
    region: str | None = None,
) -> Submission:
    """The submission, or InvalidInput naming the first field wrong, with ``errors`` listing
    every field wrong (``field``, ``message``) so a page can show each next to its field."""
    errors: list[dict[str, str]] = []

    def wrong(field: str, text: str) -> None:
        errors.append({"field": field, "message": text})

    name = " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())
    if not name:
        wrong("name", "Please tell us your name.")
    elif len(name) > MAX_NAME:
        wrong("name", f"Your name can be at most {MAX_NAME} characters.")
    address = ""
    try:
        address = normalize_email(email)
    except IdentifierError as exc:
        wrong("email", "Please give your email address." if not email.strip() else _email(exc))
    number: str | None = None
    if phone.strip():
        if len(phone) > MAX_PHONE:
            wrong("phone", f"The phone number can be at most {MAX_PHONE} characters.")
        else:
            try:
                number = normalize_phone(phone, region)
            except IdentifierError as exc:
                wrong("phone", f"The phone number {exc} (or leave it empty).")
    if choice not in CHOICES:
        wrong("choice", "Please choose what your message is about.")
    text = message.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if len(text) < MIN_MESSAGE:
        wrong("message", "Please write your message.")
    elif len(text) > MAX_MESSAGE:
        wrong("message", f"Your message can be at most {MAX_MESSAGE:,} characters.")
    accepted = _attachments(uploads, limits, wrong)
    if errors:
        raise InvalidInput(errors[0]["message"], field=errors[0]["field"], errors=errors)
    return Submission(name, address, number, choice, text, accepted)


def _email(exc: IdentifierError) -> str:
    text = str(exc)
    return "This is not an email address." if "not an email" in text else f"The email {text}."


def _attachments(
    uploads: Sequence[Upload], limits: Mapping[str, Any], wrong: Any
) -> tuple[Upload, ...]:
    files = [u for u in uploads if u.filename or u.content]  # an empty file input sends nothing
    most = int(limits["max_files"])
    if len(files) > most:
        wrong(
            "attachments",
            "Files cannot be attached here."
            if most == 0
            else f"Attach at most {most} file{'s' if most != 1 else ''}.",
        )
        return ()
    largest = int(limits["max_file_bytes"])
    allowed = [str(t) for t in limits["allowed_types"]]
    accepted: list[Upload] = []
    for upload in files:
        shown = _safe_name(upload.filename) or "attachment"
        kind = file_type(shown, upload.content)
        if len(upload.content) > largest:
            wrong("attachments", f"{shown} is larger than {size_words(largest)}.")
        elif not upload.content:
            wrong("attachments", f"{shown} is empty.")
        elif kind is None or not any(_matches(kind, a) for a in allowed):
            kinds = kinds_words(allowed)
            wrong("attachments", f"{shown} is not a kind of file we accept ({kinds}).")
        else:
            accepted.append(Upload(shown, kind, upload.content))
    return tuple(accepted)


def file_type(filename: str, content: bytes) -> str | None:
    """The media type of a file from its extension, or None when its extension is unknown or
    its first bytes say it is something else (an ``.exe`` renamed ``.pdf``)."""
    suffix = Path(filename).suffix.lower()
    kind = EXTENSIONS.get(suffix) or mimetypes.guess_type(f"x{suffix}", strict=False)[0]
    if kind is None:
        return None
    head = content[:8192]
    signatures: Mapping[str, Sequence[bytes]] = {
        "image/png": (b"\x89PNG\r\n\x1a\n",),
        "image/jpeg": (b"\xff\xd8\xff",),
        "image/gif": (b"GIF87a", b"GIF89a"),
        "application/pdf": (b"%PDF-",),
        "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    }
    if kind in signatures and not head.startswith(tuple(signatures[kind])):
        return None
    if kind == "image/webp" and not (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return None
    if kind == "image/heic" and head[4:8] != b"ftyp":
        return None
    if kind.startswith("text/") and b"\x00" in head:
        return None
    return kind


def _matches(kind: str, allowed: str) -> bool:
    family, _, sub = allowed.partition("/")
    return kind == allowed or (sub == "*" and kind.split("/", 1)[0] == family)


def kinds_words(allowed: Sequence[str]) -> str:
    words = {
        "image/*": "images",
        "image/png": "PNG",
        "image/jpeg": "JPEG",
        "image/gif": "GIF",
        "image/webp": "WebP",
        "image/heic": "HEIC",
        "application/pdf": "PDF",
        "text/plain": "text and log files",
        "text/csv": "CSV",
        "application/zip": "ZIP",
    }
    return ", ".join(dict.fromkeys(words.get(a, a) for a in allowed))


def _safe_name(filename: str) -> str:
    """A filename with no path, no control characters, at most MAX_FILENAME characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    if len(base) > MAX_FILENAME:
        _stem, dot, suffix = base.rpartition(".")
        keep = f".{suffix}" if dot and len(suffix) <= 10 else ""
        base = base[: MAX_FILENAME - len(keep)] + keep
    return base


def size_words(limit: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if limit >= size:
            return f"{limit / size:g} {unit}" if limit % size else f"{limit // size} {unit}"
    return f"{limit} bytes"


def subject_for(submission: Submission) -> str:
    """The conversation's subject: what the message is about, then its first words."""
    first = next((line.strip() for line in submission.message.splitlines() if line.strip()), "")
    if len(first) > 80:
        first = first[:79].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return f"{SUBJECT_PREFIX[submission.choice]}: {first}"


# -- spam checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCheck:
    """What a form's token says: ``ok``; ``too_fast`` (sent within ``min_seconds``);
    ``expired`` (older than ``max_age``: a person asked to send again); ``forged`` (not
    signed here, or unreadable)."""

    verdict: Literal["ok", "too_fast", "expired", "forged"]
    nonce: str | None = None


def issue_token(key: bytes, *, now: datetime, nonce: str | None = None) -> str:
    """A fresh form token, issued ``now``; ``nonce`` defaults to a random one."""
    nonce = nonce or secrets.token_urlsafe(12)
    body = f"{int(now.timestamp())}.{nonce}"
    return f"{body}.{_sign(key, body)}"


def check_token(
    key: bytes, token: str, *, now: datetime, min_seconds: float, max_age: timedelta
) -> TokenCheck:
    """Read a form token back; see :class:`TokenCheck`."""
    parts = token.split(".")
    if len(token) > 200 or len(parts) != 3 or not parts[0].isdigit() or not parts[1]:
        return TokenCheck("forged")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(key, body), parts[2]):
        return TokenCheck("forged")
    issued = datetime.fromtimestamp(int(parts[0]), UTC)
    elapsed = (now - issued).total_seconds()
    if elapsed < min_seconds:
        return TokenCheck("too_fast", parts[1])
    if elapsed > max_age.total_seconds():
        return TokenCheck("expired", parts[1])
    return TokenCheck("ok", parts[1])


def _sign(key: bytes, body: str) -> str:
    mac = hmac.new(key, b"contact-form\0" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def window_of(now: datetime, seconds: int) -> tuple[datetime, datetime]:
    """The fixed window holding ``now``: its start and end, aligned to the epoch."""
    stamp = int(now.timestamp())
    start = stamp - stamp % seconds
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + seconds, UTC)

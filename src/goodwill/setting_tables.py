"""How each table of the settings file is read and checked: one function per table, each
raising ConfigError naming the file and the key, so the file and the settings page say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from goodwill.domain.trades import DEFAULT_KIND, KINDS
from goodwill.errors import ConfigError

#: The weekly digest's settings and their defaults (the `digest` table).
DIGEST_DEFAULTS: Mapping[str, Any] = {"enabled": False, "weekday": "monday", "hour": 8, "to": []}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: The store's connection pool and lock waits (the `database` table); times in seconds.
DATABASE_DEFAULTS: Mapping[str, Any] = {
    "pool_size": 5,
    "max_overflow": 10,
    "pool_timeout": 3.0,
    "busy_timeout": 5.0,
}

#: What one imported file may cost (the `imports` table).
IMPORTS_DEFAULTS: Mapping[str, Any] = {
    "max_upload_mb": 200,
    "max_rows": 2_000_000,
    "max_columns": 500,
}

#: The web server's bounds and defaults (the `server` table); sizes in bytes, times in seconds.
SERVER_DEFAULTS: Mapping[str, int | float] = {
    "max_body_bytes": 1024 * 1024,
    "max_upload_bytes": 201 * 1024 * 1024,
    "request_timeout": 30.0,
    "max_concurrent": 32,
}

#: Privacy's settings and their defaults (the `privacy` table).
PRIVACY_DEFAULTS: Mapping[str, Any] = {"raw_mail_days": 0}

#: Listening's settings and their defaults (the `feedback` table).
FEEDBACK_DEFAULTS: Mapping[str, Any] = {
    "questions": None,
    "themes": None,
    "new_years": 1,
    "long_term_years": 5,
    "link_days": 30,
}


#: Logins, sessions and accounts' settings and their defaults (the `accounts` table).
ACCOUNTS_DEFAULTS: Mapping[str, Any] = {
    "session_idle_minutes": 120,
    "session_days": 14,
    "secure_cookie": None,
    "lockout_failures": 5,
    "lockout_minutes": 15,
    "address_failures": 30,
    "password_min_length": 10,
    "invite_days": 7,
    "hashing_slots": 4,
}


def _str(raw: Mapping[str, Any], key: str, default: str, path: Path) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string", file=str(path), key=key)
    return value


def _optional_str(raw: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string", file=str(path), key=key)
    return value


def _path(raw: Mapping[str, Any], key: str, path: Path) -> Path | None:
    """A file named in the configuration; relative paths are relative to the configuration."""
    value = _optional_str(raw, key, path)
    if value is None:
        return None
    found = Path(value).expanduser()
    return found if found.is_absolute() else path.parent / found


def _calendar(value: object, path: Path) -> Mapping[str, Any] | Path | None:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        return _path({"calendar": value}, "calendar", path)
    raise ConfigError(
        f"{path}: calendar must be a table or a file path", file=str(path), key="calendar"
    )


def _cadence(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"level": 0.9, "min_purchases": 3, "max_cycles": 3, "by_category": True}
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(
            f"{path}: cadence takes level, min_purchases, max_cycles, by_category",
            file=str(path),
            key="cadence",
        )
    out.update(value)
    if not (isinstance(out["level"], float) and 0.5 <= out["level"] < 1):
        raise ConfigError(
            f"{path}: cadence.level must be a number from 0.5 to below 1",
            file=str(path),
            key="cadence.level",
        )
    for key in ("min_purchases", "max_cycles"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise ConfigError(
                f"{path}: cadence.{key} must be a whole number, 1 or more",
                file=str(path),
                key=f"cadence.{key}",
            )
    if not isinstance(out["by_category"], bool):
        raise ConfigError(
            f"{path}: cadence.by_category must be true or false",
            file=str(path),
            key="cadence.by_category",
        )
    return out


def _business_kind(value: object, path: Path) -> str:
    if value is None:
        return DEFAULT_KIND
    if not isinstance(value, str) or value.strip().lower() not in KINDS:
        raise ConfigError(
            f"{path}: business_kind must be one of {', '.join(KINDS)} (not {value!r})",
            file=str(path),
            key="business_kind",
        )
    return value.strip().lower()


def _recovery(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"systemic_count": 3, "systemic_days": 30}
    known = ("systemic_count", "systemic_days", "weights", "catalog")
    if not isinstance(value, dict) or set(value) - set(known):
        raise ConfigError(
            f"{path}: recovery takes {', '.join(known)}", file=str(path), key="recovery"
        )
    for key in ("systemic_count", "systemic_days"):
        number = value.get(key, out[key])
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ConfigError(
                f"{path}: recovery.{key} must be a whole number, 1 or more",
                file=str(path),
                key=f"recovery.{key}",
            )
        out[key] = number
    for key in ("weights", "catalog"):
        if key in value:
            if not isinstance(value[key], str):
                raise ConfigError(
                    f"{path}: recovery.{key} must be a file path",
                    file=str(path),
                    key=f"recovery.{key}",
                )
            out[key] = _path(value, key, path)
    return out


def _limits(value: object, key: str, defaults: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """A table of positive numbers over ``defaults`` (``database``, ``imports``)."""
    out: dict[str, Any] = dict(defaults)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(f"{path}: {key} takes {', '.join(out)}", file=str(path), key=key)
    for name, number in value.items():
        whole = isinstance(defaults[name], int)
        kind = int if whole else (int, float)
        if not isinstance(number, kind) or isinstance(number, bool) or number < 0:
            raise ConfigError(
                f"{path}: {key}.{name} must be a {'whole number' if whole else 'number'}, "
                "0 or more",
                file=str(path),
                key=f"{key}.{name}",
            )
        out[name] = number
    return out


def _accounts(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict(ACCOUNTS_DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(
            f"{path}: accounts takes {', '.join(out)}", file=str(path), key="accounts"
        )
    if "secure_cookie" in value:
        if not isinstance(value["secure_cookie"], bool):
            raise ConfigError(
                f"{path}: accounts.secure_cookie must be true or false",
                file=str(path),
                key="accounts.secure_cookie",
            )
        out["secure_cookie"] = value["secure_cookie"]
    for key in out:
        if key == "secure_cookie" or key not in value:
            continue
        number = value[key]
        if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
            raise ConfigError(
                f"{path}: accounts.{key} must be a whole number above 0",
                file=str(path),
                key=f"accounts.{key}",
            )
        out[key] = number
    return out


def _feedback(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict(FEEDBACK_DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(
            f"{path}: feedback takes {', '.join(out)}", file=str(path), key="feedback"
        )
    for key in ("questions", "themes"):
        if key in value:
            if not isinstance(value[key], str):
                raise ConfigError(
                    f"{path}: feedback.{key} must be a file path",
                    file=str(path),
                    key=f"feedback.{key}",
                )
            out[key] = _path(value, key, path)
    for key in ("new_years", "long_term_years", "link_days"):
        number = value.get(key, out[key])
        if not isinstance(number, int | float) or isinstance(number, bool) or number <= 0:
            raise ConfigError(
                f"{path}: feedback.{key} must be a number above 0",
                file=str(path),
                key=f"feedback.{key}",
            )
        out[key] = number
    if out["long_term_years"] < out["new_years"]:
        raise ConfigError(
            f"{path}: feedback.long_term_years must not be below feedback.new_years",
            file=str(path),
            key="feedback.long_term_years",
        )
    return out


def _privacy(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict(PRIVACY_DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(f"{path}: privacy takes {', '.join(out)}", file=str(path), key="privacy")
    days = value.get("raw_mail_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ConfigError(
            f"{path}: privacy.raw_mail_days must be a whole number of days, 0 or more",
            file=str(path),
            key="privacy.raw_mail_days",
        )
    out["raw_mail_days"] = days
    return out


def _digest(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict(DIGEST_DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(f"{path}: digest takes {', '.join(out)}", file=str(path), key="digest")
    enabled = value.get("enabled", out["enabled"])
    weekday = str(value.get("weekday", out["weekday"])).lower()
    hour = value.get("hour", out["hour"])
    to = value.get("to", out["to"])
    if isinstance(to, str):
        to = [to]
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}: digest.enabled must be true or false", key="digest.enabled")
    if weekday not in WEEKDAYS:
        raise ConfigError(f"{path}: digest.weekday must be monday … sunday", key="digest.weekday")
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        raise ConfigError(f"{path}: digest.hour must be a whole hour, 0 to 23", key="digest.hour")
    if not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
        raise ConfigError(f"{path}: digest.to must be a list of addresses", key="digest.to")
    return {"enabled": enabled, "weekday": weekday, "hour": hour, "to": [a.lower() for a in to]}


def _server(value: object, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict(SERVER_DEFAULTS)
    if not isinstance(value, dict) or set(value) - set(out):
        raise ConfigError(f"{path}: server takes {', '.join(out)}", file=str(path), key="server")
    for key, number in value.items():
        whole = key != "request_timeout"
        if (
            isinstance(number, bool)
            or not isinstance(number, int if whole else int | float)
            or number <= 0
        ):
            kind = "a whole number" if whole else "a number"
            raise ConfigError(
                f"{path}: server.{key} must be {kind} above 0", file=str(path), key=f"server.{key}"
            )
        out[key] = number
    return out


def _tiers(value: object, path: Path) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and v >= 0 for v in value.values()
    ):
        raise ConfigError(
            f"{path}: tiers must map names to non-negative amounts", file=str(path), key="tiers"
        )
    return {str(k): int(v) for k, v in value.items()}


MAIL_KEYS = {
    "from_address": str,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_security": str,
    "smtp_user": str,
    "smtp_password": str,
    "imap_host": str,
    "imap_port": int,
    "imap_user": str,
    "imap_password": str,
    "imap_mailbox": str,
    "imap_tls": bool,
    "maildir": str,
    "max_message_bytes": int,
    "unsubscribe_address": str,
}
#: The largest message the SMTP listener and the API hand-in accept, unless
#: mail.max_message_bytes says otherwise.
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


def _mail(value: object, path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: mail must be a table", file=str(path), key="mail")
    out: dict[str, Any] = {}
    for key, item in value.items():
        kind = MAIL_KEYS.get(key)
        if kind is None:
            raise ConfigError(
                f"{path}: mail.{key}: unknown key (known: {', '.join(MAIL_KEYS)})",
                file=str(path),
                key=f"mail.{key}",
            )
        if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
            raise ConfigError(
                f"{path}: mail.{key} must be {kind.__name__}", file=str(path), key=f"mail.{key}"
            )
        out[key] = item
    if out.get("smtp_security", "starttls") not in ("none", "starttls", "tls"):
        raise ConfigError(
            f"{path}: mail.smtp_security must be none, starttls or tls",
            file=str(path),
            key="mail.smtp_security",
        )
    if out.get("max_message_bytes", 1) < 1:
        raise ConfigError(
            f"{path}: mail.max_message_bytes must be a positive number of bytes",
            file=str(path),
            key="mail.max_message_bytes",
        )
    for key, variable in (
        ("smtp_password", "GOODWILL_SMTP_PASSWORD"),
        ("imap_password", "GOODWILL_IMAP_PASSWORD"),
    ):
        if env.get(variable):
            out[key] = env[variable]
    return out


def _webhooks(value: object, path: Path) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and isinstance(v.get("url"), str) for v in value
    ):
        raise ConfigError(
            f"{path}: webhooks must be a list of tables with a url", file=str(path), key="webhooks"
        )
    return tuple(dict(v) for v in value)


def _tables(value: object, key: str, path: Path) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"{path}: {key} must be a table of tables", file=str(path), key=key)
    return {str(name): dict(table) for name, table in value.items()}


def _mappings(value: object, path: Path) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"{path}: mappings must be a table of tables", file=str(path), key="mappings"
        )
    out: dict[str, dict[str, str]] = {}
    for name, table in value.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ConfigError(
                f"{path}: mappings.{name} must map source columns to field names",
                file=str(path),
                key=f"mappings.{name}",
            )
        out[str(name)] = {str(k): v for k, v in table.items()}
    return out

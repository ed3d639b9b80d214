"""Hooks the schemathesis run loads (SCHEMATHESIS_HOOKS).

Raw mail is sent as the bytes it is. And a client's record holds values a schema cannot
describe: a phone must be possible in its numbering plan, a time zone must exist, an owner must
be a staff user, an email must not be another client's, a country must be one. Where a drawn
body already has such a field in the shape the schema allows (so the case is meant to be
valid), it gets a real value instead; a value of the wrong type or shape (a case meant to be
refused) is left as drawn. The refusals of unreal values are tested in
tests/web/test_client_record_http.py.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

_SERIAL = itertools.count(1)
_CLIENT_WRITES = re.compile(r"^/api/v1/clients(/\{ref\}(/contacts(/\{contact_id\})?)?)?$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _real(key: str, value: Any) -> Any:
    """A real value for ``key`` when ``value`` has the shape the schema allows, else ``value``."""
    serial = next(_SERIAL)
    if key in ("email", "other_emails"):
        if isinstance(value, list):
            return [_real("email", v) for v in value]
        return f"contract{serial}@clients.example" if isinstance(value, str) else value
    if key in ("phone", "other_phones"):
        if isinstance(value, list):
            return [_real("phone", v) for v in value]
        ok = isinstance(value, str) and _PHONE.match(value)
        return f"+31 20 {5_000_000 + serial:07d}" if ok else value
    real = {
        "timezone": "Europe/Amsterdam",
        "owner": "owner@example.com",
        "client_since": "2020-01-01",
        "birthday": "1980-06-12",
        "contact_window": "mon-fri 09:00-17:00",
        "country": "NL",
        "language": "nl",
    }
    if key in real and isinstance(value, str) and value:
        return real[key]
    return value


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    operation = getattr(ctx, "operation", None)
    path = getattr(operation, "path", "")
    if not isinstance(body, dict) or not _CLIENT_WRITES.match(path):
        return body
    return {key: _real(key, value) for key, value in body.items()}

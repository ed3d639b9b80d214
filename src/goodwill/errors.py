"""Every error goodwill raises on purpose, each with a stable code.

    GoodwillError            code="error"
    ├── ConfigError          code="config"       a settings file is wrong (names file, key)
    ├── InvalidInput         code="invalid"      a user's value is wrong (file, line, field)
    ├── NotFound             code="not_found"    a client, user or record does not exist
    ├── Conflict             code="conflict"     the write collides with what is stored
    ├── NotAllowed           code="not_allowed"  the acting user may not do this
    ├── Throttled            code="throttled"    too many failed logins: wait ``retry_after`` s
    └── Busy                 code="busy"         the server is at capacity; try again shortly

Adapters translate: the web layer maps codes to HTTP statuses and JSON ``{"code", "message"}``,
the CLI to an exit code and one clear line.
"""

from __future__ import annotations


class GoodwillError(Exception):
    code = "error"

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.fields}


class ConfigError(GoodwillError):
    code = "config"


class InvalidInput(GoodwillError):
    code = "invalid"


class NotFound(GoodwillError):
    code = "not_found"


class Conflict(GoodwillError):
    code = "conflict"


class NotAllowed(GoodwillError):
    code = "not_allowed"


class Throttled(GoodwillError):
    code = "throttled"

    def __init__(self, message: str, *, retry_after: int, **fields: object) -> None:
        super().__init__(message, retry_after=retry_after, **fields)
        self.retry_after = retry_after


class Busy(GoodwillError):
    code = "busy"

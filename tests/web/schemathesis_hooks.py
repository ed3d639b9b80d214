"""Hooks the schemathesis run loads (SCHEMATHESIS_HOOKS): raw mail is sent as the bytes it is."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

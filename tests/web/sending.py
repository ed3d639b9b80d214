"""What the playbook tests share: settings that can send mail, and the rule they switch."""

from __future__ import annotations

import dataclasses

from goodwill.settings import Settings

#: A rule the worker can perform (an email with a template), with a follow-up from
#: tests/web/touchpoints.py's first order.
FIRST = "thank-you-first-purchase"
SENDER = "care@shop.example"


def can_send(settings: Settings) -> Settings:
    """``settings`` with a fixed signing key and an address to send from."""
    return dataclasses.replace(
        settings, secret_key="test-signing-key", mail={"from_address": SENDER}
    )

"""What the playbook tests share: settings that can send mail, and the rule they switch."""

from __future__ import annotations

import dataclasses

from goodwill.settings import Settings

#: A rule the worker can perform (an email with a template), with a follow-up from
#: tests/web/touchpoints.py's first order.
FIRST = "thank-you-first-purchase"
SENDER = "care@shop.example"


def can_send(settings: Settings) -> Settings:
    """``settings`` with a fixed signing key, an address to send from and the public address
    the unsubscribe links point at (cookies without Secure: the tests speak plain http)."""
    return dataclasses.replace(
        settings,
        secret_key="test-signing-key",
        mail={"from_address": SENDER},
        public_url="https://care.shop.example",
        accounts={**settings.accounts, "secure_cookie": False},
    )

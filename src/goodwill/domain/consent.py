"""Marketing consent: who may be sent marketing, and how an import's yes/no column is read.

The rule is GDPR-minded: marketing goes only to a client who said yes. Unknown consent (``None``,
the state of every client nobody asked) means no, exactly like a withdrawal; a client who was
never asked gets service mail (replies, invoices) and nothing else. Consent is kept on the client
row (``marketing_consent``, ``consent_at``, ``consent_how``); an unsubscribe link withdraws it.

An import may say yes or no (Shopify's "Accepts Email Marketing"), but never undoes an
unsubscribe made through goodwill's own link: a file exported before the click, imported again,
would otherwise sign the client up again without their asking.
"""

from __future__ import annotations

from typing import Protocol

#: What ``consent_how`` says after the client used their unsubscribe link.
LINK_HOW = "unsubscribe link"

#: How an import's consent column may say yes or no (Shopify writes yes/no; others true/false).
YES = frozenset({"yes", "y", "true", "1", "subscribed", "opted in", "opted_in"})
NO = frozenset(
    {"no", "n", "false", "0", "unsubscribed", "not subscribed", "opted out", "opted_out"}
)


class HasConsent(Protocol):
    @property
    def marketing_consent(self) -> bool | None: ...


def may_send_marketing(client: HasConsent) -> bool:
    """Whether a marketing email may go to ``client``: only when consent was given (True).

    Withdrawn (False) and unknown (None) both mean no: silence is not consent.
    """
    return client.marketing_consent is True


def read_consent(text: str) -> bool | None:
    """An import cell as consent: True, False, or None for an empty cell (nothing said).

    Raises ValueError for anything else, so the row is rejected naming the column rather than
    guessed at.
    """
    value = " ".join(text.strip().lower().split())
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"{text.strip()!r} is not yes or no")


def import_how(profile: str) -> str:
    """What ``consent_how`` says for consent read from an import through ``profile``."""
    return f"import: {profile}"


def from_import(current: bool | None, how: str | None, given: bool | None) -> bool | None:
    """The consent to set when an import says ``given``, or None to leave the client as they are:
    an empty cell says nothing, the same answer changes nothing, and a yes does not override a
    withdrawal made through the unsubscribe link (``how``)."""
    if given is None or given is current:
        return None
    if given and current is False and how == LINK_HOW:
        return None
    return given

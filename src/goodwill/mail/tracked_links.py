"""The signed redirect behind a tracked link: making its token, reading it back, and tracking the
links of a mail about to be queued.

The token carries the client's id, the original address and the mail it went out in (the outbox
row's key), signed with the app's secret key, so no table is needed and nobody can make a click
count for another client or send people anywhere goodwill did not link to: a token that does not
verify is refused whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from goodwill.domain.click_tracking import track_links
from goodwill.settings import Settings

#: Where the redirect lives, under the public URL.
PATH = "/click"
_SALT = "goodwill.click-tracking"


@dataclass(frozen=True)
class Click:
    """What a verified token says."""

    client_id: int
    url: str
    mail_ref: str


class ClickSigner:
    """Signs and reads click tokens; an instance is a ``domain.click_tracking.LinkSigner``."""

    def __init__(self, secret: str, base: str) -> None:
        self.base = base.rstrip("/")
        self._serializer = URLSafeSerializer(secret, salt=_SALT)

    def __call__(self, client_id: int, url: str, mail_ref: str) -> str:
        token = self._serializer.dumps({"c": client_id, "u": url, "m": mail_ref})
        return f"{self.base}{PATH}/{token}"

    def read(self, token: str) -> Click | None:
        """The click a token stands for, or None when it was not signed by this key."""
        try:
            data: Any = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        client_id, url, mail_ref = data.get("c"), data.get("u"), data.get("m")
        if (
            not isinstance(client_id, int)
            or not isinstance(url, str)
            or not isinstance(mail_ref, str)
            or not url.lower().startswith(("http://", "https://"))
        ):
            return None
        return Click(client_id, url, mail_ref)


def click_signer(settings: Settings) -> ClickSigner | None:
    """The signer for this installation, or None when click tracking is off (the default)."""
    if not settings.tracking.get("clicks") or not settings.public_url:
        return None
    # Here, not at the top: importing goodwill.web loads the routes, which import this module.
    from goodwill.web.secret import secret_key

    return ClickSigner(secret_key(settings), settings.public_url)


def track_message(
    message: EmailMessage, client_id: int, mail_ref: str, signer: ClickSigner | None
) -> EmailMessage:
    """Rewrite the links of each text part of ``message`` in place (nothing when ``signer`` is
    None); ``mail_ref`` is the key of the outbox row the message goes out in."""
    if signer is None:
        return message
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.is_multipart():
            continue
        if part.get_content_subtype() not in ("plain", "html"):
            continue
        if part.get_content_disposition() == "attachment":
            continue
        text = part.get_content()
        html = part.get_content_subtype() == "html"
        tracked = track_links(text, client_id, mail_ref, signer, html=html)
        if tracked != text:
            charset = part.get_content_charset() or "utf-8"
            part.set_content(tracked, subtype=part.get_content_subtype(), charset=charset)
    return message

"""Unsubscribe links and the headers that carry them (RFC 2369 and RFC 8058 one-click).

A marketing email carries ``List-Unsubscribe`` with an https link (and a mailto when one is
configured), ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` so mail programs may
unsubscribe with one POST, and a visible line in its text and HTML bodies. Service mail (a reply,
an invoice conversation) carries none of it: nobody can unsubscribe from an answer they asked for.

The link's token is signed with the installation's secret key and names the client and the
purpose; nothing is stored, and a token altered by one character does not read.
"""

from __future__ import annotations

import copy
import html
import re
from email.message import EmailMessage
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from goodwill.errors import ConfigError

PURPOSE = "unsubscribe"
#: Keeps these tokens apart from anything else signed with the same key.
SALT = "goodwill unsubscribe link"
ONE_CLICK = "List-Unsubscribe=One-Click"
PATH = "/unsubscribe/"

Purpose = Literal["marketing", "transactional"]

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def issue_token(key: str, client_id: int) -> str:
    """A signed token naming ``client_id`` for unsubscribing; it does not expire (a link in an
    old email must still work)."""
    return str(URLSafeSerializer(key, salt=SALT).dumps({"c": client_id, "p": PURPOSE}))


def read_token(key: str, token: str) -> int | None:
    """The client id a genuine unsubscribe token names, else None (altered, or another purpose)."""
    try:
        data = URLSafeSerializer(key, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != PURPOSE:
        return None
    client_id = data.get("c")
    if not isinstance(client_id, int) or isinstance(client_id, bool) or client_id < 1:
        return None
    return client_id


def link_base_ok(public_url: str | None) -> bool:
    """Whether ``public_url`` can carry unsubscribe links: https, as RFC 8058 asks (the link
    must work from wherever the client reads their mail), or plain http on this machine's own
    loopback address, where an installation is tried out and nothing leaves it."""
    base = (public_url or "").strip().lower()
    if base.startswith("https://"):
        return True
    host = base.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)[0]
    return base.startswith("http://") and host in ("127.0.0.1", "localhost", "[::1]")


def unsubscribe_url(public_url: str | None, token: str) -> str:
    """The one-click address under ``public_url`` (see ``link_base_ok``)."""
    base = (public_url or "").rstrip("/")
    if not link_base_ok(base):
        raise ConfigError(
            "marketing email needs public_url set to the https address goodwill is reached at",
            key="public_url",
        )
    return f"{base}{PATH}{token}"


def prepare_marketing(
    message: EmailMessage,
    *,
    key: str,
    client_id: int,
    public_url: str | None,
    mailto: str | None = None,
) -> EmailMessage:
    """A copy of ``message`` for ``client_id`` with their unsubscribe headers and visible line.

    The sender passes the installation's secret key (``web.secret.secret_key``), ``public_url``
    and ``mail.unsubscribe_address``, and calls this only after
    ``domain.consent.may_send_marketing`` said yes.
    """
    url = unsubscribe_url(public_url, issue_token(key, client_id))
    return add_unsubscribe(message, purpose="marketing", url=url, mailto=mailto)


def add_unsubscribe(
    message: EmailMessage, *, purpose: Purpose, url: str, mailto: str | None = None
) -> EmailMessage:
    """A copy of ``message`` ready to send: for marketing, with the unsubscribe headers and a
    visible unsubscribe line in each text and HTML body; for service mail, unchanged.

    ``url`` is the https one-click address; ``mailto`` an address that takes unsubscribe
    requests by mail, if there is one. The given message is left as it was.
    """
    out = copy.deepcopy(message)
    if purpose == "transactional":
        return out
    if purpose != "marketing":
        raise ValueError(f"purpose must be marketing or transactional, not {purpose!r}")
    if not link_base_ok(url):
        raise ValueError("the one-click unsubscribe address must be https")
    targets = [f"<{url}>"]
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
        del out[name]
    out["List-Unsubscribe"] = ", ".join(targets)
    out["List-Unsubscribe-Post"] = ONE_CLICK
    for part in out.walk():
        if part.is_multipart() or part.is_attachment():
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        charset = part.get_content_charset() or "utf-8"
        content = part.get_content()
        if kind == "text/plain":
            text = content.rstrip("\n") + f"\n\n--\nTo stop these emails, unsubscribe: {url}\n"
            part.set_content(text, subtype="plain", charset=charset)
        else:
            line = (
                '<p style="font-size:12px;color:#666">To stop these emails, '
                f'<a href="{html.escape(url)}">unsubscribe</a>.</p>'
            )
            ends = list(_BODY_END.finditer(content))
            if ends:
                at = ends[-1].start()
                content = content[:at] + line + "\n" + content[at:]
            else:
                content = content.rstrip("\n") + "\n" + line + "\n"
            part.set_content(content, subtype="html", charset=charset)
    return out

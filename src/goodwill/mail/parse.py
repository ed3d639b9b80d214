"""One raw message read into what the inbox needs: sender, threading headers, decoded text, the new
part of a reply and the attachments.

Mail in the wild is often malformed, so nothing here raises for a wrong charset, a broken
encoding or a garbled header: what can be decoded is, the rest is replaced. ``MessageUnreadable``
is raised only when the bytes are not a mail message at all; the caller has stored the raw bytes
already and shows them.

The new text of a reply is found by :mod:`goodwill.mail.quotes` (quoted history, list footer
and signature in the languages clients write); in an HTML-only body quotequail first removes
Gmail's quote block and Outlook's bordered header, and the text left goes the same way.

Separating the new text costs tens of microseconds a line, so only the first ``NEW_TEXT_LINES``
lines (at most ``NEW_TEXT_CHARS`` characters) go through it; the full text is kept as it is.
An HTML-only body is turned into text up to ``HTML_TEXT_CHARS`` characters (the HTML is kept).

Everything returned is storable (:func:`~goodwill.mail.storable.storable_text`): no NUL, no
undecodable bytes, ids and addresses within their columns' lengths.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import PurePosixPath, PureWindowsPath

import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
import quotequail  # type: ignore[import-untyped]
from inscriptis import get_text  # type: ignore[import-untyped]

from goodwill.mail.quotes import reply_text, tidy
from goodwill.mail.storable import storable_id, storable_text

__all__ = [
    "Attachment",
    "MessageUnreadable",
    "ParsedMessage",
    "html_to_text",
    "message_id_of",
    "parse_message",
    "reply_text",
    "sender_and_subject",
]

#: The domain of the Message-ID given to a message that arrives without one.
SYNTHETIC_DOMAIN = "goodwill.invalid"
#: How much of a plain body goes through the quote and signature separation.
NEW_TEXT_LINES = 2000
NEW_TEXT_CHARS = 100_000
#: How much of an HTML-only body is turned into text (about a second's work).
HTML_TEXT_CHARS = 1_000_000

# Labels that mail clients use for charsets Python names differently, or that are subsets of
# what senders actually use (iso-8859-1 mail is nearly always windows-1252 in practice).
_CHARSET_ALIASES = {
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
}
_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATE = re.compile("[\udc80-\udcff]")
# Quote blocks as Gmail, Apple Mail, Thunderbird and Yahoo mark them in HTML mail.
_HTML_QUOTES = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //blockquote[@type='cite'] | //*[contains(@class, 'moz-cite-prefix')]"
    " | //*[contains(@class, 'yahoo_quoted')]"
)
_AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}


class MessageUnreadable(ValueError):
    """The bytes are not a mail message (no headers, no sender); the raw message is kept."""


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message; the bytes exactly as sent, after transfer decoding."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMessage:
    """What a raw message says, decoded. Addresses are lower-cased; ids carry no brackets."""

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str | None
    subject: str
    sent_at: datetime | None
    text: str
    html: str | None
    new_text: str
    attachments: tuple[Attachment, ...]
    auto_reply: bool


def parse_message(raw: bytes) -> ParsedMessage:
    """Read ``raw`` (the bytes as received); see the module docstring for what is tolerated.

    A message without a Message-ID gets ``{sha256 of raw}@goodwill.invalid``, so the same bytes
    delivered twice get the same id. ``sent_at`` is the Date header in UTC, None when missing or
    unparseable. ``text`` is the plain body, or the HTML body as text when there is no plain one.
    """
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = _headers(message)
    if not headers:
        raise MessageUnreadable("no mail headers")
    from_name, from_address = _sender(headers)
    message_id = _id_of(headers, raw)
    in_reply_to = next(iter(_ids(headers.get("in-reply-to", ""))), None)
    references = tuple(
        dict.fromkeys(i for i in _ids(headers.get("references", "")) if i != message_id)
    )
    plain, html_parts, attachments = _contents(message)
    html = "\n".join(html_parts) if html_parts else None
    text = "\n\n".join(p for p in plain if p.strip())
    if text.strip():
        new_text = reply_text(_head(text))
    elif html is not None:
        text = html_to_text(html[:HTML_TEXT_CHARS])
        new_text = reply_text(_head(html_to_text(_html_before_quote(html[:NEW_TEXT_CHARS]))))
    else:
        new_text = ""
    return ParsedMessage(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=from_address,
        from_name=storable_text(from_name, limit=300) if from_name else None,
        to=tuple(a for _, a in _addresses("to", headers.get("to"))),
        cc=tuple(a for _, a in _addresses("cc", headers.get("cc"))),
        reply_to=next((a for _, a in _addresses("reply-to", headers.get("reply-to"))), None),
        subject=storable_text(
            " ".join(_text_header("subject", headers.get("subject", "")).split()), limit=998
        ),
        sent_at=_date(headers.get("date")),
        text=storable_text(text),
        html=storable_text(html) if html is not None else None,
        new_text=storable_text(new_text),
        attachments=tuple(attachments),
        auto_reply=_auto_reply(headers),
    )


def message_id_of(raw: bytes) -> str:
    """The id :func:`parse_message` gives ``raw``, from its header block alone: the store keys
    raw messages by it before anything else is read, so a duplicate delivery is known at once.
    Never raises for any bytes."""
    headers = _headers(BytesParser(policy=policy.default).parsebytes(raw, headersonly=True))
    return _id_of(headers, raw)


def sender_and_subject(raw: bytes) -> tuple[str | None, str]:
    """The sender's address (None when there is none) and the subject, from the header block
    alone: what a list of kept messages shows. Never raises for any bytes."""
    headers = _headers(BytesParser(policy=policy.default).parsebytes(raw, headersonly=True))
    sender = next(
        (a for n in ("from", "sender", "reply-to") for _, a in _addresses(n, headers.get(n))),
        None,
    )
    subject = " ".join(_text_header("subject", headers.get("subject", "")).split())
    return sender, storable_text(subject, limit=998)


def _headers(message: Message) -> dict[str, str]:
    """Each header's first value by lower-cased name, unfolded, as raw text (undecoded)."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).lower(), _unfold(str(value)))
    return headers


def _id_of(headers: Mapping[str, str], raw: bytes) -> str:
    """The Message-ID, normalised (inside the first brackets, undecodable bytes repaired, NUL
    removed, a long one hashed), else ``{sha256 of raw}@goodwill.invalid``."""
    found = _message_id(storable_text(_repair(headers.get("message-id", ""))))
    return storable_id(found) if found else _synthetic_id(raw)


def _head(text: str) -> str:
    """The first ``NEW_TEXT_LINES`` lines, at most ``NEW_TEXT_CHARS`` characters: where the
    new text of a reply is (the quoted history and the rest of a long text follow it)."""
    head = text[:NEW_TEXT_CHARS]
    cut = -1
    for _ in range(NEW_TEXT_LINES):
        cut = head.find("\n", cut + 1)
        if cut < 0:
            return head
    return head[:cut]


def html_to_text(html: str) -> str:
    """Readable text from an HTML body: block layout and tables kept, styles and scripts dropped."""
    text = textwrap.dedent(str(get_text(html)).replace("\r\n", "\n"))
    return tidy(text)


def _html_before_quote(html: str) -> str:
    """The HTML above the quoted history, with the quote blocks mail programs mark removed
    (the answers between them stay: Thunderbird's replies below a quote)."""
    before = str(quotequail.quote_html(html, quote_intro_line=True)[0][1])
    try:
        document = lxml.html.document_fromstring(before)
    except (lxml.etree.ParserError, ValueError):
        return before
    for element in document.xpath(_HTML_QUOTES):
        element.drop_tree()
    return str(lxml.html.tostring(document, encoding="unicode"))


def _contents(message: Message) -> tuple[list[str], list[str], list[Attachment]]:
    """The plain and HTML body parts (decoded) and the attachments, in order of appearance."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for number, part in enumerate(_leaves(message), start=1):
        content_type = storable_text(part.get_content_type(), limit=200)
        filename = _filename(part)
        if content_type == "message/rfc822":
            inner = part.get_payload(0)
            content = inner.as_bytes() if isinstance(inner, Message) else b""
            attachments.append(
                Attachment(filename or f"message-{number}.eml", content_type, content)
            )
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        is_body = filename is None and part.get_content_disposition() != "attachment"
        lost_boundary = part.get_content_maintype() == "multipart"
        if (is_body and content_type in ("text/plain", "text/html")) or lost_boundary:
            body = _decode(content, part.get_content_charset())
            (html if content_type == "text/html" else plain).append(body.replace("\r\n", "\n"))
        elif filename is not None or part.get_content_maintype() != "image":
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = filename or f"part-{number}{extension}"
            attachments.append(Attachment(name, content_type, content))
    return plain, html, attachments


def _leaves(part: Message) -> Iterator[Message]:
    """The non-multipart parts; a forwarded message is one leaf, not opened."""
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _leaves(child)
    else:
        yield part  # includes a multipart with a lost boundary: its body is read as text


def _filename(part: Message) -> str | None:
    try:
        raw = part.get_filename()
    except (HeaderParseError, ValueError, LookupError):
        return None
    if not raw:
        return None
    name = PureWindowsPath(PurePosixPath(storable_text(_repair(raw))).name).name.strip()
    return name[:500] or None


def _decode(content: bytes, charset: str | None) -> str:
    """Text from bytes: the declared charset, then UTF-8, then windows-1252 with replacement."""
    tried: list[str] = []
    for label in (charset, "utf-8"):
        if not label:
            continue
        try:
            name = codecs.lookup(_CHARSET_ALIASES.get(label.lower().strip(), label.strip())).name
        except LookupError:
            continue
        if name in tried:
            continue
        tried.append(name)
        try:
            return content.decode(name)
        except UnicodeDecodeError:
            continue
    return content.decode("windows-1252", errors="replace")


def _repair(text: str) -> str:
    """Undo the parser's surrogate escapes for raw 8-bit header bytes."""
    if not _SURROGATE.search(text):
        return text
    return _decode(text.encode("utf-8", errors="surrogateescape"), None)


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def _text_header(name: str, value: str) -> str:
    """An unstructured header with RFC 2047 encoded words decoded."""
    try:
        return _repair(str(policy.default.header_fetch_parse(name, _repair(value))))
    except (HeaderParseError, ValueError, IndexError, LookupError):
        return _repair(value)


def _addresses(name: str, value: str | None) -> list[tuple[str | None, str]]:
    """(display name, lower-cased address) for each address in a header; garbage is skipped."""
    if not value:
        return []
    found: list[tuple[str | None, str]] = []
    try:
        header = policy.default.header_fetch_parse(name, _repair(value))
        pairs = [(a.display_name, a.addr_spec) for a in getattr(header, "addresses", ())]
    except (HeaderParseError, ValueError, IndexError, TypeError, AttributeError):
        pairs = getaddresses([_repair(value)])
    for display_name, spec in pairs:
        address = storable_text(_repair(spec)).strip().strip("<>").lower()
        if "@" in address and not address.startswith("@") and not address.endswith("@"):
            name = storable_text(" ".join(_repair(display_name).split()), limit=300)
            found.append((name or None, address[:320]))
    return found


def _sender(headers: Mapping[str, str]) -> tuple[str | None, str]:
    """The From address; Sender, Reply-To or Return-Path only when From has none."""
    if "from" not in headers:
        raise MessageUnreadable("no From header")
    for name in ("from", "sender", "reply-to", "return-path"):
        found = _addresses(name, headers.get(name))
        if found:
            return found[0]
    raise MessageUnreadable("no sender address")


def _message_id(value: str | None) -> str | None:
    """The id as the store keys raw messages: inside the first brackets, else the whole value."""
    found = (value or "").strip()
    if found.startswith("<") and ">" in found:
        found = found[1 : found.index(">")]
    return found.strip() or None


def _synthetic_id(raw: bytes) -> str:
    return f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_DOMAIN}"


def _ids(value: str) -> list[str]:
    """Message ids in order; bare ids (no brackets) split on commas or whitespace are accepted."""
    value = storable_text(_repair(value))
    found = _ID.findall(value)
    if found:
        return [storable_id(str(i)) for i in found]
    return [storable_id(t.strip("<>")) for t in re.split(r"[\s,]+", value) if "@" in t.strip("<>")]


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(_repair(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": the zone is unknown, the time is UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _auto_reply(headers: Mapping[str, str]) -> bool:
    """Out-of-office and other automatic mail, which owes nobody an answer (RFC 3834 and
    the older conventions)."""
    submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return True
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers and headers[name].strip().lower() not in ("no", "false", "0"):
            return True
    return headers.get("precedence", "").strip().lower() in _AUTO_PRECEDENCE

"""Where a reply's own text ends: the quoted history, list footer and signature that mail
programs add, in the languages clients write.

Each mail program marks the history its own way and translates the marker: Outlook's header
block ("From: … Sent: … To: … Subject:", "Von: … Gesendet: …", "От: … Отправлено: …"), often
after a rule ("-----Original Message-----", "________________"); Gmail, Apple Mail and
Thunderbird's attribution line ("On … wrote:", "Am … schrieb …:", "… napisał(a):"), which Gmail
wraps over two lines and which in Russian and Japanese has no verb at all; forward markers;
mobile "Sent from my iPhone" lines; list footers under "-- " or a line of underscores.

No library found these well enough in the sixteen languages goodwill's fixtures cover
(docs/inbox.md has the measured table), so the markers are a table here: the words each
program writes, per language. A marker counts only with its evidence (an attribution needs a
time or an address; a header block needs a date line and a subject or an address), so ordinary
text that starts like one ("On Monday I wrote to the supplier:", "From: 9:00") is kept.
Signatures are cut only at the end and only after a strong marker ("-- ", a phone line, a list
footer): closings such as "Best regards" stay, since cutting at them loses real text too often.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

__all__ = ["reply_text"]

# The words of Outlook's header block (and of forwarded headers) in each language.
_FROM = "from|von|de|van|från|da|fra|lähettäjä|od|kimden|от|差出人|送信者|发件人"
_DATE = (
    "sent|date|gesendet|datum|envoyé|verzonden|inviato|data|enviado(?: el)?|enviada em"
    "|fecha|dato|päiväys|skickat|sendt|lähetetty|päivämäärä|wysłano|wysłane|odesláno|gönderildi|tarih"
    "|gönderilme tarihi|отправлено|дата|送信日時|日付|发送时间"
)
_TO = "to|an|à|a|aan|para|till|til|vastaanottaja|do|komu|kime|кому|宛先|收件人"
_SUBJECT = (
    "subject|betreff|objet|onderwerp|oggetto|asunto|assunto|ämne|emne|aihe|temat|předmět"
    "|konu|тема|件名|主题"
)


def _label(words: str) -> re.Pattern[str]:
    """A header line: the label, maybe bold (``*From:*``), a space before the colon as the
    French write it, and a value."""
    return re.compile(
        rf"^\s*\*?(?:{words})\s*\*?\s*[:：]\s*\*?\s*(?P<value>\S.*)?$",
        re.IGNORECASE,
    )


_FROM_LINE = _label(_FROM)
_DATE_LINE = _label(_DATE)
_TO_LINE = _label(_TO)
_SUBJECT_LINE = _label(_SUBJECT)
# "-----Original Message-----", "-------- Ursprüngliche Nachricht --------", "____________".
_RULE = re.compile(r"^\s*(?:-{3,}\s*[^-\s][^-]{1,60}?\s*-{3,}|_{8,}|={8,})\s*$")
_UNDERSCORES = re.compile(r"^\s*_{8,}\s*$")

# The verb of an attribution line ("… wrote:") in each language, as Gmail, Apple Mail,
# Thunderbird, Outlook on the web and Yahoo write it.
_VERB = re.compile(
    r"(?:\b(?:wrote|writes|schrieb|a\s+écrit|schreef|het\s+volgende\s+geschreven|ha\s+scritto"
    r"|escribió|escreveu|skrev|kirjoitti|napisał\(a\)|napisała|napisał|napisana\s+przez|pisze"
    r"|napsal\(a\)|napsala|napsal|yazdı|şunu\s+yazdı|şunları\s+yazdı|пишет"
    r"|написал\(а\)|написала|написал)(?!\w))"
    r"|のメール|さんは書きました|さんが書きました|写道",
    re.IGNORECASE,
)
# A cheap first look for the verbs above: most lines have none of these words.
_VERB_WORDS = frozenset(
    [
        "wrote",
        "writes",
        "schrieb",
        "écrit",
        "schreef",
        "geschreven",
        "scritto",
        "escribió",
        "escreveu",
        "skrev",
        "kirjoitti",
        "napisał",
        "napisała",
        "napisana",
        "pisze",
        "napsal",
        "napsala",
        "yazdı",
        "пишет",
        "написал",
        "написала",
    ]
)
_CJK_VERBS = ("のメール", "さんは書きました", "さんが書きました", "写道")
_WORD = re.compile(r"\w+")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_YEAR = re.compile(r"(?:19|20)\d{2}")
# Gmail in Russian and Japanese: "пн, 4 мар. 2024 г. в 10:15, Имя <addr>:", no verb.
_ADDRESS_COLON = re.compile(r"[<(]?[\w.+'-]+@[\w-]+(?:\.[\w-]+)+[>)]?\s*[:：]$")
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")

# A phone or web mail program's line, alone at the end of the text.
_SENT_FROM = re.compile(
    r"^(?:sent from (?:my |outlook|mail for|yahoo|samsung)|sent with |get outlook for "
    r"|von meinem .{1,40} gesendet|gesendet von (?:meinem )?"
    r"|envoyé (?:de|depuis) (?:mon |l'|outlook)|verzonden (?:vanaf|met) |verstuurd vanaf "
    r"|inviato da|enviado (?:desde|do|de) (?:mi |meu |o meu |my )?|skickat från |sendt fra "
    r"|lähetetty |wysłane z |wysłano z |odesláno z |.{1,30}'(?:umdan|dan|den|ımdan) gönderildi"
    r"|отправлено с |.{1,30}から送信)",
    re.IGNORECASE,
)
_LIST_FOOTER = re.compile(r"mailing list|mailinglist|you received this message because", re.I)
#: The colon, and the full-width one Japanese and Chinese mail writes.
COLONS = (":", "：")
#: A "-- " delimiter is a signature only when this few lines follow it.
SIGNATURE_LINES = 12
#: An attribution line wraps over at most this many lines.
ATTRIBUTION_LINES = 3


def reply_text(text: str) -> str:
    """The part of a plain-text body the sender wrote now: quoted history, list footer and
    signature removed.

    Top-posted replies keep what stands above the history; bottom-posted and interleaved
    replies keep every line that is not ``>`` quoted. May be empty (a bare forward).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _without_history(lines)
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    return _tidy(_before_signature(lines))


def tidy(text: str) -> str:
    """``text`` as the inbox shows it: no trailing spaces, no outer or repeated blank lines."""
    return _tidy(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _without_history(lines: list[str]) -> list[str]:
    """The lines above the history; with a ``>`` quote below an attribution (bottom-posted or
    interleaved replies) the reply goes on after it."""
    kept: list[str] = []
    start = index = 0
    while index < len(lines):
        width = _attribution(lines, index)
        if width and _quoted_after(lines, index + width):
            kept += lines[start:index]
            index = start = index + width
            continue
        if width:
            return kept + lines[start:index]
        if _header_block(lines, index):
            return kept + lines[start : max(start, _block_start(lines, index))]
        index += 1
    return kept + lines[start:]


def _quoted_after(lines: list[str], end: int) -> bool:
    """Whether the first non-blank line from ``end`` (within a few) is ``>`` quoted."""
    for line in lines[end : end + 4]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _attribution(lines: list[str], index: int) -> int:
    """How many lines the attribution starting at ``index`` takes (0: none starts there)."""
    first = lines[index].strip()
    if not first or first.startswith(">"):
        return 0
    joined = ""
    for width in range(1, ATTRIBUTION_LINES + 1):
        if index + width > len(lines):
            return 0
        line = lines[index + width - 1].strip()
        if not line:
            return 0
        joined = f"{joined} {line}" if joined else line
        if _is_attribution(joined, quoted=partial(_quoted_after, lines, index + width)):
            return width
        # Only a long first line, cut by the sender's line wrapping, continues on the next.
        if width == 1 and (len(first) < 25 or _SENTENCE_END.search(first)):
            return 0
    return 0


def _is_attribution(line: str, *, quoted: Callable[[], bool]) -> bool:
    """Whether ``line`` (joined if wrapped) is an attribution; ``quoted`` tells whether a
    ``>`` quote follows it."""
    if len(line) > 300 or not any(colon in line for colon in COLONS):
        return False
    verb = _verb(line)
    evidence = _email(line) or _TIME.search(line) or _YEAR.search(line)
    if verb is not None:
        tail = line[verb.end() :]
        if re.match(r"\s*[:：]\s*$", tail):
            return evidence is not None or quoted()
        if evidence is None:
            return False
        if line.endswith(COLONS):
            # "… schrieb Anna Berg <anna@…>:", "… skrev Karin Nilsson:" above a quote.
            if len(tail) <= 60 and (_email(tail) or quoted()):
                return True
            # "… kirjoitti 4.3.2024 kello 10.15:": the date and time after the verb.
            return len(tail) <= 100 and bool(_YEAR.search(tail) and _TIME.search(tail))
        # Yahoo on a phone puts the quote on the attribution's line, after the address.
        address = _email(line)
        return (
            re.match(r"\s*:", tail) is not None
            and address is not None
            and address.start() < verb.start()
        )
    return (
        line.endswith(COLONS)
        and _ADDRESS_COLON.search(line[-120:]) is not None
        and _TIME.search(line) is not None
        and quoted()
    )


def _verb(line: str) -> re.Match[str] | None:
    words = _VERB_WORDS.intersection(_WORD.findall(line.lower()))
    if words or any(verb in line for verb in _CJK_VERBS):
        return _VERB.search(line)
    return None


def _email(text: str) -> re.Match[str] | None:
    return _EMAIL.search(text) if "@" in text else None


def _header_block(lines: list[str], index: int) -> bool:
    """Outlook's (or a forward's) header block starts at ``index``: a From line, a date line
    and a subject line or an address within the next few lines."""
    found = _FROM_LINE.match(lines[index])
    if found is None or not found.group("value"):
        return False
    following = lines[index + 1 : index + 6]
    dated = any(_DATE_LINE.match(line) for line in following)
    subject = any(_SUBJECT_LINE.match(line) for line in following)
    addressed = "@" in found.group("value") or any(_TO_LINE.match(line) for line in following)
    return dated and (subject or ("@" in found.group("value") and addressed))


def _block_start(lines: list[str], index: int) -> int:
    """Where the history above a header block starts: its rule or forward line, if any."""
    above = index - 1
    while above >= 0 and above >= index - 3 and not lines[above].strip():
        above -= 1
    if above >= 0 and above >= index - 3:
        line = lines[above].strip()
        if _RULE.match(line) or (line.endswith(COLONS) and len(line) <= 60):
            return above
    return index


def _before_signature(lines: list[str]) -> list[str]:
    """Remove from the end: a phone line, a "-- " signature, a list footer, repeatedly."""
    while True:
        end = len(lines)
        while end and not lines[end - 1].strip():
            end -= 1
        lines = lines[:end]
        cut = _signature_start(lines)
        if cut is None:
            return lines
        lines = lines[:cut]


def _signature_start(lines: list[str]) -> int | None:
    if not lines:
        return None
    last = lines[-1].strip()
    if len(last) <= 80 and _SENT_FROM.match(last) and "?" not in last:
        return len(lines) - 1
    for index in range(len(lines) - 1, max(-1, len(lines) - SIGNATURE_LINES - 2), -1):
        stripped = lines[index].strip()
        if stripped == "--":
            return index
        if _UNDERSCORES.match(stripped) and any(
            _LIST_FOOTER.search(line) for line in lines[index + 1 : index + 3]
        ):
            return index
    return None


def _tidy(lines: list[str]) -> str:
    """Join lines without trailing spaces, outer blank lines or runs of more than one blank line."""
    kept: list[str] = []
    for line in (line.rstrip() for line in lines):
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n")

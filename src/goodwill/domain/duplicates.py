"""Likely pairs of client records that are one person: the duplicate finder.

Two records are a likely pair when they share an email address or a phone number (any of their
identifiers, compared normalised: emails lower-cased, phones in E.164), or when their names are
similar (rapidfuzz's token-sort ratio, so "Holloway, Margaret" meets "Margaret Holloway") and they
share a postcode or a company. A similar name alone is not enough: two Anna de Vries in one city
are common.

Blocking keeps it near-linear at 100k clients: records are only compared inside a block, a shared
identifier or (postcode or company, first three letters of one name word). An identifier shared by
more than ``MAX_SHARED`` records is a shop's own mailbox or a switchboard, not a person, and is
ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from goodwill.domain.identifiers import IdentifierError, normalize_email, phone_key

#: Name similarity (0-100) from which two names count as the same person's.
NAME_THRESHOLD = 85.0
#: Records sharing one email or phone beyond this many are not one person.
MAX_SHARED = 20
#: The largest block compared name by name (a larger one is cut into this size, in name order).
MAX_BLOCK = 2000
#: Scores of the reasons; a pair's score is its best reason's, plus a little for each other one.
EMAIL_SCORE = 95.0
PHONE_SCORE = 90.0
EXTRA_REASON = 3.0
#: Words a company name carries that say nothing about which company it is.
LEGAL_FORMS = frozenset(
    [
        "bv",
        "nv",
        "ltd",
        "limited",
        "llc",
        "inc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "spa",
        "plc",
        "co",
        "company",
        "corp",
        "the",
    ]
)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Record:
    """A client as the finder sees it. Emails and phones as stored; they are normalised here."""

    id: int
    name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    postcode: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class Reason:
    """Why two records look like one person: ``kind`` email | phone | name_postcode |
    name_company, the shared ``value`` (as normalised), and the reason's score (0-100)."""

    kind: str
    value: str
    score: float
    name_score: float | None = None

    @property
    def words(self) -> str:
        if self.kind == "email":
            return f"same email {self.value}"
        if self.kind == "phone":
            return f"same phone {self.value}"
        where = "postcode" if self.kind == "name_postcode" else "company"
        return f"similar names ({self.name_score:.0f}%) and the same {where} {self.value}"


@dataclass(frozen=True)
class Pair:
    """Two records that are likely one person: ``first`` < ``second`` (ids), best reason first."""

    first: int
    second: int
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _fold(text: str) -> str:
    """Lower case without accents: "Zoë" and "Zoe" are one spelling."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(name: str) -> str:
    """The name as compared: folded, its words in order, punctuation gone."""
    return " ".join(_WORD.findall(_fold(name)))


def postcode_key(postcode: str | None) -> str | None:
    """A postcode without spaces or dashes, upper case ("1011 ab" is "1011AB")."""
    if not postcode:
        return None
    key = re.sub(r"[\s\-]", "", postcode).upper()
    return key or None


def company_key(company: str | None) -> str | None:
    """A company name without its legal form and punctuation ("Acme B.V." is "acme")."""
    if not company:
        return None
    words = [w for w in _WORD.findall(_fold(company).replace(".", "")) if w not in LEGAL_FORMS]
    return " ".join(words) or None


def email_keys(emails: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for email in emails:
        try:
            out.add(normalize_email(email))
        except IdentifierError:
            continue  # an imported address written any old way matches nothing
    return out


def phone_keys(phones: Iterable[str], region: str | None) -> set[str]:
    """Phones in E.164 (read with ``region`` when written without a country code); a number
    too short to be anyone's (fewer than 6 digits) matches nothing."""
    out: set[str] = set()
    for phone in phones:
        key = phone_key(phone, region)
        if key and sum(ch.isdigit() for ch in key) >= 6:
            out.add(key)
    return out


class _Found:
    """Reasons gathered per pair, the best per kind kept."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[int, int], dict[str, Reason]] = defaultdict(dict)

    def add(self, a: int, b: int, reason: Reason) -> None:
        if a == b:
            return
        pair = (a, b) if a < b else (b, a)
        held = self.reasons[pair].get(reason.kind)
        if held is None or reason.score > held.score:
            self.reasons[pair][reason.kind] = reason

    def pairs(self) -> list[Pair]:
        out = []
        for (a, b), by_kind in self.reasons.items():
            reasons = sorted(by_kind.values(), key=lambda r: (-r.score, r.kind))
            score = min(100.0, reasons[0].score + EXTRA_REASON * (len(reasons) - 1))
            out.append(Pair(a, b, round(score, 1), tuple(reasons)))
        out.sort(key=lambda p: (-p.score, p.first, p.second))
        return out


def _shared(found: _Found, blocks: dict[str, list[int]], kind: str, score: float) -> None:
    for value, ids in blocks.items():
        members = sorted(set(ids))
        if len(members) < 2 or len(members) > MAX_SHARED:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                found.add(a, b, Reason(kind, value, score))


def _similar(
    found: _Found,
    blocks: dict[tuple[str, str], list[int]],
    names: dict[int, str],
    shown: dict[tuple[str, str], str],
    kind: str,
    threshold: float,
) -> None:
    from rapidfuzz import fuzz, process

    for block, ids in blocks.items():
        members = sorted(set(ids), key=lambda i: (names[i], i))
        for start in range(0, len(members), MAX_BLOCK):
            chunk = members[start : start + MAX_BLOCK]
            if len(chunk) < 2:
                continue
            texts = [names[i] for i in chunk]
            scores = process.cdist(
                texts, texts, scorer=fuzz.token_sort_ratio, score_cutoff=threshold, workers=1
            )
            for i, a in enumerate(chunk):
                row = scores[i]
                for j in range(i + 1, len(chunk)):
                    value = float(row[j])
                    if value >= threshold:
                        found.add(
                            a,
                            chunk[j],
                            Reason(kind, shown[block], round(value * 0.9, 1), round(value, 1)),
                        )


def find_pairs(
    records: Sequence[Record],
    *,
    region: str | None = None,
    threshold: float = NAME_THRESHOLD,
) -> list[Pair]:
    """Likely pairs among ``records``, best first (score, then ids).

    ``region`` reads phones written without a country code (the business's country).
    """
    found = _Found()
    by_email: dict[str, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_postcode: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_company: dict[tuple[str, str], list[int]] = defaultdict(list)
    shown_postcode: dict[tuple[str, str], str] = {}
    shown_company: dict[tuple[str, str], str] = {}
    names: dict[int, str] = {}
    for record in records:
        for email in email_keys(record.emails):
            by_email[email].append(record.id)
        for phone in phone_keys(record.phones, region):
            by_phone[phone].append(record.id)
        key = name_key(record.name)
        if not key:
            continue
        names[record.id] = key
        prefixes = {word[:3] for word in key.split() if len(word) >= 2}
        postcode, company = postcode_key(record.postcode), company_key(record.company)
        for prefix in prefixes:
            if postcode:
                by_postcode[(postcode, prefix)].append(record.id)
                shown_postcode[(postcode, prefix)] = (record.postcode or "").strip()
            if company:
                by_company[(company, prefix)].append(record.id)
                shown_company[(company, prefix)] = (record.company or "").strip()
    _shared(found, by_email, "email", EMAIL_SCORE)
    _shared(found, by_phone, "phone", PHONE_SCORE)
    _similar(found, by_postcode, names, shown_postcode, "name_postcode", threshold)
    _similar(found, by_company, names, shown_company, "name_company", threshold)
    return found.pairs()

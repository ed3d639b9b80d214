"""Guardrails: what a reply must not say before it leaves, and why.

Every outbound reply (dashboard, API, CLI) is checked against the conversation's context.
A :class:`Finding` names a rule, a severity and the offending span of the text:

- ``other_client_name``: another client's full name anywhere, or another client's name in the
  greeting, blocks; a greeting name that is not the recipient's (a nickname, a stranger), or
  another client's first name alone in the body, warns.
- ``wrong_partner``: a partner from the business's list that is not this conversation's blocks;
  with no partner on the conversation, a partner mention warns.
- ``unfilled_placeholder``: template syntax left in the text, or an empty greeting, blocks.
- ``deflection``: blame-shifting phrases from the :class:`Lexicon`; strong ones ("not
  affiliated", "not our fault") block, the rest warn.
- ``no_next_step``: the client waits on us and the reply offers nothing to happen next: warns.

Matching is case-insensitive and ignores accents (``Lopez`` finds ``López``); names match on
word boundaries only. A name the recipient or a staff member also bears never counts; first
names that are also words ("May", "Will", "Grace") count only in the greeting or followed by a
surname. Quoted lines (starting with ``>``) are the client's own words and are not checked.

The lexicon can be extended from TOML (documented in ``docs/guardrails.md``)::

    [guardrails]
    deflection = ["that is the airline's job"]      # warn
    deflection_block = ["not our concern"]           # block
    allow = ["not your responsibility"]             # never flagged, even inside a phrase above
    next_step = ["our driver is on the way"]         # counts as a next step
    remove = ["as per our policy"]                   # drop a default phrase
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from goodwill.domain.folded_text import Folded, Token, mask_quotes, name_words, word_tokens
from goodwill.domain.reply_lexicon import (
    DEFAULT_LEXICON,
    Lexicon,
    Severity,
    normalise_phrase,
    word_set,
)

__all__ = [
    "CODES",
    "Code",
    "Finding",
    "ReplyContext",
    "check_reply",
    "is_blocked",
]

Code = Literal[
    "other_client_name", "wrong_partner", "unfilled_placeholder", "deflection", "no_next_step"
]
CODES: tuple[Code, ...] = (
    "other_client_name",
    "wrong_partner",
    "unfilled_placeholder",
    "deflection",
    "no_next_step",
)


@dataclass(frozen=True)
class ReplyContext:
    """Who the reply is for and what the business knows around it.

    ``other_client_names`` are the names of the business's other clients (the recipient left
    out); ``partners`` the business's partner and brand list; ``partner`` this conversation's or
    incident's partner, if any; ``needs_next_step`` is true when the client has an open incident
    or waits on us. ``recipient_aliases`` are further names the recipient answers to (a
    company client's contacts, a nickname).
    """

    recipient_name: str
    recipient_first_name: str | None = None
    other_client_names: Collection[str] = ()
    partners: Collection[str] = ()
    partner: str | None = None
    needs_next_step: bool = False
    staff_names: Collection[str] = ()
    recipient_aliases: Collection[str] = ()


@dataclass(frozen=True)
class Finding:
    """One problem in a reply: ``text[start:end]`` is the offending span."""

    code: Code
    severity: Severity
    start: int
    end: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


def is_blocked(findings: Collection[Finding]) -> bool:
    """True when any finding stops the send."""
    return any(f.severity == "block" for f in findings)


def check_reply(
    text: str, context: ReplyContext, lexicon: Lexicon = DEFAULT_LEXICON
) -> list[Finding]:
    """Every finding in ``text`` for this context, in text order (blocks before warns on ties)."""
    unquoted = mask_quotes(text)
    placeholders = list(_placeholders(unquoted, Folded.of(unquoted)))
    # What sits inside a placeholder is template syntax, not a name or a phrase.
    masked = list(unquoted)
    for f in placeholders:
        masked[f.start : f.end] = "#" * (f.end - f.start)
    folded = Folded.of("".join(masked))
    findings = [
        *placeholders,
        *_names(text, folded, context),
        *_partners(folded, context),
        *_deflections(text, folded, context, lexicon),
        *_next_step(text, folded, context, lexicon),
    ]
    return sorted(findings, key=lambda f: (f.start, f.severity != "block", f.end, f.code))


# -- text folding: case and accents go, offsets into the original stay -----------------------


def _phrase_pattern(phrase: str) -> str:
    """A folded phrase as a regex on word boundaries; spacing between words is free."""
    words = normalise_phrase(phrase).split()
    return r"(?<![\w'])" + r"\s+".join(re.escape(w) for w in words) + r"(?![\w])"


# -- unfilled_placeholder --------------------------------------------------------------------

_PLACEHOLDERS = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^{}\n]*\}|\{\s*[A-Za-z_][\w .-]{0,40}\}|<<[^<>\n]{1,40}>>"
    r"|%[A-Za-z_][A-Za-z0-9_]*%|__[A-Z][A-Z0-9_]*__|\bX{3,}\b|\b(?:TODO|TBD|FIXME)\b"
    r"|\{\{|\}\}|\{%|%\}"
)
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,40})\]")
_PLACEHOLDER_WORDS = re.compile(
    r"(?i)\b(?:name|date|time|insert|number|address|amount|company|partner|client|customer|"
    r"link|here|tbd|todo|x+)\b"
)


def _placeholders(text: str, folded: Folded) -> Iterator[Finding]:
    for m in _PLACEHOLDERS.finditer(text):
        yield Finding(
            "unfilled_placeholder",
            "block",
            m.start(),
            m.end(),
            f"{m.group()!r} is template syntax left in the text; fill it in or remove it.",
        )
    for m in _BRACKETED.finditer(text):
        inner = m.group(1).strip()
        words = inner.replace("_", " ").split()
        if words and (
            inner.replace("_", " ").replace(" ", "").isupper()
            or _PLACEHOLDER_WORDS.search(inner)
            or all(w[0].isupper() for w in words)
        ):
            yield Finding(
                "unfilled_placeholder",
                "block",
                m.start(),
                m.end(),
                f"{m.group()!r} looks like a placeholder that was never filled in.",
            )
    greeting = _greeting(text, folded)
    if greeting is not None and greeting.empty:
        start, end = greeting.span
        yield Finding(
            "unfilled_placeholder",
            "block",
            start,
            end,
            f"The greeting {text[start:end]!r} has no name: a placeholder rendered empty.",
        )


# -- the greeting ----------------------------------------------------------------------------

_SALUTATION = re.compile(
    r"\A\s*(?P<salutation>dear|hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|"
    r"evening|day)|morning|afternoon|evening)(?![\w'])"
    r"(?P<rest>(?:[^,!?:;\n.\u2014\u2013]|(?<=\bmr|\bms|\bdr|\bmx)\.|(?<=\bmrs)\.|(?<=\bprof)\.)*)"
    r"(?P<end>[,!?:;\n.\u2014\u2013]|\Z)"
)
_VOCATIVE = re.compile(r"\A\s*(?P<rest>[^\W\d_][\w' -]{0,40}?)\s*,")
_TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof")
_GENERIC = word_set(
    """
    again | all | and | back | both | client | colleagues | customer | customers | everybody
    everyone | folks | friend | friends | from | guest | guests | just | madam | member
    members | neighbor | neighbour | or | partner | quick | sir | so | team | thank | thanks
    the | there | to | traveler | traveller | two | update | valued | welcome | y'all | you
    """
)
_PARTICLES = frozenset({"van", "de", "da", "von", "del", "der", "la", "le", "di", "du", "bin"})


@dataclass(frozen=True)
class _Greeting:
    span: tuple[int, int]  # original offsets of the whole greeting
    names: tuple[Token, ...]  # name tokens, folded offsets
    empty: bool
    salutation: bool  # "Hi Dan," rather than "Dan,"


def _greeting(text: str, folded: Folded) -> _Greeting | None:
    """The opening salutation ("Hi Dan,", "Dear Ms Okafor:") or vocative ("Dan, ...")."""
    m = _SALUTATION.match(folded.text)
    if m is not None:
        words = word_tokens(folded.text, m.start("rest"), m.end("rest"))
        ending = m.group("end")
        rest = m.group("rest")
        spaced = rest != "" and not rest.strip() and ending in ",:;!."
        titled_only = bool(words) and all(w.word in _TITLES for w in words)
        if ending and (
            (not words and (m.group("salutation") == "dear" or spaced))
            or (titled_only and ending in ",:;!.\n")
        ):
            end = m.end() if ending in ",:;!." else m.end("rest")
            start, stop = folded.span(m.start("salutation"), end)
            return _Greeting((start, len(text[:stop].rstrip())), (), True, True)
        names = _name_run(text, folded, words)
        return _Greeting(folded.span(m.start("salutation"), m.end("rest")), names, False, True)
    v = _VOCATIVE.match(folded.text)
    if v is not None:
        words = word_tokens(folded.text, v.start("rest"), v.end("rest"))
        if 1 <= len(words) <= 3:
            return _Greeting(folded.span(v.start("rest"), v.end()), tuple(words), False, False)
    return None


def _name_run(text: str, folded: Folded, words: list[Token]) -> tuple[Token, ...]:
    """The words that can be names: all of a short greeting, else the capitalised run."""
    if len(words) <= 3:
        return tuple(words)
    run: list[Token] = []
    for w in words:
        original = text[folded.origin[w.start]]
        if not (original.isupper() or w.word in _PARTICLES or w.word in ("and", "&")):
            break
        run.append(w)
    return tuple(run)


# -- other_client_name -----------------------------------------------------------------------

#: First names that are also everyday words or places: only in a greeting or with a surname.
_WORD_NAME_TEXT = """
    may june april august will grace rose hope faith joy mark bill frank jack rob pat art dawn
    drew chase sandy ray sue guy gene lane max chip rich penny ruby amber crystal holly ivy iris
    violet lily daisy olive pearl sky river stone brook dale glen hunter page miles norm carol
    don dean dot eve jean jewel jordan kay lee lou mercy misty nick rocky rusty sage star storm
    wade ward summer autumn winter honey hazel heather ginger cherry candy harmony melody
    destiny sunny bell belle bob bud buck cliff colt duke earl forest gale gray grey hank jay
    king lance mason royal skip sterling young paris florence austin dallas sydney chelsea
    georgia virginia victoria madison savannah phoenix charlotte adelaide houston jackson denver
    india china kenya christian sunday tuesday wednesday thursday friday saturday monday
"""
_WORD_NAMES = frozenset(_WORD_NAME_TEXT.split())
_CLOSINGS = re.compile(
    r"(?m)^[ \t]*(?:best|best wishes|all the best|kind regards|warm regards|warmly|regards|"
    r"thanks|thank you|many thanks|cheers|sincerely|yours|yours sincerely|take care|speak soon|"
    r"talk soon|with thanks)[ \t]*[,.!]?[ \t]*$"
)
_DIMINUTIVES = {
    "robert": "rob bob bobby robbie bert",
    "william": "will bill billy liam",
    "elizabeth": "liz beth betty eliza lizzie libby",
    "katherine": "kate katie kathy kat",
    "catherine": "cate cathy kate katie",
    "margaret": "maggie meg peggy greta",
    "james": "jim jimmy jamie",
    "michael": "mike mick mikey",
    "daniel": "dan danny",
    "thomas": "tom tommy",
    "richard": "rich rick dick",
    "joseph": "joe joey",
    "alexander": "alex sasha",
    "alexandra": "alex sasha sandra",
    "christopher": "chris",
    "christine": "chris chrissy",
    "jennifer": "jen jenny",
    "jonathan": "jon jonny",
    "nicholas": "nick nicky",
    "samuel": "sam sammy",
    "samantha": "sam sammy",
    "benjamin": "ben benny",
    "matthew": "matt",
    "andrew": "andy drew",
    "anthony": "tony",
    "edward": "ed eddie ted",
    "patricia": "pat patty trish",
    "rebecca": "becky becca",
    "victoria": "vicky tori",
    "susan": "sue susie",
    "deborah": "deb debbie",
    "josephine": "jo josie",
    "francesca": "fran frankie",
    "gabriel": "gabe",
    "stephen": "steve",
    "steven": "steve",
    "timothy": "tim",
    "zachary": "zach",
}


@dataclass(frozen=True)
class _Person:
    full: str  # as given, for messages
    tokens: tuple[str, ...]  # folded


def _people(names: Collection[str]) -> list[_Person]:
    people = []
    for name in names:
        tokens = name_words(name)
        if tokens:
            people.append(_Person(name.strip(), tokens))
    return people


def _name_tokens(names: Collection[str | None]) -> set[str]:
    tokens = {word for name in names if name for word in name_words(name)}
    for formal, short in _DIMINUTIVES.items():
        nicknames = set(short.split())
        if formal in tokens:
            tokens |= nicknames
        if tokens & nicknames:
            tokens.add(formal)
    return tokens


def _names(text: str, folded: Folded, context: ReplyContext) -> Iterator[Finding]:
    recipient = _name_tokens(
        [context.recipient_name, context.recipient_first_name, *context.recipient_aliases]
    )
    recipient_full = {
        normalise_phrase(n) for n in (context.recipient_name, *context.recipient_aliases)
    }
    staff = _people(context.staff_names)
    staff_first = {p.tokens[0] for p in staff}
    tokens = word_tokens(folded.text)
    present = {t.word for t in tokens}
    others = [
        p
        for p in _people(context.other_client_names)
        if present.intersection(p.tokens) and normalise_phrase(p.full) not in recipient_full
    ]
    shielded = _spans_of(tokens, [p.tokens for p in staff])
    shielded |= _spans_of(tokens, _partner_sequences(context))
    reported: set[int] = set()  # folded starts of tokens already explained

    # Full names (and "first last" of a longer name, and "Ms Surname") anywhere: a block.
    sequences: dict[tuple[str, ...], _Person] = {}
    for person in others:
        if len(person.tokens) >= 2:
            sequences.setdefault(person.tokens, person)
            sequences.setdefault((person.tokens[0], person.tokens[-1]), person)
            if person.tokens[-1] not in recipient:
                for title in _TITLES:
                    sequences.setdefault((title, person.tokens[-1]), person)
    for (i, j), person in _find_sequences(folded.text, tokens, sequences).items():
        words = [tokens[k].word for k in range(i, j) if tokens[k].word not in _TITLES]
        if any(k in shielded for k in range(i, j)) or all(w in recipient for w in words):
            continue
        start, end = folded.span(tokens[i].start, tokens[j - 1].end)
        reported.update(tokens[k].start for k in range(i, j))
        yield Finding(
            "other_client_name",
            "block",
            start,
            end,
            f"{text[start:end]!r} is another client ({person.full}); "
            f"this reply is for {context.recipient_name}.",
        )

    first_names: dict[str, _Person] = {}
    for person in others:
        first = person.tokens[0]
        if len(first) >= 2 and first not in recipient and first not in staff_first:
            first_names.setdefault(first, person)

    greeting = _greeting(text, folded)
    if greeting is not None and greeting.names:
        yield from _greeting_names(
            text, folded, context, greeting, recipient, first_names, reported
        )
        reported.update(t.start for t in greeting.names)

    signature = _signature_start(folded.text)
    for k, token in enumerate(tokens):
        match = first_names.get(token.word)
        if match is None or token.start in reported or k in shielded:
            continue
        if token.start >= signature or token.word in _WORD_NAMES:
            continue
        if not text[folded.origin[token.start]].isupper():
            continue
        start, end = folded.span(token.start, token.end)
        yield Finding(
            "other_client_name",
            "warn",
            start,
            end,
            f"{text[start:end]!r} is the first name of another client ({match.full}); "
            f"check that this reply is meant for {context.recipient_name}.",
        )


def _greeting_names(
    text: str,
    folded: Folded,
    context: ReplyContext,
    greeting: _Greeting,
    recipient: set[str],
    first_names: Mapping[str, _Person],
    reported: set[int],
) -> Iterator[Finding]:
    """Another client's name in the greeting blocks; a stranger's name there warns."""
    names = [
        t
        for t in greeting.names
        if t.word not in _TITLES and t.word not in _GENERIC and t.word not in _PARTICLES
    ]
    addressed = any(t.word in recipient for t in names)
    others = [t for t in names if t.word not in recipient and t.word in first_names]
    for token in others:
        if token.start in reported:
            continue
        start, end = folded.span(token.start, token.end)
        yield Finding(
            "other_client_name",
            "block",
            start,
            end,
            f"The greeting addresses {text[start:end]!r}, another client "
            f"({first_names[token.word].full}); this reply is for {context.recipient_name}.",
        )
    if others or addressed or not greeting.salutation:
        return
    capitalised = [t for t in names if text[folded.origin[t.start]].isupper()]
    if capitalised and not any(t.start in reported for t in capitalised):
        start, _ = folded.span(capitalised[0].start, capitalised[0].end)
        _, end = folded.span(capitalised[-1].start, capitalised[-1].end)
        yield Finding(
            "other_client_name",
            "warn",
            start,
            end,
            f"The greeting names {text[start:end]!r}, which is not the recipient's name "
            f"({context.recipient_name}).",
        )


def _signature_start(folded: str) -> int:
    """Where the sign-off begins ("Best,\\nSam"): names after it are the sender's."""
    closings = list(_CLOSINGS.finditer(folded))
    if closings and len(folded) - closings[-1].end() < 120:
        return closings[-1].start()
    return len(folded)


def _spans_of(tokens: Sequence[Token], sequences: Collection[tuple[str, ...]]) -> set[int]:
    """Indexes of tokens covered by any of the word sequences."""
    covered: set[int] = set()
    for seq in sequences:
        n = len(seq)
        if n == 0:
            continue
        for i in range(len(tokens) - n + 1):
            if all(tokens[i + k].word == seq[k] for k in range(n)):
                covered.update(range(i, i + n))
    return covered


_NAME_GAP = re.compile(r"\.?\s+")


def _find_sequences(
    folded: str, tokens: Sequence[Token], sequences: Mapping[tuple[str, ...], _Person]
) -> dict[tuple[int, int], _Person]:
    """Token ranges ``[i, j)`` spelling one of ``sequences``, longest first, not overlapping."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for seq in sequences:
        by_first.setdefault(seq[0], []).append(seq)
    for options in by_first.values():
        options.sort(key=len, reverse=True)
    found: dict[tuple[int, int], _Person] = {}
    i = 0
    while i < len(tokens):
        for seq in by_first.get(tokens[i].word, ()):
            j = i + len(seq)
            if j <= len(tokens) and all(
                tokens[i + k].word == seq[k]
                and (
                    k == 0
                    or _NAME_GAP.fullmatch(folded, tokens[i + k - 1].end, tokens[i + k].start)
                )
                for k in range(len(seq))
            ):
                found[(i, j)] = sequences[seq]
                i = j - 1
                break
        i += 1
    return found


# -- wrong_partner ---------------------------------------------------------------------------

_GENERIC_CHANNELS = word_set(
    """
    app | counter | direct | e-mail | email | in store | in-store | mail | n/a | none | office
    online | other | phone | post | shop | store | telephone | unknown | walk-in | web
    web shop | webshop | website
    """
)


def _partner_aliases(name: str) -> list[str]:
    """``"Reseller: Northwind"`` is also ``"Northwind"``; bare channel words are no partner."""
    aliases = [normalise_phrase(name)]
    if ":" in name:
        aliases.append(normalise_phrase(name.rsplit(":", 1)[1]))
    return [a for a in aliases if a and a not in _GENERIC_CHANNELS]


def _partner_sequences(context: ReplyContext) -> list[tuple[str, ...]]:
    return [
        tuple(t.word for t in word_tokens(alias))
        for p in context.partners
        for alias in _partner_aliases(p)
    ]


def _mentions(folded: str, aliases: Collection[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for alias in sorted(aliases, key=len, reverse=True):
        for m in re.finditer(_phrase_pattern(alias), folded):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    return spans


def _partners(folded: Folded, context: ReplyContext) -> Iterator[Finding]:
    own = _partner_aliases(context.partner) if context.partner else []
    own_spans = _mentions(folded.text, own)
    taken = list(own_spans)
    others = [
        p for p in context.partners if normalise_phrase(p) not in {normalise_phrase(a) for a in own}
    ]
    by_alias = {a: p for p in others for a in _partner_aliases(p) if a not in own}
    for alias in sorted(by_alias, key=len, reverse=True):
        for m in re.finditer(_phrase_pattern(alias), folded.text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            start, end = folded.span(m.start(), m.end())
            partner = by_alias[alias]
            if context.partner:
                yield Finding(
                    "wrong_partner",
                    "block",
                    start,
                    end,
                    f"{partner!r} is not this conversation's partner ({context.partner}).",
                )
            else:
                yield Finding(
                    "wrong_partner",
                    "warn",
                    start,
                    end,
                    f"{partner!r} is one of the business's partners, and this conversation "
                    "has none; check the mention.",
                )


# -- deflection ------------------------------------------------------------------------------


def _deflections(
    text: str, folded: Folded, context: ReplyContext, lexicon: Lexicon
) -> Iterator[Finding]:
    allowed = [
        m.span() for p in lexicon.allow for m in re.finditer(_phrase_pattern(p), folded.text)
    ]
    partner_names = [a for p in context.partners for a in _partner_aliases(p)]
    targets = sorted(
        {*partner_names, "them", "the site", "the booking site", "the agency"}, key=len
    )
    alternation = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in reversed(targets))
    taken: list[tuple[int, int]] = []
    ordered = sorted(lexicon.deflection, key=lambda p: (p.severity != "block", -len(p.text)))
    for phrase in ordered:
        pattern = _phrase_pattern(phrase.text).replace(re.escape("{partner}"), f"(?:{alternation})")
        for m in re.finditer(pattern, folded.text):
            span = m.span()
            if any(s <= span[0] and span[1] <= e for s, e in allowed):
                continue
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            taken.append(span)
            start, end = folded.span(*span)
            if phrase.severity == "block":
                why = "shifts the blame; a partner's mistake is still ours to own"
            else:
                why = "deflects the client; say what we will do instead"
            yield Finding("deflection", phrase.severity, start, end, f"{text[start:end]!r} {why}.")


# -- no_next_step ----------------------------------------------------------------------------

_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_CLOCK = r"\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)"
_TIME_CUE = re.compile(
    r"(?<![\w'])(?:today|tomorrow|tonight|this\s+(?:morning|afternoon|evening|week)|later\s+today|"
    r"first\s+thing|end\s+of\s+(?:the\s+)?(?:day|week)|close\s+of\s+business|"
    rf"{_CLOCK}|(?:by|before|until|at)\s+\d{{1,2}}(?::\d{{2}})?|"
    r"(?:by|before|at|until)\s+(?:noon|midday|midnight|tonight|the\s+weekend|eod|cob)|"
    r"within\s+(?:the|an|a|one|two|three|four|five|\d+)\s*(?:-\s*)?(?:minutes?|hours?|days?|"
    r"working\s+days?|business\s+days?)|"
    r"in\s+(?:the\s+next\s+)?(?:\d+|an?|one|two|ten|twenty|thirty|fifteen)\s+(?:minutes?|hours?)|"
    rf"(?:next|this|coming|on|by|before)\s+{_WEEKDAYS}|{_WEEKDAYS}|"
    rf"(?:on|by|before)\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}|"
    rf"(?:on|by|before)\s+{_MONTHS}\s+\d{{1,2}})(?![\w])"
)
#: A time in a sentence about the past, or in an apology or thanks, is no commitment.
_NOT_A_COMMITMENT = re.compile(
    r"(?<![\w'])(?:was|were|had|did|didn't|wasn't|weren't|hadn't|yesterday|ago|last)(?![\w])"
    r"|\A\s*(?:(?:i'm|i am|we're|we are|so|very|really|truly)\s+)*(?:sorry|apologies|"
    r"(?:we|i)\s+apologi[sz]e|thanks|thank\s+you|our\s+apologies)(?![\w])"
)
#: Sentences, and clauses after a colon, semicolon or dash ("So sorry: it leaves today.").
_SENTENCE = re.compile(r"[^.!?\n:;\u2014]+[.!?]*")
_NEGATION = r"(?!'t|\s+(?:not|never|only\s+apologi[sz]e)(?![\w]))"


def _next_step(
    text: str, folded: Folded, context: ReplyContext, lexicon: Lexicon
) -> Iterator[Finding]:
    if not context.needs_next_step or not text.strip():
        return
    if "?" in folded.text:
        return
    for cue in lexicon.next_step:
        if re.search(_phrase_pattern(cue) + _NEGATION, folded.text):
            return
    for sentence in _SENTENCE.finditer(folded.text):
        said = sentence.group()
        if _TIME_CUE.search(said) and not _NOT_A_COMMITMENT.search(said):
            return
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    yield Finding(
        "no_next_step",
        "warn",
        start,
        end,
        'The client is waiting on us, and this reply offers no next step: no offer ("we '
        'will", "I\'ll"), no question, no commitment with a time.',
    )

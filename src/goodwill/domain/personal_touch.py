"""Personal touch: what a staff member could mention to make a reply personal, and why.

Suggestions are shown beside the reply box and never inserted into a reply: a person decides
whether a shared hometown or a birthday belongs in this answer. Each :class:`Suggestion` has a
``kind`` (stable, for tests and styling), a ``text`` in plain words and a ``why`` naming the
facts it comes from.

- ``same_hometown``: the client and the staff member are from the same town.
- ``rival_hometown`` / ``neighbour_hometown``: their towns are rivals or neighbours by the
  :class:`Rivalries` table (Amsterdam and Rotterdam, Manchester and Liverpool...).
- ``shared_school`` / ``shared_interest``: a school or interest on both sides.
- ``birthday``: the client's birthday within :data:`SOON_DAYS` (29 February falls on
  28 February in other years, as :func:`goodwill.domain.records.upcoming_birthday`).
- ``anniversary``: the anniversary of the day they became a client within :data:`SOON_DAYS`.
- ``milestone``: the purchase that reached a round number (10, 25, 50...) was recent.
- ``life_event``: a dated fact (a wedding, a launch, someone's birthday) coming within
  :data:`SOON_DAYS`, or passed within :data:`RECENT_EVENT_DAYS` (ask how it went).
- ``interest``: an interest of the client's the staff member does not share.
- ``value``: what the client told us they value; ``sensitivity``: what to mind ("never call
  before 10"); ``note``: the latest note kept about them. A hometown fact stands in for the
  client's hometown when the record has none.

Towns, schools and interests match ignoring case, accents and spacing; a town is compared on
its first comma-separated part, so "Leeds, UK" is Leeds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from goodwill.domain.records import upcoming_birthday
from goodwill.errors import ConfigError

__all__ = [
    "MILESTONES",
    "RECENT_EVENT_DAYS",
    "RECENT_MILESTONE_DAYS",
    "SOON_DAYS",
    "ClientFacts",
    "KeptFact",
    "Kind",
    "Rivalries",
    "StaffFacts",
    "Suggestion",
    "parse_rivalries",
    "suggestions",
]

Kind = Literal[
    "same_hometown",
    "rival_hometown",
    "neighbour_hometown",
    "shared_school",
    "shared_interest",
    "birthday",
    "anniversary",
    "milestone",
    "life_event",
    "interest",
    "value",
    "sensitivity",
    "note",
]
#: A birthday or anniversary this many days ahead (today included) is "soon".
SOON_DAYS = 14
#: A dated fact that passed at most this many days ago is worth asking about.
RECENT_EVENT_DAYS = 14
#: Interests of the client's worth a word, at most.
MAX_INTERESTS = 3
#: Dated kinds that come back every year (goodwill.domain.facts.RECURRING_KINDS).
_YEARLY = ("birthday", "anniversary")
#: Purchase counts worth a word when reached.
MILESTONES = (10, 25, 50, 100, 250, 500, 1000)
#: A milestone is "just reached" when the purchase that reached it is at most this old.
RECENT_MILESTONE_DAYS = 30


@dataclass(frozen=True)
class KeptFact:
    """One fact the team wrote down: its kind (goodwill.domain.facts), text and day if any."""

    kind: str
    text: str
    on_date: date | None = None


@dataclass(frozen=True)
class ClientFacts:
    """What the suggestions may use about the client."""

    name: str
    hometown: str | None = None
    birthday: tuple[int, int] | None = None  # (day, month)
    client_since: date | None = None
    schools: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    purchase_count: int = 0
    last_purchase: date | None = None
    facts: tuple[KeptFact, ...] = ()


@dataclass(frozen=True)
class StaffFacts:
    """What the suggestions may use about the staff member answering."""

    name: str
    hometown: str | None = None
    schools: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    kind: Kind
    text: str
    why: str


@dataclass(frozen=True)
class Rivalries:
    """Pairs of towns known to be rivals or neighbours, each with an optional note.

    ``pairs`` maps a frozenset of two folded town names to ``(relation, note)``.
    """

    pairs: Mapping[frozenset[str], tuple[Literal["rival", "neighbour"], str]] = field(
        default_factory=dict
    )

    def between(self, a: str, b: str) -> tuple[Literal["rival", "neighbour"], str] | None:
        return self.pairs.get(frozenset((_town(a), _town(b))))


def parse_rivalries(data: Mapping[str, object], *, source: str = "rivalries") -> Rivalries:
    """Rivalries from TOML data: ``[[pair]]`` tables with ``towns`` (two names), ``relation``
    (``rival`` or ``neighbour``, default rival) and an optional ``note``."""
    pairs: dict[frozenset[str], tuple[Literal["rival", "neighbour"], str]] = {}
    tables = data.get("pair", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: pair must be a list of tables", file=source, key="pair")
    for number, table in enumerate(tables, start=1):
        towns = table.get("towns") if isinstance(table, dict) else None
        if (
            not isinstance(towns, list)
            or len(towns) != 2
            or not all(isinstance(t, str) and t.strip() for t in towns)
            or _town(towns[0]) == _town(towns[1])
        ):
            raise ConfigError(
                f"{source}: pair {number} needs towns = two different town names",
                file=source,
                key="pair",
            )
        assert isinstance(table, dict)
        relation = table.get("relation", "rival")
        note = table.get("note", "")
        if relation not in ("rival", "neighbour") or not isinstance(note, str):
            raise ConfigError(
                f"{source}: pair {number}: relation is rival or neighbour, note is text",
                file=source,
                key="pair",
            )
        pairs[frozenset(_town(t) for t in towns)] = (relation, note.strip())
    return Rivalries(pairs)


def suggestions(
    client: ClientFacts,
    staff: StaffFacts,
    *,
    today: date,
    rivalries: Rivalries | None = None,
) -> list[Suggestion]:
    """What ``staff`` could mention to ``client`` today, the closest connection first."""
    client = _with_facts(client)
    found: list[Suggestion] = []
    found.extend(_hometowns(client, staff, rivalries or Rivalries()))
    found.extend(_shared(client, staff, "shared_school", "school"))
    found.extend(_shared(client, staff, "shared_interest", "interest"))
    found.extend(_dates(client, today))
    found.extend(_life_events(client, today))
    found.extend(_milestone(client, today))
    found.extend(_kept(client, staff))
    return found


def _with_facts(client: ClientFacts) -> ClientFacts:
    """The kept facts folded into the fields the matching reads: schools, interests and, when
    the record has none, the hometown."""
    by_kind: dict[str, list[str]] = {}
    for fact in client.facts:
        by_kind.setdefault(fact.kind, []).append(fact.text)
    return replace(
        client,
        hometown=client.hometown or next(iter(by_kind.get("hometown", [])), None),
        schools=tuple(dict.fromkeys([*client.schools, *by_kind.get("school", [])])),
        interests=tuple(dict.fromkeys([*client.interests, *by_kind.get("interest", [])])),
    )


def _life_events(client: ClientFacts, today: date) -> list[Suggestion]:
    out: list[Suggestion] = []
    for fact in client.facts:
        if fact.on_date is None:
            continue
        days = [fact.on_date]
        if fact.kind in _YEARLY:
            days = [
                upcoming_birthday(fact.on_date.day, fact.on_date.month, today=today),
                upcoming_birthday(
                    fact.on_date.day, fact.on_date.month, today=today - timedelta(days=366)
                ),
            ]
        for day in days:
            ahead = (day - today).days
            if 0 <= ahead < SOON_DAYS:
                text = f"Coming up {_in_days(ahead, day)}: {fact.text}."
            elif 0 < -ahead <= RECENT_EVENT_DAYS and day >= fact.on_date:
                text = f"Ask how it went: {fact.text} ({day:%d %B})."
            else:
                continue
            out.append(Suggestion("life_event", text, f"Noted on file for {day:%d %B %Y}."))
            break
    return out


def _kept(client: ClientFacts, staff: StaffFacts) -> list[Suggestion]:
    """What they value, what to mind, their interests and the latest note: words to keep in
    mind while answering, not dates."""
    out: list[Suggestion] = []
    mine = {_fold(v) for v in staff.interests}
    kept = [f.text for f in client.facts if f.kind == "interest"]
    interests = [i for i in kept if _fold(i) not in mine][:MAX_INTERESTS]
    for text in interests:
        out.append(Suggestion("interest", f"They like {text.strip()}.", "An interest on file."))
    notes = [f.text for f in client.facts if f.kind == "note"]
    for fact in client.facts:
        if fact.kind == "value":
            out.append(
                Suggestion("value", f"They value: {fact.text}", "What they told us matters.")
            )
        elif fact.kind == "sensitivity":
            out.append(Suggestion("sensitivity", f"Mind: {fact.text}", "A sensitivity on file."))
    if notes:
        out.append(Suggestion("note", f"From the notes: {notes[-1]}", "The latest note on file."))
    return out


def _hometowns(client: ClientFacts, staff: StaffFacts, rivalries: Rivalries) -> list[Suggestion]:
    if not client.hometown or not staff.hometown:
        return []
    theirs, yours = _town_name(client.hometown), _town_name(staff.hometown)
    why = f"{client.name} is from {theirs}; {staff.name} is from {yours}."
    if _town(theirs) == _town(yours):
        return [Suggestion("same_hometown", f"You are both from {theirs}.", why)]
    known = rivalries.between(theirs, yours)
    if known is None:
        return []
    relation, note = known
    if relation == "rival":
        text = f"Rival hometowns: {theirs} and {yours}."
        kind: Kind = "rival_hometown"
    else:
        text = f"Neighbouring hometowns: {theirs} and {yours}."
        kind = "neighbour_hometown"
    return [Suggestion(kind, text + (f" {note}" if note else ""), why)]


def _shared(
    client: ClientFacts, staff: StaffFacts, kind: Kind, word: Literal["school", "interest"]
) -> list[Suggestion]:
    theirs: Iterable[str] = client.schools if word == "school" else client.interests
    yours: Iterable[str] = staff.schools if word == "school" else staff.interests
    mine = {_fold(v) for v in yours if v.strip()}
    out: list[Suggestion] = []
    seen: set[str] = set()
    for value in theirs:
        key = _fold(value)
        if key in mine and key not in seen:
            seen.add(key)
            out.append(
                Suggestion(
                    kind,
                    f"A shared {word}: {value.strip()}.",
                    f"Both {client.name} and {staff.name} list it as {_article(word)}.",
                )
            )
    return out


def _dates(client: ClientFacts, today: date) -> list[Suggestion]:
    out: list[Suggestion] = []
    if client.birthday is not None:
        day, month = client.birthday
        when = upcoming_birthday(day, month, today=today)
        days = (when - today).days
        if days < SOON_DAYS:
            out.append(
                Suggestion(
                    "birthday",
                    f"{_first(client.name)}'s birthday is {_in_days(days, when)}.",
                    f"Birthday on file: {date(2000, month, day):%d %B}.",
                )
            )
    since = client.client_since
    if since is not None:
        when = upcoming_birthday(since.day, since.month, today=today)
        years = when.year - since.year
        days = (when - today).days
        if years >= 1 and days < SOON_DAYS:
            out.append(
                Suggestion(
                    "anniversary",
                    f"{years} year{'s' if years != 1 else ''} as a client {_in_days(days, when)}.",
                    f"A client since {since:%d %B %Y}.",
                )
            )
    return out


def _milestone(client: ClientFacts, today: date) -> list[Suggestion]:
    last = client.last_purchase
    if client.purchase_count not in MILESTONES or last is None:
        return []
    if not timedelta(0) <= today - last <= timedelta(days=RECENT_MILESTONE_DAYS):
        return []
    return [
        Suggestion(
            "milestone",
            f"Their {_ordinal(client.purchase_count)} purchase, on {last:%d %B}.",
            f"{client.purchase_count} purchases on record, the latest {(today - last).days} "
            "days ago.",
        )
    ]


def _in_days(days: int, when: date) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return f"tomorrow ({when:%d %B})"
    return f"in {days} days ({when:%A %d %B})"


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def _town_name(value: str) -> str:
    return value.split(",")[0].strip()


def _town(value: str) -> str:
    return _fold(_town_name(value))


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())

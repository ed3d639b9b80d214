"""The playbook in force as the page and the API show it: its rules, whether their templates
pass the check, which rules send by themselves, and the client a template is previewed with.

A playbook file that cannot be read, or a rule naming a template that does not exist, is shown
to the owner as a message naming the file, the rule and the template, never as a server error:
the owner must be able to see what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goodwill.domain.playbooks import Playbook
from goodwill.engine.configuration import playbook_for, playbook_source
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.models import Client, Event
from goodwill.store.queries import ClientOverview, find_client, list_clients
from goodwill.touch_messages import check_rule_templates

#: Days ahead the send preview may look; a week by default.
DEFAULT_DAYS, MAX_DAYS = 7, 31
#: Clients offered when a preview's search matches more than one.
CHOICES = 6


@dataclass(frozen=True)
class InForce:
    """The playbook in force (None when its file cannot be read) and the problem found, if any:
    the file's own error, or the first rule whose template fails the check."""

    source: str
    playbook: Playbook | None
    problem: ConfigError | None

    @property
    def valid(self) -> bool:
        return self.problem is None

    def readable(self) -> Playbook:
        """The playbook, or its file's error (ConfigError) when it cannot be read."""
        if self.playbook is None:
            assert self.problem is not None
            raise self.problem
        return self.playbook


def in_force(settings: Settings) -> InForce:
    """Read the playbook the settings name and check every template its rules name."""
    source = playbook_source(settings)
    try:
        playbook = playbook_for(settings)
    except ConfigError as exc:
        return InForce(source, None, exc)
    try:
        check_rule_templates(playbook, settings, source=source)
    except ConfigError as exc:
        return InForce(source, playbook, exc)
    return InForce(source, playbook, None)


def the_playbook(settings: Settings) -> Playbook:
    """The playbook in force, or its file's error (ConfigError) when it cannot be read."""
    return in_force(settings).readable()


def switchable(settings: Settings, rule: str, *, on: bool) -> Playbook:
    """The playbook to switch ``rule`` in; a rule whose own template fails the check is not
    switched on (InvalidInput): its mail could not be written."""
    found = in_force(settings)
    playbook = found.readable()
    problem = found.problem
    if on and problem is not None and problem.fields.get("rule") == rule:
        raise InvalidInput(
            f"rule {rule!r} is not switched on: {problem.message}", field="rule", rule=rule
        )
    return playbook


def no_sender(settings: Settings) -> str | None:
    """Why no automated mail can be written at all (no address to send from), or None."""
    if not settings.mail.get("from_address"):
        return "mail.from_address is not set, so goodwill has no address to send from"
    return None


@dataclass(frozen=True)
class Found:
    """The client a preview is for, or the clients a search matched when it matched several."""

    client: Client | None
    choices: list[ClientOverview]


def client_to_preview(session: Session, settings: Settings, text: str, *, today: date) -> Found:
    """A client by id (from the files, ``#id``), email or phone, else by a search of names and
    addresses; NotFound when nothing matches, and the choices when several do."""
    wanted = text.strip()
    if not wanted:
        raise InvalidInput("give a client's id, email or name", field="client")
    try:
        return Found(find_client(session, wanted), [])
    except NotFound:
        pass
    matches, total = list_clients(session, settings, today=today, search=wanted, limit=CHOICES)
    if total == 1:
        return Found(session.get(Client, matches[0].id), [])
    if not matches:
        raise NotFound(f"no client matches {wanted!r}", client=wanted)
    return Found(None, matches)


def clients_with(session: Session, kind: str, *, limit: int = CHOICES) -> list[Client]:
    """The clients with the most recent touch points of ``kind``: a rule's template can be
    previewed with them."""
    latest = func.max(Event.occurred_at)
    ids = list(
        session.execute(
            select(Event.client_id)
            .where(Event.type == kind, Event.client_id.is_not(None))
            .group_by(Event.client_id)
            .order_by(latest.desc(), Event.client_id)
            .limit(limit)
        ).scalars()
    )
    found = {c.id: c for c in session.execute(select(Client).where(Client.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]

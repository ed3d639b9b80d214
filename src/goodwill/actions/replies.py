"""What the reply box offers a person writing: canned replies and personal-touch suggestions.

Canned replies are ``NAME.txt`` files of Jinja2 text, rendered in a sandbox with strict
undefined: a placeholder the conversation cannot fill (a client with no hometown, no incident
on the conversation, a typo) is a :class:`TemplateProblem` naming it, never an empty string in
the text. Values are read from the store when a template is picked, so a renamed client or a
new assignee shows at once. The placeholders::

    client.name  client.greeting  client.first_name  client.email  client.hometown
    client.tenure_years  client.tier  business.name  conversation.subject  incident.what
    incident.partner  staff.name  staff.first_name

``client.greeting`` is the first name, or the whole name when it is one word (a company), for
which ``client.first_name`` is missing; ``business.name`` is the ``business_name`` setting;
``client.tenure_years`` is missing for a
client of less than a year, ``incident`` when the client has no open incident; ``{% if
incident %}`` and ``{% if client.hometown is defined %}`` test for them. A template may start
(after its description comment) with a ``Subject:`` line, for the mail a playbook rule sends
with it (goodwill.touch_messages); the reply box leaves that line out.

The shipped templates live in ``goodwill/defaults/templates`` and are read-only; the
``templates`` setting names a directory whose templates add to them (one of the same name
replaces the shipped one), and where the dashboard saves. A ``rivalries.toml`` there adds town
pairs to the shipped ``defaults/rivalries.toml``; a ``staff.toml`` there gives staff members'
schools and interests, by email::

    ["olive@example.com"]
    schools = ["Leeds Grammar School"]
    interests = ["sailing", "jazz"]
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain import personal_touch
from goodwill.domain.personal_touch import Rivalries, StaffFacts, Suggestion
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.models import Client, ClientFact, Conversation, Incident, StaffUser
from goodwill.store.queries import overviews_for

__all__ = [
    "DEFAULT_TEMPLATES",
    "Placeholders",
    "ReplyTemplate",
    "TemplateProblem",
    "client_placeholders",
    "list_templates",
    "load_rivalries",
    "load_staff_facts",
    "placeholders_for",
    "render_source",
    "render_template",
    "save_template",
    "split_subject",
    "suggestions_for",
    "template",
]

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES = Path(__file__).parent.parent / "defaults" / "templates"
DEFAULT_RIVALRIES = Path(__file__).parent.parent / "defaults" / "rivalries.toml"
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
#: Largest template the dashboard accepts, in characters.
MAX_SOURCE = 20_000
_DESCRIPTION = re.compile(r"\A\s*\{#(.*?)#\}", re.DOTALL)


class TemplateProblem(InvalidInput):
    """A canned reply that cannot be used as it is: a missing value, bad syntax, a forbidden
    attribute. ``template`` names it; ``placeholder`` the value, when one is to blame."""

    def __init__(
        self,
        message: str,
        *,
        template: str,
        placeholder: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(
            message, field="template", template=template, placeholder=placeholder, line=line
        )
        self.template = template
        self.placeholder = placeholder


@dataclass(frozen=True)
class ReplyTemplate:
    name: str
    source: str
    origin: Literal["shipped", "yours"]

    @property
    def description(self) -> str:
        """The comment the template starts with (``{# ... #}``), if any."""
        found = _DESCRIPTION.match(self.source)
        return " ".join(found.group(1).split()) if found else ""


class Placeholders(Mapping[str, object]):
    """The values of one placeholder group (``client``, ``incident``...); a value that is
    ``None`` or blank is absent, so using it fails by name instead of rendering empty."""

    __slots__ = ("_label", "_values")

    def __init__(self, label: str, values: Mapping[str, object] | None = None) -> None:
        self._label = label
        self._values = {
            k: v for k, v in (values or {}).items() if v is not None and str(v).strip() != ""
        }

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<{self._label}>"


class _Missing(StrictUndefined):
    """Strict undefined whose message is the placeholder's dotted name (``client.hometown``)."""

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        owner = self._undefined_obj
        if isinstance(owner, Placeholders):
            return f"{owner._label}.{self._undefined_name}"
        if owner is missing:
            return str(self._undefined_name)
        return str(super()._undefined_message)


class _Sandbox(SandboxedEnvironment):
    """A placeholder is looked up by name before any attribute, so ``order.items`` is the
    order's items, not the mapping's method, and a missing one is missing."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Placeholders) and not attribute.startswith("_"):
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _environment() -> SandboxedEnvironment:
    return _Sandbox(undefined=_Missing, autoescape=False, trim_blocks=True, lstrip_blocks=True)


_ENV = _environment()
_PLACEHOLDER = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*")


# -- the templates ---------------------------------------------------------------------------


def _directories(settings: Settings) -> list[tuple[Path, Literal["shipped", "yours"]]]:
    found: list[tuple[Path, Literal["shipped", "yours"]]] = [(DEFAULT_TEMPLATES, "shipped")]
    if settings.templates is not None:
        found.append((settings.templates, "yours"))
    return found


def list_templates(settings: Settings) -> list[ReplyTemplate]:
    """Every canned reply by name: the shipped ones, then the configured directory's, which
    replace shipped ones of the same name. A configured directory not yet made is empty."""
    found: dict[str, ReplyTemplate] = {}
    for directory, origin in _directories(settings):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.txt")):
            if NAME.fullmatch(path.stem):
                found[path.stem] = ReplyTemplate(path.stem, _read(path), origin)
    return [found[name] for name in sorted(found)]


def template(settings: Settings, name: str) -> ReplyTemplate:
    """The canned reply called ``name``; NotFound if there is none."""
    for found in list_templates(settings) if NAME.fullmatch(name) else []:
        if found.name == name:
            return found
    raise NotFound(f"there is no reply template {name!r}", template=name)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the template: {exc}", file=str(path)) from exc


def save_template(settings: Settings, name: str, source: str) -> Path:
    """Write ``source`` as the template ``name`` in the configured directory (made if needed).

    Refused without the ``templates`` setting (the shipped templates are part of the
    installation), for a name other than lower-case letters, digits and dashes, and for text
    that is not a valid template.
    """
    if settings.templates is None:
        raise ConfigError(
            "the shipped reply templates cannot be changed here: set `templates` to a directory "
            "of your own in the settings file (docs/replies.md), and edits are saved there",
            key="templates",
        )
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "a template name is lower-case letters, digits and dashes, such as late-delivery",
            field="name",
        )
    if not source.strip():
        raise InvalidInput("a template needs some text", field="source")
    if len(source) > MAX_SOURCE:
        raise InvalidInput(f"a template is at most {MAX_SOURCE} characters", field="source")
    _compile(name, source)
    directory = settings.templates
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.txt"
    text = source.replace("\r\n", "\n").rstrip("\n") + "\n"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("reply template %s saved", name)
    return target


# -- rendering -------------------------------------------------------------------------------


def _compile(name: str, source: str) -> Any:
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template {name!r}, line {exc.lineno}: {exc.message}", template=name, line=exc.lineno
        ) from exc


def render_template(settings: Settings, name: str, context: Mapping[str, Placeholders]) -> str:
    """The canned reply ``name`` filled from ``context`` (see :func:`placeholders_for`); a
    ``Subject:`` first line is left out, as the reply keeps the conversation's subject."""
    return split_subject(render_source(template(settings, name).source, context, name=name))[1]


def render_source(source: str, context: Mapping[str, Placeholders], *, name: str) -> str:
    """Template text ``source`` filled from ``context``; TemplateProblem names what is missing."""
    compiled = _compile(name, source)
    try:
        text = str(compiled.render(dict(context)))
    except SecurityError as exc:
        raise TemplateProblem(
            f"template {name!r} uses something templates may not: {exc}", template=name
        ) from exc
    except UndefinedError as exc:
        placeholder = str(exc) if _PLACEHOLDER.fullmatch(str(exc)) else None
        if placeholder is None:
            raise TemplateProblem(f"template {name!r}: {exc}", template=name) from exc
        why = _why_missing(placeholder, context)
        raise TemplateProblem(
            f"template {name!r} needs {{{{ {placeholder} }}}}, {why}",
            template=name,
            placeholder=placeholder,
        ) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"template {name!r}: {exc}", template=name) from exc
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def _why_missing(placeholder: str, context: Mapping[str, Placeholders]) -> str:
    group = context.get(placeholder.split(".")[0])
    if group is None:
        return "which is not a placeholder goodwill knows (docs/replies.md lists them)"
    if group._label == "incident" and not group:
        return "and the client has no open incident"
    return "and it is empty for this conversation: fill it in, or write that part yourself"


def placeholders_for(
    session: Session, settings: Settings, conversation_id: int, *, staff: StaffUser, today: date
) -> dict[str, Placeholders]:
    """The values a canned reply can use in this conversation, read now from the store."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"there is no conversation {conversation_id}", conversation=conversation_id)
    client = session.get(Client, conversation.client_id)
    assert client is not None
    overview = overviews_for(session, settings, [client.id], today=today).get(client.id)
    years = int(overview.tenure_years) if overview is not None else 0
    incident = session.execute(
        select(Incident)
        .where(Incident.client_id == client.id, Incident.status == "open")
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return {
        "client": client_placeholders(
            client, tenure_years=years, tier=overview.tier if overview is not None else None
        ),
        "business": Placeholders("business", {"name": settings.business_name}),
        "conversation": Placeholders("conversation", {"subject": conversation.subject}),
        "incident": Placeholders(
            "incident",
            {"what": incident.what, "partner": incident.partner} if incident else None,
        ),
        "staff": Placeholders(
            "staff", {"name": staff.name, "first_name": staff.name.split()[0] or None}
        ),
    }


def client_placeholders(client: Client, *, tenure_years: int, tier: str | None) -> Placeholders:
    """The ``client`` group: ``greeting`` is the first name, or the whole of a one-word name."""
    first = _first_name(client.name)
    return Placeholders(
        "client",
        {
            "name": client.name,
            "greeting": first or client.name,
            "first_name": first,
            "email": client.email,
            "hometown": client.hometown,
            "tenure_years": tenure_years if tenure_years >= 1 else None,
            "tier": tier,
        },
    )


def split_subject(text: str) -> tuple[str | None, str]:
    """A rendered template's ``Subject:`` first line, if it has one, and the body after it."""
    head, _, rest = text.lstrip("\n").partition("\n")
    if not head.lower().startswith("subject:"):
        return None, text
    return head[len("subject:") :].strip() or None, rest.lstrip("\n")


def _day(at: datetime | None, settings: Settings) -> date | None:
    return at.astimezone(settings.zone).date() if at is not None else None


def _first_name(name: str) -> str | None:
    """The first word of a name of two words or more (a one-word name may be a company)."""
    words = name.split()
    return words[0] if len(words) > 1 else None


# -- personal touch --------------------------------------------------------------------------


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}", file=str(path)) from exc


def load_rivalries(settings: Settings) -> Rivalries:
    """The shipped town pairs, plus those of ``rivalries.toml`` in the templates directory."""
    pairs = dict(personal_touch.parse_rivalries(_toml(DEFAULT_RIVALRIES)).pairs)
    extra = settings.templates / "rivalries.toml" if settings.templates else None
    if extra is not None and extra.is_file():
        pairs.update(personal_touch.parse_rivalries(_toml(extra), source=str(extra)).pairs)
    return Rivalries(pairs)


def load_staff_facts(settings: Settings) -> dict[str, dict[str, tuple[str, ...]]]:
    """Staff members' schools and interests by email, from ``staff.toml`` in the templates
    directory; empty when there is none."""
    path = settings.templates / "staff.toml" if settings.templates else None
    if path is None or not path.is_file():
        return {}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for email, table in _toml(path).items():
        if not isinstance(table, dict) or set(table) - {"schools", "interests"}:
            raise ConfigError(
                f"{path}: [{email!r}] takes schools and interests", file=str(path), key=email
            )
        lists = {k: table.get(k, []) for k in ("schools", "interests")}
        if not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in lists.values()
        ):
            raise ConfigError(
                f"{path}: [{email!r}] schools and interests are lists of text",
                file=str(path),
                key=email,
            )
        out[email.lower()] = {k: tuple(v) for k, v in lists.items()}
    return out


def suggestions_for(
    session: Session, settings: Settings, conversation_id: int, *, staff: StaffUser, today: date
) -> list[Suggestion]:
    """Personal-touch suggestions for ``staff`` answering this conversation's client."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"there is no conversation {conversation_id}", conversation=conversation_id)
    client = session.get(Client, conversation.client_id)
    assert client is not None
    kept = tuple(
        personal_touch.KeptFact(kind, text, on_date)
        for kind, text, on_date in session.execute(
            select(ClientFact.kind, ClientFact.text, ClientFact.on_date)
            .where(ClientFact.client_id == client.id)
            .order_by(ClientFact.id)
        )
    )
    overview = overviews_for(session, settings, [client.id], today=today).get(client.id)
    birthday = None
    if client.birthday_day and client.birthday_month:
        birthday = (client.birthday_day, client.birthday_month)
    known = load_staff_facts(settings).get(staff.email.lower(), {})
    return personal_touch.suggestions(
        personal_touch.ClientFacts(
            name=client.name,
            hometown=client.hometown,
            birthday=birthday,
            client_since=overview.figures.since if overview else client.client_since,
            purchase_count=overview.figures.purchase_count if overview else 0,
            last_purchase=_day(overview.figures.last_purchase if overview else None, settings),
            facts=kept,
        ),
        StaffFacts(
            name=staff.name,
            hometown=staff.hometown,
            schools=known.get("schools", ()),
            interests=known.get("interests", ()),
        ),
        today=today,
        rivalries=load_rivalries(settings),
    )

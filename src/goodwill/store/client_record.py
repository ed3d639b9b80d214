"""Writing who the client is: add, edit, archive and restore a client; their other emails and
phones; the contacts of a business client.

Every write is checked first (domain/client_record.py reads the fields; an email or phone
another client holds is refused naming the field and that client), then made in the caller's
transaction with an audit entry holding the fields before and after, and, for an added,
archived or restored client, an event on the client's timeline. An edit names the version it
was made on; when someone else changed the client since, it is refused with what they changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.access import check
from goodwill.domain.audit import Actor, changed
from goodwill.domain.client_record import (
    Author,
    Reading,
    RecordError,
    birthday_text,
    consent_word,
    instant_text,
    read_contact,
    read_record,
    restricted,
)
from goodwill.errors import Conflict, InvalidInput, NotAllowed, NotFound
from goodwill.settings import Settings, business_country
from goodwill.store.audit import record
from goodwill.store.models import (
    AuditEntry,
    Client,
    ClientIdentity,
    Contact,
    Event,
    Partner,
    StaffUser,
)

log = logging.getLogger(__name__)

#: What staff may set when they add a client; the rest is for owners and managers.
MANAGED_ON_CREATE = frozenset(
    {"external_id", "client_since", "partner", "owner"}
    | {"marketing_consent", "consent_at", "consent_how"}
)
SOURCES = ("web", "api", "cli")
_KINDS = ("email", "phone", "external_id")


def reading(settings: Settings, *, today: date) -> Reading:
    """How values are read for this business: phones in its country, dates in its order."""
    return Reading(
        today=today,
        zone=settings.zone,
        region=business_country(settings),
        date_order=settings.date_order,
    )


def client_ref(client: Client) -> str:
    """How links and messages name a client: the id from the files, else ``#<id>``."""
    return client.external_id or f"#{client.id}"


def holder_of(
    session: Session, kind: str, value: str, *, other_than: int | None = None
) -> Client | None:
    """The client who holds this email, phone or import id (on their record, as another
    identity, or, for emails and phones, on one of their contacts), other than ``other_than``.

    ``value`` is normalised as stored: an email lower-cased, a phone in E.164."""
    if kind not in _KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    column = {"email": Client.email, "phone": Client.phone, "external_id": Client.external_id}
    queries = [
        select(Client.id).where(column[kind] == value),
        select(ClientIdentity.client_id).where(
            ClientIdentity.kind == kind, ClientIdentity.value == value
        ),
    ]
    if kind in ("email", "phone"):
        contact = Contact.email if kind == "email" else Contact.phone
        queries.append(select(Contact.client_id).where(contact == value))
    for query in queries:
        if other_than is not None:
            query = query.where(query.selected_columns[0] != other_than)
        found = session.execute(query.order_by(query.selected_columns[0]).limit(1)).scalar()
        if found is not None:
            return session.get(Client, found)
    return None


def _identities(session: Session, client_id: int) -> list[ClientIdentity]:
    return list(
        session.execute(
            select(ClientIdentity)
            .where(ClientIdentity.client_id == client_id)
            .order_by(ClientIdentity.id)
        ).scalars()
    )


def snapshot(session: Session, client: Client) -> dict[str, Any]:
    """The record in the words of its fields, as the audit log keeps it and forms show it."""
    identities = _identities(session, client.id)
    partner = session.get(Partner, client.partner_id) if client.partner_id else None
    owner = session.get(StaffUser, client.owner_id) if client.owner_id else None
    return {
        "name": client.name,
        "company": client.company,
        "external_id": client.external_id,
        "email": client.email,
        "other_emails": [i.value for i in identities if i.kind == "email"],
        "phone": client.phone,
        "other_phones": [i.value for i in identities if i.kind == "phone"],
        "street": client.street,
        "postcode": client.postcode,
        "city": client.city,
        "region": client.region,
        "country": client.country,
        "timezone": client.timezone,
        "contact_window": client.contact_window,
        "preferred_channel": client.preferred_channel,
        "language": client.language,
        "birthday": birthday_text(client.birthday_day, client.birthday_month, client.birthday_year),
        "hometown": client.hometown,
        "client_since": client.client_since.isoformat() if client.client_since else None,
        "partner": partner.name if partner else None,
        "owner": owner.email if owner else None,
        "marketing_consent": consent_word(client.marketing_consent),
        "consent_at": instant_text(client.consent_at),
        "consent_how": client.consent_how,
    }


def record_of(session: Session, client: Client) -> dict[str, Any]:
    """The whole record with its version, archive date and contacts (``client show --json``)."""
    return {
        **snapshot(session, client),
        "version": client.version,
        "archived_at": instant_text(client.archived_at),
        "other_ids": [i.value for i in _identities(session, client.id) if i.kind == "external_id"],
        "contacts": [contact_dict(c) for c in contacts_of(session, client.id)],
    }


def contacts_of(session: Session, client_id: int) -> list[Contact]:
    return list(
        session.execute(
            select(Contact).where(Contact.client_id == client_id).order_by(Contact.id)
        ).scalars()
    )


def contact_dict(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "role": contact.role,
        "birthday": birthday_text(
            contact.birthday_day, contact.birthday_month, contact.birthday_year
        ),
    }


# -- checks ----------------------------------------------------------------------------------


def _read(typed: Mapping[str, Any], settings: Settings, now: datetime, *, creating: bool) -> Any:
    try:
        return read_record(typed, reading(settings, today=_today(settings, now)), creating=creating)
    except RecordError as exc:
        raise _invalid(exc.errors) from None


def _today(settings: Settings, now: datetime) -> date:
    return now.astimezone(settings.zone).date()


def _invalid(errors: Mapping[str, str], **fields: object) -> InvalidInput:
    field, message = next(iter(errors.items()))
    listed = [{"field": name, "message": text} for name, text in errors.items()]
    return InvalidInput(f"{field}: {message}", field=field, errors=listed, **fields)


def _check_held(session: Session, values: Mapping[str, Any], client_id: int | None) -> None:
    """Refuse an email, phone or import id another client holds, naming the field and them."""
    wanted: list[tuple[str, str, str]] = []
    for field, kind in (("email", "email"), ("phone", "phone"), ("external_id", "external_id")):
        if values.get(field):
            wanted.append((field, kind, values[field]))
    for field, kind in (("other_emails", "email"), ("other_phones", "phone")):
        wanted.extend((field, kind, v) for v in values.get(field) or [])
    for field, kind, value in wanted:
        holder = holder_of(session, kind, value, other_than=client_id)
        if holder is not None:
            ref = client_ref(holder)
            raise _invalid(
                {field: f"{value} belongs to another client, {holder.name} ({ref})"},
                holder=ref,
                holder_name=holder.name,
            )


def _check_role(role: str | None, fields: set[str], *, doing: str) -> None:
    """Staff change contact details only; ``role`` None is the machine's operator (the CLI)."""
    if role is None:
        return
    check(role, "clients.write", doing)
    managed = restricted(fields)
    if managed:
        try:
            check(role, "clients.manage", f"change {', '.join(managed)}")
        except NotAllowed as exc:
            raise NotAllowed(exc.message, role=role, fields=managed) from None


# -- writes ----------------------------------------------------------------------------------


def _apply(session: Session, client: Client, values: Mapping[str, Any], now: datetime) -> None:
    for field, value in values.items():
        if field == "birthday":
            day, month, year = value or (None, None, None)
            client.birthday_day, client.birthday_month, client.birthday_year = day, month, year
        elif field == "partner":
            client.partner_id = _partner(session, value, now) if value else None
        elif field == "owner":
            client.owner_id = _owner(session, value) if value else None
        elif field in ("other_emails", "other_phones"):
            _set_others(session, client, "email" if field == "other_emails" else "phone", value)
        else:
            setattr(client, field, value)
    if "name" in values:
        client.name_key = client.name.lower()
    if "marketing_consent" in values and "consent_at" not in values:
        client.consent_at = None if values["marketing_consent"] is None else now
    client.updated_at = now
    session.flush()


def _partner(session: Session, name: str, now: datetime) -> int:
    found = session.execute(select(Partner.id).where(Partner.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    partner = Partner(name=name, created_at=now)
    session.add(partner)
    session.flush()
    return partner.id


def _owner(session: Session, email: str) -> int:
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise _invalid({"owner": f"no staff user with email {email!r}"})
    return user.id


def _set_others(session: Session, client: Client, kind: str, values: list[str]) -> None:
    """Make the client's added identities of ``kind`` exactly ``values`` (merged ones stay)."""
    current = {i.value: i for i in _identities(session, client.id) if i.kind == kind}
    for value, identity in current.items():
        if value not in values and identity.source == "added":
            session.delete(identity)
    for value in values:
        if value not in current:
            session.add(
                ClientIdentity(
                    client_id=client.id,
                    kind=kind,
                    value=value,
                    source="added",
                    created_at=client.updated_at,
                )
            )
    session.flush()


def _event(
    session: Session,
    client: Client,
    kind: str,
    *,
    key: str,
    source: str,
    author: Author,
    now: datetime,
) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    session.add(
        Event(
            type=kind,
            client_id=client.id,
            occurred_at=now,
            recorded_at=now,
            source=source,
            external_id=key,
            idempotency_key=f"{source}:{kind}/{key}",
            payload=author.payload(),
        )
    )
    session.flush()


def create_client(
    session: Session,
    settings: Settings,
    typed: Mapping[str, Any],
    *,
    role: str | None,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
) -> Client:
    """Add a client by hand; ``client.created`` on their timeline. ``role`` None: the CLI's
    operator, who may set every field."""
    values = _read(typed, settings, now, creating=True)
    given = {k for k, v in values.items() if v not in (None, [])}
    if role is not None:
        check(role, "clients.write", "add a client")
        managed = sorted(given & MANAGED_ON_CREATE)
        if managed:
            check(role, "clients.manage", f"set {', '.join(managed)}")
    _check_held(session, values, None)
    client = Client(
        name=values["name"],
        name_key=values["name"].lower(),
        created_at=now,
        updated_at=now,
        tags=[],
        version=1,
    )
    session.add(client)
    session.flush()
    _apply(session, client, {k: v for k, v in values.items() if k != "name"}, now)
    after = snapshot(session, client)
    record(
        session,
        actor,
        "client.created",
        at=now,
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        before={},
        after={**{k: v for k, v in after.items() if v not in (None, [], "unknown")}, "version": 1},
    )
    _event(
        session, client, "client.created", key=str(client.id), source=source, author=author, now=now
    )
    log.info("client %s created by hand from %s", client.id, source)
    return client


def changes_since(session: Session, client_id: int, version: int) -> list[dict[str, Any]]:
    """What was changed on the client after ``version``, field by field, oldest first, from the
    audit log: field, before, after, who and when."""
    out: list[dict[str, Any]] = []
    for entry in session.execute(
        select(AuditEntry)
        .where(AuditEntry.object_type == "client", AuditEntry.object_id == str(client_id))
        .order_by(AuditEntry.id)
    ).scalars():
        after = entry.after or {}
        if not isinstance(after.get("version"), int) or after["version"] <= version:
            continue
        before = entry.before or {}
        for field in sorted(set(after) - {"version"}):
            out.append(
                {
                    "field": field,
                    "before": before.get(field),
                    "after": after.get(field),
                    "by": entry.actor_label,
                    "at": entry.at.isoformat(),
                    "version": after["version"],
                }
            )
    return out


def _locked(session: Session, client: Client, version: int | None) -> None:
    """Re-read the row (locked on PostgreSQL) and refuse an edit made on an older version."""
    session.refresh(client, with_for_update=True)
    if version is not None and version != client.version:
        since = changes_since(session, client.id, version)
        fields = sorted({c["field"] for c in since})
        who = sorted({c["by"] for c in since})
        what = ", ".join(fields) if fields else "the record"
        raise Conflict(
            f"version: someone changed {what} since you opened it"
            + (f" ({', '.join(who)})" if who else "")
            + f"; this is version {client.version}, your edit was made on version {version}",
            field="version",
            version=client.version,
            changes=since,
        )


def edit_client(
    session: Session,
    settings: Settings,
    client: Client,
    typed: Mapping[str, Any],
    *,
    version: int | None,
    role: str | None,
    author: Author,
    actor: Actor,
    now: datetime,
) -> list[str]:
    """Change the fields given; returns the fields that changed (none: nothing written).

    ``version`` is the one the edit was made on (None only for the CLI's operator, who edits
    what is stored now). Staff may change contact details only."""
    values = _read(typed, settings, now, creating=False)
    _locked(session, client, version)
    before = snapshot(session, client)
    moved = {k for k, v in values.items() if _shown(k, v) != before.get(k)}
    if not moved:
        return []
    _check_role(role, moved, doing="edit a client")
    _check_held(session, {k: v for k, v in values.items() if k in moved}, client.id)
    _apply(session, client, {k: v for k, v in values.items() if k in moved}, now)
    client.version += 1
    session.flush()
    old, new = changed(before, snapshot(session, client))
    record(
        session,
        actor,
        "client.edited",
        at=now,
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        before={**old, "version": client.version - 1},
        after={**new, "version": client.version},
        detail=f"by {author.name}",
    )
    log.info("client %s edited: %s", client.id, ", ".join(sorted(new)))
    return sorted(new)


def _shown(field: str, value: Any) -> Any:
    """A read value as ``snapshot`` shows it, to tell what an edit really changes."""
    if field == "birthday":
        return birthday_text(*value) if value else None
    if field == "client_since":
        return value.isoformat() if value else None
    if field == "consent_at":
        return instant_text(value)
    if field == "marketing_consent":
        return consent_word(value)
    if field == "owner":
        return value.strip().lower() if value else None
    if field in ("other_emails", "other_phones"):
        return list(value or [])
    return value


def set_archived(
    session: Session,
    client: Client,
    archived: bool,
    *,
    version: int | None,
    role: str | None,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
) -> None:
    """Archive a client (they leave the lists and get no new follow-ups; the history stays), or
    restore one. Owners and managers only."""
    doing = "archive a client" if archived else "restore an archived client"
    if role is not None:
        check(role, "clients.manage", doing)
    _locked(session, client, version)
    if (client.archived_at is not None) == archived:
        state = "archived" if archived else "not archived"
        raise Conflict(f"{client.name} is already {state}", field="archived")
    before = {"archived_at": instant_text(client.archived_at), "version": client.version}
    client.archived_at = now if archived else None
    client.version += 1
    client.updated_at = now
    session.flush()
    action = "client.archived" if archived else "client.restored"
    record(
        session,
        actor,
        action,
        at=now,
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        before=before,
        after={"archived_at": instant_text(client.archived_at), "version": client.version},
    )
    _event(
        session,
        client,
        action,
        key=f"{client.id}/{client.version}",
        source=source,
        author=author,
        now=now,
    )
    log.info("client %s %s", client.id, action.split(".")[1])


# -- contacts --------------------------------------------------------------------------------


def _contact_values(
    session: Session,
    settings: Settings,
    client: Client,
    typed: Mapping[str, Any],
    *,
    now: datetime,
    creating: bool,
    contact_id: int | None = None,
) -> dict[str, Any]:
    try:
        values = read_contact(
            typed, reading(settings, today=_today(settings, now)), creating=creating
        )
    except RecordError as exc:
        raise _invalid(exc.errors) from None
    _check_held(session, {k: values.get(k) for k in ("email", "phone")}, client.id)
    return values


def _set_contact(contact: Contact, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if field == "birthday":
            day, month, year = value or (None, None, None)
            contact.birthday_day, contact.birthday_month, contact.birthday_year = day, month, year
        else:
            setattr(contact, field, value)


def get_contact(session: Session, client: Client, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.client_id != client.id:
        raise NotFound(f"{client.name} has no contact {contact_id}", contact=contact_id)
    return contact


def add_contact(
    session: Session,
    settings: Settings,
    client: Client,
    typed: Mapping[str, Any],
    *,
    role: str | None,
    actor: Actor,
    now: datetime,
) -> Contact:
    """A person at a business client, with their own email, phone, role and birthday."""
    if role is not None:
        check(role, "clients.write", "add a contact")
    values = _contact_values(session, settings, client, typed, now=now, creating=True)
    contact = Contact(client_id=client.id, name=values["name"])
    _set_contact(contact, values)
    session.add(contact)
    session.flush()
    record(
        session,
        actor,
        "contact.added",
        at=now,
        object_type="contact",
        object_id=contact.id,
        client_id=client.id,
        before={},
        after={k: v for k, v in contact_dict(contact).items() if v is not None and k != "id"},
    )
    return contact


def edit_contact(
    session: Session,
    settings: Settings,
    client: Client,
    contact_id: int,
    typed: Mapping[str, Any],
    *,
    role: str | None,
    actor: Actor,
    now: datetime,
) -> Contact:
    if role is not None:
        check(role, "clients.write", "edit a contact")
    contact = get_contact(session, client, contact_id)
    values = _contact_values(session, settings, client, typed, now=now, creating=False)
    before = contact_dict(contact)
    _set_contact(contact, values)
    session.flush()
    old, new = changed(before, contact_dict(contact))
    if new:
        record(
            session,
            actor,
            "contact.edited",
            at=now,
            object_type="contact",
            object_id=contact.id,
            client_id=client.id,
            before=old,
            after=new,
        )
    return contact


def remove_contact(
    session: Session,
    client: Client,
    contact_id: int,
    *,
    role: str | None,
    actor: Actor,
    now: datetime,
) -> None:
    if role is not None:
        check(role, "clients.write", "remove a contact")
    contact = get_contact(session, client, contact_id)
    before = {k: v for k, v in contact_dict(contact).items() if v is not None and k != "id"}
    session.delete(contact)
    session.flush()
    record(
        session,
        actor,
        "contact.removed",
        at=now,
        object_type="contact",
        object_id=contact_id,
        client_id=client.id,
        before=before,
        after={},
    )


def author_for(session: Session, actor: Actor, by: str | None = None) -> tuple[Author, str | None]:
    """Who a write is by and the role to check: the staff user named by ``by`` (an email, from
    the CLI's ``--by``), else the acting user, else the actor's label with no role to check."""
    user_id = actor.user_id
    if by:
        user = session.execute(
            select(StaffUser).where(StaffUser.email == by.strip().lower())
        ).scalar_one_or_none()
        if user is None:
            raise InvalidInput(f"by: no staff user with email {by!r}", field="by")
        return Author(user.name, user.id), user.role
    if user_id is not None:
        user = session.get(StaffUser, user_id)
        if user is not None:
            return Author(user.name, user.id), user.role
    return Author(actor.label), None

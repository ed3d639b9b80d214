"""Incidents: open one with its assessment, take the recovery steps, resolve it, close it.

Opening assesses the incident exactly as ``goodwill incident assess`` does (earlier incidents of
the client count), stores the assessment as it was made and records the ``incident.opened``
touch point. It then counts the incident's cause: the ``recovery.systemic_count``-th incident of
one cause within ``recovery.systemic_days`` days is a systemic failure, recorded once as a
``recovery.systemic`` event and mailed to the owner with the incidents listed (an outbox row
under a unique key, so a retry or a further incident of the cause sends nothing twice).

Resolving records ``incident.resolved``, from which the engine creates the follow-up (the default
playbook's ``incident-follow-up`` rule); completing that follow-up completes the last step.
Closing with a step missing needs a reason.

Each action works in the caller's transaction (``session``: the web request's, or one the CLI
opens) and flushes before it returns; one that raises has written nothing.
"""

from __future__ import annotations

import email.utils
import json
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions.recovery_catalog import catalog_of, load_catalog, read_toml, trade_words
from goodwill.domain.audit import Actor
from goodwill.domain.dates import DateError, parse_instant
from goodwill.domain.money import AmountError, from_minor, parse_amount, to_minor
from goodwill.domain.recovery_options import Catalog
from goodwill.domain.stakes import (
    DEFAULT_STAKES,
    IncidentContext,
    Weights,
    assess,
    parse_weights,
)
from goodwill.engine.staff import Staff
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.audit import record
from goodwill.store.incidents import (
    SOURCE,
    STEPS,
    earlier_incidents,
    get_incident,
    normalise_cause,
    recent_by_cause,
)
from goodwill.store.ingest import insert_new
from goodwill.store.models import (
    Client,
    Conversation,
    Event,
    Incident,
    IncidentStep,
    Outbox,
    StaffUser,
)
from goodwill.store.queries import client_profile, find_client
from goodwill.store.value import client_value

log = logging.getLogger(__name__)


# -- the weights and the catalog --------------------------------------------------------------


def load_weights(path: Path | None, *, base: Weights | None = None) -> Weights:
    """The weights file over ``base`` (default: the built-in weights); None: ``base`` itself."""
    if path is None:
        return base or Weights()
    return parse_weights(read_toml(path, "weights"), source=str(path), base=base)


def recovery_files(
    settings: Settings, *, weights: Path | None = None, catalog: Path | None = None
) -> tuple[Weights, Catalog]:
    """The files given, else those the ``recovery`` setting names, else (for the catalog) the
    options saved on the settings page, else the ones shipped for the business kind; a weights
    file changes the stakes words of the trade."""
    base = Weights(stakes_words=dict(trade_words(settings).stakes or DEFAULT_STAKES))
    return (
        load_weights(weights or settings.recovery.get("weights"), base=base),
        catalog_of(settings, path=catalog),
    )


# -- reading an incident ----------------------------------------------------------------------


def _instant(value: datetime | str, option: str, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"{option}: needs a time zone or offset", option=option)
        return value
    try:
        return parse_instant(value, zone=zone)
    except DateError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc


def _amount(value: Decimal | str, option: str) -> Decimal:
    if isinstance(value, str):
        try:
            value = parse_amount(value)
        except AmountError as exc:
            raise InvalidInput(f"{option}: {exc}", option=option) from exc
    if value < 0:
        raise InvalidInput(f"{option}: must not be negative", option=option)
    return value


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The client's own zone when known (their "3pm" is local to them), else the business's."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def read_context(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    what: str,
    message: str | None,
    message_time: datetime | str | None,
    deadline: datetime | str | None,
    cost: Decimal | str | None,
    partner: str | None,
    stranded: bool | None,
    now: datetime,
) -> IncidentContext:
    """The incident as the domain sees it, with what the store knows of the client.

    Yearly value is the population models' expected spend over the next year when they are
    fitted, else the client's average spend per year so far. Times given as text without an
    offset are read in the client's zone; a deadline not given is looked for in the client's
    words (relative to when they wrote), then in ``what``. Earlier incidents are the client's
    stored incidents opened before ``now``.
    """
    today = now.astimezone(settings.zone).date()
    profile = client_profile(session, settings, client, today=today)
    overview = profile.overview
    value = None
    if overview.figures.purchase_count:
        try:
            value = client_value(session, settings, client.id, today=today)
        except InvalidInput as exc:
            log.warning("client %s: no model value (%s)", client.id, exc)
    earlier = earlier_incidents(session, client.id, before=now)
    zone = _zone(profile.timezone, settings.zone)
    spent = from_minor(overview.figures.total_spend_minor, overview.currency)
    yearly: Decimal | None = None
    if value and value.expected_purchases_year is not None and value.expected_spend is not None:
        yearly = Decimal(str(round(value.expected_purchases_year * value.expected_spend, 2)))
    elif spent > 0:
        yearly = (spent / Decimal(str(max(1.0, overview.tenure_years)))).quantize(Decimal("0.01"))
    from goodwill.domain.recovery_dates import deadline_from  # dateparser loads slowly; only here

    found: datetime | None = None
    if deadline is not None:
        found = _instant(deadline, "--deadline", zone)
    else:
        written = _instant(message_time, "--message-time", zone) if message_time else now
        if message:
            found = deadline_from(message, reference=written, zone=zone)
        if found is None:
            found = deadline_from(what, reference=now, zone=zone)
    return IncidentContext(
        what=what,
        message=message,
        now=now,
        deadline=found,
        cost=_amount(cost, "--cost") if cost is not None else None,
        currency=overview.currency,
        ours=partner is None,
        partner=partner,
        stranded=stranded,
        tenure_years=overview.tenure_years if overview.figures.since else None,
        yearly_value=yearly,
        p_alive=value.p_alive if value else None,
        earlier_incidents=earlier,
    )


# -- writing ----------------------------------------------------------------------------------


def _staff_email(by: str) -> str:
    email_address = by.strip().lower()
    if "@" not in email_address:
        raise InvalidInput("say who acts: a staff member's email", field="by")
    return email_address


def _touch(
    session: Session,
    *,
    type: str,
    client_id: int | None,
    external_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Append an event once (its key is the source, the type and ``external_id``)."""
    key = f"{SOURCE}:{type}/{external_id}"
    row = {
        "type": type,
        "client_id": client_id,
        "occurred_at": now,
        "recorded_at": now,
        "source": SOURCE,
        "external_id": external_id,
        "idempotency_key": key[:400],
        "payload": payload,
    }
    return insert_new(session, Event, [row], ["idempotency_key"]) == 1


def _conversation_of(session: Session, client_id: int, conversation_id: int | None) -> int | None:
    """``conversation_id`` when it is this client's conversation; refused by name otherwise."""
    if conversation_id is None:
        return None
    owner = session.execute(
        select(Conversation.client_id).where(Conversation.id == conversation_id)
    ).scalar_one_or_none()
    if owner != client_id:
        raise InvalidInput(
            f"conversation {conversation_id} is not this client's", field="conversation"
        )
    return conversation_id


def open_incident(
    session: Session,
    settings: Settings,
    *,
    client_ref: str,
    what: str,
    message: str | None = None,
    message_time: datetime | str | None = None,
    deadline: datetime | str | None = None,
    cost: Decimal | str | None = None,
    partner: str | None = None,
    stranded: bool | None = None,
    cause: str,
    by: str,
    now: datetime,
    actor: Actor,
    weights: Weights | None = None,
    catalog: Catalog | None = None,
    conversation_id: int | None = None,
) -> int:
    """Assess and store an incident, record ``incident.opened``, check its cause; its id.

    ``conversation_id``: the client's conversation it was opened from, kept on the incident.

    ``weights`` and ``catalog`` default to the files the ``recovery`` setting names.
    """
    if not what.strip():
        raise InvalidInput("say what went wrong", field="what")
    label, who = normalise_cause(cause), _staff_email(by)
    if weights is None or catalog is None:
        files = recovery_files(settings)
        weights, catalog = weights or files[0], catalog or files[1]
    client = find_client(session, client_ref)
    context = read_context(
        session,
        settings,
        client,
        what=what.strip(),
        message=message,
        message_time=message_time,
        deadline=deadline,
        cost=cost,
        partner=partner,
        stranded=stranded,
        now=now,
    )
    result = assess(context, weights, catalog)
    zone = _zone(client.timezone, settings.zone)
    written = _instant(message_time, "--message-time", zone) if message_time else None
    incident = Incident(
        client_id=client.id,
        what=context.what,
        message=message,
        message_time=written,
        deadline=context.deadline,
        cost_minor=to_minor(context.cost, context.currency) if context.cost is not None else None,
        currency=context.currency,
        partner=partner,
        ours=context.ours,
        stranded=stranded,
        cause=label,
        tier=result.tier,
        score=result.score,
        factors=result.as_dict()["breakdown"],
        options=[o.as_dict() for o in result.options],
        status="open",
        opened_at=now,
        opened_by=who,
        conversation_id=_conversation_of(session, client.id, conversation_id),
    )
    session.add(incident)
    session.flush()
    _touch(
        session,
        type="incident.opened",
        client_id=client.id,
        external_id=f"incident-{incident.id}",
        payload={"incident_id": incident.id, "tier": result.tier, "cause": label},
        now=now,
    )
    after = {"status": "open", "tier": result.tier, "cause": label}
    _audit(session, actor, "incident.opened", incident, now, None, after)
    log.info("incident %s opened: client %s, tier %s", incident.id, client.id, result.tier)
    _check_cause(session, settings, label, now=now)
    return incident.id


def _check_cause(session: Session, settings: Settings, cause: str, *, now: datetime) -> None:
    """Raise the systemic-failure alert when ``cause`` reached the threshold in the window.

    Once per run of the cause: no alert while an earlier one for it lies within the window, and
    the key (the cause and the first incident of the window) makes a concurrent one a no-op.
    """
    count, days = int(settings.recovery["systemic_count"]), int(settings.recovery["systemic_days"])
    since = now - timedelta(days=days)
    incidents = recent_by_cause(session, cause, since=since, until=now)
    if len(incidents) < count:
        return
    earlier = session.execute(
        select(Event.payload).where(Event.type == "recovery.systemic", Event.occurred_at >= since)
    ).scalars()
    if any(payload.get("cause") == cause for payload in earlier):
        return
    payload: dict[str, Any] = {
        "cause": cause,
        "count": len(incidents),
        "days": days,
        "incident_ids": [i.id for i in incidents],
    }
    external_id = f"{cause}/{incidents[0].id}"
    if not _touch(
        session,
        type="recovery.systemic",
        client_id=None,
        external_id=external_id,
        payload=payload,
        now=now,
    ):
        return
    log.warning("systemic failure: cause %r, %s incidents in %s days", cause, len(incidents), days)
    _notify_owner(session, settings, incidents, payload, key=external_id, now=now)


def _notify_owner(
    session: Session,
    settings: Settings,
    incidents: list[Incident],
    payload: dict[str, Any],
    *,
    key: str,
    now: datetime,
) -> None:
    """The alert by email to the owner and to the webhooks, through the outbox."""
    rows: list[dict[str, Any]] = []
    owner_id = Staff.load(session, settings).owner_id
    owner = session.get(StaffUser, owner_id) if owner_id is not None else None
    sender = settings.mail.get("from_address")
    if owner is None or not sender:
        log.warning("systemic failure %r: no owner or no from_address to mail", payload["cause"])
    else:
        clients = {
            c.id: c
            for c in session.execute(
                select(Client).where(Client.id.in_({i.client_id for i in incidents}))
            ).scalars()
        }
        lines = []
        for i in incidents:
            client = clients[i.client_id]
            ref = client.external_id or f"#{client.id}"
            opened = i.opened_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
            lines.append(
                f"  #{i.id}  {opened}  {client.name} ({ref})  tier {i.tier}  {i.status}: {i.what}"
            )
        mail = EmailMessage()
        mail["From"] = str(sender)
        mail["To"] = owner.email
        mail["Subject"] = (
            f"Systemic failure: {payload['cause']} ({payload['count']} incidents "
            f"in {payload['days']} days)"
        )
        mail["Date"] = email.utils.format_datetime(now)
        mail["Message-ID"] = email.utils.make_msgid(domain=str(sender).rsplit("@", 1)[-1])
        mail.set_content(
            f"The same cause, {payload['cause']!r}, was recorded {payload['count']} times in the "
            f"last {payload['days']} days. Fixing the cause spares the next client.\n\n"
            + "\n".join(lines)
            + "\n\nSee each one with: goodwill incident show ID\n"
        )
        rows.append(
            _outbox(
                f"notify:recovery.systemic/{key}:{owner.email}",
                "email",
                [owner.email],
                mail.as_bytes(),
                now,
            )
        )
    for hook in settings.webhooks:
        wanted = hook.get("events")
        if wanted and "recovery.systemic" not in wanted:
            continue
        body = json.dumps({"event": "recovery.systemic", "at": now.isoformat(), **payload})
        url = str(hook["url"])
        rows.append(
            _outbox(f"webhook:recovery.systemic/{key}:{url}", "webhook", [url], body.encode(), now)
        )
    insert_new(session, Outbox, rows, ["key"])


def _outbox(
    key: str, kind: str, recipients: list[str], body: bytes, now: datetime
) -> dict[str, Any]:
    return {
        "key": key[:500],
        "kind": kind,
        "recipients": recipients,
        "body": body,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    incident: Incident,
    now: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    record(
        session,
        actor,
        action,
        at=now,
        object_type="incident",
        object_id=incident.id,
        client_id=incident.client_id,
        before=before,
        after=after,
    )


def _incident(session: Session, incident_id: int, *, open_only: bool = True) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}", incident=incident_id)
    if incident.status == "closed" or (open_only and incident.status != "open"):
        raise Conflict(
            f"incident {incident_id} is already {incident.status}",
            incident=incident_id,
            status=incident.status,
        )
    return incident


def _step(session: Session, incident_id: int, step: str) -> IncidentStep | None:
    return session.execute(
        select(IncidentStep).where(
            IncidentStep.incident_id == incident_id, IncidentStep.step == step
        )
    ).scalar_one_or_none()


def record_step(
    session: Session,
    incident_id: int,
    step: str,
    *,
    by: str,
    note: str | None = None,
    now: datetime,
    actor: Actor,
) -> None:
    """Mark a step done. ``restate`` needs the restatement (``note``), kept on the incident; it
    may be reworded until the client confirms it. ``resolve`` goes through :func:`resolve`."""
    if step not in STEPS:
        raise InvalidInput(f"{step!r} is not a step (steps: {', '.join(STEPS)})", field="step")
    if step == "resolve":
        raise InvalidInput("resolve an incident with `goodwill incident resolve`", field="step")
    who, text = _staff_email(by), (note or "").strip() or None
    if step == "restate" and text is None:
        raise InvalidInput("restate the problem in our own words (the note)", field="note")
    incident = _incident(session, incident_id, open_only=False)
    existing = _step(session, incident_id, step)
    if existing is not None and not (step == "restate" and incident.confirmed_at is None):
        raise Conflict(
            f"incident {incident_id}: {step} is already done", incident=incident_id, step=step
        )
    if existing is None:
        session.add(IncidentStep(incident_id=incident_id, step=step, done_at=now, by=who))
        session.flush()
        existing = _step(session, incident_id, step)
    assert existing is not None
    before = None if existing.note is None else {"step": step, "note": existing.note}
    existing.done_at, existing.by, existing.note = now, who, text
    if step == "restate":
        incident.restatement = text
    session.flush()
    _audit(session, actor, "incident.step", incident, now, before, {"step": step, "note": text})
    log.info("incident %s: %s done", incident_id, step)


def confirm_restatement(
    session: Session, incident_id: int, *, by: str, now: datetime, actor: Actor
) -> None:
    """Record that the client confirmed our restatement of the problem."""
    who = _staff_email(by)
    incident = _incident(session, incident_id)
    if incident.restatement is None:
        raise Conflict(
            f"incident {incident_id}: restate the problem before the client can confirm it",
            incident=incident_id,
        )
    if incident.confirmed_at is not None:
        raise Conflict(f"incident {incident_id}: already confirmed", incident=incident_id)
    incident.confirmed_at = now
    restated = _step(session, incident_id, "restate")
    if restated is not None:
        restated.note = f"{incident.restatement} (confirmed by the client; {who})"
    session.flush()
    _audit(session, actor, "incident.confirmed", incident, now, None, {"confirmed": True})
    log.info("incident %s: restatement confirmed", incident_id)


def resolve(
    session: Session,
    settings: Settings,
    incident_id: int,
    *,
    outcome: str,
    chosen_option: str | None = None,
    by: str,
    now: datetime,
    actor: Actor,
) -> None:
    """Record how it ended and the option chosen; ``incident.resolved`` brings the follow-up.

    The option must be one the assessment offered, so the record says what was granted.
    """
    who, told = _staff_email(by), outcome.strip()
    if not told:
        raise InvalidInput("say how it ended: an outcome is required", field="outcome")
    incident = _incident(session, incident_id)
    if chosen_option is not None:
        names = [str(o["name"]) for o in incident.options]
        if chosen_option not in names:
            raise InvalidInput(
                f"{chosen_option!r} was not offered (offered: {', '.join(names)})",
                field="option",
            )
    incident.status, incident.resolved_at = "resolved", now
    incident.outcome, incident.chosen_option = told, chosen_option
    if _step(session, incident_id, "resolve") is None:
        session.add(
            IncidentStep(incident_id=incident_id, step="resolve", done_at=now, by=who, note=told)
        )
    _touch(
        session,
        type="incident.resolved",
        client_id=incident.client_id,
        external_id=f"incident-{incident_id}",
        payload={"incident_id": incident_id, "cause": incident.cause, "tier": incident.tier},
        now=now,
    )
    session.flush()
    after = {"status": "resolved", "outcome": told, "option": chosen_option}
    _audit(session, actor, "incident.resolved", incident, now, {"status": "open"}, after)
    log.info("incident %s resolved", incident_id)


def close(
    session: Session,
    incident_id: int,
    *,
    reason: str | None = None,
    by: str,
    now: datetime,
    actor: Actor,
) -> None:
    """Close the incident; with a step missing only when ``reason`` says why."""
    _staff_email(by)
    why = (reason or "").strip() or None
    _incident(session, incident_id, open_only=False)
    view = get_incident(session, incident_id)
    if view.missing and why is None:
        raise Conflict(
            f"incident {incident_id} has steps missing: {', '.join(view.missing)}; "
            "take them or give a reason to close it anyway",
            incident=incident_id,
            missing=list(view.missing),
        )
    incident = view.incident
    before = {"status": incident.status}
    incident.status, incident.closed_at, incident.close_reason = "closed", now, why
    session.flush()
    after = {"status": "closed", "reason": why, "missing": list(view.missing)}
    _audit(session, actor, "incident.closed", incident, now, before, after)
    log.info("incident %s closed, %s steps missing", incident_id, len(view.missing))


__all__ = [
    "close",
    "confirm_restatement",
    "load_catalog",
    "load_weights",
    "open_incident",
    "read_context",
    "record_step",
    "recovery_files",
    "resolve",
    "trade_words",
]

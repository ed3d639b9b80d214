"""Automated touches: the follow-ups the worker performs itself instead of listing them for a
person.

A rule the owner switched on (store/touch_switches.py) makes follow-ups with ``performer =
"machine"``. Each pass, for each such follow-up that is due, goodwill judges it (``judge``), then
either queues its mail in the outbox under the follow-up's own key (so it leaves once, however
many workers or passes there are), waits for the client's contact window and the business's
hours, closes it unsent (moot, no consent), or hands it to a person with the reason. Once the
outbox has sent the mail the follow-up is done, its outcome the copy that went out; a mail that
cannot be delivered goes back to a person. Postcards wait for the month's batch.

``preview_sends`` runs the same judgement ahead of time: what would go to whom in the next days,
for the rules switched on and, so the owner can look before switching on, the ones still off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.consent import may_send_marketing
from goodwill.domain.playbooks import Channel, Playbook, Rule
from goodwill.domain.unsubscribe import link_base_ok
from goodwill.errors import ConfigError, GoodwillError
from goodwill.mail.bounces import Bounce
from goodwill.mail.outbound import OUTBOX_POLICY
from goodwill.mail.touch_mail import compose
from goodwill.settings import Settings
from goodwill.store.audit import record
from goodwill.store.base import as_utc
from goodwill.store.ingest import insert_new
from goodwill.store.models import (
    Client,
    Conversation,
    Event,
    FollowUp,
    FollowUpEvent,
    Interaction,
    Message,
    Outbox,
    StaffUser,
)
from goodwill.store.touch_switches import Switched, automated_rules, switch_rule

__all__ = [
    "PlannedSend",
    "Verdict",
    "hand_back_bounced",
    "mail_problem",
    "perform_touches",
    "preview_sends",
    "switch_touches",
]

log = logging.getLogger(__name__)

#: Follow-ups judged per pass; the rest wait for the next one.
BATCH = 500
#: An SMTP answer that will not change on a retry (a mailbox that does not exist).
_PERMANENT = re.compile(r"SMTPRecipientsRefused|\(5\d\d\b|\b5\.\d{1,3}\.\d{1,3}\b")


@dataclass(frozen=True)
class Verdict:
    """What to do with one automated touch now.

    ``send`` (queue the mail), ``wait`` (until ``at``: the contact window or opening hours),
    ``batch`` (a postcard: the month's batch), ``hold`` (goodwill cannot mail yet: a setting is
    missing; nothing changes), ``close`` (not sent, on purpose) or ``person`` (a person does it).
    """

    action: str
    at: datetime
    why: str | None = None


@dataclass(frozen=True)
class PlannedSend:
    """One automated touch as the preview shows it."""

    followup_id: int
    rule: str
    client_id: int
    client_name: str
    #: The address it goes to; None for a postcard or a client without one.
    to: str | None
    channel: str
    #: When it would leave (or, for a postcard, when it is due).
    send_at: datetime
    subject: str | None
    #: ``send``, ``batch`` (postcard), ``held`` (a setting is missing), ``not sent`` or
    #: ``person``; see ``why``.
    verdict: str
    why: str | None
    #: Whether the rule is switched on; False shows what it would send once it is.
    automated: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "followup_id": self.followup_id,
            "rule": self.rule,
            "client_id": self.client_id,
            "client_name": self.client_name,
            "to": self.to,
            "channel": self.channel,
            "send_at": self.send_at.isoformat(),
            "subject": self.subject,
            "verdict": self.verdict,
            "why": self.why,
            "automated": self.automated,
        }


# -- the judgement ----------------------------------------------------------------------------


def _trigger_time(session: Session, followup: FollowUp) -> datetime:
    """When the rule fired: the latest of the follow-up's events (else when it was made)."""
    found = session.execute(
        select(func.max(Event.occurred_at))
        .join(FollowUpEvent, FollowUpEvent.event_id == Event.id)
        .where(FollowUpEvent.followup_id == followup.id)
    ).scalar_one()
    return as_utc(found) if found is not None else followup.created_at


def _client_wrote(session: Session, client_id: int, since: datetime) -> datetime | None:
    """When the client last wrote (mail or the web form) after ``since``, if they did."""
    found = session.execute(
        select(func.max(Message.sent_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.client_id == client_id,
            Message.direction == "in",
            Message.auto_reply.is_(False),
            Message.sent_at > since,
        )
    ).scalar_one()
    return as_utc(found) if found is not None else None


def _touched_by_person(session: Session, rule: Rule, client_id: int, since: datetime) -> str | None:
    """What a person did since ``since`` that the rule's ``moot_after`` names, in words."""
    if "reply" in rule.moot_after:
        replied = session.execute(
            select(Message.sent_at, StaffUser.name)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .outerjoin(StaffUser, StaffUser.id == Message.author_id)
            .where(
                Conversation.client_id == client_id,
                Message.direction == "out",
                Message.author_id.is_not(None),
                Message.sent_at > since,
            )
            .order_by(Message.sent_at)
            .limit(1)
        ).first()
        if replied is not None:
            return f"{replied[1] or 'someone'} wrote to them on {as_utc(replied[0]).date()}"
    kinds = sorted(rule.moot_after - {"reply"})
    if kinds:
        done = session.execute(
            select(Interaction.kind, Interaction.occurred_at, Interaction.author_label)
            .where(
                Interaction.client_id == client_id,
                Interaction.kind.in_(kinds),
                Interaction.occurred_at > since,
            )
            .order_by(Interaction.occurred_at)
            .limit(1)
        ).first()
        if done is not None:
            kind, at, by = done
            return f"{by} logged a {kind} with them on {as_utc(at).date()}"
    return None


def mail_problem(settings: Settings) -> str | None:
    """Why goodwill cannot send automated touches (a setting missing), or None when it can."""
    if not settings.mail.get("from_address"):
        return "mail.from_address is not set, so goodwill has no address to send from"
    if not link_base_ok(settings.public_url):
        return "public_url must be the https address goodwill is reached at (the unsubscribe link)"
    return None


def send_time(
    client: Client, settings: Settings, calendar: BusinessCalendar, *, after: datetime
) -> datetime:
    """The first instant from ``after`` inside the client's contact window while the business
    is open (its opening hours are its sending hours); without a window, the next opening."""
    from goodwill.engine.frames import client_frame

    frame = client_frame(client, settings)
    found = frame.window.next_contact(after, business=calendar) if frame.window else None
    return found or calendar.next_open(after)


def judge(
    session: Session,
    settings: Settings,
    rule: Rule | None,
    followup: FollowUp,
    client: Client,
    *,
    calendar: BusinessCalendar,
    now: datetime,
) -> Verdict:
    """What to do with the automated touch ``followup`` at ``now``; see ``Verdict``."""
    if rule is None:
        return Verdict("person", now, f"rule {followup.rule!r} is no longer in the playbook")
    if not rule.can_automate:
        return Verdict("person", now, f"rule {rule.name!r} can no longer be sent by goodwill")
    if client.archived_at is not None:
        return Verdict("close", now, "not sent: the client is archived")
    since = _trigger_time(session, followup)
    if rule.until_reply:
        wrote = _client_wrote(session, client.id, since)
        if wrote is not None:
            return Verdict(
                "person",
                now,
                f"{client.name} wrote on {wrote.date()} before this was sent, so the automated "
                "mail was not sent: answer them personally",
            )
    if followup.due_at > now:
        return Verdict("wait", followup.due_at)
    moot = _touched_by_person(session, rule, client.id, since)
    if moot is not None:
        return Verdict("close", now, f"not sent: {moot}")
    if rule.channel is Channel.POSTCARD:
        if not (client.street and client.city):
            return Verdict("person", now, "no postal address for the postcard")
        return Verdict("batch", followup.due_at)
    if not client.email:
        return Verdict("person", now, "no email address: reach them another way")
    if client.marketing_consent is False:
        when = f" on {client.consent_at.date()}" if client.consent_at else ""
        return Verdict("close", now, f"not sent: they unsubscribed{when}")
    if rule.marketing and not may_send_marketing(client):
        return Verdict("close", now, "not sent: they have not agreed to news by mail")
    at = send_time(client, settings, calendar, after=now)
    problem = mail_problem(settings)
    if problem is not None:
        return Verdict("hold", max(at, now), problem)
    if at > now + timedelta(minutes=1):
        return Verdict("wait", at, "outside the client's contact window or opening hours")
    return Verdict("send", now)


# -- the message ------------------------------------------------------------------------------


def _payload(session: Session, followup: FollowUp) -> dict[str, Any]:
    """The touch point the template is filled from: the follow-up's first event."""
    found = session.execute(
        select(Event.payload)
        .join(FollowUpEvent, FollowUpEvent.event_id == Event.id)
        .where(FollowUpEvent.followup_id == followup.id)
        .order_by(Event.occurred_at, Event.id)
        .limit(1)
    ).scalar_one_or_none()
    return dict(found or {})


def outbox_key(followup: FollowUp) -> str:
    """The send's key is the follow-up's: one follow-up, one mail, whoever queues it."""
    return f"touch/{followup.id}"


def _sent_copy(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return f"Sent by mail to {mail['To']}\nSubject: {mail['Subject']}\n\n{text}".strip()


def switch_touches(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    name: str,
    *,
    on: bool,
    actor: Actor,
    now: datetime,
) -> Switched:
    """Switch rule ``name`` to automated sending or back; switching an email rule on is refused
    while goodwill cannot send (no sender address, no public address for the unsubscribe link)."""
    rule = playbook.rule(name)
    if on and rule is not None and rule.channel is Channel.EMAIL:
        problem = mail_problem(settings)
        if problem is not None:
            raise ConfigError(f"cannot send {name!r} automatically yet: {problem}", key="mail")
    return switch_rule(session, playbook, name, on=on, actor=actor, now=now)


# -- the pass ---------------------------------------------------------------------------------


def _to_person(session: Session, followup: FollowUp, why: str, now: datetime) -> None:
    before = {"performer": followup.performer}
    followup.performer, followup.handed_over = "person", why[:2000]
    followup.due_at = min(followup.due_at, now)  # on today's list at once
    followup.outcome, followup.updated_at = None, now
    followup.sequence += 1
    record(
        session,
        Actor.engine(),
        "followup.handed_over",
        at=now,
        object_type="followup",
        object_id=followup.id,
        client_id=followup.client_id,
        before=before,
        after={"performer": "person", "why": why[:500]},
    )


def _close(session: Session, followup: FollowUp, why: str, now: datetime) -> None:
    followup.status, followup.open_reason, followup.outcome = "closed", None, why[:2000]
    followup.closed_at = followup.updated_at = now
    followup.sequence += 1


def _queue(
    session: Session,
    settings: Settings,
    rule: Rule,
    followup: FollowUp,
    client: Client,
    now: datetime,
) -> None:
    from goodwill.actions.tracked_mail import track_queued

    mail = compose(
        session,
        settings,
        rule,
        client,
        payload=_payload(session, followup),
        now=now,
        followup_id=followup.id,
    )
    key = outbox_key(followup)
    insert_new(
        session,
        Outbox,
        [
            {
                "key": key,
                "kind": "email",
                "recipients": [str(client.email)],
                "body": mail.as_bytes(policy=OUTBOX_POLICY),
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        ],
        ["key"],
    )
    followup.outbox_key, followup.outcome, followup.updated_at = key, _sent_copy(mail), now
    track_queued(session, settings, key, client.id)


def _settle(session: Session, now: datetime) -> dict[str, int]:
    """Follow-ups whose mail the outbox has sent are done; undeliverable ones go to a person."""
    from goodwill.mail.outbound import MAX_ATTEMPTS

    counts = {"delivered": 0, "undeliverable": 0}
    rows = session.execute(
        select(FollowUp, Outbox)
        .join(Outbox, Outbox.key == FollowUp.outbox_key)
        .where(
            FollowUp.status == "open",
            FollowUp.performer == "machine",
            Outbox.status.in_(("sent", "failed")),
        )
        .limit(BATCH)
    ).all()
    for followup, row in rows:
        if row.status == "sent":
            followup.status, followup.open_reason = "done", None
            followup.closed_at = as_utc(row.sent_at) if row.sent_at else now
            followup.updated_at = now
            followup.sequence += 1
            counts["delivered"] += 1
            continue
        error = row.last_error or "unknown error"
        if row.attempts >= MAX_ATTEMPTS or _PERMANENT.search(error):
            row.attempts, row.next_attempt_at = MAX_ATTEMPTS, now  # no more retries
            _to_person(session, followup, f"the mail could not be delivered: {error}", now)
            counts["undeliverable"] += 1
    return counts


def perform_touches(
    store: sessionmaker[Session],
    settings: Settings,
    playbook: Playbook,
    calendar: BusinessCalendar,
    *,
    now: datetime,
) -> dict[str, int]:
    """One pass over the automated touches: settle what the outbox did, then judge and act on
    each due one, one short transaction each (a failure stays with its follow-up)."""
    with store.begin() as session:
        counts = _settle(session, now)
        automated = automated_rules(session)
        replying = [r.name for r in playbook.rules if r.until_reply]
        ids = list(
            session.execute(
                select(FollowUp.id)
                .where(
                    FollowUp.status == "open",
                    FollowUp.performer == "machine",
                    FollowUp.outbox_key.is_(None),
                    (FollowUp.due_at <= now) | FollowUp.rule.in_(replying),
                )
                .order_by(FollowUp.due_at, FollowUp.id)
                .limit(BATCH)
            ).scalars()
        )
    for key in ("sent", "waiting", "batched", "not_sent", "to_person", "held"):
        counts[key] = 0
    for followup_id in ids:
        with store.begin() as session:
            followup = session.get(FollowUp, followup_id, with_for_update=True)
            if followup is None or followup.status != "open" or followup.outbox_key is not None:
                continue  # another worker got here first
            if followup.performer != "machine":
                continue
            client = session.get(Client, followup.client_id)
            assert client is not None
            rule = playbook.rule(followup.rule)
            if rule is not None and (rule.name not in automated or not rule.enabled):
                # a rule turned off in the playbook sends nothing more by itself either
                why = "automated sending of this rule is off"
                _to_person(
                    session, followup, why if rule.enabled else "the rule is turned off", now
                )
                counts["to_person"] += 1
                continue
            verdict = judge(session, settings, rule, followup, client, calendar=calendar, now=now)
            counts[_act(session, settings, rule, followup, client, verdict, now)] += 1
    return {k: v for k, v in counts.items() if v}


def _act(
    session: Session,
    settings: Settings,
    rule: Rule | None,
    followup: FollowUp,
    client: Client,
    verdict: Verdict,
    now: datetime,
) -> str:
    if verdict.action == "send":
        assert rule is not None
        try:  # the mail is written before anything is stored, so a refusal leaves no trace
            _queue(session, settings, rule, followup, client, now)
        except GoodwillError as exc:  # a template that cannot be filled for this client
            _to_person(session, followup, f"the mail could not be written: {exc}", now)
            return "to_person"
        log.info("automated touch %s queued for client %s", followup.id, client.id)
        return "sent"
    if verdict.action == "wait":
        if followup.due_at < verdict.at:
            followup.due_at, followup.updated_at = verdict.at, now
        return "waiting"
    if verdict.action == "batch":
        return "batched"
    if verdict.action == "hold":
        log.warning("automated touch %s waits: %s", followup.id, verdict.why)
        return "held"
    if verdict.action == "close":
        _close(session, followup, verdict.why or "not sent", now)
        return "not_sent"
    _to_person(session, followup, verdict.why or "a person must do this", now)
    return "to_person"


_TOUCH_ID = re.compile(r"\.touch\.(\d{1,18})@")


def hand_back_bounced(session: Session, bounce: Bounce, *, now: datetime) -> int:
    """A bounce of an automated touch's mail makes it a person's follow-up again, with what the
    receiving server said; returns how many. The Message-ID must be one goodwill wrote."""
    handed = 0
    for message_id in bounce.message_ids:
        found = _TOUCH_ID.search(message_id)
        if found is None:
            continue
        followup = session.get(FollowUp, int(found.group(1)), with_for_update=True)
        if followup is None or followup.performer != "machine" or followup.outbox_key is None:
            continue
        row = session.execute(
            select(Outbox.body).where(Outbox.key == followup.outbox_key)
        ).scalar_one_or_none()
        if row is None or message_id.encode() not in row:
            continue  # not a mail goodwill sent (or no longer kept): not trusted
        taken = session.execute(
            select(FollowUp.id).where(
                FollowUp.client_id == followup.client_id,
                FollowUp.open_reason == followup.reason,
                FollowUp.id != followup.id,
            )
        ).first()
        if followup.status != "open":
            if taken is not None:
                continue  # a newer follow-up for the same reason is already with someone
            followup.status, followup.open_reason = "open", followup.reason
            followup.closed_at = None
        _to_person(session, followup, f"the mail bounced: {bounce.reason}", now)
        handed += 1
    return handed


# -- the preview ------------------------------------------------------------------------------


def preview_sends(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    *,
    now: datetime,
    days: int = 7,
    rule: str | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[PlannedSend]:
    """What the automated touches would do over the next ``days``, each judged as of its due
    time: the rules switched on, and those that could be (their follow-ups a person has now)."""
    from goodwill.engine.configuration import calendar_for

    calendar = calendar or calendar_for(settings)
    automated = automated_rules(session)
    names = [r.name for r in playbook.rules if r.can_automate and (rule is None or r.name == rule)]
    if not names:
        return []
    rows = session.execute(
        select(FollowUp, Client)
        .join(Client, Client.id == FollowUp.client_id)
        .where(
            FollowUp.status == "open",
            FollowUp.rule.in_(names),
            FollowUp.outbox_key.is_(None),
            FollowUp.handed_over.is_(None),
            FollowUp.due_at < now + timedelta(days=days),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(BATCH)
    ).all()
    return list(_planned(session, settings, playbook, rows, automated, calendar, now))


def _planned(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    rows: Iterable[Any],
    automated: set[str],
    calendar: BusinessCalendar,
    now: datetime,
) -> Iterable[PlannedSend]:
    for followup, client in rows:
        rule = playbook.rule(followup.rule)
        if rule is not None and not rule.enabled:
            continue  # turned off: the worker gives it to a person, nothing is sent
        on = followup.rule in automated
        if on != (followup.performer == "machine"):
            continue  # an overdue one left with its person when the rule was switched on
        if not on and followup.due_at < now:
            continue  # switching on would leave it with its person: it is already due
        at = max(now, followup.due_at)
        verdict = judge(session, settings, rule, followup, client, calendar=calendar, now=at)
        if verdict.action in ("wait", "hold"):
            at = verdict.at
        subject = None
        words = {"send": "send", "wait": "send", "batch": "batch", "hold": "held"}
        shown = words.get(verdict.action, "not sent" if verdict.action == "close" else "person")
        why = verdict.why if verdict.action != "wait" else None
        if rule is not None and shown in ("send", "held") and rule.template:
            try:
                mail = compose(
                    session, settings, rule, client, payload=_payload(session, followup), now=at
                )
                subject = str(mail["Subject"])
            except GoodwillError as exc:
                if shown == "send":  # held: the missing setting is the reason already
                    shown, why = "person", f"the mail could not be written: {exc}"
        yield PlannedSend(
            followup_id=followup.id,
            rule=followup.rule,
            client_id=client.id,
            client_name=client.name,
            to=client.email if rule is not None and rule.channel is Channel.EMAIL else None,
            channel=rule.channel.value if rule is not None else followup.channel,
            send_at=at,
            subject=subject,
            verdict=shown,
            why=why,
            automated=on,
        )

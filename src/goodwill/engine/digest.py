"""The owner's weekly digest, queued by the engine once per ISO week at the configured hour.

Scheduling is stored state, not a timer: each pass asks whether this week's slot (the `digest`
weekday and hour in the business's zone) has passed, and if so writes one outbox row per
recipient under the key ``digest:<ISO year>-W<week>:<address>`` with ON CONFLICT DO NOTHING. Two
workers, a crash between build and send, or a pass every minute all leave one row per week; a
worker that was down at the hour writes it on its first pass later that week (catch-up), and a
week missed entirely is not sent the week after (the next digest covers the trends anyway). The
outbox worker delivers the row like any other mail.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.digest import AtRisk, DigestText, Figure, Overdue, digest_text
from goodwill.setting_tables import WEEKDAYS
from goodwill.settings import Settings
from goodwill.store.cadence import overdue_clients
from goodwill.store.ingest import insert_new
from goodwill.store.insights import SERIES, weekly_insights
from goodwill.store.models import Client, FollowUp, Outbox, StaffUser
from goodwill.store.week_grid import monday

log = logging.getLogger(__name__)
#: The series the digest reports, in its order.
FIGURES = (
    "active_clients",
    "new_clients",
    "clients_lost",
    "purchases",
    "revenue",
    "followups_done",
    "followups_overdue",
    "late_payments",
    "first_response_median_h",
    "sla_attainment",
)
TOP = 5


@dataclass(frozen=True)
class Digest:
    week_start: date  # the Monday of the week it reports on
    text: str
    subject: str


def slot(settings: Settings, now: datetime) -> tuple[datetime, str]:
    """This week's sending instant (UTC) and the ISO week it belongs to ("2026-W48")."""
    zone = settings.zone
    local = now.astimezone(zone)
    week = monday(local.date())
    day = week + timedelta(days=WEEKDAYS.index(str(settings.digest["weekday"])))
    at = datetime.combine(day, time(int(settings.digest["hour"])), zone).astimezone(UTC)
    iso = week.isocalendar()
    return at, f"{iso.year}-W{iso.week:02d}"


def recipients(session: Session, settings: Settings) -> list[str]:
    """The `digest.to` addresses, else the owner setting, else every active owner."""
    configured = [str(a) for a in settings.digest.get("to") or []]
    if configured:
        return configured
    if settings.owner:
        return [settings.owner.lower()]
    return list(
        session.execute(
            select(StaffUser.email)
            .where(StaffUser.role == "owner", StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        ).scalars()
    )


def build_digest(session: Session, settings: Settings, *, as_of: date) -> Digest:
    """The digest for the last whole week before the one containing ``as_of``."""
    week_start = monday(as_of) - timedelta(weeks=1)
    result = weekly_insights(session, settings, as_of=week_start + timedelta(days=6), weeks=13)
    info = {s.key: s for s in SERIES}
    figures = []
    for key in FIGURES:
        if key in ("first_response_median_h", "sla_attainment") and not result.present.get(
            "conversations"
        ):
            continue
        values = result.series[key]
        earlier = [float(v) for v in values[:-1] if v is not None]
        figures.append(
            Figure(
                label=info[key].label,
                unit=info[key].unit,
                value=None if values[-1] is None else float(values[-1]),
                previous=None if len(values) < 2 or values[-2] is None else float(values[-2]),
                average=sum(earlier) / len(earlier) if earlier else None,
            )
        )
    late = [r for r in overdue_clients(session, settings, as_of=as_of) if r.category is None]
    known = [r.revenue_at_risk for r in late if r.revenue_at_risk is not None]
    now = datetime.combine(as_of, time(), settings.zone)
    overdue_count = session.execute(
        select(func.count(FollowUp.id)).where(
            FollowUp.status == "open", FollowUp.performer == "person", FollowUp.due_at < now
        )
    ).scalar_one()
    oldest = session.execute(
        select(FollowUp.title, Client.name, FollowUp.due_at, StaffUser.name)
        .join(Client, Client.id == FollowUp.client_id)
        .outerjoin(StaffUser, StaffUser.id == FollowUp.assignee_id)
        .where(FollowUp.status == "open", FollowUp.performer == "person", FollowUp.due_at < now)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(TOP)
    ).all()
    built: DigestText = digest_text(
        business=settings.business_name,
        week_start=week_start,
        figures=figures,
        at_risk=[
            AtRisk(r.name, r.client_id, r.revenue_at_risk, r.days_overdue, r.usual_interval_days)
            for r in late[:TOP]
        ],
        at_risk_total=sum(known) if known else None,
        at_risk_count=len(late),
        overdue=[
            Overdue(title, client, due.astimezone(settings.zone).date(), assignee)
            for title, client, due, assignee in oldest
        ],
        overdue_count=int(overdue_count),
        currency=result.currency,
        link=f"{settings.public_url}/insights" if settings.public_url else None,
    )
    return Digest(week_start=week_start, text=built.text, subject=built.subject)


def digest_key(week: str, address: str) -> str:
    return f"digest:{week}:{address}"


def queue_digest(
    session: Session, settings: Settings, digest: Digest, *, now: datetime
) -> list[str]:
    """Outbox rows for this week's digest; returns the addresses newly queued (none twice)."""
    sender = settings.mail.get("from_address")
    _, week = slot(settings, now)
    if not sender:
        log.warning("weekly digest not queued: mail.from_address is not set")
        return []
    queued = []
    for address in recipients(session, settings):
        mail = EmailMessage()
        mail["From"] = str(sender)
        mail["To"] = address
        mail["Subject"] = digest.subject
        mail["Date"] = email.utils.format_datetime(now)
        mail["Message-ID"] = email.utils.make_msgid(domain=str(sender).rsplit("@", 1)[-1])
        mail.set_content(digest.text)
        row = {
            "key": digest_key(week, address)[:500],
            "kind": "email",
            "recipients": [address],
            "body": mail.as_bytes(),
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        if insert_new(session, Outbox, [row], ["key"]):
            queued.append(address)
    if queued:
        log.info("weekly digest %s queued for %d recipient(s)", week, len(queued))
    return queued


def weekly_digest(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> int:
    """The engine's hook: queue this week's digest once its slot has passed; 0 if not yet, if
    disabled, or if already queued."""
    if not settings.digest.get("enabled") or not settings.mail.get("from_address"):
        return 0
    at, week = slot(settings, now)
    if now < at:
        return 0
    with store.begin() as session:
        wanted = [digest_key(week, a) for a in recipients(session, settings)]
        if not wanted:
            return 0
        done = set(session.execute(select(Outbox.key).where(Outbox.key.in_(wanted))).scalars())
        if done >= set(wanted):
            return 0
        digest = build_digest(session, settings, as_of=now.astimezone(settings.zone).date())
        return len(queue_digest(session, settings, digest, now=now))


__all__ = ["Digest", "build_digest", "queue_digest", "recipients", "slot", "weekly_digest"]

"""Tables. Figures people ask about (tenure, purchase count, spend, late payments) are not columns:
they are derived from orders and invoices by the queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from goodwill.store.base import NAMING as NAMING
from goodwill.store.base import Base as Base
from goodwill.store.base import UTCDateTime as UTCDateTime

# Tables kept in modules of their own, re-exported so ``goodwill.store.models`` names every table.
from goodwill.store.figures_models import ClientFigures as ClientFigures
from goodwill.store.insights_models import InsightsAnswer as InsightsAnswer
from goodwill.store.mail_models import Attachment as Attachment
from goodwill.store.mail_models import Conversation as Conversation
from goodwill.store.mail_models import InboundMail as InboundMail
from goodwill.store.mail_models import MailboxState as MailboxState
from goodwill.store.mail_models import Message as Message
from goodwill.store.mail_models import Outbox as Outbox
from goodwill.store.rhythm_models import RhythmRow as RhythmRow
from goodwill.store.rhythm_models import RhythmSnapshot as RhythmSnapshot
from goodwill.store.thread_index import ConversationMerge as ConversationMerge
from goodwill.store.thread_index import ThreadId as ThreadId


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # owner | manager | staff
    password_hash: Mapped[str] = mapped_column(String(200))
    hometown: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    team: Mapped[str | None] = mapped_column(String(100))
    # SHA-256 (hex) of the secret in the user's calendar-feed URL; the secret is not kept.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(
        String(20), default="read-write", server_default="read-write"
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[StaffUser] = relationship()


class WebSession(Base):
    """A logged-in browser: the cookie holds a random id, the table only its SHA-256.

    Logout deletes the row; so do deactivation and a password change (every row of the user)."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class LoginThrottle(Base):
    """Failed logins counted per key (``account:EMAIL`` or ``address:IP``), shared by every
    worker process through the database; ``locked_until`` refuses even the right password."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateWindow(Base):
    """Hits counted per key in fixed windows (``contact:<address hash>``, the window's start),
    shared by every web process through the database; windows past are purged as new ones open."""

    __tablename__ = "rate_windows"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class AccountLink(Base):
    """A single-use, expiring link: an invitation (``invite``) or a password reset (``reset``).

    Only the token's SHA-256 is kept; ``used_at`` is set when it is spent."""

    __tablename__ = "account_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invite | reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Partner(Base):
    """A channel or partner a sale came through (a booking site, a reseller, the web shop)."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    hometown: Mapped[str | None] = mapped_column(String(200))
    birthday_day: Mapped[int | None] = mapped_column(Integer)
    birthday_month: Mapped[int | None] = mapped_column(Integer)
    birthday_year: Mapped[int | None] = mapped_column(Integer)
    client_since: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    name_key: Mapped[str] = mapped_column(String(300), index=True)  # lower-cased, for search
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    contact_window: Mapped[str | None] = mapped_column(String(300))  # "mon-fri 08:00-10:00"
    company: Mapped[str | None] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    language: Mapped[str | None] = mapped_column(String(35))  # a BCP 47 tag: "nl", "pt-BR"
    preferred_channel: Mapped[str | None] = mapped_column(String(20))  # email | phone | ...
    #: The partner the client came through (a booking site, a reseller); orders keep their own.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    #: Marketing consent: None while unknown; when it was given or withdrawn, and how.
    marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_how: Mapped[str | None] = mapped_column(String(200))
    #: Archived clients leave the lists and the engine's attention; their history stays.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised by every edit; an edit made on an older version is refused (two people at once).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


# The client list's count of everyone not archived reads this, not every client's row.
Index(
    "ix_clients_listed",
    Client.id,
    postgresql_where=Client.archived_at.is_(None),
    sqlite_where=Client.archived_at.is_(None),
)


class ClientIdentity(Base):
    """An email, phone or import id that identifies a client besides the primary ones on the
    client row: a second address, a work phone, or what a merged record was known by
    (``source`` merged), so a re-import of either record's files finds the one kept.

    ``value`` is normalised: emails lower-cased, phones in E.164, import ids as written."""

    __tablename__ = "client_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_client_identities_kind_value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # email | phone | external_id
    value: Mapped[str] = mapped_column(String(320))
    label: Mapped[str | None] = mapped_column(String(40))  # work, home, ...
    source: Mapped[str] = mapped_column(String(20), default="added")  # added | merged
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    """A person at a client (a company client has several)."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(100))
    birthday_day: Mapped[int | None] = mapped_column(Integer)
    birthday_month: Mapped[int | None] = mapped_column(Integer)
    birthday_year: Mapped[int | None] = mapped_column(Integer)


class ClientFact(Base):
    """A personal fact: an interest, a note, a family event, what they value."""

    __tablename__ = "client_facts"
    __table_args__ = (UniqueConstraint("client_id", "kind", "text", name="uq_client_facts_text"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # domain/facts.py FACT_KINDS
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Where it was learned: conversation | call | visit | meeting | feedback | followup |
    #: import | staff (typed on the client page with no other source).
    source: Mapped[str] = mapped_column(String(100))
    #: What it is about, when it has a day: the wedding, the launch, the move.
    on_date: Mapped[date | None] = mapped_column(Date)
    learned_on: Mapped[date | None] = mapped_column(Date)
    #: The source row ("conversation:12", "message:40", "followup:7", "interaction:3").
    source_ref: Mapped[str | None] = mapped_column(String(100))
    #: The client's own words the fact was taken from ("remember this" in the inbox).
    quote: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author_label: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Interaction(Base):
    """Something a person did with or wrote about a client: a call, a visit, a service or repair,
    a meeting (the ``service.interaction`` touch points), or a free note (``kind`` note, which may
    be pinned to the top of the client's page)."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_client_time", "client_id", "occurred_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # call | visit | service | meeting | note
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: A form's or an API caller's idempotency key: a resent submission writes nothing twice.
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)


#: The partitions of the clients the engine's workers share a pass by on PostgreSQL (client id
#: modulo this; engine/claims.py), which the event log is indexed by.
EVENT_PARTITIONS = 16


class Event(Base):
    """One fact in the append-only log. Rows are inserted, never updated or deleted."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_client_time", "client_id", "occurred_at"),
        Index("ix_events_type_time", "type", "occurred_at"),
        # The engine's partitions in log order (engine/claims.py; migration 0024).
        Index(
            "ix_events_partition", text(f"(coalesce(client_id, 0) % {EVENT_PARTITIONS})"), "id"
        ).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Order(Base):
    __tablename__ = "orders"
    # The amount rides in the (client, time) index: per-client first, latest, count and spend
    # (the insights page) read the index alone. The (time, ...) index serves a range of weeks
    # and the latest order; the currency index, whether there is more than one currency.
    __table_args__ = (
        Index(
            "ix_orders_client_time_amount", "client_id", "occurred_at", "currency", "amount_minor"
        ),
        Index("ix_orders_time_amount", "occurred_at", "currency", "amount_minor", "partner_id"),
        Index("ix_orders_currency", "currency"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # the lines less the refunds
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    #: Who served a sale typed in at the counter (imports leave it empty).
    served_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_key", name="uq_order_lines_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_key: Mapped[str] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_client_issued", "client_id", "issued_on"),
        Index("ix_invoices_due", "due_on"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    #: Paid, on a day the source does not say (Xero's PAID status); never overdue.
    settled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Refund(Base):
    """Money given back on an order; the order's amount is its lines less its refunds."""

    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(400), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # positive: what went back
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("invoice_id", "paid_on", name="uq_payments_invoice_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)


class ImportRun(Base):
    """One run of an import: what file, by whom, what it brought, how far it got."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile: Mapped[str | None] = mapped_column(String(100))
    user: Mapped[str | None] = mapped_column(String(320))  # a staff email, or "cli"
    #: running | done | failed | undone
    status: Mapped[str] = mapped_column(String(20), default="done", server_default="done")
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportItem(Base):
    """What an import brought: each client, order, line, refund, invoice and payment it created
    (``created``) or found already stored. Undo removes what the import created and no live
    import also brought; ``rule`` says how a client was matched (client_id, email, name, new)."""

    __tablename__ = "import_items"
    __table_args__ = (
        UniqueConstraint("import_id", "entity", "entity_id", name="uq_import_items_entity"),
        Index("ix_import_items_entity", "entity", "entity_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str | None] = mapped_column(String(20))


class FollowUp(Base):
    """A task for a person: why (the events), who, by when, how, at what personal level.

    ``open_reason`` equals ``reason`` while the follow-up is open and is NULL otherwise, so the
    unique (client, open_reason) pair allows at most one open follow-up per client per reason on
    SQLite and PostgreSQL alike.
    """

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("client_id", "open_reason", name="uq_followups_open_reason"),
        # A person's list and its counts (store/followups.py today_list), from the index alone.
        Index("ix_followups_assignee_list", "assignee_id", "performer", "status", "due_at", "id"),
        Index("ix_followups_status_due", "status", "due_at"),
        Index("ix_followups_created", "created_at"),
        Index("ix_followups_closed", "closed_at"),
        Index("ix_followups_performer_status_due", "performer", "status", "due_at", "id"),
        Index("ix_followups_updated", "updated_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(200))
    open_reason: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))
    personal_level: Mapped[str] = mapped_column(String(30))
    template: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # open | done | closed
    outcome: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``person`` (someone's list) or ``machine`` (the worker sends it: an automated touch).
    performer: Mapped[str] = mapped_column(String(10), default="person", server_default="person")
    #: Why a person has an automated touch after all (a bounce, consent withdrawn, a reply).
    handed_over: Mapped[str | None] = mapped_column(Text)
    #: The outbox row that carries an automated touch's mail, once queued.
    outbox_key: Mapped[str | None] = mapped_column(String(500))


class TouchSwitch(Base):
    """A playbook rule the owner switched to automated sending (or back), with who and when."""

    __tablename__ = "touch_switches"
    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    automated: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str | None] = mapped_column(String(320))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PageSetting(Base):
    """A setting the owner saved on the settings page: the file and environment still win.

    ``revision`` rises with every save (a cleared setting keeps its row with ``value`` null), so
    a process sees that something changed with one small read (settings_layers.py)."""

    __tablename__ = "page_settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, index=True)
    changed_by: Mapped[str | None] = mapped_column(String(320))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpEvent(Base):
    """Why a follow-up exists: the events behind it (one follow-up may gather several)."""

    __tablename__ = "followup_events"
    __table_args__ = (UniqueConstraint("followup_id", "event_id", name="uq_followup_events_pair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    followup_id: Mapped[int] = mapped_column(
        ForeignKey("followups.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)


class EngineCursor(Base):
    """How far the engine has read the event log, per step; also a lock to serialise workers."""

    __tablename__ = "engine_cursors"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EngineRun(Base):
    """One engine pass: when, as of when, what it did (the dashboard shows the last one)."""

    __tablename__ = "engine_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorkerFailure(Base):
    """One failed attempt at one step of a pass (engine/worker.py): which step, when, the error's
    class and first line, and whether the pass then gave the step up. Never client data."""

    __tablename__ = "worker_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("engine_runs.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(60))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    error: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(300))
    attempt: Mapped[int] = mapped_column(Integer)
    gave_up: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """One thing someone (a user, the engine, an import) did: append-only (store/audit.py).

    ``client_id`` is a plain number, not a foreign key, so the entry outlives an erasure; an
    erasure blanks ``before``/``after``/``detail`` of that client's entries and keeps the rest."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))  # user | engine | import | anonymous
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    session_ref: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(String(500))


class ModelFit(Base):
    """The latest fit of a population model to the business's own history (domain/refits.py)."""

    __tablename__ = "model_fits"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # counts | spend
    model: Mapped[str] = mapped_column(String(40))  # bg-nbd, mbg-nbd, pareto-nbd, gamma-gamma
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    log_likelihood: Mapped[float] = mapped_column(Float)
    n_customers: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[date] = mapped_column(Date)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: What the fit was made on and why (domain/refits.py): purchases, newest_order, reason.
    basis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RotaOverride(Base):
    """An on-call override set on the dashboard (the rota file may have more)."""

    __tablename__ = "rota_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(320))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Incident(Base):
    """A mistake by us or a partner acting for us, with its assessment as it was made and its
    recovery: the steps done (``IncidentStep``), the option chosen, how it ended.

    ``cause`` is a short label staff choose ("wrong address"), lower-cased, so recurring causes
    can be counted; ``cost_minor`` is in minor units of ``currency``.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_cause_opened", "cause", "opened_at"),
        Index("ix_incidents_client_opened", "client_id", "opened_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    message_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    partner: Mapped[str | None] = mapped_column(String(200))
    ours: Mapped[bool] = mapped_column(Boolean)
    stranded: Mapped[bool | None] = mapped_column(Boolean)
    cause: Mapped[str] = mapped_column(String(200))
    tier: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    chosen_option: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # open | resolved | closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    restatement: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The conversation it was opened from, if any (shown there; a second one is warned of).
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )


class IncidentStep(Base):
    """One recovery step done: listen, restate, own, offer, resolve or follow_up."""

    __tablename__ = "incident_steps"
    __table_args__ = (UniqueConstraint("incident_id", "step", name="uq_incident_steps_step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class FeedbackRequest(Base):
    """An open question put to a client through a personal link.

    The link's token is kept only as its SHA-256 (``token_hash``): the database alone cannot
    answer for a client. ``key`` is the reason the question was asked (a playbook rule and the
    event behind it, or a staff member's request), unique, so the engine never asks twice for
    the same reason. ``sent_at`` is when the mail with the link is due to leave (the outbox
    sends it then); ``answered_at`` is set by the one answer the link takes.
    """

    __tablename__ = "feedback_requests"
    __table_args__ = (Index("ix_feedback_requests_client", "client_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(100))
    question_text: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(320))  # rule:NAME | staff:EMAIL | cli
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedbackAnswer(Base):
    """A client's answer, verbatim, with the question as it was asked, who recorded it and how,
    and the client's tenure in days at that moment (NULL for a client with no history yet)."""

    __tablename__ = "feedback_answers"
    __table_args__ = (Index("ix_feedback_answers_client_time", "client_id", "answered_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_requests.id", ondelete="SET NULL"), unique=True
    )
    question_key: Mapped[str | None] = mapped_column(String(100))
    question_text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(20))  # client | staff | cli
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))  # form | call | visit | email | cli
    tenure_days: Mapped[int | None] = mapped_column(Integer)


class FeedbackTheme(Base):
    """A theme found in an answer and the phrases that earned it (``matches``: phrase, the
    words as written, their span, whether a negation preceded them)."""

    __tablename__ = "feedback_themes"
    __table_args__ = (
        UniqueConstraint("answer_id", "theme", name="uq_feedback_themes_answer_theme"),
        Index("ix_feedback_themes_theme", "theme"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("feedback_answers.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(100))
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

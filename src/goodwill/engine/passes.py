"""One engine pass, as of an instant: derive, scan, apply, close.

Exactly-once comes from the writes, not from the scheduling: every derived event has a unique
idempotency key, every follow-up a unique key (rule + the event's key), and at most one follow-up
per client and reason may be open (a unique constraint). Workers share the log through cursor
rows (engine/claims.py): one per step on SQLite, where the write lock serialises them; one per
step and partition of the clients on PostgreSQL, claimed with ``FOR UPDATE SKIP LOCKED``, so N
workers handle N partitions at once. The cursor moves in the same transaction as the batch's
effects. Each pass re-reads a few hundred events before each cursor, so an event whose
transaction committed after a later one is still seen; re-reading is harmless because every
effect is idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.followups import due_at
from goodwill.domain.playbooks import ClientContext, Playbook, Rule, matches, render_title
from goodwill.domain.refits import RefitDecision
from goodwill.domain.touchpoints import (
    BASE_FACTS,
    TOUCH_POINTS,
    Derived,
    payment_touch_point,
)
from goodwill.engine import claims, scans
from goodwill.engine.asking import ask_for_rule
from goodwill.engine.clocks import clock_events, notify
from goodwill.engine.digest import weekly_digest
from goodwill.engine.frames import client_frame
from goodwill.engine.pending import Known, Pending
from goodwill.engine.purchases import derive_purchases
from goodwill.engine.staff import Staff
from goodwill.engine.worker import Step, lanes_for, run_steps
from goodwill.settings import Settings
from goodwill.store.among import among
from goodwill.store.at_risk import keep_changed_rhythms, keep_lapsed, keep_rhythms
from goodwill.store.base import as_utc
from goodwill.store.history import purchase_history
from goodwill.store.ingest import insert_new
from goodwill.store.insights_cache import work_out_ahead
from goodwill.store.models import (
    Client,
    EngineCursor,
    Event,
    FollowUp,
    FollowUpEvent,
    Invoice,
)
from goodwill.store.queries import figures_currency, overviews_for
from goodwill.store.statistics import refresh_statistics
from goodwill.store.touch_switches import automated_rules
from goodwill.store.value import keep_values, refresh_fits
from goodwill.store.worker_runs import finish_run, start_run

log = logging.getLogger(__name__)
OVERLAP = 500
SOURCE = "engine"
#: The tables each step grows, whose planner statistics it refreshes after a big write.
WRITES = {
    "derive": ("events",),
    "refit": ("rhythm_rows",),
    "figures": ("client_figures",),
    "apply": ("followups", "followup_events"),
}
#: The steps that need only the refit before them, not the derive step, so on PostgreSQL they
#: compute beside it (engine/worker.py: lanes) while the database writes its touch points: they
#: read orders, not the events it writes. The apply step and every step after need all before.
BESIDE_DERIVE = {
    "refit": frozenset[str](),
    "scan": frozenset({"refit"}),
    "figures": frozenset({"refit"}),
}
#: What the engine reads of each event: plain rows, not ORM objects (a pass reads many).
EVENT_COLUMNS = (
    Event.id,
    Event.type,
    Event.client_id,
    Event.occurred_at,
    Event.recorded_at,
    Event.idempotency_key,
    Event.payload,
)

#: An event's type as batches test it: an expression no index serves, so a batch is read by the
#: id range it covers. Testing the bare column, SQLite chose the (type, time) index and read and
#: sorted every event of the types for each batch: a first pass grew with the square of the log.
BY_ID_TYPE = Event.type + ""


def _scope(starts: dict[int, int], partitions: int) -> Any:
    """The events after each partition's start (``starts``: partition → event id), those of
    partitions starting at the same event taken together."""
    if partitions == 1:
        return Event.id > starts[0]
    by_start: dict[int, list[int]] = {}
    for partition, start in starts.items():
        by_start.setdefault(start, []).append(partition)
    return or_(
        *(
            and_(claims.in_partitions(members, partitions), Event.id > start)
            for start, members in sorted(by_start.items())
        )
    )


@dataclass
class PassReport:
    derived: int = 0
    scanned: int = 0
    created: int = 0
    suppressed: int = 0
    closed: int = 0
    notified: int = 0  # SLA warnings and breaches queued for mail and webhooks
    asked: int = 0  # open questions mailed to clients by rules with `ask` (engine/asking.py)
    touches_sent: int = 0  # automated touches queued in the outbox (actions/touches.py)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def add(self, counts: dict[str, int]) -> None:
        for name, n in counts.items():
            setattr(self, name, getattr(self, name) + n)


#: The report of the step running in this thread (``EnginePass._counted``): on PostgreSQL the
#: derive step runs beside others, so a step cannot tell its counts from the pass's totals.
_STEP_REPORT: ContextVar[PassReport | None] = ContextVar("step_report", default=None)


class EnginePass:
    def __init__(
        self,
        store: sessionmaker[Session],
        settings: Settings,
        *,
        now: datetime,
        playbook: Playbook,
        calendar: BusinessCalendar,
        batch: int = 2000,
        bulk_batch: int | None = None,
    ) -> None:
        self.store, self.settings, self.now = store, settings, now
        self.playbook, self.calendar, self.batch = playbook, calendar, batch
        #: The derive step's batch: its orders never travel to Python (the database derives
        #: them), so it reads five times as many events a batch; fewer batches, fewer reads.
        self.bulk_batch = bulk_batch or 5 * batch
        self.today = now.astimezone(settings.zone).date()
        self.report = PassReport()
        #: Who can be assigned and which rules the machine performs, read at the pass's first
        #: batch that needs them (``_staff``): an owner's change applies from the next pass.
        self.staff: Staff | None = None
        self.automated: set[str] | None = None
        #: The batch's follow-ups and links, written at its end (engine/pending.py).
        self.pending = Pending()
        #: What the refit step decided this pass (None: not run, or another worker's duty).
        self.refit: RefitDecision | None = None
        self._counting = threading.Lock()
        #: The currency the figures are counted in, found once a pass (``_currency``): on
        #: PostgreSQL finding it in each of sixteen partitions' batches cost a tenth of a second.
        self.currency: str | None = None

    # -- the pass --------------------------------------------------------------------------

    def run(self) -> PassReport:
        """Every step as one recorded pass, side by side where the store allows
        (``lanes_for``). An exception propagates (once the step beside it finished) and leaves
        the pass unfinished; the worker runs ``steps()`` isolated and retried instead
        (engine/worker.py)."""
        with self.store.begin() as session:
            run_id = start_run(session, as_of=self.now)
        counts: dict[str, dict[str, int]] = {}
        with closing(run_steps(self.steps(), lanes_for(self.store))) as finished:
            for step, done, error in finished:
                if error is not None:
                    raise error
                if done:
                    counts[step.name] = dict(done)
        with self.store.begin() as session:
            finish_run(session, run_id, as_of=self.now, at=self.now, counts=counts)
        log.info("engine pass as of %s: %s", self.now.isoformat(), self.report.as_dict())
        return self.report

    def steps(self) -> list[Step]:
        """The pass's steps in order; each commits its own short transactions and returns what
        it added to the report. Every effect is idempotent, so a step may run again."""
        plan: list[tuple[str, Callable[[], object]]] = [
            ("derive", self._derive_all),
            # Before the scan: the missed purchases are read from the rhythms the refit keeps,
            # not learned again from the whole history (a first pass would learn them twice).
            ("refit", self._refit),
            ("scan", self._scan),
            (
                "figures",
                lambda: keep_values(self.store, self.settings, today=self.today, now=self.now),
            ),
            ("apply", self._apply_all),
            ("touches", self._touches),
            ("digest", self._digest),
            ("insights", self._insights_ahead),
        ]
        return [
            Step(name, self._counted(name, action), BESIDE_DERIVE.get(name))
            for name, action in plan
        ]

    def _counted(self, name: str, action: Callable[[], object]) -> Callable[[], dict[str, int]]:
        """The step, returning what it added to the report; a step that wrote many rows
        brings the planner's statistics of its tables up to date (store/statistics.py), so
        the steps and pages after it are planned for the rows it wrote (a first pass fills
        its tables from nothing)."""

        def run() -> dict[str, int]:
            mine = PassReport()
            token = _STEP_REPORT.set(mine)
            try:
                written = action()
            finally:
                _STEP_REPORT.reset(token)
            added = {k: v for k, v in mine.as_dict().items() if v}
            rows = written if isinstance(written, int) else sum(added.values())
            if name in WRITES:
                refresh_statistics(self.store, dict.fromkeys(WRITES[name], rows))
            return added

        return run

    def _count(self, **counts: int) -> None:
        """Add to the pass's report and to the running step's own."""
        with self._counting:
            self.report.add(counts)
        step = _STEP_REPORT.get()
        if step is not None:
            step.add(counts)

    def _derive_all(self) -> None:
        self._read_all(
            "derive",
            BASE_FACTS,
            self._derive,
            relevant=Event.type != "order.placed",
            bulk=self._purchases,
        )

    def _apply_all(self) -> None:
        self._read_all("apply", tuple(TOUCH_POINTS), self._apply, relevant=self._worth_applying())

    def _touches(self) -> None:
        """The automated touches: queue the due ones' mail, settle what the outbox sent
        (actions/touches.py)."""
        from goodwill.actions.touches import perform_touches

        done = perform_touches(
            self.store, self.settings, self.playbook, self.calendar, now=self.now
        )
        self._count(touches_sent=done.get("sent", 0))

    def _digest(self) -> None:
        """The owner's weekly digest: queued once per ISO week after its hour (engine/digest.py)."""
        self._count(notified=weekly_digest(self.store, self.settings, now=self.now))

    def _insights_ahead(self) -> None:
        """The insights page's first view of the day worked out for its first visitor, on a
        large store (store/insights_cache.py)."""
        work_out_ahead(self.store, self.settings, today=self.today, now=self.now)

    def _refit(self) -> int:
        """Refit the population models when the refit policy says so (domain/refits.py), and
        keep in ``self.refit`` what was decided and why. A fit that fails numerically must not
        stop the follow-ups, so it is logged and the previous fit stays. One worker refits at a
        time; on PostgreSQL the others skip it. Returns the rhythm rows kept."""
        try:
            with self.store.begin() as session:
                if claims.lock(session, "fits", now=self.now, skip=True) is None:
                    return 0
                # The models and the rhythms learn from the same orders: read them once.
                history = cache(partial(purchase_history, session, self.settings))
                self.refit = refresh_fits(
                    session, self.settings, today=self.today, now=self.now, read_history=history
                )
                kept = keep_rhythms(
                    session,
                    self.settings,
                    today=self.today,
                    now=self.now,
                    refitted=self.refit.refit,
                    read_history=history,
                )
        except (ValueError, ArithmeticError) as exc:  # InvalidInput is handled by refresh_fits
            log.warning("population models not refitted: %s", exc)
            self.refit = RefitDecision(False, f"the refit failed: {exc}")
            return 0
        log.info(
            "population models %s: %s",
            "refitted" if self.refit.refit else "kept",
            self.refit.reason,
        )
        return kept

    def _read_all(
        self,
        step: str,
        types: Sequence[str],
        handle: Any,
        *,
        relevant: Any = None,
        bulk: Any = None,
    ) -> None:
        """Every batch of the step's events after its cursors, shared with the other workers
        by partition of the clients on PostgreSQL (engine/claims.py)."""
        with self.store.begin() as session:
            partitions = claims.partitions_for(session)
            claims.ensure_cursors(session, step, partitions, now=self.now)
        todo, fresh = set(range(partitions)), set(range(partitions))
        # Once every partition is read, one more read of each moves its cursor past the touch
        # points the partitions after it added, so the next pass does not scan them.
        again = partitions > 1
        share, size = 1, self.bulk_batch if bulk is not None else self.batch
        while todo:
            with self.store.begin() as session:
                group = (
                    claims.claim_several(session, step, todo, partitions, now=self.now, most=share)
                    if partitions > 1
                    else []
                )
                if not group:  # SQLite's one cursor, or every partition left held by others
                    got = None
                    if partitions == 1:
                        got = claims.claim(session, step, todo, 1, now=self.now, wait=False)
                    got = got or claims.claim(
                        session, step, todo, partitions, now=self.now, wait=True
                    )
                    assert got is not None, "the cursors were made above"
                    group = [got]
                more, read = self._batch(
                    session,
                    step,
                    partitions,
                    group,
                    size=size,
                    fresh=fresh,
                    types=types,
                    handle=handle,
                    relevant=relevant,
                    bulk=bulk,
                )
            for partition, _ in group:
                fresh.discard(partition)
                if not more:
                    todo.discard(partition)
            share = claims.share_after(len(group), read, size, partitions)
            if not todo and again:
                todo, again = set(range(partitions)), False

    def _batch(
        self,
        session: Session,
        step: str,
        partitions: int,
        group: list[tuple[int, int]],
        *,
        size: int,
        fresh: set[int],
        types: Sequence[str],
        handle: Any,
        relevant: Any = None,
        bulk: Any = None,
    ) -> tuple[bool, int]:
        """One batch of at most ``size`` events after the locked cursors of ``group``
        ((partition, position) each); returns whether there may be more, and how many new events
        it read.

        A partition's first batch of a pass (still in ``fresh``) also re-reads the ``OVERLAP``
        events before its cursor. ``relevant`` narrows which of the events are read (the cursors
        still move past all of them; without ``bulk``, a batch counts relevant events alone);
        ``bulk`` is given the batch as a condition on events, for work the database does without
        the events travelling to Python.
        """
        starts = {
            p: max(0, position - OVERLAP) if p in fresh else position for p, position in group
        }
        lowest = min(position for _, position in group)
        scope = _scope(starts, partitions)
        # A batch that is not full has read every event of the types up to the log's end: the
        # cursors move there, so the next pass does not scan the other types' events again.
        end = self._log_end(session)
        ids_query = select(Event.id).where(scope, BY_ID_TYPE.in_(types))
        if relevant is not None and bulk is None:
            # Page through the relevant events alone: the others would only move the cursor,
            # which the batch's end moves past them anyway (a first pass's apply step read
            # every old touch point's id, a batch at a time, to act on the recent few).
            ids_query = ids_query.where(relevant)
        overlap = max(position - starts[p] for p, position in group)
        ids = list(session.execute(ids_query.order_by(Event.id).limit(size + overlap)).scalars())
        if not ids or ids[-1] <= lowest:
            self._advance(step, partitions, group, end, session)
            return False, 0
        in_batch = and_(Event.id >= ids[0], Event.id <= ids[-1], BY_ID_TYPE.in_(types), scope)
        if bulk is not None:
            bulk(session, in_batch)
        query = select(*EVENT_COLUMNS).where(in_batch)
        if relevant is not None:
            query = query.where(relevant)
        events: list[Any] = list(session.execute(query.order_by(Event.id)).all())
        if events:
            handle(session, events)
        read = sum(1 for i in ids if i > lowest)
        full = read >= size
        self._advance(step, partitions, group, ids[-1] if full else max(ids[-1], end), session)
        # One more read moves past what the batch added; with partitions, the round of reads
        # after the last partition (``_read_all``) does that for every partition at once.
        return full or (partitions == 1 and self._log_end(session) > end), read

    def _advance(
        self, step: str, partitions: int, group: list[tuple[int, int]], to: int, session: Session
    ) -> None:
        """Move the group's cursors to ``to``, never back (a partition of the group may stand
        past where a full batch of the others ended)."""
        for partition, position in group:
            if to > position:
                name = claims.cursor_name(step, partition, partitions)
                claims.advance(session, name, to, now=self.now)

    @staticmethod
    def _log_end(session: Session) -> int:
        return int(session.execute(select(func.max(Event.id))).scalar_one_or_none() or 0)

    def _worth_applying(self) -> Any:
        """Events the playbook can act on: recent enough for some rule, or of a client with an
        open follow-up (which the event may close)."""
        fresh_days = max((r.fresh_days for r in self.playbook.rules if r.enabled), default=0)
        return or_(
            Event.occurred_at >= self.now - timedelta(days=fresh_days),
            Event.client_id.in_(select(FollowUp.client_id).where(FollowUp.status == "open")),
        )

    # -- deriving touch points from base facts ---------------------------------------------

    def _derive(self, session: Session, events: list[Event]) -> None:
        """Touch points of the batch's events other than orders (``_purchases`` derives those)."""
        derived: list[tuple[Event, Derived]] = []
        payments = [e for e in events if e.type == "payment.received"]
        if payments:
            derived += self._payments(session, payments)
        self._append(session, [(e.client_id, e.occurred_at, d) for e, d in derived])

    def _append(self, session: Session, items: list[tuple[int | None, datetime, Derived]]) -> int:
        """Write the derived events (those not written before); how many were new."""
        if not items:
            return 0
        rows = [
            {
                "type": d.type,
                "client_id": client_id,
                "occurred_at": occurred_at,
                "recorded_at": self.now,
                "source": SOURCE,
                "external_id": d.key,
                "idempotency_key": d.key,
                "payload": d.payload,
            }
            for client_id, occurred_at, d in items
        ]
        written = insert_new(session, Event, rows, ["idempotency_key"])
        self._count(derived=written)
        return written

    def _purchases(self, session: Session, in_batch: Any) -> None:
        """purchase.first / purchase.repeat (and milestones) for the orders of a batch of events
        (``in_batch``, a condition on events), derived by the database (engine/purchases.py)."""
        orders = select(Event.payload["order_id"].as_string()).where(
            in_batch, BY_ID_TYPE == "order.placed"
        )
        self._count(derived=derive_purchases(session, orders, now=self.now, source=SOURCE))

    def _payments(self, session: Session, events: list[Event]) -> list[tuple[Event, Derived]]:
        clients = {e.client_id for e in events}
        invoices = list(
            session.execute(
                select(Invoice)
                .where(among(session, Invoice.client_id, clients), Invoice.paid_on.is_not(None))
                .order_by(Invoice.paid_on, Invoice.id)
            ).scalars()
        )
        by_client: dict[int, list[Invoice]] = {}
        for invoice in invoices:
            by_client.setdefault(invoice.client_id, []).append(invoice)
        out: list[tuple[Event, Derived]] = []
        for event in events:
            invoice_id = str(event.payload.get("invoice_id"))
            mine = by_client.get(event.client_id or -1, [])
            target = next((i for i in mine if i.external_id == invoice_id), None)
            if target is None or target.paid_on is None:
                continue
            late = target.due_on is not None and target.paid_on > target.due_on
            before = [i for i in mine if (i.paid_on, i.id) <= (target.paid_on, target.id)]
            count = sum(
                1
                for i in before
                if (i.due_on is not None and i.paid_on is not None and i.paid_on > i.due_on) == late
            )
            days = (target.paid_on - target.due_on).days if target.due_on else 0
            out.append((event, payment_touch_point(invoice_id, target.paid_on, days, count)))
        return out

    # -- periodic scans ----------------------------------------------------------------------

    def _scan(self) -> None:
        with self.store.begin() as session:
            if claims.lock(session, "scan", now=self.now, skip=True) is None:
                return  # another worker is scanning (PostgreSQL); the scans are idempotent
            items: list[tuple[int | None, datetime, Derived]] = []
            items += scans.birthdays(session, self.settings, today=self.today)
            items += scans.anniversaries(session, self.settings, today=self.today)
            items += scans.life_events(session, self.settings, today=self.today)
            items += scans.overdue_invoices(session, self.settings, today=self.today)
            # The rhythms of the clients who bought since are kept first, and the rows lapsed
            # by today flagged: the missed-purchase scan (and the At risk list) then reads the
            # kept rows that may be on the list alone.
            keep_changed_rhythms(session, self.settings)
            keep_lapsed(session, self.settings, today=self.today)
            items += scans.missed_purchases(session, self.settings, today=self.today)
            clocks = clock_events(session, now=self.now)
            self._count(scanned=self._append(session, items + clocks))
            if clocks:
                self._count(
                    notified=notify(
                        session,
                        self.settings,
                        clocks,
                        owner_id=self._staff(session).owner_id,
                        now=self.now,
                    )
                )

    # -- applying the playbook ---------------------------------------------------------------

    def _fresh_rules(self, event: Event) -> list[Rule]:
        """The rules for this event that it is recent enough to fire."""
        return [
            rule
            for rule in self.playbook.rules_for(event.type)
            if event.occurred_at <= self.now
            and self.now - event.occurred_at <= timedelta(days=rule.fresh_days)
        ]

    def _apply(self, session: Session, events: list[Event]) -> None:
        self.pending = Pending()
        self._apply_batch(session, events)
        self._write_pending(session)

    def _apply_batch(self, session: Session, events: list[Event]) -> None:
        firing = {e.id: rules for e in events if (rules := self._fresh_rules(e))}
        closable = self._closable(session, events)
        if not firing and not closable:
            return  # old history: nothing to create, nothing to close
        wanted = {e.client_id for e in events if e.id in firing or e.client_id in closable}
        found = session.scalars(select(Client).where(among(session, Client.id, wanted)))
        clients = {c.id: c for c in found}
        staff = self._staff(session)
        known = self._known(session, events, firing)
        if self.automated is None:
            self.automated = automated_rules(session)
        overviews = overviews_for(
            session,
            self.settings,
            {e.client_id for e in events if e.id in firing and e.client_id is not None},
            today=self.today,
            currency=self._currency(session),
        )
        for event in events:
            client = clients.get(event.client_id or -1)
            if client is None:
                continue
            if client.id in closable:
                self._close(session, event, closable[client.id])
            if event.id not in firing or client.archived_at is not None:
                continue  # nothing fires, or an archived client: no new follow-ups
            overview = overviews.get(client.id)
            context = ClientContext(
                name=client.name,
                tier=overview.tier if overview else None,
                tenure_years=overview.tenure_years if overview else 0.0,
                tags=frozenset(client.tags or []),
            )
            for rule in firing[event.id]:
                if matches(rule, event.payload, context):
                    if rule.ask and self._ask(session, rule, event, client) is not None:
                        continue  # asked by mail (or before); no email: the follow-up below
                    self._create(session, rule, event, client, context, staff, known)

    def _staff(self, session: Session) -> Staff:
        if self.staff is None:
            self.staff = Staff.load(session, self.settings)
        return self.staff

    def _currency(self, session: Session) -> str:
        if self.currency is None:
            self.currency = figures_currency(session, self.settings)
        return self.currency

    def _ask(self, session: Session, rule: Rule, event: Event, client: Client) -> bool | None:
        """A rule that asks a question by mail (see engine/asking.py)."""
        asked = ask_for_rule(
            session,
            self.settings,
            rule,
            event,
            client,
            frame=client_frame(client, self.settings),
            calendar=self.calendar,
            now=self.now,
        )
        self._count(asked=int(bool(asked)))
        return asked

    def _closable(self, session: Session, events: list[Event]) -> dict[int, list[FollowUp]]:
        """Open follow-ups, by client, that some event of this batch may close."""
        reasons = {r.reason for e in events for r in self.playbook.closing_rules(e.type)}
        if not reasons:
            return {}
        clients = {e.client_id for e in events if self.playbook.closing_rules(e.type)}
        found: dict[int, list[FollowUp]] = {}
        for followup in session.execute(
            select(FollowUp).where(
                among(session, FollowUp.client_id, clients),
                FollowUp.status == "open",
                FollowUp.reason.in_(reasons),
            )
        ).scalars():
            found.setdefault(followup.client_id, []).append(followup)
        return found

    def _close(self, session: Session, event: Event, candidates: list[FollowUp]) -> None:
        """Close the client's open follow-ups whose reason this event takes away."""
        reasons = {r.reason for r in self.playbook.closing_rules(event.type)}
        for followup in candidates:
            if followup.status != "open" or followup.reason not in reasons:
                continue
            if followup.created_at > event.recorded_at:
                continue
            self._write_pending(session)  # the triggers below include this batch's links
            triggers = session.execute(
                select(func.max(Event.occurred_at))
                .join(FollowUpEvent, FollowUpEvent.event_id == Event.id)
                .where(FollowUpEvent.followup_id == followup.id)
            ).scalar_one()
            if triggers is not None and as_utc(triggers) >= event.occurred_at:
                continue
            followup.status, followup.open_reason = "closed", None
            followup.outcome = f"closed by itself: {event.type} on {event.occurred_at.date()}"
            followup.closed_at = followup.updated_at = self.now
            followup.sequence += 1
            session.flush()
            self.pending.link(followup.id, event.id)
            self._count(closed=1)

    def _known(self, session: Session, events: list[Event], firing: dict[int, list[Rule]]) -> Known:
        """What is already stored about this batch's follow-ups, read in three queries."""
        keys = {f"{r.name}/{e.idempotency_key}" for e in events for r in firing.get(e.id, [])}
        clients = {e.client_id for e in events if e.id in firing}
        known = Known()
        if keys:
            stored = select(FollowUp.key).where(among(session, FollowUp.key, keys))
            known.keys.update(session.scalars(stored))
        if firing:
            known.handled.update(
                (row[0], row[1])
                for row in session.execute(
                    select(FollowUpEvent.event_id, FollowUp.reason)
                    .join(FollowUp, FollowUp.id == FollowUpEvent.followup_id)
                    .where(among(session, FollowUpEvent.event_id, set(firing)))
                )
            )
        if clients:
            known.open.update(
                ((row[0], row[1]), row[2])
                for row in session.execute(
                    select(FollowUp.client_id, FollowUp.open_reason, FollowUp.id).where(
                        among(session, FollowUp.client_id, clients),
                        FollowUp.open_reason.is_not(None),
                    )
                )
            )
        return known

    def _create(
        self,
        session: Session,
        rule: Rule,
        event: Event,
        client: Client,
        context: ClientContext,
        staff: Staff,
        known: Known,
    ) -> None:
        key = f"{rule.name}/{event.idempotency_key}"
        if key in known.keys or (event.id, rule.reason) in known.handled:
            return  # seen in an earlier pass (passes re-read a little)
        if rule.quiet_days and self._in_quiet_period(session, rule, client, event):
            self._count(suppressed=1)
            return
        known.handled.add((event.id, rule.reason))
        existing = known.open.get((client.id, rule.reason))
        if existing is None:
            frame = client_frame(client, self.settings)
            by_machine = rule.name in (self.automated or ()) and rule.can_automate
            values = {
                "key": key,
                "client_id": client.id,
                "rule": rule.name,
                "reason": rule.reason,
                "open_reason": rule.reason,
                "title": render_title(rule, event.payload, context),
                "channel": rule.channel.value,
                "personal_level": "automated" if by_machine else rule.personal_level.value,
                "performer": "machine" if by_machine else "person",
                "template": rule.template,
                "assignee_id": self._assignee(session, rule, client, staff),
                "due_at": due_at(
                    rule.due, base=event.occurred_at, business=self.calendar, client=frame
                ),
                "status": "open",
                "sequence": 0,
                "created_at": self.now,
                "updated_at": self.now,
            }
            # Written at the batch's end (engine/pending.py); the key stands for it until then.
            waiting = self.pending.add(values)
            known.keys.add(key)
            known.open[(client.id, rule.reason)] = waiting
            self.pending.link(waiting, event.id)
            return
        self._count(suppressed=1)
        self.pending.link(existing, event.id)

    def _in_quiet_period(self, session: Session, rule: Rule, client: Client, event: Event) -> bool:
        since = event.occurred_at - timedelta(days=rule.quiet_days)
        recent = session.execute(
            select(func.count(FollowUp.id)).where(
                FollowUp.client_id == client.id,
                FollowUp.reason == rule.reason,
                FollowUp.status != "open",
                FollowUp.closed_at >= since,
                FollowUp.key != f"{rule.name}/{event.idempotency_key}",
            )
        ).scalar_one()
        return bool(recent)

    def _write_pending(self, session: Session) -> None:
        """The batch's follow-ups and links (engine/pending.py)."""
        written = self.pending.write(session)
        self._count(created=written.created, suppressed=written.suppressed)

    def _assignee(self, session: Session, rule: Rule, client: Client, staff: Staff) -> int | None:
        kind = rule.assignee.kind
        if kind == "client_owner":
            return client.owner_id or staff.owner_id
        if kind == "on_call":
            return staff.on_call_id
        if kind == "business_owner":
            return staff.owner_id
        members = staff.teams.get(rule.assignee.team or "", [])
        if not members:
            return staff.owner_id
        position = claims.lock(session, f"team:{rule.assignee.team}", now=self.now)
        assert position is not None, "a waiting lock always returns"
        session.execute(
            update(EngineCursor)
            .where(EngineCursor.name == f"team:{rule.assignee.team}")
            .values(position=position + 1)
        )
        return members[position % len(members)]

"""The engine from imported history to follow-ups, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from goodwill.domain.audit import Actor
from goodwill.domain.records import ClientRef, FileKind
from goodwill.engine import purchases
from goodwill.store.events import record_touch_point
from goodwill.store.followups import complete
from goodwill.store.models import EngineCursor, Event, FollowUp, FollowUpEvent
from tests.engine.conftest import World
from tests.store.plans import plan_of, recorded

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
CLIENTS = "client_id,name,email,birthday,owner,contact_window\n"
PAYMENTS = "invoice_id,client_id,amount,issued_at,due_date,paid_at\n"
PURCHASES = "order_id,client_id,occurred_at,amount,product\n"


def monthly_orders(client: str, start: datetime, count: int, prefix: str) -> str:
    return "".join(
        f"{prefix}{i},{client},{(start + timedelta(days=30 * i)).date()},45.00,Beans\n"
        for i in range(count)
    )


def test_second_late_payment_escalates_to_the_owner_as_a_conversation(world: World) -> None:
    owner = world.staff("olivia@shop.example", "owner", NOW)
    sam = world.staff("sam@shop.example", "staff", NOW)
    world.load(
        FileKind.CLIENTS, CLIENTS + "C1,Ann Example,ann@example.com,,sam@shop.example,\n", NOW
    )
    world.load(FileKind.PAYMENTS, PAYMENTS + "I1,C1,100,2026-10-01,2026-10-31,2026-11-10\n", NOW)
    world.run(NOW)
    [check_in] = world.followups()
    assert check_in.rule == "late-payment-check-in" and check_in.assignee == "sam@shop.example"
    assert check_in.event_types == ("payment.late",) and check_in.channel == "call"
    later = NOW + timedelta(days=3)
    world.load(FileKind.PAYMENTS, PAYMENTS + "I2,C1,100,2026-10-15,2026-11-14,2026-11-25\n", later)
    report = world.run(later)
    assert report.created == 1
    escalation = next(f for f in world.followups() if f.rule != "late-payment-check-in")
    assert escalation.rule == "late-payment-owner-conversation"
    assert escalation.assignee == "olivia@shop.example" and owner != sam
    assert escalation.personal_level == "owner_call"
    assert "payment dates or method" in escalation.title and "fee" not in escalation.title.lower()
    assert escalation.events[0]["payload"]["n"] == 2


def test_birthday_touches_grow_more_personal_with_the_clients_value(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.CLIENTS,
        CLIENTS
        + "".join(f"C{i},Client {i},c{i}@example.com,1980-12-{10 + i},,\n" for i in range(3)),
        NOW,
    )
    world.load(
        FileKind.PURCHASES,
        PURCHASES + "1,C0,2025-01-05,50\n2,C1,2025-01-05,2500\n3,C2,2025-01-05,9000\n",
        NOW,
    )
    december = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert world.run(NOW).created == 0  # November: nobody's birthday month
    world.run(december)
    levels = {f.client_id: (f.personal_level, f.due_at, f.channel) for f in world.followups()}
    assert levels["C0"][::2] == ("automated", "email")
    assert levels["C1"][::2] == ("automated", "postcard")
    assert levels["C2"][::2] == ("handwritten_note", "note")
    # 12 December 2026 is a Saturday: the touch is due at opening on Monday 7 December.
    assert levels["C2"][1] == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_missed_purchase_becomes_a_call_and_closes_when_the_client_buys(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.CLIENTS, CLIENTS + "C1,Ann Example,ann@example.com,,,mon-fri 08:00-10:00\n", NOW
    )
    world.load(
        FileKind.PURCHASES, PURCHASES + monthly_orders("C1", datetime(2025, 4, 20), 20, "M"), NOW
    )
    world.run(NOW)
    with world.store.begin() as session:
        record_touch_point(
            session,
            world.settings,
            type="purchase.missed",
            client=ClientRef("C1", None, None),
            occurred_at=NOW,
            source="test",
            payload={"days_overdue": 12, "expected_at": "2026-11-11"},
            now=NOW,
        )
    world.run(NOW + timedelta(minutes=5))
    [call] = world.followups()
    assert call.rule == "missed-regular-purchase" and call.channel == "call"
    assert "(expected on 2026-11-11)" in call.title
    assert call.due_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # window 08-10, opens at 9
    later = NOW + timedelta(days=2)
    world.load(FileKind.PURCHASES, PURCHASES + "M99,C1,2026-11-24,45.00,Beans\n", later)
    report = world.run(later)
    assert report.closed == 1 and world.followups() == []
    [closed] = world.followups(status="closed")
    assert closed.outcome.startswith("closed by itself: purchase.repeat")
    assert set(closed.event_types) == {"purchase.missed", "purchase.repeat"}


def test_running_the_engine_again_creates_nothing_twice(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.PURCHASES,
        PURCHASES
        + monthly_orders("C1", datetime(2026, 10, 20), 2, "A")
        + "B1,C2,2026-11-20,20,Cup\n",
        NOW,
    )
    first = world.run(NOW)
    assert first.created == 2 and first.derived == 3  # C2's first purchase, C1's second
    with world.store() as session:
        events = session.execute(select(func.count(Event.id))).scalar_one()
    again = world.run(NOW)
    assert (again.derived, again.created, again.suppressed) == (0, 0, 0)
    with world.store() as session:
        assert session.execute(select(func.count(Event.id))).scalar_one() == events
    assert len(world.followups()) == 2


def test_after_a_pass_the_cursors_stand_past_the_touch_points_it_added(world: World) -> None:
    """The next pass reads what came after, not the touch points between (the applying cursors
    stand at the log's end; a deriving one at least where the log ended when it finished)."""
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.PURCHASES, PURCHASES + monthly_orders("C1", datetime(2026, 7, 1), 4, "A"), NOW
    )

    def positions() -> tuple[dict[str, set[int]], int, int]:
        with world.store() as session:
            end = session.execute(select(func.max(Event.id))).scalar_one()
            derived = session.execute(
                select(func.max(Event.id)).where(
                    Event.type.in_(("purchase.first", "purchase.repeat"))
                )
            ).scalar_one()
            rows = session.execute(select(EngineCursor.name, EngineCursor.position)).all()
        found: dict[str, set[int]] = {"derive": set(), "apply": set()}
        for name, position in rows:
            step = str(name).split("@")[0]
            if step in found:
                found[step].add(int(position))
        return found, int(end), int(derived)

    first = world.run(NOW)
    found, end, derived = positions()
    assert first.derived == 5 and found["apply"] == {end}
    assert found["derive"] and min(found["derive"]) >= derived  # past its own touch points
    later = NOW + timedelta(days=1)
    world.load(FileKind.PURCHASES, PURCHASES + "M99,C1,2026-11-24,45.00,Beans\n", later)
    assert world.run(later).derived == 1  # the new order's repeat purchase, nothing again
    found, end, derived = positions()
    assert found["apply"] == {end} and min(found["derive"]) >= derived


def test_one_open_follow_up_per_client_and_reason_gathers_the_events(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    with world.store.begin() as session:
        for days in (3, 2):
            record_touch_point(
                session,
                world.settings,
                type="purchase.missed",
                client=ClientRef("C1", None, "Ann"),
                occurred_at=NOW - timedelta(days=days),
                source="test",
                payload={"days_overdue": 20 - days},
                now=NOW,
            )
    report = world.run(NOW)
    assert (report.created, report.suppressed) == (1, 1)
    [followup] = world.followups()
    assert len(followup.events) == 2


def test_history_older_than_the_freshness_window_does_not_flood_the_list(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.PURCHASES, PURCHASES + monthly_orders("C1", datetime(2020, 1, 1), 40, "H"), NOW
    )
    report = world.run(NOW)
    assert report.derived >= 40 and report.created == 0


def test_a_done_follow_up_starts_a_quiet_period_for_its_reason(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)

    def click(at: datetime, url: str) -> None:
        with world.store.begin() as session:
            record_touch_point(
                session,
                world.settings,
                type="email.link_clicked",
                client=ClientRef(None, "lead@example.com", "Lee"),
                occurred_at=at,
                source="test",
                payload={"url": url},
                now=at,
            )

    click(NOW, "/pricing")
    world.run(NOW)
    [offer] = world.followups()
    with world.store.begin() as session:
        complete(
            session,
            offer.id,
            outcome="Sent a note, waiting",
            now=NOW + timedelta(hours=1),
            actor=Actor.cli("tests"),
        )
    click(NOW + timedelta(days=2), "/pricing-again")
    report = world.run(NOW + timedelta(days=2))
    assert report.suppressed == 1 and world.followups() == []  # quiet for 14 days
    click(NOW + timedelta(days=20), "/contact")
    assert world.run(NOW + timedelta(days=20)).created == 1


def test_a_crash_between_batches_loses_and_duplicates_nothing(world: World, tmp_path) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    orders = "".join(f"X{i},C{i},2026-11-{10 + i % 10},{20 + i},Cup\n" for i in range(60))
    world.load(FileKind.PURCHASES, PURCHASES + orders, NOW)
    from goodwill.engine.passes import EnginePass

    calls = {"n": 0}
    original = EnginePass._apply

    def crashing(self, session, events):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the power went out")
        return original(self, session, events)

    EnginePass._apply = crashing  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="power went out"):
            world.run(NOW, batch=25)
    finally:
        EnginePass._apply = original  # type: ignore[method-assign]
    partial = len(world.followups())
    assert 0 < partial < 60
    world.run(NOW, batch=25)
    followups = world.followups()
    assert len(followups) == 60 and len({f.client_id for f in followups}) == 60
    with world.store() as session:
        links = session.execute(select(func.count(FollowUpEvent.id))).scalar_one()
        assert links == 60
        assert session.execute(select(func.count(FollowUp.id))).scalar_one() == 60


def test_story_5_the_cadence_watch_notices_a_missed_monthly_purchase(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    regulars = "".join(
        monthly_orders(f"R{k}", datetime(2024, 1, 3 + k % 25), 22, f"R{k}-") for k in range(40)
    )
    # C1 buys monthly until 2026-10-05, then nothing: overdue by 23 November.
    world.load(
        FileKind.PURCHASES,
        PURCHASES + regulars + monthly_orders("C1", datetime(2025, 12, 10), 11, "C"),
        NOW,
    )
    report = world.run(NOW)
    [call] = [f for f in world.followups() if f.client_id == "C1"]
    assert call.reason == "missed-purchase" and call.event_types == ("purchase.missed",)
    payload = call.events[0]["payload"]
    assert payload["cycle"] == 1 and 25 <= payload["usual_interval_days"] <= 35
    assert payload["days_overdue"] > 0 and payload["revenue_at_risk"] > 0
    assert report.created >= 1
    assert world.run(NOW + timedelta(hours=1)).created == 0  # the same cycle fires once
    bought = NOW + timedelta(days=1)
    world.load(FileKind.PURCHASES, PURCHASES + "C-late,C1,2026-11-24,45.00,Beans\n", bought)
    assert world.run(bought).closed >= 1
    assert [f for f in world.followups() if f.client_id == "C1"] == []


def test_team_rules_take_turns_round_robin(world: World, tmp_path) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    ana = world.staff("ana@shop.example", "staff", NOW, team="support")
    ben = world.staff("ben@shop.example", "staff", NOW, team="support")
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(
        '[[rule]]\nname = "welcome"\non = "purchase.first"\ntitle = "Welcome {client}"\n'
        'channel = "email"\npersonal_level = "personal_message"\nassignee = "team:support"\n'
        'due = "1 business days"\n',
        encoding="utf-8",
    )
    from dataclasses import replace

    world.settings = replace(world.settings, playbook=playbook)
    orders = "".join(f"W{i},C{i},2026-11-2{i % 3},20,Cup\n" for i in range(6))
    world.load(FileKind.PURCHASES, PURCHASES + orders, NOW)
    assert world.run(NOW).created == 6
    assignees = [f.assignee for f in sorted(world.followups(), key=lambda f: f.id)]
    assert assignees == ["ana@shop.example", "ben@shop.example"] * 3 and ana != ben


def test_an_orders_number_is_counted_among_its_clients_orders_alone(world: World) -> None:
    """Date-only imports put a day's orders at one instant: orders at one instant are numbered
    by id, and numbering an order reads that client's orders on the (client, time) index, not
    every order placed at that instant (which an OR of "earlier, or at the same instant with a
    smaller id" let PostgreSQL do on the bench's store); the milestone check reads the client's
    events alone too."""
    world.staff("olivia@shop.example", "owner", NOW)
    days = ("2026-09-01", "2026-10-01", "2026-10-01", "2026-11-01")
    rows = "".join(
        f"O{c}-{k},C{c},{day},45.00,Beans\n" for c in range(300) for k, day in enumerate(days)
    )
    world.load(FileKind.PURCHASES, PURCHASES + rows, NOW)
    with world.store.begin() as session:
        session.execute(text("ANALYZE"))  # the planner knows a day's orders share one instant
    with world.store() as session, recorded(session) as seen:
        world.run(NOW)
    statement, parameters = next(
        (s, p) for s, p in seen if s.lstrip().startswith("WITH") and "INSERT INTO events" in s
    )
    with world.store() as session:
        plan = plan_of(session, statement, parameters)
        assert "ix_orders_time_amount" not in plan
        # A milestone had already is looked for among the client's events, not among every
        # milestone of the log (what PostgreSQL chose from statistics taken before any milestone).
        assert "ix_events_type_time" not in plan
        found = session.execute(
            select(Event.payload["order_id"].as_string(), Event.payload["n"].as_integer()).where(
                Event.type.in_(("purchase.first", "purchase.repeat"))
            )
        ).all()
    numbers = dict(found)
    assert len(numbers) == 1200
    assert all(numbers[f"O{c}-{k}"] == k + 1 for c in range(300) for k in range(4))


@pytest.mark.parametrize("sweep_from", [1, 10**9], ids=["by-sweep", "by-count"])
def test_a_heavy_clients_orders_are_numbered_across_batches_and_late_imports(
    world: World, monkeypatch: pytest.MonkeyPatch, sweep_from: int
) -> None:
    """A client whose orders fill many batches is numbered through all of them (each batch
    numbers its orders after the ones before it, however the store counts), with the milestones
    at the 10th, 25th … 250th order; an order imported later but dated between two known ones is
    numbered among them, the orders already numbered keep their touch points, and no milestone
    comes twice."""
    world.staff("olivia@shop.example", "owner", NOW)
    start = NOW - timedelta(days=400)
    rows = "".join(
        f"H{k},C1,{(start + timedelta(days=k, hours=k % 5)).isoformat()},12.00,Beans\n"
        for k in range(0, 300)
        if k != 150
    )
    world.load(FileKind.PURCHASES, PURCHASES + rows, NOW)
    # SQLite numbers by a count of each order's earlier orders, or by one sweep of each client's
    # orders when the batch's clients have many; PostgreSQL always sweeps. Both forms are held to
    # the same numbers.
    monkeypatch.setattr(purchases, "SWEEP_FROM", sweep_from)
    with world.store() as session, recorded(session) as seen:
        world.run(NOW, batch=37, bulk_batch=37)
        postgres = session.get_bind().dialect.name == "postgresql"
    derived = [s for s, _ in seen if s.lstrip().startswith("WITH") and "INSERT INTO events" in s]
    assert derived and all(("row_number" in s) == (postgres or sweep_from == 1) for s in derived)
    first = numbered(world)
    assert first["milestones"] == {f"H{k}": k + 1 for k in (9, 24, 49, 99)} | {"H250": 250}
    assert first["purchases"] == {f"H{k}": k + 1 if k < 150 else k for k in range(300) if k != 150}
    late = f"H150,C1,{(start + timedelta(days=150, hours=150 % 5)).isoformat()},12.00,Beans\n"
    world.load(FileKind.PURCHASES, PURCHASES + late, NOW + timedelta(hours=1))
    world.run(NOW + timedelta(hours=1), batch=37, bulk_batch=37)
    after = numbered(world)
    assert after["purchases"] == first["purchases"] | {"H150": 151}
    # H249 is now the 250th order, and the pass read it again; the 250th was thanked for once.
    assert after["milestones"] == first["milestones"]


def test_one_long_history_among_many_short_ones_is_numbered_by_a_sweep(world: World) -> None:
    """Counting each order's earlier orders grows with the square of a client's orders: a batch
    holding one client's 1,000 orders among 600 one-order clients is numbered by one sweep of each
    client's orders on SQLite too (as always on PostgreSQL), and numbered right."""
    world.staff("olivia@shop.example", "owner", NOW)
    start = NOW - timedelta(days=500)
    long = "".join(
        f"L{k},C1,{(start + timedelta(days=k)).isoformat()},12.00,Beans\n" for k in range(1000)
    )
    short = "".join(f"S{c},C{c + 2},{start.isoformat()},9.00,Cup\n" for c in range(600))
    world.load(FileKind.PURCHASES, PURCHASES + long + short, NOW)
    with world.store() as session, recorded(session) as seen:
        world.run(NOW)
    derived = [s for s, _ in seen if s.lstrip().startswith("WITH") and "INSERT INTO events" in s]
    assert derived and all("row_number" in s for s in derived)
    found = numbered(world)
    assert all(found["purchases"][f"L{k}"] == k + 1 for k in range(1000))
    assert all(found["purchases"][f"S{c}"] == 1 for c in range(600))
    assert found["milestones"] == {f"L{n - 1}": n for n in (10, 25, 50, 100, 250, 500, 1000)}


def numbered(world: World) -> dict[str, dict[str, int]]:
    """The number each derived purchase and milestone event gives its order."""
    with world.store() as session:
        found = session.execute(
            select(Event.type, Event.payload["order_id"].as_string(), Event.payload["n"])
        ).all()
    kinds = {"purchase.first": "purchases", "purchase.repeat": "purchases"}
    out: dict[str, dict[str, int]] = {"purchases": {}, "milestones": {}}
    for kind, order, n in found:
        if kind in kinds or kind == "client.milestone":
            out[kinds.get(kind, "milestones")][order] = int(n)
    return out

"""The demo's inbox: a few days of mail from Kade Koffie's clients, and its response targets.

C-0002, the 20-year café whose mornings depend on its espresso machine, writes inside its
critical window (08:00–10:00 on weekdays, a 30-minute target); wholesale clients are owed an answer
within 4 business hours, everyone else within 8. One thread is answered and the client wrote
back, one waits on the client, one came from someone unknown (a new lead), one is HTML only, one
is an out-of-office reply, and one arrived while the shop was closed.

Whoever writes about an order, an invoice or a grinder is a client who has one: the cast is
read from the demo's own files (:func:`cast`), so the stories hold for any seed and any day.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from goodwill.demo.business import BUSINESS_ZONE, DemoFiles

DEMO_SLA = """\
warn_at = 0.75

[[policy]]
name = "wholesale"
tags = ["wholesale"]
calendar = "business"
first_response = "4h"
next_response = "4h"

[[policy]]
name = "everyone"
calendar = "business"
first_response = "8h"
next_response = "8h"

[[critical_window]]
client = "C-0002"
days = "mon-fri"
hours = "08:00-10:00"
timezone = "Europe/Amsterdam"
first_response = "30m"
next_response = "30m"
"""

SHOP = "care@kadekoffie.example"


@dataclass(frozen=True)
class DemoMail:
    """A message as it arrived at ``at``; ``answer``: what the shop replied an hour later."""

    raw: bytes
    at: datetime
    answer: str | None = None


def write_demo_sla(directory: Path) -> Path:
    """The demo's SLA file, shared by every demo run: replaced whole, so a demo starting while
    another reads it never sees half a file."""
    path = directory / "demo-sla.toml"
    fresh = directory / f"demo-sla.toml.{os.getpid()}"
    fresh.write_text(DEMO_SLA, encoding="utf-8")
    os.replace(fresh, path)
    return path


Row = dict[str, str]


@dataclass(frozen=True)
class Bought:
    """A client's order as the demo's files hold it: the day (the business's), id, first line."""

    day: date
    order_id: str
    channel: str
    product: str


@dataclass(frozen=True)
class Cast:
    """Who plays which part in the demo's mail and incidents, chosen so each story holds."""

    people: dict[str, Row]
    orders: dict[str, list[Bought]]  # by client id, oldest first
    cafe: Row
    invoiced: Row  # a wholesale client who was sent an invoice last month
    invoice_month: str  # "last month", or the month of their latest invoice
    waiting: Row  # a home client whose latest order, from the web shop, is days old
    waiting_order: Bought
    grinder: Row  # a home client who bought a grinder
    home: list[Row]  # the other home clients with an email address, in id order


def cast(files: DemoFiles, *, now: datetime) -> Cast:
    """Pick the demo's characters from its files as they are on ``now``'s day."""
    today = now.astimezone(BUSINESS_ZONE).date()
    people = {row["client_id"]: row for row in _rows(files.clients)}
    orders: dict[str, list[Bought]] = {}
    seen: set[str] = set()
    for row in _rows(files.purchases):
        if row["order_id"] in seen:
            continue  # the next line of the same order
        seen.add(row["order_id"])
        day = datetime.fromisoformat(row["occurred_at"]).astimezone(BUSINESS_ZONE).date()
        bought = Bought(day, row["order_id"], row["channel"], row["product"])
        orders.setdefault(row["client_id"], []).append(bought)
    invoices: dict[str, list[date]] = {}
    for row in _rows(files.payments):
        invoices.setdefault(row["client_id"], []).append(date.fromisoformat(row["issued_at"]))
    home = [r for r in people.values() if r["email"] and not r.get("tags")]
    waiting = _waiting(home, orders, today)
    grinder = next(
        (
            r
            for r in home
            if r is not waiting
            and any(b.product == "Hand grinder" for b in orders.get(r["client_id"], []))
        ),
        next(r for r in home if r is not waiting),
    )
    previous = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    wholesale = [
        r
        for r in people.values()
        if r.get("tags") == "wholesale" and r["email"] and r["client_id"] != "C-0002"
    ]

    def months(row: Row) -> set[date]:
        return {d.replace(day=1) for d in invoices.get(row["client_id"], [])}

    invoiced = next(
        (r for r in wholesale if previous in months(r)),
        max(wholesale, key=lambda r: max(months(r), default=date.min)),  # none last month
    )
    month = previous if previous in months(invoiced) else max(months(invoiced), default=previous)
    return Cast(
        people=people,
        orders=orders,
        cafe=people["C-0002"],
        invoiced=invoiced,
        invoice_month="last month" if month == previous else f"{month:%B %Y}",
        waiting=waiting,
        waiting_order=orders[waiting["client_id"]][-1],
        grinder=grinder,
        home=[r for r in home if r is not waiting and r is not grinder],
    )


def _waiting(home: list[Row], orders: dict[str, list[Bought]], today: date) -> Row:
    """The home client whose latest order came through the web shop between 2 and 13 days
    ago, last week's first; else the one whose web-shop order is the most recent."""
    monday = today - timedelta(days=today.weekday())

    def rank(row: Row) -> tuple[int, int]:
        last = orders.get(row["client_id"], [])[-1:]
        if not last or last[0].channel != "web shop":
            return (3, 0)
        age = (today - last[0].day).days
        fits = 0 if monday - timedelta(days=7) <= last[0].day < monday else 1
        return (fits if 2 <= age <= 13 else 2, age)

    return min(home, key=rank)


def order_words(day: date, today: date) -> str:
    """How a client names the day of their order: "last week", "this week", or the date."""
    monday = today - timedelta(days=today.weekday())
    if monday - timedelta(days=7) <= day < monday:
        return "last week"
    if monday <= day:
        return "this week"
    return f"{day.day} {day:%B}"


def demo_mail(files: DemoFiles, *, now: datetime) -> list[DemoMail]:
    """The demo's messages, oldest first, all before ``now``."""
    who_is = cast(files, now=now)
    cafe, wholesale, home = who_is.cafe, who_is.invoiced, who_is.home
    today = now.astimezone(BUSINESS_ZONE).date()
    waited = who_is.waiting_order
    out: list[DemoMail] = []

    def add(
        person: tuple[str, str],
        subject: str,
        body: str,
        ago: timedelta,
        *,
        ident: str,
        reply_to: str | None = None,
        html: bool = False,
        auto: bool = False,
        answer: str | None = None,
    ) -> None:
        at = now - ago
        m = EmailMessage()
        m["From"] = f"{person[0]} <{person[1]}>"
        m["To"] = SHOP
        m["Subject"] = subject
        m["Date"] = format_datetime(at)
        m["Message-ID"] = f"<{ident}@mail.example>"
        if reply_to:
            m["In-Reply-To"] = f"<{reply_to}>"
            m["References"] = f"<{reply_to}>"
        if auto:
            m["Auto-Submitted"] = "auto-replied"
        if html:
            m.set_content(body, subtype="html")
        else:
            m.set_content(body)
        out.append(DemoMail(m.as_bytes(), at, answer))

    def who(row: dict[str, str]) -> tuple[str, str]:
        return row["name"], row["email"]

    bought = next(
        (
            b.day
            for b in who_is.orders.get(who_is.grinder["client_id"], [])
            if b.product == "Hand grinder"
        ),
        None,
    )
    when = f" in {bought:%B}" if bought and (today - bought).days < 300 else ""
    add(
        who(who_is.grinder),
        "Grinder makes a rattling noise",
        f"Hi, the grinder I bought from you{when} started rattling this week. Is that under "
        "warranty?\n\nThanks,\n" + who_is.grinder["name"],
        timedelta(days=2, hours=3),
        ident="demo-1",
        answer="Bring it by, we will look at it while you wait.",
    )
    add(
        who(who_is.grinder),
        "Re: Grinder makes a rattling noise",
        "Thanks, I can bring it in on Saturday.\n\nOn the shop's reply:\n> Bring it by, we "
        "will look at it while you wait.\n",
        timedelta(minutes=40),
        ident="demo-2",
        reply_to="demo-1@mail.example",
    )
    month = who_is.invoice_month
    add(
        who(wholesale),
        f"Invoice copy for {month}",
        f"Could you send a copy of {'last month' if month == 'last month' else month}'s invoice? "
        "Our accountant needs it by Friday.",
        timedelta(hours=6),
        ident="demo-3",
    )
    add(
        ("Noor Visser", "noor.visser@mail.example"),
        "Coffee for our office?",
        "Hello, we are 25 people and looking for a bean supplier. Do you deliver weekly?",
        timedelta(hours=5),
        ident="demo-4",
    )
    add(
        who(who_is.waiting),
        "Order did not arrive",
        f"<p>Hi!</p><p>My order from {order_words(waited.day, today)} has <b>not arrived</b> "
        f"yet.</p><table><tr><td>Order {waited.order_id}</td><td>{waited.product}</td></tr>"
        "</table>",
        timedelta(hours=3),
        ident="demo-5",
        html=True,
    )
    add(
        who(home[0]),
        "Automatic reply: newsletter",
        "I am away until Monday.",
        timedelta(hours=2),
        ident="demo-6",
        auto=True,
    )
    add(
        who(cafe),
        "Espresso machine down — opening at 10",
        "Good morning, our machine shows a pressure error and we cannot serve coffee. We open "
        "at 10:00. Can someone come by or call us? This is urgent for us.\n\n-- \n" + cafe["name"],
        now - _last_weekday_morning(now),
        ident="demo-7",
    )
    return sorted(out, key=lambda m: m.at)


def _last_weekday_morning(now: datetime) -> datetime:
    """08:40 in Amsterdam on the latest weekday at or before ``now``: inside C-0002's window."""
    zone = ZoneInfo("Europe/Amsterdam")
    local = now.astimezone(zone)
    day = local.date() if local.time() >= time(8, 40) else local.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(8, 40), tzinfo=zone)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


@dataclass(frozen=True)
class DemoIncident:
    """A mistake of the demo's past: opened ``days`` ago (fractions for hours) for a client by
    their id; the steps taken; ``resolved``: how it ended; ``closed``: closed as well (with
    ``reason`` when a step is missing)."""

    client: str
    what: str
    cause: str
    days: float
    message: str | None = None
    partner: str | None = None
    cost: str | None = None
    steps: tuple[str, ...] = ()
    restated: str | None = None
    resolved: str | None = None
    option_index: int | None = None  # which offered option was chosen
    closed: bool = False
    reason: str | None = None


def demo_incidents(files: DemoFiles, *, now: datetime) -> list[DemoIncident]:
    """The demo's incidents, oldest first: a year of recoveries ending in several ways, a
    courier losing parcels three times in three weeks (a systemic failure), and this morning's
    café whose machine broke before opening (the one on the board to act on). Each went wrong
    with an order the client had placed shortly before, from the web shop."""
    who_is = cast(files, now=now)
    today = now.astimezone(BUSINESS_ZONE).date()
    taken: set[str] = set()

    def buyer(days: float, product: str | None = None) -> str:
        """A home client not cast yet whose web-shop order came 1 to 14 days before the
        incident (of ``product`` when one did); the first one left when nobody's did."""
        on = today - timedelta(days=days)

        def fits(row: Row, wanted: str | None) -> bool:
            return any(
                1 <= (on - b.day).days <= 14
                and b.channel == "web shop"
                and wanted in (None, b.product)
                for b in who_is.orders.get(row["client_id"], [])
            )

        left = [r for r in who_is.home if r["client_id"] not in taken]
        found = next(
            (r for r in left if fits(r, product)),
            next((r for r in left if fits(r, None)), left[0]),
        )
        taken.add(found["client_id"])
        return found["client_id"]

    waited = who_is.waiting_order
    morning = (now - _last_weekday_morning(now)).total_seconds() / 86400
    cafe_words = (
        "Good morning, our machine shows a pressure error and we cannot serve coffee. We open "
        "at 10:00. Can someone come by or call us? This is urgent for us."
    )
    every = ("listen", "restate", "own", "offer")
    return [
        DemoIncident(
            buyer(300, "House Blend 1 kg"),
            "a 1 kg bag arrived ground instead of whole beans",
            "wrong grind",
            300,
            steps=every,
            restated="You asked for whole beans and got ground.",
            resolved="sent a new bag the same day",
            option_index=0,
            closed=True,
        ),
        DemoIncident(
            "C-0007",
            "the tour guide did not turn up for the tasting tour",
            "guide no-show",
            210,
            partner="CityTrips",
            cost="78",
            message="We waited 40 minutes for the guide on our anniversary trip.",
            steps=every,
            restated="Your guide never came, on your anniversary trip.",
            resolved="a private tour the next morning",
            option_index=0,
            closed=True,
        ),
        DemoIncident(
            buyer(150),
            "beans were stale on arrival",
            "stale beans",
            150,
            steps=("listen", "own"),
            resolved="refunded",
            option_index=None,
            closed=True,
            reason="the client did not answer our calls",
        ),
        DemoIncident(
            buyer(95, "Descaling kit"),
            "descaling kit missing from the order",
            "packing",
            95,
            steps=every,
            restated="The kit was not in the box.",
            resolved="sent the kit by post",
            option_index=0,
            closed=True,
        ),
        DemoIncident(
            buyer(60, "Hand grinder"),
            "the grinder was delivered with a cracked hopper",
            "damaged in transit",
            60,
            steps=every,
            restated="The hopper arrived cracked.",
            resolved="a new hopper delivered",
            option_index=0,
        ),
        DemoIncident(
            buyer(21),
            "the courier lost the parcel",
            "courier lost parcel",
            21,
            steps=every,
            restated="Your parcel never came.",
            resolved="sent a replacement by express",
            option_index=0,
        ),
        DemoIncident(
            buyer(9),
            "the courier lost the parcel",
            "courier lost parcel",
            9,
            steps=("listen", "own"),
        ),
        DemoIncident(
            who_is.waiting["client_id"],
            "the courier lost the parcel",
            "courier lost parcel",
            0.12,
            message=f"My order from {order_words(waited.day, today)} has not arrived yet.",
            steps=("listen",),
        ),
        DemoIncident(
            "C-0002",
            "the espresso machine we serviced shows a pressure error",
            "machine service",
            morning,
            message=cafe_words,
            steps=("listen",),
        ),
    ]

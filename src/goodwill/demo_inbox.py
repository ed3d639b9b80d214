"""The demo's inbox: a few days of mail from Kade Koffie's clients, and its response targets.

C-0002, the 20-year café whose mornings depend on its espresso machine, writes inside its
critical window (08:00–10:00 on weekdays, a 30-minute target); wholesale clients are owed an answer
within 4 business hours, everyone else within 8. One thread is answered and the client wrote
back, one waits on the client, one came from someone unknown (a new lead), one is HTML only, one
is an out-of-office reply, and one arrived while the shop was closed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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
    path = directory / "demo-sla.toml"
    path.write_text(DEMO_SLA, encoding="utf-8")
    return path


def demo_mail(clients_csv: Path, *, now: datetime) -> list[DemoMail]:
    """The demo's messages, oldest first, all before ``now``."""
    people = {row["client_id"]: row for row in _rows(clients_csv)}
    cafe = people["C-0002"]
    wholesale = next(
        r
        for r in people.values()
        if r.get("tags") == "wholesale" and r["email"] and r["client_id"] != "C-0002"
    )
    home = [r for r in people.values() if r["email"] and not r.get("tags")][:4]
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

    add(
        who(home[0]),
        "Grinder makes a rattling noise",
        "Hi, the grinder I bought in spring started rattling this week. Is that under "
        "warranty?\n\nThanks,\n" + home[0]["name"],
        timedelta(days=2, hours=3),
        ident="demo-1",
        answer="Bring it by, we will look at it while you wait.",
    )
    add(
        who(home[0]),
        "Re: Grinder makes a rattling noise",
        "Thanks, I can bring it in on Saturday.\n\nOn the shop's reply:\n> Bring it by, we "
        "will look at it while you wait.\n",
        timedelta(minutes=40),
        ident="demo-2",
        reply_to="demo-1@mail.example",
    )
    add(
        who(wholesale),
        "Invoice copy for last month",
        "Could you send a copy of last month's invoice? Our accountant needs it by Friday.",
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
        who(home[1]),
        "Order did not arrive",
        "<p>Hi!</p><p>My order from last week has <b>not arrived</b> yet.</p>"
        "<table><tr><td>Order</td><td>Beans 1 kg</td></tr></table>",
        timedelta(hours=3),
        ident="demo-5",
        html=True,
    )
    add(
        who(home[2]),
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


def demo_incidents(clients_csv: Path, *, now: datetime) -> list[DemoIncident]:
    """The demo's incidents, oldest first: a year of recoveries ending in several ways, a
    courier losing parcels three times in three weeks (a systemic failure), and this morning's
    café whose machine broke before opening (the one on the board to act on)."""
    people = {row["client_id"]: row for row in _rows(clients_csv)}
    home = [r["client_id"] for r in people.values() if r["email"] and not r.get("tags")]
    morning = (now - _last_weekday_morning(now)).total_seconds() / 86400
    cafe_words = (
        "Good morning, our machine shows a pressure error and we cannot serve coffee. We open "
        "at 10:00. Can someone come by or call us? This is urgent for us."
    )
    every = ("listen", "restate", "own", "offer")
    return [
        DemoIncident(
            home[5],
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
            home[6],
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
            home[7],
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
            home[8],
            "the grinder was delivered with a cracked hopper",
            "damaged in transit",
            60,
            steps=every,
            restated="The hopper arrived cracked.",
            resolved="a new hopper delivered",
            option_index=0,
        ),
        DemoIncident(
            home[9],
            "the courier lost the parcel",
            "courier lost parcel",
            21,
            steps=every,
            restated="Your parcel never came.",
            resolved="sent a replacement by express",
            option_index=0,
        ),
        DemoIncident(
            home[10],
            "the courier lost the parcel",
            "courier lost parcel",
            9,
            steps=("listen", "own"),
        ),
        DemoIncident(
            home[1],
            "the courier lost the parcel",
            "courier lost parcel",
            0.12,
            message="My order from last week has not arrived yet.",
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

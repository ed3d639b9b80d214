"""Demo data: six years of a small coffee roaster's clients, orders and invoices, as import files.

The demo business is Kade Koffie, a fictional specialty coffee roaster in Amsterdam. It sells
beans, tea and brewing equipment to home customers (web shop, the shop on the canal, phone orders),
supplies cafés and offices on invoice, services espresso machines, and runs tasting tours that
tourists book through a partner site. Everyone in the files is fictional.

The files are in the canonical import formats and show every story goodwill must handle: regular
monthly and weekly buyers, occasional and one-time buyers, clients who drifted away, leads, late
payers, partner sales, birthdays and 20-year clients. A few showcase clients have fixed ids:

- C-0001 buys monthly and missed this month (last purchase 45 to 60 days before ``today``);
- C-0002 a 20-year café client with a morning critical window and a birthday this month;
- C-0003 a 20-year client whose last purchase was about two years ago;
- C-0004 an invoiced client who just paid late for the second time;
- C-0005 pays late often; C-0006 has an unpaid invoice past its due date;
- C-0007 books through the CityTrips partner; C-0008 drifted away; C-0009 is a lead.

The same seed and ``today`` give byte-identical files.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from goodwill.domain.records import COLUMNS, FileKind

__all__ = [
    "CLIENT_COLUMNS",
    "DEMO_PASSWORD",
    "DEMO_STAFF",
    "PAYMENT_COLUMNS",
    "PURCHASE_COLUMNS",
    "DemoFiles",
    "write_demo_files",
]

#: Every canonical clients column: the client id and name first, then the optional ones.
CLIENT_COLUMNS = (
    "client_id",
    *COLUMNS[FileKind.CLIENTS][0],
    *(c for c in COLUMNS[FileKind.CLIENTS][1] if c != "client_id"),
)

#: The demo's staff: (email, name, role, hometown); they own the clients and log in with
#: DEMO_PASSWORD.
DEMO_STAFF = (
    ("owner@demo.goodwill.example", "Olivia Owner", "owner", "Utrecht"),
    ("sam@demo.goodwill.example", "Sam Staff", "staff", "Groningen"),
)
DEMO_PASSWORD = "goodwill-demo"

PURCHASE_COLUMNS = (
    "order_id",
    "client_id",
    "client_name",
    "email",
    "occurred_at",
    "amount",
    "currency",
    "product",
    "category",
    "channel",
)
PAYMENT_COLUMNS = (
    "invoice_id",
    "client_id",
    "amount",
    "currency",
    "issued_at",
    "due_date",
    "paid_at",
)

BUSINESS_ZONE = ZoneInfo("Europe/Amsterdam")
HISTORY_DAYS = 6 * 365 + 1
PAYMENT_TERM = timedelta(days=30)
CITYTRIPS, NORTHWIND, BOLDER = (
    "Booking partner: CityTrips",
    "Reseller: Northwind",
    "Marketplace partner: Bolder",
)

FIRST = (
    "Anouk",
    "Sem",
    "Fatima",
    "Daan",
    "Mei",
    "Lucas",
    "Priya",
    "Jens",
    "Amara",
    "Bram",
    "Sofia",
    "Youssef",
    "Ingrid",
    "Tomasz",
    "Chloé",
    "Kwame",
    "Lieke",
    "Mateo",
    "Hana",
    "Ruben",
    "Noor",
    "Oskar",
    "Zeynep",
    "Thijs",
    "Aisha",
    "Pieter",
    "Elif",
    "Jan",
    "Marisol",
    "Koen",
    "Siobhan",
    "Rafael",
    "Femke",
    "Hiroshi",
    "Olga",
    "Milan",
    "Ayesha",
    "Joris",
    "Ines",
    "Dan",
    "Grace",
    "Wouter",
    "Leila",
    "Finn",
    "Camille",
    "Stefan",
    "Nadia",
    "Emeka",
)
LAST = (
    "de Vries",
    "Jansen",
    "Bakker",
    "El Amrani",
    "Visser",
    "Chen",
    "Smit",
    "Kowalski",
    "Mulder",
    "Okafor",
    "Meijer",
    "Y\u0131lmaz",
    "de Boer",
    "Nguyen",
    "Dekker",
    "Patel",
    "van Dijk",
    "García",
    "Bos",
    "Haddad",
    "Vos",
    "Lindqvist",
    "Peters",
    "Tanaka",
    "Hendriks",
    "O'Brien",
    "Koster",
    "Mensah",
    "Brouwer",
    "Rossi",
    "de Groot",
    "Schmidt",
    "Kaya",
    "van Leeuwen",
    "Dubois",
    "Singh",
    "Willems",
    "Novak",
    "Verhoeven",
    "Santos",
    "Hoekstra",
    "Ivanova",
    "Postma",
    "Müller",
    "Kuipers",
    "Ahmed",
    "Wouters",
    "Fernández",
)
TOWNS = {
    "Europe/Amsterdam": (
        "Amsterdam",
        "Haarlem",
        "Utrecht",
        "Rotterdam",
        "Leiden",
        "Zaandam",
        "Amstelveen",
        "Groningen",
        "Eindhoven",
        "Alkmaar",
    ),
    "Europe/Brussels": ("Antwerp", "Ghent"),
    "Europe/Berlin": ("Cologne", "Berlin"),
    "Europe/London": ("London", "Bristol"),
    "America/Denver": ("Denver", "Boulder"),
    "America/New_York": ("Brooklyn",),
    "Asia/Singapore": ("Singapore",),
}
ZONE_WEIGHTS = (80, 4, 5, 4, 3, 2, 2)
#: Postal addresses: the country and a postcode pattern per zone (# a digit, @ a letter).
POSTAL = {
    "Europe/Amsterdam": ("NL", "#### @@"),
    "Europe/Brussels": ("BE", "####"),
    "Europe/Berlin": ("DE", "#####"),
    "Europe/London": ("GB", "@@# #@@"),
    "America/Denver": ("US", "#####"),
    "America/New_York": ("US", "#####"),
    "Asia/Singapore": ("SG", "######"),
}
STREETS = {
    "NL": ("Prinsengracht", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Havenkade"),
    "BE": ("Kerkstraat", "Meir", "Veldstraat"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenweg"),
    "GB": ("High Street", "Station Road", "Church Lane"),
    "US": ("Pearl Street", "Maple Avenue", "Main Street"),
    "SG": ("Orchard Road", "Tanjong Pagar Road"),
}
PHONES = {
    "Europe/Amsterdam": ("+31 6", 8),
    "Europe/Brussels": ("+32 47", 7),
    "Europe/Berlin": ("+49 15", 8),
    "Europe/London": ("+44 77", 8),
    "America/Denver": ("+1 303", 7),
    "America/New_York": ("+1 718", 7),
    "Asia/Singapore": ("+65 9", 7),
}
INTERESTS = (
    "cycling",
    "jazz",
    "sailing",
    "football (Ajax)",
    "football (Feyenoord)",
    "gardening",
    "photography",
    "baking",
    "running",
    "chess",
    "birdwatching",
    "ceramics",
    "opera",
    "vintage bikes",
    "climbing",
    "board games",
    "latte art",
    "travel in Japan",
)
HOME_VALUES = (
    "remembering my usual order",
    "a quick reply when a delivery is late",
    "beans roasted no more than a week ago",
    "plastic-free packaging",
    "being called by name in the shop",
    "no sales calls, email only",
)
B2B_VALUES = (
    "being on time matters: it moves six figures of our daily cash flow",
    "beans must arrive before Friday: the weekend rush is half our turnover",
    "one invoice a month, not one per delivery",
    "a working machine before we open at 7",
    "the same roast profile every time: our regulars notice",
)
HOME_NOTES = (
    "prefers a coarser grind for French press",
    "has a dog who comes into the shop",
    "asked about the roastery tour",
    "buys gifts in December",
    "lactose intolerant",
    "moved house last year",
)
B2B_NOTES = (
    "runs a small espresso bar with a two-group machine",
    "office of about 40 people",
    "bakery with a coffee corner",
    "co-working space, two floors",
    "hotel breakfast room",
)


@dataclass(frozen=True)
class DemoFiles:
    """Where write_demo_files put the three import files."""

    clients: Path
    purchases: Path
    payments: Path


@dataclass(frozen=True)
class _Product:
    name: str
    category: str
    price: Decimal


def _p(name: str, category: str, price: str) -> _Product:
    return _Product(name, category, Decimal(price))


HOUSE, ESPRESSO_5KG, TOUR = (
    _p("House Blend 1 kg", "Coffee beans", "24.50"),
    _p("Espresso Blend 5 kg", "Coffee beans", "109.00"),
    _p("Coffee tasting tour (per person)", "Tours and training", "39.00"),
)
SERVICE_VISIT = _p("Espresso machine service visit", "Service", "145.00")
MACHINE = _p("Espresso machine, two groups", "Equipment", "4850.00")
HOME_STAPLES = (
    HOUSE,
    _p("Ethiopia Yirgacheffe 250 g", "Coffee beans", "12.90"),
    _p("Colombia Huila 1 kg", "Coffee beans", "31.00"),
    _p("Decaf Swiss Water 500 g", "Coffee beans", "15.75"),
    _p("Sencha 100 g", "Tea", "9.50"),
)
ADD_ONS = (
    _p("Earl Grey 250 g", "Tea", "11.25"),
    _p("Hand grinder", "Equipment", "89.00"),
    _p("Pour-over kettle", "Equipment", "54.95"),
    _p("V60 dripper set", "Equipment", "32.50"),
    _p("Milk pitcher 600 ml", "Equipment", "19.95"),
    _p("Descaling kit", "Service", "18.50"),
    _p("Barista training (half day)", "Tours and training", "275.00"),
)
ADD_ON_WEIGHTS = (30, 6, 5, 10, 12, 15, 2)


@dataclass
class _Client:
    """One client's plan: the clients.csv row plus what drives their orders and payments."""

    row: dict[str, str]
    dates: list[date] = field(default_factory=list)
    b2b: bool = False
    partner: str | None = None
    staple: _Product = HOUSE
    late_rate: float = 0.02
    paid_late: dict[date, date] = field(default_factory=dict)  # issued on -> paid on
    unpaid_last: bool = False


def write_demo_files(
    directory: Path, *, seed: int = 7, today: date, clients: int = 300
) -> DemoFiles:
    """Write clients.csv, purchases.csv and payments.csv for ``clients`` clients into ``directory``.

    History covers the six years before ``today``; nothing happens after ``today`` (due dates of
    open invoices may). Needs at least 20 clients so every showcase client fits.
    """
    if clients < 20:
        raise ValueError(f"the demo needs at least 20 clients, not {clients}")
    rng = random.Random(seed)
    plans = _plan_clients(rng, today, clients)
    purchases, orders = _purchases(rng, plans)
    payments = _payments(rng, today, orders)
    directory.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        directory / "clients.csv", directory / "purchases.csv", directory / "payments.csv"
    )
    _write(files.clients, CLIENT_COLUMNS, [[c.row[k] for k in CLIENT_COLUMNS] for c in plans])
    _write(files.purchases, PURCHASE_COLUMNS, purchases)
    _write(files.payments, PAYMENT_COLUMNS, payments)
    return files


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def _plan_clients(rng: random.Random, today: date, count: int) -> list[_Client]:
    start = today - timedelta(days=HISTORY_DAYS)
    yesterday = today - timedelta(days=1)

    def years_ago(n: int) -> date:
        return date(today.year - n, rng.randint(1, 12), rng.randint(1, 28))

    showcase = [
        "missed",
        "twenty",
        "twenty_gone",
        "late_twice",
        "late_often",
        "unpaid",
        "partner",
        "drifted",
        "lead",
    ]
    rest = count - len(showcase)
    shares = {"monthly": 0.14, "weekly": 0.02, "drifted": 0.09, "one_time": 0.2, "lead": 0.12}
    segments = [s for s, share in shares.items() for _ in range(round(rest * share))]
    segments += ["occasional"] * (rest - len(segments))
    rng.shuffle(segments)
    people = _people(rng, count)
    plans: list[_Client] = []
    for number, (segment, (name, local)) in enumerate(
        zip(showcase + segments, people, strict=True), start=1
    ):
        zone = rng.choices(list(TOWNS), ZONE_WEIGHTS)[0]
        prefix, digits = PHONES[zone]
        c = _Client(
            row={
                "client_id": f"C-{number:04d}",
                "name": name,
                "timezone": zone,
                "hometown": rng.choice(TOWNS[zone]),
                "client_since": "",
                "owner": DEMO_STAFF[0][0],
                "contact_window": "",
                "tags": "",
                # Two in three said yes to news by mail at the till; the rest were never asked.
                "marketing_consent": "" if number % 3 == 0 else "yes",
                "phone": f"{prefix} {rng.randrange(2 * 10 ** (digits - 1), 10**digits)}",
            }
        )
        _address(c.row, zone, number, lead=segment == "lead")
        c.b2b = segment in {"twenty", "late_twice", "late_often", "unpaid"} or rng.random() < {
            "weekly": 0.8,
            "one_time": 0.1,
            "lead": 0.0,
        }.get(segment, 0.45)
        begin = start + timedelta(days=rng.randint(0, HISTORY_DAYS - 400))
        if segment in {"monthly", "occasional", "drifted"} and rng.random() < 0.07:
            begin = start + timedelta(days=rng.randint(0, 20))  # the export starts mid-relationship
            c.row["client_since"] = years_ago(rng.randint(7, 22)).isoformat()
        if segment in {"occasional", "one_time"} and rng.random() < 0.35:
            begin = today - timedelta(days=rng.randint(7, 360))  # a growing web shop's newcomers
        recent = today - timedelta(days=rng.randint(1, 28))
        gone = today - timedelta(days=rng.randint(380, 730))
        if segment == "missed":
            c.dates = _rhythm(
                rng,
                start + timedelta(days=400),
                today - timedelta(days=rng.randint(45, 60)),
                30,
                2.5,
            )
        elif segment == "twenty":
            c.row["client_since"] = years_ago(20).isoformat()
            c.dates = _rhythm(rng, start, recent, 21, 3)
        elif segment == "twenty_gone":
            c.row["client_since"] = years_ago(21).isoformat()
            c.dates = _scattered(rng, start, today - timedelta(days=rng.randint(700, 760)), 5)
        elif segment in {"monthly", "late_twice"}:
            c.dates = _rhythm(rng, begin if segment == "monthly" else start, recent, 30, 3)
        elif segment == "weekly":
            c.dates = _rhythm(rng, max(begin, today - timedelta(days=700)), recent, 7, 1)
        elif segment == "late_often":
            c.dates = _rhythm(rng, begin, recent, 60, 8)
        elif segment == "unpaid":
            c.dates = _rhythm(rng, begin, today - timedelta(days=rng.randint(48, 55)), 45, 7)
        elif segment == "drifted":
            first = max(start, gone - timedelta(days=rng.randint(330, 1300)))
            c.dates = _rhythm(rng, first, gone, rng.choice((21, 30, 45)), 3)
        elif segment in {"occasional", "partner"}:
            c.dates = _scattered(rng, begin, yesterday, rng.uniform(1, 4))
        elif segment == "one_time":
            span = max(0, min(399, (yesterday - begin).days))
            c.dates = [begin + timedelta(days=rng.randint(0, span))]
        _personalise(rng, c, segment, today, local)
        plans.append(c)
    return plans


def _personalise(rng: random.Random, c: _Client, segment: str, today: date, local: str) -> None:
    """Fill in the personal facts, partner, staple product and payment habits of one client."""
    row = c.row
    if c.b2b:
        row["owner"], row["tags"] = DEMO_STAFF[1][0], "wholesale"
        if rng.random() < 0.3:
            row["contact_window"] = "mon-fri 09:00-12:00"
        c.staple = ESPRESSO_5KG if rng.random() < 0.6 else HOUSE
        c.partner = NORTHWIND if rng.random() < 0.15 else None
        c.late_rate = rng.choice((0.0, 0.0, 0.01, 0.02, 0.03, 0.1))
    else:
        c.staple = rng.choice(HOME_STAPLES)
        if segment == "partner" or (segment == "one_time" and rng.random() < 0.35):
            c.partner, c.staple = CITYTRIPS, TOUR
        elif segment == "occasional" and rng.random() < 0.1:
            c.partner = BOLDER
    month = rng.randint(1, 12)
    if segment in {"twenty", "partner"}:  # birthday touches this month and next month
        month = (today.month - 1 + (segment == "partner")) % 12 + 1
    year = today.year - rng.randint(24, 75)
    if row["client_since"]:  # old enough to have been a client back then
        year = min(year, int(row["client_since"][:4]) - rng.randint(22, 40))
    kind = rng.random()
    row["birthday"] = (
        ""
        if kind < 0.25 and segment not in {"twenty", "partner"}
        else f"--{month:02d}{rng.randint(1, 28):02d}"
        if kind < 0.4
        else date(year, month, rng.randint(1, 28)).isoformat()
    )
    row["email"] = f"{local}@{rng.choice(('example.com', 'example.net', 'example.org'))}"
    row["interests"] = ";".join(rng.sample(INTERESTS, rng.choice((0, 1, 1, 2, 3))))
    row["values"] = rng.choice(B2B_VALUES if c.b2b else HOME_VALUES) if rng.random() < 0.3 else ""
    row["notes"] = rng.choice(B2B_NOTES if c.b2b else HOME_NOTES) if rng.random() < 0.35 else ""
    if segment == "lead":
        row["notes"] = rng.choice(
            (
                "asked for the wholesale price list via the web form",
                "called about a machine for a new café",
                "signed up for the newsletter at a market stall",
            )
        )
    elif segment == "twenty":
        row["values"] = (
            "fast answers before 10:00: a broken machine in the morning rush costs us the day"
        )
        row["notes"] = "runs Café De Kade; first order was a bag of beans for the opening in 2006"
        row["contact_window"] = "mon-fri 08:00-10:00"
    elif segment == "late_twice":
        c.late_rate = 0.0
        first, second = (_latest(c.dates, today - timedelta(days=n)) for n in (400, 70))
        c.paid_late = {
            first: first + timedelta(days=rng.randint(35, 50)),
            second: today - timedelta(days=rng.randint(2, 9)),
        }
    elif segment == "late_often":
        c.late_rate = 0.4
    elif segment == "unpaid":
        c.late_rate, c.unpaid_last = 0.0, True
    elif segment == "partner":
        c.partner, c.staple = CITYTRIPS, TOUR


def _address(row: dict[str, str], zone: str, number: int, *, lead: bool) -> None:
    """A postal address for most clients (leads and one in eight others have none on file),
    from a generator of its own so the rest of the demo stays as it was."""
    pick = random.Random(number * 7919 + 17)
    if lead or pick.random() < 0.125:
        row.update(street="", postcode="", city="", region="", country="")
        return
    country, pattern = POSTAL[zone]
    postcode = "".join(
        str(pick.randint(1, 9)) if ch == "#" else chr(pick.randint(65, 90)) if ch == "@" else ch
        for ch in pattern
    )
    street = f"{pick.choice(STREETS[country])} {pick.randint(1, 180)}"
    if country in ("GB", "US", "SG"):
        street = f"{pick.randint(1, 180)} {street.rsplit(' ', 1)[0]}"
    row.update(street=street, postcode=postcode, city=row["hometown"], region="", country=country)


def _latest(dates: Sequence[date], cutoff: date) -> date:
    """The last of ``dates`` on or before ``cutoff``."""
    return max(d for d in dates if d <= cutoff)


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Fictional full names with unique email local parts, combined from the hand-made lists."""
    pairs = [(f, last) for f in FIRST for last in LAST]
    rng.shuffle(pairs)
    people: list[tuple[str, str]] = []
    taken: set[str] = set()
    for i in range(count):
        first, last = pairs[i % len(pairs)]
        base = _ascii(f"{first}.{last}")
        local, n = base, 1
        while local in taken:
            n += 1
            local = f"{base}{n}"
        taken.add(local)
        people.append((f"{first} {last}", local))
    return people


def _ascii(text: str) -> str:
    dotless = text.replace("\u0131", "i")  # NFKD keeps the Turkish dotless i as it is
    plain = unicodedata.normalize("NFKD", dotless).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower().replace(" ", "") if ch.isalnum() or ch == ".")


def _rhythm(rng: random.Random, first: date, last: date, every: int, jitter: float) -> list[date]:
    """Purchase dates from ``last`` back to ``first``, about ``every`` days apart."""
    dates = [last]
    while True:
        gap = max(every // 2, round(rng.gauss(every, jitter)))
        if every >= 21 and rng.random() < 0.04:
            gap += every  # a skipped cycle now and then
        if dates[-1] - timedelta(days=gap) < first:
            return dates[::-1]
        dates.append(dates[-1] - timedelta(days=gap))


def _scattered(rng: random.Random, first: date, last: date, per_year: float) -> list[date]:
    """Irregular purchase dates between ``first`` and ``last``, ``per_year`` on average."""
    dates: list[date] = []
    day = first + timedelta(days=rng.randint(0, 60))
    while day <= last:
        dates.append(day)
        day += timedelta(days=1 + round(rng.expovariate(per_year / 365)))
    return dates or [min(first, last)]


def _purchases(
    rng: random.Random, plans: Sequence[_Client]
) -> tuple[list[list[str]], list[tuple[datetime, _Client, Decimal]]]:
    """The purchase rows in time order, and each order's moment, client and total."""
    drafts: list[tuple[datetime, _Client, str, list[tuple[_Product, int]]]] = []
    for c in plans:
        for day in c.dates:
            # tours are only booked through CityTrips; other partners sell most of their orders
            channel = (
                c.partner
                if c.partner and (c.staple is TOUR or rng.random() < 0.8)
                else rng.choices(
                    ("web shop", "store", "phone"), (50, 10, 40) if c.b2b else (60, 35, 5)
                )[0]
            )
            opens, hours = {"web shop": (7, 16), "store": (9, 9), "phone": (8, 9)}.get(
                channel, (8, 14)
            )
            clock = time(opens + rng.randrange(hours), rng.randrange(0, 60, 5))
            moment = datetime.combine(day, clock, BUSINESS_ZONE)
            qty = rng.randint(2, 6) if c.b2b else rng.choice((1, 1, 1, 2, 2, 4))
            lines = [(c.staple, qty)]
            for _ in range(rng.choices((0, 1, 2), (76, 18, 6))[0]):
                extra = rng.choices(ADD_ONS, ADD_ON_WEIGHTS)[0]
                if extra not in (item for item, _ in lines):
                    lines.append((extra, 1))
            if c.b2b and rng.random() < 0.03:
                lines.append((SERVICE_VISIT, 1))
            if c.b2b and rng.random() < 0.003:
                lines.append((MACHINE, 1))
            drafts.append((moment, c, channel, lines))
    drafts.sort(key=lambda d: (d[0], d[1].row["client_id"]))
    rows: list[list[str]] = []
    orders: list[tuple[datetime, _Client, Decimal]] = []
    for number, (moment, c, channel, lines) in enumerate(drafts, start=1):
        total = Decimal(0)
        for product, qty in lines:
            amount = product.price * qty
            total += amount
            rows.append(
                [
                    f"KK-{number:06d}",
                    c.row["client_id"],
                    c.row["name"],
                    c.row["email"],
                    moment.isoformat(),
                    f"{amount:.2f}",
                    "EUR",
                    product.name,
                    product.category,
                    channel,
                ]
            )
        orders.append((moment, c, total))
    return rows, orders


def _payments(
    rng: random.Random, today: date, orders: Sequence[tuple[datetime, _Client, Decimal]]
) -> list[list[str]]:
    """One invoice per order of an invoiced (B2B) client, due after 30 days, mostly paid on time."""
    rows: list[list[str]] = []
    for moment, c, total in (o for o in orders if o[1].b2b):
        issued = moment.date()
        due = issued + PAYMENT_TERM
        late = rng.random() < c.late_rate
        paid: date | None = (
            due + timedelta(days=rng.randint(3, 21))
            if late
            else issued + timedelta(days=rng.randint(2, 29))
        )
        if issued in c.paid_late:
            paid = c.paid_late[issued]
        elif c.unpaid_last and issued == c.dates[-1]:
            paid = None  # the one invoice past its due date that nobody has paid
        elif paid is not None and paid > today:
            paid = (
                None
                if due >= today
                else issued + timedelta(days=rng.randint(1, (due - issued).days))
            )
        rows.append(
            [
                f"INV-{len(rows) + 1:06d}",
                c.row["client_id"],
                f"{total:.2f}",
                "EUR",
                issued.isoformat(),
                due.isoformat(),
                paid.isoformat() if paid else "",
            ]
        )
    return rows

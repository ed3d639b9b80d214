"""A business with steady rhythms and a few clients who broke theirs, for the value and at-risk tests.

Thirty-two regulars buy every two to eight weeks, up to a recent purchase (enough clients for the
cadence watch's population prior and for the BTYD fits). Against them:

- Nora Quist bought every 30 days for over a year, 240 EUR each time, and stopped 75 days before
  NOW: two missed cycles, the biggest revenue at risk;
- Ivo Stahl bought every two weeks, 60 EUR each time, and stopped 40 days before NOW;
- Theo Brandt still buys coffee every month but stopped buying equipment (every 60 days);
- Lars Ek stopped 200 days ago: six missed cycles, lapsed (listed only with ``lapsed``);
- Lena Lead never bought; Otto Twice bought twice, too few for a rhythm;
- a dozen former regulars left one to three years ago, and some bought only once: without
  them nobody ever drops out and the BG/NBD model cannot be fitted.

Everything is in EUR and one engine pass at NOW fits the models and emits purchase.missed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client
from tests.web.sample import add_client, add_purchase, staff_user
from tests.web.touchpoints import run_engine

STOPPED = "C-0100"
STOPPED_NAME = "Nora Quist"
STOPPED_DAYS_AGO = 75
STOPPED_AMOUNT_MINOR = 24_000
STOPPED_TOO = "C-0105"
STOPPED_TOO_NAME = "Ivo Stahl"
CATEGORY_CLIENT = "C-0101"
CATEGORY_CLIENT_NAME = "Theo Brandt"
LAPSED = "C-0102"
LAPSED_NAME = "Lars Ek"
LEAD = "C-0103"
TOO_FEW = "C-0104"
REGULARS = 32
FORMER = 12
ONE_OFF = 24
SPREAD = 0.35
CURRENCY = "EUR"

_NAMES = [
    "Ada Moss",
    "Ben Ruiz",
    "Cleo Park",
    "Dario Neri",
    "Edith Lund",
    "Femi Ade",
    "Gus Mayer",
    "Hilde Roth",
    "Ivan Sokol",
    "Jade Fox",
    "Kai Berg",
    "Lior Katz",
    "Maya Sen",
    "Noel Hart",
    "Oona Kivi",
    "Pia Strom",
]


def regular_name(i: int) -> str:
    base = _NAMES[i % len(_NAMES)]
    return base if i < len(_NAMES) else f"{base} Jr"


def _series(
    session: Session,
    client_ref: str,
    name: str,
    *,
    now: datetime,
    last: datetime,
    every: float,
    count: int,
    amount_minor: int,
    rng: random.Random,
    category: str | None = None,
    prefix: str = "",
    client: Client | None = None,
    spread: float = 0.0,
) -> None:
    """``count`` purchases back from ``last``, ``every`` days apart (times a log-normal factor
    of sigma ``spread``, plus a day or so either way)."""
    target = client or add_client(session, external_id=client_ref, name=name, now=now)
    at = last
    for n in range(count):
        if n:
            gap = every * (rng.lognormvariate(0.0, spread) if spread else 1.0)
            at -= timedelta(days=gap + rng.uniform(-1.5, 1.5))
        add_purchase(
            session,
            target,
            order_id=f"{prefix}{client_ref}-{n:02d}",
            at=at,
            amount_minor=amount_minor + rng.randint(-5, 5) * 100,
            product=category or "Groceries",
            currency=CURRENCY,
            category=category,
        )


def rhythm_business(session: Session, *, now: datetime) -> None:
    """The owner, the regulars and the clients who broke their rhythm (see the module doc)."""
    rng = random.Random(35)  # a history both models fit well (not at an edge)
    staff_user(session, now=now)
    for i in range(REGULARS):
        every = [14, 21, 30, 45, 60][i % 5] + rng.uniform(-1, 1)
        _series(
            session,
            f"R-{i + 1:04d}",
            regular_name(i),
            now=now,
            last=now - timedelta(days=rng.uniform(1, every * 0.5)),
            every=every,
            count=rng.randint(8, 16),
            amount_minor=rng.randint(20, 90) * 100,
            rng=rng,
            spread=SPREAD,
        )
    for i in range(FORMER):
        every = [20, 30, 45][i % 3] + rng.uniform(-1, 1)
        _series(
            session,
            f"F-{i + 1:04d}",
            f"Former {regular_name(i)}",
            now=now,
            last=now - timedelta(days=rng.uniform(365, 1_100)),
            every=every,
            count=rng.randint(4, 12),
            amount_minor=rng.randint(20, 90) * 100,
            rng=rng,
            spread=SPREAD,
        )
    for i in range(ONE_OFF):
        _series(
            session,
            f"O-{i + 1:04d}",
            f"Once {regular_name(i)}",
            now=now,
            last=now - timedelta(days=rng.uniform(10, 900)),
            every=rng.uniform(20, 200),
            count=1 + i % 2,
            amount_minor=rng.randint(20, 90) * 100,
            rng=rng,
        )
    _series(
        session,
        STOPPED,
        STOPPED_NAME,
        now=now,
        last=now - timedelta(days=STOPPED_DAYS_AGO),
        every=30,
        count=14,
        amount_minor=STOPPED_AMOUNT_MINOR,
        rng=rng,
    )
    _series(
        session,
        STOPPED_TOO,
        STOPPED_TOO_NAME,
        now=now,
        last=now - timedelta(days=40),
        every=14,
        count=20,
        amount_minor=6_000,
        rng=rng,
    )
    theo = add_client(session, external_id=CATEGORY_CLIENT, name=CATEGORY_CLIENT_NAME, now=now)
    _series(
        session,
        CATEGORY_CLIENT,
        CATEGORY_CLIENT_NAME,
        now=now,
        last=now - timedelta(days=5),
        every=30,
        count=14,
        amount_minor=4_000,
        rng=rng,
        category="Coffee",
        client=theo,
    )
    _series(
        session,
        CATEGORY_CLIENT,
        CATEGORY_CLIENT_NAME,
        now=now,
        last=now - timedelta(days=150),
        every=60,
        count=8,
        amount_minor=30_000,
        rng=rng,
        category="Equipment",
        prefix="EQ-",
        client=theo,
    )
    _series(
        session,
        LAPSED,
        LAPSED_NAME,
        now=now,
        last=now - timedelta(days=200),
        every=30,
        count=10,
        amount_minor=9_000,
        rng=rng,
    )
    add_client(session, external_id=LEAD, name="Lena Lead", now=now)
    _series(
        session,
        TOO_FEW,
        "Otto Twice",
        now=now,
        last=now - timedelta(days=20),
        every=40,
        count=2,
        amount_minor=5_000,
        rng=rng,
    )


def seed_rhythms(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> None:
    """Write the business and run one engine pass as of ``now`` (fits the models)."""
    with store.begin() as session:
        rhythm_business(session, now=now)
    run_engine(store, settings, now=now)


#: More regulars who recently broke their rhythm: (name, every days, days since, EUR a purchase).
MORE_STOPPED = [
    ("Amelie Fournier", 21, 50, 95),
    ("Björn Sandvik", 45, 110, 310),
    ("Chiara Bellini", 14, 33, 42),
    ("Declan O'Rourke", 30, 70, 120),
    ("Esme Whitfield", 60, 150, 420),
    ("Farah Qureshi", 28, 64, 75),
    ("Grégoire Lemaire", 35, 90, 160),
    ("Hana Kobayashi", 18, 45, 58),
    ("Ines Albuquerque", 50, 125, 260),
]


def more_stopped(session: Session, *, now: datetime) -> None:
    """Add MORE_STOPPED (ids C-0200...), for a fuller At risk page in the screenshot."""
    rng = random.Random(4)  # with these, both models still fit
    for i, (name, every, since, euros) in enumerate(MORE_STOPPED):
        _series(
            session,
            f"C-{200 + i:04d}",
            name,
            now=now,
            last=now - timedelta(days=since),
            every=every,
            count=rng.randint(8, 14),
            amount_minor=euros * 100,
            rng=rng,
            spread=0.05,
        )

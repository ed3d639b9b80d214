"""The demo's mail and incidents add up with its files: whoever writes about an order, an invoice
or a grinder has one, and the README counts the clients the demo lists."""

from __future__ import annotations

import csv
import email
import email.policy
import inspect
import re
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.cli.serve import demo
from goodwill.demo import BUSINESS_ZONE, DemoFiles, demo_incidents, demo_mail, write_demo_files

TODAY = date(2026, 11, 23)  # a Monday
NOW = datetime.combine(TODAY, time(11), BUSINESS_ZONE).astimezone(UTC)
ROOT = Path(__file__).resolve().parent.parent


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _mail(files: DemoFiles, now: datetime) -> dict[str, EmailMessage]:
    by_subject: dict[str, EmailMessage] = {}
    for sent in demo_mail(files, now=now):
        message = email.message_from_bytes(sent.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        by_subject[str(message["Subject"])] = message
    return by_subject


def _sender(files: DemoFiles, message: EmailMessage) -> str:
    address = email.utils.parseaddr(str(message["From"]))[1]
    return next(c["client_id"] for c in _rows(files.clients) if c["email"] == address)


def _day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(BUSINESS_ZONE).date()


def _check_the_stories(files: DemoFiles, now: datetime) -> dict[str, str]:
    """Check every story against the files; what the order and invoice mails said."""
    today = now.astimezone(BUSINESS_ZONE).date()
    mail = _mail(files, now)
    purchases = _rows(files.purchases)
    # The client whose order has not arrived placed it, from the web shop, and nothing since.
    waiting = mail["Order did not arrive"]
    client = _sender(files, waiting)
    body = str(waiting.get_content())
    order_id = re.search(r"Order (KK-\d+)", body)
    assert order_id, body
    theirs = [p for p in purchases if p["client_id"] == client]
    order = [p for p in theirs if p["order_id"] == order_id.group(1)]
    assert order and order[0]["channel"] == "web shop"
    assert order[0]["product"] in body
    placed = _day(order[0]["occurred_at"])
    assert max(_day(p["occurred_at"]) for p in theirs) == placed
    said = re.search(r"My order from (.+?) has", body)
    assert said
    monday = today - timedelta(days=today.weekday())
    if said.group(1) == "last week":
        assert monday - timedelta(days=7) <= placed < monday
    elif said.group(1) == "this week":
        assert monday <= placed <= today
    else:
        assert said.group(1) == f"{placed.day} {placed:%B}"
    # The client asking for an invoice copy was sent one that month, and still buys.
    [subject] = [s for s in mail if s.startswith("Invoice copy for ")]
    asker = _sender(files, mail[subject])
    issued = [_day(p["issued_at"]) for p in _rows(files.payments) if p["client_id"] == asker]
    month = subject.removeprefix("Invoice copy for ")
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    wanted = last_month if month == "last month" else datetime.strptime(month, "%B %Y").date()
    assert wanted in {d.replace(day=1) for d in issued}
    last_bought = max(_day(p["occurred_at"]) for p in purchases if p["client_id"] == asker)
    assert (today - last_bought).days < 730  # not a former client
    # The incident about the lost parcel is the same client's, in the same words.
    lost = [i for i in demo_incidents(files, now=now) if i.message and "not arrived" in i.message]
    assert [i.client for i in lost] == [client]
    assert lost[0].message == f"My order from {said.group(1)} has not arrived yet."
    return {"order": said.group(1), "invoice": month}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo_files(tmp_path_factory.mktemp("demo"), today=TODAY)


def test_the_client_writing_about_last_weeks_order_placed_it_last_week(files: DemoFiles) -> None:
    assert _check_the_stories(files, NOW)["order"] == "last week"


def test_the_client_asking_for_last_months_invoice_was_sent_one_last_month(
    files: DemoFiles,
) -> None:
    assert _check_the_stories(files, NOW)["invoice"] == "last month"


def test_each_incident_about_an_order_follows_an_order_of_that_client(files: DemoFiles) -> None:
    orders: dict[str, list[date]] = {}
    for p in _rows(files.purchases):
        if p["channel"] == "web shop":
            orders.setdefault(p["client_id"], []).append(_day(p["occurred_at"]))
    about_orders = [
        i for i in demo_incidents(files, now=NOW) if i.client not in ("C-0002", "C-0007")
    ]
    assert len(about_orders) == 7
    for incident in about_orders:
        on = TODAY - timedelta(days=incident.days)
        assert any(0 <= (on - day).days <= 14 for day in orders[incident.client]), incident
    assert len({i.client for i in about_orders}) == len(about_orders)  # one mishap each


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    today=st.dates(date(2015, 1, 1), date(2040, 12, 31)),
    clients=st.integers(20, 80),
)
def test_any_seed_day_and_size_keep_the_stories_true(seed: int, today: date, clients: int) -> None:
    now = datetime.combine(today, time(11), BUSINESS_ZONE).astimezone(UTC)
    with tempfile.TemporaryDirectory() as directory:
        made = write_demo_files(Path(directory), seed=seed, today=today, clients=clients)
        _check_the_stories(made, now)


def test_the_readme_counts_the_clients_the_demo_lists(files: DemoFiles) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = re.search(r"a coffee roaster with (\d+) clients", readme)
    listed = re.search(r"so (\d+) in the list", readme)
    assert said and listed

    default = inspect.signature(demo).parameters["clients"].default
    known = {c["email"] for c in _rows(files.clients)}
    strangers = {
        email.utils.parseaddr(str(m["From"]))[1] for m in _mail(files, NOW).values()
    } - known
    assert int(said.group(1)) == default == len(_rows(files.clients))
    assert int(listed.group(1)) == default + len(strangers)

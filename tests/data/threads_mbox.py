"""Writes tests/data/threads.mbox: a season of a bike shop's support mail and its riders' club list.

Run: python -m tests.data.threads_mbox  (the same file every time: the choices are seeded).

What real mailboxes hold and threading must survive: list-like threads where several people
answer each other, roots missing from the file (written from a phone, never archived), mail
programs that keep only In-Reply-To, and clients whose program drops every header, so only the
subject says which thread they answer. Each message names the thread it was written in
(``X-Written-Thread``); the inbox never reads that header, the evaluation may.
"""

from __future__ import annotations

import mailbox
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

SHOP = ("Hollis Bikes", "care@hollisbikes.example")
LIST = "club@lists.hollisbikes.example"
CLIENTS = [
    ("Ana Ferreira", "ana.ferreira@mail.example"),
    ("Ben Okafor", "ben@okafor.example"),
    ("Cleo Martens", "cleo.martens@post.example"),
    ("Dario Russo", "dario.russo@mail.example"),
    ("Eva Lindqvist", "eva@lindqvist.example"),
    ("Farid Haddad", "farid.haddad@mail.example"),
    ("Greta Vogel", "greta.vogel@web.example"),
    ("Hugo Blanc", "hugo@blanc.example"),
    ("Ines Duarte", "ines.duarte@mail.example"),
    ("Jonas Berg", "jonas.berg@post.example"),
    ("Kira Novak", "kira@novak.example"),
    ("Liam Walsh", "liam.walsh@mail.example"),
]
SUPPORT_SUBJECTS = [
    "Service booking for my road bike",
    "Brake pads squeaking after the service",
    "Invoice 2041",
    "Wheel truing before the sportive",
    "Order 5512 not arrived",
    "Fitting appointment on Saturday",
    "Warranty claim on the rear derailleur",
    "Tubeless conversion quote",
    "E-bike battery not holding charge",
    "Gift voucher for my brother",
    "Collecting my bike on Friday",
    "Price for a winter service",
    "Wrong size helmet delivered",
    "Refund for the returned jersey",
    "Chain keeps skipping",
    "Can you fit mudguards?",
    "Booking a bike fit",
    "Saddle swap",
    "Question",
    "Hello",
]
LIST_SUBJECTS = [
    "Sunday ride: route for the 14th",
    "Club jerseys order",
    "Who has a spare 11-speed chain tool?",
    "Gravel weekend in May",
    "Night ride lights recommendations",
    "AGM minutes",
    "Café stop suggestions",
    "Tyre pressure for the cobbles",
]
REPLY_PREFIX = ["Re: ", "Re: ", "Re: ", "RE: ", "AW: ", "SV: ", "Re: Re: "]
LINES = [
    "Thanks for getting back to me so quickly.",
    "Would Tuesday morning work instead?",
    "I can drop it off before work, around 8.",
    "The noise is still there when I brake hard downhill.",
    "Could you send the invoice again? I cannot find it.",
    "That sounds good, please go ahead.",
    "How much would that be, roughly?",
    "I have attached a photo of the part.",
    "Sorry, I missed your call yesterday.",
    "Count me in!",
    "I would rather take the longer loop if the weather holds.",
    "Great, see you then.",
]


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(CLIENTS)


def build(seed: int = 19) -> list[EmailMessage]:
    """The messages, in the order they were sent."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    out: list[tuple[datetime, int, EmailMessage]] = []
    serial = 0
    threads = [("support", s) for s in SUPPORT_SUBJECTS * 2] + [("list", s) for s in LIST_SUBJECTS]
    rng.shuffle(threads)
    for number, (kind, subject) in enumerate(threads):
        opened = start + timedelta(hours=rng.uniform(0, 24 * 40))
        client = _person(rng)
        root_missing = rng.random() < 0.15
        size = rng.randint(2, 6) if kind == "support" else rng.randint(6, 20)
        written: list[tuple[str, tuple[str, ...], datetime, tuple[str, str]]] = []
        for i in range(size):
            serial += 1
            message_id = f"{number}.{i}.{serial:04d}@{'list' if kind == 'list' else 'mail'}.example"
            if i == 0:
                parent_refs: tuple[str, ...] = ()
                at = opened
                sender = client
            else:
                choice = written[-1] if rng.random() < 0.7 else rng.choice(written)
                parent_id, grand, parent_at, parent_sender = choice
                parent_refs = (*grand, parent_id)
                at = max(parent_at, written[-1][2]) + timedelta(minutes=rng.expovariate(1 / 180))
                if kind == "list":
                    sender = _person(rng)
                else:
                    sender = SHOP if parent_sender != SHOP else client
            written.append((message_id, parent_refs, at, sender))
            if i == 0 and root_missing:
                continue  # written, answered, never in the file
            style = rng.random()
            own_program_drops = sender != SHOP and style < 0.12
            headerless = sender == client and i > 0 and not root_missing and 0.12 <= style < 0.2
            message = EmailMessage()
            message["From"] = f"{sender[0]} <{sender[1]}>"
            message["To"] = LIST if kind == "list" else (SHOP[1] if sender != SHOP else client[1])
            message["Subject"] = subject if i == 0 else rng.choice(REPLY_PREFIX) + subject
            message["Date"] = format_datetime(at)
            message["Message-ID"] = f"<{message_id}>"
            message["X-Written-Thread"] = str(number)
            if parent_refs and not headerless:
                message["In-Reply-To"] = f"<{parent_refs[-1]}>"
                if not own_program_drops:
                    message["References"] = " ".join(f"<{r}>" for r in parent_refs)
            if kind == "list":
                message["List-Id"] = "Hollis riders <club.lists.hollisbikes.example>"
            body = " ".join(rng.sample(LINES, 2))
            if parent_refs:
                body += "\n\nOn an earlier day someone wrote:\n> " + rng.choice(LINES)
            message.set_content(body + "\n")
            out.append((at, serial, message))
    out.sort(key=lambda row: (row[0], row[1]))
    return [m for _, _, m in out]


def write(path: Path, seed: int = 19) -> int:
    """Write the mbox afresh; returns how many messages it holds."""
    path.unlink(missing_ok=True)
    box = mailbox.mbox(str(path))
    messages = build(seed)
    try:
        for m in messages:
            box.add(m)
        box.flush()
    finally:
        box.close()
    return len(messages)


if __name__ == "__main__":
    target = Path(__file__).with_name("threads.mbox")
    print(f"{write(target)} messages written to {target}")

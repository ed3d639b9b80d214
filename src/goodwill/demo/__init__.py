"""The demo business, Kade Koffie: its import files, a few days of its mail and incidents, and its
clients' answers to the open questions, so `goodwill demo` shows every story on a fresh store.

- :mod:`goodwill.demo.business`: six years of clients, orders and invoices as import files;
- :mod:`goodwill.demo.inbox`: the inbox's mail, response targets and incidents;
- :mod:`goodwill.demo.answers`: what the clients said when asked.
"""

from goodwill.demo.answers import demo_answers
from goodwill.demo.business import (
    BUSINESS_ZONE,
    CLIENT_COLUMNS,
    DEMO_PASSWORD,
    DEMO_STAFF,
    PAYMENT_COLUMNS,
    PURCHASE_COLUMNS,
    DemoFiles,
    write_demo_files,
)
from goodwill.demo.inbox import SHOP, demo_incidents, demo_mail, write_demo_sla

__all__ = [
    "BUSINESS_ZONE",
    "CLIENT_COLUMNS",
    "DEMO_PASSWORD",
    "DEMO_STAFF",
    "PAYMENT_COLUMNS",
    "PURCHASE_COLUMNS",
    "SHOP",
    "DemoFiles",
    "demo_answers",
    "demo_incidents",
    "demo_mail",
    "write_demo_files",
    "write_demo_sla",
]

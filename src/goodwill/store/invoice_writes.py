"""The writes an invoices-and-payments import makes, as bulk statements over plain rows.

:meth:`goodwill.store.ingest.Ingest.payments` decides what each row of the file means; these
put the outcome in the store: new invoices and payments with one bulk write each (see
:func:`goodwill.store.idempotent_insert.insert_rows`), changed invoices with one UPDATE.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from goodwill.domain.money import from_minor
from goodwill.domain.records import ClientRef
from goodwill.store.idempotent_insert import insert_rows, table
from goodwill.store.import_ledger import Ledger
from goodwill.store.models import Invoice, Payment


def _amount(invoice: dict[str, Any]) -> str:
    return f"{from_minor(invoice['amount_minor'], invoice['currency'])} {invoice['currency']}"


def shown_invoice(invoice: dict[str, Any], ref: ClientRef) -> dict[str, str]:
    """An invoice as an import's preview shows it, the client as the file named them."""
    due = invoice["due_on"]
    return {
        "invoice_id": invoice["external_id"],
        "client": ref.name or ref.email or ref.client_id or "",
        "issued_on": invoice["issued_on"].isoformat(),
        "due_on": due.isoformat() if due else "",
        "amount": _amount(invoice),
    }


def write_invoices(
    session: Session, new: dict[str, dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    """Insert the new invoices (each row gets its ``id``) and update the changed ones."""
    for invoice_id, external_id in insert_rows(
        session, Invoice, list(new.values()), returning=("id", "external_id")
    ):
        new[external_id]["id"] = invoice_id
    if changed:
        invoices = table(Invoice)
        session.execute(
            update(invoices)
            .where(invoices.c.id == bindparam("invoice"))
            .values(due_on=bindparam("due"), paid_on=bindparam("paid"), settled=bindparam("done")),
            [
                {"invoice": i["id"], "due": i["due_on"], "paid": i["paid_on"], "done": i["settled"]}
                for i in changed
            ],
        )
        for i in changed:  # an Invoice this session holds must not show the old values
            held = session.identity_map.get(identity_key(Invoice, i["id"]))
            if held is not None:
                session.expire(held)


def write_payments(
    session: Session,
    ledger: Ledger,
    payments: list[dict[str, Any]],
    invoices: dict[str, dict[str, Any]],
) -> None:
    """Each payment once per invoice and day (``payments``: invoice external id, paid_on);
    those written join the ledger as created."""
    rows = [
        {
            "invoice_id": invoices[p["invoice"]]["id"],
            "amount_minor": invoices[p["invoice"]]["amount_minor"],
            "currency": invoices[p["invoice"]]["currency"],
            "paid_on": p["paid_on"],
        }
        for p in payments
    ]
    by_id = {invoices[p["invoice"]]["id"]: invoices[p["invoice"]] for p in payments}
    written = insert_rows(
        session,
        Payment,
        rows,
        keys=["invoice_id", "paid_on"],
        returning=("id", "invoice_id", "paid_on"),
    )
    for payment_id, invoice_id, paid_on in sorted(written):
        invoice = by_id[invoice_id]
        ledger.add(
            "payment",
            payment_id,
            created=True,
            shown={
                "invoice_id": invoice["external_id"],
                "paid_on": paid_on.isoformat(),
                "amount": _amount(invoice),
            },
        )

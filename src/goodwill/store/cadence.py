"""The cadence watch on the store's history: who is overdue, by how much, what it could cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.cadence import CadenceSettings, Overdue, learn, overdue
from goodwill.settings import Settings
from goodwill.store.among import among
from goodwill.store.history import purchase_history
from goodwill.store.models import Client


@dataclass(frozen=True)
class OverdueClient:
    client: int  # internal id
    client_id: str  # the id from the client's files
    name: str
    category: str | None  # None: the client's overall rhythm
    last_purchase: date
    expected_at: date
    became_overdue: date  # when the current missed cycle began
    days_overdue: int
    usual_interval_days: float
    cycle: int
    revenue_at_risk: float | None  # a year of this rhythm: mean purchase × purchases per year
    missed_so_far: float | None  # mean purchase × missed cycles (at most max_cycles)
    currency: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "category": self.category,
            "last_purchase": self.last_purchase.isoformat(),
            "expected_at": self.expected_at.isoformat(),
            "days_overdue": self.days_overdue,
            "usual_interval_days": round(self.usual_interval_days, 1),
            "cycle": self.cycle,
            "revenue_at_risk": _round(self.revenue_at_risk),
            "missed_so_far": _round(self.missed_so_far),
            "currency": self.currency,
        }


def cadence_settings(settings: Settings) -> CadenceSettings:
    return CadenceSettings(
        level=float(settings.cadence["level"]), min_purchases=int(settings.cadence["min_purchases"])
    )


def overdue_clients(
    session: Session,
    settings: Settings,
    *,
    as_of: date,
    by_category: bool | None = None,
    include_lapsed: bool = False,
) -> list[OverdueClient]:
    """Overdue clients, most revenue at risk first.

    A client is listed for their overall rhythm, and for a category's rhythm only while their
    overall rhythm is not overdue (they still buy, but stopped buying that). Clients who missed
    more than ``cadence.max_cycles`` cycles have lapsed: they are left out unless
    ``include_lapsed``. Revenue at risk is what a year of the rhythm brings (the mean purchase
    times purchases per year): what losing the client would cost.
    """
    max_cycles = int(settings.cadence["max_cycles"])
    config = cadence_settings(settings)
    found: list[tuple[Overdue, bool]] = []
    history = purchase_history(session, settings)
    if history.client.size:
        rhythms = learn(history.client, history.day, history.amount, settings=config)
        found.append((overdue(rhythms, as_of=np.datetime64(as_of)), False))
    wants_categories = settings.cadence["by_category"] if by_category is None else by_category
    if wants_categories:
        lines = purchase_history(session, settings, by_category=True)
        if lines.client.size and lines.category is not None:
            rhythms = learn(
                lines.client, lines.day, lines.amount, settings=config, groups=lines.category
            )
            found.append((overdue(rhythms, as_of=np.datetime64(as_of)), True))
    return overdue_rows(
        session,
        found,
        as_of=as_of,
        currency=history.currency,
        max_cycles=max_cycles,
        include_lapsed=include_lapsed,
    )


def overdue_rows(
    session: Session,
    found: list[tuple[Overdue, bool]],
    *,
    as_of: date,
    currency: str,
    max_cycles: int,
    include_lapsed: bool,
) -> list[OverdueClient]:
    """The listed rows of some overdue results (``True``: by category), in the list's order:
    a category row only for a client whose overall rhythm is not overdue, lapsed rows only when
    asked for."""
    ids = {int(c) for result, _ in found for c in result.client}
    clients = (
        {c.id: c for c in session.scalars(select(Client).where(among(session, Client.id, ids)))}
        if ids
        else {}
    )
    out: list[OverdueClient] = []
    for result, grouped in found:
        for i in range(result.client.size):
            client = clients[int(result.client[i])]
            cycle = int(result.cycle[i])
            out.append(
                overdue_client(
                    client=client.id,
                    client_id=client.external_id or f"#{client.id}",
                    name=client.name,
                    category=str(result.group[i]) if grouped and result.group is not None else None,
                    last=_date(result.last[i]),
                    expected=_date(result.expected[i]),
                    due_by=_date(result.due_by[i]),
                    usual=float(result.usual_interval[i]),
                    mean_value=float(result.revenue_at_risk[i]) / cycle,
                    as_of=as_of,
                    max_cycles=max_cycles,
                    currency=currency,
                )
            )
    overall = {o.client for o in out if o.category is None}
    out = [
        o
        for o in out
        if (o.category is None or o.client not in overall)
        and (o.cycle <= max_cycles or include_lapsed)
    ]
    out.sort(key=list_order)
    return out


def list_order(row: OverdueClient) -> tuple[float, int, str, bool, str]:
    """Most revenue at risk first, then the longest overdue, then by client, overall first."""
    return (
        -(row.revenue_at_risk or 0.0),
        -row.days_overdue,
        row.client_id,
        row.category is not None,
        row.category or "",
    )


def overdue_client(
    *,
    client: int,
    client_id: str,
    name: str,
    category: str | None,
    last: date,
    expected: date,
    due_by: date,
    usual: float,
    mean_value: float,
    as_of: date,
    max_cycles: int,
    currency: str,
) -> OverdueClient:
    """One overdue rhythm on ``as_of`` (``mean_value`` NaN: no amounts), the cycle counted as
    ``domain.cadence.overdue`` counts it."""
    cycle = max(math.floor((as_of - last).days / usual + 1e-9), 1)
    known = not math.isnan(mean_value)
    return OverdueClient(
        client=client,
        client_id=client_id,
        name=name,
        category=category,
        last_purchase=last,
        expected_at=expected,
        became_overdue=max(due_by, last + timedelta(days=round(usual * cycle))),
        days_overdue=(as_of - expected).days,
        usual_interval_days=usual,
        cycle=cycle,
        revenue_at_risk=mean_value * 365.25 / usual if known else None,
        missed_so_far=mean_value * min(cycle, max_cycles) if known else None,
        currency=currency,
    )


def _date(value: Any) -> date:
    return date.fromisoformat(str(np.asarray(value, dtype="datetime64[D]")))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)

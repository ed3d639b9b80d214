"""The cadence watch on the store's history: who is overdue, by how much, what it could cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.cadence import CadenceSettings, Overdue, learn, overdue
from goodwill.settings import Settings
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
    ids = {int(c) for result, _ in found for c in result.client}
    clients = (
        {c.id: c for c in session.execute(select(Client).where(Client.id.in_(ids))).scalars()}
        if ids
        else {}
    )
    out: list[OverdueClient] = []
    for result, grouped in found:
        for i in range(result.client.size):
            client = clients[int(result.client[i])]
            usual = float(result.usual_interval[i])
            last = _date(result.last[i])
            cycle = int(result.cycle[i])
            began = max(_date(result.due_by[i]), last + timedelta(days=round(usual * cycle)))
            mean_value = float(result.revenue_at_risk[i]) / cycle
            known = not np.isnan(mean_value)
            out.append(
                OverdueClient(
                    client=client.id,
                    client_id=client.external_id or f"#{client.id}",
                    name=client.name,
                    category=str(result.group[i]) if grouped and result.group is not None else None,
                    last_purchase=last,
                    expected_at=_date(result.expected[i]),
                    became_overdue=began,
                    days_overdue=int(result.days_overdue[i]),
                    usual_interval_days=usual,
                    cycle=cycle,
                    revenue_at_risk=mean_value * 365.25 / usual if known else None,
                    missed_so_far=mean_value * min(cycle, max_cycles) if known else None,
                    currency=history.currency,
                )
            )
    overall = {o.client for o in out if o.category is None}
    out = [
        o
        for o in out
        if (o.category is None or o.client not in overall)
        and (o.cycle <= max_cycles or include_lapsed)
    ]
    out.sort(key=lambda o: (-(o.revenue_at_risk or 0.0), -o.days_overdue, o.client_id))
    return out


def _date(value: Any) -> date:
    return date.fromisoformat(str(np.asarray(value, dtype="datetime64[D]")))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)

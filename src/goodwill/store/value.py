"""Client value from the population models fitted to the business's own history.

A purchase-count model (BG/NBD, or the next one the history identifies; P(alive)) and
Gamma-Gamma (spend) are fitted in weekly periods once a day by the engine and kept in
``model_fits``; a client page then needs only that client's summary. CLV is three years ahead,
discounted at 10% a year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goodwill.domain.btyd import gammagamma
from goodwill.domain.btyd.clv import count_model, lifetime_value
from goodwill.domain.btyd.summary import Summary, summarize
from goodwill.domain.cadence import Prior, learn
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.cadence import cadence_settings
from goodwill.store.history import purchase_history
from goodwill.store.models import ModelFit, Order

log = logging.getLogger(__name__)
PERIOD = "week"
COUNT_FALLBACKS = ("bg-nbd", "mbg-nbd", "pareto-nbd")
HORIZON_WEEKS = 156.0
WEEKLY_DISCOUNT = 1.10 ** (1 / 52) - 1


@dataclass(frozen=True)
class ClientValue:
    usual_interval_days: float | None
    expected_next: date | None
    overdue_days: int | None  # days since the expected purchase, once past their own spread
    p_alive: float | None
    expected_purchases_year: float | None
    expected_spend: float | None
    clv: float | None
    currency: str
    #: Why the model figures are None: "lead" (no purchase), "first_day" (no purchase before
    #: today: the models read a client from the day after their first purchase), "no_fit" (the
    #: engine has not fitted the models yet); None when they are known.
    missing: str | None = None

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None, places: int = 2) -> float | None:
            return None if value is None else round(value, places)

        return {
            "usual_interval_days": rounded(self.usual_interval_days, 1),
            "expected_next": self.expected_next.isoformat() if self.expected_next else None,
            "overdue_days": self.overdue_days,
            "p_alive": rounded(self.p_alive, 3),
            "expected_purchases_year": rounded(self.expected_purchases_year),
            "expected_spend": rounded(self.expected_spend),
            "clv": rounded(self.clv),
            "currency": self.currency,
            "value_missing": self.missing,
        }


def refresh_fits(session: Session, settings: Settings, *, today: date, now: datetime) -> bool:
    """Refit the models when the stored fit is older than a day; False when nothing changed.

    Purchase counts: BG/NBD, else MBG/NBD, else Pareto/NBD — the first the history identifies
    (a small business's history can send BG/NBD's dropout parameters to infinity). Spend:
    Gamma-Gamma on the repeat buyers. A history no model fits keeps the old fit.
    """
    stored = session.get(ModelFit, "counts")
    if stored is not None and stored.as_of >= today:
        return False
    history = purchase_history(session, settings)
    if history.client.size == 0:
        return False
    summary = summarize(
        history.client, history.day, history.amount, period=PERIOD, calibration_end=today
    )
    counts = None
    for name in COUNT_FALLBACKS:
        try:
            counts = count_model(name).fit(summary.frequency, summary.recency, summary.T)
            break
        except InvalidInput as exc:
            log.warning("%s does not fit this history: %s", name, exc)
    if counts is None:
        return False
    fits = [("counts", counts)]
    money = summary.monetary_value
    if money is not None:
        repeat = (summary.frequency > 0) & np.isfinite(money) & (money > 0)
        try:
            fits.append(("spend", gammagamma.fit(summary.frequency[repeat], money[repeat])))
        except InvalidInput as exc:
            log.warning("Gamma-Gamma not refitted: %s", exc)
    for role, fit in fits:
        session.merge(
            ModelFit(
                name=role,
                model=fit.model,
                params=dict(fit.params),
                log_likelihood=float(fit.log_likelihood),
                n_customers=int(fit.n_customers),
                period=PERIOD,
                as_of=today,
                fitted_at=now,
            )
        )
    log.info("population models refitted on %d clients", summary.frequency.size)
    return True


def client_value(
    session: Session, settings: Settings, client_id: int, *, today: date
) -> ClientValue:
    """Rhythm, P(alive), expected purchases and CLV of one client (None where unknown, and
    ``missing`` says why: a client whose first purchase is today has no model figures yet)."""
    history = purchase_history(session, settings, client_id=client_id)
    mine = history.client == client_id
    rhythm_days = expected = overdue_days = None
    if mine.any():
        rhythms = learn(
            history.client,
            history.day,
            history.amount,
            settings=cadence_settings(settings),
            priors=population_priors(session, settings),
        )
        row = np.flatnonzero(rhythms.client == client_id)
        if row.size:
            i = int(row[0])
            rhythm_days = float(rhythms.usual_interval[i])
            expected = date.fromisoformat(str(rhythms.expected[i]))
            due_by = date.fromisoformat(str(rhythms.due_by[i]))
            overdue_days = (today - expected).days if today > due_by else None
    fits = {f.name: f for f in session.execute(select(ModelFit)).scalars()}
    p_alive = purchases = spend = clv = None
    summary = None
    if "counts" in fits and mine.any():
        summary = summarize(
            history.client[mine],
            history.day[mine],
            history.amount[mine],
            period=PERIOD,
            calibration_end=today,
        )
    missing = _missing(bool(mine.any()), "counts" in fits, summary)
    if summary is not None and missing is None:
        model = count_model(fits["counts"].model)
        params = fits["counts"].params
        x, t_x, big_t = summary.frequency, summary.recency, summary.T
        p_alive = float(model.probability_alive(params, x, t_x, big_t)[0])
        purchases = float(model.expected_purchases(params, 52.0, x, t_x, big_t)[0])
        money = summary.monetary_value
        if "spend" in fits and money is not None:
            m = np.where(np.isfinite(money), money, 0.0)
            spend = float(gammagamma.expected_spend(fits["spend"].params, x, m)[0])
            clv = float(
                lifetime_value(
                    model,
                    params,
                    x,
                    t_x,
                    big_t,
                    [spend],
                    horizon=HORIZON_WEEKS,
                    discount_rate=WEEKLY_DISCOUNT,
                )[0]
            )
    return ClientValue(
        rhythm_days,
        expected,
        overdue_days,
        p_alive,
        purchases,
        spend,
        clv,
        history.currency,
        missing,
    )


#: The business-wide rhythm prior last learned, per database: (what it was learned from, prior).
_PRIORS: dict[str, tuple[tuple[Any, ...], tuple[Prior, ...]]] = {}


def population_priors(session: Session, settings: Settings) -> tuple[Prior, ...] | None:
    """The business-wide rhythm prior a client's rhythm is shrunk toward, learned from every
    order and learned again only when the orders change (their count, newest id or latest
    date), so a client page reads that client's orders alone."""
    count, newest, latest = session.execute(
        select(func.count(Order.id), func.max(Order.id), func.max(Order.occurred_at))
    ).one()
    where = str(session.get_bind().engine.url)
    stamp = (
        count,
        newest,
        latest,
        settings.timezone,
        settings.currency,
        cadence_settings(settings),
    )
    known = _PRIORS.get(where)
    if known is not None and known[0] == stamp:
        return known[1]
    history = purchase_history(session, settings)
    priors = learn(history.client, history.day, settings=cadence_settings(settings)).priors
    if len(priors) != 1:  # no purchases at all: nothing to shrink toward yet
        return None
    _PRIORS[where] = (stamp, priors)
    return priors


def _missing(bought: bool, fitted: bool, summary: Summary | None) -> str | None:
    """Why the model figures cannot be had; None when they can."""
    if not bought:
        return "lead"
    if not fitted:
        return "no_fit"
    if summary is None or summary.frequency.size == 0:
        return "first_day"  # a summary starts the day after the first purchase (T > 0)
    return None


__all__ = ["ClientValue", "client_value", "population_priors", "refresh_fits"]

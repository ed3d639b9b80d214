"""Client value from the population models fitted to the business's own history.

A purchase-count model (the one of BG/NBD, MBG/NBD and Pareto/NBD that predicts the business's
recent weeks best; P(alive)) and Gamma-Gamma (spend; the mean spend where spend does not vary)
are fitted in weekly periods by the engine when its refit policy says so (domain/refits.py: a
week old, or 5% more purchases) and kept in ``model_fits``; a client page
then needs only that client's summary. CLV is three years ahead, discounted at 10% a year.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.btyd.choice import Candidate, choose, compare, refusal
from goodwill.domain.btyd.clv import count_model, lifetime_value
from goodwill.domain.btyd.spend import expected_spend, fit_spend
from goodwill.domain.btyd.summary import Summary, period_days, summarize
from goodwill.domain.cadence import Prior, learn
from goodwill.domain.cadence_sums import rhythm
from goodwill.domain.money import exponent
from goodwill.domain.refits import FitBasis, RefitDecision, decide
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.cadence import cadence_settings
from goodwill.store.client_figures import Figures, figures_for, keep_figures
from goodwill.store.history import PurchaseHistory, purchase_history
from goodwill.store.models import ClientFigures, ModelFit, Order

log = logging.getLogger(__name__)
PERIOD = "week"
#: The weeks held out to compare the count models' predictions with what happened.
HOLDOUT_WEEKS = 13
#: The model_fits row saying why the latest refit of the count model was not adopted.
REFUSED = "counts-refused"
HORIZON_WEEKS = 156.0
WEEKLY_DISCOUNT = 1.10 ** (1 / 52) - 1
#: Clients whose model figures are computed in one evaluation: the models interpolate each
#: purchase count's figures in age (domain/btyd/by_age.py), which pays with many clients a count
#: (a three-year CLV for 50,000 clients: 0.16 s at once, 1.3 s in chunks of 5,000)...
VALUE_READ = 50_000
#: ...and written back in transactions of this many, so the write lock is held briefly.
VALUE_CHUNK = 5000


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
    #: Why the latest refit of the count model was not adopted (an edge fit, or none fitted):
    #: with ``missing`` "no_good_fit" there is no fit at all; otherwise the figures come from
    #: the last fit that was sound.
    fit_note: str | None = None

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
            "fit_note": self.fit_note,
        }


def refresh_fits(
    session: Session,
    settings: Settings,
    *,
    today: date,
    now: datetime,
    read_history: Callable[[], PurchaseHistory] | None = None,
) -> RefitDecision:
    """Refit the models when the refit policy says so (``domain/refits.py``: no fit yet, a fit a
    week old, or 5% more purchases since it), else keep them; the decision says which and why.

    Purchase counts: every count model is fitted and compared (``domain.btyd.choice``): on a
    history long enough for a holdout, the one that best predicts the last ``HOLDOUT_WEEKS``
    from the weeks before, else the highest log-likelihood. A fit at an edge of its parameters
    is never adopted: the previous fit is kept (or none), and the reason is stored as the
    ``counts-refused`` row for the value panel. Spend: Gamma-Gamma on the repeat buyers with a
    positive mean spend, or their mean spend when Gamma-Gamma cannot be estimated.
    ``read_history``: reads the whole purchase history (once, when the refit learns the rhythms
    from the same orders in the same transaction).
    """
    decision = refit_decision(session, today=today)
    if not decision.refit:
        return decision
    purchases, newest = session.execute(select(func.count(Order.id), func.max(Order.id))).one()
    basis = {"purchases": int(purchases), "newest_order": newest, "reason": decision.reason}
    history = read_history() if read_history else purchase_history(session, settings)
    if history.client.size == 0:
        return RefitDecision(False, "no purchases yet", None)
    summary = summarize(
        history.client, history.day, history.amount, period=PERIOD, calibration_end=today
    )
    x, t_x, age = summary.frequency, summary.recency, summary.T
    candidates = compare(x, t_x, age)
    # The holdout decides between usable models only: none to fit on the calibration weeks when
    # fewer than two are usable (an edge fit is never adopted, whatever its holdout error).
    usable = tuple(c.model for c in candidates if c.fit is not None and c.reason is None)
    chosen = choose(candidates, _holdout_comparison(history, today, usable))
    refused = session.get(ModelFit, REFUSED)
    if chosen is None or chosen.fit is None:
        reason = refusal(candidates)
        log.warning("no count model adopted: %s", reason)
        _store(session, REFUSED, "none", {}, 0.0, x.size, today, now, reason=reason, basis=basis)
        return decision
    if refused is not None:
        session.delete(refused)
    fit = chosen.fit
    _store(
        session,
        "counts",
        fit.model,
        fit.params,
        fit.log_likelihood,
        fit.n_customers,
        today,
        now,
        basis=basis,
    )
    money = summary.monetary_value
    if money is not None:
        try:
            spend = fit_spend(x, np.where(np.isfinite(money), money, 0.0))
        except InvalidInput as exc:
            log.warning("spend model not refitted: %s", exc)
        else:
            for note in spend.notes:
                log.info("spend model: %s", note)
            _store(
                session,
                "spend",
                spend.model,
                spend.params,
                spend.log_likelihood or 0.0,
                spend.n_customers,
                today,
                now,
                basis=basis,
            )
    log.info("population models refitted on %d clients: %s", x.size, fit.model)
    return decision


def refit_decision(session: Session, *, today: date) -> RefitDecision:
    """The refit policy applied to the stored fit: two primary-key reads and one count of the
    orders after the fit's newest (an index range), so a pass that keeps the fit reads little."""
    counts = session.get(ModelFit, "counts")
    refused = session.get(ModelFit, REFUSED)
    fit = None
    new = 0
    if counts is not None:
        basis = counts.basis or {}
        purchases, newest = basis.get("purchases"), basis.get("newest_order")
        fit = FitBasis(counts.as_of, purchases, newest)
        if purchases is not None:
            after = Order.id > newest if newest is not None else Order.id.is_not(None)
            new = int(session.execute(select(func.count(Order.id)).where(after)).scalar_one())
    refused_on = None if refused is None else refused.as_of
    return decide(today=today, fit=fit, refused_on=refused_on, new_purchases=new)


def _holdout_comparison(
    history: PurchaseHistory, today: date, models: tuple[str, ...]
) -> list[Candidate] | None:
    """The count models ``models`` fitted up to ``HOLDOUT_WEEKS`` ago, each with its error on the
    weeks since; None when fewer than two are to be compared or the history is too short to
    spare the weeks."""
    if len(models) < 2:
        return None
    calibration_end = today - timedelta(weeks=HOLDOUT_WEEKS)
    first = date.fromisoformat(str(history.day.min()))
    if (calibration_end - first).days < 2 * 7 * HOLDOUT_WEEKS:
        return None
    calibration = summarize(
        history.client,
        history.day,
        period=PERIOD,
        calibration_end=calibration_end,
        observation_end=today,
    )
    return compare(
        calibration.frequency,
        calibration.recency,
        calibration.T,
        frequency_holdout=calibration.frequency_holdout,
        duration_holdout=calibration.duration_holdout,
        models=models,
    )


def _store(
    session: Session,
    name: str,
    model: str,
    params: dict[str, float],
    log_likelihood: float,
    n_customers: int,
    today: date,
    now: datetime,
    *,
    reason: str | None = None,
    basis: dict[str, Any] | None = None,
) -> None:
    """Keep one fit (or, for ``REFUSED``, the reason no fit was adopted, in ``params``), with
    what it was made on and why (``basis``)."""
    session.merge(
        ModelFit(
            name=name,
            model=model,
            params=dict(params) if reason is None else {"reason": reason},
            log_likelihood=float(log_likelihood),
            n_customers=int(n_customers),
            period=PERIOD,
            as_of=today,
            fitted_at=now,
            basis=basis,
        )
    )


def client_value(
    session: Session, settings: Settings, client_id: int, *, today: date
) -> ClientValue:
    """Rhythm, P(alive), expected purchases and CLV of one client (None where unknown, and
    ``missing`` says why: a client whose first purchase is today has no model figures yet).

    Read from the client's kept figures and the stored fits: the same cost at 10 purchases or
    10,000. Before the engine has kept any (or for a purchase dated after today), computed from
    the history as ``client_value_from_history`` does."""
    kept = figures_for(session, settings, client_id)
    figures = None if kept is None else kept.figures
    if kept is None or (
        figures is not None and figures.rhythm.last is not None and figures.rhythm.last > today
    ):
        return client_value_from_history(session, settings, client_id, today=today)
    rhythm_days = expected = overdue_days = None
    if figures is not None and kept.prior is not None:
        found = rhythm(figures.rhythm, kept.prior, cadence_settings(settings))
        if found is not None:
            rhythm_days, expected = found.usual_interval, found.expected
            overdue_days = (today - expected).days if today > found.due_by else None
    fits = {f.name: f for f in session.execute(select(ModelFit)).scalars()}
    summary = None
    if "counts" in fits and figures is not None:
        summary = summary_of(figures, today=today)
    refused = fits.get(REFUSED)
    note = None if refused is None else str(refused.params.get("reason", ""))
    missing = _missing(figures is not None, "counts" in fits, summary)
    if missing == "no_fit" and note is not None:
        missing = "no_good_fit"
    p_alive = purchases = spend = clv = None
    if summary is not None and missing is None:
        if kept.values is not None and kept.values[0] == values_stamp(fits, today):
            _, p_alive, purchases, spend, clv = kept.values
        else:
            p_alive, purchases, spend, clv = _predictions(fits, summary)
    return ClientValue(
        rhythm_days,
        expected,
        overdue_days,
        p_alive,
        purchases,
        spend,
        clv,
        kept.currency,
        missing,
        note,
    )


def values_stamp(fits: dict[str, ModelFit], today: date) -> str | None:
    """What model figures kept for a day are for: the day and the fits (None: no count fit)."""
    counts, spend = fits.get("counts"), fits.get("spend")
    if counts is None:
        return None
    stamp = f"{today.isoformat()}|{counts.model}@{counts.fitted_at.isoformat()}"
    return stamp + ("" if spend is None else f"|{spend.model}@{spend.fitted_at.isoformat()}")


def keep_values(
    store: sessionmaker[Session], settings: Settings, *, today: date, now: datetime
) -> int:
    """The engine's upkeep of what a client page reads: the kept figures refreshed
    (store/client_figures.py), then each client's P(alive), purchases, spend and CLV for today
    and the current fits, computed for many clients at once (a page would compute them one by
    one, 157 model evaluations for the CLV). Returns the rows written: figures refreshed plus
    clients whose values were computed (a row may count in both)."""
    refreshed = keep_figures(store, settings, today=today, now=now)
    with store() as session:
        fits = {f.name: f for f in session.execute(select(ModelFit)).scalars()}
    stamp = values_stamp(fits, today)
    if stamp is None:
        return refreshed
    table = cast(Table, ClientFigures.__table__)
    columns = [getattr(table.c, name) for name in _VALUE_INPUTS]
    # A row marked stale since it was read (a new order) keeps its old values: the next pass
    # computes them from its new figures.
    write = (
        update(table)
        .where(table.c.client_id == bindparam("row_id"), table.c.marks == bindparam("seen_marks"))
        .values({name: bindparam(name) for name in _VALUE_OUTPUTS})
    )
    after, done = 0, 0
    while True:
        # Read by key from where the last read ended, without the write lock; the values are
        # computed before any is written, and written a short transaction per chunk.
        with store() as session:
            rows = session.execute(
                select(*columns)
                .where(
                    table.c.client_id > after,
                    table.c.stale.is_(False),
                    or_(table.c.value_stamp.is_(None), table.c.value_stamp != stamp),
                )
                .order_by(table.c.client_id)
                .limit(VALUE_READ)
            ).all()
        if not rows:
            break
        values = _values_of(fits, rows, stamp, today)
        for start in range(0, len(values), VALUE_CHUNK):
            with store.begin() as session:
                session.connection().execute(write, values[start : start + VALUE_CHUNK])
        after, done = rows[-1].client_id, done + len(rows)
    if done:
        log.info("client values kept for %d clients", done)
    return refreshed + done


#: The kept figures the model values are computed from, and the values written back.
_VALUE_INPUTS = (
    "client_id",
    "marks",
    "first_day",
    "last_day",
    "days",
    "currency",
    "spend_minor",
    "first_day_minor",
    "other_currency_orders",
)
_VALUE_OUTPUTS = ("value_stamp", "p_alive", "purchases_year", "expected_spend", "clv")


def _values_of(
    fits: dict[str, ModelFit], rows: Sequence[Any], stamp: str, today: date
) -> list[dict[str, Any]]:
    """The model figures of many rows in one evaluation each (None where the page shows none)."""
    out: list[dict[str, Any]] = [
        {
            "row_id": r.client_id,
            "seen_marks": r.marks,
            "value_stamp": stamp,
            "p_alive": None,
            "purchases_year": None,
            "expected_spend": None,
            "clv": None,
        }
        for r in rows
    ]
    shown = [
        i
        for i, r in enumerate(rows)
        if r.first_day is not None
        and r.last_day is not None
        and r.first_day < today
        and r.last_day <= today
    ]
    if not shown:
        return out
    length = period_days(PERIOD)
    picked = [rows[i] for i in shown]
    x = np.array([r.days - 1 for r in picked], dtype=np.float64)
    t_x = np.array([(r.last_day - r.first_day).days for r in picked]) / length
    big_t = np.array([(today - r.first_day).days for r in picked]) / length
    scale = np.array([10.0 ** exponent(r.currency) for r in picked])
    repeat = np.array([r.spend_minor - r.first_day_minor for r in picked], dtype=np.float64)
    money = np.divide(repeat / scale, x, out=np.zeros(x.size), where=x > 0)
    known = np.array([r.other_currency_orders == 0 for r in picked])
    model = count_model(fits["counts"].model)
    params = fits["counts"].params
    p_alive = model.probability_alive(params, x, t_x, big_t)
    purchases = model.expected_purchases(params, 52.0, x, t_x, big_t)
    spend = clv = None
    if "spend" in fits:
        spend_fit = fits["spend"]
        spend = expected_spend(spend_fit.model, spend_fit.params, x, money)
        clv = lifetime_value(
            model,
            params,
            x,
            t_x,
            big_t,
            spend,
            horizon=HORIZON_WEEKS,
            discount_rate=WEEKLY_DISCOUNT,
        )
    for j, i in enumerate(shown):
        out[i] |= {"p_alive": float(p_alive[j]), "purchases_year": float(purchases[j])}
        if spend is not None and clv is not None and known[j]:
            out[i] |= {"expected_spend": float(spend[j]), "clv": float(clv[j])}
    return out


def summary_of(figures: Figures, *, today: date) -> Summary:
    """The count models' summary of one client from their kept figures, as ``summarize`` makes
    it from their history (no row when the first purchase is today)."""
    sums, first = figures.rhythm, figures.first_day
    if first is None or sums.last is None or first >= today:
        empty = np.zeros(0)
        return Summary(np.zeros(0, dtype=np.int64), empty, empty, empty, empty, None, None)
    length = period_days(PERIOD)
    x = float(sums.days - 1)
    scale = 10.0 ** exponent(figures.currency)
    money = figures.repeat_minor / scale / x if x > 0 else 0.0
    # An order in another currency leaves the spend unknown (the history cannot be summed).
    known = not figures.other_currency_orders
    return Summary(
        customer_id=np.zeros(1, dtype=np.int64),
        frequency=np.array([x]),
        recency=np.array([(sums.last - first).days / length]),
        T=np.array([(today - first).days / length]),
        monetary_value=np.array([money]) if known else None,
        frequency_holdout=None,
        duration_holdout=None,
    )


def _predictions(
    fits: dict[str, ModelFit], summary: Summary
) -> tuple[float, float, float | None, float | None]:
    """P(alive), expected purchases in a year, expected spend and CLV of a one-row summary."""
    model = count_model(fits["counts"].model)
    params = fits["counts"].params
    x, t_x, big_t = summary.frequency, summary.recency, summary.T
    p_alive = float(model.probability_alive(params, x, t_x, big_t)[0])
    purchases = float(model.expected_purchases(params, 52.0, x, t_x, big_t)[0])
    money = summary.monetary_value
    spend = clv = None
    if "spend" in fits and money is not None:
        m = np.where(np.isfinite(money), money, 0.0)
        spend_fit = fits["spend"]
        spend = float(expected_spend(spend_fit.model, spend_fit.params, x, m)[0])
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
    return p_alive, purchases, spend, clv


def client_value_from_history(
    session: Session, settings: Settings, client_id: int, *, today: date
) -> ClientValue:
    """``client_value`` computed from the client's whole purchase history and a prior learned
    from every order: the reference the kept figures are checked against."""
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
    refused = fits.get(REFUSED)
    note = None if refused is None else str(refused.params.get("reason", ""))
    missing = _missing(bool(mine.any()), "counts" in fits, summary)
    if missing == "no_fit" and note is not None:
        missing = "no_good_fit"
    if summary is not None and missing is None:
        p_alive, purchases, spend, clv = _predictions(fits, summary)
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
        note,
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


__all__ = [
    "ClientValue",
    "client_value",
    "client_value_from_history",
    "keep_values",
    "population_priors",
    "refit_decision",
    "refresh_fits",
    "summary_of",
    "values_stamp",
]

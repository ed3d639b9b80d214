"""The engine's population models: every count model compared, edge fits refused with a reason,
spend that does not vary valued at its mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.btyd.choice import COUNT_MODELS, Candidate, choose, compare
from goodwill.domain.btyd.fit import FitResult
from goodwill.settings import Settings
from goodwill.store import value
from goodwill.store.models import Client, ModelFit
from goodwill.store.value import REFUSED, client_value, refresh_fits
from tests.domain.btyd import simulate
from tests.web.sample import add_client, add_purchase

NOW = datetime(2025, 6, 2, 18, 0, tzinfo=UTC)


def business(session: Session, *, last_on_today: bool, amount: int | None = None) -> Client:
    """Two hundred clients drawn from BG/NBD (first purchases over 32 weeks); with
    ``last_on_today`` every repeat buyer's last purchase is today (every t_x = T)."""
    rng = np.random.default_rng(9)
    x, t_x, age = simulate.bg_family(rng, 200, 0.5, 6.0, 0.8, 2.5, at_first=False)
    first_client = None
    for i in range(x.size):
        client = add_client(session, external_id=f"C-{i:03d}", name=f"Client {i}", now=NOW)
        first_client = first_client or client
        start = NOW - timedelta(weeks=float(age[i]))
        last = NOW - timedelta(hours=1) if last_on_today else start + timedelta(weeks=float(t_x[i]))
        days = sorted(rng.uniform(0, (last - start).days, int(x[i]) - 1)) if x[i] > 1 else []
        moments = [start] + [start + timedelta(days=float(d)) for d in days]
        moments += [last] if x[i] > 0 else []
        for n, at in enumerate(moments):
            add_purchase(
                session,
                client,
                order_id=f"C-{i:03d}-{n}",
                at=at,
                amount_minor=amount if amount is not None else int(rng.integers(1000, 20000)),
                product="Groceries",
            )
    assert first_client is not None
    return first_client


def refit(store: sessionmaker[Session], settings: Settings) -> dict[str, ModelFit]:
    with store.begin() as session:
        refresh_fits(session, settings, today=NOW.date(), now=NOW)
    with store() as session:
        return {f.name: f for f in session.query(ModelFit)}


def test_an_edge_fit_is_refused_with_its_reason_and_the_panel_says_why(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        client_id = business(session, last_on_today=True).id
    fits = refit(store, settings)
    assert "counts" not in fits
    reason = str(fits[REFUSED].params["reason"])
    assert "bg-nbd" in reason and "mbg-nbd" in reason and "pareto-nbd" in reason
    with store() as session:
        value = client_value(session, settings, client_id, today=NOW.date())
    assert value.missing == "no_good_fit" and value.fit_note == reason
    assert value.p_alive is None


def test_a_sound_history_adopts_a_fit_and_clears_the_refusal(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        session.add(
            ModelFit(
                name=REFUSED,
                model="none",
                params={"reason": "an older edge fit"},
                log_likelihood=0.0,
                n_customers=1,
                period="week",
                as_of=NOW.date() - timedelta(days=1),
                fitted_at=NOW - timedelta(days=1),
            )
        )
        business(session, last_on_today=False)
    fits = refit(store, settings)
    assert fits["counts"].model in ("bg-nbd", "mbg-nbd", "pareto-nbd")
    assert REFUSED not in fits


def test_the_holdout_weighs_only_the_usable_models(
    store: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calibration weeks are fitted only for models that could be adopted, and not at all
    when fewer than two could: an edge fit is refused whatever its holdout error."""
    fitted: list[tuple[str, ...]] = []

    def counted(*args: Any, models: tuple[str, ...] = COUNT_MODELS, **kw: Any) -> Any:
        fitted.append(models)
        return compare(*args, models=models, **kw)

    monkeypatch.setattr(value, "compare", counted)
    with store.begin() as session:
        business(session, last_on_today=True)
    refit(store, settings)
    assert fitted == [COUNT_MODELS]  # every model at an edge: no holdout fits


def test_spend_that_does_not_vary_is_valued_at_its_mean(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        client_id = business(session, last_on_today=False, amount=2500).id
    fits = refit(store, settings)
    assert fits["spend"].model == "mean-spend"
    mean = fits["spend"].params["mean"]
    assert 25.0 <= mean < 30.0  # 25 a purchase; two on one day are one 50 purchase day
    with store() as session:
        value = client_value(session, settings, client_id, today=NOW.date())
    assert value.expected_spend == mean and value.clv is not None and value.clv > 0


def fitted(model: str, log_likelihood: float) -> FitResult:
    return FitResult(model, {"r": 1.0}, log_likelihood, 100, True, 10)


def test_the_model_closest_on_the_holdout_is_chosen_ties_by_likelihood() -> None:
    full = [
        Candidate("bg-nbd", fitted("bg-nbd", -100.0)),
        Candidate("mbg-nbd", fitted("mbg-nbd", -90.0)),
        Candidate("pareto-nbd", fitted("pareto-nbd", -95.0)),
    ]
    holdout = [
        Candidate("bg-nbd", None, 101.0, 100.0),
        Candidate("mbg-nbd", None, 130.0, 100.0),
        Candidate("pareto-nbd", None, 99.5, 100.0),
    ]
    chosen = choose(full, holdout)
    assert chosen is not None and chosen.model == "pareto-nbd"  # within 1 point of bg-nbd
    no_holdout = choose(full)
    assert no_holdout is not None and no_holdout.model == "mbg-nbd"
    refused = [Candidate("bg-nbd", fitted("bg-nbd", -1.0), reason="a = 6e-08 at the edge")]
    assert choose(refused) is None
    assert np.isfinite(full[0].fit.log_likelihood if full[0].fit else 0.0)


def test_an_edge_refit_keeps_the_previous_sound_fit_and_notes_why(
    store: sessionmaker[Session], settings: Settings
) -> None:
    previous = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    with store.begin() as session:
        client_id = business(session, last_on_today=True).id
        session.add(
            ModelFit(
                name="counts",
                model="bg-nbd",
                params=previous,
                log_likelihood=-1000.0,
                n_customers=200,
                period="week",
                as_of=NOW.date() - timedelta(days=1),
                fitted_at=NOW - timedelta(days=1),
            )
        )
    fits = refit(store, settings)
    assert fits["counts"].params == previous and REFUSED in fits
    with store() as session:
        value = client_value(session, settings, client_id, today=NOW.date())
    assert value.p_alive is not None and value.missing is None
    assert value.fit_note == fits[REFUSED].params["reason"]
    with store.begin() as session:  # the refusal holds for the day: no refit on the next pass
        assert not refresh_fits(session, settings, today=NOW.date(), now=NOW).refit


def purchases_on(store: sessionmaker[Session], at: datetime, n: int, tag: str) -> None:
    with store.begin() as session:
        client = add_client(session, external_id=f"N-{tag}", name=f"New {tag}", now=at)
        for k in range(n):
            add_purchase(
                session,
                client,
                order_id=f"N-{tag}-{k}",
                at=at - timedelta(days=k),
                amount_minor=1500,
                product="Groceries",
            )


def test_the_fit_is_kept_on_a_quiet_day_and_refitted_on_growth_or_after_a_week(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        business(session, last_on_today=False)
    fits = refit(store, settings)
    made = fits["counts"]
    assert made.basis is not None and made.basis["reason"] == "no fit yet"
    purchases = made.basis["purchases"]
    assert purchases > 100 and fits["spend"].basis == made.basis

    def day(n: int) -> tuple[bool, str]:
        with store.begin() as session:
            when = NOW + timedelta(days=n)
            decision = refresh_fits(session, settings, today=when.date(), now=when)
        return decision.refit, decision.reason

    purchases_on(store, NOW + timedelta(days=1), 2, "a")
    assert day(1) == (
        False,
        f"kept the fit of 2025-06-02: 2 new purchases since ({2 / purchases:.1%} of its "
        f"{purchases}); refit at {-(-purchases * 5 // 100)} or on 2025-06-09",
    )
    purchases_on(store, NOW + timedelta(days=2), -(-purchases * 5 // 100), "b")
    refitted, reason = day(2)
    assert refitted and reason.startswith(f"{2 - (-purchases * 5 // 100)} new purchases since")
    with store() as session:
        fit = session.get(ModelFit, "counts")
        assert fit is not None and fit.as_of == (NOW + timedelta(days=2)).date()
        assert fit.basis is not None and fit.basis["purchases"] > purchases
    assert day(2) == (False, "refitted today (2025-06-04)")
    assert not day(8)[0]
    assert day(9) == (True, "the fit of 2025-06-04 is 7 days old (weekly at most)")

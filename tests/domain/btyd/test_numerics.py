"""Gradients, heavy buyers, one-time buyers and refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import check_grad

from goodwill.domain.btyd import bgnbd, gammagamma, mbgnbd, paretonbd
from goodwill.domain.btyd.clv import COUNT_MODELS
from goodwill.domain.btyd.fit import check_counts
from goodwill.errors import InvalidInput
from tests.domain.btyd import simulate

PARAMS = {
    "bg-nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbg-nbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "pareto-nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}


def relative_gradient_error(objective, theta: np.ndarray) -> float:
    """check_grad's forward differences, then central differences (step 1e-5) for the verdict."""
    forward = check_grad(lambda z: objective(z)[0], lambda z: objective(z)[1], theta, epsilon=1e-6)
    analytic = objective(theta)[1]
    assert forward / np.linalg.norm(analytic) < 1e-3
    step = 1e-5
    central = np.array(
        [
            (objective(theta + step * e)[0] - objective(theta - step * e)[0]) / (2 * step)
            for e in np.eye(theta.size)
        ]
    )
    return float(np.linalg.norm(central - analytic) / np.linalg.norm(analytic))


@pytest.mark.parametrize("shift", [0, 1])
def test_bg_family_gradient_matches_finite_differences(shift: int) -> None:
    x, t_x, T = simulate.bg_family(
        np.random.default_rng(1), 2_000, 0.5, 6.0, 0.8, 2.5, at_first=bool(shift)
    )
    objective, _ = bgnbd.family_objective(check_counts(x, t_x, T), shift)
    for theta in ([0.1, 1.5, -0.3, 0.9], [-1.0, 2.5, 0.5, 2.0], [1.0, 0.0, -2.0, -1.0]):
        assert relative_gradient_error(objective, np.array(theta)) < 1e-5


def test_pareto_nbd_gradient_matches_finite_differences() -> None:
    x, t_x, T = simulate.pareto(np.random.default_rng(2), 2_000, 0.6, 8.0, 0.8, 12.0)
    objective = paretonbd._objective(check_counts(x, t_x, T))
    # The last point puts alpha and beta five orders of magnitude apart (the panel path).
    for theta in ([-0.5, 2.0, -0.2, 2.5], [0.5, 1.0, 1.0, 3.0], [0.0, 6.0, 0.3, -5.0]):
        assert relative_gradient_error(objective, np.array(theta)) < 1e-5


def test_pareto_nbd_integral_matches_adaptive_quadrature() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        r, alpha, s, beta = np.exp(rng.uniform(-3, 4, 4))
        x = float(rng.choice([0, 1, 3, 20, 200]))
        T = float(np.exp(rng.uniform(0, 4.5)))
        t_x = 0.0 if x == 0 else T * float(rng.uniform())

        def log_f(y: float, r=r, alpha=alpha, s=s, beta=beta, x=x) -> float:
            return -(r + x) * np.log(alpha + y) - (s + 1) * np.log(beta + y)

        edges = t_x + (T - t_x) * np.r_[0.0, np.logspace(-8, 0, 30)]
        value = sum(
            quad(
                lambda y, start=t_x: np.exp(log_f(y) - log_f(start)), lo, hi, epsrel=1e-13, epsabs=0
            )[0]
            for lo, hi in itertools.pairwise(edges)
        )
        got, _ = paretonbd.log_tail_integral(
            r, alpha, s, beta, np.array([x]), np.array([t_x]), np.array([T])
        )
        assert got[0] == pytest.approx(np.log(value) + log_f(t_x), abs=1e-7)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    x, m = simulate.spend(np.random.default_rng(4), 1_000, 6.0, 4.0, 15.0)
    captured = {}

    def spy(model, names, objective, start, *, n_customers):
        captured["objective"] = objective
        raise RuntimeError("captured")

    original = gammagamma.maximise
    gammagamma.maximise = spy
    try:
        with pytest.raises(RuntimeError):
            gammagamma.fit(x, m)
    finally:
        gammagamma.maximise = original
    assert relative_gradient_error(captured["objective"], np.array([1.5, 1.2, 2.5])) < 1e-5


@pytest.mark.parametrize("model", sorted(PARAMS))
def test_heavy_buyers_get_finite_correct_predictions(model: str) -> None:
    counts = COUNT_MODELS[model]
    x = np.array([300.0, 500.0, 1000.0, 500.0])
    T = np.array([400.0, 400.0, 400.0, 400.0])
    t_x = np.array([400.0, 400.0, 400.0, 390.0])
    alive = counts.probability_alive(PARAMS[model], x, t_x, T)
    expected = counts.expected_purchases(PARAMS[model], 52.0, x, t_x, T)
    assert np.all(np.isfinite(alive)) and np.all((alive[:3] > 0.9) & (alive[:3] <= 1.0))
    # 500 purchases in 390 periods, then 10 silent ones: most likely gone.
    assert 0.0 < alive[3] < 0.05
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    # Buying at about x/T a period and alive: roughly 52 x / T in the next 52 periods.
    rate = x / T * 52
    assert np.all((expected[:3] > 0.8 * rate[:3]) & (expected[:3] < 1.05 * rate[:3]))
    assert expected[1] < expected[2]


def test_one_time_buyers_follow_each_model() -> None:
    zero = (np.zeros(3), np.zeros(3), np.array([1.0, 20.0, 40.0]))
    assert np.all(bgnbd.probability_alive(PARAMS["bg-nbd"], *zero) == 1.0)
    mbg = mbgnbd.probability_alive(PARAMS["mbg-nbd"], *zero)
    pareto = paretonbd.probability_alive(PARAMS["pareto-nbd"], *zero)
    for alive in (mbg, pareto):
        assert np.all((alive > 0) & (alive < 1))
    # Longer silence, lower chance of being alive.
    assert np.all(np.diff(pareto) < 0)


def test_no_repeat_buyers_cannot_identify_the_model() -> None:
    with pytest.raises(InvalidInput, match="no customer made a repeat purchase"):
        bgnbd.fit(np.zeros(50), np.zeros(50), np.full(50, 30.0))


def test_a_handful_of_customers_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 10 customers"):
        paretonbd.fit([1, 2, 0], [3.0, 4.0, 0.0], [10.0, 10.0, 10.0])


def test_recency_beyond_t_is_refused() -> None:
    with pytest.raises(InvalidInput, match="recency must not be larger than T"):
        bgnbd.fit(np.ones(20), np.full(20, 12.0), np.full(20, 10.0))


def test_identical_spend_cannot_identify_gamma_gamma() -> None:
    with pytest.raises(InvalidInput, match="same mean spend"):
        gammagamma.fit(np.ones(20), np.full(20, 9.5))

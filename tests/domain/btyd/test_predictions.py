"""Predictions in one pass equal the separate ones; the Pareto/NBD integral's node counts."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd, fit, paretonbd
from goodwill.domain.btyd.clv import COUNT_MODELS, discounted_purchases
from tests.domain.btyd.test_numerics import PARAMS


def clients() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-time, light and very heavy buyers, last purchases from the start to the end."""
    rng = np.random.default_rng(21)
    x = np.r_[np.zeros(50), rng.integers(1, 30, 200), [1_100.0, 5_000.0, 10_000.0]]
    T = rng.uniform(0.5, 80.0, x.size)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, x.size), 0.0)
    t_x[-3:] = T[-3:]
    return x, t_x, T


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_one_pass_gives_the_same_values_as_separate_calls(name: str) -> None:
    model, params, history = COUNT_MODELS[name], PARAMS[name], clients()
    alive, expected = model.predictions(params, [0.0, 1.0, 52.0, 520.0], *history)
    np.testing.assert_array_equal(alive, model.probability_alive(params, *history))
    for row, t in enumerate([0.0, 1.0, 52.0, 520.0]):
        np.testing.assert_array_equal(expected[row], model.expected_purchases(params, t, *history))


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_a_discounted_year_adds_up_the_months_one_by_one(name: str) -> None:
    model, params, history = COUNT_MODELS[name], PARAMS[name], clients()
    got = discounted_purchases(model, params, *history, horizon=11.5, discount_rate=0.01)
    want = np.zeros(history[0].size)
    previous = np.zeros(history[0].size)
    for k in range(1, 13):
        step = min(float(k), 11.5)
        current = model.expected_purchases(params, step, *history)
        want += (current - previous) / 1.01**step
        previous = current
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_pareto_nbd_predictions_refuse_a_negative_horizon() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        paretonbd.predictions(PARAMS["pareto-nbd"], [1.0, -1.0], [1.0], [2.0], [3.0])


def test_pareto_nbd_integral_with_fewer_nodes_equals_a_96_node_rule(monkeypatch) -> None:
    """Each row gets 8 to 32 nodes by its depth and its singularities; 96 everywhere is the check."""
    rng = np.random.default_rng(5)
    dense = paretonbd._legendre(96)
    for _ in range(40):
        r, alpha, s, beta = np.exp(rng.uniform(np.log(0.01), np.log(50), 4)) * [1, 10, 1, 10]
        x = np.floor(np.exp(rng.uniform(0, np.log(20_000), 500))) - 1
        T = np.exp(rng.uniform(np.log(0.01), np.log(500), 500))
        t_x = np.where(x > 0, T * rng.uniform(0, 1, 500) ** rng.choice([0.1, 1, 10, 100], 500), 0)
        keep = t_x < T
        rows = (x[keep], t_x[keep], T[keep])
        got, got_grad = paretonbd.log_tail_integral(r, alpha, s, beta, *rows, gradient=True)
        _, _, counts = paretonbd._plan((r, alpha, s, beta), *rows, np.zeros(keep.sum()))
        assert counts.min() >= 0 and counts.max() <= 32
        with monkeypatch.context() as patch:
            patch.setitem(paretonbd._RULES, 32, dense)
            original = paretonbd._plan

            def everywhere_32(*args, original=original):
                hard, panels, counts = original(*args)
                return hard, panels, np.where(counts > 0, 32, 0)

            patch.setattr(paretonbd, "_plan", everywhere_32)
            want, want_grad = paretonbd.log_tail_integral(r, alpha, s, beta, *rows, gradient=True)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(got_grad, want_grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shift", [0, 1])
def test_gauss_jacobi_equals_the_hypergeometric_form_where_it_is_used(shift: int) -> None:
    """Up to 30 purchases and a horizon up to twice alpha + T: 16 nodes, 2e-11 relative."""
    rng = np.random.default_rng(3)
    for _ in range(100):
        r, alpha = np.exp(rng.uniform(np.log(0.05), np.log(5))), np.exp(rng.uniform(-0.7, 3.9))
        a, b = np.exp(rng.uniform(np.log(0.1), np.log(20), 2))
        x = rng.integers(0, 31, 400).astype(float)
        t = float(rng.choice([1.0, 13.0, 52.0, 104.0]))
        T = np.maximum(rng.uniform(0.1, 100.0, 400), t / 2.0 - alpha + 1e-9)
        b_post = b + x + shift
        got = bgnbd._jacobi_posterior_purchases(r, a, b_post, x, t / (alpha + T))
        want = bgnbd._hypergeometric_posterior_purchases(r, alpha, a, (b_post, x, T), t)
        np.testing.assert_allclose(got, want, rtol=3e-11, atol=0)


def test_rows_on_a_grid_merge_exactly_as_the_sort_does() -> None:
    """Counts and day-rounded times merge by grid places; any stray value falls back exactly."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 40, 300_000).astype(float)
    T = rng.integers(140, 365, x.size) / 7.0
    t_x = np.where(x > 0, np.floor(T * rng.uniform(0, 1, x.size) * 7.0) / 7.0, 0.0)
    weight = rng.integers(0, 3, x.size).astype(float)
    for stray in (None, 10.0 / 7.0 + 1e-13):
        if stray is not None:
            t_x[5] = stray
            x[5] = max(x[5], 1.0)
        got_cols, got_weight = fit.compress([x, t_x, T], weight)
        order = np.lexsort((T, t_x, x))
        want = [c[order] for c in (x, t_x, T)]
        change = np.r_[True, np.any([c[1:] != c[:-1] for c in want], axis=0)]
        starts = np.flatnonzero(change)
        summed = np.add.reduceat(weight[order], starts)
        keep = summed > 0
        got = np.lexsort(tuple(reversed(got_cols)))
        for g, w in zip(got_cols, want, strict=True):
            np.testing.assert_array_equal(g[got], w[starts][keep])
        np.testing.assert_array_equal(got_weight[got], summed[keep])

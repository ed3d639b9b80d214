"""Expectations interpolated in age within each purchase count equal the exact ones."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd, by_age, fit, mbgnbd
from goodwill.domain.btyd.clv import COUNT_MODELS, discounted_purchases
from goodwill.errors import InvalidInput

N = 20_000


def many_clients(
    rng: np.random.Generator, *, rounded: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mostly one-time and light buyers, some heavy ones; ages from a day to ten years."""
    x = np.r_[
        np.zeros(N // 2),
        rng.integers(1, 40, N // 2 - 40),
        rng.integers(1_000, 10_000, 40),
    ].astype(float)
    T = np.exp(rng.uniform(np.log(1 / 7), np.log(520.0), N))
    if rounded:
        T = np.maximum(np.round(T * 7.0), 1.0) / 7.0
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, N), 0.0)
    return x, t_x, T


def random_params(rng: np.random.Generator) -> dict[str, float]:
    r, alpha = np.exp(rng.uniform(np.log(0.05), np.log(5))), np.exp(rng.uniform(-2.0, 4.0))
    a, b = np.exp(rng.uniform(np.log(0.1), np.log(40), 2))
    return {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}


def client_by_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the grouping off: every client's expectation worked out on its own."""
    monkeypatch.setattr(bgnbd, "MIN_ROWS", 10**12)
    monkeypatch.setattr(by_age, "MIN_ROWS", 10**12)


@pytest.mark.parametrize("module", [bgnbd, mbgnbd], ids=["bg-nbd", "mbg-nbd"])
@pytest.mark.parametrize("rounded", [False, True], ids=["continuous", "whole-days"])
def test_grouped_predictions_equal_each_client_worked_out_alone(
    module, rounded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(11 if rounded else 12)
    horizons = [1.0, 52.0, 520.0]
    for _ in range(12):
        params, history = random_params(rng), many_clients(rng, rounded=rounded)
        alive, got = module.predictions(params, horizons, *history)
        with monkeypatch.context() as patch:
            client_by_client(patch)
            want_alive, want = module.predictions(params, horizons, *history)
        np.testing.assert_array_equal(alive, want_alive)
        # The exact forms agree with each other to 3e-11 (test_predictions): this is well inside.
        np.testing.assert_allclose(got, want, rtol=3e-11, atol=0)


@pytest.mark.parametrize("name", ["bg-nbd", "mbg-nbd"])
def test_three_years_of_discounted_weeks_equal_the_weeks_added_one_by_one(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, rng = COUNT_MODELS[name], np.random.default_rng(4)
    for _ in range(3):
        params, history = random_params(rng), many_clients(rng, rounded=True)
        got = discounted_purchases(model, params, *history, horizon=156, discount_rate=0.0019)
        with monkeypatch.context() as patch:
            client_by_client(patch)
            _, cumulative = model.predictions(params, [float(k) for k in range(1, 157)], *history)
        steps = np.diff(np.vstack([np.zeros(N), cumulative]), axis=0)
        want = (steps * (1.0019 ** -np.arange(1.0, 157.0))[:, None]).sum(axis=0)
        np.testing.assert_allclose(got, want, rtol=3e-11, atol=1e-300)


def test_a_smooth_function_of_age_is_interpolated_within_each_count() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, N).astype(float)
    age = rng.uniform(0.1, 300.0, N)
    asked: list[int] = []

    def exact(xs: np.ndarray, ages: np.ndarray) -> np.ndarray:
        asked.append(xs.size)
        return (xs + 1.0) / (1.0 + np.log(3.0 + ages) ** 2)

    got = by_age.by_count_and_age(exact, x, age, 3.0)
    np.testing.assert_allclose(got, exact(x, age), rtol=1e-13, atol=0)
    # Only the nodes and the check points were worked out exactly, not the clients.
    assert max(asked[:-1]) <= 5 * max(by_age.DEGREES)


def test_a_count_whose_check_fails_is_worked_out_client_by_client() -> None:
    rng = np.random.default_rng(3)
    x = np.r_[np.zeros(N // 2), np.ones(N // 2)]
    age = rng.uniform(0.1, 300.0, N)

    def kinked(xs: np.ndarray, ages: np.ndarray) -> np.ndarray:
        # A kink at age 50 for one purchase: no polynomial in age follows it.
        return np.where(xs == 1, np.abs(ages - 50.0), np.log(4.0 + ages))

    got = by_age.by_count_and_age(kinked, x, age, 4.0)
    np.testing.assert_array_equal(got[x == 1], kinked(x, age)[x == 1])
    np.testing.assert_allclose(got[x == 0], kinked(x, age)[x == 0], rtol=1e-13, atol=0)


def test_a_count_with_fewer_clients_than_its_series_costs_is_worked_out_client_by_client() -> None:
    rng = np.random.default_rng(4)
    # 20 clients with 7 purchases: even the smallest series (12 nodes, 11 checks) costs more
    # evaluations than they do; 100 with 3 purchases all of one age: nothing to interpolate.
    x = np.r_[np.zeros(N - 120), np.full(20, 7.0), np.full(100, 3.0)]
    age = np.r_[rng.uniform(0.1, 300.0, N - 120), rng.uniform(0.1, 300.0, 20), np.full(100, 9.0)]
    asked: list[np.ndarray] = []

    def exact(xs: np.ndarray, ages: np.ndarray) -> np.ndarray:
        asked.append(xs)
        return np.exp(-xs / 10.0) * np.log(2.0 + ages)

    got = by_age.by_count_and_age(exact, x, age, 2.0)
    alone = x > 0
    np.testing.assert_array_equal(got[alone], exact(x[alone], age[alone]))
    assert sorted(set(asked[-2].tolist())) == [3.0, 7.0]  # the one call made client by client


def test_one_absurd_count_is_grouped_by_a_sort_not_a_table_of_every_count() -> None:
    """A trillion purchases in a file would ask a count-indexed table for terabytes."""
    x = np.r_[np.zeros(N - 1), 1e12]
    present, place = fit.count_places(x)
    assert present.tolist() == [0, 10**12] and place[-1] == 1 and not place[:-1].any()
    grouped = by_age.AgeGroups.of(x, np.linspace(1.0, 50.0, N), 2.0)
    assert grouped.counts.tolist() == [0.0, 1e12]
    with pytest.raises(InvalidInput, match="cannot be identified"):
        bgnbd.fit(
            np.r_[1e12, np.ones(50), np.zeros(50)],
            np.r_[10.0, np.full(50, 5.0), np.zeros(50)],
            np.full(101, 20.0),
        )

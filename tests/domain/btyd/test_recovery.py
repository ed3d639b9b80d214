"""Each model recovers the parameters of a population simulated from it."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd, gammagamma, mbgnbd, paretonbd
from tests.domain.btyd import simulate

# 2 (LL_max - LL_true) stays under the chi-square(4) 99.99% point, 23.5, when the fit is right.
LIKELIHOOD_GAP = 23.5 / 2


def test_bg_nbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate.bg_family(
        np.random.default_rng(7), 20_000, *truth.values(), at_first=False
    )
    fit = bgnbd.fit(x, t_x, T)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=0.25), name
    assert fit.log_likelihood - bgnbd.log_likelihood(truth, x, t_x, T).sum() < LIKELIHOOD_GAP


def test_mbg_nbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.6, "alpha": 5.0, "a": 0.9, "b": 3.0}
    x, t_x, T = simulate.bg_family(np.random.default_rng(8), 20_000, *truth.values(), at_first=True)
    fit = mbgnbd.fit(x, t_x, T)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=0.25), name
    assert fit.log_likelihood - mbgnbd.log_likelihood(truth, x, t_x, T).sum() < LIKELIHOOD_GAP


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}
    x, t_x, T = simulate.pareto(np.random.default_rng(9), 20_000, *truth.values())
    fit = paretonbd.fit(x, t_x, T)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=0.3), name
    assert fit.log_likelihood - paretonbd.log_likelihood(truth, x, t_x, T).sum() < LIKELIHOOD_GAP


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    x, m = simulate.spend(np.random.default_rng(10), 10_000, *truth.values())
    fit = gammagamma.fit(x, m)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=0.2), name


def test_fitting_unique_rows_with_counts_equals_fitting_every_row() -> None:
    x, t_x, T = simulate.bg_family(
        np.random.default_rng(11), 3_000, 0.5, 6.0, 0.8, 2.5, at_first=False
    )
    doubled = bgnbd.fit(np.r_[x, x], np.r_[t_x, t_x], np.r_[T, T])
    weighted = bgnbd.fit(x, t_x, T, weights=np.full(x.size, 2.0))
    assert weighted.n_customers == doubled.n_customers == 6_000
    for name in bgnbd.NAMES:
        assert weighted.params[name] == pytest.approx(doubled.params[name], rel=1e-5)


@pytest.mark.parametrize("module", [bgnbd, paretonbd])
def test_a_subsample_warm_start_reaches_the_same_maximum_as_a_cold_fit(module, monkeypatch) -> None:
    from goodwill.domain.btyd import fit as fitting

    x, t_x, T = simulate.pareto(np.random.default_rng(12), 20_000, 0.6, 8.0, 0.8, 12.0)
    monkeypatch.setattr(fitting, "SUBSAMPLE", 1_000)
    warm = module.fit(x, t_x, T)
    monkeypatch.setattr(fitting, "SUBSAMPLE", 10**9)  # no subsample: plain L-BFGS-B
    cold = module.fit(x, t_x, T)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, rel=1e-10, abs=1e-6)
    for name in module.NAMES:
        assert warm.params[name] == pytest.approx(cold.params[name], rel=1e-4), name


def test_merging_rows_survives_a_hash_collision_check() -> None:
    from goodwill.domain.btyd.fit import compress

    rng = np.random.default_rng(13)
    x = rng.integers(0, 5, 5_000).astype(float)
    t = np.floor(rng.uniform(0, 10, x.size) * 7) / 7 * (x > 0)
    (cx, ct), w = compress([x, t], np.ones(x.size))
    keys = set(zip(x.tolist(), t.tolist(), strict=True))
    assert len(cx) == len(keys) and w.sum() == x.size
    assert sorted(zip(cx.tolist(), ct.tolist(), strict=True)) == sorted(keys)


@pytest.mark.parametrize("shift", [0, 1])
def test_the_warm_start_polish_reaches_the_maximum_in_a_few_full_passes(shift, monkeypatch) -> None:
    from goodwill.domain.btyd import fit as fitting

    rng = np.random.default_rng(14)
    x, t_x, T = simulate.bg_family(rng, 40_000, 0.5, 6.0, 0.8, 2.5, at_first=bool(shift))
    # Continuous ages: no two rows alike, as with times measured to the second.
    T = T + rng.uniform(0.0, 1.0 / 7.0, T.size)
    counts = fitting.check_counts(x, t_x, T)
    full_passes = []

    def build(c: fitting.Counts) -> fitting.Objective:
        objective, _ = bgnbd.family_objective(c, shift)
        if c.x.size < counts.x.size:
            return objective

        def counted(theta: np.ndarray) -> tuple[float, np.ndarray]:
            full_passes.append(1)
            return objective(theta)

        return counted

    monkeypatch.setattr(fitting, "SUBSAMPLE", 2_000)
    start = [1.0, 5.0, 1.0, 2.0]
    warm = fitting.maximise_counts("bg", bgnbd.NAMES, build, counts, start)
    polish_passes = len(full_passes)
    cold = fitting.maximise("bg", bgnbd.NAMES, build(counts), start, n_customers=40_000)
    # The polish neither stalls nor falls back to L-BFGS-B (about 20 passes).
    assert polish_passes <= 8
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, rel=1e-12)
    for name in bgnbd.NAMES:
        assert warm.params[name] == pytest.approx(cold.params[name], rel=1e-6), name


def test_rows_measured_continuously_are_fitted_without_merging() -> None:
    from goodwill.domain.btyd.fit import check_counts, compressed, mostly_distinct

    rng = np.random.default_rng(15)
    x, t_x, T = simulate.bg_family(rng, 250_000, 0.5, 6.0, 0.8, 2.5, at_first=False)
    # Ages on whole days repeat (every one-time buyer of a day shares a row): merged.
    assert not mostly_distinct([x, t_x, T])
    assert compressed(check_counts(x, t_x, T)).x.size < 150_000
    # Ages to the second do not: the rows are used as they are, weights all 1.
    T = T + rng.uniform(0.0, 1.0 / 7.0, T.size)
    assert mostly_distinct([x, t_x, T])
    counts = compressed(check_counts(x, t_x, T))
    assert counts.x.size == 250_000 and np.all(counts.weight == 1.0)


def _family(shift: int):  # type: ignore[no-untyped-def]
    return lambda c: bgnbd.family_objective(c, shift)[0]


@pytest.mark.parametrize(
    ("model", "build", "draw"),
    [
        (
            bgnbd,
            _family(0),
            lambda g: simulate.bg_family(g, 30_000, 0.5, 6, 0.8, 2.5, at_first=False),
        ),
        (
            mbgnbd,
            _family(1),
            lambda g: simulate.bg_family(g, 30_000, 0.5, 6, 0.8, 2.5, at_first=True),
        ),
        (paretonbd, paretonbd._objective, lambda g: simulate.pareto(g, 30_000, 0.6, 5, 0.8, 12)),
    ],
)
def test_a_large_fit_finds_the_maximum_without_scipys_optimiser(
    model, build, draw, monkeypatch
) -> None:
    from goodwill.domain.btyd import fit as fitting

    rng = np.random.default_rng(16)
    x, t_x, T = draw(rng)
    # Continuous ages: 30,000 distinct rows, enough for a warm start from 7,500 of them.
    T = T + rng.uniform(0.0, 1.0 / 7.0, T.size)
    lbfgsb = fitting.maximise

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("L-BFGS-B was used")

    monkeypatch.setattr(fitting, "maximise", refused)
    warm = model.fit(x, t_x, T)
    counts = fitting.check_counts(x, t_x, T)
    names = list(warm.params)
    cold = lbfgsb("m", names, build(counts), [1.0, 5.0, 1.0, 5.0], n_customers=x.size)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, rel=1e-12)
    for name in names:
        assert warm.params[name] == pytest.approx(cold.params[name], rel=1e-6), name

"""BG/NBD and MBG/NBD predictions against a 30-digit reference, light to very heavy buyers."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd, mbgnbd

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MBG = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
XS = [0, 1, 2, 10, 100, 1_100, 5_000, 10_000]
TS = [0.5, 1.0, 52.0, 520.0]


def reference(params: dict[str, float], shift: int, t: float, x: int, t_x: float, T: float):
    """P(alive) and E[X(t)] by 30-digit quadrature over the dropout probability's posterior.

    E[X(t) | alive] = E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p], p ~ Beta(a, b+x+shift):
    the model's definition, not the hypergeometric closed form the code uses.
    """
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    r, alpha, a, b = (mp.mpf(params[k]) for k in ("r", "alpha", "a", "b"))
    t, x, t_x, T = mp.mpf(t), mp.mpf(x), mp.mpf(t_x), mp.mpf(T)
    c, n, s = b + x + shift, r + x, t / (alpha + T)
    log_beta = mp.log(mp.beta(a, c))

    # For a < 1, p = u^(1/a) absorbs the density's p^(a-1) singularity at 0 (p^(a-1) dp = du/a).
    k = a if a < 1 else mp.mpf(1)

    def integrand(u):
        p = u ** (1 / k)
        density = mp.exp((a - k) * mp.log(p) + (c - 1) * mp.log1p(-p) - log_beta) / k
        return -mp.expm1(-n * mp.log1p(p * s)) / p * density

    mean = a / (a + c)
    cuts = {min(mean * m, mp.mpf(1)) ** k for m in (0.01, 0.1, 0.5, 0.8, 1, 1.25, 2, 3, 10, 30)}
    given_alive = mp.quad(integrand, sorted(cuts | {mp.mpf(0), mp.mpf(1)}))
    if x + shift > 0:
        alive = 1 / (1 + a / (c - 1) * ((alpha + T) / (alpha + t_x)) ** n)
    else:
        alive = mp.mpf(1)
    return float(alive), float(alive * given_alive)


@pytest.mark.parametrize(("module", "params", "shift"), [(bgnbd, BG, 0), (mbgnbd, MBG, 1)])
def test_heavy_buyers_predictions_equal_a_high_precision_reference(module, params, shift) -> None:
    T = 38.86
    for t_x in (T, 30.0):
        x = np.array(XS, dtype=float)
        recency = np.where(x > 0, t_x, 0.0)
        alive = module.probability_alive(params, x, recency, np.full(x.size, T))
        for t in TS if t_x == T else [52.0]:
            expected = module.expected_purchases(params, t, x, recency, np.full(x.size, T))
            for i, xi in enumerate(XS):
                want_alive, want = reference(params, shift, t, xi, recency[i], T)
                assert alive[i] == pytest.approx(want_alive, rel=1e-9, abs=1e-300)
                assert expected[i] == pytest.approx(want, rel=1e-6)


def test_the_published_heavy_buyer_expects_943_purchases_in_a_year() -> None:
    # r .243, alpha 4.414, a .793, b 2.426 (FHL 2005's CDNOW fit), x = 1,100, t_x = T = 38.86.
    got = bgnbd.expected_purchases(BG, 52.0, [1_100], [38.86], [38.86])[0]
    assert got == pytest.approx(943.01, abs=0.01)


@pytest.mark.parametrize(("module", "params"), [(bgnbd, BG), (mbgnbd, MBG)])
def test_expected_purchases_rise_with_the_number_bought(module, params) -> None:
    x = np.arange(0.0, 10_001.0)
    T = np.full(x.size, 38.86)
    for t in TS:
        expected = module.expected_purchases(params, t, x, np.where(x > 0, T, 0.0), T)
        assert np.all(np.isfinite(expected)) and np.all(np.diff(expected) > 0)


@pytest.mark.parametrize("a", [1.0, 1.0 + 3e-5, 1.0 - 2e-13])
def test_a_dropout_shape_of_one_has_no_singularity(a: float) -> None:
    params = {**BG, "a": a}
    x, T = np.array([0.0, 3.0, 2_000.0]), np.array([38.86, 38.86, 38.86])
    got = bgnbd.expected_purchases(params, 52.0, x, np.array([0.0, 20.0, 38.0]), T)
    for i in range(3):
        _, want = reference(params, 0, 52.0, int(x[i]), [0.0, 20.0, 38.0][i], 38.86)
        assert got[i] == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(
    ("params", "x"),
    [
        ({"r": 0.69, "alpha": 28.7, "a": 41_676.4, "b": 0.88}, 10_000),
        ({"r": 1.97, "alpha": 0.19, "a": 1_042.8, "b": 4_476.5}, 1_000),
        ({"r": 0.51, "alpha": 4.9, "a": 64_443.9, "b": 8_496_708.2}, 10),
    ],
)
def test_a_nearly_certain_dropout_rate_keeps_heavy_buyers_right(params, x) -> None:
    # a and b + x in the thousands: both hypergeometric forms overflow in float64.
    got = bgnbd.expected_purchases(params, 52.0, [x], [30.0], [38.86])[0]
    _, want = reference(params, 0, 52.0, x, 30.0, 38.86)
    assert got == pytest.approx(want, rel=1e-6)

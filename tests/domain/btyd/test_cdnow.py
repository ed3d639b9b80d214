"""The published CDNOW estimates, reproduced to three significant figures."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd, gammagamma, mbgnbd, paretonbd


def three_figures(value: float) -> float:
    return float(f"{value:.3g}")


def test_bg_nbd_matches_fader_hardie_lee_2005(cdnow) -> None:
    fit = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: three_figures(v) for k, v in fit.params.items()} == {
        k: three_figures(v) for k, v in published.items()
    }
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert fit.converged and fit.n_customers == 2357


def test_pareto_nbd_matches_the_published_comparison(cdnow) -> None:
    fit = paretonbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert {k: three_figures(v) for k, v in fit.params.items()} == {
        k: three_figures(v) for k, v in published.items()
    }
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.05)


def test_gamma_gamma_matches_the_fader_hardie_note(cdnow) -> None:
    repeat = cdnow["x"] > 0
    fit = gammagamma.fit(cdnow["x"][repeat], cdnow["m"][repeat])
    assert fit.n_customers == 946
    published = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert {k: three_figures(v) for k, v in fit.params.items()} == {
        k: three_figures(v) for k, v in published.items()
    }


def test_mbg_nbd_fits_cdnow_at_least_as_well_as_bg_nbd(cdnow) -> None:
    bg = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    mbg = mbgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert mbg.log_likelihood == pytest.approx(-9582.1, abs=0.05)
    assert mbg.log_likelihood >= bg.log_likelihood - 1.0


def test_bg_nbd_conditional_expectation_matches_equation_10(cdnow) -> None:
    from scipy.special import hyp2f1

    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    x, t_x, T = cdnow["x"][:200], cdnow["t_x"][:200], cdnow["T"][:200]
    r, alpha, a, b = params.values()
    t = 39.0
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    alive = 1 / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    expected = head * bracket * alive
    got = bgnbd.expected_purchases(params, t, x, t_x, T)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_pareto_nbd_p_alive_matches_the_hypergeometric_form(cdnow) -> None:
    from scipy.special import hyp2f1

    r, alpha, s, beta = 0.553, 10.578, 0.606, 11.669
    x, t_x, T = cdnow["x"][:300], cdnow["t_x"][:300], cdnow["T"][:300]
    # The note's A0 with alpha < beta: 2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t)).
    n = r + s + x

    def term(t: np.ndarray) -> np.ndarray:
        return hyp2f1(n, r + x, n + 1, (beta - alpha) / (beta + t)) / (beta + t) ** n

    a0 = term(t_x) - term(T)
    expected = 1 / (1 + s / n * (alpha + T) ** (r + x) * (beta + T) ** s * a0)
    got = paretonbd.probability_alive({"r": r, "alpha": alpha, "s": s, "beta": beta}, x, t_x, T)
    np.testing.assert_allclose(got, expected, rtol=1e-9)

"""Populations drawn from each model with known parameters, for recovery tests and the bench."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Arrays = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def on_days(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Times in weeks rounded down to whole days, as a summary computed from dates has them."""
    return np.floor(t * 7.0) / 7.0


def ages(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """T in weeks for customers who joined on whole days over a 32-week window."""
    return rng.integers(140, 365, n) / 7.0


def _last_purchase(
    rng: np.random.Generator,
    x: NDArray[np.int64],
    n_events: NDArray[np.int64],
    window: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Time of the x-th of n_events uniform events on [0, window] (0 when x = 0)."""
    k = np.maximum(x, 1)
    draw = rng.beta(k, np.maximum(n_events - k + 1, 1))
    return np.where(x > 0, window * draw, 0.0)


def bg_family(
    rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, *, at_first: bool
) -> Arrays:
    """BG/NBD (at_first=False) or MBG/NBD (dropout possible at the first purchase too)."""
    T = ages(rng, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_events = rng.poisson(lam * T)
    survived = rng.geometric(p) - (1 if at_first else 0)  # repeat purchases before dropping out
    x = np.minimum(survived, n_events)
    t_x = on_days(_last_purchase(rng, x, n_events, T))
    return x.astype(np.float64), t_x, T


def pareto(
    rng: np.random.Generator, n: int, r: float, alpha: float, s: float, beta: float
) -> Arrays:
    T = ages(rng, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    life = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * life)
    t_x = on_days(np.where(x > 0, life * rng.uniform(size=n) ** (1.0 / np.maximum(x, 1)), 0.0))
    return x.astype(np.float64), t_x, T


def spend(
    rng: np.random.Generator, n: int, p: float, q: float, gamma: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Repeat counts x >= 1 and mean spend m_x under Gamma-Gamma."""
    x = 1 + rng.poisson(3.0, n)
    nu = rng.gamma(q, 1.0 / gamma, n)
    mean = rng.gamma(p * x, 1.0 / (nu * x))
    return x.astype(np.float64), mean

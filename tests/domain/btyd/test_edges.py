"""Which fits are edge solutions: a shape parameter alone at an extreme is; a mixing
distribution narrowed to a point (both of its parameters large) is a sound limit and is not."""

from __future__ import annotations

import numpy as np
import pytest

from goodwill.domain.btyd import bgnbd
from goodwill.domain.btyd.edges import edge_reason
from goodwill.domain.btyd.fit import FitResult


def _fit(**params: float) -> FitResult:
    return FitResult("bg-nbd", dict(params), -1000.0, 264, True, 12)


def test_one_shared_dropout_probability_is_a_sound_fit_with_sensible_predictions() -> None:
    # A small shop's real history: a and b both in the tens of thousands and beyond, their
    # ratio a dropout chance of 0.7% per purchase for everyone.
    params = {"r": 0.4956, "alpha": 4.5017, "a": 61322.16, "b": 8537585.9}
    assert edge_reason(_fit(**params)) is None
    x, t_x, age = np.array([0.0, 3.0, 12.0]), np.array([0.0, 20.0, 50.0]), np.array([52.0] * 3)
    expected = bgnbd.expected_purchases(params, 52.0, x, t_x, age)
    assert np.all(np.isfinite(expected)) and np.all(np.diff(expected) > 0)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"r": 0.5, "alpha": 4.0, "a": 6e-8, "b": 5.7e5}, "a = 6e-08"),  # nobody ever drops out
        ({"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 5.7e5}, "b = 5.7e+05"),
        ({"r": 2e6, "alpha": 3.0, "a": 0.8, "b": 2.4}, "r = 2e+06"),
    ],
)
def test_one_parameter_at_an_extreme_beside_an_ordinary_partner_is_an_edge(
    params: dict[str, float], named: str
) -> None:
    reason = edge_reason(_fit(**params))
    assert reason is not None and named in reason

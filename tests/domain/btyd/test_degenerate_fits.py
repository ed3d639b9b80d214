"""Fits a business's own small history can produce: parameters that run far out together."""

import numpy as np

from goodwill.domain.btyd import bgnbd


def test_expected_purchases_stay_finite_when_a_and_b_are_huge() -> None:
    huge = {"r": 0.51, "alpha": 4.9, "a": 64_443.9, "b": 8_496_708.2}
    x, t_x, big_t = np.array([10.0, 0.0]), np.array([40.0, 0.0]), np.array([50.0, 10.0])
    got = bgnbd.expected_purchases(huge, 52.0, x, t_x, big_t)
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    # Beta(a, b) is then nearly a point mass: scaling a and b down by 100 (same mean, still a
    # sharp distribution the quadrature handles) gives nearly the same answer.
    sharp = huge | {"a": huge["a"] / 100, "b": huge["b"] / 100}
    assert np.allclose(got, bgnbd.expected_purchases(sharp, 52.0, x, t_x, big_t), rtol=0.02)

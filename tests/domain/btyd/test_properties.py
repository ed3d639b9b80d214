"""Properties that hold for any parameters and any customer history."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.domain.btyd.clv import COUNT_MODELS, count_model, discounted_purchases

positive = st.floats(min_value=0.05, max_value=50.0)


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, dict[str, float], float, float, float]:
    model = draw(st.sampled_from(sorted(COUNT_MODELS)))
    names = COUNT_MODELS[model].names
    params = {n: draw(positive) for n in names}
    T = draw(st.floats(min_value=0.5, max_value=500.0))
    x = float(draw(st.integers(min_value=0, max_value=800)))
    t_x = 0.0 if x == 0 else draw(st.floats(min_value=0.0, max_value=1.0)) * T
    return model, params, x, t_x, T


@settings(max_examples=150, deadline=None)
@given(histories())
def test_p_alive_is_a_probability(history) -> None:
    model, params, x, t_x, T = history
    alive = COUNT_MODELS[model].probability_alive(params, [x], [t_x], [T])
    assert np.all(np.isfinite(alive)) and 0.0 <= alive[0] <= 1.0


@settings(max_examples=100, deadline=None)
@given(histories(), st.floats(min_value=0.1, max_value=100.0))
def test_expected_purchases_are_non_negative_and_grow_with_the_horizon(history, t) -> None:
    model, params, x, t_x, T = history
    counts = COUNT_MODELS[model]
    shorter = counts.expected_purchases(params, t, [x], [t_x], [T])[0]
    longer = counts.expected_purchases(params, 2 * t, [x], [t_x], [T])[0]
    assert np.isfinite(shorter) and np.isfinite(longer)
    assert 0.0 <= shorter <= longer * (1 + 1e-9) + 1e-12


@settings(max_examples=40, deadline=None)
@given(histories(), st.floats(min_value=0.0, max_value=0.2))
def test_discounting_never_adds_value(history, rate) -> None:
    model, params, x, t_x, T = history
    counts = count_model(model)
    undiscounted = discounted_purchases(
        counts, params, [x], [t_x], [T], horizon=12, discount_rate=0.0
    )
    discounted = discounted_purchases(
        counts, params, [x], [t_x], [T], horizon=12, discount_rate=rate
    )
    plain = counts.expected_purchases(params, 12.0, [x], [t_x], [T])
    np.testing.assert_allclose(undiscounted, plain, rtol=1e-9, atol=1e-12)
    assert discounted[0] <= undiscounted[0] * (1 + 1e-9) + 1e-12

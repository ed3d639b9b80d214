"""Cadence watch: rhythms learned from purchase histories, and who is overdue."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.domain.cadence import CadenceSettings, Rhythms, learn, overdue
from goodwill.errors import InvalidInput

START = np.datetime64("2020-01-06")


def history(client: object, gaps: list[int], start: np.datetime64 = START) -> tuple[list, list]:
    """One client's purchases: a first day, then one purchase after each gap (in days)."""
    days = start + np.r_[0, np.cumsum(gaps)].astype(np.int64)
    return [client] * days.size, list(days)


def monthly(client: object = "ann", months: int = 24) -> tuple[list, list]:
    return history(client, [30] * months)


def population(
    rng: np.random.Generator,
    n: int,
    *,
    intervals: tuple[int, int] = (2, 30),
    conjugate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clients simulated from the log-normal model: purchases, and each client's (mu, sigma).

    conjugate: (mu, sigma^2) drawn from NIG(ln 30, kappa0 0.2, a0 5, b0 0.4) as the model
    assumes; otherwise mu and sigma independent (mu normal, sigma^2 log-normal).
    """
    k = rng.integers(intervals[0], intervals[1], n)
    if conjugate:
        var = 1.0 / rng.gamma(5.0, 1.0 / 0.4, n)
        mu = rng.normal(np.log(30.0), np.sqrt(var / 0.2))
    else:
        var = np.exp(rng.normal(np.log(0.08), 0.5, n))
        mu = rng.normal(np.log(30.0), 0.7, n)
    sd = np.sqrt(var)
    owner = np.repeat(np.arange(n), k)
    gaps = np.maximum(np.rint(np.exp(rng.normal(mu[owner], sd[owner]))), 1).astype(np.int64)
    ends = np.cumsum(gaps)
    before = np.repeat(np.r_[0, ends[np.cumsum(k)[:-1] - 1]], k)
    start = rng.integers(0, 365, n)
    days = np.r_[start, start[owner] + ends - before] + int(START.astype(np.int64))
    return np.r_[np.arange(n), owner], days, mu, sd


def only(rhythms: Rhythms, client: object) -> int:
    (row,) = np.flatnonzero(rhythms.client == client)
    return int(row)


def test_a_steady_monthly_buyer_away_45_days_is_overdue_in_cycle_1() -> None:
    clients, days = monthly()
    rhythms = learn(clients, days)
    late = overdue(rhythms, as_of=days[-1] + 45)
    assert late.client.tolist() == ["ann"]
    assert late.cycle.tolist() == [1]
    assert late.usual_interval[0] == pytest.approx(30.0)
    assert late.expected[0] == days[-1] + 30
    assert late.days_overdue.tolist() == [15]
    assert late.last[0] == days[-1]


def test_the_same_buyer_25_days_after_the_last_purchase_is_not_overdue() -> None:
    clients, days = monthly()
    assert len(overdue(learn(clients, days), as_of=days[-1] + 25)) == 0


def test_a_buyer_away_three_cycles_is_in_cycle_3() -> None:
    clients, days = monthly()
    late = overdue(learn(clients, days), as_of=days[-1] + 95)
    assert late.cycle.tolist() == [3]
    assert late.days_overdue.tolist() == [65]


def test_an_erratic_buyer_is_not_overdue_at_45_days_but_is_at_300() -> None:
    clients, days = history("eve", [10, 50, 90, 30, 70, 20, 80, 40, 60, 90, 10, 45])
    rhythms = learn(clients, days)
    assert rhythms.threshold[0] > 60
    assert len(overdue(rhythms, as_of=days[-1] + 45)) == 0
    late = overdue(rhythms, as_of=days[-1] + 300)
    assert late.client.tolist() == ["eve"]
    assert late.cycle[0] == 300 // rhythms.usual_interval[0]


def test_two_purchases_give_a_wider_threshold_than_the_same_interval_repeated_20_times() -> None:
    rng = np.random.default_rng(3)
    others, other_days, _, _ = population(rng, 300)
    few_c, few_d = history(-1, [30])
    many_c, many_d = history(-2, [30] * 20)
    rhythms = learn(
        np.r_[others, few_c, many_c],
        np.r_[other_days, np.array(few_d + many_d).astype(np.int64)],
        settings=CadenceSettings(min_purchases=2),
    )
    assert rhythms.priors[0].estimated
    few, many = only(rhythms, -1), only(rhythms, -2)
    assert rhythms.threshold[few] > 1.2 * rhythms.threshold[many]
    assert rhythms.usual_interval[many] == pytest.approx(30.0, rel=0.01)


def test_a_lone_client_with_two_purchases_still_gets_a_wider_threshold_than_one_with_21() -> None:
    few = learn(*history("a", [30]), settings=CadenceSettings(min_purchases=2))
    many = learn(*history("a", [30] * 20), settings=CadenceSettings(min_purchases=2))
    assert not few.priors[0].estimated
    assert few.threshold[0] > many.threshold[0] >= 30.0


def test_a_client_with_few_purchases_is_shrunk_toward_the_business_wide_rhythm() -> None:
    rng = np.random.default_rng(5)
    others, other_days, _, _ = population(rng, 500)
    typical = learn(others, other_days).priors[0].typical_interval
    fast_c, fast_d = history(-1, [5, 5])
    rhythms = learn(np.r_[others, fast_c], np.r_[other_days, np.array(fast_d).astype(np.int64)])
    usual = rhythms.usual_interval[only(rhythms, -1)]
    assert 5.0 < usual < typical


def test_clients_with_fewer_than_min_purchases_have_no_rhythm_and_are_never_overdue() -> None:
    c1, d1 = history("two", [30])
    c2, d2 = history("three", [30, 30])
    rhythms = learn(c1 + c2, d1 + d2)
    assert rhythms.client.tolist() == ["three"]
    assert overdue(rhythms, as_of=START + 3000).client.tolist() == ["three"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 200), min_size=2, max_size=15),
    st.floats(0.05, 0.95),
    st.floats(0.05, 0.95),
)
def test_a_higher_level_never_gives_a_shorter_threshold(gaps, one, other) -> None:
    low, high = sorted((one, other))
    clients, days = history("c", gaps)
    rhythms_low = learn(clients, days, settings=CadenceSettings(level=low))
    rhythms_high = learn(clients, days, settings=CadenceSettings(level=high))
    assert rhythms_low.threshold[0] <= rhythms_high.threshold[0]
    if high - low > 1e-6:
        assert rhythms_low.threshold[0] < rhythms_high.threshold[0]
    np.testing.assert_array_equal(rhythms_low.usual_interval, rhythms_high.usual_interval)


def test_the_level_widens_and_narrows_thresholds_for_a_whole_population() -> None:
    clients, days, _, _ = population(np.random.default_rng(11), 2000)
    thresholds = [
        learn(clients, days, settings=CadenceSettings(level=q)).threshold
        for q in (0.5, 0.8, 0.9, 0.99)
    ]
    assert all(np.all(a < b) for a, b in itertools.pairwise(thresholds))


def test_purchases_on_the_same_day_count_once_with_their_amounts_summed() -> None:
    clients, days = monthly(months=6)
    amounts = [10.0] * len(days)
    rhythms = learn([*clients, "ann", "ann"], [*days, days[2], days[2]], [*amounts, 5.0, 5.0])
    alone = learn(clients, days, amounts)
    assert rhythms.purchases.tolist() == [7]
    np.testing.assert_array_equal(rhythms.threshold, alone.threshold)
    assert rhythms.mean_value[0] == pytest.approx(80.0 / 7)


def test_rhythms_per_category_coffee_monthly_and_equipment_yearly() -> None:
    coffee_c, coffee_d = history("bob", [30] * 36)
    gear_c, gear_d = history("bob", [365, 365, 366], start=START + 10)
    groups = ["coffee"] * len(coffee_d) + ["equipment"] * len(gear_d)
    rhythms = learn(coffee_c + gear_c, coffee_d + gear_d, groups=groups)
    assert rhythms.group is not None
    assert rhythms.client.tolist() == ["bob", "bob"]
    assert rhythms.group.tolist() == ["coffee", "equipment"]
    assert rhythms.usual_interval[0] == pytest.approx(30.0)
    assert rhythms.usual_interval[1] == pytest.approx(365.3, abs=0.5)
    assert [p.group for p in rhythms.priors] == ["coffee", "equipment"]
    late = overdue(rhythms, as_of=coffee_d[-1] + 60)
    assert late.group is not None and late.group.tolist() == ["coffee"]
    assert late.cycle.tolist() == [2]


@pytest.mark.parametrize("conjugate", [True, False], ids=["nig-population", "independent"])
@pytest.mark.parametrize("level", [0.8, 0.9, 0.95])
def test_thresholds_are_calibrated_on_a_simulated_population(conjugate, level) -> None:
    rng = np.random.default_rng(2024)
    clients, days, mu, sd = population(rng, 20_000, conjugate=conjugate)
    rhythms = learn(clients, days, settings=CadenceSettings(level=level))
    assert len(rhythms) == 20_000
    following = np.maximum(np.rint(np.exp(rng.normal(mu, sd))), 1)
    assert np.mean(following > rhythms.threshold) == pytest.approx(1 - level, abs=0.02)


def test_the_prior_recovers_the_population_it_was_simulated_from() -> None:
    clients, days, _, _ = population(np.random.default_rng(8), 20_000)
    prior = learn(clients, days).priors[0]
    assert prior.mean == pytest.approx(np.log(30.0), abs=0.03)
    assert prior.kappa == pytest.approx(0.2, rel=0.15)
    assert prior.scale / (prior.shape - 1) == pytest.approx(0.1, rel=0.1)


def test_cycles_advance_once_per_usual_interval_so_each_missed_cycle_has_one_key() -> None:
    clients, days = monthly()
    rhythms = learn(clients, days)
    keys = []
    for elapsed in range(1, 200):
        late = overdue(rhythms, as_of=days[-1] + elapsed)
        keys += [
            (str(c), str(d), int(n))
            for c, d, n in zip(late.client, late.last, late.cycle, strict=True)
        ]
    cycles = [n for _, _, n in dict.fromkeys(keys)]
    assert cycles == [1, 2, 3, 4, 5, 6]


def test_a_new_purchase_closes_the_overdue_row() -> None:
    clients, days = monthly()
    assert len(overdue(learn(clients, days), as_of=days[-1] + 45)) == 1
    again = learn([*clients, "ann"], [*days, days[-1] + 44])
    assert len(overdue(again, as_of=days[-1] + 45)) == 0


def test_the_overdue_list_puts_the_most_revenue_at_risk_first() -> None:
    a_c, a_d = history("small", [30] * 10)
    b_c, b_d = history("big", [30] * 10)
    c_c, c_d = history("long gone", [30] * 10, start=START - 65)
    amounts = [10.0] * len(a_d) + [100.0] * len(b_d) + [10.0] * len(c_d)
    rhythms = learn(a_c + b_c + c_c, a_d + b_d + c_d, amounts)
    late = overdue(rhythms, as_of=a_d[-1] + 40)
    assert late.client.tolist() == ["big", "long gone", "small"]
    assert late.revenue_at_risk.tolist() == [100.0, 30.0, 10.0]


def test_without_amounts_the_longest_overdue_come_first() -> None:
    a_c, a_d = history("recent", [30] * 10)
    b_c, b_d = history("earlier", [30] * 10, start=START - 20)
    late = overdue(learn(a_c + b_c, a_d + b_d), as_of=a_d[-1] + 40)
    assert late.client.tolist() == ["earlier", "recent"]
    assert np.isnan(late.revenue_at_risk).all()


def test_integer_days_dates_and_sparse_integer_ids_give_the_same_rhythms() -> None:
    clients, days = monthly(months=12)
    as_dates = learn(clients, days)
    as_ints = learn(clients, np.array(days).astype(np.int64))
    huge = learn([10**15] * len(days) + [3, 3], [*days, days[0], days[1]])
    for other in (as_ints, huge):
        np.testing.assert_array_equal(as_dates.threshold[:1], other.threshold[-1:])
        np.testing.assert_array_equal(as_dates.due_by[:1], other.due_by[-1:])
    assert huge.client.tolist() == [10**15]


def test_no_purchases_give_no_rhythms() -> None:
    rhythms = learn(np.array([], dtype=np.int64), np.array([], dtype="datetime64[D]"))
    assert len(rhythms) == 0
    assert len(overdue(rhythms, as_of=START)) == 0


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: CadenceSettings(level=1.0), "level"),
        (lambda: CadenceSettings(min_purchases=1), "min_purchases"),
        (lambda: learn([1, 2], [START]), None),
        (lambda: learn([1], [START], [float("nan")]), "amounts"),
        (lambda: learn([1], [START], groups=["a", "b"]), "groups"),
        (lambda: learn([1], [np.datetime64("NaT")]), "days"),
        (lambda: learn([1], [18000.5]), "days"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(make, field) -> None:
    with pytest.raises(InvalidInput) as raised:
        make()
    assert raised.value.fields.get("field") == field


purchases = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 400), st.integers(1, 500), st.sampled_from("xy")),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(purchases, st.randoms(use_true_random=False), st.booleans())
def test_permuting_the_purchases_gives_the_same_rhythms(rows, random, by_group) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)

    def rhythms(data: list[tuple[int, int, int, str]]) -> Rhythms:
        client, day, amount, group = (np.array(column) for column in zip(*data, strict=True))
        return learn(
            client,
            day,
            amount.astype(float),
            settings=CadenceSettings(min_purchases=2),
            groups=group if by_group else None,
        )

    first, second = rhythms(rows), rhythms(shuffled)
    for name in ("client", "group", "purchases", "last", "expected", "due_by"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.threshold, second.threshold)
    np.testing.assert_allclose(first.mean_value, second.mean_value, rtol=1e-12)
    assert first.priors == second.priors


def test_one_clients_rhythm_with_the_populations_priors_is_their_rhythm_among_everyone() -> None:
    rng = np.random.default_rng(7)
    clients, days = [], []
    for client in range(40):
        gap = int(rng.integers(7, 60))
        start = np.datetime64("2024-01-01") + int(rng.integers(0, 30))
        for n in range(int(rng.integers(2, 12))):
            clients.append(client)
            days.append(start + n * gap + int(rng.integers(-3, 4)))
    everyone = learn(clients, days)
    regulars = [int(c) for c in everyone.client]
    assert len(regulars) > 20
    for client in regulars[::7]:
        mine = [i for i, c in enumerate(clients) if c == client]
        alone = learn([clients[i] for i in mine], [days[i] for i in mine], priors=everyone.priors)
        row = int(np.flatnonzero(everyone.client == client)[0])
        assert alone.usual_interval[0] == pytest.approx(everyone.usual_interval[row], rel=1e-12)
        assert alone.due_by[0] == everyone.due_by[row]


def test_given_priors_do_not_apply_to_rhythms_by_category() -> None:
    everyone = learn([1, 1, 1], ["2024-01-01", "2024-02-01", "2024-03-01"])
    with pytest.raises(ValueError, match="exactly one prior"):
        learn([1, 1], ["2024-01-01", "2024-02-01"], groups=["a", "a"], priors=everyone.priors)

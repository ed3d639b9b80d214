"""BTYD fits and predictions at a million clients with continuous times, against `lifetimes`.

Clients are simulated from each model with continuous ages T (uniform over 20 to 52 weeks, not
rounded to days) and continuous last-purchase times, so almost no two rows are equal and
compressing identical rows saves nothing: the cold, continuous case. Every piece of work is
timed for goodwill and for lifetimes 0.11 in the same run (the machine is shared, so only the
ratio means much), and the values are compared: the log-likelihood at both fits (evaluated by
goodwill), and P(alive) and E[X(52)] at the same parameters (goodwill's ``predictions`` gives both
from one pass; lifetimes has a method for each, and each works out P(alive)). CLV over 12 periods
is timed for each count model with Gamma-Gamma spend.

Run: python -m bench.btyd_models [--size 1000000] [--pareto-size 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from goodwill.domain.btyd import bgnbd, gammagamma, mbgnbd, paretonbd
from goodwill.domain.btyd.clv import count_model, lifetime_value

Arrays = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
BG_TRUTH = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
PARETO_TRUTH = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}
SPEND_TRUTH = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def _last(
    rng: np.random.Generator, x: NDArray[np.int64], end: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The latest of x uniform times on [0, end] (0 when x = 0): end * U^(1/x)."""
    k = np.maximum(x, 1)
    out: NDArray[np.float64] = np.where(x > 0, end * rng.uniform(size=x.size) ** (1.0 / k), 0.0)
    return out


def bg_clients(rng: np.random.Generator, n: int, *, at_first: bool) -> Arrays:
    """BG/NBD (or MBG/NBD) clients, continuous T and t_x."""
    T = rng.uniform(20.0, 52.0, n)
    lam = rng.gamma(BG_TRUTH["r"], 1.0 / BG_TRUTH["alpha"], n)
    p = rng.beta(BG_TRUTH["a"], BG_TRUTH["b"], n)
    # Purchases come at exponential gaps; after each repeat one the client leaves with chance p.
    survived = rng.geometric(p) - (1 if at_first else 0)
    n_events = rng.poisson(lam * T)
    x = np.minimum(survived, n_events)
    # Given n_events on [0, T], the x-th is the x-th order statistic of n_events uniforms.
    k = np.maximum(x, 1)
    t_x = np.where(x > 0, T * rng.beta(k, np.maximum(n_events - k + 1, 1)), 0.0)
    return x.astype(np.float64), t_x, T


def pareto_clients(rng: np.random.Generator, n: int) -> Arrays:
    T = rng.uniform(20.0, 52.0, n)
    lam = rng.gamma(PARETO_TRUTH["r"], 1.0 / PARETO_TRUTH["alpha"], n)
    mu = rng.gamma(PARETO_TRUTH["s"], 1.0 / PARETO_TRUTH["beta"], n)
    life = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * life)
    return x.astype(np.float64), _last(rng, x, life), T


def timed(function: Callable[[], object], repeats: int) -> tuple[float, float, float, object]:
    """Median, fastest and slowest of ``repeats`` runs, and the last value."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), min(times), max(times), value


def line(label: str, ours: tuple[float, float, float], theirs: tuple[float, float, float]) -> str:
    ratio = theirs[0] / ours[0]
    low, high = theirs[1] / ours[2], theirs[2] / ours[1]
    return (
        f"{label:<34} goodwill {ours[0]:7.2f} s | lifetimes {theirs[0]:7.2f} s | "
        f"{ratio:6.1f}x ({low:.1f}-{high:.1f})"
    )


def run(size: int, pareto_size: int, repeats: int, parts: list[str]) -> None:
    print(
        f"{size:,} clients (Pareto/NBD: {pareto_size:,}), continuous T and t_x, "
        f"medians of {repeats}"
    )
    if "fits" in parts:
        fits(np.random.default_rng(20260101), size, pareto_size, repeats)
    if "predictions" in parts:
        predictions(np.random.default_rng(20260102), size, repeats)
    if "clv" in parts:
        lifetime_values(np.random.default_rng(20260103), size, repeats)


def fits(rng: np.random.Generator, size: int, pareto_size: int, repeats: int) -> None:
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    for label, module, fitter, data, reps in (
        ("BG/NBD fit", bgnbd, BetaGeoFitter, bg_clients(rng, size, at_first=False), repeats),
        (
            "MBG/NBD fit",
            mbgnbd,
            ModifiedBetaGeoFitter,
            bg_clients(rng, size, at_first=True),
            repeats,
        ),
        ("Pareto/NBD fit", paretonbd, ParetoNBDFitter, pareto_clients(rng, pareto_size), 1),
    ):
        *ours, fit = timed(lambda m=module, d=data: m.fit(*d), reps)
        *theirs, other = timed(lambda f=fitter, d=data: f().fit(*d), reps)
        theirs_params = {k: float(v) for k, v in other.params_.items()}  # type: ignore[attr-defined]
        their_ll = float(module.log_likelihood(theirs_params, *data).sum())
        ours_ll = fit.log_likelihood  # type: ignore[attr-defined]
        print(
            line(f"{label} (n={data[0].size:,})", ours, theirs)  # type: ignore[arg-type]
            + f" | LL {ours_ll:,.3f} vs {their_ll:,.3f}"
            + f" (rel {abs(ours_ll - their_ll) / abs(their_ll):.1e})"
            + f" | {fit.iterations} iterations",  # type: ignore[attr-defined]
            flush=True,
        )

    x, m = spenders(rng, size)
    *ours, gg = timed(lambda: gammagamma.fit(x, m), repeats)
    *theirs, other = timed(lambda: GammaGammaFitter().fit(x, m), repeats)
    their_gg = {"p": other.params_["p"], "q": other.params_["q"], "gamma": other.params_["v"]}  # type: ignore[attr-defined]
    their_ll = float(gammagamma.log_likelihood(their_gg, x, m).sum())
    print(
        line(f"Gamma-Gamma fit (n={size:,})", ours, theirs)  # type: ignore[arg-type]
        + f" | LL {gg.log_likelihood:,.3f} vs {their_ll:,.3f}",  # type: ignore[attr-defined]
        flush=True,
    )


def spenders(rng: np.random.Generator, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Repeat counts x >= 1 and mean spends under Gamma-Gamma."""
    x = 1.0 + rng.poisson(3.0, n)
    nu = rng.gamma(SPEND_TRUTH["q"], 1.0 / SPEND_TRUTH["gamma"], n)
    return x, rng.gamma(SPEND_TRUTH["p"] * x, 1.0 / (nu * x))


def predictions(rng: np.random.Generator, size: int, repeats: int) -> None:
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    for label, module, fitter_type, data, params in (
        (
            "BG/NBD P(alive) + E[X(52)]",
            bgnbd,
            BetaGeoFitter,
            bg_clients(rng, size, at_first=False),
            BG_TRUTH,
        ),
        (
            "MBG/NBD P(alive) + E[X(52)]",
            mbgnbd,
            ModifiedBetaGeoFitter,
            bg_clients(rng, size, at_first=True),
            BG_TRUTH,
        ),
        (
            "Pareto/NBD P(alive) + E[X(52)]",
            paretonbd,
            ParetoNBDFitter,
            pareto_clients(rng, size),
            PARETO_TRUTH,
        ),
    ):
        fitter = fitter_type()
        fitter.params_ = pd.Series(params)

        def ours_fn(m=module, d=data, p=params):
            # One pass gives both (``predictions``); lifetimes has a method for each.
            alive, expected = m.predictions(p, [52.0], *d)
            return alive, expected[0]

        def theirs_fn(f=fitter, d=data):
            return (
                f.conditional_probability_alive(*d),
                f.conditional_expected_number_of_purchases_up_to_time(52.0, *d),
            )

        *ours, mine = timed(ours_fn, repeats)
        *theirs, their = timed(theirs_fn, repeats)
        gaps = [
            float(np.max(np.abs(a - np.asarray(b)) / np.maximum(np.abs(np.asarray(b)), 1e-300)))
            for a, b in zip(mine, their, strict=True)  # type: ignore[call-overload]
        ]
        print(
            line(label, ours, theirs)  # type: ignore[arg-type]
            + f" | largest relative gap P(alive) {gaps[0]:.1e}, E[X] {gaps[1]:.1e}",
            flush=True,
        )


def lifetime_values(rng: np.random.Generator, size: int, repeats: int) -> None:
    """CLV over 12 periods at 1% a period: each count model's purchases times Gamma-Gamma spend."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    gg = GammaGammaFitter()
    gg.params_ = pd.Series(
        {"p": SPEND_TRUTH["p"], "q": SPEND_TRUTH["q"], "v": SPEND_TRUTH["gamma"]}
    )
    for label, module, fitter_type, data, params in (
        ("BG/NBD", bgnbd, BetaGeoFitter, bg_clients(rng, size, at_first=False), BG_TRUTH),
        ("MBG/NBD", mbgnbd, ModifiedBetaGeoFitter, bg_clients(rng, size, at_first=True), BG_TRUTH),
        ("Pareto/NBD", paretonbd, ParetoNBDFitter, pareto_clients(rng, size), PARETO_TRUTH),
    ):
        x, t_x, T = data
        spend = np.where(x > 0, spenders(rng, size)[1], 0.0)
        counts = fitter_type()
        counts.params_ = pd.Series(params)
        # As fit() sets it: lifetimes' CLV calls predict() at every period's end.
        counts.predict = counts.conditional_expected_number_of_purchases_up_to_time
        model = count_model(module.MODEL)

        def ours_fn(
            model=model, params=params, x=x, t_x=t_x, T=T, spend=spend
        ) -> NDArray[np.float64]:
            mean = gammagamma.expected_spend(SPEND_TRUTH, x, spend)
            return lifetime_value(model, params, x, t_x, T, mean, horizon=12.0, discount_rate=0.01)

        def theirs_fn(counts=counts, x=x, t_x=t_x, T=T, spend=spend) -> NDArray[np.float64]:
            frame = pd.DataFrame({"x": x, "t_x": t_x, "T": T, "m": spend})
            value = gg.customer_lifetime_value(
                counts,
                frame["x"],
                frame["t_x"],
                frame["T"],
                frame["m"],
                time=12,
                discount_rate=0.01,
                freq="M",
            )
            return np.asarray(value, dtype=np.float64)

        *ours, mine = timed(ours_fn, repeats)
        *theirs, their = timed(theirs_fn, repeats)
        gap = float(np.max(np.abs(mine - their) / np.maximum(np.abs(their), 1e-300)))  # type: ignore[operator]
        print(
            line(f"{label} + Gamma-Gamma CLV, 12 periods", ours, theirs)  # type: ignore[arg-type]
            + f" | largest relative gap {gap:.1e}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--pareto-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["fits", "predictions", "clv"],
        choices=["fits", "predictions", "clv"],
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    run(args.size, args.pareto_size, args.repeats, args.parts)


if __name__ == "__main__":
    main()

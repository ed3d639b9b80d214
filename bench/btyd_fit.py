"""BG/NBD and Pareto/NBD fitting time on simulated customers, against `lifetimes` in the same run.

Populations are simulated from each model (customers joining on whole days over 32 weeks, times
in weeks, as a summary computed from dates gives). goodwill's fit is timed end to end (checks,
compression of repeated rows, L-BFGS-B with analytic gradients); the baseline is lifetimes'
BetaGeoFitter / ParetoNBDFitter on the same arrays, and the log-likelihood of both estimates is
evaluated by goodwill so that "same maximum" is checked, not assumed. Where lifetimes cannot be
imported, the baseline is a plain scipy fit: per-row likelihood, no compression, numerical
gradients (BG/NBD only; the Pareto/NBD baseline then needs lifetimes).

Run: python -m bench.btyd_fit [--quick] [--sizes 100000 1000000] [--models BG/NBD Pareto/NBD]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln
from tests.domain.btyd import simulate

from goodwill.domain.btyd import bgnbd, paretonbd

BG_TRUTH = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
PARETO_TRUTH = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}


def plain_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict[str, float]:
    """The straightforward baseline: every row, numerical gradients, Nelder-Mead-free BFGS."""

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
        second = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-12))
            - betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + np.logaddexp(first, second)
        return float(-ll.sum())

    result = minimize(negative, np.zeros(4), method="BFGS")
    return dict(zip(bgnbd.NAMES, np.exp(result.x), strict=True))


def baseline_fitters() -> tuple[
    str, Callable[..., dict[str, float]] | None, Callable[..., dict[str, float]] | None
]:
    try:
        from lifetimes import BetaGeoFitter, ParetoNBDFitter
    except Exception as error:  # lifetimes breaks in several ways on new pandas/numpy
        print(f"lifetimes cannot run here ({error!r}); baseline: plain scipy BG/NBD")
        return "plain scipy", plain_bgnbd, None

    def bg(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict[str, float]:
        fitter = BetaGeoFitter().fit(x, t_x, T)
        return {k: float(v) for k, v in fitter.params_.items()}

    def pareto(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict[str, float]:
        fitter = ParetoNBDFitter().fit(x, t_x, T)
        return {k: float(v) for k, v in fitter.params_.items()}

    return "lifetimes 0.11", bg, pareto


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def run(sizes: list[int], models: list[str]) -> None:
    name, baseline_bg, baseline_pareto = baseline_fitters()
    rng = np.random.default_rng(2024)
    rows = []
    for n in sizes:
        for label, module, data, baseline in (
            (
                "BG/NBD",
                bgnbd,
                simulate.bg_family(rng, n, *BG_TRUTH.values(), at_first=False),
                baseline_bg,
            ),
            (
                "Pareto/NBD",
                paretonbd,
                simulate.pareto(rng, n, *PARETO_TRUTH.values()),
                baseline_pareto,
            ),
        ):
            if label not in models:
                continue
            ours_s, ours = timed(lambda m=module, d=data: m.fit(*d))
            ours_ll = ours.log_likelihood  # type: ignore[attr-defined]
            line = f"{label:<11} n={n:>9,}  goodwill {ours_s:8.2f} s  LL {ours_ll:,.2f}"
            if baseline is not None:
                base_s, base_params = timed(lambda b=baseline, d=data: b(*d))
                base_ll = float(module.log_likelihood(base_params, *data).sum())
                line += (
                    f" | {name} {base_s:8.2f} s  LL {base_ll:,.2f}"
                    f" | {base_s / ours_s:6.1f}x faster, LL difference {ours_ll - base_ll:+.3f}"
                )
            else:
                line += " | no baseline"
            print(line, flush=True)
            rows.append(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 customers")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument(
        "--models", nargs="+", default=["BG/NBD", "Pareto/NBD"], choices=["BG/NBD", "Pareto/NBD"]
    )
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [100_000, 1_000_000])
    run(sizes, args.models)


if __name__ == "__main__":
    main()

"""Expectations that depend on a client's purchase count and age alone, interpolated in age.

Under BG/NBD and MBG/NBD, what a living client will buy depends on their repeat purchases x and
their age T only (the last purchase enters through P(alive)). A million clients have a few
dozen distinct counts; within one count the expectation is a smooth function of
v = ln(alpha + T), analytic in a strip of half-width pi around the real line (its singularities
sit where alpha + T <= 0), so a Chebyshev interpolant on a dozen or two points reproduces it to
rounding. Evaluating the interpolant costs a few multiply-adds a client, where the expectation
itself costs a hypergeometric function or a quadrature rule of 16 logarithms and exponentials.

Nothing is assumed: each count's interpolant is checked against the exact expectation at the
points between its nodes, and a count whose check fails at every degree tried, or which has
fewer clients than its series would cost evaluations, is evaluated client by client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from goodwill.domain.btyd.fit import FloatArray, count_places

# The exact expectation at arrays of (purchase count, age); it must accept any count and any age
# above -alpha.
Exact = Callable[[FloatArray, FloatArray], FloatArray]

# Degrees tried, smallest first; a count takes the first whose check holds.
DEGREES = (12, 16, 24, 32, 48, 64)
# Largest gap allowed at a check point, relative to the value there. The exact expectation is
# itself two forms that agree to about 3e-11 (a quadrature rule for light buyers and short
# horizons, the hypergeometric function elsewhere), so a count whose ages straddle the switch
# carries that step; anything tighter would refuse the interpolant for noise, not for error.
TOLERANCE = 1e-11
# Below this many clients in all, the grouping costs more than it saves.
MIN_ROWS = 4096
# Rows evaluated together in the recurrence: three 32 KiB arrays stay in a core's cache.
_BLOCK = 4096


@cache
def _nodes(degree: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Chebyshev points of the first kind on [-1, 1], the matrix from values at them to the
    series' coefficients, and the check points (the extrema, halfway between nodes)."""
    k = np.arange(degree)
    theta = np.pi * (k + 0.5) / degree
    to_coefficients = np.cos(np.outer(k, theta)) * (2.0 / degree)
    to_coefficients[0] /= 2.0
    checks = np.cos(np.pi * np.arange(1, degree) / degree)
    return np.cos(theta), to_coefficients, checks


def _first_degree(half: FloatArray) -> NDArray[np.intp]:
    """Where in DEGREES to start each interval: the expectation is analytic within pi of the
    real line in ln(alpha + T), so on an interval of half-width L its Chebyshev series converges
    like rho^-n, rho = pi/L + sqrt(1 + (pi/L)^2). Start at the first degree that rate brings to
    1e-12: a wide span of ages needs more points than a narrow one, and trying the smaller
    degrees first would cost their evaluations for nothing."""
    width = np.pi / np.maximum(half, 1e-9)
    rho = width + np.sqrt(1.0 + width * width)
    needed = np.log(1e12) / np.log(rho)
    place = np.searchsorted(np.asarray(DEGREES, dtype=np.float64), needed)
    out: NDArray[np.intp] = np.minimum(place, len(DEGREES) - 1).astype(np.intp)
    return out


def _series(coefficients: FloatArray, y: FloatArray) -> FloatArray:
    """The Chebyshev series at y (Clenshaw's recurrence), a cache-sized block at a time."""
    out = np.empty_like(y)
    for start in range(0, y.size, _BLOCK):
        yy = y[start : start + _BLOCK]
        two_y = yy * 2.0
        b1 = np.zeros_like(yy)
        b2 = np.zeros_like(yy)
        work = np.empty_like(yy)
        for c in coefficients[:0:-1]:
            np.multiply(two_y, b1, out=work)
            work -= b2
            work += c
            b1, b2, work = work, b1, b2
        np.multiply(yy, b1, out=work)
        work -= b2
        work += coefficients[0]
        out[start : start + _BLOCK] = work
    return out


@dataclass(frozen=True)
class AgeGroups:
    """Clients grouped by purchase count, each group's ages as positions in its own interval.

    Built once for a set of clients and used for every horizon asked about them.
    """

    x: FloatArray
    age: FloatArray
    order: NDArray[np.intp]  # rows sorted by count
    starts: NDArray[np.intp]  # where each count's rows begin in that order
    counts: FloatArray  # each group's purchase count
    centre: FloatArray  # each group's interval of ln(alpha + T): centre and half-width
    half: FloatArray
    position: FloatArray  # each sorted row's place in its group's interval, in [-1, 1]

    @classmethod
    def of(cls, x: FloatArray, age: FloatArray, alpha: float) -> AgeGroups:
        present, place = count_places(x)
        # A stable sort of small integers is a radix sort: a few milliseconds for a million.
        key = place.astype(np.int16) if present.size < 2**15 else place
        order = np.argsort(key, kind="stable")
        sizes = np.bincount(place, minlength=present.size)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        v = np.log(alpha + age[order])
        low = np.minimum.reduceat(v, starts)
        high = np.maximum.reduceat(v, starts)
        centre = (low + high) / 2.0
        half = (high - low) / 2.0
        width = np.repeat(np.where(half > 0, half, 1.0), sizes)
        position = np.clip((v - np.repeat(centre, sizes)) / width, -1.0, 1.0)
        return cls(
            x=x,
            age=age,
            order=order,
            starts=starts,
            counts=present.astype(np.float64),
            centre=centre,
            half=half,
            position=position,
        )

    def evaluate(self, exact: Exact, alpha: float) -> FloatArray:
        """``exact`` at every client, interpolated within each count where that checks out."""
        sizes = np.diff(np.append(self.starts, self.x.size))
        coefficients = self._interpolants(exact, alpha, sizes)
        ordered = np.empty_like(self.position)
        by_hand: list[NDArray[np.intp]] = []
        for g, start in enumerate(self.starts):
            rows = slice(start, start + sizes[g])
            series = coefficients.get(g)
            if series is None:
                by_hand.append(np.arange(start, start + sizes[g]))
            else:
                ordered[rows] = _series(series, self.position[rows])
        if by_hand:
            sorted_rows = np.concatenate(by_hand)
            picked = self.order[sorted_rows]
            ordered[sorted_rows] = exact(self.x[picked], self.age[picked])
        out = np.empty_like(ordered)
        out[self.order] = ordered
        return out

    def _interpolants(
        self, exact: Exact, alpha: float, sizes: NDArray[np.intp]
    ) -> dict[int, FloatArray]:
        """Each group's Chebyshev coefficients, for the groups worth one whose check holds."""
        # A count is worth a series when it has more clients than the series costs evaluations
        # (its nodes and its checks: twice its degree).
        start = _first_degree(self.half)  # each group's place in DEGREES to start at
        worth = (sizes > 2 * np.asarray(DEGREES)[start]) & (self.half > 0)
        left, start = np.flatnonzero(worth), start[worth]
        found: dict[int, FloatArray] = {}
        for step, degree in enumerate(DEGREES):
            trying = left[start <= step]
            if not trying.size:
                continue
            nodes, to_coefficients, checks = _nodes(degree)
            values = self._at(exact, alpha, trying, nodes)
            coefficients = values @ to_coefficients.T
            expected = self._at(exact, alpha, trying, checks)
            got = np.stack([_series(c, checks) for c in coefficients])
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.max(np.abs(got - expected) / np.abs(expected), axis=1)
            exact_zero = np.all(got == expected, axis=1)  # a horizon of 0: nothing to buy
            good = exact_zero | (np.isfinite(gap) & (gap <= TOLERANCE))
            found |= {int(g): c for g, c in zip(trying[good], coefficients[good], strict=True)}
            # The groups that failed go on to the next degree, with those starting there.
            keep = ~np.isin(left, trying[good])
            left, start = left[keep], start[keep]
        return found

    def _at(
        self, exact: Exact, alpha: float, groups: NDArray[np.intp], points: FloatArray
    ) -> FloatArray:
        """``exact`` at ``points`` of each group's interval (rows: groups)."""
        v = self.centre[groups, None] + self.half[groups, None] * points[None, :]
        x = np.repeat(self.counts[groups], points.size)
        out: FloatArray = exact(x, np.exp(v.ravel()) - alpha).reshape(groups.size, points.size)
        return out


def by_count_and_age(exact: Exact, x: FloatArray, age: FloatArray, alpha: float) -> FloatArray:
    """``exact(x, age)`` for every client, interpolated in age within each count where it pays."""
    if x.size < MIN_ROWS:
        return exact(x, age)
    return AgeGroups.of(x, age, alpha).evaluate(exact, alpha)


__all__ = ["DEGREES", "TOLERANCE", "AgeGroups", "by_count_and_age"]

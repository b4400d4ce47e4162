"""Tolerances for random experiments, computed from the parameters.

Every Monte Carlo or training comparison in the companion accepts a deviation
only up to a bound that the parameters determine, at a stated false-alarm
probability (:data:`FALSE_ALARM`, at most 1e-6 per assertion): a correct
implementation fails an assertion with probability at most that, whatever K,
eps, the sample size or the seed.

* :func:`bernstein_radius` (rigorous): the mean of ``n`` independent draws of a
  variable with variance ``sigma2`` and ``|X - mean| <= bound`` lies within the
  radius of its expectation except with probability ``false_alarm``
  (Bernstein's inequality). It needs no normal approximation, so it holds for
  rare events too (a class drawn with probability 1e-6 in 1e5 draws).
* :func:`frequency_radius`: the same for the frequency of an event of
  probability ``p``; 0 when ``p`` is 0 or 1 (the frequency is then exact).
* :func:`variance_radius`: the sample variance (``ddof=0``) of ``n`` draws
  against the true variance, from the first four central moments.
* :func:`normal_quantile`: the two-sided normal quantile, for comparisons that
  rest on a central limit theorem (stated where used).
* :func:`variance_ratio_band`: the range of a sample variance over the true
  one, for ``n`` normal draws (chi-square; stated where used).
* :func:`summation_slack`: the floating-point error of a computed mean, so an
  exact agreement (variance 0) is not failed by rounding.

A one-sided claim about a random quantity (``d > 0``, ``d <= 0`` ...) is decided by
the interval its bound gives at the false-alarm probability (:func:`side`): it is
*confirmed* when every value of the interval satisfies it, *refuted* when none does,
and *undecided* when the interval holds values of both sides. :func:`interval_finding`
makes the statistical :class:`~derivations.engine.finding.Finding` of that decision; an
undecided one makes its claim's verdict *undecided*, not an erratum
(:func:`derivations.engine.registry.verdict_of`).
"""
from __future__ import annotations

import math
import operator
from statistics import NormalDist
from typing import Literal

import numpy as np

from derivations.engine.finding import Finding

__all__ = [
    "FALSE_ALARM",
    "bernstein_radius",
    "frequency_radius",
    "variance_radius",
    "normal_quantile",
    "variance_ratio_band",
    "summation_slack",
    "Side",
    "side",
    "interval_finding",
]

#: False-alarm probability of each assertion that compares a random result with its prediction.
FALSE_ALARM = 1e-6


def _check(n, false_alarm):
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    if not 0.0 < false_alarm < 1.0:
        raise ValueError(f"false_alarm must lie in (0, 1); got {false_alarm!r}")


def bernstein_radius(n: int, sigma2, bound, false_alarm: float = FALSE_ALARM):
    """Radius ``t`` with ``P(|mean of n draws - expectation| >= t) <= false_alarm``.

    Bernstein's inequality for independent draws with variance ``sigma2`` and
    ``|X - E X| <= bound``: ``P(|mean - E X| >= t) <= 2 exp(-n t^2 / (2 sigma2 + 2 bound t / 3))``.
    Solving for ``t`` with ``L = log(2 / false_alarm)`` gives
    ``t = bound L / (3n) + sqrt((bound L / (3n))^2 + 2 sigma2 L / n)``.
    Works elementwise on arrays.

    Used in: chapters 3 and 4 (the bounds of ch3.expected_loss, ch4.fresh_same_point, ch4.soft_optimum,
        ch4.regression_same_point)

    >>> round(float(bernstein_radius(10_000, 0.25, 0.5)), 4)       # a fair coin, 1e4 tosses
    0.0272
    >>> float(bernstein_radius(100, 0.0, 0.0))                      # no randomness: exact
    0.0
    """
    _check(n, false_alarm)
    s2, b = np.asarray(sigma2, dtype=float), np.asarray(bound, dtype=float)
    if np.any(s2 < 0) or np.any(b < 0):
        raise ValueError("sigma2 and bound must be >= 0")
    L = math.log(2.0 / false_alarm)
    a = b * L / (3.0 * n)
    return a + np.sqrt(a * a + 2.0 * s2 * L / n)


def frequency_radius(n: int, p, false_alarm: float = FALSE_ALARM):
    """Bernstein radius for the frequency of an event of probability ``p`` in ``n`` draws.

    ``0`` exactly where ``p`` is 0 or 1: the frequency is then deterministic.

    Used in: chapters 3 and 4 (the bounds of ch3.keep_probability, ch3.flip_distribution, ch4.once_memorises)

    >>> round(float(frequency_radius(200_000, 0.9)), 5)
    0.00364
    >>> float(frequency_radius(200_000, 0.0))
    0.0
    """
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p must lie in [0, 1]; got {p!r}")
    return bernstein_radius(n, p * (1 - p), np.maximum(p, 1 - p), false_alarm) * ((p > 0) & (p < 1))


def variance_radius(n: int, values, probabilities, false_alarm: float = FALSE_ALARM) -> float:
    """Radius for the sample variance (``ddof=0``) of ``n`` draws of a discrete variable.

    The variable takes ``values[j]`` with ``probabilities[j]``. With ``mu`` its
    mean, the sample variance is ``mean((X - mu)^2) - (mean X - mu)^2``; the
    first term is a mean of bounded draws with known variance ``mu4 - sigma^4``
    and the second is at most the square of the radius of the mean. Each gets
    half the false-alarm budget.

    Used in: chapter 3 (the bound of ch3.loss_variance)

    >>> round(variance_radius(10_000, [0.0, 1.0], [0.5, 0.5]), 6)    # a fair coin: only (mean - 1/2)^2 is random
    0.001028
    """
    x, p = np.asarray(values, dtype=float), np.asarray(probabilities, dtype=float)
    mu = float(p @ x)
    d2 = (x - mu) ** 2
    var = float(p @ d2)
    mu4 = float(p @ d2 ** 2)
    spread = float(np.max(d2[p > 0])) if np.any(p > 0) else 0.0
    t_sq = float(bernstein_radius(n, max(mu4 - var * var, 0.0), max(var, spread - var), false_alarm / 2))
    t_mean = float(bernstein_radius(n, var, float(np.max(np.abs(x[p > 0] - mu))) if np.any(p > 0) else 0.0,
                                    false_alarm / 2))
    return t_sq + t_mean ** 2


def normal_quantile(false_alarm: float = FALSE_ALARM) -> float:
    """``z`` with ``P(|Z| > z) = false_alarm`` for a standard normal ``Z``.

    Used in: chapter 4 (through :func:`variance_ratio_band`)

    >>> round(normal_quantile(1e-6), 3)
    4.892
    """
    if not 0.0 < false_alarm < 1.0:
        raise ValueError(f"false_alarm must lie in (0, 1); got {false_alarm!r}")
    return NormalDist().inv_cdf(1.0 - false_alarm / 2.0)


def variance_ratio_band(n: int, false_alarm: float = FALSE_ALARM) -> tuple[float, float]:
    """``(lo, hi)`` with ``P(s^2 / sigma^2 outside [lo, hi]) <= false_alarm`` for ``n`` independent normal draws.

    ``s^2`` is the sample variance (``ddof=1``): ``(n - 1) s^2 / sigma^2`` is chi-square
    with ``nu = n - 1`` degrees of freedom. Its quantiles by Wilson and Hilferty's
    cube-root normal approximation, ``nu (1 - 2/(9 nu) -+ z sqrt(2/(9 nu)))^3`` with
    ``z`` the two-sided :func:`normal_quantile`; at false-alarm 1e-6 and ``n >= 50`` each
    exact tail (checked in mpmath) stays below ``false_alarm / 2``. Rests on the draws
    being normal: say why where it is used.

    Used in: chapter 4 (the band of ch4.fresh_same_point)

    >>> [round(v, 3) for v in variance_ratio_band(200)]
    [0.583, 1.57]
    """
    _check(n, false_alarm)
    if n < 2:
        raise ValueError(f"a sample variance needs n >= 2; got {n}")
    nu = n - 1
    z, c = normal_quantile(false_alarm), 2.0 / (9.0 * nu)
    return max(1.0 - c - z * math.sqrt(c), 0.0) ** 3, (1.0 - c + z * math.sqrt(c)) ** 3


def summation_slack(n: int, max_abs, dtype=np.float64) -> float:
    """A bound on the rounding error of a mean of ``n`` floats of magnitude at most ``max_abs``.

    Recursive summation of ``n`` terms errs by at most ``(n - 1) u sum|x_i|``
    (``u`` the unit roundoff), so the mean errs by at most ``n u max_abs``, plus
    one rounding for the division. Tiny next to any statistical radius; it keeps
    an exact agreement (variance 0) from failing on rounding alone.

    Used in: chapter 3 (the Monte Carlo bounds at the reader's values)

    >>> summation_slack(10, 1.0) < 1e-14
    True
    """
    u = float(np.finfo(dtype).eps) / 2
    return float((n + 1) * u * float(np.max(np.abs(max_abs))))


#: What an interval at the stated false-alarm probability says of a one-sided claim about the quantity it bounds.
Side = Literal["confirmed", "refuted", "undecided"]
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def side(lo: float, hi: float, op: str, at: float = 0.0) -> Side:
    """Where the interval ``[lo, hi]`` of a random quantity ``d`` (at a stated false-alarm probability) puts the
    claim ``d op at`` (``op`` one of ``<``, ``<=``, ``>``, ``>=``): ``"confirmed"`` when every value of the interval
    satisfies it, ``"refuted"`` when none does, ``"undecided"`` when the interval holds both the claimed side and
    its negation. Its ends are values of the interval: ``d > 0`` is not confirmed by ``[0, 1]``.

    >>> side(0.1, 0.3, ">"), side(-0.3, -0.1, ">"), side(-0.1, 0.3, ">")
    ('confirmed', 'refuted', 'undecided')
    >>> side(0.0, 0.2, ">="), side(0.0, 0.2, ">"), side(-0.2, 0.0, "<")
    ('confirmed', 'undecided', 'undecided')
    >>> side(0.02, 0.04, "<=", at=0.05)                  # the claim d <= 0.05
    'confirmed'
    """
    if op not in _OPS:
        raise ValueError(f"a one-sided claim is one of {', '.join(_OPS)}; got {op!r}")
    lo, hi = float(lo), float(hi)
    if not lo <= hi:
        raise ValueError(f"an interval needs lo <= hi; got [{lo!r}, {hi!r}]")
    holds = _OPS[op]
    at_lo, at_hi = holds(lo, at), holds(hi, at)           # the claimed side is a half-line: the ends decide
    if at_lo and at_hi:
        return "confirmed"
    if not at_lo and not at_hi:
        return "refuted"
    return "undecided"


def interval_finding(statement: str, lo: float, hi: float, op: str, at: float = 0.0, *, observed: str = "",
                     bound: str = "", note: str = "") -> Finding:
    """The statistical finding that ``d op at`` holds, decided by the interval ``[lo, hi]`` of ``d`` at the stated
    false-alarm probability (:func:`side`; ``bound`` says how the interval was obtained): it holds when confirmed,
    fails when refuted, and is *undecided* (neither) when the interval straddles ``at``.

    >>> interval_finding("smoothing lowers the ECE", -0.03, -0.01, "<").mark
    'ok'
    >>> f = interval_finding("smoothing lowers the ECE", -0.01, 0.02, "<")
    >>> f.mark, f.ok, f.failed
    ('undecided', False, False)
    >>> interval_finding("smoothing lowers the ECE", 0.01, 0.02, "<").failed
    True
    """
    where = side(lo, hi, op, at)
    return Finding("statistical", statement, where == "confirmed", observed=observed, bound=bound, note=note,
                   undecided=where == "undecided")

"""Chapter 5's statistics: intervals that resample the images and the seeds jointly, and decisions that take the
seed (one training run) as the unit.

**What varies.** A claim of chapter 5 is about *training*: what hard labels, label smoothing or temperature scaling
do to a network. Two things are drawn at random: the training run (a seed draws the split, the initial weights and
the flips) and the test images. The seeds' test sets are not independent samples: they are drawn from the same
1,797 digits and share most of their images (at the defaults about 70 % of any two). Resampling each seed's test
images on its own, as if they were independent, makes the intervals too narrow (issue 33).

* :class:`JointBootstrap`: each resample draws the 1,797 images with replacement *once* (an image drawn twice counts
  twice in every seed whose test set holds it) and the seeds with replacement; a statistic of a seed is computed on
  its test images with those counts, and pooled over the drawn seeds. The resamples are shared by every network, so
  differences between networks are paired (same images, same seeds).
* :func:`seed_interval`: the interval of a pooled statistic at a false-alarm probability, ``value -+ t se``, with
  ``se`` the resamples' standard deviation times ``sqrt(S / (S - 1))`` (the bootstrap's plug-in variance of a mean
  over ``S`` seeds is ``(S - 1) / S`` of the usual one) and ``t`` Student's quantile with ``S - 1`` degrees of freedom:
  the seed is the unit, and ``S`` seeds measure their own spread with ``S - 1`` degrees of freedom.
* Decisions, at :data:`SEED_FALSE_ALARM` (each end of the interval a one-sided bound at that probability, as in
  :mod:`derivations.chapters.ch5.paired`): a one-sided claim is *confirmed* when the whole interval lies on its side,
  *refuted* when none of it does, *undecided* otherwise
  (:func:`derivations.engine.stats.side`); an equivalence (two one-sided tests, :func:`equivalence`) is confirmed
  when the interval lies inside ``(-margin, margin)``, refuted when it lies wholly beyond one end. A claim that holds
  only when all of its tests confirm it (an intersection-union test) is falsely confirmed with probability at most
  the false-alarm probability of one test.

Decisions about the images alone (is a network calibrated with *these* confidences? is the fraction of labels
flipped once ``eps``?) do not depend on the training runs' variation: they keep the companion's
:data:`~derivations.engine.stats.FALSE_ALARM` (1e-6; :func:`binomial_region`).

>>> round(t_quantile(0.995, 9), 4), round(t_quantile(0.975, 1000), 3)
(3.2498, 1.962)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from derivations.engine.stats import FALSE_ALARM, side

__all__ = ["SEED_FALSE_ALARM", "MARGIN", "t_quantile", "JointBootstrap", "seed_interval", "Decision", "direction",
           "equivalence", "binomial_region", "paired_t"]

#: False-alarm probability of each decision about training (each end of its interval a one-sided bound): it covers
#: the draw of the training runs (seeds: split, initial weights, flips) and of the test images, jointly. Not the
#: companion's 1e-6: with the seed as the unit, ``S`` seeds give ``S - 1`` degrees of freedom, and at 1e-6 Student's
#: quantile is 10.7 for 10 seeds, 6.7 for 20, which no effect of these networks reaches at a cost a rerun can afford;
#: at 1e-3 it is 4.30 for 10 seeds. The same as :data:`derivations.chapters.ch5.paired.SEED_FALSE_ALARM`.
SEED_FALSE_ALARM = 1e-3
#: The margin of "about as well" (:func:`equivalence`), fixed before the measurements and independent of the test
#: set's calibrated floor: two hundredths of expected calibration error, the size of the differences between
#: calibration methods that Guo et al. (2017, Table 1) report as such.
MARGIN = 0.02


@lru_cache(maxsize=None)
def t_quantile(p: float, df: int) -> float:
    """``q`` with ``P(T <= q) = p`` for Student's ``T`` with ``df`` degrees of freedom (``1/2 <= p < 1``), from the
    regularised incomplete beta function in mpmath, ``P(T > t) = I_{df/(df + t^2)}(df/2, 1/2) / 2``, by bisection.
    """
    if not 0.5 <= p < 1.0:
        raise ValueError(f"p must lie in [1/2, 1); got {p!r}")
    if int(df) != df or df < 1:
        raise ValueError(f"df must be an integer >= 1; got {df!r}")
    if p == 0.5:
        return 0.0
    import mpmath

    with mpmath.workdps(30):
        tail = mpmath.mpf(1) - mpmath.mpf(p)

        def above(t):
            return mpmath.betainc(df / 2, 0.5, 0, df / (df + t * t), regularized=True) / 2

        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while above(hi) > tail:
            lo, hi = hi, 2 * hi
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if above(mid) > tail else (lo, mid)
            if hi - lo <= mpmath.mpf(10) ** -15 * hi:
                break
        return float((lo + hi) / 2)


class JointBootstrap:
    """``B`` resamples of the images and of the seeds, drawn together (seeded).

    ``W[b, i]``: how many times image ``i`` of the ``images`` is drawn in resample ``b`` (the images are drawn with
    replacement, once for all seeds); ``V[b, s]``: how many times seed ``s`` of the ``seeds`` is. A seed's statistic
    on resample ``b`` is computed on its own test images, each counted ``W[b, i]`` times; the pooled statistic is
    the mean of the seeds' with the counts ``V[b]``.

    >>> j = JointBootstrap(images=5, seeds=3, B=4, seed=0)
    >>> j.W.sum(axis=1).tolist(), j.V.sum(axis=1).tolist()
    ([5, 5, 5, 5], [3.0, 3.0, 3.0, 3.0])
    """

    def __init__(self, images: int, seeds: int, B: int, seed):
        for name, v in (("images", images), ("seeds", seeds), ("B", B)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
        rng = np.random.default_rng(seed)
        self.images, self.seeds, self.B = int(images), int(seeds), int(B)
        picks = rng.integers(0, images, size=(B, images)) + images * np.arange(B)[:, None]
        self.W = np.bincount(picks.ravel(), minlength=B * images).reshape(B, images).astype(np.uint16)
        drawn = rng.integers(0, seeds, size=(B, seeds)) + seeds * np.arange(B)[:, None]
        self.V = np.bincount(drawn.ravel(), minlength=B * seeds).reshape(B, seeds).astype(float)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_float", None)                      # a cache: not pickled (results.shared)
        return state

    @property
    def counts(self) -> np.ndarray:
        """``W`` as floats ``(B, images)`` (kept after the first use: every product reads it)."""
        if getattr(self, "_float", None) is None:
            self._float = self.W.astype(float)
        return self._float

    def means(self, index, columns) -> tuple[np.ndarray, np.ndarray]:
        """Per-image ``columns`` ``(n, c)`` of one seed's test images ``index`` (indices into all the images): their
        means over all its test images ``(c,)``, and on every resample ``(B, c)``, each image counted as often as
        the resample drew it.

        >>> j = JointBootstrap(images=4, seeds=2, B=3, seed=1)
        >>> full, reps = j.means([0, 2], np.array([[1.0], [3.0]]))
        >>> float(full[0]), bool(np.allclose(reps[:, 0], (j.W[:, 0] * 1.0 + j.W[:, 2] * 3.0) / (j.W[:, 0] + j.W[:, 2])))
        (2.0, True)
        """
        index = np.asarray(index)
        C = np.asarray(columns, dtype=float).reshape(len(index), -1)
        spread = np.zeros((self.images, C.shape[1] + 1))
        spread[index, :-1] = C
        spread[index, -1] = 1.0
        R = self.counts @ spread
        return C.mean(axis=0), R[:, :-1] / R[:, -1:]

    def pool(self, per_seed) -> tuple[float, np.ndarray, np.ndarray]:
        """``[(value, reps), ...]``, one per seed: the mean of the values, the resamples' pooled values (each the
        mean over the seeds drawn in that resample), and the seeds' values."""
        values = np.array([float(v) for v, _ in per_seed])
        if len(values) != self.seeds:
            raise ValueError(f"expected one statistic per seed ({self.seeds}); got {len(values)}")
        reps = np.stack([np.asarray(r, dtype=float) for _, r in per_seed], axis=1)        # (B, S)
        return float(values.mean()), (reps * self.V).sum(axis=1) / self.seeds, values


def seed_interval(value: float, reps: np.ndarray, seeds: int, false_alarm: float = SEED_FALSE_ALARM):
    """``(lo, hi, se, t)``: ``value -+ t se`` with ``se`` the standard deviation of the joint resamples ``reps``
    times ``sqrt(S / (S - 1))`` and ``t`` Student's quantile ``t_{1 - a, S - 1}`` (``a = false_alarm``,
    ``S = seeds``): each end is a one-sided bound at false-alarm ``a``; at ``a = 0.025``, the usual 95% interval.

    >>> lo, hi, se, t = seed_interval(1.0, np.array([0.9, 1.1, 1.0, 1.0]), seeds=2, false_alarm=0.025)
    >>> round(se, 4), round(t, 3), round(lo, 3)
    (0.1155, 12.706, -0.467)
    """
    if seeds < 2:
        raise ValueError(f"an interval over seeds needs at least 2; got {seeds}")
    se = float(np.std(reps, ddof=1)) * math.sqrt(seeds / (seeds - 1))
    t = t_quantile(1.0 - false_alarm, seeds - 1)
    return value - t * se, value + t * se, se, t


@dataclass(frozen=True)
class Decision:
    """A decision about a statistic ``d``: its value, the interval at the false-alarm probability, its standard
    error, Student's quantile, and the outcome (``"confirmed"``, ``"refuted"``, ``"undecided"``)."""

    value: float
    lo: float
    hi: float
    se: float
    t: float
    outcome: str
    false_alarm: float

    @property
    def ratio(self) -> float:
        """``value / se`` (``inf`` with the sign of ``value`` when ``se`` is 0)."""
        return self.value / self.se if self.se > 0 else math.copysign(math.inf, self.value)

    def text(self, digits: int = 4) -> str:
        """``+0.1234 [0.1000, 0.1468] (t = 10.3)``: the value, its interval, and the value in standard errors."""
        r = self.ratio
        ratio = f"{r:+.1f} SE" if math.isfinite(r) else "exact"
        return f"{self.value:+.{digits}f} [{self.lo:+.{digits}f}, {self.hi:+.{digits}f}] ({ratio})"


def direction(value: float, reps: np.ndarray, seeds: int, op: str, at: float = 0.0,
              false_alarm: float = SEED_FALSE_ALARM) -> Decision:
    """Is ``d op at`` (``op`` one of ``<``, ``<=``, ``>``, ``>=``)? Confirmed, refuted or undecided by the interval
    of :func:`seed_interval` (:func:`derivations.engine.stats.side`).

    >>> direction(0.5, np.array([0.45, 0.55, 0.5]), 3, ">", false_alarm=0.025).outcome
    'confirmed'
    >>> direction(0.05, np.array([0.0, 0.1, 0.05]), 3, ">", false_alarm=0.025).outcome
    'undecided'
    """
    lo, hi, se, t = seed_interval(value, reps, seeds, false_alarm)
    return Decision(value, lo, hi, se, t, side(lo, hi, op, at), false_alarm)


def equivalence(value: float, reps: np.ndarray, seeds: int, margin: float = MARGIN,
                false_alarm: float = SEED_FALSE_ALARM) -> Decision:
    """Is ``|d| < margin``? Two one-sided tests (TOST), ``d < margin`` and ``d > -margin``, each decided by the same
    interval at ``false_alarm``: confirmed when the interval lies inside ``(-margin, margin)`` (both confirmed),
    refuted when it lies wholly beyond one end (either refuted), else undecided. "Not refuted" is not "holds".

    >>> equivalence(0.001, np.array([0.0, 0.002, 0.001]), 3, margin=0.02, false_alarm=0.025).outcome
    'confirmed'
    >>> equivalence(0.05, np.array([0.049, 0.051, 0.05]), 3, margin=0.02, false_alarm=0.025).outcome
    'refuted'
    >>> equivalence(0.015, np.array([0.0, 0.03, 0.015]), 3, margin=0.02, false_alarm=0.025).outcome
    'undecided'
    """
    lo, hi, se, t = seed_interval(value, reps, seeds, false_alarm)
    below, above = side(lo, hi, "<", margin), side(lo, hi, ">", -margin)
    outcome = ("confirmed" if below == above == "confirmed" else
               "refuted" if "refuted" in (below, above) else "undecided")
    return Decision(value, lo, hi, se, t, outcome, false_alarm)


def paired_t(per_seed) -> float:
    """The plain paired t statistic across seeds, ``mean / (sd / sqrt(S))`` (shown beside the joint interval: it
    ignores that the seeds' test sets share images).

    >>> round(paired_t([1.0, 2.0, 3.0]), 3)
    3.464
    """
    d = np.asarray(per_seed, dtype=float)
    sd = float(d.std(ddof=1))
    return float(d.mean()) / (sd / math.sqrt(len(d))) if sd > 0 else math.copysign(math.inf, float(d.mean()))


def binomial_region(n: int, p: float, false_alarm: float = FALSE_ALARM) -> tuple[int, int]:
    """``(lo, hi)``: the counts of a Binomial(``n``, ``p``) draw that are accepted at ``false_alarm``, each tail
    below ``lo`` and above ``hi`` holding at most ``false_alarm / 2`` (exact, in log space). A count outside is
    refused; every count outside the region has that small a probability.

    >>> binomial_region(300, 0.1)
    (8, 58)
    >>> binomial_region(100, 0.0), binomial_region(100, 1.0)
    ((0, 0), (100, 100))
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1]; got {p!r}")
    if p in (0.0, 1.0):
        k = int(round(n * p))
        return k, k
    k = np.arange(n + 1)
    logpmf = (math.lgamma(n + 1) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in k])
              + k * math.log(p) + (n - k) * math.log1p(-p))
    pmf = np.exp(logpmf - logpmf.max())
    pmf /= pmf.sum()
    below = np.cumsum(pmf)                      # P(X <= k)
    above = np.cumsum(pmf[::-1])[::-1]          # P(X >= k)
    lo = int(np.argmax(below > false_alarm / 2))            # the smallest k with P(X <= k) > alarm / 2
    hi = int(n - np.argmax(above[::-1] > false_alarm / 2))  # the largest k with P(X >= k) > alarm / 2
    return lo, hi

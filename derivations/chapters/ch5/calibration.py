"""Calibration measured properly: top-label ECE (equal-width and equal-mass bins), NLL, Brier, temperature scaling,
paired bootstrap intervals over test images, and tests that go both ways.

Everything here is a function of predicted probabilities (or logits) and labels, so each check can be run on
planted data as well as on the trained networks (``tests/test_ch5.py`` does both).

* **Confidence and correctness** (:func:`top_label`): the confidence of an image is ``max_j q_j``, its correctness 1
  when the predicted class is the true one. A model is *calibrated* (top-label, as in Guo et al., 2017) when among
  the images it predicts with confidence ``c`` a fraction ``c`` is right.
* **ECE** (:func:`ece`): ``sum_b (n_b / n) |acc_b - conf_b|`` over ``bins`` bins of the confidence, of equal width
  on ``[0, 1]`` (Guo et al. use 15) or of equal mass (each bin the same number of images, ranked by confidence).
* **NLL and Brier** (:func:`scores`): ``-log q_y`` and ``sum_j (q_j - [j = y])^2`` per image: proper scoring rules.
* **Temperature scaling** (:func:`fit_temperature`): the temperature ``T`` that minimises the NLL of ``softmax(z / T)``
  on the validation split. In ``beta = 1 / T`` the NLL is convex (a log-sum-exp plus a linear term), with
  derivative ``mean_i (E_{q(beta)}[z_i] - z_{i,y_i})`` and second derivative ``mean_i Var_{q(beta)}(z_i) >= 0``:
  safeguarded Newton steps on its root, inside a bracket that halves at every step, find the minimiser to rounding.
* **Temperature scaling by the ECE** (:func:`fit_temperature_ece`): the temperature on a grid with the lowest
  validation ECE, for a comparison that chooses the temperature by the same criterion as a smoothing strength chosen
  by validation ECE.
* **Intervals** (:func:`statistics`, :class:`Pooled`): every statistic on joint resamples of the images and the seeds
  (:class:`~derivations.chapters.ch5.inference.JointBootstrap`), shared by every network, so differences between
  networks are *paired*; pooled over the seeds, with Student's ``t`` on ``S - 1`` degrees of freedom
  (:func:`~derivations.chapters.ch5.inference.seed_interval`).
* **Decisions** about training at :data:`~derivations.chapters.ch5.inference.SEED_FALSE_ALARM`: over- or
  under-confident (:func:`confidence_test`: the interval of mean confidence minus accuracy wholly above or below 0),
  one network's statistic lower than another's (:func:`lower_test`).
* **Calibrated?** (:func:`calibration_test`): consistency resampling (Bröcker and Smith, 2007). If the model were
  calibrated, each image would be right with probability its confidence; redrawing the correctness that way gives
  the distribution of the ECE a calibrated model with *these* confidences shows on *these* many images (never 0:
  its mean is the ECE's *floor*). The model is called calibrated unless its ECE lies more than ``z`` standard
  deviations of that distribution above its mean, ``z`` at :data:`~derivations.engine.stats.FALSE_ALARM` (this
  decision is about the test images' correctness draws at fixed confidences, not about training).

>>> P = np.array([[0.9, 0.1]] * 10)
>>> y = np.array([0] * 9 + [1])                 # right 9 times in 10 at confidence 0.9: calibrated
>>> round(ece(P, y), 12), round(ece(np.array([[1.0, 0.0]] * 10), y), 12)
(0.0, 0.1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivations.chapters.ch5.inference import SEED_FALSE_ALARM, Decision, JointBootstrap, direction, seed_interval
from derivations.engine.stats import FALSE_ALARM, normal_quantile
from derivations.library.numeric import log_softmax, softmax

__all__ = ["BINS", "KINDS", "BETA_RANGE", "top_label", "bin_index", "ece", "reliability", "Scores", "scores",
           "fit_temperature", "fit_temperature_ece", "TEMPERATURES", "temperature_margin", "statistics", "Pooled", "pooled",
           "Test", "confidence_test",
           "lower_test", "calibration_test", "calibrated_ece"]

#: Confidence bins of the ECE (Guo et al., 2017, Table 1: M = 15).
BINS = 15
#: The two binnings: equal width on [0, 1], equal mass (the same number of images in each bin).
KINDS = ("width", "mass")


def top_label(P, y) -> tuple[np.ndarray, np.ndarray]:
    """Confidence ``max_j q_j`` and correctness (1.0 when ``argmax_j q_j`` is the label) of each row.

    >>> [a.tolist() for a in top_label(np.array([[0.7, 0.3], [0.4, 0.6]]), np.array([0, 0]))]
    [[0.7, 0.6], [1.0, 0.0]]
    """
    P = np.asarray(P, dtype=float)
    return P.max(axis=1), (P.argmax(axis=1) == np.asarray(y)).astype(float)


def bin_index(conf, bins: int = BINS, kind: str = "width") -> np.ndarray:
    """The bin of each confidence: ``floor(bins c)`` (``c = 1`` in the last bin) for equal width; for equal mass
    the rank of ``c`` among all (ties in order of appearance) times ``bins / n``, so the bins' counts differ by at
    most one.

    >>> bin_index(np.array([0.05, 0.5, 1.0]), 10).tolist(), bin_index(np.array([0.9, 0.1, 0.5, 0.7]), 2, "mass").tolist()
    ([0, 5, 9], [1, 0, 0, 1])
    """
    c = np.asarray(conf, dtype=float)
    if kind == "width":
        return np.minimum((c * bins).astype(int), bins - 1)
    if kind != "mass":
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    out = np.empty(len(c), dtype=int)
    out[np.argsort(c, kind="stable")] = np.arange(len(c)) * bins // max(len(c), 1)
    return out


def ece(P, y, bins: int = BINS, kind: str = "width") -> float:
    """The expected calibration error ``sum_b (n_b / n) |acc_b - conf_b|`` = ``(1/n) sum_b |sum_{i in b} (c_i - a_i)|``.

    >>> ece(np.array([[0.8, 0.2], [0.6, 0.4]]), np.array([0, 1]), bins=2)      # one bin: |1.4 - 1| / 2
    0.2
    """
    c, a = top_label(P, y)
    idx = bin_index(c, bins, kind)
    return float(np.abs(np.bincount(idx, c - a, minlength=bins)).sum() / len(c))


def reliability(P, y, bins: int = BINS, kind: str = "width"):
    """Per bin: mean confidence, accuracy and count (``nan`` for an empty bin): a reliability diagram's points."""
    c, a = top_label(P, y)
    idx = bin_index(c, bins, kind)
    n = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(idx, c, minlength=bins) / n, np.bincount(idx, a, minlength=bins) / n, n


@dataclass(frozen=True)
class Scores:
    """Per image of one model on one split: confidence, correctness, NLL, Brier score, and the equal-width and
    equal-mass bins of the confidence."""

    conf: np.ndarray
    correct: np.ndarray
    nll: np.ndarray
    brier: np.ndarray
    width: np.ndarray
    mass: np.ndarray

    def __len__(self) -> int:
        return len(self.conf)


def scores(logits, y, bins: int = BINS) -> Scores:
    """:class:`Scores` from logits (any real rows) and labels.

    >>> s = scores(np.log(np.array([[0.75, 0.25]])), np.array([1]))
    >>> round(float(s.nll[0]), 6), float(s.brier[0]), float(s.conf[0])      # -log 0.25; 0.75^2 + 0.75^2
    (1.386294, 1.125, 0.75)
    """
    Z = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    P = softmax(Z)
    c, a = top_label(P, y)
    rows = np.arange(len(Z))
    onehot = np.zeros_like(P)
    onehot[rows, y] = 1.0
    return Scores(c, a, -log_softmax(Z)[rows, y], ((P - onehot) ** 2).sum(axis=1),
                  bin_index(c, bins, "width"), bin_index(c, bins, "mass"))


#: The range of ``beta = 1 / T`` :func:`fit_temperature` searches.
BETA_RANGE = (1e-3, 1e3)


def fit_temperature(logits, y, lo: float = BETA_RANGE[0], hi: float = BETA_RANGE[1], tol: float = 1e-12) -> float:
    """The temperature ``T`` in ``[1/hi, 1/lo]`` minimising the mean NLL of ``softmax(z / T)`` (exact to rounding).

    Solved in ``beta = 1 / T`` in ``[lo, hi]``, where the NLL is convex: Newton steps on the root of its derivative,
    kept inside a bracket that bisection halves whenever a Newton step would leave it. When the derivative does not
    change sign in ``[lo, hi]`` the minimiser is the end it points to (a model right on every image with a margin
    would have ``T -> 0``; one whose logits are all equal has a flat NLL, and ``T = 1`` is returned).

    >>> z = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]); y = np.array([0, 0, 1, 1])
    >>> round(fit_temperature(z, y), 6)        # 3 of 4 right at margin 2/T: softmax must give 3/4, T = 2 / log 3
    1.820478
    """
    Z = np.asarray(logits, dtype=float)
    Z = Z - Z.max(axis=1, keepdims=True)
    zy = Z[np.arange(len(Z)), np.asarray(y)]
    if np.all(np.ptp(Z, axis=1) == 0):
        return 1.0

    def slope(b: float) -> tuple[float, float]:
        Q = softmax(b * Z)
        m = (Q * Z).sum(axis=1)
        return float((m - zy).mean()), float(((Q * Z * Z).sum(axis=1) - m * m).mean())

    a, b = lo, hi
    ga, gb = slope(a)[0], slope(b)[0]
    if ga >= 0:
        return 1.0 / a
    if gb <= 0:
        return 1.0 / b
    x = 1.0
    for _ in range(200):
        g, h = slope(x)
        if g == 0:
            break
        a, b = (x, b) if g < 0 else (a, x)
        newton = x - g / h if h > 0 else np.nan
        step = newton if a < newton < b else 0.5 * (a + b)
        done = abs(step - x) <= tol * x
        x = step
        if done:
            break
    return 1.0 / x


def temperature_margin(logits, y, T: float, step: float = 0.01) -> float:
    """How much moving ``T`` by the factor ``1 -+ step`` raises the mean NLL, as the smallest ratio ``NLL(moved) /
    NLL(T)`` over the moves that stay inside the searched range (at an end of it, only the move inwards): at least 1
    when ``T`` minimises the NLL.

    >>> z = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]); y = np.array([0, 0, 1, 1])
    >>> temperature_margin(z, y, fit_temperature(z, y)) >= 1.0, temperature_margin(z, y, 1.0) >= 1.0
    (True, False)
    """
    Z = np.asarray(logits, dtype=float)
    nll = lambda t: float(-log_softmax(Z / t)[np.arange(len(Z)), np.asarray(y)].mean())   # noqa: E731
    lo_t, hi_t = 1.0 / BETA_RANGE[1], 1.0 / BETA_RANGE[0]
    moves = [f for f in (1.0 - step, 1.0 + step) if lo_t <= T * f <= hi_t]
    base = nll(T)
    return min(nll(T * f) / base for f in moves) if moves and base > 0 else 1.0


#: The temperatures :func:`fit_temperature_ece` tries: 241 values, evenly spaced in ``log T`` from 1/20 to 20.
TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))


def fit_temperature_ece(logits, y, bins: int = BINS) -> float:
    """The temperature of :data:`TEMPERATURES` with the lowest ECE (``bins`` equal-width bins) of ``softmax(z / T)``
    on these images (the smallest such ``T`` when several tie). The ECE is not smooth in ``T``: a grid, not Newton.

    >>> z = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]); y = np.array([0, 0, 1, 1])
    >>> T = fit_temperature_ece(z, y, bins=1)        # 3 of 4 right: confidence 0.75 at T = 2 / log 3 = 1.82
    >>> bool(abs(T - 1.8205) < 0.05), round(ece(softmax(z / T), y, bins=1), 3)
    (True, 0.0)
    """
    Z = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    errors = [ece(softmax(Z / T), y, bins) for T in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(errors))])


def statistics(joint: JointBootstrap, index, runs: list, bins: int = BINS) -> list[dict]:
    """Each statistic of each :class:`Scores` of ``runs`` (the networks of one seed, on its test images ``index``,
    indices into all the images): ``{name: (value on all its test images, value on each joint resample)}``, in one
    matrix product for all (:meth:`~derivations.chapters.ch5.inference.JointBootstrap.means`). The ECE's bins are
    those of all the test images (the usual practice); a resample's ECE is ``sum_b |sum_{i in b} w_i (c_i - a_i)| /
    sum_i w_i`` with its image counts ``w``."""
    n = len(index)
    if any(len(s) != n for s in runs):
        raise ValueError(f"every network must be scored on the seed's {n} test images")
    names = ("accuracy", "confidence", "over", "NLL", "Brier")
    cols, rows = [], np.arange(n)
    for s in runs:
        d = s.conf - s.correct
        cols += [s.correct, s.conf, d, s.nll, s.brier]
        for idx in (s.width, s.mass):
            per_bin = np.zeros((n, bins))
            per_bin[rows, idx] = d
            cols += list(per_bin.T)
    full, R = joint.means(index, np.array(cols).T)
    out, at = [], 0
    for _ in runs:
        stats = {k: (float(full[at + i]), R[:, at + i]) for i, k in enumerate(names)}
        at += len(names)
        for kind in KINDS:
            stats[f"ECE {kind}"] = (float(np.abs(full[at:at + bins]).sum()), np.abs(R[:, at:at + bins]).sum(axis=1))
            at += bins
        out.append(stats)
    return out


@dataclass(frozen=True)
class Pooled:
    """A statistic pooled over the seeds: the mean over the seeds (``value``), its joint resamples (``reps``, images
    and seeds drawn together: :class:`~derivations.chapters.ch5.inference.JointBootstrap`), the seeds' own values
    (``per_seed``). Its standard error and intervals take the seed as the unit
    (:func:`~derivations.chapters.ch5.inference.seed_interval`)."""

    value: float
    reps: np.ndarray
    per_seed: np.ndarray

    @property
    def seeds(self) -> int:
        return len(self.per_seed)

    @property
    def se(self) -> float:
        """Standard error of :attr:`value`: the joint resamples' standard deviation times ``sqrt(S / (S - 1))``."""
        return seed_interval(self.value, self.reps, self.seeds)[2]

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """``value -+ t se`` at the two-sided ``level`` (Student's ``t`` on ``S - 1`` degrees of freedom): centred
        on the estimate (the ECE's resamples are biased upwards, the more so the smaller it is, so their
        percentiles can miss the estimate altogether; :func:`calibrated_ece` measures that bias)."""
        lo, hi, _, _ = seed_interval(self.value, self.reps, self.seeds, (1.0 - level) / 2.0)
        return lo, hi

    def decide(self, op: str, at: float = 0.0, false_alarm: float = SEED_FALSE_ALARM) -> Decision:
        """Is ``value op at``, for the training runs the seeds sample? (:func:`~derivations.chapters.ch5.inference.direction`)"""
        return direction(self.value, self.reps, self.seeds, op, at, false_alarm)

    @property
    def sd(self) -> float:
        """Spread over seeds (standard deviation, ``ddof=1``; 0 for one seed)."""
        return float(self.per_seed.std(ddof=1)) if len(self.per_seed) > 1 else 0.0

    def __sub__(self, other: "Pooled") -> "Pooled":
        return Pooled(self.value - other.value, self.reps - other.reps, self.per_seed - other.per_seed)

    def text(self, digits: int = 3) -> str:
        lo, hi = self.interval()
        return f"{self.value:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def pooled(joint: JointBootstrap, per_seed: list) -> Pooled:
    """Pool ``[(value, reps), ...]`` (one per seed, from :func:`statistics`) over the seeds, each resample over the
    seeds it drew (:meth:`~derivations.chapters.ch5.inference.JointBootstrap.pool`)."""
    return Pooled(*joint.pool(per_seed))


@dataclass(frozen=True)
class Test:
    """A decision: the statistic, its standard error, the bound it was held to and the outcome."""

    value: float
    se: float
    bound: float
    outcome: str

    @property
    def z(self) -> float:
        return self.value / self.se if self.se > 0 else float("inf") * np.sign(self.value)


def confidence_test(p: Pooled, false_alarm: float = SEED_FALSE_ALARM) -> Test:
    """Mean confidence minus accuracy (``p``: the pooled ``"over"`` statistic), for the training runs the seeds
    sample: ``"over-confident"`` when its interval at ``false_alarm`` lies above 0, ``"under-confident"`` below,
    else ``"undecided"``."""
    d = p.decide(">", 0.0, false_alarm)
    outcome = ("over-confident" if d.outcome == "confirmed" else
               "under-confident" if p.decide("<", 0.0, false_alarm).outcome == "confirmed" else "undecided")
    return Test(p.value, d.se, d.t * d.se, outcome)


def lower_test(a: Pooled, b: Pooled, false_alarm: float = SEED_FALSE_ALARM) -> Test:
    """Is ``a`` lower than ``b`` (paired: the same resamples)? ``"lower"`` when the interval of ``b - a`` lies above
    0, ``"higher"`` when below, else ``"undecided"``."""
    diff = b - a
    d = diff.decide(">", 0.0, false_alarm)
    outcome = ("lower" if d.outcome == "confirmed" else
               "higher" if diff.decide("<", 0.0, false_alarm).outcome == "confirmed" else "undecided")
    return Test(d.value, d.se, d.t * d.se, outcome)


def calibrated_ece(runs: list, bins: int = BINS, kind: str = "width", draws: int = 200, seed=0):
    """The ECE a calibrated model with these confidences shows on these images: its mean (the *floor*) and standard
    deviation, pooled over the seeds' :class:`Scores` ``runs`` (mean over seeds). The seeds' test sets share most of
    their images, whose correctness is then not independent from seed to seed: the standard deviation of the mean is
    bounded by the mean of the seeds' standard deviations (reached when they move together), and that bound is used.
    ``draws`` redraws of the correctness, each image right with probability its confidence (consistency resampling),
    seeded.

    >>> s = scores(np.log(np.array([[0.5, 0.5]] * 400)), np.zeros(400, dtype=int))
    >>> floor, sd = calibrated_ece([s]); 0.01 < floor < 0.03 and 0 < sd < floor     # about sqrt(2/pi) * 0.5 / 20
    True
    """
    rng = np.random.default_rng(seed)
    means, variances = [], []
    for s in runs:
        n = len(s)
        idx = s.width if kind == "width" else s.mass
        A = (rng.random((draws, n)) < s.conf).astype(float)
        onehot = np.zeros((n, bins))
        onehot[np.arange(n), idx] = 1.0
        E = np.abs(s.conf @ onehot - A @ onehot).sum(axis=1) / n
        means.append(E.mean())
        variances.append(E.var(ddof=1))
    return float(np.mean(means)), float(np.mean(np.sqrt(variances)))


def calibration_test(runs: list, observed: float, bins: int = BINS, kind: str = "width",
                     false_alarm: float = FALSE_ALARM, draws: int = 200, seed=0) -> Test:
    """Is an ECE of ``observed`` (pooled over the seeds' ``runs``) what a calibrated model with these confidences
    would show? ``"calibrated"`` unless it exceeds the calibrated model's mean ECE by more than ``z`` of its standard
    deviations (then ``"miscalibrated"``). ``value`` is the excess over the floor, ``bound`` the allowed excess."""
    floor, sd = calibrated_ece(runs, bins, kind, draws, seed)
    m = normal_quantile(false_alarm) * sd
    return Test(observed - floor, sd, m, "calibrated" if observed - floor <= m else "miscalibrated")

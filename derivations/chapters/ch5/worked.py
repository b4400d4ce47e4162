"""Chapter 5 at the reader's values: the four ways of using labels on real data, with a network that over-fits.

Data: scikit-learn's bundled digits (:mod:`derivations.chapters.ch5.digits`), 1,797 images of
8 x 8 pixels, ``K = 10`` classes (fixed by the data: chapter 5 does not read K).
Each seed draws its own stratified split, ``Plan.n_train`` training images (12 of
each digit) and the other 1,677 held out, and its own initial weights; the
network (:mod:`derivations.chapters.ch5.mlp`) has one hidden layer of 64 units, about 4,800
weights for 120 images, so hard labels are fitted to a training loss near 0.

For each seed and each mode (hard, soft, flipped afresh, flipped once and kept)
:func:`experiment` keeps the logits on the training and the held-out images.
:func:`summary` reports held-out accuracy, NLL and ECE with their spread over seeds,
and the mean logit gap on the training images against chapter 2's optimum.

The calibration statistic of the findings and claims is the *calibration gap*
``g = sum_j q_j^2 - q_y`` per held-out image (``q`` the predicted distribution,
``y`` the true class): for a calibrated model its expectation is 0 (if the label
is drawn from ``q``, ``E[q_y] = sum_j q_j^2``), it is positive when the model is
over-confident and negative when it is under-confident, and it is bounded, so
its mean over the held-out images is normal to a good approximation (a mean of
1,677 bounded terms): each comparison is a z-test at false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM` per seed (:func:`z_bound`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from derivations.chapters.ch4.training import MODES, expected_calibration_error, logit_gap
from derivations.chapters.ch5 import digits
from derivations.chapters.ch5.mlp import train
from derivations.engine import results
from derivations.engine.finding import Finding, Findings, shown
from derivations.engine.regimes import describe
from derivations.engine.stats import FALSE_ALARM, normal_quantile
from derivations.engine.tex import inline
from derivations.library.numeric import cross_entropy, log_softmax, softmax
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_optimum_gap

__all__ = ["Plan", "Run", "Experiment", "experiment", "calibration_gap", "z_bound", "paired_z", "pooled", "summary",
           "summary_table", "findings"]


@dataclass(frozen=True)
class Plan:
    """Chapter 5's sizes: ``seeds`` seeds from ``seed`` on, ``n_train`` training images (the rest held out),
    an MLP of ``hidden`` units trained for ``steps`` full-batch Adam steps of size ``lr`` decaying linearly to 0.

    About 0.2 s of CPU per seed for all four modes (one BLAS thread)."""

    eps: float
    seed: int = 0
    seeds: int = 5
    n_train: int = 120
    hidden: int = 64
    steps: int = 200
    lr: float = 0.02

    @property
    def K(self) -> int:
        return digits.NUM_CLASSES

    def describe(self) -> str:
        X, y = digits.load()
        return (f"digits: {len(y)} images of 8 x 8 pixels, K = {self.K}; per seed {self.n_train} training images "
                f"({self.n_train // self.K} of each digit) and {len(y) - self.n_train} held out; MLP 64 -> "
                f"{self.hidden} (relu) -> {self.K}, {self.steps} full-batch Adam steps of size {self.lr:g} decaying "
                f"linearly to 0; seeds {self.seed} to {self.seed + self.seeds - 1}; eps = {self.eps:g}")


@dataclass
class Run:
    """One seed and mode: labels, logits on the training and held-out images, the labels trained on, final loss."""

    y_train: np.ndarray
    y_test: np.ndarray
    train_logits: np.ndarray
    test_logits: np.ndarray
    kept_labels: np.ndarray
    train_loss: float

    def test_probs(self) -> np.ndarray:
        return softmax(self.test_logits)


@dataclass
class Experiment:
    """The runs of a plan: ``runs[seed_index][mode]``."""

    plan: Plan
    runs: list

    def each(self, mode: str) -> list[Run]:
        return [r[mode] for r in self.runs]


def _one_seed(plan: Plan, seed: int) -> dict:
    X, y = digits.load()
    tr, te = digits.split(len(y), plan.n_train, seed)
    out = {}
    for m in MODES:
        r = train(X[tr], y[tr], plan.K, m, plan.eps, hidden=plan.hidden, steps=plan.steps, lr=plan.lr, seed=seed)
        z_tr = r.logits(X[tr])
        loss = float((smoothed_cross_entropy(z_tr, y[tr], eps=plan.eps, reduction="none") if m == "soft" else
                      cross_entropy(z_tr, r.kept_labels)).mean())
        out[m] = Run(y[tr], y[te], z_tr, r.logits(X[te]), r.kept_labels, loss)
    return out


@lru_cache(maxsize=8)
def experiment(plan: Plan) -> Experiment:
    """Train every mode at every seed of ``plan`` (cached: the notebook, the findings and the claims share it,
    and so do the processes of a test session: :func:`derivations.engine.results.shared`).

    One BLAS thread: the matrices are small, and threads only contend on a busy machine."""
    from threadpoolctl import threadpool_limits

    def train() -> Experiment:
        with threadpool_limits(limits=1, user_api="blas"):
            return Experiment(plan, [_one_seed(plan, plan.seed + s) for s in range(plan.seeds)])
    return results.shared(f"ch5.experiment.{plan!r}", train)


def calibration_gap(probs, labels) -> np.ndarray:
    """``sum_j q_j^2 - q_y`` per row: 0 in expectation for a calibrated model, > 0 over-confident.

    >>> calibration_gap(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([1, 0])).tolist()
    [1.0, 0.0]
    """
    P = np.asarray(probs, dtype=float)
    return (P * P).sum(axis=1) - P[np.arange(len(P)), labels]


def z_bound(false_alarm: float = FALSE_ALARM) -> float:
    """The two-sided normal quantile a mean must clear, in standard errors (4.89 at 1e-6)."""
    return normal_quantile(false_alarm)


def paired_z(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of ``a - b`` over the held-out images and its standard error (``ddof=1``).

    >>> tuple(round(v, 3) for v in paired_z(np.array([1.0, 2.0, 3.0]), np.zeros(3)))
    (2.0, 0.577)
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def pooled(a: list, b: list) -> tuple[float, float]:
    """The mean over seeds of :func:`paired_z`'s means, and a standard error for it that holds however the seeds'
    estimates correlate (they share images): the mean of their standard errors.

    >>> tuple(round(v, 3) for v in pooled([np.array([1.0, 2.0, 3.0])] * 2, [0.0, 0.0]))
    (2.0, 0.577)
    """
    per = [paired_z(ai, bi) for ai, bi in zip(a, b)]
    return float(np.mean([m for m, _ in per])), float(np.mean([s for _, s in per]))


def _metrics(r: Run) -> dict:
    P = r.test_probs()
    return {"accuracy": float(np.mean(P.argmax(axis=1) == r.y_test)),
            "NLL": float(-log_softmax(r.test_logits)[np.arange(len(P)), r.y_test].mean()),
            "ECE": expected_calibration_error(P, r.y_test),
            "confidence": float(P.max(axis=1).mean()),
            "gap": float(calibration_gap(P, r.y_test).mean()),
            "train logit gap": float(logit_gap(r.train_logits, r.y_train).mean())}


def summary(x: Experiment) -> dict:
    """``{mode: {metric: (mean, sd over seeds)}}``."""
    out = {}
    for m in MODES:
        per = [_metrics(r) for r in x.each(m)]
        out[m] = {k: (float(np.mean([p[k] for p in per])), float(np.std([p[k] for p in per], ddof=1)))
                  for k in per[0]}
    return out


def summary_table(x: Experiment) -> str:
    """Held-out accuracy, NLL, ECE, confidence and calibration gap, mean +- SD over seeds, per mode; and the
    mean logit gap on the training images against chapter 2's optimum."""
    s = summary(x)
    cols = ("accuracy", "NLL", "ECE", "confidence", "gap", "train logit gap")
    lines = [f"{'mode':<11}" + "".join(f"{c:>17}" for c in cols)]
    for m in MODES:
        lines.append(f"{m:<11}" + "".join(f"{s[m][c][0]:>9.3f} ± {s[m][c][1]:<5.3f}" for c in cols))
    star = smoothed_optimum_gap(x.plan.K, x.plan.eps)
    lines.append(f"chapter 2's optimal logit gap log((1-eps)(K-1)/eps) = {star:.3f}" if np.isfinite(star) else
                 f"chapter 2's optimal logit gap: none at eps = {x.plan.eps:g} (no finite optimum: the gap keeps growing)")
    return "\n".join(lines).replace("-0.000", " 0.000")


def findings(x: Experiment) -> Findings:
    """What holds at the reader's eps and seeds (asserted) and what the numbers say (shown, with the reason)."""
    p, z = x.plan, z_bound()
    out = Findings(f"Digits, $\\epsilon = {p.eps:g}$, seeds {p.seed} to {p.seed + p.seeds - 1}",
                   preamble=[describe(p.K, p.eps)])
    hard = x.each("hard")
    fitted = [float(np.mean(r.train_logits.argmax(axis=1) == r.y_train)) for r in hard]
    out.add(Finding("numeric", "(a) fits its training images", min(fitted) == 1.0,
                    observed=f"training accuracy {min(fitted):.3f} at the worst seed, "
                             f"training loss at most {inline(max(r.train_loss for r in hard), '.1e')}",
                    bound="exact: every image"))
    mean, se = pooled([calibration_gap(r.test_probs(), r.y_test) for r in hard], [0.0] * len(hard))
    out.add(Finding("statistical", "(a) is over-confident on held-out images", mean > z * se,
                    observed=r"mean calibration gap $\sum_j q_j^2 - q_y$ over the "
                             f"seeds {mean:+.4f}, {mean / se:.1f} standard errors above 0",
                    bound=f"z-test, {z:.2f} SE at false-alarm "
                          f"{inline(FALSE_ALARM, 'g')} (SE: the mean of the seeds' SEs, valid however the seeds' splits "
                          "correlate)"))
    once = x.each("flip_once")
    flipped = sum(int(np.sum(r.kept_labels != r.y_train)) for r in once)
    fit = sum(int(np.sum((r.train_logits.argmax(axis=1) == r.kept_labels) & (r.kept_labels != r.y_train)))
              for r in once)
    out.add(Finding("numeric", "(d) memorises the labels it kept", fit == flipped,
                    observed=f"{fit} of the {flipped} flipped training images are "
                             "predicted as their wrong label",
                    bound="exact: every one"))
    s = summary(x)
    verdict = "lower" if abs(s["soft"]["gap"][0]) < abs(s["hard"]["gap"][0]) else "not lower"
    out.add(shown("numeric", "smoothing and calibration (Müller et al.)", f"calibration gap: hard {s['hard']['gap'][0]:+.3f}, "
                  f"soft {s['soft']['gap'][0]:+.3f}; ECE: hard {s['hard']['ECE'][0]:.3f}, soft {s['soft']['ECE'][0]:.3f}"
                  f" ({verdict} with smoothing)", r"reported, not asserted: which way it goes depends on $\epsilon$ and on "
                  "how over-confident hard labels are (ch5.smoothing_calibrates checks it at the defaults)"))
    out.add(shown("numeric", "(c) flipped afresh against (b) soft", f"accuracy {s['flip_fresh']['accuracy'][0]:.3f} vs "
                  f"{s['soft']['accuracy'][0]:.3f}, calibration gap {s['flip_fresh']['gap'][0]:+.3f} vs "
                  f"{s['soft']['gap'][0]:+.3f}", "reported: ch5.fresh_matches_soft tests it at the defaults; at "
                  r"$\epsilon = 0$ the two are hard labels, and above $\frac{K-1}{K}$ chapter 4 shows why they part"))
    return out

"""Chapter 4 at the reader's values: training with hard, soft and flipped labels.

Two experiments, sized by :class:`~derivations.chapters.ch4.training.TrainingPlan`:

* :func:`free_logits`: a free logit vector per example (a model that can
  memorise), ``n_free`` copies of the note's one example (true class 1);
* :func:`softmax_regression`: a linear model on 2-D blobs (it cannot memorise).

:func:`free_logit_findings` and :func:`regression_findings` turn each into
findings whose bounds come from the parameters:

* **(b) soft and (c) fresh flips reach the same point.** Free logits: the
  examples of (c) are independent, so their mean probability of the true class
  lies within a Bernstein bound of (b)'s, from the variance that chapter 3's
  noise, propagated through chapter 2's Hessian, predicts
  (:func:`~derivations.chapters.ch4.linear_response.free_logit_spread`). Softmax regression:
  within the Bernstein bound of the linear response along (b)'s path
  (:func:`~derivations.chapters.ch4.linear_response.softmax_regression_spread`).
* **(c) is noisier**: (b)'s examples are identical, (c)'s spread as predicted.
* **(d) flipped once memorises its flipped labels**: every example of (d) is
  exactly hard-label training on the label it kept.

Edge values change the story and the findings say how: at ``eps = 0`` nothing
flips and (b), (c), (d) *are* (a); with ``K = 2`` and ``eps = 1`` every label is
swapped, deterministically, so (b), (c), (d) coincide; above the uniform value
``(K-1)/K`` the comparison of (b) and (c) is shown, not asserted (see
:data:`BEYOND_UNIFORM`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derivations.chapters.ch4.linear_response import Spread, free_logit_spread, soft_gap_path, softmax_regression_spread
from derivations.chapters.ch4.training import (
    MODES,
    TrainingPlan,
    accuracy,
    expected_calibration_error,
    free_logit_runs,
    logit_gap,
    make_blobs,
    softmax_regression_runs,
    true_class_probability,
)
from derivations.engine.finding import Finding, Findings, shown, within
from derivations.engine.regimes import describe, regime
from derivations.engine.stats import FALSE_ALARM, bernstein_radius, frequency_radius, normal_quantile
from derivations.engine.tex import inline
from derivations.library.numeric import softmax
from derivations.library.smoothing import smoothed_optimum_gap, target_levels

__all__ = ["plan", "FreeLogits", "free_logits", "free_logit_findings", "Regression", "softmax_regression",
           "regression_findings", "calibration_table", "calibration_text", "training_table", "chernoff_radius",
           "LABELS", "BEYOND_UNIFORM"]

#: Why (b) and (c) are compared, not asserted equal, above the uniform eps.
BEYOND_UNIFORM = (
    r"above $\epsilon = \frac{K-1}{K}$ the true class gets less target mass than each wrong one, and towards "
    r"$\epsilon = 1$ the noise of a flip along the gap $z_1 - z_j$ vanishes (the label is almost never the true class) "
    r"while the noise among the wrong classes stays; through the curvature of the softmax that leaves fresh flips "
    r"systematically off soft labels by more than their own spread along the gap. Both are still equal in "
    r"expectation at every single step (chapter 3); shown, not asserted.")
#: The false-alarm probability, as LaTeX.
_ALARM = inline(FALSE_ALARM, "g")


def plan(K: int, eps: float, seed: int, n_free: int = 400, n_train: int = 2000, n_test: int = 2000) -> TrainingPlan:
    """The sizes of chapter 4's experiments for these values (see :class:`TrainingPlan`)."""
    return TrainingPlan(K=K, eps=eps, seed=seed, n_free=n_free, n_train=n_train, n_test=n_test)


def _deterministic(K: int, eps: float) -> bool:
    """No randomness in a flip: ``eps = 0`` (never), or ``K = 2`` and ``eps = 1`` (always a swap)."""
    return eps == 0.0 or (K == 2 and eps == 1.0)


def _identical(runs: dict, modes) -> bool:
    return all(np.array_equal(runs[modes[0]].logits, runs[m].logits) for m in modes[1:])


def _f4(x: float) -> str:
    """Four decimals, never "-0.0000"."""
    return f"{round(float(x), 4) + 0.0:.4f}"


# -- free logits -------------------------------------------------------------------------------------
@dataclass
class FreeLogits:
    """The free-logit experiment: runs per mode, and the soft path and spread predicted for it."""

    plan: TrainingPlan
    y: np.ndarray
    runs: dict
    gap_path: np.ndarray
    sd_gap: float
    sd_p: float

    def q(self, mode: str) -> np.ndarray:
        """Final predicted probability of the true class, per example."""
        return true_class_probability(self.runs[mode].logits, self.y)


def free_logits(p: TrainingPlan) -> FreeLogits:
    """Train the four modes on ``p.n_free`` copies of one example of class 1 (index 0)."""
    y = np.zeros(p.n_free, dtype=int)
    runs = free_logit_runs(y, p.K, MODES, p.eps, steps=p.free_steps, lr=p.free_lr, seed=p.seed,
                           record_every=p.record_every, lr_decay=p.free_decay)
    path = soft_gap_path(p.K, p.eps, p.free_steps, p.free_lr, p.free_decay)
    sd_gap, sd_p, _ = free_logit_spread(p.K, p.eps, p.free_steps, p.free_lr, p.free_decay)
    return FreeLogits(p, y, runs, path, sd_gap, sd_p)


def free_logit_findings(x: FreeLogits) -> Findings:
    """The three findings on free logits, with their bounds (see the module docstring)."""
    p, K, eps, N = x.plan, x.plan.K, x.plan.eps, x.plan.n_free
    reg = regime(K, eps)
    out = Findings(f"Free logits: {N} examples of class 1, $K = {K}$, $\\epsilon = {eps:g}$, seed {p.seed}",
                   preamble=[describe(K, eps)])
    q = {m: x.q(m) for m in MODES}
    gap_b = float(logit_gap(x.runs["soft"].logits[:1], x.y[:1])[0])
    u = 2.0 ** -53
    tol = 16 * u * p.free_steps * (1.0 + float(np.max(np.abs(x.gap_path))))
    out.add(Finding("numeric", "(b) follows chapter 2's gradient", abs(gap_b - x.gap_path[-1]) <= tol,
                    observed=f"gap after training {gap_b:.6f}, one-dimensional "
                             f"recursion {x.gap_path[-1]:.6f}",
                    bound=f"agree to within rounding, {inline(tol, '.1e')}"))
    star = smoothed_optimum_gap(K, eps)
    if np.isfinite(star):
        out.add(shown("numeric", "(b) and chapter 2's optimum",
                      rf"gap {_f4(gap_b)}, optimum $\log\frac{{(1-\epsilon)(K-1)}}{{\epsilon}} = {_f4(star)}$; "
                      rf"$p(\text{{true}})$ {q['soft'][0]:.4f}, optimum $1 - \epsilon = {1 - eps:.4f}$",
                      "deterministic: how close (b) gets is a matter of steps (the gap relaxes at rate "
                      rf"$\epsilon(1-\epsilon)\frac{{K}}{{K-1}} = {eps * (1 - eps) * K / (K - 1):.3g}$ per unit step; "
                      f"total step {p.free_step_sum:.0f})"))
    else:
        out.add(shown("numeric", "(b) and chapter 2's optimum", f"gap {_f4(gap_b)} after {p.free_steps} steps",
                      r"no finite optimum at this $\epsilon$: the gap keeps growing " +
                      ("(hard labels)" if eps == 0 else r"towards $-\infty$ (the true class gets nothing)")))

    if _deterministic(K, eps):
        why = (r"$\epsilon = 0$: nothing is flipped, the soft target is one-hot" if eps == 0 else
               r"$K = 2$, $\epsilon = 1$: every label is swapped, and the soft target is the swapped label")
        same = ("hard", "soft", "flip_fresh", "flip_once") if eps == 0 else ("soft", "flip_fresh", "flip_once")
        out.add(Finding("numeric", "(b), (c) and (d) coincide" + (" with (a)" if eps == 0 else ""), _identical(x.runs, same),
                        observed="final logits identical" if _identical(x.runs, same) else "final logits differ",
                        bound="exact",
                        note=why))
        return out

    mean_b, mean_c = float(q["soft"].mean()), float(q["flip_fresh"].mean())
    radius = float(bernstein_radius(N, x.sd_p ** 2, 1.0))
    same_point = Finding("statistical", "(b) and (c) reach the same point", abs(mean_c - mean_b) <= radius,
                         observed=rf"mean $p(\text{{true}})$: soft {mean_b:.5f}, flipped afresh {mean_c:.5f} (difference "
                                  f"{inline(abs(mean_c - mean_b), '.1e')})",
                         bound=f"Bernstein bound {inline(radius, '.1e')} at false-alarm {_ALARM}, from the predicted "
                               f"SD {inline(x.sd_p, '.1e')} of one example")
    if reg in ("beyond uniform", "all flipped"):
        same_point = shown("statistical", same_point.statement, same_point.observed + f" against the bound "
                           f"{inline(radius, '.1e')}", BEYOND_UNIFORM)
    out.add(same_point)

    flips_c = x.runs["flip_fresh"].extra["flips"]
    range_b, range_c = float(np.ptp(q["soft"])), float(np.ptp(q["flip_fresh"]))
    out.add(Finding("numeric", "(c) is noisier", range_b == 0.0 and (range_c > 0) == (flips_c > 0),
                    observed=f"(b)'s {N} examples are identical (range {inline(range_b, 'g')}); (c)'s spread with "
                             f"SD {inline(q['flip_fresh'].std(), '.2e')} across examples (linear response predicts "
                             f"{inline(x.sd_p, '.2e')}); {flips_c} flips in {N * p.free_steps} label draws",
                    bound="exact: (b)'s examples all equal; (c)'s differ exactly when a label was flipped"))

    kept = x.runs["flip_once"].extra["kept_labels"]
    flipped = kept != x.y
    k = int(flipped.sum())
    r = float(frequency_radius(N, eps))
    out.add(Finding("statistical", r"(d): a fraction $\epsilon$ of the labels was flipped",
                    abs(k / N - eps) <= r + 2.0 ** -53 * (k / N),      # k / N: one rounding
                    observed=f"{k} of {N} ({k / N:.4f})",
                    bound=rf"within {r:.4f} of $\epsilon = {eps:g}$ (Bernstein, false-alarm {_ALARM})"))
    p_a = float(q["hard"][0])
    q_kept = softmax(x.runs["flip_once"].logits)[np.arange(N), kept]
    fits = float(np.max(np.abs(q_kept - p_a)))
    flipped_part = (f"; the {k} flipped examples give the true class {inline((1 - p_a) / (K - 1), '.2e')}" if k else
                    f"; no label was flipped this time (expected {inline(N * eps, '.2g')}), so (d) is (a)")
    out.add(Finding("numeric", "(d) memorises its flipped labels", fits <= 1e-12,
                    observed=f"every example predicts the label it kept with probability {p_a:.4f}, as hard labels do ("
                             + within(fits <= 1e-12, fits, "largest difference") + f"){flipped_part}",
                    bound="tolerance $10^{-12}$ (rounding)"))
    if k:
        out.add(shown("numeric", "the average hides it",
                      rf"mean $p(\text{{true}})$: (d) {q['flip_once'].mean():.4f}, (b) {mean_b:.4f}",
                      f"(d)'s examples sit at two values, {p_a:.4f} (kept) and {inline((1 - p_a) / (K - 1), '.2e')} "
                      f"(flipped); (b)'s all at {q['soft'][0]:.4f}"))
    return out


# -- softmax regression ------------------------------------------------------------------------------
@dataclass
class Regression:
    """The softmax-regression experiment: data, runs per mode, and the linear response of (b)."""

    plan: TrainingPlan
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    runs: dict
    spread: Spread

    @property
    def K(self) -> int:
        return self.plan.blob_classes

    def mean_q(self, mode: str) -> float:
        return float(true_class_probability(self.runs[mode].logits, self.y_train).mean())

    def test_probs(self, mode: str) -> np.ndarray:
        X1 = np.concatenate([self.X_test, np.ones((len(self.X_test), 1))], axis=1)
        return softmax(X1 @ self.runs[mode].params)


def softmax_regression(p: TrainingPlan) -> Regression:
    """Train the four modes of softmax regression on blobs, and the linear response along (b)."""
    K = p.blob_classes
    X, y = make_blobs(p.n_train + p.n_test, K, spread=p.spread, seed=p.seed)
    Xtr, ytr, Xte, yte = X[:p.n_train], y[:p.n_train], X[p.n_train:], y[p.n_train:]
    runs = softmax_regression_runs(Xtr, ytr, K, MODES, p.eps, steps=p.steps, lr=p.lr, seed=p.seed,
                                   record_every=p.record_every, keep_path="soft")
    spread = softmax_regression_spread(Xtr, ytr, K, p.eps, runs["soft"].path, p.lr)
    runs["soft"].path = None                      # not needed any more
    return Regression(p, Xtr, ytr, Xte, yte, runs, spread)


def chernoff_radius(A: np.ndarray, y: np.ndarray, K: int, eps: float, false_alarm: float = FALSE_ALARM) -> float:
    """A radius ``t`` with ``P(|sum_i A_i . xi_i| >= t) <= false_alarm``, ``xi_i = e_Y - p_i`` the noise of example
    ``i``'s label flipped once (``Y`` its label with probability ``1 - eps``, each other class with ``eps/(K-1)``),
    from the exact distribution of every term: Chernoff's bound ``P(S >= t) <= exp(-lambda t) prod_i E exp(lambda
    A_i . xi_i)``, minimised over ``lambda`` (on a grid, then refined), for each tail at ``false_alarm / 2``.

    Bernstein's inequality knows the terms only by their variance and their largest value, and the largest flip's
    effect dominates it; this bound reads every term's distribution, so its radius comes from the computed
    variance (about ``sqrt(2 log(2 / a))`` standard deviations when the terms are small).

    Used in: ch4.regression_same_point (d), :func:`regression_findings`

    >>> A = np.tile([1.0, 0.0], (400, 1)) / 20; y = np.zeros(400, dtype=int)   # 400 fair coins of size 1/20
    >>> sd = np.sqrt(400 * 0.25) / 20
    >>> t = chernoff_radius(A, y, 2, 0.5); bool(4.89 * sd < t < 5.39 * sd)     # normal quantile < it < sqrt(2 log(2/a))
    True
    >>> chernoff_radius(A, y, 2, 0.0)
    0.0
    """
    A = np.asarray(A, dtype=float)
    N = len(A)
    on, off = target_levels(K, eps=eps)
    probs = np.full((N, K), off)
    probs[np.arange(N), np.asarray(y)] = on
    values = A - (probs * A).sum(axis=1, keepdims=True)             # A_i . (e_c - p_i), each class c
    if not np.any(values[probs > 0]):
        return 0.0
    with np.errstate(divide="ignore"):
        logp = np.log(probs)
    L = math.log(2.0 / false_alarm)
    sd = math.sqrt(float((probs * values ** 2).sum()))
    scale = max(sd, float(np.abs(values).max()) * 1e-3)

    def tail(sign: float, lam: float) -> float:
        z = logp + sign * lam * values
        m = z.max(axis=1, keepdims=True)
        log_mgf = float((m[:, 0] + np.log(np.exp(z - m).sum(axis=1))).sum())
        return (log_mgf + L) / lam

    radius = 0.0
    for sign in (1.0, -1.0):
        grid = np.exp(np.linspace(np.log(1e-3 / scale), np.log(1e4 / scale), 400))
        vals = np.array([tail(sign, g) for g in grid])
        i = int(np.argmin(vals))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        for _ in range(60):                                         # golden section: the bound is quasi-convex
            a, b = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
            lo, hi = (lo, b) if tail(sign, a) < tail(sign, b) else (a, hi)
        radius = max(radius, min(vals[i], tail(sign, (lo + hi) / 2)))
    return float(radius)


def regression_findings(x: Regression) -> Findings:
    """(b) against (c) and (d) for a model that cannot memorise, with linear-response bounds."""
    p, K, eps = x.plan, x.K, x.plan.eps
    out = Findings(f"Softmax regression: {p.n_train} points, {K} classes, $\\epsilon = {eps:g}$, seed {p.seed}",
                   preamble=[describe(K, eps)] if K != p.K else [])
    if _deterministic(K, eps):
        same = ("hard", "soft", "flip_fresh", "flip_once") if eps == 0 else ("soft", "flip_fresh", "flip_once")
        ok = _identical(x.runs, same)
        out.add(Finding("numeric", "(b), (c) and (d) coincide" + (" with (a)" if eps == 0 else ""), ok,
                        observed="final parameters identical" if ok else "final parameters differ",
                        bound="exact",
                        note=r"$\epsilon = 0$: nothing is flipped" if eps == 0 else
                        r"$K = 2$, $\epsilon = 1$: every label is swapped"))
        return out
    s = {m: x.mean_q(m) for m in MODES}
    sp = x.spread
    beyond = regime(K, eps) in ("beyond uniform", "all flipped")
    stable = _linearised_step(x)
    if stable > 2 or not np.isfinite([sp.fresh_var, sp.once_var]).all():
        for mode, what in (("flip_fresh", "(b) and (c) reach the same point"),
                           ("flip_once", "(d) too: this model cannot memorise its flipped labels")):
            out.add(shown("numeric", what, rf"mean $p(\text{{true}})$ on the training set: soft {s['soft']:.5f}, "
                                f"{mode.replace('_', ' ')} {s[mode]:.5f}",
                          "no bound: the linear response diverges here. (b) ends where the step size times the "
                          f"loss's largest curvature is ${stable:.2f} > 2$ ($K = 2$ at the uniform target: (b) stays at "
                          "$W = 0$, where the curvature is largest), so to first order a deviation from (b) grows at "
                          "every step; only the second-order terms keep it bounded, and this theory omits them"))
        return out
    for mode, var, what in (("flip_fresh", sp.fresh_var, "(b) and (c) reach the same point"),
                            ("flip_once", sp.once_var, "(d) too: this model cannot memorise its flipped labels")):
        radius, how = spread_radius(x, mode)
        d = abs(s[mode] - s["soft"])
        f = Finding("statistical", what, d <= radius,
                    observed=rf"mean $p(\text{{true}})$ on the training set: soft {s['soft']:.5f}, "
                             f"{mode.replace('_', ' ')} {s[mode]:.5f} (difference {inline(d, '.1e')})",
                    bound=f"{how} {inline(radius, '.1e')} at false-alarm {_ALARM}, from the linear response "
                          f"(predicted SD {inline(np.sqrt(var), '.1e')}: the radius is "
                          f"{radius / np.sqrt(var) if var > 0 else 0.0:.1f} of them)")
        if beyond:
            f = shown("statistical", f.statement, f.observed + f" against the bound {inline(radius, '.1e')}",
                      BEYOND_UNIFORM)
        out.add(f)
    ratio = np.sqrt(sp.once_var / sp.fresh_var) if sp.fresh_var > 0 else float("inf")
    out.add(shown("numeric", "flipped once moves the model further than flipped afresh",
                  f"predicted SD of the deviation from (b): (d) {inline(np.sqrt(sp.once_var), '.1e')}, (c) "
                  rf"{inline(np.sqrt(sp.fresh_var), '.1e')} ({ratio:.1f} times)",
                  "fresh flips inject independent noise at every step, which averages out; a flip kept injects "
                  "the same noise at every step, which adds up"))
    return out


def spread_radius(x: Regression, mode: str) -> tuple[float, str]:
    """How far (c) or (d) may end from (b) in mean probability of the true class, at false-alarm
    :data:`~derivations.engine.stats.FALSE_ALARM`, and how the radius was found: (c), a sum over steps and examples
    of small terms known by their variance and largest value (Bernstein's inequality); (d), a sum over examples of
    terms whose every distribution is known (:func:`chernoff_radius`)."""
    sp = x.spread
    if mode == "flip_fresh":
        return float(bernstein_radius(1, sp.fresh_var, sp.fresh_bound)), "Bernstein bound"
    return chernoff_radius(sp.once_coefficients, x.y_train, x.K, x.plan.eps), "Chernoff bound (each flip's effect)"


def _linearised_step(x: Regression) -> float:
    """``lr * lambda_max(H)`` at (b)'s final parameters, ``H`` the Hessian of the mean loss in the parameters,
    ``(1/N) sum_i (diag q_i - q_i q_i^T) kron x_i x_i^T``: above 2, gradient descent's linearisation around (b)
    is unstable (a deviation grows at every step), and so is the linear response."""
    X1 = np.concatenate([x.X_train, np.ones((len(x.X_train), 1))], axis=1)
    Q = softmax(X1 @ x.runs["soft"].params)
    C = np.einsum("na,ab->nab", Q, np.eye(Q.shape[1])) - np.einsum("na,nb->nab", Q, Q)
    H = np.einsum("nab,nc,nd->cadb", C, X1, X1).reshape(X1.shape[1] * Q.shape[1], -1) / len(X1)
    return x.plan.lr * float(np.linalg.eigvalsh(H).max())


#: How each way of using the labels is named in the chapter's tables and figures.
LABELS = {"hard": "(a) hard labels", "soft": "(b) soft labels",
          "flip_fresh": "(c) flipped afresh every step", "flip_once": "(d) flipped once, kept"}


def calibration_table(x: Regression):
    """Test accuracy, mean confidence and expected calibration error per mode (held-out set), as a
    :class:`~derivations.engine.figures.Table`."""
    from derivations.engine.figures import Table

    head = ["labels", "test accuracy", r"mean confidence $\max_j q_j$", "ECE (10 bins)"]
    body = [[LABELS[m], f"{accuracy(np.log(P), x.y_test):.3f}", f"{P.max(axis=1).mean():.3f}",
             f"{expected_calibration_error(P, x.y_test):.3f}"] for m in MODES for P in [x.test_probs(m)]]
    return Table(head, body)


def _calibration(P: np.ndarray, y: np.ndarray, bins: int = 10, draws: int = 200, seed=0) -> dict:
    """One model's test calibration: its ECE (``bins`` equal-width bins), the ECE a calibrated model with the same
    confidences shows on as many points (consistency resampling: each point right with probability its confidence,
    ``draws`` times; its mean, the floor, and SD), whether the ECE exceeds the floor by more than ``z`` SD, and mean
    confidence minus accuracy with its standard error over the test points."""
    P = np.asarray(P, dtype=float)
    conf, right = P.max(axis=1), (P.argmax(axis=1) == np.asarray(y)).astype(float)
    rng = np.random.default_rng(seed)
    floors = [expected_calibration_error_of(conf, (rng.random(len(conf)) < conf).astype(float), bins)
              for _ in range(draws)]
    z = normal_quantile(FALSE_ALARM)
    ece = expected_calibration_error(P, y, bins)
    d = conf - right
    return {"ece": ece, "floor": float(np.mean(floors)), "calibrated": ece - np.mean(floors) <= z * np.std(floors, ddof=1),
            "over": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(len(d))), "confidence": float(conf.mean()),
            "accuracy": float(right.mean()), "z": z}


def expected_calibration_error_of(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """The ECE of confidences and correctness (equal-width bins, as :func:`expected_calibration_error`)."""
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(np.abs(np.bincount(idx, conf - right, minlength=bins)).sum() / len(conf))


def calibration_text(x: Regression):
    """What the calibration table says, in words (:class:`~derivations.engine.text.Prose`), every number and
    direction from the test set: hard and soft labels' ECE against a calibrated model's, decided by consistency
    resampling, and their mean confidence against accuracy, decided by a z-test over the test points, both at
    false-alarm :data:`~derivations.engine.stats.FALSE_ALARM`."""
    from derivations.engine.text import Prose

    eps = x.plan.eps
    c = {m: _calibration(x.test_probs(m), x.y_test, seed=[x.plan.seed, i]) for i, m in enumerate(("hard", "soft"))}

    def direction(r: dict) -> str:
        t = r["over"] / r["se"] if r["se"] > 0 else 0.0
        side = ("over-confident" if t > r["z"] else "under-confident" if t < -r["z"] else
                "neither decidedly over- nor under-confident")
        return f"{side} (mean confidence {r['confidence']:.3f}, accuracy {r['accuracy']:.3f}, {t:+.1f} SE)"

    def calibrated(r: dict) -> str:
        return (f"test ECE {r['ece']:.3f} against {r['floor']:.3f} for a calibrated model with the same confidences: "
                + ("calibrated" if r["calibrated"] else "not calibrated"))
    text = (f"Reported, not asserted: whether smoothing improves calibration depends on the model and the data. On "
            f"these blobs at your values, hard labels give a {calibrated(c['hard'])}, and are "
            f"{direction(c['hard'])}. ")
    if eps > 0:
        text += (f"Soft labels give a {calibrated(c['soft'])}, and are {direction(c['soft'])}; their training target "
                 f"puts $1 - \\epsilon = {1 - eps:g}$ on the true class. ")
    else:
        text += "At $\\epsilon = 0$ soft labels are hard labels. "
    text += (f"Decided at false-alarm {_ALARM}: consistency resampling for the ECE, a $z$-test over the "
             f"{len(x.y_test):,} test points for the confidence. Müller, Kornblith & Hinton (2019) report deep networks "
             "over-confident on hard labels, which smoothing corrects; ")
    over = c["hard"]["se"] > 0 and c["hard"]["over"] / c["hard"]["se"] > c["hard"]["z"]
    text += ("here too hard labels are over-confident." if over else
             "here hard labels are not decidedly over-confident, so smoothing has no over-confidence to correct.")
    return Prose(text)


def training_table(runs: dict, y: np.ndarray):
    """Final mean predicted probability of the true class and mean logit gap per mode, as a
    :class:`~derivations.engine.figures.Table`."""
    from derivations.engine.figures import Table

    head = ["labels", r"mean predicted $q_y$ of the true class",
            r"mean logit gap $z_y - \mathrm{mean}_{j \ne y} z_j$"]
    return Table(head, [[LABELS[m], f"{true_class_probability(r.logits, y).mean():.4f}",
                         f"{logit_gap(r.logits, y).mean():.3f}"] for m, r in runs.items()])

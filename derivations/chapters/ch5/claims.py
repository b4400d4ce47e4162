"""Chapter 5: hard, soft and flipped labels on real data (digits) with a network that over-fits, as claims.

The experiment (:func:`derivations.chapters.ch5.worked.experiment` at :data:`PLAN`: eps = 0.1,
seeds 0-4, 120 training images, an MLP of 64 hidden units) is computed once per
process and shared by the four claims. Each claim's statement carries a formula
in the note's notation, read by :mod:`derivations.engine.notation` and evaluated at the
trained network's logits, image by image, with the true class moved to class 1
(:func:`true_first`):

* the *calibration gap* ``sum_j q_j^2 - q_1``, 0 in expectation for a calibrated
  model (checked: averaged over a label drawn from ``q`` itself, the formula
  read is its right-hand side), positive for an over-confident one;
* chapter 2's optimum ``q_1 = 1 - eps`` on the training images, within the bound
  Pinsker's inequality gives from the measured excess of the smoothed loss over
  its minimum (``|q_1 - p_1| <= TV(p, q) <= sqrt(KL / 2)``: deterministic);
* the fraction ``eps`` of labels flipped once, and ``q_k > q_1`` for each image
  trained on its wrong label ``k``.

Random comparisons are z-tests of means over the 1,677 held-out images (means of
bounded terms: normal to a good approximation) at false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM`, pooled over the seeds with a standard
error that holds however the seeds' estimates correlate (:func:`derivations.chapters.ch5.worked.pooled`).
"""
from __future__ import annotations

import math
import operator
from functools import lru_cache

import numpy as np
import sympy as sp

from derivations.chapters.ch4.training import expected_calibration_error
from derivations.chapters.ch5 import worked as ch5
from derivations.engine.checks import each_k, where
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS, HARD, SOFT, evaluate
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, register
from derivations.engine.stats import FALSE_ALARM, frequency_radius
from derivations.engine.symbolic import Logits
from derivations.engine.tex import inline
from derivations.library.numeric import softmax
from derivations.library.smoothing import smoothed_minimum

__all__ = ["PLAN", "experiment", "true_first", "at_rows", "decided"]

SECTION = "Real data: digits and a network that over-fits"
#: The claims' experiment: chapter 5's defaults (eps = 0.1, seeds 0 to 4). About 1 s of CPU.
PLAN = ch5.Plan(eps=0.1, seed=0, seeds=5)
_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_K = ch5.digits.NUM_CLASSES


def experiment() -> ch5.Experiment:
    """:data:`PLAN`'s runs (cached by :func:`derivations.chapters.ch5.worked.experiment`)."""
    return ch5.experiment(PLAN)


def true_first(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row of logits with its true class ``y`` swapped into column 0 (the note's class 1).

    >>> true_first(np.array([[1.0, 2.0, 3.0]]), np.array([2])).tolist()
    [[3.0, 2.0, 1.0]]
    """
    Z = np.array(Z, dtype=float)
    rows = np.arange(len(Z))
    Z[rows, 0], Z[rows, y] = Z[rows, y], Z[rows, 0].copy()
    return Z


def _moved(labels: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where a label lands after :func:`true_first` (0 and ``y`` swapped)."""
    return np.where(labels == y, 0, np.where(labels == 0, y, labels))


def at_rows(expr, x: Logits, Z: np.ndarray) -> np.ndarray:
    """A SymPy expression in the logits of ``x``, at every row of ``Z`` (shifted by its maximum first: every
    formula here is a function of the softmax, which the shift leaves alone).

    >>> x = Logits(2)
    >>> at_rows(x.z(1) - x.z(2), x, np.array([[3.0, 1.0]])).tolist()
    [2.0]
    """
    Z = np.asarray(Z, dtype=float)
    Z = Z - Z.max(axis=1, keepdims=True)
    f = _compiled(sp.sympify(expr), x.symbols)
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(f(*Z.T), dtype=float), (len(Z),)).copy()


@lru_cache(maxsize=None)
def _compiled(expr, symbols):
    return sp.lambdify(list(symbols), expr, "numpy")


def decided(op: str, mean: float, se: float) -> bool:
    """Does ``mean op 0`` hold beyond the noise: by more than :func:`~derivations.chapters.ch5.worked.z_bound` standard
    errors (false-alarm :data:`~derivations.engine.stats.FALSE_ALARM`)? Non-strict and strict relations alike.

    >>> decided(">", 1.0, 0.1), decided(">", 0.3, 0.1), decided("<=", -1.0, 0.1)
    (True, False, True)
    """
    m = ch5.z_bound() * se
    return bool(mean > m) if op in (">", ">=") else bool(mean < -m) if op in ("<", "<=") else False


def _relation(reading, ops=tuple(_ORDER) + ("=",)):
    return next(r for r in reading.relations() if r.op in ops)


def _side(node, ctx, runs, which: str = "test", bind=None) -> list[np.ndarray]:
    """A side of a relation at every image of every run (true class first)."""
    x = Logits(_K)
    expr = evaluate(node, x, ctx, bind or {})
    if which == "test":
        return [at_rows(sp.sympify(expr).subs(EPS, sp.Rational(str(PLAN.eps))), x, true_first(r.test_logits, r.y_test))
                for r in runs]
    return [at_rows(sp.sympify(expr).subs(EPS, sp.Rational(str(PLAN.eps))), x, true_first(r.train_logits, r.y_train))
            for r in runs]


def _calibrated_mean(rel) -> dict:
    """``sum_c q_c lhs(z with classes 1 and c swapped) - rhs`` at a random logit vector, K = 2 and 3: what the
    read sides give for a calibrated model (the label drawn from ``q``)."""
    rng = np.random.default_rng(5)

    def test(x: Logits) -> float:
        z = rng.normal(size=(1, x.K)) * 2.0
        lhs, rhs = evaluate(rel.lhs, x, HARD), evaluate(rel.rhs, x, HARD)
        q = softmax(z)[0]
        total = sum(q[c] * at_rows(lhs, x, true_first(z, np.array([c])))[0] for c in range(x.K))
        return abs(float(total) - float(at_rows(sp.sympify(rhs), x, z)[0]))
    return each_k(test, general=False)


#: The false-alarm probability, as LaTeX.
_ALARM = inline(FALSE_ALARM, "g")


def _sd(v: float) -> str:
    return f"{v:.2g}"


# -- 1. hard labels: over-confident ----------------------------------------------------------------------
def _check_hard_overconfident(f: Formulas) -> Evidence:
    x, facts = experiment(), []
    rel = _relation(f.printed, tuple(_ORDER))
    cal = _calibrated_mean(rel)
    worst = max(cal.values())
    facts.append(Finding("numeric", "for a calibrated model (the label drawn from q) the printed gap averages to its "
                                 f"printed bound ({where(cal)}, random logits; absolute tolerance $10^{{-12}}$)", worst <= 1e-12, error=worst))
    hard = x.each("hard")
    fitted = all(np.array_equal(r.train_logits.argmax(axis=1), r.y_train) for r in hard)
    facts.append(Finding("numeric", f"hard labels are fitted: every training image of every seed classified as its "
                                 f"label (training loss at most {inline(max(r.train_loss for r in hard), '.1e')})", fitted))
    lhs, rhs = _side(rel.lhs, HARD, hard), _side(rel.rhs, HARD, hard)
    mean, se = ch5.pooled(lhs, rhs)
    over = decided(rel.op, mean, se)
    facts.append(Finding("statistical", f"held-out images, averaged over {len(hard)} seeds: printed left side minus right "
                                     f"side = {mean:+.4f}, {mean / se:+.1f} standard errors (z-test at false-alarm "
                                     f"{_ALARM}: beyond {ch5.z_bound():.2f}; SE {_sd(se)}, the seeds' mean SE)",
                      over))
    return Evidence(holds=worst <= 1e-12 and fitted and over, findings=facts)


register(Claim(
    id="ch5.hard_overconfident", chapter=5, section=SECTION, order=1, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Hard labels: the over-fitting MLP is over-confident on held-out digits",
    printed=r"Trained on hard labels until it fits them, the MLP is over-confident on held-out digits: averaged over "
            r"them, $\sum_{j=1}^{K} q_{j}^{2} - q_{1} > 0$ (class 1 the true one), where a calibrated model gives 0",
    check=_check_hard_overconfident,
    remark=r"The first half of Müller, Kornblith & Hinton's (2019) observation reproduces: a network that drives the "
           r"hard-label training loss to 0 is more confident on new digits than it is accurate (mean confidence "
           r"0.95, accuracy 0.90). The gap is a proper yardstick: if the label were drawn from the model's own $q$, "
           r"$\mathbb{E}[q_y]$ would be $\sum_j q_j^2$. Checked at $\epsilon = 0.1$, seeds 0 to 4, 120 training images "
           r"(`PLAN`).",
))


# -- 2. smoothing: Müller et al.'s direction --------------------------------------------------------------
def _check_smoothing_calibrates(f: Formulas) -> Evidence:
    x, facts = experiment(), []
    rel, fix = _relation(f.printed, tuple(_ORDER)), _relation(f.corrected, tuple(_ORDER))
    hard, soft = x.each("hard"), x.each("soft")
    soft_l, soft_r = _side(rel.lhs, SOFT, soft), _side(rel.rhs, SOFT, soft)
    hard_l, hard_r = _side(rel.lhs, SOFT, hard), _side(rel.rhs, SOFT, hard)
    m_soft, se_soft = ch5.pooled(soft_l, soft_r)
    m_hard, _ = ch5.pooled(hard_l, hard_r)
    sign_ok = decided(rel.op, m_soft, se_soft)
    dist = [np.abs(h - hr) - np.abs(s - sr) for h, hr, s, sr in zip(hard_l, hard_r, soft_l, soft_r)]
    d_mean, d_se = ch5.pooled(dist, [0.0] * len(dist))
    closer = decided(">", d_mean, d_se)
    facts.append(Finding("statistical", f"as printed: soft labels' held-out gap {m_soft:+.4f} ({m_soft / se_soft:+.1f} SE) "
                                     f"against the printed bound, z-test at false-alarm {_ALARM}", True))
    holds = sign_ok and closer
    e = ch5.summary(x)
    m_fix, se_fix = ch5.pooled(_side(fix.lhs, SOFT, soft), _side(fix.rhs, SOFT, soft))
    fix_sign = decided(fix.op, m_fix, se_fix)
    further = decided("<", d_mean, d_se)
    ece = all(expected_calibration_error(s.test_probs(), s.y_test) >
              expected_calibration_error(h.test_probs(), h.y_test) for s, h in zip(soft, hard))
    facts.append(Finding("statistical", f"corrected: the gap with soft labels is {m_fix:+.4f}, {m_fix / se_fix:+.1f} SE, "
                                     f"on the corrected side, and further from 0 than hard labels' {m_hard:+.4f} "
                                     f"(paired, {d_mean:+.4f} = {d_mean / d_se:+.1f} SE), z-tests at false-alarm "
                                     f"{_ALARM}", fix_sign and further))
    facts.append(Finding("numeric", f"ECE agrees: soft {e['soft']['ECE'][0]:.3f} against hard {e['hard']['ECE'][0]:.3f} "
                                 "(mean over seeds), higher at every seed", ece))
    cx = Counterexample(r"held-out calibration gap $\sum_j q_j^2 - q_1$ with soft labels, mean over seeds",
                        printed=0.0, correct=m_soft, K=_K,
                        parameters={"eps": PLAN.eps, "seeds": f"{PLAN.seed}-{PLAN.seed + PLAN.seeds - 1}"},
                        note=r"the printed side must be $\ge 0$; hard labels give " + f"${m_hard:+.4f}$")
    return Evidence(holds=holds, corrected_ok=fix_sign and further and ece, findings=facts,
                    counterexample=None if holds else cx)


register(Claim(
    id="ch5.smoothing_calibrates", chapter=5, section=SECTION, order=2, source="added", shares="ch5.experiment",
    stated=Verdict.ERRATUM,
    title=r"Smoothing lowers the calibration error (Müller et al.): does not reproduce at $\epsilon = 0.1$",
    printed=r"Label smoothing at $\epsilon$ corrects the over-confidence of hard labels without reversing it: on held-out "
            r"digits the average of $\sum_{j=1}^{K} q_{j}^{2} - q_{1} \ge 0$ stays, closer to 0 than with hard labels",
    corrected=r"At $\epsilon$ = 0.1 smoothing over-corrects: the average of $\sum_{j=1}^{K} q_{j}^{2} - q_{1} < 0$, an "
              r"under-confident model, further from 0 than hard labels are above it, and its ECE is higher",
    check=_check_smoothing_calibrates,
    remark="Müller, Kornblith & Hinton report that smoothing lowers the ECE of deep networks trained on hard labels. "
           "Here hard labels are only mildly over-confident (confidence 0.95 at accuracy 0.90), and soft labels cap "
           "the confidence near $1 - \\epsilon = 0.9$ on images the network classifies with accuracy 0.90 but less "
           "surely: mean confidence 0.74, an under-confident model whose ECE (0.16) is three times hard labels' (0.05). "
           "The direction does not reproduce at $\\epsilon = 0.1$; a smaller $\\epsilon$ would move less "
           "(`make run EPS=...`).",
))


# -- 3. soft labels reach chapter 2's optimum; fresh flips end where soft labels do --------------------------
def _check_fresh_matches_soft(f: Formulas) -> Evidence:
    x, facts = experiment(), []
    rel = _relation(f.printed, ("=",))
    soft, fresh = x.each("soft"), x.each("flip_fresh")
    q1, p1 = _side(rel.lhs, SOFT, soft, "train"), _side(rel.rhs, SOFT, soft, "train")
    gaps = [abs(float(a.mean() - b.mean())) for a, b in zip(q1, p1)]
    floor = smoothed_minimum(_K, PLAN.eps)
    bounds = [math.sqrt(max(r.train_loss - floor, 0.0) / 2) for r in soft]
    optimum = all(g <= b + 1e-12 for g, b in zip(gaps, bounds))
    facts.append(Finding("numeric", "(b) on its training images: the mean of the printed left side is the printed right "
                                 rf"side within the Pinsker bound $\sqrt{{\mathrm{{KL}}/2}}$ of its excess loss over chapter 2's minimum "
                                 f"(largest bound {max(bounds):.3f}, deterministic) at every seed", optimum, error=max(gaps)))
    ok = optimum
    for what, a, b in (("accuracy", [np.argmax(r.test_logits, axis=1) == r.y_test for r in fresh],
                        [np.argmax(r.test_logits, axis=1) == r.y_test for r in soft]),
                       ("calibration gap", [ch5.calibration_gap(r.test_probs(), r.y_test) for r in fresh],
                        [ch5.calibration_gap(r.test_probs(), r.y_test) for r in soft])):
        mean, se = ch5.pooled(a, b)
        same = abs(mean) <= ch5.z_bound() * se
        ok &= same
        facts.append(Finding("statistical", f"held-out {what}: (c) minus (b) = {mean:+.4f}, paired over the images and "
                                         f"averaged over the seeds, within {ch5.z_bound():.2f} SE ({_sd(se)}) at "
                                         f"false-alarm {_ALARM}", same))
    return Evidence(holds=bool(ok), findings=facts)


register(Claim(
    id="ch5.fresh_matches_soft", chapter=5, section=SECTION, order=3, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Soft labels reach chapter 2's optimum; labels flipped afresh end where soft labels do",
    printed=r"Soft labels train the MLP to chapter 2's optimum on its training digits, $q_{1} = 1 - \epsilon$ within the "
            r"bound its excess loss gives; labels flipped afresh at every step end where soft labels do: on held-out "
            r"digits the same accuracy and calibration, within the noise",
    check=_check_fresh_matches_soft,
    remark="Chapter 3's equivalence in expectation survives a real network: with a step that decays to 0 the noise of "
           "the last flips averages out, and (c) is indistinguishable from (b) on 1,677 held-out images at every "
           "seed. The training images of (b) sit at chapter 2's optimum $q_1 = 1 - \\epsilon$ (mean logit gap 4.47 "
           "against $\\log 81 = 4.39$: the MLP's logits are not all equal off the true class, so the gap is not quite "
           "the closed form's, while $q_1$ is).",
))


# -- 4. flipped once: memorised, and accuracy falls ----------------------------------------------------------------
def _check_once_memorises(f: Formulas) -> Evidence:
    x, facts = experiment(), []
    frac_rel = _relation(f.printed, ("=",))
    fit = _relation(f.printed, tuple(_ORDER))
    once, soft = x.each("flip_once"), x.each("soft")
    printed = float(evaluate(frac_rel.rhs, Logits(_K), SOFT).subs(EPS, sp.Rational(str(PLAN.eps))))
    flipped = [r.kept_labels != r.y_train for r in once]
    k, n = sum(int(m.sum()) for m in flipped), sum(len(m) for m in flipped)
    r_ = float(frequency_radius(n, printed)) if 0.0 <= printed <= 1.0 else -1.0
    frac_ok = k > 0 and abs(k / n - printed) <= r_ + 1e-15
    facts.append(Finding("statistical", f"{k} of the {n} labels flipped once are wrong: within the Bernstein radius "
                                     f"{max(r_, 0):.3f} (false-alarm {_ALARM}) of the printed fraction", frac_ok))
    x_ = Logits(_K)
    sides = {c: [evaluate(side, x_, SOFT, {"k": c}) for side in (fit.lhs, fit.rhs)] for c in range(2, _K + 1)}
    fitted, not_soft = True, True
    for run, b, m in zip(once, soft, flipped):
        rows = np.flatnonzero(m)
        kk = _moved(run.kept_labels, run.y_train)[rows] + 1
        for mine, want in ((run, True), (b, False)):
            Z = true_first(mine.train_logits[rows], mine.y_train[rows])
            got = np.zeros(len(rows), dtype=bool)
            for c in np.unique(kk):
                at = kk == c
                lhs, rhs = (at_rows(e, x_, Z[at]) for e in sides[int(c)])
                got[at] = _ORDER[fit.op](lhs, rhs)
            fitted &= bool(got.all()) if want else True
            not_soft &= True if want else not bool(got.any())
    facts.append(Finding("numeric", f"the printed inequality holds at every one of the {k} training images kept with a wrong "
                                 "label $k$, and at none of them under soft labels", fitted and not_soft))
    mean, se = ch5.pooled([np.argmax(r.test_logits, axis=1) == r.y_test for r in soft],
                          [np.argmax(r.test_logits, axis=1) == r.y_test for r in once])
    falls = decided(">", mean, se)
    facts.append(Finding("statistical", f"held-out accuracy of (b) minus (d) = {mean:+.4f}, {mean / se:+.1f} SE (paired, "
                                     f"averaged over seeds; z-test at false-alarm {_ALARM})", falls))
    return Evidence(holds=bool(frac_ok and fitted and not_soft and falls), findings=facts)


register(Claim(
    id="ch5.once_memorises", chapter=5, section=SECTION, order=4, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Labels flipped once are memorised, and held-out accuracy falls",
    printed=r"Labels flipped once and kept are memorised: a fraction $\Pr(y \neq 1|x) = \epsilon$ of the training "
            r"labels is wrong, the MLP fits each wrong label $k$, ending with $q_{k} > q_{1}$ on its training digit, "
            r"and its held-out accuracy falls below that of soft labels",
    check=_check_once_memorises,
    remark="DisturbLabel (Xie et al., 2016) flips afresh in every minibatch; a flip kept for the whole run is a wrong "
           "label, and a network that can fit any labelling fits it: every flipped training image ends predicting "
           "its wrong label, and held-out accuracy drops by about 10 points (0.90 to 0.80) at $\\epsilon = 0.1$.",
))

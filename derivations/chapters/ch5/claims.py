r"""Chapter 5: does label smoothing calibrate, and when? The literature's claims, tested fairly on real data.

The experiment (:func:`derivations.chapters.ch5.worked.experiment` at :data:`PLAN`, chapter 5's defaults) is
computed once per process and shared by the six claims. Each claim's statement carries formulas, read by
:mod:`derivations.engine.notation` and evaluated on what was measured:

* per held-out image, the confidence $\max_j q_j$ against the correctness $A$ (1 when the prediction is right):
  mean confidence above accuracy is over-confidence, below it under-confidence (the *top-label* calibration of
  Guo et al., 2017); the image's logits are evaluated with its true class moved to class 1 (:func:`true_first`);
* named measurements: $E_{\alpha}$, $E_{0}$, $E_{T}$ the test ECE (15 equal-width bins) of the smoothed network with
  the alpha chosen on validation, of hard labels, of hard labels after temperature scaling; $F$ the ECE a
  calibrated model shows on these images (:func:`~derivations.chapters.ch5.calibration.calibrated_ece`);
  $C_{f}$, $C_{s}$, $C_{h}$ the mean test confidence of labels flipped afresh, soft labels and hard labels;
* chapter 2's optimum $q_1 = 1 - \epsilon$ on the training images (within Pinsker's bound from the excess loss), and
  the fraction $\epsilon$ of labels flipped once with $q_k > q_1$ on each of them.

A relation between random quantities is decided by the paired bootstrap over the test images, pooled over the
seeds (:mod:`derivations.chapters.ch5.calibration`): a strict one (``<``, ``>``) holds when its two sides differ in
its direction by more than ``z`` = 4.89 standard errors (false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM`); a non-strict one (``\le``, ``\ge``) holds unless they differ the
other way by that much. A claim of the literature is refuted (an erratum, with the measurement as counterexample)
only when its relation is decided the other way.
"""
from __future__ import annotations

import math
import operator
from functools import lru_cache

import numpy as np
import sympy as sp

from derivations.chapters.ch5 import CHAPTER
from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5 import worked as ch5
from derivations.engine.finding import Finding, shown
from derivations.engine.notation import EPS, HARD, SOFT, evaluate
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, register
from derivations.engine.stats import FALSE_ALARM, frequency_radius
from derivations.engine.symbolic import Logits
from derivations.engine.tex import inline
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum

__all__ = ["PLAN", "experiment", "true_first", "at_rows", "measured", "decide"]

SECTION = "Real data: does label smoothing calibrate, and when?"
_D = CHAPTER.defaults
#: The claims' experiment: chapter 5's defaults (eps = 0.1, seeds 0 to 4, 3 training images per digit).
PLAN = ch5.Plan(eps=_D["EPS"], seed=_D["SEED"], seeds=_D["N_SEEDS"], per_class=_D["N_PER_DIGIT"],
                hidden=_D["HIDDEN"], steps=_D["STEPS"])
_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_K = ch5.K
_GUO = "Guo et al. (2017), Section 3 and Figure 1"
_MULLER = "Müller, Kornblith & Hinton (2019), Section 3 (implicit model calibration) and Figure 2"


def experiment() -> ch5.Experiment:
    """:data:`PLAN`'s networks and measurements (cached by :func:`derivations.chapters.ch5.worked.experiment`)."""
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


def at_rows(expr, x: Logits, Z: np.ndarray, **values) -> np.ndarray:
    """A SymPy expression in the logits of ``x`` (and symbols named in ``values``, each an array over the rows), at
    every row of ``Z`` (shifted by its maximum first: every formula here is a function of the softmax).

    >>> x = Logits(2)
    >>> at_rows(x.z(1) - x.z(2) + sp.Symbol("A"), x, np.array([[3.0, 1.0]]), A=np.array([10.0])).tolist()
    [12.0]
    """
    Z = np.asarray(Z, dtype=float)
    Z = Z - Z.max(axis=1, keepdims=True)
    names = tuple(sorted(values))
    f = _compiled(sp.sympify(expr), x.symbols, names)
    with np.errstate(all="ignore"):
        out = f(*Z.T, *[np.asarray(values[n], dtype=float) for n in names])
    return np.broadcast_to(np.asarray(out, dtype=float), (len(Z),)).copy()


@lru_cache(maxsize=None)
def _compiled(expr, symbols, names):
    return sp.lambdify(list(symbols) + [sp.Symbol(n) for n in names], expr, "numpy")


def _relation(reading, ops=tuple(_ORDER) + ("=",)):
    return next(r for r in reading.relations() if r.op in ops)


def measured(rel, bind: dict) -> cal.Pooled:
    """``lhs - rhs`` of a relation between named measurements (``bind``: a :class:`~derivations.chapters.ch5.calibration.Pooled`
    per name as the formula prints it, ``"E[alpha]"``, ``"F"`` ...), on the estimate, on every bootstrap resample and
    at every seed. ``KeyError`` names a measurement the formula asks for that was not made.

    >>> from derivations.engine.notation import read
    >>> one = cal.Pooled(1.0, np.array([0.9, 1.1]), np.array([1.0, 1.0]))
    >>> measured(read(r"E_{a} - F \\le F").relation(), {"E[a]": one, "F": one}).value
    -1.0
    """
    x = Logits(_K)
    d = sp.sympify(evaluate(rel.lhs, x, HARD) - evaluate(rel.rhs, x, HARD))
    atoms = sorted(d.atoms(sp.Indexed), key=str)
    inside = set().union(*(a.free_symbols for a in atoms)) if atoms else set()
    names = atoms + sorted((s for s in d.free_symbols if s not in inside), key=str)
    missing = [str(a) for a in names if str(a) not in bind]
    if missing:
        raise KeyError(f"the formula asks for {missing}, which was not measured; measured: {sorted(bind)}")
    dummies = [sp.Dummy(f"m{i}") for i in range(len(names))]
    f = sp.lambdify(dummies, d.subs(dict(zip(names, dummies))), "numpy")
    ps = [bind[str(a)] for a in names]
    B = max(len(p.reps) for p in ps)
    value = float(f(*[p.value for p in ps]))
    reps = np.broadcast_to(np.asarray(f(*[p.reps for p in ps]), dtype=float), (B,)).copy()
    per = np.asarray(f(*[p.per_seed for p in ps]), dtype=float)
    return cal.Pooled(value, reps, np.broadcast_to(per, (len(ps[0].per_seed),)).copy())


def decide(op: str, d: cal.Pooled, false_alarm: float = FALSE_ALARM) -> tuple[bool, bool]:
    """``(holds, refuted)`` for ``lhs op rhs`` given ``d`` = lhs - rhs: a strict relation holds when ``d`` lies beyond
    ``z`` standard errors on its side of 0; a non-strict one unless ``d`` lies beyond them on the other side, which
    refutes either.

    >>> d = cal.Pooled(0.5, np.array([0.49, 0.51]), np.array([0.5]))
    >>> decide(">", d), decide("<", d), decide("<=", cal.Pooled(0.01, np.array([0.0, 0.02]), np.array([0.01])))
    ((True, False), (False, True), (True, False))
    """
    m = cal.z_bound(false_alarm) * d.se
    up, down = d.value > m, d.value < -m
    if op in (">", ">="):
        return (up if op == ">" else not down), down
    if op in ("<", "<="):
        return (down if op == "<" else not up), up
    raise ValueError(f"a measured relation is one of <, <=, >, >=; got {op!r}")


def _pinned(value: float, like: cal.Pooled) -> cal.Pooled:
    """A fixed number as a measurement (no resampling noise)."""
    return cal.Pooled(float(value), np.full(len(like.reps), float(value)), np.full(len(like.per_seed), float(value)))


def _per_image(rel, x: ch5.Experiment, m: int) -> cal.Pooled:
    """``lhs - rhs`` of a relation in the logits (and ``A``, the correctness) at every test image of model ``m``,
    averaged: pooled over the seeds with their bootstrap resamples."""
    lx = Logits(_K)
    expr = sp.sympify(evaluate(rel.lhs, lx, HARD) - evaluate(rel.rhs, lx, HARD))
    per = []
    for s, seed in enumerate(x.seeds):
        Z = true_first(x.test_logits[s, m], x.y_test[s])
        A = (Z.argmax(axis=1) == 0).astype(float)
        v = at_rows(expr, lx, Z, A=A) if "A" in {str(a) for a in expr.free_symbols} else at_rows(expr, lx, Z)
        per.append(ch5.bootstrap(len(v), x.plan.resamples, seed).mean(v))
    return cal.pooled(per)


def _z(d: cal.Pooled) -> str:
    return f"{d.value:+.4f} ({d.value / d.se:+.1f} SE)" if d.se > 0 else f"{d.value:+.4f}"


_RULE = f"paired bootstrap over the test images, pooled over the seeds; z-test at false-alarm {inline(FALSE_ALARM, 'g')}"


def _seeds(p) -> str:
    return f"{p.seed}-{p.seed + p.seeds - 1}"


# -- 1. hard labels: over-confident (Guo et al., 2017) ---------------------------------------------------------
def _check_hard_overconfident(f: Formulas) -> Evidence:
    x, out = experiment(), []
    r = x.results
    rel = _relation(f.printed, tuple(_ORDER))
    hard = x.index("hard labels")
    fitted = all(np.array_equal(x.train_logits[s, hard].argmax(axis=1), x.y_train[s]) for s in range(len(x.seeds)))
    loss = max(float(smoothed_cross_entropy(x.train_logits[s, hard], x.y_train[s], eps=0.0))
               for s in range(len(x.seeds)))
    out.append(Finding("numeric", "trained to convergence: hard labels fit every training image of every seed",
                       fitted, observed=f"training loss at most {inline(loss, '.1e')}", bound="exact: every image"))
    d = _per_image(rel, x, hard)
    holds, refuted = decide(rel.op, d)
    out.append(Finding("statistical", "on the test images, the printed left side minus the right side, averaged",
                       holds, observed=_z(d) + f"; ECE {r.lines['hard labels'].stats['ECE width'].text()}",
                       bound=_RULE))
    test = r.lines["hard labels"].calibrated
    mis = test.outcome == "miscalibrated"
    out.append(Finding("statistical", "its ECE is more than a calibrated model's", mis,
                       observed=f"ECE {test.value + r.lines['hard labels'].floor:.3f} against "
                                f"{r.lines['hard labels'].floor:.3f} for a calibrated model with the same confidences "
                                f"(excess {test.value:.3f})",
                       bound=f"excess at most {test.bound:.3f} = {cal.z_bound():.2f} SD of a calibrated model's ECE "
                             f"(consistency resampling)"))
    cx = None if holds else Counterexample("mean confidence minus accuracy of hard labels, test images",
                                           printed=0.0, correct=d.value, K=_K,
                                           parameters={"seeds": _seeds(x.plan)})
    return Evidence(holds=fitted and holds and mis, findings=out, counterexample=cx if refuted else None)


register(Claim(
    id="ch5.hard_overconfident", chapter=5, section=SECTION, order=1, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Hard labels make the network over-confident (Guo et al., 2017)",
    printed=r"Trained on hard labels to convergence, the network is over-confident on held-out digits: its "
            r"confidence exceeds its accuracy on average, $\max_{j} q_{j} > A$ ($A$ is 1 when the prediction is "
            r"right, 0 when it is wrong), and its calibration error exceeds a calibrated model's",
    check=_check_hard_overconfident,
    remark=f"The observation is {_GUO}: modern networks trained to fit their labels are more confident than they "
           "are accurate. It reproduces here with a small network on few images: it fits every training digit, "
           "and on the test digits its mean confidence lies far above its accuracy, an expected calibration error "
           "(ECE) several times what a calibrated model shows on as many images. This is the over-confident "
           "baseline a fair test of smoothing needs, as in Müller et al.'s experiments.",
))


# -- 2. the alpha chosen on validation lowers the test ECE ------------------------------------------------------
def _check_selected(f: Formulas) -> Evidence:
    x, out = experiment(), []
    r = x.results
    rel = _relation(f.printed, tuple(_ORDER))
    ok, refuted_any = True, False
    cx = None
    for kind in cal.KINDS:
        bind = {"E[alpha]": r.lines[ch5.CHOSEN].stats[f"ECE {kind}"],
                "E[0]": r.lines["hard labels"].stats[f"ECE {kind}"]}
        d = measured(rel, bind)
        holds, refuted = decide(rel.op, d)
        ok &= holds
        same = int(np.sum(_ORDER[rel.op](d.per_seed, 0.0)))
        out.append(Finding("statistical", f"test ECE, 15 equal-{kind} bins: the printed left side minus the right side",
                           holds, observed=f"{_z(d)}: {bind['E[alpha]'].text()} with the chosen $\\alpha$ against "
                                           f"{bind['E[0]'].text()}; the same way at {same} of {len(d.per_seed)} "
                                           "seeds", bound=_RULE))
        if refuted and cx is None:
            refuted_any = True
            cx = Counterexample(f"test ECE ({kind} bins): chosen alpha minus hard labels", printed=0.0,
                                correct=d.value, K=_K, parameters={"seeds": _seeds(x.plan)})
    out.append(shown("numeric", "the $\\alpha$ chosen at each seed (lowest validation ECE among $\\alpha > 0$)",
                     ", ".join(f"{a:g}" for a in r.selected),
                     "chosen on the 500 validation images, which the test never sees"))
    return Evidence(holds=bool(ok), findings=out, counterexample=cx if refuted_any else None)


register(Claim(
    id="ch5.chosen_alpha_helps", chapter=5, section=SECTION, order=2, source="added",
    shares="ch5.experiment", stated=Verdict.HOLDS,
    title="The $\\alpha$ chosen on validation lowers the test calibration error",
    printed=r"Label smoothing with the $\alpha$ chosen on the validation split (the lowest validation ECE) lowers "
            r"the test calibration error below that of hard labels, $E_{\alpha} < E_{0}$, for the ECE of the "
            r"confidence $\max_{j} q_{j}$ over 15 bins of equal width and of equal mass",
    check=_check_selected,
    remark=f"What {_MULLER} report for ResNet-56 on CIFAR-100 and Inception-v4 on ImageNet: smoothing lowers the "
           "ECE of an over-confident network. Here the strength is chosen the way a practitioner would, on held-out "
           "validation images, and judged on test images it never saw. The $\\alpha$ chosen here is smaller than the 0.05 used "
           "for CIFAR-100 (the findings give it at each seed; $\\epsilon = \\alpha (K-1)/K$): the right amount "
           "depends on how over-confident the network is.",
))


# -- 3. smoothing calibrates about as well as temperature scaling (Müller et al., 2019) ----------------------
def _check_as_temperature(f: Formulas) -> Evidence:
    x, out = experiment(), []
    r = x.results
    rel = _relation(f.printed, tuple(_ORDER))
    ratio = r.temperature_margin
    out.append(Finding("numeric", "each temperature, fitted on the validation split, minimises its validation NLL",
                       ratio >= 1.0 - 1e-12, observed=f"moving $T$ by 1% either way raises the NLL (smallest ratio "
                                                      f"{ratio:.6f}); hard labels: $T$ = "
                                                      f"{r.temperatures[:, 0].mean():.2f} on average",
                       bound=r"a ratio of at least 1, to rounding ($10^{-12}$)"))
    sel = r.lines[ch5.CHOSEN]
    ece = sel.stats["ECE width"]
    bind = {"E[alpha]": ece, "E[T]": r.lines["hard labels + temperature"].stats["ECE width"],
            "F": _pinned(sel.floor, ece)}
    d = measured(rel, bind)
    holds, refuted = decide(rel.op, d)
    same = int(np.sum(_ORDER[rel.op](d.per_seed, 0.0)))
    out.append(Finding("statistical", "test ECE (15 equal-width bins): the printed left side minus the right side",
                       holds, observed=f"{_z(d)}: smoothing {ece.text()}, temperature scaling "
                                       f"{bind['E[T]'].text()}, a calibrated model {sel.floor:.3f}; the same way at "
                                       f"{same} of {len(d.per_seed)} seeds", bound=_RULE))
    mass = r.lines[ch5.CHOSEN].stats["ECE mass"] - r.lines["hard labels + temperature"].stats["ECE mass"]
    out.append(shown("statistical", "the same with 15 equal-mass bins", f"smoothing minus temperature scaling "
                     f"{mass.text()}", "shown: the claim is stated for the equal-width ECE Müller et al. report"))
    cx = Counterexample("test ECE: smoothing minus temperature scaling, beyond a calibrated model's ECE",
                        printed=0.0, correct=d.value, K=_K, parameters={"seeds": _seeds(x.plan)}) if refuted else None
    return Evidence(holds=bool(holds and ratio >= 1.0 - 1e-12), findings=out, counterexample=cx)


register(Claim(
    id="ch5.as_temperature", chapter=5, section=SECTION, order=3, source="added",
    shares="ch5.experiment", stated=Verdict.HOLDS,
    title="Smoothing calibrates about as well as temperature scaling (Müller et al., 2019)",
    printed=r"Label smoothing calibrates about as well as temperature scaling: the test ECE with the $\alpha$ chosen "
            r"on validation exceeds that of hard labels after temperature scaling (fitted on the same validation "
            r"split) by no more than the ECE a calibrated model shows on these images, "
            r"$E_{\alpha} - E_{T} \le F$",
    check=_check_as_temperature,
    remark=f"The claim of {_MULLER}: trained with $\\alpha = 0.05$, their ResNet-56 is about as well calibrated as the "
           "hard-label network after temperature scaling (Guo et al.'s one-parameter fix, fitted on held-out "
           "data). \"About as well\" is made precise by the resolution of the test set: even a perfectly calibrated "
           "model shows an ECE $F$ on finitely many images, so differences below $F$ cannot be told from noise. "
           "It reproduces: both bring the ECE from the hard-label network's down to a few hundredths.",
))


# -- 4. too much smoothing: under-confident (a regime finding) ------------------------------------------------
def _check_too_much(f: Formulas) -> Evidence:
    x, out = experiment(), []
    rel = _relation(f.printed, tuple(_ORDER))
    grid = [(m.alpha, x.index(m.name)) for m in x.models if m.grid]
    decided = {}
    for alpha, m in grid:
        d = _per_image(rel, x, m)
        decided[alpha] = (decide(rel.op, d)[0], d)
    first = None
    for alpha, _ in reversed(grid):
        if not decided[alpha][0]:
            break
        first = alpha
    hard_not = not decided[0.0][0]
    holds = first is not None and first > 0 and hard_not
    rows = "; ".join(f"$\\alpha = {a:g}$: {_z(decided[a][1])}" for a, _ in grid)
    if first is not None and first > 0:
        last = ch5.ALPHAS[ch5.ALPHAS.index(first) - 1]
        where = (f"the printed relation holds from $\\alpha = {first:g}$ ($\\epsilon = {ch5.eps_of(first):g}$) on, not at "
                 f"$\\alpha = {last:g}$: the boundary lies between them")
    else:
        where = "no boundary inside the sweep"
    out.append(Finding("statistical", "on the test images, the printed left side minus the right side, averaged, at "
                                      "every $\\alpha$ of the sweep", holds, observed=f"{where}. {rows}", bound=_RULE))
    yours = x.yours
    mark = decide(rel.op, _per_image(rel, x, x.index(yours.name)))[0]
    out.append(shown("statistical", f"at the defaults' $\\epsilon = {PLAN.eps:g}$ ($\\alpha = {ch5.alpha_of(PLAN.eps):.4g}$)",
                     "beyond the boundary" if mark else "not beyond the boundary",
                     "the boundary depends on the network and the data: the notebook computes it at your values"))
    return Evidence(holds=bool(holds), findings=out)


register(Claim(
    id="ch5.too_much_smoothing", chapter=5, section=SECTION, order=4, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Too much smoothing makes the network under-confident: where it starts",
    printed=r"Too much smoothing makes the network under-confident on held-out digits: from some $\alpha$ of the "
            r"sweep on, its confidence falls below its accuracy on average, $\max_{j} q_{j} < A$, while hard "
            r"labels are not under-confident",
    check=_check_too_much,
    remark="A regime finding, not a claim of the literature: smoothing pulls the training confidence down to "
           "$1 - \\epsilon$, and a network whose test images are harder than its training images ends less "
           "confident still. Where the correction turns into over-correction depends on how over-confident hard "
           "labels leave the network: the check finds the boundary in the sweep, and the notebook finds it at your "
           "values.",
))


# -- 5. soft labels reach chapter 2's optimum; fresh flips end near soft labels -------------------------------
def _check_fresh_matches_soft(f: Formulas) -> Evidence:
    x, out = experiment(), []
    r = x.results
    rel = _relation(f.printed, ("=",))
    near = _relation(f.printed, tuple(_ORDER))
    soft, fresh = x.index(x.yours.name), x.index(x.mode("flip_fresh").name)
    lx = Logits(_K)
    lhs = sp.sympify(evaluate(rel.lhs, lx, SOFT)).subs(EPS, sp.Rational(str(PLAN.eps)))
    rhs = sp.sympify(evaluate(rel.rhs, lx, SOFT)).subs(EPS, sp.Rational(str(PLAN.eps)))
    floor = smoothed_minimum(_K, PLAN.eps)
    gaps, bounds = [], []
    for s in range(len(x.seeds)):
        Z = true_first(x.train_logits[s, soft], x.y_train[s])
        gaps.append(abs(float(at_rows(lhs, lx, Z).mean() - at_rows(rhs, lx, Z).mean())))
        excess = float(smoothed_cross_entropy(x.train_logits[s, soft], x.y_train[s], eps=PLAN.eps)) - floor
        bounds.append(math.sqrt(max(excess, 0.0) / 2))
    optimum = all(g <= b + 1e-12 for g, b in zip(gaps, bounds))
    out.append(Finding("numeric", "soft labels, on their training images: the mean of the printed left side is the "
                                  "printed right side within the Pinsker bound $\\sqrt{\\mathrm{KL}/2}$ of the excess "
                                  "loss over chapter 2's minimum, at every seed", optimum,
                       observed=f"largest bound {max(bounds):.3f}", bound="deterministic", error=max(gaps)))
    conf = {k: r.lines[n].stats["confidence"] for k, n in (("C[f]", x.models[fresh].name), ("C[s]", x.yours.name),
                                                            ("C[h]", "hard labels"))}
    d = measured(near, conf)
    holds, _ = decide(near.op, d)
    out.append(Finding("statistical", "held-out mean confidence: the printed left side minus the right side", holds,
                       observed=f"{_z(d)}: flipped afresh {conf['C[f]'].text()}, soft {conf['C[s]'].text()}, hard "
                                f"{conf['C[h]'].text()}", bound=_RULE))
    diff = conf["C[f]"] - conf["C[s]"]
    z = cal.z_bound()
    per = []
    for s, seed in enumerate(x.seeds):
        v = (ch5.bootstrap(len(x.y_test[s]), PLAN.resamples, seed)
             .mean(r.scores[x.models[fresh].name][s].conf - r.scores[x.yours.name][s].conf))
        per.append(v[0] / v[1].std(ddof=1))
    apart = sum(abs(t) > z for t in per)
    out.append(shown("statistical", "flipped afresh minus soft labels, mean test confidence",
                     f"{diff.text()} pooled; per seed {', '.join(f'{v:+.3f} ({t:+.1f} SE)' for v, t in zip(diff.per_seed, per))}"
                     f": told apart at {apart} of {len(per)} seeds",
                     "approximately, not exactly: chapter 3's equivalence holds for the expected target; Adam's step "
                     "is not linear in the gradient, and the last steps' flips are not averaged out"))
    return Evidence(holds=bool(optimum and holds), findings=out)


register(Claim(
    id="ch5.fresh_matches_soft", chapter=5, section=SECTION, order=5, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Soft labels reach chapter 2's optimum; labels flipped afresh end near them, approximately",
    printed=r"Soft labels train the network to chapter 2's optimum on its training digits, $q_{1} = 1 - \epsilon$ "
            r"within the bound its excess loss gives; labels flipped afresh at every step end near soft labels, not "
            r"near hard labels: their mean confidence on held-out digits $C_{f}$ is closer to that of soft labels "
            r"$C_{s}$ than to that of hard labels $C_{h}$, "
            r"$\left(C_{f} - C_{s}\right)^{2} < \left(C_{h} - C_{f}\right)^{2}$",
    check=_check_fresh_matches_soft,
    remark="Chapter 3 shows that a label flipped afresh has the soft target as its expectation, so the expected "
           "gradient of plain gradient descent is the soft-label gradient. Only approximately does the network end "
           "in the same place: Adam divides each step by the root of the gradient's second moment, which the flips' "
           "noise inflates, so the update is not the update of the expected gradient; and the step is finite, so "
           "the last flips leave their trace. On held-out digits the two end close together, far from hard labels; "
           "whether their small difference can be told from noise depends on the seed.",
))


# -- 6. flipped once: memorised --------------------------------------------------------------------------------
def _check_once_memorises(f: Formulas) -> Evidence:
    x, out = experiment(), []
    frac_rel = _relation(f.printed, ("=",))
    fit = _relation(f.printed, tuple(_ORDER))
    r = x.results
    once, soft = x.index(x.mode("flip_once").name), x.index(x.yours.name)
    printed = float(evaluate(frac_rel.rhs, Logits(_K), SOFT).subs(EPS, sp.Rational(str(PLAN.eps))))
    flipped = [x.kept[s, once] != x.y_train[s] for s in range(len(x.seeds))]
    k, n = sum(int(m.sum()) for m in flipped), sum(len(m) for m in flipped)
    rad = float(frequency_radius(n, printed)) if 0.0 <= printed <= 1.0 else -1.0
    frac_ok = k > 0 and abs(k / n - printed) <= rad + 1e-15
    out.append(Finding("statistical", f"{k} of the {n} labels flipped once are wrong: within the Bernstein radius "
                                      f"{max(rad, 0):.3f} (false-alarm {inline(FALSE_ALARM, 'g')}) of the printed fraction",
                       frac_ok))
    lx = Logits(_K)
    sides = {c: [evaluate(side, lx, SOFT, {"k": c}) for side in (fit.lhs, fit.rhs)] for c in range(2, _K + 1)}
    fitted, not_soft = True, True
    for s, m in enumerate(flipped):
        rows = np.flatnonzero(m)
        kk = _moved(x.kept[s, once], x.y_train[s])[rows] + 1
        for model, want in ((once, True), (soft, False)):
            Z = true_first(x.train_logits[s, model][rows], x.y_train[s][rows])
            got = np.zeros(len(rows), dtype=bool)
            for c in np.unique(kk):
                at = kk == c
                lhs, rhs = (at_rows(e, lx, Z[at]) for e in sides[int(c)])
                got[at] = _ORDER[fit.op](lhs, rhs)
            fitted &= bool(got.all()) if want else True
            not_soft &= True if want else not bool(got.any())
    out.append(Finding("numeric", f"the printed inequality holds at every one of the {k} training images kept with a "
                                  "wrong label $k$, and at none of them under soft labels", fitted and not_soft))
    acc = r.lines["flipped once"].stats["accuracy"] - r.lines[x.yours.name].stats["accuracy"]
    out.append(shown("statistical", "held-out accuracy, flipped once minus soft labels", acc.text(),
                     "shown, not part of the claim: what the memorised wrong labels cost on new digits"))
    return Evidence(holds=bool(frac_ok and fitted and not_soft), findings=out)


register(Claim(
    id="ch5.once_memorises", chapter=5, section=SECTION, order=6, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Labels flipped once are memorised",
    printed=r"Labels flipped once and kept are memorised: a fraction $\Pr(y \neq 1|x) = \epsilon$ of the training "
            r"labels is wrong, and the network fits each wrong label $k$, ending with $q_{k} > q_{1}$ on its "
            r"training digit",
    check=_check_once_memorises,
    remark="DisturbLabel (Xie et al., 2016) flips afresh in every minibatch; a flip kept for the whole run is a wrong "
           "label, and a network that can fit any labelling fits it: every flipped training image ends predicting "
           "its wrong label, and none does under soft labels.",
))

r"""Chapter 5: does label smoothing calibrate, and when? The literature's claims, tested fairly on real data, each in
the regime it states.

The experiment (:func:`derivations.chapters.ch5.worked.experiment` at :data:`PLAN`, chapter 5's defaults: 3 training
images of each digit, 10 seeds) is computed once per process and shared by the six claims. Each claim states the
regime it is checked in (how many training images of each digit), and where else it holds is shown beside it from
the sweep over the training set's size (:mod:`derivations.chapters.ch5.regimes`). Each claim's statement carries
formulas, read by :mod:`derivations.engine.notation` and evaluated on what was measured:

* per held-out image, the confidence $\max_j q_j$ against the correctness $A$ (1 when the prediction is right):
  mean confidence above accuracy is over-confidence, below it under-confidence (the *top-label* calibration of
  Guo et al., 2017); the image's logits are evaluated with its true class moved to class 1 (:func:`true_first`);
* named measurements: $E_{\alpha}$, $E_{0}$, $E_{T}$ the test ECE (15 equal-width bins) of the smoothed network with
  the alpha chosen by validation NLL, of hard labels, of hard labels after temperature scaling (fitted by validation
  NLL: one criterion for both); $\Delta$ the margin of "about as well"
  (:data:`~derivations.chapters.ch5.inference.MARGIN`, fixed in advance); $C_{f}$, $C_{s}$, $C_{h}$ the mean test
  confidence of labels flipped afresh, soft labels and hard labels;
* chapter 2's optimum $q_1 = 1 - \epsilon$ on the training images, and the fraction $\epsilon$ of labels flipped once
  with $q_k > q_1$ on each of them.

**Decisions.** A claim about training takes the seed (one training run) as the unit: the interval of a measured
relation's two sides' difference comes from joint resamples of the images and the seeds, with Student's $t$ on
$S - 1$ degrees of freedom, at :data:`~derivations.chapters.ch5.inference.SEED_FALSE_ALARM` per end
(:mod:`derivations.chapters.ch5.inference`). The relation is confirmed when the whole interval lies on its side,
refuted when none of it does, and *undecided* otherwise
(:func:`derivations.engine.stats.interval_finding`): a claim resting on an undecided test is undecided
(:func:`derivations.engine.registry.verdict_of`), never an erratum. A claim holds only when every one of its tests
confirms it (an intersection-union test: a false "holds" has probability at most the false-alarm probability of one
test). Decisions about the test images alone (is a network calibrated with these confidences? is the fraction of
labels flipped once $\epsilon$?) keep the companion's :data:`~derivations.engine.stats.FALSE_ALARM`. A claim of the
literature is refuted (an erratum, with the measurement as counterexample) only when a test is decided against it.

:func:`at_your_values` runs the same checks on the reader's experiment, for the notebook's table of the claims at the
reader's values.
"""
from __future__ import annotations

import math
import operator
from functools import lru_cache

import numpy as np
import sympy as sp

from derivations.chapters.ch5 import CHAPTER, regimes
from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5 import worked as ch5
from derivations.chapters.ch5.inference import MARGIN, SEED_FALSE_ALARM, binomial_region, paired_t, t_quantile
from derivations.engine.finding import Finding, shown
from derivations.engine.notation import EPS, HARD, SOFT, evaluate
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, claims, register, verdict_of
from derivations.engine.stats import FALSE_ALARM, interval_finding, normal_quantile
from derivations.engine.symbolic import Logits
from derivations.engine.tex import inline

__all__ = ["PLAN", "experiment", "true_first", "at_rows", "measured", "decide", "at_your_values", "verdicts_note"]

SECTION = "Real data: does label smoothing calibrate, and when?"
_D = CHAPTER.defaults
#: The claims' experiment: chapter 5's defaults (eps = 0.1, seeds 0 to 9, 3 training images of each digit).
PLAN = ch5.Plan(eps=_D["EPS"], seed=_D["SEED"], seeds=_D["N_SEEDS"], per_class=_D["N_PER_DIGIT"],
                hidden=_D["HIDDEN"], steps=_D["STEPS"])
_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_K = ch5.K
_GUO = "Guo et al. (2017), Section 3 and Figure 1"
_MULLER = "Müller, Kornblith & Hinton (2019), Section 3 (implicit model calibration) and Figure 2"
_REGIME = f"{PLAN.per_class} training images of each digit"


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


def _relations(reading, ops=tuple(_ORDER) + ("=",)):
    return [r for r in reading.relations() if r.op in ops]


def _relation(reading, ops=tuple(_ORDER) + ("=",)):
    return _relations(reading, ops)[0]


def measured(rel, bind: dict) -> cal.Pooled:
    """``lhs - rhs`` of a relation between named measurements (``bind``: a :class:`~derivations.chapters.ch5.calibration.Pooled`
    per name as the formula prints it, ``"E[alpha]"``, ``"Delta"`` ...), on the estimate, on every joint resample and
    at every seed. ``KeyError`` names a measurement the formula asks for that was not made.

    >>> from derivations.engine.notation import read
    >>> one = cal.Pooled(1.0, np.array([0.9, 1.1]), np.array([1.0, 1.0]))
    >>> measured(read(r"E_{a} - \\Delta \\le \\Delta").relation(), {"E[a]": one, "Delta": one}).value
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


def decide(op: str, d: cal.Pooled, false_alarm: float = SEED_FALSE_ALARM) -> tuple[bool, bool]:
    """``(holds, refuted)`` for ``lhs op rhs`` given ``d`` = lhs - rhs: holds when the interval of ``d`` at
    ``false_alarm`` (the seed the unit) lies wholly on the side ``op`` asks for, refuted when it lies wholly on the
    other (:meth:`~derivations.chapters.ch5.calibration.Pooled.decide`); neither is undecided.

    >>> d = cal.Pooled(0.5, np.array([0.49, 0.51, 0.5]), np.array([0.5, 0.5, 0.5]))
    >>> decide(">", d), decide("<", d), decide("<", cal.Pooled(0.01, np.array([-0.5, 0.5, 0.0]), np.zeros(3)))
    ((True, False), (False, True), (False, False))
    """
    if op not in _ORDER:
        raise ValueError(f"a measured relation is one of <, <=, >, >=; got {op!r}")
    outcome = d.decide(op, 0.0, false_alarm).outcome
    return outcome == "confirmed", outcome == "refuted"


def _pinned(value: float, like: cal.Pooled) -> cal.Pooled:
    """A fixed number as a measurement (no resampling noise)."""
    return cal.Pooled(float(value), np.full(len(like.reps), float(value)), np.full(len(like.per_seed), float(value)))


def _per_image(rel, x: ch5.Experiment, models) -> dict:
    """``lhs - rhs`` of a relation in the logits (and ``A``, the correctness) at every test image of each model of
    ``models``, averaged: pooled over the seeds, on the joint resamples of the images and the seeds (one product per
    seed for all the models)."""
    lx = Logits(_K)
    expr = sp.sympify(evaluate(rel.lhs, lx, HARD) - evaluate(rel.rhs, lx, HARD))
    with_a = "A" in {str(a) for a in expr.free_symbols}
    joint, per = x.results.joint, {m: [] for m in models}
    for s in range(len(x.seeds)):
        cols = []
        for m in models:
            Z = true_first(x.test_logits[s, m], x.y_test[s])
            A = (Z.argmax(axis=1) == 0).astype(float)
            cols.append(at_rows(expr, lx, Z, A=A) if with_a else at_rows(expr, lx, Z))
        full, reps = joint.means(x.test_index[s], np.array(cols).T)
        for i, m in enumerate(models):
            per[m].append((float(full[i]), reps[:, i]))
    return {m: cal.pooled(joint, per[m]) for m in models}


def _rule(x: ch5.Experiment) -> str:
    """How a decision about training was made (a finding's bound)."""
    S = len(x.seeds)
    return (f"interval at false-alarm {inline(SEED_FALSE_ALARM, 'g')} per end: the seed is the unit ({S} seeds, "
            f"Student's $t$ = {t_quantile(1 - SEED_FALSE_ALARM, S - 1):.2f} on {S - 1} degrees of freedom), the "
            f"standard error from {x.plan.resamples} joint resamples of the images and the seeds")


def _interval(d: cal.Pooled, op: str, at: float = 0.0) -> str:
    """``+0.1234, interval [+0.1, +0.2] (+8.2 SE; plain paired t +9.1; the claimed side at 10 of 10 seeds)``."""
    dec = d.decide(op, at)
    same = int(np.sum(_ORDER[op](d.per_seed, at)))
    t = paired_t(d.per_seed - at)
    plain = f"{t:+.1f}" if math.isfinite(t) else "exact"
    return (f"{dec.value:+.4f}, interval [{dec.lo:+.4f}, {dec.hi:+.4f}] ({dec.ratio:+.1f} SE; plain paired "
            f"$t$ {plain}; the claimed side at {same} of {len(d.per_seed)} seeds)")


def _test(statement: str, d: cal.Pooled, op: str, x: ch5.Experiment, extra: str = "") -> Finding:
    """The statistical finding that ``d op 0``, decided with the seed as the unit (confirmed, refuted, undecided)."""
    dec = d.decide(op)
    return interval_finding(statement, dec.lo, dec.hi, op, observed=_interval(d, op) + extra, bound=_rule(x))


def _seeds(p) -> str:
    return f"{p.seed}-{p.seed + p.seeds - 1}"


def _counterexample(what: str, d: float, x: ch5.Experiment) -> Counterexample:
    return Counterexample(what, printed=0.0, correct=d, K=_K,
                          parameters={"seeds": _seeds(x.plan), "N_PER_DIGIT": str(x.plan.per_class)})


def _evidence(findings: list, counterexample=None) -> Evidence:
    """Holds when every asserted finding holds; the counterexample only where a finding was decided against it."""
    held = all(f.ok for f in findings if f.asserted)
    refuted = any(f.failed for f in findings)
    return Evidence(holds=held, findings=findings, counterexample=counterexample if refuted else None)


def _regime(name: str, words: dict) -> Finding:
    """Where a claim's test on quantity ``name`` of the sweep over the training set's size comes out how (shown)."""
    try:
        data = regimes.load()
    except (OSError, ValueError):
        return shown("statistical", "over the training set's size", "the sweep is not stored",
                     "python -m derivations.chapters.ch5.regimes --write stores it")
    parts = []
    for outcome in ("confirmed", "undecided", "refuted"):
        at = regimes.where(data, name, outcome)
        if at:
            parts.append(f"{words[outcome]} at {', '.join(map(str, at))}")
    values = "; ".join(f"{n}: {p[name]['value']:+.3f}" for n, p in data["sizes"].items())
    return shown("statistical", "where else it holds: the same test over the training set's size (training images of "
                 "each digit)", "; ".join(parts) + f" ({values})",
                 f"the stored sweep (chapter 5's defaults but the size, {data['plan']['seeds']} seeds; "
                 "python -m derivations.chapters.ch5.regimes): the claim is checked at "
                 f"{PLAN.per_class}, and holds only where its test says so")


# -- 1. hard labels: over-confident (Guo et al., 2017) ---------------------------------------------------------
def _convergence(x: ch5.Experiment, name: str) -> Finding:
    ok, worst = ch5.converged(x, x.index(name))
    return Finding("numeric", f"trained to convergence: the training loss of {name} lies within {ch5.CONVERGED:g} "
                              "nats of its minimum at every seed", ok,
                   observed=f"largest excess {inline(worst, '.1e')} nats",
                   bound=f"{ch5.CONVERGED:g} nats (then, by Pinsker's inequality, the mean prediction is within "
                         f"{math.sqrt(ch5.CONVERGED / 2):.3f} of the target in total variation)")


def _check_hard_overconfident(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    r, out = x.results, []
    rel = _relation(f.printed, tuple(_ORDER))
    hard = x.index("hard labels")
    out.append(_convergence(x, "hard labels"))
    d = _per_image(rel, x, [hard])[hard]
    out.append(_test("on the test images, the printed left side minus the right side, averaged", d, rel.op, x,
                     f"; ECE {r.lines['hard labels'].stats['ECE width'].text()}"))
    test = r.lines["hard labels"].calibrated
    out.append(Finding("statistical", "its ECE is more than a calibrated model's", test.outcome == "miscalibrated",
                       observed=f"ECE {test.value + r.lines['hard labels'].floor:.3f} against "
                                f"{r.lines['hard labels'].floor:.3f} for a calibrated model with the same confidences "
                                f"(excess {test.value:.3f})",
                       bound=f"excess at most {test.bound:.3f} = {normal_quantile():.2f} SD of a calibrated model's ECE "
                             f"(consistency resampling of the test images' correctness, false-alarm "
                             f"{inline(FALSE_ALARM, 'g')})"))
    out.append(_regime("over", {"confirmed": "over-confident", "undecided": "undecided",
                                "refuted": "under-confident"}))
    return _evidence(out, _counterexample("mean confidence minus accuracy of hard labels, test images", d.value, x))


register(Claim(
    id="ch5.hard_overconfident", chapter=5, section=SECTION, order=1, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Hard labels make the network over-confident (Guo et al., 2017)",
    printed=rf"With {_REGIME}, a network trained on hard labels to convergence is over-confident on "
            r"held-out digits: its confidence exceeds its accuracy on average, $\max_{j} q_{j} > A$ ($A$ is 1 when "
            r"the prediction is right, 0 when it is wrong), and its calibration error exceeds a calibrated model's",
    check=_check_hard_overconfident,
    remark=f"{_GUO} observe it for modern networks: deep, wide, trained until they fit their training set; their "
           "Figure 1 shows a 1998 LeNet calibrated where a ResNet is not, and they trace the difference to "
           "over-fitting the training loss. The network here is small, but it has thousands of weights for a few "
           "dozen training images and fits every one of them: that mechanism, not depth, is what is tested. With "
           "more training images it fits them less easily, and the findings show how the over-confidence shrinks. "
           "This is the over-confident baseline a fair test of smoothing needs, as in Müller et al.'s experiments.",
))


# -- 2. the alpha chosen on validation lowers the test ECE ------------------------------------------------------
def _chosen_alphas(x: ch5.Experiment, criterion: str) -> str:
    a = sorted(x.results.selected[criterion])
    counts = {v: a.count(v) for v in dict.fromkeys(a)}
    return ", ".join(f"{v:g}" + (f" ({n} seeds)" if n > 1 else " (1 seed)") for v, n in counts.items())


def _check_selected(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    r, out, cx = x.results, [], None
    rel = _relation(f.printed, tuple(_ORDER))
    chosen = ch5.CRITERIA[ch5.CLAIMED][0]
    for kind in cal.KINDS:
        bind = {"E[alpha]": r.lines[chosen].stats[f"ECE {kind}"], "E[0]": r.lines["hard labels"].stats[f"ECE {kind}"]}
        d = measured(rel, bind)
        finding = _test(f"test ECE, 15 equal-{kind} bins, the $\\alpha$ chosen by validation NLL: the printed left "
                        "side minus the right side", d, rel.op, x,
                        f"; {bind['E[alpha]'].text()} with the chosen $\\alpha$ against {bind['E[0]'].text()}")
        out.append(finding)
        if finding.failed and cx is None:
            cx = _counterexample(f"test ECE ({kind} bins): chosen alpha minus hard labels", d.value, x)
    e = r.lines[ch5.CHOSEN_ECE].stats["ECE width"] - r.lines["hard labels"].stats["ECE width"]
    out.append(shown("statistical", "the same with the $\\alpha$ chosen by validation ECE (equal-width bins)",
                     _interval(e, "<"), "shown: the claim uses the criterion that also fits the temperature "
                                        "(ch5.as_temperature)"))
    chosen_a = r.selected[ch5.CLAIMED]
    where = ("below" if max(chosen_a) < 0.05 else "above" if min(chosen_a) > 0.05 else "on both sides of")
    out.append(shown("numeric", "the $\\alpha$ chosen at each seed ($\\epsilon = \\alpha (K-1)/K$)",
                     f"by validation NLL: {_chosen_alphas(x, 'NLL')}; by validation ECE: {_chosen_alphas(x, 'ECE')}",
                     f"the NLL's choices lie {where} the 0.05 Müller et al. use for CIFAR-100: the right amount depends "
                     "on how over-confident hard labels leave the network"))
    out.append(_regime("gain", {"confirmed": "lowers the ECE", "undecided": "undecided",
                                "refuted": "raises the ECE"}))
    return _evidence(out, cx)


register(Claim(
    id="ch5.chosen_alpha_helps", chapter=5, section=SECTION, order=2, source="added",
    shares="ch5.experiment", stated=Verdict.HOLDS,
    title="The $\\alpha$ chosen on validation lowers the test calibration error",
    printed=rf"With {_REGIME}, label smoothing with the $\alpha$ chosen on the validation split (the lowest "
            r"validation NLL) lowers the test calibration error below that of hard labels, $E_{\alpha} < E_{0}$, "
            r"for the ECE of the confidence $\max_{j} q_{j}$ over 15 bins of equal width and of equal mass",
    check=_check_selected,
    remark=f"What {_MULLER} report for ResNet-56 on CIFAR-100 and Inception-v4 on ImageNet: smoothing lowers the "
           "ECE of an over-confident network. Here the strength is chosen the way a practitioner would, on held-out "
           "validation images, by the criterion that also fits the temperature (the validation NLL; the ECE's "
           "choice is shown beside it), and judged on test images it never saw. The findings give the $\\alpha$ "
           "chosen at each seed ($\\epsilon = \\alpha (K-1)/K$), and how the gain changes with the training set's "
           "size.",
))


# -- 3. smoothing calibrates about as well as temperature scaling (Müller et al., 2019) ----------------------
def _tost(f: Formulas, x: ch5.Experiment, chosen: str, tempered: str) -> tuple[Finding, list]:
    """The two one-sided relations of the printed statement, each decided with the seed as the unit: the finding
    (confirmed when both are, refuted when one is decided the other way, else undecided) and their differences."""
    r = x.results
    ece = r.lines[chosen].stats["ECE width"]
    bind = {"E[alpha]": ece, "E[T]": r.lines[tempered].stats["ECE width"], "Delta": _pinned(MARGIN, ece)}
    rels = _relations(f.printed, tuple(_ORDER))
    ds = [measured(rel, bind) for rel in rels]
    outcomes = [d.decide(rel.op).outcome for d, rel in zip(ds, rels)]
    ok = all(o == "confirmed" for o in outcomes)
    refuted = any(o == "refuted" for o in outcomes)
    diff = ece - bind["E[T]"]
    dec = diff.decide("<")
    finding = Finding("statistical", "test ECE (15 equal-width bins): each printed relation, its left side minus its "
                                     "right side, decided", ok, undecided=not ok and not refuted,
                      observed="; ".join(f"{d.value:+.4f}, interval [{d.decide(rel.op).lo:+.4f}, "
                                         f"{d.decide(rel.op).hi:+.4f}]: {o}" for d, rel, o in zip(ds, rels, outcomes))
                               + f". Smoothing {ece.text()}, temperature scaling {bind['E[T]'].text()}: difference "
                                 f"{diff.value:+.4f}, interval [{dec.lo:+.4f}, {dec.hi:+.4f}] against the margin "
                                 f"$\\Delta = {MARGIN:g}$",
                      bound=_rule(x) + "; two one-sided tests (TOST): equivalent only when both are confirmed")
    return finding, [diff]


def _seeds_needed(d: cal.Pooled, S: int) -> str:
    """How many seeds the equivalence test would need to decide, if the difference and its spread stayed as they
    are (a rough power calculation)."""
    room = MARGIN - abs(d.value)
    if room <= 0:
        return "the difference itself lies beyond the margin: more seeds would not make it equivalent"
    se1 = d.se * math.sqrt(S)                      # one seed's standard deviation, as the joint resamples see it
    for n in range(S, 10_001):
        if t_quantile(1 - SEED_FALSE_ALARM, n - 1) * se1 / math.sqrt(n) < room:
            return (f"about {n} seeds would decide it if the difference ({d.value:+.4f}) and its spread stayed as "
                    f"they are ({S} were run)")
    return "more than 10,000 seeds would be needed"


def _check_as_temperature(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    r, out = x.results, []
    ratio = r.temperature_margin
    out.append(Finding("numeric", "each temperature, fitted on the validation split, minimises its validation NLL",
                       ratio >= 1.0 - 1e-12, observed=f"moving $T$ by 1% either way raises the NLL (smallest ratio "
                                                      f"{ratio:.6f}); hard labels: $T$ = "
                                                      f"{r.temperatures[:, 0].mean():.2f} on average",
                       bound=r"a ratio of at least 1, to rounding ($10^{-12}$)"))
    finding, (diff,) = _tost(f, x, *ch5.CRITERIA["NLL"])
    out.append(finding)
    ece_finding, _ = _tost(f, x, *ch5.CRITERIA["ECE"])
    out.append(shown("statistical", "the same with both chosen by validation ECE (the $\\alpha$ with the lowest "
                                    "validation ECE, the temperature with the lowest validation ECE)",
                     f"{ece_finding.mark}: {ece_finding.observed}", "shown: the claim uses the validation NLL for "
                                                                    "both"))
    mass = r.lines[ch5.CHOSEN].stats["ECE mass"] - r.lines[ch5.TEMPERED].stats["ECE mass"]
    out.append(shown("statistical", "the difference with 15 equal-mass bins", _interval(mass, "<"),
                     "shown: the claim is stated for the equal-width ECE Müller et al. report"))
    out.append(shown("statistical", "how many seeds would decide it", _seeds_needed(diff, len(x.seeds)),
                     "a power calculation, not a test"))
    out.append(_regime("gap", {"confirmed": "about as well", "undecided": "undecided",
                               "refuted": "not about as well"}))
    cx = _counterexample("test ECE: smoothing minus temperature scaling", diff.value, x)
    return _evidence(out, cx)


register(Claim(
    id="ch5.as_temperature", chapter=5, section=SECTION, order=3, source="added",
    shares="ch5.experiment", stated=Verdict.UNDECIDED,
    title="Smoothing calibrates about as well as temperature scaling (Müller et al., 2019)",
    printed=rf"With {_REGIME}, label smoothing calibrates about as well as temperature scaling: the test ECE "
            r"with the $\alpha$ chosen by validation NLL and that of hard labels after temperature scaling (fitted "
            r"by the same criterion on the same split) differ by less than a margin $\Delta$ fixed in advance, "
            r"$E_{\alpha} - E_{T} < \Delta$ and $E_{T} - E_{\alpha} < \Delta$",
    check=_check_as_temperature,
    remark=f"The claim of {_MULLER}: trained with $\\alpha = 0.05$, their ResNet-56 is about as well calibrated as the "
           "hard-label network after temperature scaling (Guo et al.'s one-parameter fix, fitted on held-out "
           f"data). \"About as well\" is an equivalence, tested as one: two one-sided tests, each of which must be "
           f"confirmed, against a margin $\\Delta = {MARGIN:g}$ of ECE fixed before the measurements and independent "
           "of the test set's floor. \"Not refuted\" is not \"holds\": where the interval of the difference reaches "
           "beyond the margin, the claim is undecided, and the findings say how many seeds would decide it.",
))


# -- 4. too much smoothing: under-confident (a regime finding) ------------------------------------------------
def _check_too_much(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    out = []
    rel = _relation(f.printed, tuple(_ORDER))
    grid = [(m.alpha, x.index(m.name)) for m in x.models if m.grid]
    yours = x.index(x.yours.name)
    measured_at = _per_image(rel, x, [m for _, m in grid] + ([yours] if not x.yours.grid else []))
    ds = {alpha: measured_at[m] for alpha, m in grid}
    outcome = {alpha: d.decide(rel.op).outcome for alpha, d in ds.items()}
    first = None
    for alpha, _ in reversed(grid):
        if outcome[alpha] != "confirmed":
            break
        first = alpha
    largest, hard = grid[-1][0], grid[0][0]
    ok = first is not None and first > hard and outcome[hard] == "refuted"
    refuted = outcome[largest] == "refuted" or outcome[hard] == "confirmed"
    rows = "; ".join(f"$\\alpha = {a:g}$: {ds[a].value:+.4f} [{ds[a].decide(rel.op).lo:+.4f}, "
                     f"{ds[a].decide(rel.op).hi:+.4f}] {outcome[a]}" for a, _ in grid)
    if first is not None and first > hard:
        last = ch5.ALPHAS[ch5.ALPHAS.index(first) - 1]
        where = (f"the printed relation is confirmed from $\\alpha = {first:g}$ ($\\epsilon = {ch5.eps_of(first):g}$) "
                 f"on, not at $\\alpha = {last:g}$ ({outcome[last]}): the boundary lies between them")
    else:
        where = "no boundary inside the sweep"
    out.append(Finding("statistical", "on the test images, the printed left side minus the right side, averaged, at "
                                      "every $\\alpha$ of the sweep: confirmed from some $\\alpha$ on, and refuted "
                                      "for hard labels", ok, undecided=not ok and not refuted,
                       observed=f"{where}. {rows}", bound=_rule(x) + "; one test per $\\alpha$, each must come out "
                                                                      "as claimed"))
    mark = measured_at[yours].decide(rel.op).outcome
    out.append(shown("statistical", f"at $\\epsilon = {x.plan.eps:g}$ ($\\alpha = {ch5.alpha_of(x.plan.eps):.4g}$)",
                     {"confirmed": "under-confident", "refuted": "over-confident"}.get(mark, "undecided"),
                     "the boundary depends on the network and the data: the notebook computes it at your values"))
    return _evidence(out, _counterexample("mean confidence minus accuracy at the largest alpha", ds[largest].value, x))


register(Claim(
    id="ch5.too_much_smoothing", chapter=5, section=SECTION, order=4, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Too much smoothing makes the network under-confident: where it starts",
    printed=rf"With {_REGIME}, too much smoothing makes the network under-confident on held-out digits: from "
            r"some $\alpha$ of the sweep on, its confidence falls below its accuracy on average, "
            r"$\max_{j} q_{j} < A$, while hard labels are not under-confident",
    check=_check_too_much,
    remark="A regime finding, not a claim of the literature: smoothing pulls the training confidence down to "
           "$1 - \\epsilon$, and a network whose test images are harder than its training images ends less "
           "confident still. Where the correction turns into over-correction depends on how over-confident hard "
           "labels leave the network: the check finds the boundary in the sweep, and the notebook finds it at your "
           "values.",
))


# -- 5. soft labels reach chapter 2's optimum; fresh flips end near soft labels -------------------------------
def _check_fresh_matches_soft(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    r, out = x.results, []
    if x.plan.eps == 0:
        out.append(shown("numeric", "soft labels and labels flipped afresh", "at $\\epsilon = 0$ both are hard labels",
                         "nothing is smoothed or flipped"))
        return Evidence(holds=True, findings=out)
    rel = _relation(f.printed, ("=",))
    near = _relation(f.printed, tuple(_ORDER))
    soft, fresh = x.index(x.yours.name), x.index(x.mode("flip_fresh").name)
    eps = sp.Rational(str(x.plan.eps))
    lx = Logits(_K)
    lhs = sp.sympify(evaluate(rel.lhs, lx, SOFT)).subs(EPS, eps)
    rhs = sp.sympify(evaluate(rel.rhs, lx, SOFT)).subs(EPS, eps)
    out.append(_convergence(x, x.yours.name))
    gaps = []
    for s in range(len(x.seeds)):
        Z = true_first(x.train_logits[s, soft], x.y_train[s])
        gaps.append(abs(float(at_rows(lhs, lx, Z).mean() - at_rows(rhs, lx, Z).mean())))
    tol = math.sqrt(ch5.CONVERGED / 2)
    out.append(Finding("numeric", "soft labels, on their training images: the mean of the printed left side is the "
                                  "printed right side within the tolerance convergence gives, at every seed",
                       max(gaps) <= tol, observed=f"largest difference {max(gaps):.4f}",
                       bound=f"{tol:.3f} = $\\sqrt{{{ch5.CONVERGED:g}/2}}$, Pinsker's bound at the convergence "
                             "tolerance (the bound is a theorem; what is tested is the printed value)"))
    excess = r.excess[:, soft]
    out.append(shown("numeric", "Pinsker's inequality at the measured excess loss",
                     f"largest $\\sqrt{{\\mathrm{{KL}}/2}}$ {math.sqrt(max(float(excess.max()), 0.0) / 2):.4f}",
                     "a theorem, shown as a bound: it holds whatever the training did, so it is not counted as a test"))
    conf = {k: r.lines[n].stats["confidence"] for k, n in (("C[f]", x.models[fresh].name), ("C[s]", x.yours.name),
                                                            ("C[h]", "hard labels"))}
    d = measured(near, conf)
    out.append(_test("held-out mean confidence: the printed left side minus the right side", d, near.op, x,
                     f"; flipped afresh {conf['C[f]'].text()}, soft {conf['C[s]'].text()}, hard {conf['C[h]'].text()}"))
    diff = conf["C[f]"] - conf["C[s]"]
    out.append(shown("statistical", "flipped afresh minus soft labels, mean test confidence",
                     f"{_interval(diff, '>')}; per seed {', '.join(f'{v:+.3f}' for v in diff.per_seed)}",
                     "approximately, not exactly: chapter 3's equivalence holds for the expected target; Adam's step "
                     "is not linear in the gradient, and the last steps' flips are not averaged out"))
    return _evidence(out)


register(Claim(
    id="ch5.fresh_matches_soft", chapter=5, section=SECTION, order=5, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Soft labels reach chapter 2's optimum; labels flipped afresh end near them, approximately",
    printed=rf"With {_REGIME}, soft labels train the network to convergence at chapter 2's optimum on its "
            r"training digits, $q_{1} = 1 - \epsilon$ on average; labels flipped afresh at every step end near "
            r"soft labels, not near hard labels: their mean confidence on held-out digits $C_{f}$ is closer to "
            r"that of soft labels $C_{s}$ than to that of hard labels $C_{h}$, "
            r"$\left(C_{f} - C_{s}\right)^{2} < \left(C_{h} - C_{f}\right)^{2}$",
    check=_check_fresh_matches_soft,
    remark="Chapter 3 shows that a label flipped afresh has the soft target as its expectation, so the expected "
           "gradient of plain gradient descent is the soft-label gradient. Only approximately does the network end "
           "in the same place: Adam divides each step by the root of the gradient's second moment, which the flips' "
           "noise inflates, so the update is not the update of the expected gradient; and the step is finite, so "
           "the last flips leave their trace. On held-out digits the two end close together, far from hard labels; "
           "the findings give their small difference at each seed.",
))


# -- 6. flipped once: memorised --------------------------------------------------------------------------------
def _check_once_memorises(f: Formulas, x: ch5.Experiment | None = None) -> Evidence:
    x = experiment() if x is None else x
    r, out = x.results, []
    if x.plan.eps == 0:
        out.append(shown("numeric", "labels flipped once", "at $\\epsilon = 0$ nothing flips", "no wrong label to fit"))
        return Evidence(holds=True, findings=out)
    frac_rel = _relation(f.printed, ("=",))
    fit = _relation(f.printed, tuple(_ORDER))
    once, soft = x.index(x.mode("flip_once").name), x.index(x.yours.name)
    printed = float(evaluate(frac_rel.rhs, Logits(_K), SOFT).subs(EPS, sp.Rational(str(x.plan.eps))))
    flipped = [x.kept[s, once] != x.y_train[s] for s in range(len(x.seeds))]
    k, n = sum(int(m.sum()) for m in flipped), sum(len(m) for m in flipped)
    lo, hi = binomial_region(n, printed) if 0.0 <= printed <= 1.0 else (n + 1, -1)
    out.append(Finding("statistical", f"{k} of the {n} labels flipped once are wrong: a Binomial($n$, printed fraction) "
                                      "draw", k > 0 and lo <= k <= hi,
                       observed=f"{k / n:.3f}; accepted from {lo} to {hi} ({max(lo, 0) / n:.3f} to "
                                f"{max(hi, 0) / n:.3f})",
                       bound=f"exact binomial tails, each at most {inline(FALSE_ALARM / 2, 'g')} (the flips are "
                             "independent draws)"))
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
    out.append(shown("statistical", "held-out accuracy, flipped once minus soft labels", _interval(acc, "<"),
                     "shown, not part of the claim: what the memorised wrong labels cost on new digits"))
    return _evidence(out)


register(Claim(
    id="ch5.once_memorises", chapter=5, section=SECTION, order=6, source="added", shares="ch5.experiment",
    stated=Verdict.HOLDS,
    title="Labels flipped once are memorised",
    printed=rf"With {_REGIME}, labels flipped once and kept are memorised: a fraction "
            r"$\Pr(y \neq 1|x) = \epsilon$ of the training labels is wrong, and the network fits each wrong label "
            r"$k$, ending with $q_{k} > q_{1}$ on its training digit",
    check=_check_once_memorises,
    remark="DisturbLabel (Xie et al., 2016) flips afresh in every minibatch; a flip kept for the whole run is a wrong "
           "label, and a network that can fit any labelling fits it: every flipped training image ends predicting "
           "its wrong label, and none does under soft labels.",
))

#: Each of this module's claims' check, by id: run on another experiment by :func:`at_your_values`.
CHECKS = {"ch5.hard_overconfident": _check_hard_overconfident, "ch5.chosen_alpha_helps": _check_selected,
          "ch5.as_temperature": _check_as_temperature, "ch5.too_much_smoothing": _check_too_much,
          "ch5.fresh_matches_soft": _check_fresh_matches_soft, "ch5.once_memorises": _check_once_memorises}


# -- the claims at the reader's values ---------------------------------------------------------------------------
def _changed(p: ch5.Plan) -> dict:
    """The reader's values that differ from the claims' (as the notebook's parameters name them)."""
    names = {"EPS": "eps", "SEED": "seed", "N_SEEDS": "seeds", "N_PER_DIGIT": "per_class", "HIDDEN": "hidden",
             "STEPS": "steps"}
    return {n: getattr(p, a) for n, a in names.items() if getattr(p, a) != getattr(PLAN, a)}


def _values(d: dict) -> str:
    return ", ".join(f"`{n}` = {v:g}" for n, v in d.items())


def verdicts_note(x: ch5.Experiment):
    """One sentence under the chapter's verdicts: at which values they were computed, and whether those are the
    reader's (Markdown, :class:`~derivations.engine.text.Prose`)."""
    from derivations.engine.text import Prose

    claims_at = {"N_PER_DIGIT": PLAN.per_class, "N_SEEDS": PLAN.seeds, "HIDDEN": PLAN.hidden, "STEPS": PLAN.steps,
                 "EPS": PLAN.eps, "SEED": PLAN.seed}
    changed = _changed(x.plan)
    if not changed:
        return Prose(f"These verdicts are computed at the claims' values ({_values(claims_at)}), which are this "
                     "page's.")
    return Prose(f"These verdicts are computed at the claims' values ({_values(claims_at)}), **not at yours** "
                 f"({_values(changed)}): each claim states the regime it is checked in. The same checks at your "
                 "values are in the table *The claims at your values* below.")


class YourVerdicts:
    """The chapter's claims checked on the reader's experiment: a table of the verdict there (``None``: not
    applicable, as the flipped labels' claims at ``eps = 0``) and the registered one (at :data:`PLAN`), with the test
    that decided; Markdown with the verdicts' badges, plain text for nbval."""

    def __init__(self, rows: list):
        self.rows = rows

    def _repr_markdown_(self) -> str:
        from derivations.engine.display import NOTEBOOKS, badge, link
        from derivations.engine.text import table_cell

        head = "| claim | at your values | at the claims' values | the test at your values |\n|---|---|---|---|\n"
        return head + "\n".join(f"| {link(cid, NOTEBOOKS.get(5))} | {badge(v) if v else 'not applicable'} | "
                                f"{badge(reg)} | {table_cell(what)} |" for cid, v, reg, what in self.rows)

    def __repr__(self) -> str:
        from derivations.engine.display import MARK
        from derivations.engine.text import plain

        w = max(len(r[0]) for r in self.rows)
        return "\n".join([f"{'claim':<{w}}  {'at your values':<26}  {'at the claims values':<26}  the test"]
                         + [f"{cid:<{w}}  {MARK[v] if v else 'not applicable':<26}  {MARK[reg]:<26}  {plain(what)}"
                            for cid, v, reg, what in self.rows])


def _deciding(e: Evidence) -> str:
    """The finding that decided: the first that failed, else the first undecided, else the first statistical."""
    fs = [f for f in e.findings if f.asserted] or list(e.findings)
    f = next((f for f in fs if f.failed), None) or next((f for f in fs if f.undecided), None) \
        or next((f for f in fs if f.kind == "statistical"), fs[0])
    return f"{f.mark}: {f.statement}: {f.observed}" if f.observed else f"{f.mark}: {f.statement}"


def at_your_values(x: ch5.Experiment) -> YourVerdicts:
    """Each claim of this module checked on the experiment ``x`` (the reader's), its verdict there
    (:func:`~derivations.engine.registry.verdict_of`) beside the registered one (:func:`derivations.engine.registry.run`,
    at :data:`PLAN`)."""
    from derivations.engine.registry import run

    rows = []
    for c in claims(5):
        if c.id not in CHECKS:
            continue
        registered = run(c)
        e = registered.evidence if x.plan == PLAN else CHECKS[c.id](c.formulas(), x)
        applies = any(f.asserted for f in e.findings)             # at eps = 0 nothing flips: nothing to check
        rows.append((c.id, verdict_of(e) if applies else None, registered.verdict, _deciding(e)))
    return YourVerdicts(rows)


from derivations.chapters.ch5 import muller_claims  # noqa: E402,F401  (Müller et al.: geometry and distillation, after the claims above)

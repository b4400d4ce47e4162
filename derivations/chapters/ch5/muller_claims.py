r"""Chapter 5: Müller, Kornblith & Hinton (2019)'s other two findings, tested on the digits as their calibration
finding is (``ch5.as_temperature``).

* ``ch5.penultimate_tighter`` (their Section 2 and Figure 1): with label smoothing the penultimate activations of a
  class's training examples, projected onto the plane through three classes' templates, cluster tighter and
  equidistant from the other classes' templates (:mod:`derivations.chapters.ch5.geometry`);
* ``ch5.distil_worse`` (their Section 4 and Figure 5): a student distilled from a teacher trained with label
  smoothing is less accurate than one distilled from a hard-label teacher at the temperature of equal smoothness
  (:mod:`derivations.chapters.ch5.distillation`).

Both are claims about training, so the seed is the unit: each measurement is taken per seed on two networks that
share the seed's training digits and initial weights, and the claim's relation, read from its statement, is decided
at chapter 5's :data:`~derivations.chapters.ch5.inference.SEED_FALSE_ALARM` per end of its interval (Student's t on
``S - 1`` degrees of freedom; :mod:`derivations.chapters.ch5.inference` says what it covers and why not ``1e-6``):
the geometry, a statistic of each seed's own training digits, on the seeds' differences (:mod:`.paired`); the
students' accuracy, a mean over the test digits the seeds share, on joint resamples of those digits and the seeds.
A claim holds when its intervals lie on the claimed side, is refuted (an erratum, with the measured difference as
counterexample) when one lies on the other, and is undecided otherwise. The experiment is :data:`PLAN`, chapter 5's
defaults.

Registered by importing this module: ``derivations/chapters/ch5/claims.py`` imports it at its end, so that these
claims follow the chapter's own in its section.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.chapters.ch5 import CHAPTER
from derivations.chapters.ch5 import claims as _chapter  # the chapter's claims first: ours follow them
from derivations.chapters.ch5 import distillation as dist
from derivations.chapters.ch5 import geometry as geo
from derivations.chapters.ch5.inference import direction, t_quantile
from derivations.chapters.ch5.paired import SEED_FALSE_ALARM, Paired
from derivations.engine.finding import Finding, shown
from derivations.engine.notation import HARD, evaluate
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, register
from derivations.engine.symbolic import Logits
from derivations.engine.tex import inline

__all__ = ["PLAN", "per_seed", "joint", "decided"]

_D = CHAPTER.defaults
#: The claims' experiment: chapter 5's defaults (seeds 0 to 4, 3 training images per digit, 128 hidden units, 300
#: steps), Müller et al.'s alpha = 0.1.
PLAN = geo.Plan(seed=_D["SEED"], seeds=_D["N_SEEDS"], per_class=_D["N_PER_DIGIT"], hidden=_D["HIDDEN"],
                steps=_D["STEPS"])
_ORDERS = ("<", "<=", ">", ">=")
_MULLER = "Müller, Kornblith & Hinton (2019)"


def _difference(rel):
    """``lhs - rhs`` of a relation between named measurements as a NumPy function, and the names it reads in order
    (as the formula prints them: ``"R[alpha]"``, ``"S[0]"`` ...)."""
    x = Logits(dist.K)
    d = sp.sympify(evaluate(rel.lhs, x, HARD) - evaluate(rel.rhs, x, HARD))
    atoms = sorted(d.atoms(sp.Indexed), key=str)
    inside = set().union(*(a.free_symbols for a in atoms)) if atoms else set()
    names = atoms + sorted((s for s in d.free_symbols if s not in inside), key=str)
    dummies = [sp.Dummy(f"m{i}") for i in range(len(names))]
    return sp.lambdify(dummies, d.subs(dict(zip(names, dummies))), "numpy"), [str(a) for a in names]


def _read(names: list, bind: dict) -> list:
    missing = [n for n in names if n not in bind]
    if missing:
        raise KeyError(f"the formula asks for {missing}, which was not measured; measured: {sorted(bind)}")
    return [bind[n] for n in names]


def per_seed(rel, bind: dict) -> Paired:
    r"""``lhs - rhs`` of a relation between named measurements (``bind``: an array over the seeds per name as the
    formula prints it, ``"R[alpha]"``, ``"S[0]"`` ...), at every seed. ``KeyError`` names a measurement the formula
    asks for that was not made.

    >>> from derivations.engine.notation import read
    >>> per_seed(read(r"R_{\alpha} < R_{0}").relation(), {"R[alpha]": np.array([1.0, 2.0]),
    ...                                                 "R[0]": np.array([3.0, 3.0])}).per_seed.tolist()
    [-2.0, -1.0]
    """
    f, names = _difference(rel)
    S = len(next(iter(bind.values())))
    return Paired(np.broadcast_to(np.asarray(f(*_read(names, bind)), dtype=float), (S,)).copy())


def joint(rel, bind: dict, x: dist.Distillation) -> tuple:
    """``lhs - rhs`` of a relation between the test accuracies of named students (``bind``: a student's index per
    name), decided on the joint resamples of the test digits and the seeds (:meth:`dist.Distillation.resampled`):
    the :class:`~derivations.chapters.ch5.inference.Decision` and the seeds' own differences (:class:`Paired`)."""
    f, names = _difference(rel)
    cols = _read(names, bind)
    j, values, reps = x.resampled()
    S = x.plan.seeds
    per = [(float(f(*[values[s, c] for c in cols])), np.asarray(f(*[reps[s, :, c] for c in cols]), dtype=float))
           for s in range(S)]
    per = [(v, np.broadcast_to(r, (j.B,))) for v, r in per]
    value, pooled, seeds = j.pool(per)
    return direction(value, pooled, S, rel.op, false_alarm=SEED_FALSE_ALARM), Paired(seeds)


def decided(statement: str, rel, d: Paired, quantity: str, joint_decision=None) -> tuple[Finding, Counterexample | None]:
    """The statistical finding that the relation holds across seeds, and the counterexample where it is refuted:
    confirmed, refuted (failed) or undecided (:func:`derivations.engine.stats.side`) by the interval at
    :data:`SEED_FALSE_ALARM` per end, from the seeds' differences ``d`` (:meth:`Paired.interval`), or from the joint
    resamples of the test digits and the seeds where ``joint_decision`` is given (a mean over the test digits,
    which the seeds share)."""
    if joint_decision is None:
        mean, se, (lo, hi) = d.mean, d.se, d.interval(SEED_FALSE_ALARM)
        where, how = d.side(rel.op, SEED_FALSE_ALARM), "the seeds' differences"
    else:
        mean, se, lo, hi = joint_decision.value, joint_decision.se, joint_decision.lo, joint_decision.hi
        where, how = joint_decision.outcome, f"{dist.RESAMPLES} joint resamples of the test digits and the seeds"
    half = t_quantile(0.975, d.df) * se
    finding = Finding("statistical", statement, where == "confirmed", undecided=where == "undecided",
                      observed=f"{mean:+.4f} [{lo:+.4f}, {hi:+.4f}] (95%: [{mean - half:+.4f}, {mean + half:+.4f}]; "
                               f"plain paired $t = {d.t:+.2f}$, {d.df} df); the same way at {d.agree(rel.op)} of {d.S} "
                               f"seeds (sign-flip $p = {d.sign_flip(rel.op):.3g}$)",
                      bound=f"smoothing minus hard labels at each seed (same training digits, same initial weights); "
                            f"the interval from {how}, Student's t on {d.df} degrees of freedom at false-alarm "
                            f"{inline(SEED_FALSE_ALARM, 'g')} each side")
    cx = Counterexample(quantity, printed=0.0, correct=mean, K=dist.K,
                        parameters={"seeds": f"{PLAN.seed}-{PLAN.seed + PLAN.seeds - 1}"}) if where == "refuted" else None
    return finding, cx


def _relations(f: Formulas) -> list:
    return [r for r in f.printed.relations() if r.op in _ORDERS]


# -- 1. penultimate-layer geometry (their Section 2 and Figure 1) ------------------------------------------------
def _check_penultimate(f: Formulas) -> Evidence:
    g = geo.measure(PLAN)
    out = []
    worst_hard, worst_soft = float(g.hard_loss.max()), float(g.soft_excess.max())
    out.append(Finding("numeric", "trained to convergence, the regime of their Figure 1: at every seed the training "
                                  "loss of hard labels, and that of smoothing above its minimum, are below $10^{-3}$",
                       max(worst_hard, worst_soft) < 1e-3,
                       observed=f"at most {inline(worst_hard, '.1e')} and {inline(worst_soft, '.1e')} nats",
                       bound="$10^{-3}$ nats"))
    bind = {f"{q}[{k}]": getattr(g, q)["train"][:, m] for q in ("R", "U") for k, m in (("alpha", 1), ("0", 0))}
    words = {"R": "tightness $R$ on the training digits", "U": "unequal distances $U$ on the training digits"}
    cx = None
    for rel in _relations(f):
        d = per_seed(rel, bind)
        name = next((words[q] for q in words if q in str(rel.lhs) + str(rel.rhs)), "the measurement")
        finding, c = decided(f"{name}: the printed left side minus the right side, across seeds", rel, d,
                             f"{name}, smoothing minus hard labels (mean over seeds)")
        out.append(finding)
        cx = cx or c
    for q in ("R", "U"):
        test = g.paired(q, "test")
        out.append(shown("statistical", f"the same on the held-out test digits, {words[q].split(' on ')[0]}",
                         f"{test.text()}; {test.side('<')} that it is smaller with smoothing",
                         "shown, not part of the claim: they state it for training examples, and on held-out ones "
                         "see the clusters spread towards the centre (their Section 3)"))
    cv = g.norm_cv.mean(axis=0)
    out.append(shown("numeric", "the templates' norms, SD over mean across the ten digits",
                     f"hard labels {cv[0]:.3f}, smoothing {cv[1]:.3f}",
                     "equal incorrect logits make equal distances only as far as the templates' norms are equal, "
                     "which their argument assumes"))
    holds = all(x.ok for x in out if x.asserted)
    return Evidence(holds=holds, findings=out, counterexample=cx)


register(Claim(
    id="ch5.penultimate_tighter", chapter=5, section=getattr(_chapter, "SECTION", ""), source="added",
    shares="ch5.muller", stated=Verdict.HOLDS,
    title="With smoothing, the training digits' penultimate activations cluster tighter and equidistant "
          "(Müller et al., 2019)",
    printed=r"Projected onto the plane through three digits' templates (the last layer's weights), the penultimate "
            r"activations of the training digits of each class lie closer together relative to the distances "
            r"between the classes with label smoothing than with hard labels, $R_{\alpha} < R_{0}$, and more "
            r"nearly equidistant from the templates of the other two classes, $U_{\alpha} < U_{0}$",
    check=_check_penultimate,
    remark=f"The observation of {_MULLER}, Section 2 and Figure 1: the logit of a class measures how near the "
           "penultimate activations lie to the class's template, and label smoothing asks every incorrect logit of a "
           "training example to sit the same distance below the correct one, so the training examples of a class "
           "gather tightly, equally far from the other classes' templates (\"regular triangles\"), where hard labels "
           f"leave broad clusters. Here with their $\\alpha = {PLAN.alpha:g}$, on the chapter's network, on the "
           "training digits where they state it, averaged over all 120 triples of digits and compared seed by seed. "
           "Tightness follows from training to convergence; equal distances follow from equal incorrect logits only "
           "as far as the templates' norms are equal, which their argument assumes (the findings give the norms' "
           "spread, and the same measurements on the held-out digits).",
))


# -- 2. distillation (their Section 4 and Figure 5) ---------------------------------------------------------------
def _check_distil(f: Formulas) -> Evidence:
    x = dist.experiment(PLAN)
    t = geo.teachers(PLAN)
    out = []
    Z = t.logits(t.images("train"))
    fitted = bool((Z.argmax(axis=-1) == t.y_train[:, None, :]).all())
    out.append(Finding("numeric", "both teachers fit every training digit at every seed (the premise of their "
                                  "$\\beta = 1$: the targets are the teacher's outputs, the labels ignored)", fitted,
                       bound="exact: every image"))
    gap = float(abs(x.gammas[:, 0] - x.gammas[:, 1]).max())
    out.append(Finding("numeric", "equal smoothness: the hard-label teacher at $T^*$ puts as much mass $\\gamma$ on "
                                  "incorrect classes as the smoothed teacher at $T = 1$, at every seed",
                       gap <= 1e-9, observed=f"$T^*$ from {x.T_star.min():.2f} to {x.T_star.max():.2f}; $\\gamma$ = "
                                             f"{x.gammas[:, 1].mean():.4f}; largest gap {inline(gap, '.1e')}",
                       bound="$10^{-9}$ (bisection)"))
    a, b = dist.CLAIMED
    cx = None
    for rel in _relations(f):
        dec, d = joint(rel, {"S[alpha]": a, "S[0]": b}, x)
        finding, c = decided("the students' test accuracy: the printed left side minus the right side, across seeds",
                             rel, d, "student's test accuracy, smoothed teacher minus hard-label teacher "
                                     "(mean over seeds)", joint_decision=dec)
        out.append(finding)
        cx = cx or c
    teach = x.decide(1, 0, ">", which="teacher")
    helps = {"confirmed": "here it does: the test reaches their stronger form",
             "refuted": "here it makes the teacher less accurate: the test is of the claim, not of that stronger form",
             "undecided": "here the seeds do not decide whether it does"}[teach.outcome]
    out.append(shown("statistical", "the teachers' own test accuracy, smoothed minus hard labels", teach.text(),
                     f"shown: their claim is that smoothing hurts the student even where it helps the teacher; {helps}"))
    direct = x.decide(a, 1, "<")
    out.append(shown("statistical", "the student of the smoothed teacher minus the student trained with smoothing "
                                    "directly", direct.text(),
                     "their Figure 5: distilling a smoothed teacher is no better than smoothing the student's labels"))
    mi = Paired(x.information[:, 1] - x.information[:, 0])
    out.append(shown("statistical", "their explanation, the information the teacher's logits keep about the training "
                                    "digit (mutual information over one-pixel shifts, nats), smoothed minus hard "
                                    "labels",
                     f"{x.information[:, 1].mean():.3f} against {x.information[:, 0].mean():.3f}: {mi.text()}; "
                     f"{mi.side('<')} that it is lower",
                     "shown, not part of the claim: their estimator (Section 4), with the nine one-pixel shifts as "
                     "the data augmentation"))
    holds = all(y.ok for y in out if y.asserted)
    return Evidence(holds=holds, findings=out, counterexample=cx)


register(Claim(
    id="ch5.distil_worse", chapter=5, section=getattr(_chapter, "SECTION", ""), source="added", shares="ch5.muller",
    stated=Verdict.UNDECIDED,
    title="A student distilled from a smoothed teacher is less accurate (Müller et al., 2019)",
    printed=r"A student distilled from a teacher trained with label smoothing (on the teacher's outputs alone, at "
            r"temperature 1) is less accurate on held-out digits than a student distilled from the teacher trained "
            r"on hard labels at the temperature that gives its targets the same smoothness, $S_{\alpha} < S_{0}$",
    check=_check_distil,
    remark=f"The finding of {_MULLER}, Section 4 and Figure 5 (a ResNet-56 teacher, an AlexNet student, CIFAR-10): "
           "teachers trained with label smoothing produce worse students than teachers trained with hard labels, "
           "compared at equal smoothness of the targets, because smoothing erases from the logits what distinguishes "
           f"one training example from another. Here the teachers are the chapter's network (hard labels and "
           f"$\\alpha = {PLAN.alpha:g}$), the student a network of a quarter of the width, trained the same way on the "
           "same digits; the hard-label teacher is distilled at the temperature $T^*$ that matches the smoothed "
           "teacher's mass on incorrect classes, found at each seed. The findings add the teachers' own accuracy, "
           "the student trained with smoothing directly, and their explanation: the information the teacher's "
           "logits keep about the training digit.",
))

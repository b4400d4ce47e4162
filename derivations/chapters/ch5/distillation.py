r"""Knowledge distillation on the digits: Müller, Kornblith & Hinton (2019), Section 4 and Figures 5 and 6.

**Their finding** (Section 4 of arXiv:1906.02629v3, "Knowledge distillation"; their Section 5 is *Related work*):
"teachers trained with label smoothing produce inferior student networks compared to
teachers trained with hard targets", even where smoothing makes the teacher itself more accurate. The student is
trained on ``(1 - beta) H(y, p) + beta H(p^t(T), p(T))``, ``p^t(T)`` and ``p(T)`` the teacher's and the student's
outputs at temperature ``T``; "since the training accuracy is nearly perfect", they take ``beta = 1``: the targets
are the teacher's outputs on the training images and the labels are ignored. They compare teachers at equal
*smoothness*: ``gamma = E[sum_{k != y} p^t_k(T)] K/(K-1)``, the mass the teacher's targets put on incorrect classes
over the training set (``gamma = alpha`` for label smoothing itself): the hard-label teacher distilled at the
temperatures that give a ``gamma``, against a teacher trained with smoothing ``alpha`` distilled at ``T = 1``
(their Figure 5, ResNet-56 teacher, AlexNet student, CIFAR-10). Their explanation: smoothing collapses the training
examples of a class onto one cluster (:mod:`.geometry`), which erases what the logits tell about the individual
example; they measure it as the mutual information between the example's index ``X`` and the difference ``Y`` of
two logits, the randomness coming from data augmentation ``d(.)`` (random shifts), ``Y`` taken as Gaussian around
each example's mean (their Figure 6: lower with smoothing, tending to ``log 2`` for two classes).

**Here**, per seed (:func:`experiment`): the two networks of :func:`~derivations.chapters.ch5.geometry.teachers`
(chapter 5's network on hard labels and with ``alpha = 0.1``) are the teachers; the student is a narrower network
of the same kind (a quarter of the teacher's hidden units), trained the same way (full batch, Adam, the chapter's
steps), on the same training digits, with ``beta = 1``, all students of a seed from the same initial weights:

* from the smoothed teacher at ``T = 1`` (their scenario 4);
* from the hard-label teacher at ``T*``, the temperature at which its ``gamma`` on the training digits equals the
  smoothed teacher's (their scenario 3, at the same point of their Figure 5's axis): the stated temperature, found
  per seed (:func:`matched_temperature`, about 4 at the defaults);
* and, for reference, the student trained on hard labels, and with smoothing ``alpha`` (their scenario 2).

The claim compares the first two on the held-out test digits, paired (same seed), decided on the chapter's joint
resamples of the test digits and the seeds (:meth:`Distillation.decide`), the seed the unit. The mutual
information is estimated as they do, with the nine shifts of an 8 x 8 digit by at most one pixel (zeros shifted in)
as ``d(.)``, all of them (``L = 9``), for every pair of digits on its training images (:func:`mutual_information`).

Why the digits are a fair test: the teachers fit their training digits (the premise of ``beta = 1``), the student
is weaker than its teacher, and the comparison is at matched smoothness as in their Figure 5. Where the regime
differs: smoothing need not make the teacher more accurate here (the findings measure it: with few training digits
it does not), and the teachers are trained without augmentation, so the shifts probe them off their training
distribution.

>>> z = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
>>> round(gamma(z, np.array([0, 1]), 1.0, num_classes=3), 4)
0.1437
>>> T = matched_temperature(z, np.array([0, 1]), 0.3, num_classes=3)
>>> round(T, 4), round(gamma(z, np.array([0, 1]), T, num_classes=3), 10)
(1.4822, 0.3)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from derivations.chapters.ch5 import digits
from derivations.chapters.ch5.geometry import Plan, figures, teachers
from derivations.chapters.ch5.inference import Decision, JointBootstrap, direction
from derivations.chapters.ch5.mlp import Adam, Stack, forward, gradients, initial_stack
from derivations.chapters.ch5.paired import SEED_FALSE_ALARM, Paired
from derivations.engine import results
from derivations.engine.finding import Findings, shown
from derivations.engine.tex import inline
from derivations.library.smoothing import smoothed_targets

__all__ = ["K", "STUDENTS", "CLAIMED", "RESAMPLES", "tempered", "gamma", "matched_temperature", "initial_student", "distil",
           "shifted", "mutual_information", "Distillation", "experiment", "findings", "plot_distillation"]

K = 10
#: The students of each seed, in the order of :attr:`Distillation.accuracy`'s second axis.
STUDENTS = ("hard labels", "label smoothing", "from the hard-label teacher", "from the smoothed teacher")
#: The two students the claim compares: from the smoothed teacher at T = 1, from the hard-label one at T*.
CLAIMED = (3, 2)
#: Joint resamples of the test images and the seeds (:class:`~derivations.chapters.ch5.inference.JointBootstrap`).
RESAMPLES = 1000


def tempered(z: np.ndarray, T) -> np.ndarray:
    """``softmax(z / T)`` along the last axis (``T`` broadcasts).

    >>> tempered(np.array([[0.0, np.log(3.0)]]), 1.0).round(3).tolist()
    [[0.25, 0.75]]
    """
    z = np.asarray(z) / T
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def gamma(z: np.ndarray, y: np.ndarray, T: float, num_classes: int = K) -> float:
    """Müller et al.'s equivalent smoothing of a teacher's targets at temperature ``T``: the mean over the examples
    of the mass on incorrect classes, times ``K/(K-1)`` (``alpha`` for label smoothing's own target)."""
    p = tempered(z, T)
    return float((1.0 - p[np.arange(len(y)), y]).mean() * num_classes / (num_classes - 1))


def matched_temperature(z: np.ndarray, y: np.ndarray, target: float, num_classes: int = K,
                        bounds=(1e-2, 1e4), clip: bool = False) -> float:
    """The temperature at which :func:`gamma` equals ``target``, by bisection on ``log T`` (``gamma`` increases with
    ``T`` when every example's label is its largest logit, as for a teacher that fits its training set). Where
    ``target`` lies outside ``gamma``'s range over ``bounds``: ``ValueError``, or with ``clip`` the nearer bound
    (a teacher that does not fit its training digits; :class:`Distillation` reports the gap).

    >>> matched_temperature(np.array([[1.0, 0.0]]), np.array([1]), 0.5, num_classes=2, clip=True)   # misfit
    10000.0
    """
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    g_lo, g_hi = gamma(z, y, np.exp(lo), num_classes), gamma(z, y, np.exp(hi), num_classes)
    if not g_lo <= target <= g_hi:
        if clip:
            return float(bounds[0] if abs(g_lo - target) <= abs(g_hi - target) else bounds[1])
        raise ValueError(f"gamma = {target} is not reached for T in {bounds} (from {g_lo:.4g} to {g_hi:.4g})")
    for _ in range(200):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if gamma(z, y, np.exp(mid), num_classes) < target else (lo, mid)
        if hi - lo < 1e-13:
            break
    return float(np.exp((lo + hi) / 2.0))


def initial_student(inputs: int, hidden: int, num_classes: int, seeds, networks: int, dtype=np.float32) -> Stack:
    """Seeded initial weights of the students, the same for the ``networks`` students of a seed (as
    :func:`~derivations.chapters.ch5.mlp.initial_stack`, He and Glorot, biases 0), from their own stream
    ``default_rng([seed, 5])``: not the teachers' ``[seed, 1]``, whose first draws they would repeat."""
    return initial_stack(inputs, hidden, num_classes, seeds, networks, dtype, stream=5)


def distil(X, targets, temperatures, hidden: int, steps: int, lr: float, seeds, dtype=np.float32) -> Stack:
    """Train ``M`` students per seed on the images ``X`` ``(S, n, d)`` towards the soft ``targets`` ``(S, M, n, K)``
    at ``temperatures`` ``(S, M)``: the mean of ``H(targets, softmax(z / T))`` (``beta = 1``), whose gradient in the
    logits is ``(softmax(z / T) - targets) / (T n)``; full batch, ``steps`` Adam steps of size ``lr`` decaying
    linearly to 0, as :func:`~derivations.chapters.ch5.mlp.train`. A student at ``T = 1`` with one-hot or smoothed
    targets is a network trained on hard labels or with label smoothing.

    >>> X = np.array([[[0.0, 1.0], [1.0, 0.0]]]); P = np.eye(2)[None, None]
    >>> net = distil(X, P, np.ones((1, 1)), hidden=8, steps=200, lr=0.05, seeds=[0])
    >>> forward(net, X.astype(np.float32))[0][0, 0].argmax(axis=1).tolist()
    [0, 1]
    """
    X = np.asarray(X, dtype=dtype)
    P = np.asarray(targets, dtype=dtype)
    S, n, d = X.shape
    M = P.shape[1]
    Tm = np.asarray(temperatures, dtype=dtype).reshape(S, M, 1, 1)
    net = initial_student(d, hidden, P.shape[-1], seeds, M, dtype)
    opt = Adam(net.arrays(), lr)
    for step in range(steps):
        z, a = forward(net, X)
        opt.lr = lr * (1.0 - step / steps)
        opt.step(net.arrays(), gradients(net, X, a, (tempered(z, Tm) - P) / (Tm * n)))
    return net


def shifted(X: np.ndarray, size: int = 8) -> np.ndarray:
    """The nine shifts of each ``size x size`` image (rows of ``X``, last axis) by at most one pixel in each
    direction, zeros shifted in: ``(9, *X.shape)``, the unshifted image fifth.

    >>> shifted(np.arange(4.0).reshape(1, 4), size=2)[:, 0].tolist()[:3]
    [[3.0, 0.0, 0.0, 0.0], [2.0, 3.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]
    """
    img = np.asarray(X).reshape(*np.shape(X)[:-1], size, size)
    out = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            s = np.zeros_like(img)
            s[..., max(dy, 0):size + min(dy, 0), max(dx, 0):size + min(dx, 0)] = \
                img[..., max(-dy, 0):size + min(-dy, 0), max(-dx, 0):size + min(-dx, 0)]
            out.append(s.reshape(np.shape(X)))
    return np.stack(out)


def mutual_information(Y: np.ndarray) -> float:
    r"""Müller et al.'s estimate of the mutual information between the example ``x`` (one of ``N``, uniform) and
    ``y = f(d(z_x))``, from ``Y`` ``(L, N)``, ``L`` draws of ``d`` for each example: ``mu_x`` the mean of its draws,
    ``sigma^2`` the mean squared deviation from them over all, and
    ``I = mean over x and draws of [-(y - mu_x)^2 / (2 sigma^2) - log((1/N) sum_x' exp(-(y - mu_x')^2 / (2 sigma^2)))]``,
    between 0 and ``log N``.

    >>> Y = np.array([[0.0, 10.0], [0.1, 10.1], [-0.1, 9.9]])   # two examples far apart: log 2
    >>> round(mutual_information(Y), 6), round(float(np.log(2)), 6)
    (0.693147, 0.693147)
    >>> round(mutual_information(np.array([[0.0, 0.1], [0.1, 0.0]])), 6)     # the same mean: nothing
    0.0
    """
    Y = np.asarray(Y, dtype=float)
    mu = Y.mean(axis=0)
    s2 = max(float(((Y - mu) ** 2).mean()), np.finfo(float).tiny)
    own = -(Y - mu) ** 2 / (2 * s2)
    every = -(Y[:, :, None] - mu[None, None, :]) ** 2 / (2 * s2)          # (L, N, N'): each draw against each mean
    top = every.max(axis=2, keepdims=True)
    log_mix = np.log(np.exp(every - top).mean(axis=2)) + top[..., 0]
    return float((own - log_mix).mean())


@dataclass
class Distillation:
    """Per seed: the matched temperature ``T*``, the teachers' ``gamma`` (hard at ``T*``, smoothed at 1), which test
    digits the teachers ``(S, 2, n)`` and the students ``(S, 4, n)`` (:data:`STUDENTS`) get right, the test digits
    (indices into :func:`~derivations.chapters.ch5.digits.load`), and the teachers' mutual information ``(S, 2)``
    (mean over the 45 pairs of digits)."""

    plan: Plan
    T_star: np.ndarray
    gammas: np.ndarray
    teacher_correct: np.ndarray
    correct: np.ndarray
    test_idx: np.ndarray
    information: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        """The students' test accuracy ``(S, 4)``."""
        return self.correct.mean(axis=-1)

    @property
    def teacher_accuracy(self) -> np.ndarray:
        return self.teacher_correct.mean(axis=-1)

    def paired(self, a: int, b: int) -> Paired:
        """Student ``a`` minus student ``b``, test accuracy, the seeds' differences (their plain t-test)."""
        return Paired(self.accuracy[:, a] - self.accuracy[:, b])

    def resampled(self, which: str = "student") -> tuple[JointBootstrap, np.ndarray, np.ndarray]:
        """The joint resamples of the 1,797 digits and the seeds, and each network's test accuracy per seed, on all
        its test digits ``(S, M)`` and on every resample ``(S, B, M)`` (``which``: the students or the teachers)."""
        key = (which, self.correct.tobytes(), self.teacher_correct.tobytes())
        if key not in _RESAMPLED:
            C = (self.correct if which == "student" else self.teacher_correct).astype(float)
            j = _bootstrap(len(digits.load()[1]), self.plan.seeds, self.plan.seed)
            out = [j.means(self.test_idx[s], C[s].T) for s in range(self.plan.seeds)]
            if len(_RESAMPLED) > 16:
                _RESAMPLED.clear()
            _RESAMPLED[key] = (j, np.array([v for v, _ in out]), np.array([r for _, r in out]))
        return _RESAMPLED[key]

    def decide(self, a: int, b: int, op: str, which: str = "student") -> Decision:
        """Is network ``a`` minus network ``b`` (test accuracy, mean over seeds) ``op 0``? Decided on the joint
        resamples of the images and the seeds, the seed the unit (:func:`~derivations.chapters.ch5.inference.direction`)."""
        j, values, reps = self.resampled(which)
        value, pooled, _ = j.pool([(values[s, a] - values[s, b], reps[s, :, a] - reps[s, :, b])
                                   for s in range(self.plan.seeds)])
        return direction(value, pooled, self.plan.seeds, op, false_alarm=SEED_FALSE_ALARM)


#: :meth:`Distillation.resampled`'s results, by the networks' correctness (planted ones included).
_RESAMPLED: dict = {}


@lru_cache(maxsize=8)
def _bootstrap(images: int, seeds: int, first: int) -> JointBootstrap:
    return JointBootstrap(images, seeds, RESAMPLES, [first, seeds, 8])


def _joint_text(d: Decision, paired: Paired) -> str:
    """The joint decision's value, its 95% interval and its interval at :data:`SEED_FALSE_ALARM`, with the plain
    paired t beside it."""
    half = _t95(paired.df) * d.se
    return (f"{d.value:+.3f} [95%: {d.value - half:+.3f}, {d.value + half:+.3f}; at false-alarm {SEED_FALSE_ALARM:g} "
            f"each side: {d.lo:+.3f}, {d.hi:+.3f}] (joint resamples of images and seeds; plain paired "
            f"$t = {paired.t:+.2f}$, {paired.df} df)")


def _t95(df: int) -> float:
    from derivations.chapters.ch5.inference import t_quantile

    return t_quantile(0.975, df)


def _information(t, plan: Plan) -> np.ndarray:
    X = t.images("train")
    Z = np.stack([t.logits(Xs) for Xs in shifted(X)])                     # (L, S, 2, n, K)
    out = np.zeros((plan.seeds, 2))
    pairs = [(a, b) for a in range(K) for b in range(a + 1, K)]
    for s in range(plan.seeds):
        y = t.y_train[s]
        for m in range(2):
            out[s, m] = np.mean([mutual_information(Z[:, s, m][:, (y == a) | (y == b), a]
                                                    - Z[:, s, m][:, (y == a) | (y == b), b]) for a, b in pairs])
    return out


def _compute(plan: Plan) -> Distillation:
    t = teachers(plan)
    S = plan.seeds
    X_tr, X_te = t.images("train"), t.images("test")
    Z = t.logits(X_tr)                                                    # (S, 2, n, K)
    smooth_gamma = np.array([gamma(Z[s, 1], t.y_train[s], 1.0) for s in range(S)])
    T_star = np.array([matched_temperature(Z[s, 0], t.y_train[s], smooth_gamma[s], clip=True) for s in range(S)])
    hard_gamma = np.array([gamma(Z[s, 0], t.y_train[s], T_star[s]) for s in range(S)])
    n = Z.shape[2]
    targets = np.stack([np.eye(K)[t.y_train],
                        smoothed_targets(t.y_train.ravel(), K, eps=plan.note_eps).reshape(S, n, K),
                        tempered(Z[:, 0], T_star[:, None, None]),
                        tempered(Z[:, 1], 1.0)], axis=1)
    temps = np.stack([np.ones(S), np.ones(S), T_star, np.ones(S)], axis=1)
    net = distil(X_tr, targets, temps, plan.student, plan.steps, plan.lr, plan.seed_list)
    zs = forward(net, np.asarray(X_te, dtype=np.float32))[0]
    correct = zs.argmax(axis=-1) == t.y_test[:, None, :]
    teacher = t.logits(X_te).argmax(axis=-1) == t.y_test[:, None, :]
    return Distillation(plan, T_star, np.stack([hard_gamma, smooth_gamma], axis=1), teacher, correct, t.test_idx,
                        _information(t, plan))


@lru_cache(maxsize=8)
def experiment(plan: Plan) -> Distillation:
    """The students of every seed of ``plan`` and what they are compared by (cached, and shared by the processes of
    a test session). One BLAS thread, as chapter 5's experiment."""
    from threadpoolctl import threadpool_limits

    def compute() -> Distillation:
        with threadpool_limits(limits=1, user_api="blas"):
            return _compute(plan)
    return results.shared(f"ch5.muller.distillation.{plan!r}", compute)


def _rule(plan: Plan, joint: bool = True) -> str:
    where = ("the interval from joint resamples of the test digits and the seeds" if joint else
             "the interval from the seeds' differences (each seed its own training digits)")
    return (f"mean over {plan.seeds} seeds, paired (same split and initial weights); {where}, Student's t on "
            f"{plan.seeds - 1} degrees of freedom, decided at false-alarm {inline(SEED_FALSE_ALARM, 'g')} each side")


def findings(plan: Plan) -> Findings:
    """What the numbers say at the reader's values: shown, each with its computed decision across seeds (the claim
    ``ch5.distil_worse`` decides it at the chapter's defaults)."""
    x = experiment(plan)
    out = Findings(f"Distillation (Müller et al., 2019, Section 4): teacher {plan.hidden} hidden units, student "
                   f"{plan.student}, seeds {plan.seed} to {plan.seed + plan.seeds - 1}, $\\beta = 1$")
    out.add(shown("numeric", "the temperature $T^*$ of the hard-label teacher that matches the smoothed teacher's "
                  "smoothness $\\gamma$ on the training digits",
                  f"$T^*$ = {', '.join(f'{v:.2f}' for v in x.T_star)} (per seed); $\\gamma$ = "
                  f"{x.gammas[:, 1].mean():.4f} (smoothed teacher at $T = 1$); largest gap "
                  f"{inline(float(abs(x.gammas[:, 0] - x.gammas[:, 1]).max()), '.1e')}",
                  "Müller et al.'s equivalent smoothing; a gap beyond rounding means the hard-label teacher does not "
                  "fit its training digits"))
    acc = x.teacher_accuracy
    td = x.decide(1, 0, ">", which="teacher")
    out.add(shown("statistical", "the teachers' test accuracy: smoothed minus hard labels",
                  f"{acc[:, 1].mean():.3f} against {acc[:, 0].mean():.3f}: "
                  f"{_joint_text(td, Paired(acc[:, 1] - acc[:, 0]))}; {td.outcome} that smoothing makes the teacher "
                  "more accurate", _rule(plan)))
    a, b = CLAIMED
    d = x.decide(a, b, "<")
    p = x.paired(a, b)
    out.add(shown("statistical", "the student's test accuracy: from the smoothed teacher minus from the hard-label "
                  "teacher",
                  f"{x.accuracy[:, a].mean():.3f} against {x.accuracy[:, b].mean():.3f}: {_joint_text(d, p)}, lower "
                  f"at {p.agree('<')} of {p.S} seeds; {d.outcome} that it is lower", _rule(plan)))
    base = x.decide(a, 1, "<")
    out.add(shown("statistical", "the student from the smoothed teacher minus the student trained with label smoothing "
                  "directly", _joint_text(base, x.paired(a, 1)),
                  "Müller et al.: distilling a smoothed teacher is no better than training the student with smoothing"))
    mi = Paired(x.information[:, 1] - x.information[:, 0])
    out.add(shown("statistical", "the information the teacher's logits keep about the training digit (mutual "
                  "information, nats): smoothed minus hard labels",
                  f"{x.information[:, 1].mean():.3f} against {x.information[:, 0].mean():.3f}: {mi.text()}, lower at "
                  f"{mi.agree('<')} of {mi.S} seeds; {mi.side('<')} that it is lower", _rule(plan, joint=False)))
    return out


def plot_distillation(plan: Plan, *, out: Path):
    """Left: the test accuracy of the four students of :data:`STUDENTS`, each seed a grey line across them, the
    means in black. Middle: the claim's paired difference, per seed, with its mean, its 95% interval and the
    interval that decides the claim (:data:`~derivations.chapters.ch5.paired.SEED_FALSE_ALARM`). Right: the mutual
    information between the training digit and the difference of two logits, per seed, for each teacher."""
    import matplotlib.pyplot as plt

    from derivations.engine.figures import style

    x = experiment(plan)
    a, b = CLAIMED
    d = x.paired(a, b)
    dec = x.decide(a, b, "<")
    direct = x.paired(a, 1)
    labels = ["hard\nlabels", f"smoothing\n$\\alpha = {plan.alpha:g}$", "hard-label\nteacher,\n$T^*$",
              "smoothed\nteacher,\n$T = 1$"]
    with style():
        fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(6.88, 4.0), width_ratios=(2.4, 1.0, 1.2))
        pos = np.arange(len(STUDENTS))
        for s in range(plan.seeds):
            a1.plot(pos, x.accuracy[s], color="0.75", lw=0.8, marker="o", ms=3, label="one seed")
        a1.plot(pos, x.accuracy.mean(axis=0), "o", color="k", ms=5, label="mean over seeds")
        a1.set_xticks(pos, labels)
        a1.set_xlim(-0.4, len(STUDENTS) - 0.6)
        a1.set_ylabel("student's test accuracy")
        a1.set_title("no teacher | distilled")
        a1.axvline(1.5, color="0.4", lw=0.8, ls=":")
        jitter = np.linspace(-0.12, 0.12, plan.seeds)
        a2.plot(jitter, d.per_seed, "o", color="0.6", ms=3)
        half = _t95(d.df) * dec.se
        a2.plot([0.3, 0.3], [dec.lo, dec.hi], color="C1", lw=1.2,
                label=f"decides the claim (false-alarm {SEED_FALSE_ALARM:g} each side)")
        a2.errorbar([0.3], [dec.value], yerr=[[half], [half]], fmt="o", color="k", ms=5, capsize=3,
                    lw=1.2, label="mean difference (95% interval)")
        a2.axhline(0.0, color="0.4", lw=0.8, ls="--")
        a2.set_xlim(-0.4, 0.6)
        a2.set_xticks([0.1], ["smoothed\nminus hard-\nlabel teacher"])
        a2.set_title("the claim")
        for s in range(plan.seeds):
            a3.plot([0, 1], x.information[s], color="0.75", lw=0.8, marker="o", ms=3)
        a3.plot([0, 1], x.information.mean(axis=0), "o-", color="k", ms=5, lw=1.2)
        a3.axhline(np.log(2), color="C3", lw=1, ls="--", label="$\\log 2$: two clusters")
        a3.set_xticks([0, 1], ["hard-\nlabel", "smoothed"])
        a3.set_xlim(-0.4, 1.4)
        a3.set_ylim(0, max(float(np.log(2)), float(x.information.max())) * 1.15)
        a3.set_ylabel("information in the logits (nats)")
        a3.set_title("teachers")
        handles = {}
        for ax in (a1, a2, a3):
            for h, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, h)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=2)
        return figures().show(
            fig, "ch5_distillation",
            caption=rf"Müller et al.'s distillation test (their Section 4) on the digits, {plan.seeds} seeds. Left: "
                    rf"the test accuracy of a student of {plan.student} hidden units trained on hard labels, with "
                    rf"label smoothing, and distilled ($\beta = 1$) from the hard-label teacher at the temperature "
                    r"$T^*$ that matches the smoothed teacher's smoothness $\gamma$, or from the smoothed teacher at "
                    rf"$T = 1$. Middle: the student of the smoothed teacher minus that of the hard-label teacher, per "
                    rf"seed. Look at the middle panel: the difference is {d.mean:+.3f} on average, below 0 at "
                    rf"{d.agree('<')} of {d.S} seeds, and the claim is decided only if the orange interval clears 0 "
                    rf"(here {dec.outcome}); against the student trained with smoothing directly, the smoothed "
                    rf"teacher's student differs by {direct.mean:+.3f}. Right: the mutual information between a "
                    r"training digit and the difference of two logits, over one-pixel shifts, averaged over the "
                    r"pairs of digits.",
            alt="Three charts. Left: the test accuracy of four students, grey lines joining each seed's four values "
                "and black points for the means: trained on hard labels, with label smoothing, distilled from the "
                "hard-label teacher, distilled from the smoothed teacher. Middle: per seed, the accuracy of the "
                "smoothed teacher's student minus the hard-label teacher's, with the mean, its 95% interval and the "
                "deciding interval against a dashed zero line. Right: per seed, the mutual information of the "
                "hard-label and the smoothed teacher, with a dashed line at log 2.", out=out)

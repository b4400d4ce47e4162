r"""Penultimate-layer geometry on the digits: Müller, Kornblith & Hinton (2019), Section 2 and Figure 1.

**Their finding.** Write the logit of class ``k`` as ``x . w_k``, ``x`` the penultimate activations with a 1 appended
and ``w_k`` the last layer's weights and bias of class ``k``, its *template*. Since
``||x - w_k||^2 = x.x - 2 x.w_k + w_k.w_k``, a larger logit is a nearer template. Label smoothing asks every incorrect
logit of a training example to sit the same distance below the correct one, so it "encourages the activations of
the penultimate layer to be close to the template of the correct class and equally distant to the templates of the
incorrect classes". They see it by (1) picking three classes, (2) finding an orthonormal basis of the plane through
those classes' templates, (3) projecting the penultimate activations of the three classes' examples onto it: with
smoothing (``alpha = 0.1``) the *training* examples' clusters are "much tighter" and "organize in regular triangles";
on held-out examples they spread towards the centre (their Section 3). The abstract states the claim for training
examples: "label smoothing encourages the representations of training examples from the same class to group in
tight clusters".

**Here.** The chapter's network (one hidden relu layer: the hidden layer is the penultimate one), trained per seed on
hard labels and with ``alpha = 0.1`` (their Figure 1's value; ``eps = alpha (K-1)/K``) from the same initial weights
on the same training digits (:func:`teachers`, which :mod:`.distillation` shares). For each of the 120 triples of
digits, the plane through their templates (:func:`planes`), and in it, on the training digits of those classes
(:func:`measure`):

* ``R``, *tightness*: the mean distance of an example to its class's centroid, over the mean distance between the
  three centroids (dimensionless: label smoothing also shrinks the scale, which ``R`` ignores);
* ``U``, *unequal distances*: per example, the two distances to the other two classes' templates, their difference
  over their mean; ``U = 0`` is equidistant.

Both are averaged over the examples and the 120 triples, per seed and network; the claims compare them across
seeds, paired (:mod:`.paired`). The same on the held-out test digits is shown beside them.

>>> H = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]); W = np.eye(3)
>>> E, origin = planes(W, np.array([[0, 1, 2]]))
>>> np.round(project(H, E, origin)[0], 6).tolist()        # the plane through e_1, e_2, e_3
[[0.0, 0.816497], [1.414214, 0.816497]]
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from derivations.chapters.ch5 import digits
from derivations.chapters.ch5.mlp import Stack, Target, forward, train
from derivations.chapters.ch5.paired import SEED_FALSE_ALARM, Paired
from derivations.engine import results
from derivations.engine.finding import Findings, shown
from derivations.engine.tex import inline
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum

__all__ = ["K", "ALPHA", "NAMES", "Plan", "Teachers", "teachers", "triples", "planes", "project", "Geometry", "measure",
           "findings", "plot_penultimate", "figures"]

#: The digits' classes.
K = digits.NUM_CLASSES
#: Müller et al.'s smoothing in Figure 1 and Table 2 (the frameworks' alpha: target ``(1 - alpha) onehot + alpha / K``).
ALPHA = 0.1
#: The two networks of each seed, in the order of :class:`Teachers`' second axis.
NAMES = ("hard labels", "label smoothing")


@dataclass(frozen=True)
class Plan:
    """Sizes of Müller et al.'s two findings on the digits: chapter 5's seeds, split, network and training (its
    :class:`~derivations.chapters.ch5.worked.Plan`'s, so that the networks are the chapter's), the smoothing
    ``alpha`` of the smoothed network, and the student's width for :mod:`.distillation` (``None``: a quarter of
    the teacher's, at least 4)."""

    seed: int = 0
    seeds: int = 5
    per_class: int = 3
    hidden: int = 128
    steps: int = 300
    lr: float = 0.05
    val_per_class: int = 50
    alpha: float = ALPHA
    student_hidden: int | None = None

    def __post_init__(self):
        for name in ("seeds", "per_class", "hidden", "steps", "val_per_class"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
        if self.seeds < 2:
            raise ValueError(f"seeds must be >= 2 (a comparison across seeds needs two); got {self.seeds}")
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1]; got {self.alpha!r}")

    @property
    def note_eps(self) -> float:
        """The note's ``eps`` of :attr:`alpha`: ``alpha (K-1)/K``."""
        return round(self.alpha * (K - 1) / K, 15)

    @property
    def student(self) -> int:
        return self.student_hidden if self.student_hidden is not None else max(4, self.hidden // 4)

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    def describe(self) -> str:
        return (f"digits, K = {K}: per seed {K * self.per_class} training images ({self.per_class} of each digit); "
                f"MLP 64 → {self.hidden} (relu) → {K}, {self.steps} full-batch Adam steps of size {self.lr:g} decaying "
                f"linearly to 0, on hard labels and with α = {self.alpha:g} (ε = {self.note_eps:g}), from the same initial "
                f"weights; seeds {self.seed} to {self.seed + self.seeds - 1}")


@dataclass
class Teachers:
    """Per seed, the network trained on hard labels and the one trained with smoothing (``net``: ``M = 2``, in the
    order of :data:`NAMES`), with the seed's training and test images (indices into :func:`digits.load`)."""

    plan: Plan
    net: Stack
    train_idx: np.ndarray
    test_idx: np.ndarray
    y_train: np.ndarray = field(init=False)
    y_test: np.ndarray = field(init=False)

    def __post_init__(self):
        _, y = digits.load()
        self.y_train, self.y_test = y[self.train_idx], y[self.test_idx]

    def images(self, which: str) -> np.ndarray:
        """The images ``(S, n, 64)`` of ``"train"`` or ``"test"``."""
        X, _ = digits.load()
        return X[self.train_idx if which == "train" else self.test_idx]

    def labels(self, which: str) -> np.ndarray:
        return self.y_train if which == "train" else self.y_test

    def logits(self, X) -> np.ndarray:
        """Logits ``(S, M, n, K)``, float64, at the images ``X`` ``(S, n, 64)`` of each seed."""
        return forward(self.net, np.asarray(X, dtype=self.net.W1.dtype))[0].astype(float)

    def penultimate(self, X) -> np.ndarray:
        """The penultimate activations with a 1 appended, ``x = (relu(X W1 + b1), 1)``: ``(S, M, n, h + 1)``."""
        S, M, h = self.net.shape
        a = forward(self.net, np.asarray(X, dtype=self.net.W1.dtype))[1].astype(float)
        H = np.maximum(a, 0).reshape(S, -1, M, h).transpose(0, 2, 1, 3)
        return np.concatenate([H, np.ones(H.shape[:-1] + (1,))], axis=-1)

    def templates(self) -> np.ndarray:
        """The templates ``w_k`` (the last layer's weights with its bias appended) as columns: ``(S, M, h + 1, K)``;
        ``penultimate(X) @ templates()`` are the logits."""
        return np.concatenate([self.net.W2, self.net.b2], axis=2).astype(float)


def _train(plan: Plan) -> Teachers:
    X, y = digits.load()
    splits = [digits.split(s, plan.per_class, plan.val_per_class) for s in plan.seed_list]
    tr, te = np.array([s[0] for s in splits]), np.array([s[2] for s in splits])
    run = train(X[tr], y[tr], K, [Target("soft", 0.0), Target("soft", plan.note_eps)], plan.hidden, plan.steps, plan.lr,
                plan.seed_list)
    return Teachers(plan, run.net, tr, te)


@lru_cache(maxsize=8)
def teachers(plan: Plan) -> Teachers:
    """The two networks of every seed of ``plan`` (cached, and shared by the processes of a test session:
    :func:`derivations.engine.results.shared`). One BLAS thread, as chapter 5's experiment."""
    from threadpoolctl import threadpool_limits

    def compute() -> Teachers:
        with threadpool_limits(limits=1, user_api="blas"):
            return _train(plan)
    return results.shared(f"ch5.muller.teachers.{plan!r}", compute)


@lru_cache(maxsize=4)
def triples(num_classes: int = K) -> np.ndarray:
    """Every set of three classes, ``(C(K, 3), 3)`` (120 for the digits).

    >>> triples(4).tolist()
    [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    """
    return np.array(list(itertools.combinations(range(num_classes), 3)))


def planes(W: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each triple ``(a, b, c)`` of ``T``, the orthonormal basis ``(e_1, e_2)`` of the plane through the templates
    ``w_a, w_b, w_c`` (columns of ``W``, ``(h + 1, K)``): ``e_1`` along ``w_b - w_a``, ``e_2`` along what of
    ``w_c - w_a`` is orthogonal to it (Gram-Schmidt). Returns the bases ``(m, h + 1, 2)`` and the origins ``w_a``
    ``(m, h + 1)``."""
    W = np.asarray(W, dtype=float)
    wa, wb, wc = (W[:, T[:, i]].T for i in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):                # coincident templates: NaN, no plane
        e1 = wb - wa
        e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
        v = wc - wa
        e2 = v - np.sum(v * e1, axis=1, keepdims=True) * e1
        e2 /= np.linalg.norm(e2, axis=1, keepdims=True)
    return np.stack([e1, e2], axis=2), wa


def project(H: np.ndarray, E: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """The coordinates ``(m, n, 2)`` of the points ``H`` ``(n, h + 1)`` in each plane (origin ``w_a``, basis ``E``)."""
    m, h1, _ = E.shape
    P = (np.asarray(H, dtype=float) @ E.transpose(1, 0, 2).reshape(h1, 2 * m)).reshape(-1, m, 2).transpose(1, 0, 2)
    return P - np.einsum("mh,mhd->md", origin, E)[:, None, :]


def _geometry(H: np.ndarray, W: np.ndarray, y: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``R`` and ``U`` (see the module's docstring) of the points ``H`` with labels ``y`` in the plane of each
    triple of ``T``: two arrays ``(m,)``. ``R`` is NaN where a class of the triple has fewer than two points; both
    are NaN where the triple has no plane or its classes' centroids coincide (a degenerate network)."""
    E, origin = planes(W, T)
    P = project(H, E, origin)                                           # (m, n, 2)
    Y = np.eye(K)[y]                                                    # (n, K)
    counts = np.maximum(Y.sum(axis=0), 1)
    C = (P.transpose(0, 2, 1) @ Y / counts).transpose(0, 2, 1)          # (m, K, 2): every class's centroid, per plane
    m = np.arange(len(T))[:, None]
    own = C[:, y]                                                       # (m, n, 2): each point's own centroid
    spread = np.hypot(P[..., 0] - own[..., 0], P[..., 1] - own[..., 1])
    within = (spread @ Y / counts)[m, T].mean(axis=1)
    c3 = C[m, T]                                                        # (m, 3, 2)
    between = np.mean([np.hypot(*(c3[:, i] - c3[:, j]).T) for i, j in ((0, 1), (0, 2), (1, 2))], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(Y.sum(axis=0)[T].min(axis=1) >= 2, within / between, np.nan)
    tpl = project(W.T, E, origin)[m, T]                                 # (m, 3, 2): the templates in their plane
    D = [np.hypot(P[..., 0] - tpl[:, j, 0:1], P[..., 1] - tpl[:, j, 1:2]) for j in range(3)]     # 3 x (m, n)
    u_sum, n_in = np.zeros(len(T)), np.zeros(len(T))
    for i, (o1, o2) in enumerate(((1, 2), (0, 2), (0, 1))):
        mine = y[None, :] == T[:, i:i + 1]                              # (m, n): examples of the i-th class
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.abs(D[o1] - D[o2]) / ((D[o1] + D[o2]) / 2)
        u_sum += np.where(mine, u, 0.0).sum(axis=1)
        n_in += mine.sum(axis=1)
    return R, u_sum / np.maximum(n_in, 1)


def _mean(v: np.ndarray) -> float:
    """The mean over the triples, NaN if any is NaN (undefined, or a degenerate network): never a partial mean."""
    return float(v.mean()) if np.all(np.isfinite(v)) else float("nan")


@dataclass
class Geometry:
    """``R`` and ``U`` per seed and network (``(S, 2)``, averaged over the 120 triples) on the training and the test
    digits, the template norms' spread, and the teachers' training losses (for convergence)."""

    R: dict
    U: dict
    norm_cv: np.ndarray
    hard_loss: np.ndarray
    soft_excess: np.ndarray

    def paired(self, what: str, which: str = "train") -> Paired:
        """Smoothing minus hard labels, across seeds, of ``"R"`` or ``"U"``."""
        v = getattr(self, what)[which]
        return Paired(v[:, 1] - v[:, 0])


@lru_cache(maxsize=8)
def _measure(plan: Plan) -> Geometry:
    t = teachers(plan)
    T = triples()
    W = t.templates()
    R, U = {}, {}
    for which in ("train", "test"):
        H, y = t.penultimate(t.images(which)), t.labels(which)
        r = np.empty((plan.seeds, 2))
        u = np.empty((plan.seeds, 2))
        for s in range(plan.seeds):
            for m in range(2):
                rr, uu = _geometry(H[s, m], W[s, m], y[s], T)
                r[s, m], u[s, m] = _mean(rr), _mean(uu)
        R[which], U[which] = r, u
    norms = np.linalg.norm(W, axis=2)                                    # (S, 2, K)
    Z = t.logits(t.images("train"))
    hard = np.array([float(smoothed_cross_entropy(Z[s, 0], t.y_train[s], eps=0.0)) for s in range(plan.seeds)])
    excess = np.array([float(smoothed_cross_entropy(Z[s, 1], t.y_train[s], eps=plan.note_eps)) - smoothed_minimum(K, plan.note_eps)
                       for s in range(plan.seeds)])
    return Geometry(R, U, norms.std(axis=2) / norms.mean(axis=2), hard, excess)


def measure(plan: Plan) -> Geometry:
    """:class:`Geometry` of ``plan``'s networks (cached; one BLAS thread, as the training)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _measure(plan)


def _decided(d: Paired, op: str, false_alarm: float = SEED_FALSE_ALARM) -> str:
    where = d.side(op, false_alarm)
    return {"confirmed": "decided: smaller with smoothing", "refuted": "decided: larger with smoothing",
            "undecided": "undecided"}[where] if op in ("<", "<=") else where


def findings(plan: Plan) -> Findings:
    """What the numbers say at the reader's values: shown, each with its computed decision across seeds (the claims
    ``ch5.penultimate_tighter`` decides them at the chapter's defaults)."""
    g = measure(plan)
    out = Findings(f"Penultimate-layer geometry (Müller et al., 2019, Figure 1), seeds {plan.seed} to "
                   f"{plan.seed + plan.seeds - 1}, $\\alpha = {plan.alpha:g}$")
    rule = (f"smoothing minus hard labels, mean over {plan.seeds} seeds [95% interval]; decided by Student's t across "
            f"seeds at false-alarm {inline(SEED_FALSE_ALARM, 'g')}")
    out.add(shown("numeric", "trained to convergence: training loss of hard labels, and of smoothing above its minimum",
                  f"at most {inline(float(g.hard_loss.max()), '.1e')} and {inline(float(g.soft_excess.max()), '.1e')} "
                  f"nats", "the claim's regime: networks that fit their training digits"))
    for which, where in (("train", "training digits"), ("test", "held-out test digits")):
        for what, name in (("R", "tightness $R$ (within-class over between-class distance)"),
                           ("U", "unequal distances $U$ to the other two templates")):
            v = getattr(g, what)[which]
            if np.isnan(v).any():
                why = ("one image of each digit has no within-class spread" if plan.per_class < 2 and which == "train"
                       and what == "R" else "a network whose templates or class centroids coincide has no plane")
                out.add(shown("statistical", f"{name}, {where}", f"not measured: {why}",
                              "needs two training images of each digit, and networks that separate the digits"))
                continue
            d = Paired(v[:, 1] - v[:, 0])
            out.add(shown("statistical", f"{name}, {where}",
                          f"hard {v[:, 0].mean():.3f}, smoothing {v[:, 1].mean():.3f}: {d.text()}, smaller at "
                          f"{d.agree('<')} of {d.S} seeds; {_decided(d, '<')}", rule))
    cv = g.norm_cv.mean(axis=0)
    out.add(shown("numeric", "the templates' norms: their spread over the ten classes (SD over mean)",
                  f"hard {cv[0]:.3f}, smoothing {cv[1]:.3f}",
                  "equal incorrect logits make equal distances only where the templates' norms are equal"))
    return out


# -- the figure ------------------------------------------------------------------------------------------------

def figures():
    """Chapter 5's :class:`~derivations.engine.figures.Numbered`, with this module's and :mod:`.distillation`'s
    figures after the chapter's own until ``ch5/figures.py`` names them itself."""
    from derivations.chapters.ch5 import figures as ch5_figures
    from derivations.engine.figures import Numbered

    own = ch5_figures.FIGURES
    mine = ("ch5_penultimate", "ch5_distillation")
    return own if all(n in own.names for n in mine) else Numbered(5, own.names + tuple(n for n in mine
                                                                                        if n not in own.names))


def plot_penultimate(plan: Plan, classes=(0, 1, 2), seed_index: int = 0, *, out: Path):
    """Their Figure 1 on the digits: the penultimate activations of three digits projected onto the plane through
    their templates, at the plan's first seed. Rows: hard labels, smoothing; columns: training digits, held-out test
    digits; the templates marked. Each panel's title gives its own plane's ``R`` and ``U``."""
    import matplotlib.pyplot as plt

    from derivations.engine.figures import style

    t = teachers(plan)
    T = np.array([classes])
    W = t.templates()[seed_index]
    seen = {}
    acts = {which: t.penultimate(t.images(which)) for which in ("train", "test")}
    with style():
        fig, axes = plt.subplots(2, 2, figsize=(6.88, 6.4))
        for r, m in enumerate(range(2)):
            E, origin = planes(W[m], T)
            tpl = project(W[m].T, E, origin)[0][list(classes)]
            for c, which in enumerate(("train", "test")):
                ax = axes[r, c]
                H, y = acts[which][seed_index, m], t.labels(which)[seed_index]
                keep = np.isin(y, classes)
                P = project(H[keep], E, origin)[0]
                R, U = _geometry(H, W[m], y, T)
                seen[m, which] = (R[0], U[0])
                for i, k in enumerate(classes):
                    at = y[keep] == k
                    ax.scatter(P[at, 0], P[at, 1], s=28 if which == "train" else 6, color=f"C{i}",
                               alpha=0.9 if which == "train" else 0.45, lw=0, label=f"digit {k}")
                ax.scatter(tpl[:, 0], tpl[:, 1], marker="X", s=70, color="k", lw=0,
                           label="the templates $w_k$ of the three digits")
                ax.set_aspect("equal", adjustable="datalim")
                ax.set_title(f"{NAMES[m]}: {'training' if which == 'train' else 'test'} digits\n"
                             + (f"$R$ = {R[0]:.3f}, " if np.isfinite(R[0]) else "") + f"$U$ = {U[0]:.3f}")
        for ax in axes[-1]:
            ax.set_xlabel("along $w_b - w_a$")
        for ax in axes[:, 0]:
            ax.set_ylabel("across, in the plane")
        handles = {}
        for h, label in zip(*axes[0, 0].get_legend_handles_labels()):
            handles.setdefault(label, h)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=2)
        seed = plan.seed + seed_index
        return figures().show(
            fig, "ch5_penultimate",
            caption=rf"Müller et al.'s Figure 1 on the digits: the penultimate activations of digits "
                    rf"{classes[0]}, {classes[1]} and {classes[2]}, projected onto the plane through their templates "
                    rf"(the last layer's weights), for the network trained on hard labels (top) and with label "
                    rf"smoothing $\alpha = {plan.alpha:g}$ (bottom), on the training digits (left) and the held-out "
                    rf"test digits (right), seed {seed}. Look at how far each digit's points spread compared with the "
                    rf"distance between the digits, $R$ in each title: on the training digits "
                    rf"{_compare(seen[1, 'train'][0], seen[0, 'train'][0])}, on the test digits "
                    rf"{_compare(seen[1, 'test'][0], seen[0, 'test'][0])}. $U$ is how unequal the distances of a "
                    r"point to the other two templates are. The claim averages both over all 120 triples of digits "
                    r"and compares them across seeds.",
            alt="Four scatter plots, two by two, of three digits' penultimate-layer activations projected onto the "
                "plane through their three templates, marked as black crosses: hard labels on top, label smoothing "
                "below, training digits on the left, test digits on the right, one colour per digit, each titled "
                "with its spread R and its unequal distances U.", out=out)


def _compare(smooth: float, hard: float) -> str:
    """``R`` with smoothing against hard labels, in words computed from the two numbers."""
    if not (np.isfinite(smooth) and np.isfinite(hard)):
        return "$R$ is not defined (one image of a digit)"
    word = "smaller" if smooth < hard else "larger" if smooth > hard else "the same"
    return f"$R$ = {smooth:.3f} with smoothing, {word} than {hard:.3f} with hard labels"

"""Chapter 5 at the reader's values: does label smoothing calibrate a network that over-fits real data, and when?

**Data.** scikit-learn's bundled digits (:mod:`derivations.chapters.ch5.digits`): 1,797 images of 8 x 8 pixels,
``K = 10`` classes (fixed by the data: chapter 5 does not read K). Each seed draws its own stratified split:
``per_class`` training images of each digit (3 by default: 30 images), ``val_per_class`` validation images of each
(50: 500 images, for choosing alpha and fitting temperatures) and the rest for testing (1,267 images).

**Network.** One hidden layer of ``hidden`` relu units (128 by default: about 9,600 weights for 30 images), trained
full batch by Adam for ``steps`` steps of size ``lr`` decaying linearly to 0 (:mod:`derivations.chapters.ch5.mlp`),
long enough that hard labels are fitted with a training loss near 0 and soft labels sit at chapter 2's optimum:
trained to convergence, the regime of Guo et al. (2017) and Müller et al. (2019).

**Sweep.** Every seed trains, from the same initial weights, one network per smoothing strength of :data:`ALPHAS`
(the frameworks' alpha, ``eps = alpha (K-1)/K`` in the note's convention; alpha = 0 is hard labels), one at the
reader's ``eps`` if it is not among them, and one on labels flipped afresh at every step and one on labels flipped
once, both at the reader's ``eps``.

**Measurements** (:mod:`derivations.chapters.ch5.calibration`): on the test images, accuracy, mean confidence, the
ECE with 15 equal-width and 15 equal-mass bins, NLL and Brier score, each as the mean over seeds with a 95% paired
bootstrap interval over the test images and the spread (SD) over seeds; temperature scaling fitted on the validation
split for every network; the alpha chosen on the validation split (lowest validation ECE, per seed); and whether
each network is calibrated, over- or under-confident, decided at false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from derivations.chapters.ch5 import CHAPTER, digits
from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5.inference import SEED_FALSE_ALARM, JointBootstrap, binomial_region, t_quantile
from derivations.chapters.ch5.mlp import Target, train
from derivations.engine import results
from derivations.engine.finding import Finding, Findings, shown
from derivations.engine.regimes import regime, uniform_eps
from derivations.engine.stats import FALSE_ALARM, normal_quantile
from derivations.engine.tex import inline
from derivations.engine.text import Prose
from derivations.library.numeric import cross_entropy_per_example, softmax
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum

__all__ = ["ALPHAS", "CHOSEN", "CHOSEN_ECE", "TEMPERED", "TEMPERED_ECE", "CRITERIA", "CLAIMED", "CONVERGED", "K",
           "eps_of", "alpha_of", "Plan", "Model", "Experiment", "Line", "Results", "experiment", "analyse",
           "excess_loss", "boundary", "summary_table", "temperature_table", "findings"]

#: The smoothing strengths of the sweep, in the frameworks' convention (target ``(1 - alpha) onehot + alpha / K``):
#: from 0.001 up, so that the strength chosen on validation lies inside the grid, not at its smallest value.
ALPHAS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
#: The digits' classes.
K = digits.NUM_CLASSES
#: The row of the networks whose alpha was chosen by the lowest validation NLL (one per seed): the criterion that
#: fits the temperature (Guo et al., 2017), and the one the claims use (:data:`CLAIMED`).
CHOSEN = "$\\alpha$ chosen by validation NLL"
#: The row of the networks whose alpha was chosen by the lowest validation ECE (shown beside :data:`CHOSEN`).
CHOSEN_ECE = "$\\alpha$ chosen by validation ECE"
#: Hard labels after temperature scaling, the temperature fitted by the lowest validation NLL.
TEMPERED = "hard labels + temperature"
#: Hard labels after temperature scaling, the temperature chosen by the lowest validation ECE.
TEMPERED_ECE = "hard labels + temperature by ECE"
#: Each validation criterion: the row of the alpha it chooses and the row of the temperature it fits. Smoothing and
#: temperature scaling are compared under the same criterion.
CRITERIA = {"NLL": (CHOSEN, TEMPERED), "ECE": (CHOSEN_ECE, TEMPERED_ECE)}
#: The criterion the claims use.
CLAIMED = "NLL"
#: Trained to convergence: the mean training loss lies at most this far (nats) above its minimum (0 for hard labels
#: and labels kept, the target's entropy for soft labels). By Pinsker's inequality the mean predicted distribution
#: is then within ``sqrt(CONVERGED / 2) = 0.071`` in total variation of the target.
CONVERGED = 0.01
#: The training images of each digit at which the claims are checked (the chapter's default ``N_PER_DIGIT``).
CLAIMS_PER_DIGIT = CHAPTER.defaults["N_PER_DIGIT"]
#: Statistics measured on the test images (``"over"``: mean confidence minus accuracy).
STATISTICS = ("accuracy", "confidence", "over", "ECE width", "ECE mass", "NLL", "Brier")


def eps_of(alpha: float) -> float:
    """The note's ``eps`` of the frameworks' ``alpha``: ``alpha (K-1)/K``.

    >>> eps_of(0.05), eps_of(1.0)
    (0.045, 0.9)
    """
    return round(alpha * (K - 1) / K, 15)


def alpha_of(eps: float) -> float:
    """The frameworks' ``alpha`` of the note's ``eps``: ``eps K/(K-1)`` (above 1 beyond the uniform target).

    >>> alpha_of(0.045), round(alpha_of(1.0), 4)
    (0.05, 1.1111)
    """
    return round(eps * K / (K - 1), 15)


@dataclass(frozen=True)
class Model:
    """One network of every seed: its name, its target, its alpha (``None`` for flipped labels), whether it is one
    of the sweep's, and whether it trains at the reader's eps."""

    name: str
    target: Target
    alpha: float | None
    grid: bool
    yours: bool


@dataclass(frozen=True)
class Plan:
    """Chapter 5's sizes (see the module's docstring)."""

    eps: float
    seed: int = 0
    seeds: int = 10
    per_class: int = 3
    hidden: int = 128
    steps: int = 300
    lr: float = 0.05
    val_per_class: int = 50
    resamples: int = 1000

    def __post_init__(self):
        for name in ("seeds", "per_class", "hidden", "steps", "val_per_class", "resamples"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
        if self.seeds < 2:
            raise ValueError(f"seeds must be >= 2 (a spread over seeds needs two); got {self.seeds}")
        if not 0.0 <= self.eps <= 1.0:
            raise ValueError(f"eps must be in [0, 1]; got {self.eps!r}")

    @property
    def K(self) -> int:
        return K

    def models(self) -> list[Model]:
        """The sweep, the reader's eps if it is not in it, and the two flipped modes at the reader's eps (at
        ``eps = 0`` nothing flips: they are hard labels, not trained again)."""
        out = [Model("hard labels" if a == 0 else f"$\\alpha = {a:g}$", Target("soft", eps_of(a)), a, True,
                     abs(eps_of(a) - self.eps) <= 1e-12) for a in ALPHAS]
        if not any(m.yours for m in out):
            out.append(Model(f"$\\epsilon = {self.eps:g}$ (yours)", Target("soft", self.eps), alpha_of(self.eps), False, True))
        if self.eps > 0:
            out += [Model("flipped afresh", Target("flip_fresh", self.eps), None, False, True),
                    Model("flipped once", Target("flip_once", self.eps), None, False, True)]
        return out

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Training, validation and test images per seed."""
        n_tr, n_va = K * self.per_class, K * self.val_per_class
        return n_tr, n_va, len(digits.load()[1]) - n_tr - n_va

    @property
    def weights(self) -> int:
        """The network's weights and biases: ``64 h + h + h K + K``."""
        return 64 * self.hidden + self.hidden + self.hidden * K + K

    def describe(self) -> str:
        n_tr, n_va, n_te = self.sizes
        return (f"digits, K = {K}: per seed {n_tr} training images ({self.per_class} of each digit), {n_va} "
                f"validation, {n_te} test; MLP 64 → {self.hidden} (relu) → {K} ({self.weights:,} weights), "
                f"{self.steps} full-batch Adam steps of size {self.lr:g} decaying linearly to 0; seeds {self.seed} to "
                f"{self.seed + self.seeds - 1}; α ∈ {{{', '.join(f'{a:g}' for a in ALPHAS)}}} (ε = α(K−1)/K); your "
                f"ε = {self.eps:g} (α = {alpha_of(self.eps):.4g}); {self.resamples} joint resamples of the images and "
                "the seeds")


@dataclass
class Line:
    """One row of the results: the pooled test statistics (:data:`STATISTICS`), the calibration test of the
    equal-width ECE, and the ECE a calibrated model with these confidences shows (its floor)."""

    name: str
    stats: dict
    calibrated: cal.Test
    floor: float


@dataclass
class Results:
    """What :func:`analyse` measured: the rows by name, the temperatures fitted by validation NLL ``(S, M)`` and by
    validation ECE (hard labels, ``(S,)``), the alpha chosen at each seed by each criterion of :data:`CRITERIA`, each
    seed's test :class:`~derivations.chapters.ch5.calibration.Scores` by row name, the joint resamples, each
    network's training loss above its minimum ``(S, M)``, and how far each fitted temperature is from a minimum."""

    lines: dict
    temperatures: np.ndarray
    temperatures_ece: np.ndarray
    selected: dict
    scores: dict
    joint: JointBootstrap
    excess: np.ndarray
    temperature_margin: float


@dataclass
class Experiment:
    """The trained networks' logits: ``*_logits[s, m]`` for seed ``s`` and model ``m`` of :attr:`models`; the images
    of each seed's splits (``*_index[s]``, indices into all 1,797)."""

    plan: Plan
    models: list
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    train_logits: np.ndarray
    val_logits: np.ndarray
    test_logits: np.ndarray
    kept: np.ndarray
    flips: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    results: Results | None = field(default=None, repr=False)

    def index(self, name: str) -> int:
        return next(i for i, m in enumerate(self.models) if m.name == name)

    @property
    def yours(self) -> Model:
        """The soft-label model at the reader's eps."""
        return next(m for m in self.models if m.yours and m.target.mode == "soft")

    def mode(self, mode: str) -> Model:
        """The model of a flipped mode at the reader's eps (hard labels at eps = 0: nothing flips)."""
        return next((m for m in self.models if m.target.mode == mode), self.models[0])

    @property
    def seeds(self) -> list[int]:
        return [self.plan.seed + s for s in range(self.plan.seeds)]


def _train(plan: Plan) -> Experiment:
    X, y = digits.load()
    splits = [digits.split(s, plan.per_class, plan.val_per_class) for s in range(plan.seed, plan.seed + plan.seeds)]
    tr, va, te = (np.array([sp[i] for sp in splits]) for i in range(3))
    models = plan.models()
    run = train(X[tr], y[tr], K, [m.target for m in models], plan.hidden, plan.steps, plan.lr,
                list(range(plan.seed, plan.seed + plan.seeds)))
    return Experiment(plan, models, y[tr], y[va], y[te], run.logits(X[tr]), run.logits(X[va]), run.logits(X[te]),
                      run.kept, run.flips, tr, te)


@lru_cache(maxsize=8)
def experiment(plan: Plan) -> Experiment:
    """Train and measure every network of ``plan`` (cached: the notebook, the findings and the claims share it, and
    so do the processes of a test session: :func:`derivations.engine.results.shared`). One BLAS thread: the matrices
    are small, and threads only contend on a busy machine."""
    from threadpoolctl import threadpool_limits

    def compute() -> Experiment:
        with threadpool_limits(limits=1, user_api="blas"):
            x = _train(plan)
            x.results = analyse(x)
            return x
    return results.shared(f"ch5.experiment.{plan!r}", compute)


def excess_loss(x: Experiment, s: int, m: int) -> float:
    """The mean training loss of network ``m`` at seed ``s`` above its minimum, against its own target: the soft
    target for soft labels and for labels flipped afresh (whose expected target it is; its minimum the target's
    entropy, :func:`~derivations.library.smoothing.smoothed_minimum`), the labels kept for labels flipped once
    (minimum 0)."""
    t = x.models[m].target
    Z = x.train_logits[s, m]
    if t.mode == "flip_once":
        return float(cross_entropy_per_example(Z, x.kept[s, m]).mean())
    return float(smoothed_cross_entropy(Z, x.y_train[s], eps=t.eps)) - smoothed_minimum(K, t.eps)


def _nll(Z: np.ndarray, y: np.ndarray) -> float:
    return float(cross_entropy_per_example(Z, y).mean())


def analyse(x: Experiment) -> Results:
    """Temperatures, the alpha chosen on validation by each criterion, and every row's pooled test statistics (see
    :class:`Results`)."""
    p, models = x.plan, x.models
    S, M = len(x.seeds), len(models)
    temps = np.array([[cal.fit_temperature(x.val_logits[s, m], x.y_val[s]) for m in range(M)] for s in range(S)])
    hard = x.index("hard labels")
    temps_ece = np.array([cal.fit_temperature_ece(x.val_logits[s, hard], x.y_val[s]) for s in range(S)])
    grid = [i for i, m in enumerate(models) if m.grid and m.alpha > 0]
    score = {"NLL": lambda s, m: _nll(x.val_logits[s, m], x.y_val[s]),
             "ECE": lambda s, m: cal.ece(softmax(x.val_logits[s, m]), x.y_val[s])}
    chosen = {c: [grid[int(np.argmin([score[c](s, m) for m in grid]))] for s in range(S)] for c in CRITERIA}
    rows: dict[str, list] = {m.name: [x.test_logits[s, i] for s in range(S)] for i, m in enumerate(models)}
    for c, (row, _) in CRITERIA.items():
        rows[row] = [x.test_logits[s, chosen[c][s]] for s in range(S)]
    for i, m in enumerate(models):
        if m.target.mode == "soft":
            rows[f"{m.name} + temperature"] = [_scaled(x.test_logits[s, i], temps[s, i]) for s in range(S)]
    rows[TEMPERED_ECE] = [_scaled(x.test_logits[s, hard], temps_ece[s]) for s in range(S)]
    sc = {name: [cal.scores(Z[s], x.y_test[s]) for s in range(S)] for name, Z in rows.items()}
    joint = JointBootstrap(len(digits.load()[1]), S, p.resamples, [p.seed, 3])
    per = {name: [] for name in rows}
    for s in range(S):
        for name, stats in zip(rows, cal.statistics(joint, x.test_index[s], [sc[name][s] for name in rows])):
            per[name].append(stats)
    lines = {}
    for name in rows:
        stats = {k: cal.pooled(joint, [d[k] for d in per[name]]) for k in STATISTICS}
        test = cal.calibration_test(sc[name], stats["ECE width"].value, seed=[p.seed, 4])
        lines[name] = Line(name, stats, test, stats["ECE width"].value - test.value)
    nll_ratio = min(cal.temperature_margin(x.val_logits[s, m], x.y_val[s], temps[s, m])
                    for s in range(S) for m in range(M))
    excess = np.array([[excess_loss(x, s, m) for m in range(M)] for s in range(S)])
    return Results(lines, temps, temps_ece, {c: [models[i].alpha for i in chosen[c]] for c in CRITERIA}, sc, joint,
                   excess, nll_ratio)


def _scaled(Z: np.ndarray, T: float) -> np.ndarray:
    return Z / T


def boundary(x: Experiment, false_alarm: float = SEED_FALSE_ALARM):
    """Where too much smoothing turns the network under-confident: ``(last, first, outcomes)``, ``first`` the
    smallest alpha of the sweep from which on every alpha is decidedly under-confident (``None`` if none is),
    ``last`` the alpha of the sweep just below it (``None`` if ``first`` is the smallest), ``outcomes`` the
    :func:`~derivations.chapters.ch5.calibration.confidence_test` outcome at each alpha of the sweep (the seed the
    unit, at ``false_alarm``)."""
    r = x.results
    outcomes = {m.alpha: cal.confidence_test(r.lines[m.name].stats["over"], false_alarm).outcome
                for m in x.models if m.grid}
    first = None
    for a in reversed(ALPHAS):
        if outcomes[a] != "under-confident":
            break
        first = a
    last = None if first is None or first == ALPHAS[0] else ALPHAS[ALPHAS.index(first) - 1]
    return last, first, outcomes


def _cell(p: cal.Pooled) -> str:
    return p.text()


def _rows(x: Experiment) -> list[str]:
    names = [m.name for m in x.models if m.target.mode == "soft"] + [CHOSEN, CHOSEN_ECE, TEMPERED, TEMPERED_ECE]
    return names + [m.name for m in x.models if m.target.mode != "soft"]


def _label(x: Experiment, name: str) -> str:
    m = next((m for m in x.models if m.name == name), None)
    return name + (" ← your $\\epsilon$" if m is not None and m.yours and m.grid else "")


def summary_table(x: Experiment):
    """Every network on the test images, in two tables that fit a page's column: its calibration (accuracy,
    confidence, the ECE in both binnings and its spread over seeds) and its scores (NLL, Brier, the calibration
    test). Each cell: the mean over seeds and, below it, its 95% interval (joint resamples of images and seeds,
    Student's t over the seeds)."""
    r = x.results
    calibration = _table(["network", "accuracy", r"confidence $\max_j q_j$", "ECE (equal width)", "SD over seeds",
                         "ECE (equal mass)"], [])
    scores = _table(["network", "NLL", "Brier", "calibrated? (a calibrated model's ECE)"], [])
    for name in _rows(x):
        ln = r.lines[name]
        s = ln.stats
        direction = cal.confidence_test(s["over"]).outcome
        test = ln.calibrated.outcome + ("" if direction == "undecided" else f", {direction}")
        calibration.body.append([_label(x, name), _cell(s["accuracy"]), _cell(s["confidence"]), _cell(s["ECE width"]),
                                 f"{s['ECE width'].sd:.3f}", _cell(s["ECE mass"])])
        scores.body.append([_label(x, name), _cell(s["NLL"]), _cell(s["Brier"]), f"{test} ({ln.floor:.3f})"])
    return _tables([calibration, scores])


def temperature_table(x: Experiment):
    """Temperature scaling fitted on the validation split: the temperature (mean and range over seeds) and the test
    ECE before and after, for hard labels and every smoothed network (the temperature fitted by validation NLL), and
    for hard labels with the temperature chosen by validation ECE."""
    r = x.results
    head = ["network", "temperature $T$ (mean, range over seeds)", "ECE before", "ECE after temperature scaling",
            "after minus before"]
    body = []

    def row(label: str, T: np.ndarray, before: cal.Pooled, after: cal.Pooled):
        body.append([label, f"{T.mean():.3f} ({T.min():.3f}–{T.max():.3f})", _cell(before), _cell(after),
                     _cell(after - before)])
    for i, m in enumerate(x.models):
        if m.target.mode == "soft":
            row(_label(x, m.name), r.temperatures[:, i], r.lines[m.name].stats["ECE width"],
                r.lines[f"{m.name} + temperature"].stats["ECE width"])
    row("hard labels, $T$ by validation ECE", r.temperatures_ece, r.lines["hard labels"].stats["ECE width"],
        r.lines[TEMPERED_ECE].stats["ECE width"])
    return _table(head, body)


def _table(head: list, body: list):
    """A table for the notebook (:class:`~derivations.engine.figures.Table`): a cell's interval (`` [``...) goes on
    a line of its own in Markdown, so that the table fits a page's column."""
    from derivations.engine.figures import Table as Shown

    return Shown(head, body, breaks=" [")


def _tables(tables: list):
    """Several tables shown one after the other (:class:`~derivations.engine.figures.Tables`)."""
    from derivations.engine.figures import Tables as Shown

    return Shown(tables)


def converged(x: Experiment, m: int) -> tuple[bool, float]:
    """Is network ``m`` trained to convergence at every seed (:data:`CONVERGED`)? And its largest excess loss."""
    worst = float(x.results.excess[:, m].max())
    return worst <= CONVERGED, worst


def flipped_fraction(x: Experiment) -> tuple[int, int, tuple[int, int]] | None:
    """Labels flipped once: ``(wrong, all, accepted)``, ``accepted`` the counts a Binomial(all, eps) draw takes at
    false-alarm :data:`~derivations.engine.stats.FALSE_ALARM` (:func:`~derivations.chapters.ch5.inference.binomial_region`);
    ``None`` at ``eps = 0`` (nothing flips)."""
    once = x.mode("flip_once")
    if once.target.mode != "flip_once":
        return None
    mo = x.index(once.name)
    k, n = int(np.count_nonzero(x.kept[:, mo] != x.y_train)), x.y_train.size
    return k, n, binomial_region(n, x.plan.eps)


def findings(x: Experiment) -> Findings:
    """What holds at the reader's values (asserted: it holds at every valid value) and what the numbers say there
    (shown, with the reason it is not asserted: it depends on the values). The claims' own tests at the reader's
    values are :func:`derivations.chapters.ch5.claims.at_your_values`."""
    p, r = x.plan, x.results
    out = Findings(f"Digits at $\\epsilon = {p.eps:g}$ ($\\alpha = {alpha_of(p.eps):.4g}$), seeds {p.seed} to {p.seed + p.seeds - 1}",
                   preamble=[_regime_note(p.eps)])
    S = len(x.seeds)
    # -- what holds at every value ------------------------------------------------------------------------
    worst = r.temperature_margin
    out.add(Finding("numeric", "each fitted temperature minimises its network's validation NLL", worst >= 1.0 - 1e-12,
                    observed=f"moving any $T$ by 1% raises the NLL (smallest ratio {worst:.6f}; at an end of the "
                             f"searched range $T \\in [10^{{-3}}, 10^{{3}}]$ only the move inwards)",
                    bound=r"a ratio of at least 1, to rounding ($10^{-12}$)"))
    flipped = flipped_fraction(x)
    if flipped is not None:
        k, n, (lo, hi) = flipped
        out.add(Finding("statistical", "labels flipped once: the number flipped is a Binomial($n$, $\\epsilon$) draw",
                        lo <= k <= hi, observed=f"{k} of {n} ({k / n:.3f})",
                        bound=f"accepted from {lo} to {hi} ({lo / n:.3f} to {hi / n:.3f}): each tail beyond holds "
                              f"at most {inline(FALSE_ALARM / 2, 'g')} of a Binomial({n}, {p.eps:g}) (exact)"))
    # -- what the numbers say at these values -------------------------------------------------------------
    for name in ("hard labels", x.yours.name):
        m = x.index(name)
        ok, worst_excess = converged(x, m)
        eps = x.models[m].target.eps
        out.add(shown("numeric", f"{name}: trained to convergence (training loss within {CONVERGED:g} nats of its "
                                 "minimum at every seed)?", f"{'yes' if ok else 'NO'}: largest excess "
                                 f"{inline(worst_excess, '.1e')} nats; by Pinsker's inequality the mean predicted "
                                 f"distribution is then within {np.sqrt(max(worst_excess, 0.0) / 2):.3f} of the "
                                 f"target in total variation (of chapter 2's optimum $q_y = {1 - eps:g}$)",
                      "the claims need it (they are checked where it holds); with too few steps it fails. Pinsker's "
                      "inequality is a theorem: its bound is shown, not tested"))
    if flipped is not None:
        mo = x.index(x.mode("flip_once").name)
        fitted = int(sum(np.count_nonzero((x.train_logits[s, mo].argmax(axis=1) == x.kept[s, mo])
                                          & (x.kept[s, mo] != x.y_train[s])) for s in range(S)))
        out.add(shown("numeric", "labels flipped once are memorised", f"{fitted} of the {flipped[0]} flipped training "
                      "images end predicting their wrong label",
                      "shown: memorising takes a network that can fit its training set and enough steps "
                      "(ch5.once_memorises checks it in its regime)"))
    else:
        out.add(shown("numeric", "labels flipped once, or afresh", "nothing flips at $\\epsilon = 0$: both are hard labels",
                      "$\\epsilon = 0$: the flipped modes are the hard-label network"))
    out.add(shown("statistical", "what smoothing costs in accuracy", accuracy_sentence(x),
                  f"each difference paired at every seed; decided at false-alarm {inline(SEED_FALSE_ALARM, 'g')} with "
                  "the seed as the unit"))
    return out


def _alphas(values) -> str:
    """``0.01, 0.02 and 0.05``."""
    v = [f"{a:g}" for a in values]
    return v[0] if len(v) == 1 else ", ".join(v[:-1]) + " and " + v[-1]


def _at(values) -> str:
    """``$\\alpha = 0.2$`` or ``$\\alpha \\in \\{0, 0.001, 0.002\\}$``: the alphas as mathematics."""
    v = [f"{a:g}" for a in values]
    return f"$\\alpha = {v[0]}$" if len(v) == 1 else f"$\\alpha \\in \\{{{', '.join(v)}\\}}$"


def _points(d: float) -> str:
    return f"{abs(d) * 100:.1f}"


def accuracy_sentence(x: Experiment) -> str:
    """What each alpha of the sweep does to the test accuracy against hard labels, from the paired differences and
    their decisions at :data:`~derivations.chapters.ch5.inference.SEED_FALSE_ALARM` (Markdown)."""
    r = x.results
    hard = r.lines["hard labels"].stats["accuracy"]
    groups = {"confirmed": [], "refuted": [], "undecided": []}
    diffs = {}
    for m in x.models:
        if m.grid and m.alpha > 0:
            d = r.lines[m.name].stats["accuracy"] - hard
            diffs[m.alpha] = d.value
            groups[d.decide("<").outcome].append(m.alpha)
    parts = []
    if groups["confirmed"]:
        v = [diffs[a] for a in groups["confirmed"]]
        parts.append(f"{_at(groups['confirmed'])} lower{'s' * (len(v) == 1)} the test accuracy decidedly, by "
                     + (f"{_points(max(v))} to {_points(min(v))} points" if len(v) > 1 else f"{_points(v[0])} points"))
    if groups["refuted"]:
        v = [diffs[a] for a in groups["refuted"]]
        parts.append(f"{_at(groups['refuted'])} raise{'s' * (len(v) == 1)} it decidedly, by up to "
                     f"{_points(max(v))} points")
    if groups["undecided"]:
        parts.append(f"at {_at(groups['undecided'])} the difference "
                     f"({', '.join(f'{diffs[a] * 100:+.1f}' for a in groups['undecided'])} points) is undecided")
    return ("Against hard labels' " + f"{hard.value:.3f}: " + "; ".join(parts) + ".")


def shared_images(x: Experiment) -> float:
    """The mean fraction of a seed's test images that another seed's test set also holds (over pairs of seeds)."""
    sets = [set(t.tolist()) for t in x.test_index]
    pairs = [(a, b) for a in range(len(sets)) for b in range(len(sets)) if a != b]
    return float(np.mean([len(sets[a] & sets[b]) / len(sets[a]) for a, b in pairs]))


def _decided(outcome: str, yes: str, no: str) -> str:
    return {"confirmed": yes, "refuted": no}.get(outcome, "undecided")


def setup_text(x: Experiment) -> Prose:
    """The setup, at the values the page was computed at (Markdown): every number from the plan and the data."""
    p = x.plan
    n_tr, n_va, n_te = p.sizes
    S = len(x.seeds)
    t = t_quantile(1 - SEED_FALSE_ALARM, S - 1)
    hard, yours = x.index("hard labels"), x.index(x.yours.name)
    ok_h, worst_h = converged(x, hard)
    ok_s, worst_s = converged(x, yours)
    if ok_h and ok_s:
        fit = (f"Both converge here: at every seed hard labels end within {inline(worst_h, '.1e')} nats of a "
               f"training loss of 0, and soft labels at your $\\epsilon$ within {inline(worst_s, '.1e')} nats of "
               f"chapter 2's optimum, both within the {CONVERGED:g} nats the claims require. This is the regime of "
               "both papers: a network that can fit what it is given, and does.")
    else:
        said = [f"hard labels end up to {inline(worst_h, '.1e')} nats above a training loss of 0 "
                + ("(converged)" if ok_h else "(**not converged**)"),
                f"soft labels at your $\\epsilon$ up to {inline(worst_s, '.1e')} nats above chapter 2's optimum "
                + ("(converged)" if ok_s else "(**not converged**)")]
        fit = (f"**Not at these values**: {'; '.join(said)}, against the {CONVERGED:g} nats the claims require. "
               "The claims that need it fail here: the papers' regime is not reached.")
    where = "marked in the sweep" if x.yours.grid else "added to it"
    return Prose("\n\n".join([
        f"**Data.** The digits bundled with scikit-learn: {len(digits.load()[1]):,} images of 8×8 pixels in "
        f"$K = {K}$ classes, with no download. Each seed draws a stratified split: {n_tr} training images "
        f"({p.per_class} of each digit), {n_va} validation images ({p.val_per_class} of each) and {n_te:,} test "
        "images.",
        f"**Network.** One hidden layer of {p.hidden} relu units: {p.weights:,} weights for {n_tr} training images. "
        f"Training is full batch with Adam, {p.steps} steps of size {p.lr:g} decaying to 0, until the training loss "
        f"lies within {CONVERGED:g} nats of its minimum (then, by Pinsker's inequality, the mean prediction is within "
        f"{np.sqrt(CONVERGED / 2):.3f} of its target in total variation). {fit}",
        "**Smoothing sweep.** The frameworks write the soft target as $(1 - \\alpha)\\,\\mathrm{onehot}(y) + "
        "\\alpha / K$, the note's target at $\\epsilon = \\alpha (K-1)/K$. The sweep is "
        f"$\\alpha \\in \\{{{', '.join(f'{a:g}' for a in ALPHAS)}\\}}$, where $\\alpha = 0$ is hard labels. Your "
        f"$\\epsilon = {p.eps:g}$ ($\\alpha = {alpha_of(p.eps):.4g}$) is {where}. Every network of a seed starts from "
        "the same weights, so the networks of a seed differ only in their targets.",
        "**Temperature scaling.** For every network, $T$ minimises the validation NLL of "
        "$\\mathrm{softmax}(z / T)$. The NLL is convex in $1/T$, so Newton steps inside a shrinking bracket find the "
        f"exact minimiser. For hard labels, a second $T$: the one of {len(cal.TEMPERATURES)} values from "
        f"{cal.TEMPERATURES[0]:g} to {cal.TEMPERATURES[-1]:g} with the lowest validation ECE.",
        "**Choosing the smoothing.** At each seed, the $\\alpha > 0$ of the sweep with the lowest validation NLL: the "
        "criterion that fits the temperature, so that smoothing and temperature scaling are chosen alike. The claims "
        "use it. The $\\alpha$ with the lowest validation ECE is shown beside it, and compared with the temperature "
        "chosen by the same ECE. The test images play no part in either choice.",
        f"**Measures on the test images.** Accuracy, and confidence $\\max_j q_j$; the expected calibration error "
        f"$\\mathrm{{ECE}} = \\sum_b \\frac{{n_b}}{{n}}\\,\\lvert \\mathrm{{acc}}_b - \\mathrm{{conf}}_b \\rvert$, "
        f"over {cal.BINS} bins of equal width on $[0, 1]$ (as in Guo et al.) and over {cal.BINS} bins of equal mass; "
        "the NLL, $-\\log q_y$; the Brier score, $\\sum_j (q_j - [j = y])^2$.",
        f"**Statistics.** Every cell below is the mean over the {S} seeds with a 95% interval. The seeds' test sets "
        f"are drawn from the same {len(digits.load()[1]):,} images and share {100 * shared_images(x):.0f}% of them "
        f"(on average, of any two), so the images and the seeds are resampled together, {p.resamples:,} times: each "
        "resample draws the images with replacement once, for every seed, and the seeds with replacement. The "
        f"interval is Student's $t$ on {S - 1} degrees of freedom times the resamples' standard error: the seed, "
        f"one training run, is the unit. A claim about training is decided at false-alarm "
        f"{inline(SEED_FALSE_ALARM, 'g')} per end of its interval ($t = {t:.2f}$ with {S} seeds): confirmed when the "
        "whole interval lies on the claimed side, refuted when it lies on the other, undecided otherwise. Whether a "
        "network is *calibrated* is a question about the test images' correctness at fixed confidences, decided by "
        "consistency resampling at the companion's false-alarm "
        f"{inline(FALSE_ALARM, 'g')} ({normal_quantile():.2f} standard deviations): redrawing each test image's "
        "correctness with probability its confidence gives the ECE a perfectly calibrated model with the same "
        "confidences shows on as many images. It is never 0; its mean is printed as the floor.",
    ]))


def _range(values, fmt: str = ".3f") -> str:
    lo, hi = min(values), max(values)
    return f"{lo:{fmt}}" if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}} to {hi:{fmt}}"


def results_text(x: Experiment) -> Prose:
    """The results in words (Markdown), every number and direction from the measurements and their decisions."""
    r = x.results
    hard = r.lines["hard labels"]
    over = hard.stats["over"].decide(">")
    e0 = hard.stats["ECE width"]
    verdict = _decided(over.outcome, "more confident than accurate", "less confident than accurate")
    first = [f"Start with the first and last rows of the sweep. Hard labels leave the network {verdict}: mean "
             f"confidence minus accuracy {over.value:+.3f}, interval [{over.lo:+.3f}, {over.hi:+.3f}] at "
             f"false-alarm {inline(SEED_FALSE_ALARM, 'g')}. Its ECE, {e0.value:.3f}, is "
             f"{e0.value / hard.floor:.1f} times what a calibrated model with its confidences shows on as many "
             f"images ({hard.floor:.3f})."]
    last, first_under, outcomes = boundary(x)
    overs = [a for a in ALPHAS if outcomes[a] == "over-confident"]
    unders = [a for a in ALPHAS if outcomes[a] == "under-confident"]
    between = [a for a in ALPHAS if outcomes[a] == "undecided"]
    parts = []
    if overs:
        parts.append(f"decidedly over-confident at {_at(overs)}")
    if between:
        parts.append(f"undecided at {_at(between)}")
    if unders:
        parts.append(f"decidedly under-confident at {_at(unders)}")
    largest = next(m.name for m in x.models if m.grid and m.alpha == ALPHAS[-1])
    first.append("Along the sweep, mean confidence minus accuracy goes from "
                 f"{r.lines['hard labels'].stats['over'].value:+.3f} (hard labels) to "
                 f"{r.lines[largest].stats['over'].value:+.3f} "
                 f"($\\alpha = {ALPHAS[-1]:g}$): the network is " + ", ".join(parts) + ".")
    chosen, tempered = CRITERIA[CLAIMED]
    ec, et = r.lines[chosen].stats["ECE width"], r.lines[tempered].stats["ECE width"]
    ece_chosen = r.lines[CHOSEN_ECE].stats["ECE width"]
    second = (f"The $\\alpha$ chosen by validation NLL (from {_range(r.selected['NLL'], 'g')} over the seeds) brings "
              f"the test ECE from {e0.value:.3f} to {ec.text()}; temperature scaling brings hard labels to "
              f"{et.text()}; a calibrated model would show {r.lines[chosen].floor:.3f}. Chosen by validation ECE "
              f"(from {_range(r.selected['ECE'], 'g')}), $\\alpha$ brings it to {ece_chosen.text()}.")
    said = accuracy_sentence(x)
    third = "What smoothing costs in accuracy, " + said[:1].lower() + said[1:]
    fourth = (f"The reliability diagrams below pool the test images of all seeds. They show hard labels, the "
              f"$\\alpha$ chosen by validation NLL, too much smoothing ($\\alpha = {ALPHAS[-1]:g}$), and hard labels "
              "after temperature scaling. Red marks over-confidence and blue under-confidence.")
    return Prose("\n\n".join([" ".join(first), second, third, fourth]))


def temperature_text(x: Experiment) -> Prose:
    """What temperature scaling did, from the fitted temperatures and the ECE before and after (Markdown)."""
    r = x.results
    soft = [(i, m) for i, m in enumerate(x.models) if m.target.mode == "soft"]
    cooled = [m.name for i, m in soft if r.temperatures[:, i].min() > 1]
    sharpened = [m.name for i, m in soft if r.temperatures[:, i].max() < 1]
    mixed = [m.name for i, m in soft if m.name not in cooled + sharpened]
    after = {m.name: r.lines[f"{m.name} + temperature"].stats["ECE width"].value for _, m in soft}
    before = {m.name: r.lines[m.name].stats["ECE width"].value for _, m in soft}
    lowered = [n for n in after if after[n] < before[n]]
    out = []
    if cooled:
        out.append(f"Temperature scaling fits $T > 1$ at every seed for {', '.join(cooled)}, which cools them")
    if sharpened:
        out.append(f"$T < 1$ at every seed for {', '.join(sharpened)}, which sharpens them")
    if mixed:
        out.append(f"$T$ on both sides of 1 over the seeds for {', '.join(mixed)}")
    first = "; ".join(out) + "."
    second = (f"After it, the networks' test ECE lies from {min(after.values()):.3f} to {max(after.values()):.3f}, "
              f"against {min(before.values()):.3f} to {max(before.values()):.3f} before; it is lower after for "
              f"{len(lowered)} of the {len(after)}. A network smoothed too much loses its calibration, not its "
              "ranking of the classes, so one number can put it right again.")
    return Prose(first[:1].upper() + first[1:] + " " + second)


def _unconverged(data: dict) -> str:
    """Where the stored sweep's networks do not reach the convergence the claims require (a sentence, or nothing)."""
    out = []
    for n, p in data["sizes"].items():
        for key, who in (("hard_excess", "hard labels"), ("smoothed_excess", "the smoothed networks")):
            if p.get(key, 0.0) > CONVERGED:
                out.append(f"at {n} images of each digit {who} end up to {p[key]:.3f} nats above their minimum")
    return ("" if not out else " Training does not reach the convergence the claims require everywhere: "
            + "; ".join(out) + f" (more than {CONVERGED:g}).")


def limits_text(x: Experiment, data: dict) -> Prose:
    """The chapter's stated limits (Markdown): where each claim holds, from the stored sweep over the training
    set's size, and what the statistics cover."""
    from derivations.chapters.ch5 import regimes

    sizes = [int(n) for n in data["sizes"]]

    def at(name: str, words: dict) -> str:
        parts = []
        for outcome, said in words.items():
            w = regimes.where(data, name, outcome)
            if w:
                parts.append(f"{said} at {_alphas(w)}")
        return " and ".join(parts)
    per = x.plan.per_class
    claims_at = CLAIMS_PER_DIGIT

    def _figure(name: str) -> str:                 # "Figure 5.5," : the figure's number as the chapter gives it
        from derivations.chapters.ch5.figures import FIGURES

        return FIGURES.label(name).rstrip(".") + ","
    lines = [
        f"- **Where the claims hold.** The claims are stated and checked with {claims_at} training images of each "
        f"digit. Over the sweep of sizes ({_alphas(sizes)} of each digit, {_figure('ch5_regimes')} at false-alarm "
        f"{inline(data['false_alarm'], 'g')} with {data['plan']['seeds']} seeds): hard labels are "
        + at("over", {"confirmed": "decidedly over-confident", "undecided": "undecided",
                      "refuted": "decidedly under-confident"})
        + "; the $\\alpha$ chosen by validation NLL "
        + at("gain", {"confirmed": "decidedly lowers the ECE", "undecided": "is undecided",
                      "refuted": "decidedly raises it"})
        + f"; its equivalence with temperature scaling (margin {data['margin']:g}) is "
        + at("gap", {"confirmed": "confirmed", "undecided": "undecided", "refuted": "refuted"})
        + ". Where a test is not confirmed, its claim is not made."
        + _unconverged(data)
        + (f" This page ran at {per} of each digit." if per != claims_at else ""),
        f"- **A small network on few images.** One hidden layer of {x.plan.hidden} units, not a ResNet on CIFAR-100: "
        "what is tested is the mechanism Guo et al. name (a network that fits its training set and over-fits its "
        "loss), not the depth of modern networks.",
        f"- **How the smoothing is chosen.** By validation NLL (the claims) at {_range(x.results.selected['NLL'], 'g')}, by "
        f"validation ECE at {_range(x.results.selected['ECE'], 'g')} over the seeds here. The ECE is a noisy "
        f"criterion on {x.plan.sizes[1]} validation images.",
        f"- **The ECE is biased upwards.** A finite test set gives a calibrated model an ECE above 0 (the floor, "
        f"{x.results.lines['hard labels'].floor:.3f} for hard labels here); bins of equal width and of equal mass "
        "are both reported, and other estimators could rank close networks differently.",
        "- **Top-label calibration only.** The ECE and the over/under-confidence test look at the predicted class. A "
        "network can be top-label calibrated and still wrong about the other classes' probabilities; the NLL and "
        "Brier score see those.",
        f"- **What the false-alarm probability covers.** The draw of the training runs (a seed draws the split, the "
        f"initial weights and the flips) and of the test images: {len(x.seeds)} seeds, so Student's $t$ on "
        f"{len(x.seeds) - 1} degrees of freedom. Not the data set, the architecture, or any choice the plan fixes. "
        "An undecided claim is not a refuted one: more seeds may decide it.",
    ]
    return Prose("\n".join(lines))


def _regime_note(eps: float) -> str:
    """What the reader's eps means for the smoothed network's target."""
    reg = regime(K, eps)
    return {
        "hard": "$\\epsilon = 0$ is hard labels: nothing is smoothed or flipped.",
        "smoothing": f"$0 < \\epsilon < (K-1)/K = {uniform_eps(K):g}$: smoothing proper; the larger $\\epsilon$, the "
                     "lower the training confidence $1 - \\epsilon$ the target pulls the network to.",
        "uniform": f"$\\epsilon = (K-1)/K = {uniform_eps(K):g}$: the uniform target, which carries nothing about the "
                   "class; its optimum is the uniform output, of confidence $1/K$.",
        "beyond uniform": "$(K-1)/K < \\epsilon < 1$: the true class gets less target mass than each other class; the "
                          "target's optimum ranks it last (no framework $\\alpha \\le 1$ gives this target).",
        "all flipped": "$\\epsilon = 1$: the true class gets no target mass, and labels flipped once are all wrong.",
    }[reg]

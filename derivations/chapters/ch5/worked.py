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

from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5 import digits
from derivations.chapters.ch5.mlp import Target, train
from derivations.engine import results
from derivations.engine.finding import Finding, Findings, shown
from derivations.engine.regimes import regime, uniform_eps
from derivations.engine.stats import FALSE_ALARM, frequency_radius
from derivations.engine.tex import inline
from derivations.library.numeric import cross_entropy_per_example, softmax
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum

__all__ = ["ALPHAS", "CHOSEN", "K", "eps_of", "alpha_of", "Plan", "Model", "Experiment", "Line", "Results", "experiment",
           "analyse", "boundary", "summary_table", "temperature_table", "findings"]

#: The smoothing strengths of the sweep, in the frameworks' convention (target ``(1 - alpha) onehot + alpha / K``).
ALPHAS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
#: The digits' classes.
K = digits.NUM_CLASSES
#: The row of the networks whose alpha was chosen on the validation split (one per seed).
CHOSEN = "$\\alpha$ chosen on validation"
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
    """Chapter 5's sizes (see the module's docstring). About 2 s of CPU at the defaults (one BLAS thread)."""

    eps: float
    seed: int = 0
    seeds: int = 5
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

    def describe(self) -> str:
        n_tr, n_va = K * self.per_class, K * self.val_per_class
        n_te = len(digits.load()[1]) - n_tr - n_va
        return (f"digits, K = {K}: per seed {n_tr} training images ({self.per_class} of each digit), {n_va} "
                f"validation, {n_te} test; MLP 64 → {self.hidden} (relu) → {K}, {self.steps} full-batch Adam steps "
                f"of size {self.lr:g} decaying linearly to 0; seeds {self.seed} to {self.seed + self.seeds - 1}; "
                f"α ∈ {{{', '.join(f'{a:g}' for a in ALPHAS)}}} (ε = α(K−1)/K); your ε = {self.eps:g} "
                f"(α = {alpha_of(self.eps):.4g}); {self.resamples} bootstrap resamples of the test images per seed")


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
    """What :func:`analyse` measured: the rows by name, the fitted temperatures ``(S, M)``, the alpha chosen on the
    validation split at each seed, and each seed's test :class:`~derivations.chapters.ch5.calibration.Scores` by row
    name (for the reliability diagrams and the claims)."""

    lines: dict
    temperatures: np.ndarray
    selected: list
    scores: dict
    temperature_margin: float


@dataclass
class Experiment:
    """The trained networks' logits: ``*_logits[s, m]`` for seed ``s`` and model ``m`` of :attr:`models`."""

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
                      run.kept, run.flips)


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


def _scaled(Z: np.ndarray, T: float) -> np.ndarray:
    return Z / T


@lru_cache(maxsize=10)
def bootstrap(n: int, B: int, seed: int) -> cal.Bootstrap:
    """The resamples of seed ``seed``'s test images (cached: the claims reuse them)."""
    return cal.Bootstrap(n, B, [seed, 3])


def analyse(x: Experiment) -> Results:
    """Temperatures, the alpha chosen on validation, and every row's pooled test statistics (see :class:`Results`)."""
    p, models = x.plan, x.models
    S, M = len(x.seeds), len(models)
    temps = np.array([[cal.fit_temperature(x.val_logits[s, m], x.y_val[s]) for m in range(M)] for s in range(S)])
    grid = [i for i, m in enumerate(models) if m.grid and m.alpha > 0]
    val_ece = np.array([[cal.ece(softmax(x.val_logits[s, m]), x.y_val[s]) for m in grid] for s in range(S)])
    chosen = [grid[int(np.argmin(val_ece[s]))] for s in range(S)]
    rows: dict[str, list] = {m.name: [x.test_logits[s, i] for s in range(S)] for i, m in enumerate(models)}
    rows[CHOSEN] = [x.test_logits[s, chosen[s]] for s in range(S)]
    for i, m in enumerate(models):
        if m.target.mode == "soft":
            rows[f"{m.name} + temperature"] = [_scaled(x.test_logits[s, i], temps[s, i]) for s in range(S)]
    sc = {name: [cal.scores(Z[s], x.y_test[s]) for s in range(S)] for name, Z in rows.items()}
    per = {name: [] for name in rows}
    for s, seed in enumerate(x.seeds):
        boot = bootstrap(len(x.y_test[s]), p.resamples, seed)
        for name, stats in zip(rows, boot.statistics([sc[name][s] for name in rows])):
            per[name].append(stats)
    lines = {}
    for name in rows:
        stats = {k: cal.pooled([d[k] for d in per[name]]) for k in STATISTICS}
        test = cal.calibration_test(sc[name], stats["ECE width"].value, seed=[p.seed, 4])
        lines[name] = Line(name, stats, test, stats["ECE width"].value - test.value)
    nll_ratio = min(cal.temperature_margin(x.val_logits[s, m], x.y_val[s], temps[s, m])
                    for s in range(S) for m in range(M))
    return Results(lines, temps, [models[c].alpha for c in chosen], sc, nll_ratio)


def boundary(x: Experiment, false_alarm: float = FALSE_ALARM):
    """Where too much smoothing turns the network under-confident: ``(last, first, outcomes)``, ``first`` the
    smallest alpha of the sweep from which on every alpha is decidedly under-confident (``None`` if none is),
    ``last`` the alpha of the sweep just below it (``None`` if ``first`` is the smallest), ``outcomes`` the
    :func:`~derivations.chapters.ch5.calibration.confidence_test` outcome at each alpha of the sweep."""
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
    names = [m.name for m in x.models if m.target.mode == "soft"] + [CHOSEN,
                                                                     "hard labels + temperature"]
    return names + [m.name for m in x.models if m.target.mode != "soft"]


def _label(x: Experiment, name: str) -> str:
    m = next((m for m in x.models if m.name == name), None)
    return name + (" ← your $\\epsilon$" if m is not None and m.yours and m.grid else "")


def summary_table(x: Experiment):
    """Every network on the test images, in two tables that fit a page's column: its calibration (accuracy,
    confidence, the ECE in both binnings and its spread over seeds) and its scores (NLL, Brier, the calibration
    test). Each cell: the mean over seeds and, below it, the 95% paired bootstrap interval."""
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
    ECE before and after, for hard labels and every smoothed network."""
    r = x.results
    head = ["network", "temperature $T$ (mean, range over seeds)", "ECE before", "ECE after temperature scaling",
            "after minus before"]
    body = []
    for i, m in enumerate(x.models):
        if m.target.mode != "soft":
            continue
        T = r.temperatures[:, i]
        before, after = r.lines[m.name].stats["ECE width"], r.lines[f"{m.name} + temperature"].stats["ECE width"]
        body.append([_label(x, m.name), f"{T.mean():.3f} ({T.min():.3f}–{T.max():.3f})", _cell(before), _cell(after),
                     _cell(after - before)])
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


def _train_loss(x: Experiment, s: int, m: int) -> float:
    """Mean training loss of network ``m`` at seed ``s`` against its own target (the soft target for soft labels and
    for labels flipped afresh, whose expected target it is; the kept labels for flipped once)."""
    t = x.models[m].target
    Z = x.train_logits[s, m]
    if t.mode == "flip_once":
        return float(cross_entropy_per_example(Z, x.kept[s, m]).mean())
    return float(smoothed_cross_entropy(Z, x.y_train[s], eps=t.eps))


def findings(x: Experiment) -> Findings:
    """What holds at the reader's values (asserted: it holds at every valid value) and what the numbers say there
    (shown, with the reason it is not asserted: it depends on the values)."""
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
    yours = x.yours
    m = x.index(yours.name)
    floor = smoothed_minimum(K, yours.target.eps)
    excess = [max(_train_loss(x, s, m) - floor, 0.0) for s in range(S)]
    q1 = [float(softmax(x.train_logits[s, m])[np.arange(len(x.y_train[s])), x.y_train[s]].mean()) for s in range(S)]
    gaps = [abs(q - (1 - yours.target.eps)) for q in q1]
    bounds = [np.sqrt(e / 2) for e in excess]
    out.add(Finding("numeric", f"soft labels at your $\\epsilon$: the mean $q_y$ on the training images is within "
                               f"$\\sqrt{{\\mathrm{{KL}}/2}}$ of chapter 2's optimum $1 - \\epsilon$ "
                               f"= {1 - yours.target.eps:g}",
                    all(g <= b + 1e-9 for g, b in zip(gaps, bounds)),
                    observed=f"mean $q_y$ {np.mean(q1):.4f}; excess training loss over its minimum at most "
                             f"{inline(max(excess), '.1e')}, so the bound is {max(bounds):.3f}",
                    bound="Pinsker's inequality (deterministic)"))
    once = x.mode("flip_once")
    if once.target.mode == "flip_once":
        mo = x.index(once.name)
        k, n = int(np.count_nonzero(x.kept[:, mo] != x.y_train)), x.y_train.size
        rad = float(frequency_radius(n, p.eps))
        out.add(Finding("statistical", "labels flipped once: the fraction flipped is $\\epsilon$",
                        abs(k / n - p.eps) <= rad + 1e-12, observed=f"{k} of {n} ({k / n:.3f})",
                        bound=f"Bernstein radius {rad:.3f} at false-alarm {inline(FALSE_ALARM, 'g')}"))
        fitted = int(sum(np.count_nonzero((x.train_logits[s, mo].argmax(axis=1) == x.kept[s, mo])
                                          & (x.kept[s, mo] != x.y_train[s])) for s in range(S)))
        out.add(shown("numeric", "labels flipped once are memorised", f"{fitted} of the {k} flipped training images "
                      "end predicting their wrong label",
                      "shown: memorising takes a network that can fit its training set and enough steps "
                      "(ch5.once_memorises checks it at the defaults)"))
    else:
        out.add(shown("numeric", "labels flipped once, or afresh", "nothing flips at $\\epsilon = 0$: both are hard labels",
                      "$\\epsilon = 0$: the flipped modes are the hard-label network"))
    # -- what the numbers say at these values -------------------------------------------------------------
    hard = r.lines["hard labels"].stats
    t = cal.confidence_test(hard["over"])
    out.add(shown("statistical", "hard labels (Guo et al., 2017): over-confident?",
                  f"{t.outcome}: confidence minus accuracy {t.value:+.3f} ({t.z:+.1f} SE); ECE "
                  f"{hard['ECE width'].text()}, {r.lines['hard labels'].calibrated.outcome} (a calibrated model "
                  f"would show {r.lines['hard labels'].floor:.3f})",
                  f"a z-test at false-alarm {inline(FALSE_ALARM, 'g')} ({cal.z_bound():.2f} SE); ch5.hard_overconfident checks "
                  "it at the defaults"))
    sel = r.lines[CHOSEN].stats
    lt = cal.lower_test(sel["ECE width"], hard["ECE width"])
    out.add(shown("statistical", "the $\\alpha$ chosen on validation lowers the test ECE?",
                  f"{lt.outcome}: $\\alpha$ chosen {', '.join(f'{a:g}' for a in r.selected)} (per seed); ECE "
                  f"{sel['ECE width'].text()} against {hard['ECE width'].text()}",
                  "paired bootstrap z-test; ch5.chosen_alpha_helps checks it at the defaults"))
    ts = r.lines["hard labels + temperature"].stats
    d = sel["ECE width"] - ts["ECE width"]
    out.add(shown("statistical", "smoothing against temperature scaling (Müller et al., 2019)",
                  f"ECE {sel['ECE width'].text()} against {ts['ECE width'].text()}: difference {d.text()}, "
                  f"a calibrated model's floor {r.lines[CHOSEN].floor:.3f}",
                  "ch5.as_temperature checks it at the defaults"))
    last, first, outcomes = boundary(x)
    where = (f"under-confident from $\\alpha = {first:g}$ on ($\\epsilon = {eps_of(first):g}$)" +
             (f"; $\\alpha = {last:g}$ is not ({outcomes[last]})" if last is not None else "")
             if first is not None else "no $\\alpha$ of the sweep is decidedly under-confident")
    mark = cal.confidence_test(r.lines[yours.name].stats["over"]).outcome
    out.add(shown("statistical", "too much smoothing: where under-confidence starts", where +
                  f"; at your $\\epsilon = {p.eps:g}$: {mark}", _regime_note(p.eps)))
    fresh = x.mode("flip_fresh")
    if fresh.target.mode == "flip_fresh":
        c = {k: r.lines[n].stats["confidence"] for k, n in (("f", fresh.name), ("s", yours.name),
                                                             ("h", "hard labels"))}
        out.add(shown("statistical", "labels flipped afresh against soft labels, at your $\\epsilon$",
                      f"confidence {c['f'].text()} against {c['s'].text()} (hard labels {c['h'].text()}); "
                      f"difference {(c['f'] - c['s']).text()}",
                      "approximately equal, not exactly: Adam's step is not linear in the gradient, and the last "
                      "steps' flips are not averaged out (ch5.fresh_matches_soft)"))
    return out


def _regime_note(eps: float) -> str:
    """What the reader's eps means for the smoothed network."""
    reg = regime(K, eps)
    return {
        "hard": "$\\epsilon = 0$ is hard labels: nothing is smoothed or flipped.",
        "smoothing": "$0 < \\epsilon < (K-1)/K = 0.9$: smoothing proper; the larger $\\epsilon$, the lower the training confidence "
                     "$1 - \\epsilon$ the network is pulled to.",
        "uniform": f"$\\epsilon = (K-1)/K = {uniform_eps(K):g}$: the uniform target; the network learns nothing about the "
                   "class, its confidence sits near $1/K$.",
        "beyond uniform": "$(K-1)/K < \\epsilon < 1$: the true class gets less target mass than each other class; the "
                          "target rewards avoiding it, so what the network learns of that makes it right less often "
                          "than chance (no framework $\\alpha \\le 1$ gives this target).",
        "all flipped": "$\\epsilon = 1$: the true class gets no target mass; labels flipped once are all wrong, and the "
                       "network is pushed to rule the true class out (slowly under soft labels: near the uniform "
                       "output their gradient is small).",
    }[reg]

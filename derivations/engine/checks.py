"""The numeric checks beside a derivation: the claim's formulas, read from the LaTeX a reader sees, evaluated
against references written independently of them.

A claim decided by its derivation cell (:mod:`derivations.engine.derive`) keeps these beside its verdict, folded.
Each reads the claim's :class:`~derivations.engine.registry.Formulas`, evaluates them in float64 and in mpmath, and
returns a :class:`~derivations.engine.registry.Numeric` with its own reading of the printed form (and of the
corrected one, and under the assumption); the registry checks that it reads them as the derivation does.

* :func:`largest`: the largest value of any measure over a numeric sweep (K, logit scales and a parameter such as
  eps, or explicit cases), each cell with its random logits and generator seeded from a key: the one sweep loop;
* :func:`sweep`: the largest discrepancy between a formula and an independent NumPy reference at random logits
  (:func:`largest` with a lambdified formula);
* the ready checks: :func:`against` (an ``=`` line), :func:`components_against` (a vector), :func:`chain_holds`
  (an inequality chain), :func:`near_max` (a ``\\approx`` line);
* :func:`each_k`: a symbolic test for a general symbolic K and for concrete K (chapter 4's checks).

>>> from derivations.engine.notation import HARD, read
>>> from derivations.engine.reference import mp_cross_entropy
>>> from derivations.library import numeric as num
>>> check = against(lambda z, p: num.cross_entropy_per_example(z, np.zeros(len(z), dtype=int)), lambda z, p: mp_cross_entropy(z, 0))
>>> check(Formulas(read(r"= -\\log(q_{\\theta}(y_{1}|x))"), key="doc", context=HARD)).printed
True
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from derivations.engine.evaluation import side_values
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS, Context, Reading
from derivations.engine.registry import Counterexample, Formulas, Numeric
from derivations.engine.symbolic import Logits, compiled
from derivations.engine.tex import cases, inline

__all__ = ["Assumption", "OTHERS_ZERO", "SYMBOLIC_K", "NUMERIC_K", "SCALES", "POINTS", "RTOL", "CE_RTOL",
           "rng_for", "sample_logits", "agreement", "each_k", "where", "Point", "points", "Sweep", "largest", "sweep",
           "numeric_values", "mp_value", "rhs_of", "chain", "COMPONENT", "against", "components_against",
           "chain_holds", "near_max"]

#: Concrete K at which symbolic identities are also checked.
SYMBOLIC_K = (2, 3)
#: Concrete K and logit scales at which numeric checks sample.
NUMERIC_K = (2, 3, 5, 10)
SCALES = (0.1, 1.0, 10.0, 100.0)
POINTS = 64
#: Relative agreement demanded of two float64 evaluations of the same quantity.
RTOL = 1e-9
#: A discrepancy this large (relative) counts as a counterexample.
CE_RTOL = 1e-3

Formula = Callable[[Logits], sp.Expr]


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded from ``key`` (stable across runs and machines).

    Used in: the Monte Carlo checks of chapter 3; points

    >>> float(rng_for("x").random()) == float(rng_for("x").random())
    True
    """
    return np.random.default_rng(zlib.crc32(key.encode()))


def sample_logits(rng: np.random.Generator, K: int, scale: float, n: int = POINTS) -> np.ndarray:
    """``n`` logit vectors with entries uniform in ``[-scale, scale]``, shape ``(n, K)``.

    Used in: points

    >>> sample_logits(rng_for("s"), 3, 1.0, n=4).shape
    (4, 3)
    """
    return rng.uniform(-scale, scale, size=(n, K))


def agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise relative discrepancy ``|a - b| / max(1, |b|)``.

    Used in: sweep

    >>> agreement(np.array([1.0, 3.0]), np.array([1.0, 2.0])).tolist()
    [0.0, 0.5]
    """
    return np.abs(a - b) / np.maximum(1.0, np.abs(b))


@dataclass(frozen=True)
class Assumption:
    """A named restriction of the inputs, applied symbolically and numerically."""

    name: str
    apply: Callable[[Logits, sp.Expr], sp.Expr]
    restrict: Callable[[np.ndarray], np.ndarray]


#: The note's unstated assumption in the hard-label chain: z_j = 0 for j != 1.
OTHERS_ZERO = Assumption(
    name=r"every logit but the true class's is zero ($z_j = 0$ for $j \ne 1$)",
    apply=lambda x, e: x.others_zero(e),
    restrict=lambda z: np.concatenate([z[:, :1], np.zeros_like(z[:, 1:])], axis=1),
)


def each_k(test: Callable[[Logits], object], general: bool = True, Ks: Sequence[int] = SYMBOLIC_K) -> dict:
    """``test(x)`` for a general symbolic K (if ``general``) and for each concrete K in ``Ks``.

    Returns ``{"general K": ..., "K=2": ..., ...}`` in that order; :func:`where`
    names the cases for a fact's text.

    Used in: the checks of chapter 4

    >>> each_k(lambda x: x.general or x.K, Ks=(2, 3))
    {'general K': True, 'K=2': 2, 'K=3': 3}
    """
    cases = ((Logits(),) if general else ()) + tuple(Logits(K) for K in Ks)
    return {("general K" if x.general else f"K={x.K}"): test(x) for x in cases}


def where(results: dict) -> str:
    """The cases of an :func:`each_k` result, for a finding's text (:func:`derivations.engine.tex.cases`).

    Used in: the checks of chapter 4

    >>> where({"general K": True, "K=2": True, "K=3": False})
    'general $K$ and $K = 2, 3$'
    """
    return cases(results)


@dataclass(frozen=True)
class Point:
    """One cell of a numeric sweep: ``K``, the logit ``scale``, the parameter value ``param`` (``None`` when there
    is none), ``n`` random logit vectors ``z`` (shape ``(n, K)``, uniform in ``[-scale, scale]``) and the cell's
    generator ``rng`` (seeded from the sweep's key), for anything else the measure draws."""

    K: int
    scale: float
    param: object
    z: np.ndarray
    rng: np.random.Generator

    def labels(self) -> np.ndarray:
        """One random class index (0-based) per logit vector, drawn from the cell's generator."""
        return self.rng.integers(0, self.K, size=len(self.z))


def points(key: str, Ks: Sequence[int] = NUMERIC_K, scales: Sequence[float] = SCALES, params: Sequence = (None,),
           n: int = POINTS, cases: Sequence[tuple[int, object]] | None = None) -> Iterator[Point]:
    """The cells of a sweep: every parameter value, K and scale (``cases``: explicit ``(K, param)`` pairs instead
    of ``Ks`` x ``params``), in that order, from one generator seeded by ``key``.

    Used in: largest

    >>> [(p.K, p.scale, p.z.shape) for p in points("doc", Ks=(2, 3), scales=(1.0,), n=4)]
    [(2, 1.0, (4, 2)), (3, 1.0, (4, 3))]
    """
    rng = rng_for(key)
    for K, p in (cases if cases is not None else [(K, p) for p in params for K in Ks]):
        for scale in scales:
            yield Point(K, scale, p, sample_logits(rng, K, scale, n), rng)


@dataclass(frozen=True)
class Sweep:
    """The largest value found, and where: logits ``z`` (one row), ``K`` and parameter value."""

    worst: float
    z: np.ndarray | None
    K: int | None
    param: object = None


def largest(measure: Callable[[Point], object], key: str, Ks: Sequence[int] = NUMERIC_K,
            scales: Sequence[float] = SCALES, params: Sequence = (None,), n: int = POINTS,
            cases: Sequence[tuple[int, object]] | None = None) -> Sweep:
    """The largest value of ``measure(point)`` over the :func:`points` of a sweep, and where.

    ``measure`` returns a number, or an array with one value per row of
    ``point.z`` (so that the worst row is kept); NaN counts as infinitely large,
    so a computation that breaks down is never mistaken for agreement. The cells
    are the same on every run (seeds from ``key``).

    Used in: the numeric checks of chapters 1-3; sweep

    >>> s = largest(lambda pt: np.abs(pt.z).max(axis=1), "doc", Ks=(2, 3), scales=(1.0, 10.0))
    >>> bool(s.K in (2, 3) and 1.0 < s.worst <= 10.0 and s.worst == np.abs(s.z).max())
    True
    >>> largest(lambda pt: np.nan, "doc", Ks=(2,), scales=(1.0,)).worst
    inf
    """
    worst = Sweep(-np.inf, None, None)
    for pt in points(key, Ks, scales, params, n, cases):
        with np.errstate(all="ignore"):
            d = np.asarray(measure(pt), dtype=float)
        d = np.where(np.isnan(d), np.inf, d)
        i = int(np.argmax(d)) if d.ndim else None
        di = float(d.flat[i] if d.ndim else d)
        if di > worst.worst:
            worst = Sweep(di, pt.z[i] if d.ndim and d.shape == (len(pt.z),) else None, pt.K, pt.param)
    return worst


def numeric_values(formula) -> Callable[[Point, np.ndarray], np.ndarray]:
    """``formula(x, p)`` as a NumPy function of a sweep's cell and logits: ``at(point, z)`` gives one float per
    row of ``z``, lambdified once per K and parameter value.

    Used in: sweep, near_max

    >>> at = numeric_values(lambda x, p: x.z(1) * p)
    >>> at(next(points("doc", Ks=(2,), scales=(1.0,), params=(3,))), np.array([[1.0, 0.0], [2.0, 5.0]])).tolist()
    [3.0, 6.0]
    """
    functions = {}

    def at(pt: Point, z: np.ndarray) -> np.ndarray:
        if (pt.K, pt.param) not in functions:
            x = Logits(pt.K)
            functions[pt.K, pt.param] = compiled(x.symbols, formula(x, pt.param))
        return np.broadcast_to(np.asarray(functions[pt.K, pt.param](*z.T), dtype=float), (len(z),))
    return at


def sweep(formula, reference, key: str, Ks: Sequence[int] = NUMERIC_K, scales: Sequence[float] = SCALES,
          restrict=None, params: Sequence = (None,)) -> Sweep:
    """Compare ``formula`` (lambdified) with ``reference`` at random logits: their largest :func:`agreement`.

    ``formula(x, p)`` and ``reference(z, p)`` take a parameter ``p`` from
    ``params`` (e.g. values of eps; ``None`` when there is none). Seeds come from
    ``key``, so the points are the same on every run.

    Used in: against, components_against
    """
    at = numeric_values(formula)

    def measure(pt: Point) -> np.ndarray:
        z = pt.z if restrict is None else restrict(pt.z)
        return agreement(at(pt, z), reference(z, pt.param))

    s = largest(measure, key, Ks, scales, params)
    return s if restrict is None or s.z is None else Sweep(s.worst, restrict(s.z[None])[0], s.K, s.param)


def mp_value(formula: Formula, z: np.ndarray) -> float:
    """``formula`` at logits ``z`` in mpmath, 50 digits.

    Used in: the checks of chapters 1-3; near_max
    """
    x = Logits(len(z))
    f = compiled(x.symbols, formula(x), "mpmath")
    with mpmath.workdps(50):
        return float(f(*[mpmath.mpf(float(v)) for v in z]))


def rhs_of(reading: Reading, ctx: Context, part: int = 0) -> Callable:
    """The right-hand side of relation ``part`` of a reading, as ``(x, eps) -> expression``.

    ``eps`` (a number or ``None``) is substituted for the note's epsilon.

    Used in: against
    """
    def f(x, eps=None):
        e = reading.rhs(x, ctx, part)
        return e if eps is None else e.subs(EPS, eps)
    return f


# -- vectors: (A, \cdots, B) --------------------------------------------------------------------------
#: A class index for a general component of a vector, j >= 2 (distinct from every summation index).
COMPONENT = sp.Symbol("c", integer=True, positive=True)


# -- inequality chains: a < b <= c ----------------------------------------------------------------------


def chain(reading: Reading) -> list:
    """The relations of a reading's first part, a chain ``a < b <= c`` flattened into ``[a < b, b <= c]``.

    Used in: the checks of chapter 1; chain_holds
    """
    rel = reading.relation()
    return list(rel.rhs.args) if rel.op == "chain" else [rel]


#: The sign that makes ``lhs - rhs`` non-positive where a relation holds.
_ORDER = {"<": 1, "<=": 1, ">": -1, ">=": -1}
#: Relations as LaTeX.
_TEX_OP = {"<=": r"\le", ">=": r"\ge", "!=": r"\ne"}


# -- numeric checks beside a derivation ------------------------------------------------------------------
# A claim decided by its derivation cell (derivations.engine.derive) keeps these beside it, folded: each reads the
# claim's formulas (what the reader sees, parsed), evaluates them in float64 and mpmath, and compares them with
# references written independently of them (the NumPy library, mpmath at 50 digits). Each returns a Numeric with its
# own reading of the printed form (and of the corrected form, and under the assumption): the registry checks that it
# reads them as the derivation does (registry.evidence_of).
def _where_eps(params) -> str:
    return (r", $\epsilon \in \{" + ", ".join(sp.latex(sp.nsimplify(v)) for v in params) + r"\}$") \
        if any(p is not None for p in params) else ""


def _mp_counterexample(printed, mp_reference, s: Sweep, quantity: str, parameter: str = "eps"):
    """The worst point of a sweep, rounded to the three digits it is shown with, both sides in mpmath at 50 digits:
    the printed form (SymPy, from its LaTeX) and the reference (written independently); ``None`` when they agree
    there after all."""
    z = np.array([float(f"{v:.3g}") for v in s.z])
    p = mp_value(lambda x: printed(x, s.param), z)
    q = float(mp_reference(z, s.param))
    if abs(p - q) <= CE_RTOL * max(1.0, abs(q)):
        return None
    return Counterexample(quantity, p, q, K=len(z), z=tuple(float(v) for v in z),
                          parameters={} if s.param is None else {parameter: s.param})


def against(reference, mp_reference, *, params: Sequence = (None,), ce_params: Sequence | None = None,
            assumption: Assumption | None = None, Ks: Sequence[int] = NUMERIC_K, quantity: str = "value of the line"):
    """Numeric checks of an ``=`` line: its printed right-hand side (and its corrected one), evaluated at random
    logits, against ``reference(z, p)`` (the NumPy library, rows of ``z``) for each ``p`` of ``params`` (values of
    eps, or ``None``). Where the printed form disagrees, the worst point (at ``ce_params``) is rounded and both sides
    computed in mpmath, the reference by ``mp_reference(z, p)``: a counterexample; with ``assumption``, the sweep is
    repeated on logits that satisfy it.

    >>> from derivations.engine.notation import HARD, read
    >>> from derivations.engine.reference import mp_cross_entropy
    >>> from derivations.library import numeric as num
    >>> check = against(lambda z, p: num.cross_entropy_per_example(z, np.zeros(len(z), dtype=int)),
    ...                 lambda z, p: mp_cross_entropy(z, 0))
    >>> check(Formulas(read(r"= -\\log(q_{\\theta}(y_{1}|x))"), key="doc", context=HARD)).printed
    True
    >>> check(Formulas(read(r"= -\\log(q_{\\theta}(y_{2}|x))"), key="doc", context=HARD)).counterexample is not None
    True
    """
    def numeric(f: Formulas) -> Numeric:
        out = Numeric()
        printed = rhs_of(f.printed, f.context)
        where = _where_eps(params)
        s = sweep(printed, reference, f.key + "/agree", Ks=Ks, params=params)
        out.printed = s.worst <= RTOL
        if out.printed:
            out.findings.append(Finding("numeric", f"the printed form matches the NumPy library at random logits{where} "
                                                   f"(relative tolerance {inline(RTOL, 'g')})", error=s.worst))
        else:
            worst = sweep(printed, reference, f.key + "/counterexample", Ks=Ks, params=ce_params or params)
            out.counterexample = _mp_counterexample(printed, mp_reference, worst, quantity)
            out.findings.append(Finding("numeric", "the printed form differs from the NumPy library at random logits; "
                                        + (f"at the worst point, rounded, {out.counterexample.point()}, mpmath confirms "
                                           "it" if out.counterexample else "mpmath does NOT confirm the worst point"),
                                        out.counterexample is not None))
            if assumption is not None:
                d = sweep(printed, reference, f.key + "/assumed", Ks=Ks, restrict=assumption.restrict,
                          params=params).worst
                out.assuming = d <= RTOL
                out.findings.append(Finding("numeric", "where the assumption holds, the printed form "
                                            + ("matches" if out.assuming else "still differs from")
                                            + f" the NumPy library (relative tolerance {inline(RTOL, 'g')})", error=d))
        if f.corrected is not None:
            d = sweep(rhs_of(f.corrected, f.context), reference, f.key + "/corrected", Ks=Ks, params=params).worst
            out.corrected = d <= RTOL
            out.findings.append(Finding("numeric", "the corrected form " + ("matches" if out.corrected else "differs from")
                                        + f" the NumPy library at random logits{where} (relative tolerance "
                                          f"{inline(RTOL, 'g')})", error=d))
        return out

    return numeric


def components_against(reference_component, mp_reference_component=None, *, Ks: Sequence[int] = NUMERIC_K,
                       params: Sequence = (None,), ce_param=None, what: str = "the NumPy softmax"):
    """Numeric checks of a vector ``(A, \\cdots, B)``: every component of the printed vector (and of the corrected
    one), at random logits and each ``p`` of ``params`` (values of eps, or ``None``), against
    ``reference_component(z, j)`` (``j`` 0-based), for each K of ``Ks``. Where the printed vector disagrees, its
    worst component at the worst point (at ``ce_param``), rounded, is computed in mpmath beside
    ``mp_reference_component(z, j)``: a counterexample."""
    def at(reading, ctx, k):
        return lambda x, p: reading.rhs(x, ctx).component(k) if p is None else \
            reading.rhs(x, ctx).component(k).subs(EPS, p)

    def worst(reading, ctx, key, scales=SCALES, values=params):
        """The largest discrepancy over every component: (discrepancy, component, its sweep)."""
        found = [(s.worst, k, s) for k in range(1, max(Ks) + 1)
                 for s in [sweep(at(reading, ctx, k), lambda z, p, k=k: reference_component(z, k - 1),
                                 f"{key}/component{k}", Ks=[K for K in Ks if K >= k], scales=scales, params=values)]]
        return max(found, key=lambda t: t[0])

    def numeric(f: Formulas) -> Numeric:
        out = Numeric()
        where = f"at random logits, $K$ up to {max(Ks)}{_where_eps(params)}"
        d, _, _ = worst(f.printed, f.context, f.key)
        out.printed = d <= RTOL
        if out.printed or mp_reference_component is None:
            out.findings.append(Finding("numeric", "every component of the printed vector "
                                        + ("matches " if out.printed else "does not match ") + f"{what} {where} "
                                          f"(relative tolerance {inline(RTOL, 'g')})", error=d))
        else:
            _, k, s = worst(f.printed, f.context, f.key + "/counterexample", scales=(1.0,), values=(ce_param,))
            z = np.array([float(f"{v:.3g}") for v in s.z])
            printed = mp_value(lambda x: at(f.printed, f.context, k)(x, ce_param), z)
            correct = float(mp_reference_component(z, k - 1))
            real = abs(printed - correct) > CE_RTOL * max(1.0, abs(correct))
            ce = Counterexample(f"component {k} of $q_\\theta$", printed, correct, K=len(z),
                                z=tuple(float(v) for v in z), parameters={} if ce_param is None else {"eps": ce_param})
            out.counterexample = ce if real else None
            out.findings.append(Finding("numeric", f"the printed vector differs from {what} {where}; "
                                        + (f"at the worst point, rounded, {ce.point()}, mpmath confirms it (component "
                                           f"{k})" if real else "mpmath does NOT confirm the worst point"), real))
        if f.corrected is not None:
            d, _, _ = worst(f.corrected, f.context, f.key + "/corrected")
            out.corrected = d <= RTOL
            out.findings.append(Finding("numeric", "every component of the corrected vector "
                                        + ("matches" if out.corrected else "does not match") + f" {what} {where}",
                                        error=d))
        return out

    return numeric


def chain_holds(Ks: Sequence[int] = NUMERIC_K + (50,), extra=None):
    """Numeric checks of a chain of ``<`` / ``\\le`` between formulas in the logits (and the margin ``\\Delta``):
    every relation at random logits, to rounding (``\\Delta`` bound to the largest logit minus the second largest);
    ``extra(numeric, formulas)`` may add findings of its own."""
    def numeric(f: Formulas) -> Numeric:
        rels = chain(f.printed)
        out = Numeric()
        if not all(r.op in _ORDER for r in rels):
            out.printed = False
            out.findings.append(Finding("numeric", "a relation of the chain is none of $<, \\le, >, \\ge$", False))
            return out
        sides = {}

        def violation(pt: Point) -> np.ndarray:    # the largest (lhs - rhs) in units of the rounding slack, per row
            if pt.K not in sides:
                sides[pt.K] = [side_values(r, Logits(pt.K), f.context) for r in rels]
            slack = 8 * 2.0 ** -53 * (np.abs(pt.z).max(axis=1) + np.log(pt.K) + 1.0)
            return np.max([(lhs - rhs) * _ORDER[r.op] / slack
                           for r, (lhs, rhs) in zip(rels, (side(pt.z) for side in sides[pt.K]))], axis=0)
        worst = largest(violation, f.key, Ks=Ks).worst
        out.printed = worst <= 1
        ops = " ".join(_TEX_OP.get(r.op, r.op) for r in rels)
        out.findings.append(Finding("numeric", f"the chain (${ops}$) {'holds' if out.printed else 'FAILS'} at random "
                                               f"logits, $K$ up to {max(Ks)}, to rounding", error=max(worst, 0.0)))
        if extra is not None:
            extra(out, f)
        return out

    return numeric


def near_max(mp_reference, *, eps=None, Ks: Sequence[int] = NUMERIC_K, quantity: str = "loss",
             largest_logits: Sequence[float] = (-20, 0, 20), margin: float = 20.0):
    """Numeric checks of a ``\\approx`` line read as "the error vanishes as the margin of the largest logit grows":
    on ``z = (m, m - 20, m - 20)`` (``K = 3``, margin 20, ``m`` in ``largest_logits``) the printed and the corrected
    forms are evaluated in mpmath beside ``mp_reference(z, eps)``; a printed form off by more than
    ``CE_RTOL`` there is a counterexample. The corrected form must be within ``2 e^{-20}`` there, and its error
    must lie in ``(0, \\log K]`` at random logits (it is ``LSE(z) - max_j z_j``)."""
    def at(reading, ctx, z):
        return mp_value(lambda x: reading.rhs(x, ctx) if eps is None else reading.rhs(x, ctx).subs(EPS, eps), z)

    def numeric(f: Formulas) -> Numeric:
        out = Numeric()
        worst = None
        for m in largest_logits:
            z = np.array([m, m - margin, m - margin])
            p, q = at(f.printed, f.context, z), float(mp_reference(z, eps))
            if worst is None or abs(p - q) > abs(worst.printed - worst.correct):
                worst = Counterexample(quantity, p, q, K=3, z=tuple(z), note=f"margin {margin:g}",
                                       parameters={} if eps is None else {"eps": eps})
        out.printed = abs(worst.printed - worst.correct) <= CE_RTOL * max(1.0, abs(worst.correct))
        if out.printed:
            out.findings.append(Finding("numeric", f"at margin {margin:g} the printed form is within "
                                                   f"{inline(CE_RTOL, 'g')} of the exact {quantity}, whatever the "
                                                   "largest logit (mpmath, 50 digits)"))
        else:
            out.counterexample = worst
            out.findings.append(Finding("numeric", f"at {worst.point()}, the printed form is off by "
                                                   f"${abs(worst.printed - worst.correct):.3g}$ (mpmath, 50 digits)"))
        if f.corrected is not None:
            near = max(abs(at(f.corrected, f.context, np.array([m, m - margin, m - margin]))
                           - float(mp_reference(np.array([m, m - margin, m - margin]), eps))) for m in largest_logits)
            ref_numeric = _LOSS_NUMERIC

            def outside(pt: Point) -> np.ndarray:              # 1 where the error leaves (0, log K]
                exact = ref_numeric(pt.z, eps)
                approx = numeric_values(lambda x, p: f.corrected.rhs(x, f.context)
                                        if eps is None else f.corrected.rhs(x, f.context).subs(EPS, eps))(pt, pt.z)
                err = exact - approx
                slack = 1e-12 * np.maximum(1.0, np.abs(pt.z).max(axis=1))
                return ((err <= -slack) | (err > np.log(pt.K) + slack)).astype(float)
            inside = largest(outside, f.key + "/corrected", Ks=Ks).worst == 0
            loss = max(abs(float(mp_reference(np.array([m, m - margin, m - margin]), eps))) for m in largest_logits)
            out.corrected = near <= 2 * np.exp(-margin) + 8 * 2.0 ** -53 * max(1.0, loss) and inside   # + rounding
            out.findings.append(Finding("numeric", f"the corrected form is within $2e^{{-{margin:g}}}$ of the exact "
                                                   f"{quantity} at margin {margin:g}, and its error lies in "
                                                   r"$(0, \log K]$ at random logits" + ("" if out.corrected else
                                                                                       ": it does NOT")))
        return out

    return numeric


def _hard_or_smoothed_loss(z: np.ndarray, eps) -> np.ndarray:
    """The exact loss of class 1 (index 0) in the NumPy library: the hard-label loss, or the note's smoothed one."""
    from derivations.library import numeric as num
    from derivations.library import smoothing as sm

    labels = np.zeros(len(z), dtype=int)
    if eps is None:
        return num.cross_entropy_per_example(z, labels)
    return sm.smoothed_cross_entropy(z, labels, eps=float(eps), reduction="none")


_LOSS_NUMERIC = _hard_or_smoothed_loss

"""The check toolkit: turn formulas read from the note into :class:`Evidence`.

Every claim's check reads its formulas from :class:`~derivations.engine.registry.Formulas`
(parsed from the LaTeX a reader sees) and builds evidence with these pieces:

* :func:`zero`: is an expression identically zero, for a general symbolic K
  and for concrete K (and say which was proved);
* :func:`each_k`: a symbolic test for a general symbolic K and for concrete K;
* :func:`largest`: the largest value of any measure over a numeric sweep (K,
  logit scales and a parameter such as eps, or explicit cases), each cell with
  its random logits and generator seeded from a key: the one sweep loop;
* :func:`sweep`: the largest discrepancy between a formula and an independent
  NumPy reference at random logits (:func:`largest` with a lambdified formula);
* :func:`counterexample`: the worst point of such a sweep, rounded to the digits
  shown and confirmed in mpmath at 50 digits;
* :func:`equation`: the whole check of an ``=`` step: the printed formula
  against the exact expression, under an assumption if the claim names one, and
  the corrected form.

>>> from derivations.engine.notation import HARD, read
>>> from derivations.engine.registry import Formulas
>>> from derivations.engine.symbolic import cross_entropy, one_hot
>>> from derivations.library import numeric as num
>>> check = equation(lambda x: cross_entropy(x, lambda j: one_hot(x, j)),
...                  lambda z: num.cross_entropy(z, np.zeros(len(z), dtype=int)), HARD)
>>> check(Formulas(read(r"= -\\log(q_{\\theta}(y_{1}|x))"), key="doc")).holds
True
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import PoleError
from sympy.series.gruntz import gruntz

from derivations.engine.evaluation import side_values
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS, Context, Reading, evaluate
from derivations.engine.registry import Counterexample, Evidence, Formulas, Numeric
from derivations.engine.symbolic import Logits, compiled, is_zero
from derivations.engine.tex import cases, inline

__all__ = ["Assumption", "OTHERS_ZERO", "SYMBOLIC_K", "NUMERIC_K", "SCALES", "POINTS", "RTOL", "CE_RTOL",
           "rng_for", "sample_logits", "agreement", "each_k", "where", "zero", "Point", "points", "Sweep", "largest", "sweep",
           "numeric_values", "mp_value", "counterexample", "equation", "rhs_of"]

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

    Used in: the checks of chapters 1-4; zero

    >>> each_k(lambda x: x.general or x.K, Ks=(2, 3))
    {'general K': True, 'K=2': 2, 'K=3': 3}
    """
    cases = ((Logits(),) if general else ()) + tuple(Logits(K) for K in Ks)
    return {("general K" if x.general else f"K={x.K}"): test(x) for x in cases}


def where(results: dict) -> str:
    """The cases of an :func:`each_k` result, for a finding's text (:func:`derivations.engine.tex.cases`).

    Used in: the checks of chapters 1-4; zero

    >>> where({"general K": True, "K=2": True, "K=3": False})
    'general $K$ and $K = 2, 3$'
    """
    return cases(results)


def zero(diff: Formula, what: str, facts: list[Finding], general: bool = True, transform=None,
         Ks: Sequence[int] = SYMBOLIC_K) -> bool:
    """Is ``diff(x)`` identically zero, for a general K (if ``general``) and for each K in ``Ks``?

    Appends one fact saying where it was decided; a disagreement between the
    general and the concrete cases is itself a failed fact. The concrete K come
    first: when one is not zero, neither is the general case (not computed).
    Returns the general result (or the concrete one when ``general`` is False).

    Used in: equation
    """
    transform = transform or (lambda x, e: e)
    results = each_k(lambda x: is_zero(transform(x, diff(x))), general=False, Ks=Ks)
    if general:              # an identity for every K holds for each concrete K: if one fails, so does the general
        x = Logits()
        results = {"general K": all(results.values()) and is_zero(transform(x, diff(x)), force_log=True),
                   **results}
    same = len(set(results.values())) == 1
    value = results.get("general K", all(results.values()))
    if same:
        text = f"{what}: {'zero' if value else 'not zero'} ({where(results)})"
    else:
        text = f"{what}: general and concrete $K$ disagree: " + ", ".join(
            f"{cases({k: v})} {'zero' if v else 'not zero'}" for k, v in results.items())
    facts.append(Finding("symbolic", text, same))
    return value


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

    Used in: the checks of chapters 1, 2, 3; sweep

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

    Used in: sweep, approximation

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

    Used in: counterexample, equation, vector_equation
    """
    at = numeric_values(formula)

    def measure(pt: Point) -> np.ndarray:
        z = pt.z if restrict is None else restrict(pt.z)
        return agreement(at(pt, z), reference(z, pt.param))

    s = largest(measure, key, Ks, scales, params)
    return s if restrict is None or s.z is None else Sweep(s.worst, restrict(s.z[None])[0], s.K, s.param)


def mp_value(formula: Formula, z: np.ndarray) -> float:
    """``formula`` at logits ``z`` in mpmath, 50 digits.

    Used in: the checks of chapter 3; counterexample, approximation
    """
    x = Logits(len(z))
    f = compiled(x.symbols, formula(x), "mpmath")
    with mpmath.workdps(50):
        return float(f(*[mpmath.mpf(float(v)) for v in z]))


def counterexample(printed, exact, reference, key: str, facts: list[Finding], params: Sequence = (None,),
                   quantity: str = "value of the line", parameter: str = "eps"):
    """The worst point of a :func:`sweep` of ``printed`` against ``reference``, confirmed in mpmath.

    The point is rounded to the three digits it is shown with, so a reader can
    recompute it. Appends a fact; returns the :class:`Counterexample` or ``None``.

    Used in: equation
    """
    s = sweep(printed, reference, key + "/counterexample", params=params)
    if s.worst <= CE_RTOL:
        facts.append(Finding("numeric", f"no counterexample found (largest discrepancy {inline(s.worst, '.2g')})", False,
                             error=s.worst))
        return None
    z = np.array([float(f"{v:.3g}") for v in s.z])
    p, q = mp_value(lambda x: printed(x, s.param), z), mp_value(lambda x: exact(x, s.param), z)
    real = abs(p - q) > CE_RTOL * max(1.0, abs(q))
    ce = Counterexample(quantity, p, q, K=len(z), z=tuple(float(v) for v in z),
                        parameters={} if s.param is None else {parameter: s.param})
    facts.append(Finding("numeric", f"counterexample at {ce.point()} confirmed in mpmath", real))
    return ce


def rhs_of(reading: Reading, ctx: Context, part: int = 0) -> Callable:
    """The right-hand side of relation ``part`` of a reading, as ``(x, eps) -> expression``.

    ``eps`` (a number or ``None``) is substituted for the note's epsilon.

    Used in: equation, approximation
    """
    def f(x, eps=None):
        e = reading.rhs(x, ctx, part)
        return e if eps is None else e.subs(EPS, eps)
    return f


def equation(exact, reference, ctx: Context, assumption: Assumption | None = None, general: bool = True,
             eps_values: Sequence | None = None, eps_counterexample=sp.Rational(1, 10),
             quantity: str = "value of the line") -> Callable[[Formulas], Evidence]:
    """A check for an ``=`` step: the printed right-hand side against ``exact``.

    ``exact(x)`` is the quantity derived from the definitions (SymPy, may contain
    the note's epsilon); ``reference(z)`` (or ``reference(z, eps)`` with
    ``eps_values``) computes it with the NumPy library for logits ``z`` of shape
    ``(n, K)``. With ``eps_values`` the numeric checks sweep eps and the
    counterexample is sought at ``eps_counterexample``. ``assumption`` mirrors
    the claim's; the corrected form, when the claim gives one, must equal
    ``exact``. ``general=False`` skips the general-K symbolic check.

    Used in: the checks of chapters 1, 2
    """
    def ex(x, eps=None):
        return (exact(x) if eps is None else exact(x).subs(EPS, eps))
    ref = reference if eps_values else (lambda z, eps=None: reference(z))
    params = tuple(eps_values) if eps_values else (None,)
    where = (r", $\epsilon \in \{" + ", ".join(sp.latex(v) for v in params) + r"\}$") if eps_values else ""

    def check(f: Formulas) -> Evidence:
        facts: list[Finding] = []
        printed = rhs_of(f.printed, ctx)
        holds = zero(lambda x: printed(x) - ex(x), "printed minus exact" + (r", symbolic $\epsilon$" if eps_values else ""),
                     facts, general)
        if f.printed.relation().lhs is not None:           # a left-hand side must name the same quantity
            left = lambda x: f.printed.lhs(x, ctx)          # noqa: E731
            holds = zero(lambda x: left(x) - ex(x), "printed left-hand side minus exact", facts, general) and holds
        ev = Evidence(holds=holds, findings=facts)
        if holds:
            d = sweep(printed, ref, f.key + "/agree", params=params).worst
            facts.append(Finding("numeric", f"printed form matches NumPy at random logits{where} (relative tolerance "
                                            f"{inline(RTOL, 'g')})", d <= RTOL, error=d))
            return ev
        ce_params = (eps_counterexample,) if eps_values else (None,)
        ev.counterexample = counterexample(printed, ex, ref, f.key, facts, params=ce_params, quantity=quantity)
        if assumption is not None:
            ev.holds_under = zero(lambda x: printed(x) - ex(x), "printed minus exact under the assumption", facts,
                                  general, transform=assumption.apply)
            if ev.holds_under:
                d = sweep(printed, ref, f.key + "/assumed", restrict=assumption.restrict, params=params).worst
                facts.append(Finding("numeric", "under the assumption, printed form matches NumPy "
                                  f"(relative tolerance {inline(RTOL, 'g')})", d <= RTOL, error=d))
        if f.corrected is not None:
            corrected = rhs_of(f.corrected, ctx)
            ok = zero(lambda x: corrected(x) - ex(x), "corrected minus exact", facts, general)
            d = sweep(corrected, ref, f.key + "/corrected", params=params).worst
            facts.append(Finding("numeric", "corrected form matches NumPy at random logits (relative tolerance "
                                            f"{inline(RTOL, 'g')})", d <= RTOL, error=d))
            ev.corrected_ok = ok and d <= RTOL
        return ev

    return check


# -- vectors: (A, \cdots, B) --------------------------------------------------------------------------
#: A class index for a general component of a vector, j >= 2 (distinct from every summation index).
COMPONENT = sp.Symbol("c", integer=True, positive=True)


def vector_equation(exact_component, reference_component, ctx: Context) -> Callable[[Formulas], Evidence]:
    """A check for ``q = (A, \\cdots, B)``: every component against ``exact_component(x, j)``.

    Symbolically for a general K (component 1 and a general component ``c >= 2``)
    and for concrete K (every component); numerically component by component
    against ``reference_component(z, j)`` (0-based ``j``).

    Used in: the checks of chapter 1
    """
    def check(f: Formulas) -> Evidence:
        facts: list[Finding] = []
        vec = lambda x: f.printed.rhs(x, ctx)                                     # noqa: E731
        g = Logits()
        general = [is_zero(vec(g).component(1) - exact_component(g, 1), force_log=True),
                   is_zero(vec(g).component(COMPONENT) - exact_component(g, COMPONENT), force_log=True)]
        concrete = [is_zero(vec(Logits(K)).component(j) - exact_component(Logits(K), j))
                    for K in SYMBOLIC_K for j in range(1, K + 1)]
        holds = all(general) and all(concrete)
        facts.append(Finding("symbolic", r"component 1 and a general component $c \ge 2$ equal the exact ones (general "
                                      f"$K$), and every component for $K = {', '.join(map(str, SYMBOLIC_K))}$"
                          + ("" if holds else ": NOT all"), all(general) == all(concrete)))
        worst = 0.0
        for j in range(1, max(NUMERIC_K) + 1):
            Ks = [K for K in NUMERIC_K if K >= j]
            s = sweep(lambda x, p, j=j: vec(x).component(j), lambda z, p, j=j: reference_component(z, j - 1),
                      f"{f.key}/component{j}", Ks=Ks)
            worst = max(worst, s.worst)
        facts.append(Finding("numeric", "every component matches NumPy at random logits (relative tolerance "
                                        f"{inline(RTOL, 'g')})", (worst <= RTOL) == holds, error=worst))
        return Evidence(holds=holds, findings=facts)

    return check


# -- approximations: "≈" in the regime where LSE ~ max ------------------------------------------------
_T = sp.Symbol("t", positive=True)
#: One representative of each sign of the largest logit m (the limits are taken symbolically in m).
_M_SIGNS = (sp.Symbol("m", negative=True), sp.Integer(0), sp.Symbol("m", positive=True))
APPROX_K = (2, 3)


def margin_family(x: Logits, m, t=_T) -> dict:
    """``z_1 = m``, ``z_j = m - Delta`` (``j >= 2``) with margin ``Delta = 2|m| + 1 + t``: as ``t -> oo`` the margin
    grows without bound, and every max, min and absolute value on the family has a known sign.

    Used in: vanishing_error
    """
    d = 2 * sp.Abs(m) + 1 + t
    return {x.z(1): m, **{x.z(j): m - d for j in range(2, x.K + 1)}}


@lru_cache(maxsize=4096)
def margin_limit(error):
    """The limit of ``error`` (an expression in the margin family's ``t``) as ``t -> oo``.

    Every logarithm on the family is of a positive quantity (a sum of exponentials, a probability),
    so expanding logarithms with ``force=True`` is exact; it lets Gruntz's algorithm see the
    exponentials directly (4x faster than :func:`sympy.simplify` first). Cached twice: the same error
    recurs across the mutants of one claim, and different errors expand to the same expression
    (line 7 of chapter 2 against line 6, the corrected forms of chapters 1 and 2): the limit of an
    expanded error is taken once.

    Used in: vanishing_error

    >>> m = sp.Symbol("m", positive=True)
    >>> margin_limit(sp.log(sp.exp(m) + sp.exp(m - _T)) - m)
    0
    """
    return _limit_at_infinity(sp.expand(sp.expand_log(error, force=True)))


@lru_cache(maxsize=4096)
def _limit_at_infinity(e):
    """``limit(e, t, oo)``. An expression built of exponentials, logarithms, powers and exact numbers goes
    straight to Gruntz's algorithm, which :func:`sympy.limit` reaches too for these after trying series
    expansions that do not apply to them (twice as fast); anything else (absolute values, signs, floats), or
    a breakdown of Gruntz's algorithm (an exception, NaN), is left to :func:`sympy.limit` itself.

    >>> _limit_at_infinity(-_T + sp.log(1 + sp.exp(-_T)) + sp.log(sp.exp(_T)))
    0
    """
    if not e.has(sp.Float) and all(isinstance(f, (sp.exp, sp.log)) for f in e.atoms(sp.Function)):
        try:
            r = gruntz(e, _T, sp.oo)
        except (NotImplementedError, ValueError, PoleError):
            r = None
        if r is not None and not r.has(sp.nan, sp.zoo, sp.Limit):
            return r
    return sp.limit(e, _T, sp.oo)


def vanishing_error(exact, approx, eps_values=(None,)) -> tuple[bool, list]:
    """Does ``exact(x, eps) - approx(x, eps)`` tend to 0 as the margin grows, for every sign of m, K and eps?

    The limit is taken once with eps a symbol and then evaluated at each value; where that is not a
    definite number (``oo * sign(0)``, say: the generic limit does not apply at this eps), the limit is
    taken again at the value itself. Returns the verdict and the distinct limits found.

    Used in: approximation
    """
    limits = []
    symbolic = any(e is not None for e in eps_values)
    for K in APPROX_K:
        x = Logits(K)
        generic = exact(x, EPS) - approx(x, EPS) if symbolic else None
        for m in _M_SIGNS:
            at_m = margin_limit(generic.subs(margin_family(x, m))) if symbolic else None
            for e in eps_values:
                value = at_m.subs(EPS, e) if symbolic and e is not None else None
                if value is None or value.has(sp.nan, sp.zoo) or not value.is_number:
                    value = margin_limit((exact(x, e) - approx(x, e)).subs(margin_family(x, m)))
                limits.append(value)
    distinct = sorted(set(limits), key=str)
    return all(v == 0 for v in limits), distinct


def approximation(exact, reference, ctx: Context, eps_values=None, quantity: str = "loss", extra=None,
                  ce_largest: Sequence[float] = (-20, 0, 20), ce_note: str = "margin 20"):
    """A check for a ``≈`` line, read as: the error vanishes where LSE(z) ~ max_j z_j, i.e. as the margin between
    the largest logit and the others grows without bound, for every value of the largest logit.

    The line holds when its error vanishes there (symbolically, K in :data:`APPROX_K`, each sign of the
    largest logit m, each eps); otherwise the counterexample is the family point (margin 20, m in
    ``ce_largest``, K = 3) where the printed side is furthest from the exact one, in mpmath, with
    ``ce_note`` said of it. The corrected
    form must vanish likewise, and its error must lie in (0, log K] at random logits. ``extra(facts,
    formulas)`` may add facts; they must hold too.

    Used in: the checks of chapters 1, 2
    """
    def ex(x, eps=None):
        return (exact(x) if eps is None else exact(x).subs(EPS, eps))
    ce_eps = sp.Rational(1, 10) if eps_values else None
    values = tuple(eps_values) if eps_values else (None,)

    def check(f: Formulas) -> Evidence:
        facts: list[Finding] = []
        printed = rhs_of(f.printed, ctx)
        holds, limits = vanishing_error(ex, printed, values)
        facts.append(Finding("symbolic", "printed: exact minus printed tends to $" + ", ".join(map(sp.latex, limits))
                          + f"$ as the margin grows ($K = {', '.join(map(str, APPROX_K))}$, every sign of the largest "
                          "logit" + (r", $\epsilon \in \{" + ", ".join(map(sp.latex, values)) + r"\}$)" if eps_values else ")"),
                          True))
        ev = Evidence(holds=holds, findings=facts)
        if not holds:
            best = None
            for m in ce_largest:
                z = np.array([m, m - 20.0, m - 20.0])
                p = mp_value(lambda x: printed(x, ce_eps), z)
                q = mp_value(lambda x: ex(x, ce_eps), z)
                if best is None or abs(p - q) > abs(best.printed - best.correct):
                    best = Counterexample(quantity, p, q, K=3, z=tuple(z), note=ce_note,
                                          parameters={"eps": ce_eps} if eps_values else {})
            facts.append(Finding("numeric", f"counterexample at {best.point()} confirmed in mpmath",
                              abs(best.printed - best.correct) > CE_RTOL * max(1.0, abs(best.correct))))
            ev.counterexample = best
        if f.corrected is not None:
            corrected = rhs_of(f.corrected, ctx)
            ok, climits = vanishing_error(ex, corrected, values)
            facts.append(Finding("symbolic", "corrected: exact minus corrected tends to $" + ", ".join(map(sp.latex, climits))
                              + "$ as the margin grows", ok))
            at = numeric_values(corrected)

            def outside(pt: Point) -> np.ndarray:              # 1 where the error leaves (0, log K]
                err = reference(pt.z, pt.param) - at(pt, pt.z)
                slack = 1e-12 * np.maximum(1.0, np.abs(pt.z).max(axis=1))
                return ((err <= -slack) | (err > np.log(pt.K) + slack)).astype(float)
            inside = largest(outside, f.key + "/corrected", params=values).worst == 0
            facts.append(Finding("numeric", r"the corrected form's error lies in $(0, \log K]$ at random logits (it is "
                                         r"$\mathrm{LSE}(z) - \max_j z_j$, bounded in chapter 1)", inside))
            ev.corrected_ok = ok and inside
        if extra is not None:
            extra(facts, f)
        return ev

    return check


# -- inequality chains: a < b <= c ----------------------------------------------------------------------


def chain(reading: Reading) -> list:
    """The relations of a reading's first part, a chain ``a < b <= c`` flattened into ``[a < b, b <= c]``.

    Used in: the checks of chapter 1; inequalities
    """
    rel = reading.relation()
    return list(rel.rhs.args) if rel.op == "chain" else [rel]


@dataclass(frozen=True)
class Attained:
    """Where relation ``index`` of a chain holds with equality: ``config(x)`` substitutes the logits (and Delta)."""

    what: str
    index: int
    config: Callable
    Ks: tuple = SYMBOLIC_K


def inequalities(ctx: Context, attained: Sequence[Attained] = (), extra=None,
                 Ks: Sequence[int] = NUMERIC_K + (50,)) -> Callable[[Formulas], Evidence]:
    """A check for a chain of ``<`` / ``<=`` between formulas in the logits (and the margin ``\\Delta``).

    Every relation is checked at random logits (``\\Delta`` bound to the largest logit minus the second
    largest), with a rounding slack; each :class:`Attained` case must make its relation an equality,
    symbolically. ``extra(facts, formulas)`` may add facts (e.g. a proof for a general K); they count too.

    Used in: the checks of chapter 1
    """
    def check(f: Formulas) -> Evidence:
        facts: list[Finding] = []
        rels = chain(f.printed)
        known = all(r.op in _ORDER for r in rels)
        facts.append(Finding("symbolic", r"every relation is one of $<, \le, >, \ge$ ($" + " ".join(_TEX_OP.get(r.op, r.op)
                                                                                                 for r in rels) + "$)",
                          known))
        sides = {}

        def violation(pt: Point) -> np.ndarray:    # the largest (lhs - rhs) in units of the rounding slack, per row
            if pt.K not in sides:
                sides[pt.K] = [side_values(r, Logits(pt.K), ctx) for r in rels]
            slack = 8 * 2.0 ** -53 * (np.abs(pt.z).max(axis=1) + np.log(pt.K) + 1.0)
            return np.max([(lhs - rhs) * _ORDER[r.op] / slack                  # <= 0 wherever the relation holds
                           for r, (lhs, rhs) in zip(rels, (side(pt.z) for side in sides[pt.K]))], axis=0)
        worst = largest(violation, f.key, Ks=Ks).worst if known else 0.0
        ops = " ".join(_TEX_OP.get(r.op, r.op) for r in rels)
        facts.append(Finding("numeric", f"the chain (${ops}$) holds at random logits, $K$ up to {max(Ks)}, to rounding",
                          worst <= 1, error=max(worst, 0.0)))
        for a in attained:
            def equality(x: Logits, r=rels[a.index], a=a) -> bool:
                d = (_side(r.rhs, x, ctx) - _side(r.lhs, x, ctx)).subs(a.config(x))
                return is_zero(sp.expand_log(d, force=True)) or sp.simplify(sp.exp(d)) == 1
            cases = each_k(equality, general=False, Ks=a.Ks)
            facts.append(Finding("symbolic", f"relation {a.index + 1} is an equality {a.what} ({where(cases)})",
                              all(cases.values())))
            strict = rels[a.index].op in ("<", ">")
            facts.append(Finding("symbolic", f"relation {a.index + 1} is attained, so it is stated with "
                                          + ("a strict sign: wrong" if strict else r"$\le$ or $\ge$"), not strict))
        if extra is not None:
            extra(facts, f)
        return Evidence(holds=all(fact.ok for fact in facts), findings=facts)

    return check


#: The sign that makes ``lhs - rhs`` non-positive where a relation holds.
_ORDER = {"<": 1, "<=": 1, ">": -1, ">=": -1}
#: Relations as LaTeX.
_TEX_OP = {"<=": r"\le", ">=": r"\ge", "!=": r"\ne"}


def _side(node, x, ctx):
    return evaluate(node, x, ctx, {})


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
    >>> check = against(lambda z, p: num.cross_entropy(z, np.zeros(len(z), dtype=int)),
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


def components_against(reference_component, Ks: Sequence[int] = NUMERIC_K):
    """Numeric checks of a vector ``(A, \\cdots, B)``: every component of the printed vector (and of the corrected
    one), at random logits, against ``reference_component(z, j)`` (``j`` 0-based), for each K of ``Ks``."""
    def worst(reading, ctx, key) -> float:
        out = 0.0
        for j in range(1, max(Ks) + 1):
            s = sweep(lambda x, p, j=j: reading.rhs(x, ctx).component(j),
                      lambda z, p, j=j: reference_component(z, j - 1), f"{key}/component{j}", Ks=[K for K in Ks if K >= j])
            out = max(out, s.worst)
        return out

    def numeric(f: Formulas) -> Numeric:
        out = Numeric()
        d = worst(f.printed, f.context, f.key)
        out.printed = d <= RTOL
        out.findings.append(Finding("numeric", "every component of the printed vector "
                                    + ("matches" if out.printed else "does not match")
                                    + f" the NumPy softmax at random logits, $K$ up to {max(Ks)} (relative tolerance "
                                      f"{inline(RTOL, 'g')})", error=d))
        if f.corrected is not None:
            d = worst(f.corrected, f.context, f.key + "/corrected")
            out.corrected = d <= RTOL
            out.findings.append(Finding("numeric", "every component of the corrected vector "
                                        + ("matches" if out.corrected else "does not match")
                                        + " the NumPy softmax at random logits", error=d))
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
        return num.cross_entropy(z, labels)
    return sm.smoothed_cross_entropy(z, labels, eps=float(eps), reduction="none")


_LOSS_NUMERIC = _hard_or_smoothed_loss

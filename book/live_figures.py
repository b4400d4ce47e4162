"""The live figures' formulas: JavaScript generated from the registered, verified SymPy expressions.

    python -m book.live_figures [OUT.js]      # write the file (default: the cache, build/live/)

Every number a live figure of the book computes comes from here. For each quantity (:data:`QUANTITIES`)
the formula flows from the registry to the page in five steps, each checked in SymPy:

1. **Read.** The claim's LaTeX, read by :mod:`derivations.engine.notation` (``claim.formulas()``), is
   evaluated on the figure's family of logits (:class:`Family`: class 1, then class 2, given; every other class
   at one common value) for a general symbolic ``K``: a sum over the classes collapses to its first terms plus
   ``K - n`` times the term of a generic other class; ``\\max_j`` is the largest of the family's values.
2. **Checked against the registered expression.** At ``K = 2..5`` the claim, evaluated as its own check
   evaluates it (concrete logits ``z_1 .. z_K``) and then put on the family, must equal the reduced expression
   at that ``K`` (:func:`derivations.engine.symbolic.is_zero`), else the build stops.
3. **A numerically stable form.** A logarithm of a sum of exponentials is written as the library writes it
   (:func:`derivations.library.numeric.lse_parts`): the largest term taken out and ``log1p`` of the rest,
   where the largest term is decided by the signs of the parameters (a ``Piecewise`` on the sign of the logit
   gap where it changes); ``log(1 + t)`` of a single term ``t`` becomes ``log1p(t)``; a logarithm of a
   product of nonnegative factors becomes the sum of their logarithms (``(K-1)/eps`` overflows at
   ``eps = 1e-310``, its logarithm does not); the terms free of logarithms are factored. The stable form must
   equal the reduced one, branch by branch.
4. **Edges.** Where the stable form, evaluated in floating point, has no value at ``eps = 0`` or ``eps = 1``
   (``0 log 0``), the reduced expression's one-sided limit there (SymPy's ``limit``) becomes a ``Piecewise``
   branch: the continuous extension, no ``NaN``. Infinite limits (the optimal gap at ``eps = 0``) stay
   infinite (``Infinity`` in JavaScript); the figure says in words what they mean. A quantity of ``K`` and
   ``eps`` also gets its value at the uniform point ``eps = (K-1)/K`` exactly (``F.at_uniform``: the optimal
   gap 0, the loss variance at the optimum 0), which no double argument gives.
5. **Printed** by SymPy's :class:`~sympy.printing.jscode.JavascriptCodePrinter` (``log1p`` as ``Math.log1p``)
   into one file of functions, ``window.LiveFormulas``, with, for each function, its claim, its arguments,
   the family it is evaluated on, and the SymPy expression as text; and each chapter's defaults and largest
   ``K`` (read from the chapter's ``CHAPTER``).

The figures' runtime (``book/_static/live.js``: sliders, number inputs, SVG) holds no formula: it calls these
functions. The browser test (``tests/test_site.py``) compares what they return in Chromium with
:func:`reference`, the same expressions evaluated by mpmath at 50 digits, at random and edge points, and with
the library's NumPy functions (an implementation of its own).

The file is generated once per set of sources (the cache key: this module, the engine, the claims of
chapters 1-3 and SymPy's version) into ``build/live/``; ``book/builder.py`` copies it into the site's
``_static`` folder.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.printing.jscode import JavascriptCodePrinter

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["Family", "Quantity", "QUANTITIES", "SYMBOLS", "FIGURE_CHAPTERS", "UNIFORM", "Generated", "generate",
           "derive", "javascript", "reference", "reference_at_uniform", "ensure", "ReductionError", "main"]

#: The chapters whose live figures read these formulas (their defaults and largest K go into the file).
FIGURE_CHAPTERS = (1, 2, 3)
#: The K at which a reduction is checked against the claim evaluated with concrete logits (no other class after
#: the given ones, one, and more).
CHECK_KS = (2, 3, 4, 5)

# -- the symbols of the generated functions (their JavaScript argument names) ---------------------------------
K = sp.Symbol("K", integer=True, positive=True)          # the notation's general K (Logits().K)
#: Every argument a generated function may take, by name: the name is the JavaScript argument's.
SYMBOLS: dict[str, sp.Symbol] = {
    "K": K,
    "epsilon": sp.Symbol("epsilon", nonnegative=True),     # eps in [0, 1]: 0 included (the notation's EPS is > 0)
    "alpha": sp.Symbol("alpha", nonnegative=True),         # the frameworks' alpha in [0, 1]
    "Delta": sp.Symbol("Delta", nonnegative=True),         # the logit margin: largest minus second largest
    "s": sp.Symbol("s", nonnegative=True),                 # how far the other logits lie below the second largest
    "g": sp.Symbol("g", real=True),                        # the logit gap z_1 - z_j
    "m": sp.Symbol("m", real=True),                        # the true class's logit, the others at 0
}
#: What the symbols of a claim's expression are renamed to (by name): the notation makes ``epsilon`` positive,
#: reads ``\Delta`` and ``\alpha`` without assumptions.
_BY_NAME = {"epsilon": "epsilon", "alpha": "alpha", "Delta": "Delta", "K": "K"}


class ReductionError(ValueError):
    """A reduced, edged or stable form that SymPy does not find equal to the registered expression."""


class Family:
    """The logits of a figure, for a general symbolic ``K``: classes ``1..n`` given, every other class at ``rest``.

    It offers what :func:`derivations.engine.notation.evaluate` asks of a
    :class:`~derivations.engine.symbolic.Logits` (``K``, ``general``, ``z(j)``, ``sum(f, start)``). A sum over
    the classes is its first terms plus ``K - n`` times its term at a generic class ``c > n``, where
    ``[c = j] = 0`` for ``j <= n``: exact, as every class after ``n`` has the same logit (the reduction is
    checked against concrete K all the same, :func:`derive`).

    >>> f = Family(SYMBOLS["g"], rest=0)
    >>> f.sum(lambda j: sp.exp(f.z(j)))
    K + exp(g) - 1
    """

    general = True

    def __init__(self, *leading, rest=0):
        self.K = K
        self.leading = tuple(sp.sympify(v) for v in leading)
        self.rest = sp.sympify(rest)
        self.c = sp.Dummy("c", integer=True, positive=True)       # a generic class after the given ones

    def z(self, j):
        """The logit of class ``j``: given, or ``rest``."""
        if j == self.c:
            return self.rest
        if isinstance(j, (int, sp.Integer)):
            return self.leading[int(j) - 1] if int(j) <= len(self.leading) else self.rest
        raise ValueError(f"the family has no logit for the class {j}")

    def at_generic(self, expr):
        """``expr`` at the generic class ``c > n``: ``[c = j] = 0`` for every given class ``j``; free of ``c``."""
        n = len(self.leading)
        e = sp.sympify(expr).subs({d: 0 for k in range(1, n + 1)
                                   for d in (sp.KroneckerDelta(self.c, k), sp.KroneckerDelta(k, self.c))})
        if e.has(self.c):                          # e.g. eps (c-1)/(K-1) - eps (c-2)/(K-1): expanded, c cancels
            e = e.replace(lambda a: a.is_Add and a.has(self.c), sp.expand)
        if e.has(self.c):
            raise ValueError(f"the term depends on its class beyond its logit: {e}")
        return e

    def sum(self, f: Callable, start: int = 1):
        """``sum_{j=start}^{K} f(j)`` on the family."""
        n = len(self.leading)
        head = sp.Add(*[f(j) for j in range(start, n + 1)])
        return head + (self.K - max(n, start - 1)) * self.at_generic(f(self.c))

    def values(self, k: int) -> list:
        """The K = ``k`` logits of the family."""
        return [self.z(j) for j in range(1, k + 1)]


@dataclass(frozen=True)
class Quantity:
    """One generated function: what it computes, from which claim, on which logits.

    ``pick(formulas, x, ctx, j)`` returns the SymPy expression from the claim's :class:`Formulas` read on the
    logits ``x`` (a :class:`Family`, or concrete :class:`~derivations.engine.symbolic.Logits`), at class ``j``
    when ``per_class`` is ``1`` or ``"other"``. ``family`` gives the family's values as functions of
    :data:`SYMBOLS` (``None``: the quantity reads no logit). ``sign`` names an argument whose sign decides
    which term of a log-sum-exp is the largest (one stable form per sign). ``substitute`` composes: an argument
    replaced by another quantity's expression (the frameworks' target is the note's at ``eps(alpha)``).
    """

    name: str
    chapter: int
    claim: str
    part: str                                   # which part of the claim, in words ("right-hand side, relation 2")
    what: str                                   # what the number is, one line (shown as the function's title)
    args: tuple[str, ...]
    pick: Callable
    context: str = "SOFT"
    family: tuple | None = None                 # (leading values..., rest) in terms of SYMBOLS
    per_class: object = None                    # None, 1 (the true class) or "other"
    sign: str | None = None
    substitute: dict = field(default_factory=dict)   # argument -> expression of other arguments (composition)


def _evaluate(node, x, ctx, bind: dict):
    """:func:`derivations.engine.notation.evaluate`, where on a :class:`Family` an extremum over the classes
    (``\\max_j``, which the notation reads for a concrete K only) is the extremum of the family's values."""
    from derivations.engine.notation import Node, evaluate

    if not isinstance(x, Family):
        return evaluate(node, x, ctx, bind)
    found: dict = {}

    def without_extrema(n):
        if isinstance(n, Node) and n.kind in ("max", "min"):
            var, body = n.args
            name = var.args[0]
            values = [evaluate(body, x, ctx, {**bind, name: j}) for j in range(1, len(x.leading) + 1)]
            values.append(x.at_generic(evaluate(body, x, ctx, {**bind, name: x.c})))
            key = f"__extremum{len(found)}"
            found[key] = (sp.Max if n.kind == "max" else sp.Min)(*values)
            return Node("var", (key,))
        if isinstance(n, Node):
            return Node(n.kind, tuple(without_extrema(a) for a in n.args))
        if isinstance(n, tuple):
            return tuple(without_extrema(a) for a in n)
        return n
    return evaluate(without_extrema(node), x, ctx, {**bind, **found})


def _rel(side: str, i: int = 0):
    """Side ``"lhs"`` or ``"rhs"`` of relation ``i`` of the printed formula."""
    def pick(f, x, ctx, j=None):
        bind = {} if j is None else {"j": j}
        return _evaluate(getattr(f.printed.relation(i), side), x, ctx, bind)
    return pick


def _chain(step: int, side: str):
    """``side`` of step ``step`` of a chain of relations (``a <= b <= c``: steps 0 and 1)."""
    def pick(f, x, ctx, j=None):
        rel = f.printed.relation()
        steps = list(rel.rhs.args) if rel.op == "chain" else [rel]
        return _evaluate(getattr(steps[step], side), x, ctx, {})
    return pick


def _chain_span(f, x, ctx, j=None):
    """The last right-hand side minus the first left-hand side of a chain: how wide the chain's range is."""
    return _chain(-1, "rhs")(f, x, ctx) - _chain(0, "lhs")(f, x, ctx)


def _solved_for_eps(f, x, ctx, j=None):
    """The eps at which the right-hand side of relation 0 vanishes (the only root, else an error): a real ``r``
    vanishes where ``exp(r) = 1``, which SymPy solves at once for a logarithm (``log`` of a rational function)."""
    from derivations.engine.notation import EPS

    roots = sp.solve(sp.exp(f.printed.rhs(x, ctx, 0)) - 1, EPS)
    if len(roots) != 1:
        raise ReductionError(f"expected one eps where the expression vanishes; got {roots}")
    return roots[0]


_S = SYMBOLS
#: The generated functions, by figure. Families put the largest logit first where they can (Family docs).
QUANTITIES: tuple[Quantity, ...] = (
    # chapter 1: LSE - max against the margin, between its bounds
    Quantity("ch1_error", 1, "ch1.margin_error", "the middle of the chain",
             "LSE(z) - max_j z_j on z = (0, -Delta, -Delta - s, ..., -Delta - s)", ("K", "Delta", "s"),
             _chain(0, "rhs"), "HARD", family=(0, -_S["Delta"], -_S["Delta"] - _S["s"])),
    Quantity("ch1_lower", 1, "ch1.margin_error", "the left end of the chain",
             "the lower bound log(1 + exp(-Delta))", ("K", "Delta"), _chain(0, "lhs"), "HARD"),
    Quantity("ch1_upper", 1, "ch1.margin_error", "the right end of the chain",
             "the upper bound log(1 + (K-1) exp(-Delta))", ("K", "Delta"), _chain(1, "rhs"), "HARD"),
    Quantity("ch1_log_k", 1, "ch1.lse_bounds", "the right end minus the left end of the chain",
             "the largest error of LSE ~ max at any logits, log K", ("K",), _chain_span, "HARD",
             family=(0, -_S["Delta"], -_S["Delta"] - _S["s"])),
    # chapter 2: the soft target beside the frameworks', the smoothed loss along the gap, the optimum
    Quantity("ch2_target_true", 2, "ch2.soft_target", "the right-hand side at j = 1",
             "the note's target on the true class", ("K", "epsilon"), _rel("rhs"), per_class=1),
    Quantity("ch2_target_other", 2, "ch2.soft_target", "the right-hand side at j > 1",
             "the note's target on each other class", ("K", "epsilon"), _rel("rhs"), per_class="other"),
    Quantity("ch2_alpha_of_eps", 2, "ch2.conventions", "the right-hand side of relation 2",
             "the frameworks' alpha that gives the note's target at eps", ("K", "epsilon"), _rel("rhs", 1)),
    Quantity("ch2_eps_of_alpha", 2, "ch2.conventions", "the right-hand side of relation 1",
             "the note's eps whose target the frameworks' alpha gives", ("K", "alpha"), _rel("rhs", 0)),
    Quantity("ch2_framework_true", 2, "ch2.soft_target", "the right-hand side at j = 1, eps = eps(alpha) of "
             "ch2.conventions", "the frameworks' target (1 - alpha) onehot + alpha/K on the true class",
             ("K", "alpha"), _rel("rhs"), per_class=1, substitute={"epsilon": "ch2_eps_of_alpha"}),
    Quantity("ch2_framework_other", 2, "ch2.soft_target", "the right-hand side at j > 1, eps = eps(alpha) of "
             "ch2.conventions", "the frameworks' target on each other class", ("K", "alpha"), _rel("rhs"),
             per_class="other", substitute={"epsilon": "ch2_eps_of_alpha"}),
    Quantity("ch2_loss", 2, "ch2.closed_form", "the right-hand side",
             "the smoothed loss on z = (g, 0, ..., 0)", ("K", "epsilon", "g"), _rel("rhs"),
             family=(_S["g"], 0), sign="g"),
    Quantity("ch2_hard_loss", 2, "ch2.hard_no_minimiser", "the first right-hand side of the chain",
             "the hard-label loss on z = (g, 0, ..., 0)", ("K", "g"), _chain(0, "rhs"),
             family=(_S["g"], 0), sign="g"),
    Quantity("ch2_opt_gap", 2, "ch2.optimum", "the right-hand side of relation 1",
             "the optimal logit gap", ("K", "epsilon"), _rel("rhs", 0)),
    Quantity("ch2_min_loss", 2, "ch2.optimum", "the right-hand side of relation 2",
             "the minimum of the smoothed loss (the target's entropy)", ("K", "epsilon"), _rel("rhs", 1)),
    Quantity("ch2_uniform_eps", 2, "ch2.optimum", "the root in eps of relation 1's right-hand side",
             "the eps of the uniform target, where the optimal gap is 0", ("K",), _solved_for_eps),
    # chapter 3: the flipped label's distribution, the noise flipping adds
    Quantity("ch3_flip_true", 3, "ch3.flip_distribution", "the right-hand side at j = 1",
             "Pr(y = 1|x): the flipped label is the true one", ("K", "epsilon"), _rel("rhs"), "FLIP", per_class=1),
    Quantity("ch3_flip_other", 3, "ch3.flip_distribution", "the right-hand side at j > 1",
             "Pr(y = j|x) for each other class", ("K", "epsilon"), _rel("rhs"), "FLIP", per_class="other"),
    Quantity("ch3_flip_away", 3, "ch3.flip_probability", "the right-hand side",
             "Pr(y != 1|x): the label is flipped", ("K", "epsilon"), _rel("rhs"), "FLIP"),
    Quantity("ch3_loss_variance", 3, "ch3.loss_variance", "the right-hand side",
             "the variance of the flipped loss on z = (m, 0, ..., 0)", ("K", "epsilon", "m"), _rel("rhs"), "FLIP",
             family=(_S["m"], 0)),
    Quantity("ch3_optimum_variance", 3, "ch3.optimum_noise", "the right-hand side of relation 3",
             "the variance of the flipped loss at the smoothed optimum", ("K", "epsilon"), _rel("rhs", 2), "FLIP"),
    Quantity("ch3_gradient_trace", 3, "ch3.gradient_covariance", "the right-hand side of relation 2",
             "the trace of the flipped gradient's covariance (any logits)", ("K", "epsilon"), _rel("rhs", 1), "FLIP"),
)


def _context(name: str):
    from derivations.engine import notation

    if name == "FLIP":
        from derivations.chapters.ch3.claims import FLIP

        return FLIP
    return getattr(notation, name)


def _renamed(expr):
    """The claim's symbols renamed to :data:`SYMBOLS` (by name); any other free symbol is an error."""
    expr = sp.sympify(expr)
    swap = {}
    for s in expr.free_symbols:
        if s.name in _BY_NAME:
            swap[s] = SYMBOLS[_BY_NAME[s.name]]
        elif s.name not in SYMBOLS or SYMBOLS[s.name] != s:
            raise ReductionError(f"unexpected symbol {s} in {expr}")
    return expr.xreplace(swap)


def _family(q: Quantity) -> Family:
    if q.family is None:               # no logit read: class 1 given all the same, so that "other" is a class > 1
        return Family(0, rest=0)
    *leading, rest = q.family
    return Family(*leading, rest=rest)


def _raw(q: Quantity, x, classes) -> sp.Expr:
    """The claim's expression on ``x`` at the quantity's class (``classes``: the class index to bind)."""
    from derivations.chapters import get

    f, ctx = get(q.claim).formulas(), _context(q.context)
    return q.pick(f, x, ctx, classes)


def _reduced(q: Quantity) -> sp.Expr:
    """Step 1: the claim's expression on the quantity's family, general K."""
    fam = _family(q)
    j = {None: None, 1: 1, "other": fam.c}[q.per_class]
    e = _raw(q, fam, j)
    if q.per_class == "other":
        e = fam.at_generic(e)
    return _renamed(sp.sympify(e).doit())


def _check_reduction(q: Quantity, reduced: sp.Expr) -> None:
    """Step 2: the reduction against the claim evaluated on concrete logits, at :data:`CHECK_KS` (every class
    j > 1)."""
    from derivations.engine.symbolic import Logits, is_zero

    fam = _family(q)
    for k in CHECK_KS:
        x = Logits(k)
        classes = {None: [None], 1: [1], "other": list(range(2, k + 1))}[q.per_class]
        for j in classes:
            concrete = sp.sympify(_raw(q, x, j)).doit()
            concrete = _renamed(concrete.subs(dict(zip(x.symbols, fam.values(k))), simultaneous=True))
            if not is_zero(concrete - reduced.subs(K, k), force_log=True):
                raise ReductionError(f"{q.name}: the reduction differs from {q.claim} at K = {k}"
                                     + (f", class {j}" if j else "") + f": {concrete} vs {reduced.subs(K, k)}")


#: Values of the arguments at which a form is evaluated in floating point to find where it has no value.
_PROBES = {"K": (2, 3, 100_000), "alpha": (0.0, 0.5, 1.0), "Delta": (0.0, 3.0), "s": (0.0, 2.0), "g": (-3.0, 0.0, 3.0),
           "m": (-2.0, 0.0, 2.0)}


def _not_finite_at(q: Quantity, expr: sp.Expr, edge: int) -> bool:
    """Does ``expr``, evaluated in floating point as a browser would, give a non-finite value at eps = ``edge``
    for some probe of the other arguments?"""
    import itertools

    args = [SYMBOLS[a] for a in q.args]
    f = sp.lambdify(args, expr, modules=[{"log1p": np.log1p}, "numpy"])
    grids = [(float(edge),) if a == "epsilon" else _PROBES[a] for a in q.args]
    with np.errstate(all="ignore"):
        return any(not np.isfinite(f(*map(np.float64, point))) for point in itertools.product(*grids))


def _with_edges(q: Quantity, reduced: sp.Expr, stable: sp.Expr) -> tuple[sp.Expr, dict]:
    """Step 4: where the stable form has no value at eps = 0 or 1 in floating point (``0 log 0``) and the
    reduced expression has a finite limit there, a ``Piecewise`` branch with that limit. Returns the form and
    the limits found (edge -> limit, infinite ones included)."""
    if "epsilon" not in q.args:
        return stable, {}
    eps = SYMBOLS["epsilon"]
    rows, limits = [], {}
    for edge, side in ((0, "+"), (1, "-")):
        if _not_finite_at(q, stable, edge):
            limits[edge] = lim = sp.limit(reduced, eps, edge, side)
            if lim.subs(K, sp.Symbol("k", integer=True, nonnegative=True) + 2).is_finite:    # for every K >= 2
                rows.append((sp.simplify(lim), sp.Eq(eps, edge)))
    return (sp.Piecewise(*rows, (stable, True)) if rows else stable), limits


def _exp_parts(term):
    """``term = c * exp(a)``: ``(c, a)`` with ``c`` free of exp, else ``None``."""
    c, a = sp.S.One, sp.S.Zero
    for factor in sp.Mul.make_args(term):
        base, power = factor.as_base_exp()
        if isinstance(base, sp.exp) or base == sp.E:
            a += (base.args[0] if isinstance(base, sp.exp) else 1) * power
        elif factor.has(sp.exp):
            return None
        else:
            c *= factor
    return c, sp.expand(a)


def _nonnegative(e) -> bool:
    """Is ``e`` >= 0 for every K >= 2 (``K = k + 2``, ``k`` >= 0) under the symbols' assumptions?"""
    k = sp.Symbol("k", integer=True, nonnegative=True)
    return bool(sp.sympify(e).subs(K, k + 2).is_nonnegative)


def _stable_log(arg):
    """``log(arg)`` for ``arg`` a sum: as ``a* + log(c*) + log1p(sum_i (c_i/c*) exp(a_i - a*))`` when every term
    is ``c_i exp(a_i)`` (terms with the same exponent gathered) with ``c_i >= 0`` and one exponent ``a*`` is the
    largest under the assumptions (the library's log-sum-exp); ``log1p(arg - 1)`` when ``arg - 1`` is one term;
    else unchanged."""
    gathered: dict = {}
    for p in (_exp_parts(t) for t in sp.Add.make_args(arg)):
        if p is None:
            gathered = None
            break
        gathered[p[1]] = gathered.get(p[1], 0) + p[0]
    parts = [(c, a) for a, c in (gathered or {}).items()]
    if parts and all(_nonnegative(c) for c, _ in parts):
        for i, (ci, ai) in enumerate(parts):
            if all((ai - aj).is_nonnegative for _, aj in parts):
                rest = sp.Add(*[cj / ci * sp.exp(aj - ai) for n, (cj, aj) in enumerate(parts) if n != i])
                return ai + (sp.log(ci) if ci != 1 else 0) + (log1p(rest) if rest != 0 else 0)
    t = arg - 1
    if len(sp.Add.make_args(t)) == 1:
        return log1p(t)
    return sp.log(arg)


def _on_domain_nonnegative(e) -> bool:
    """Is ``e`` >= 0 for every K >= 2 and every eps and alpha in [0, 1)? (``K = k + 2``, ``eps = t/(1 + t)``,
    ``alpha = a/(1 + a)`` with ``k, t, a >= 0``: SymPy reads the sign of a rational function of nonnegative
    symbols, where it cannot read ``eps <= 1`` from an assumption.)"""
    k, t, a = (sp.Symbol(n, nonnegative=True) for n in ("k", "t", "a"))
    on = sp.sympify(e).subs({K: k + 2, SYMBOLS["epsilon"]: t / (1 + t), SYMBOLS["alpha"]: a / (1 + a)})
    return bool(sp.factor(sp.together(on)).is_nonnegative)


def _split_log(arg):
    """``log(arg)`` for ``arg`` a product of factors ``>= 0`` on the domain: the sum of their (stable)
    logarithms. The product itself may overflow or underflow where its logarithm does not: ``(K-1)/eps`` is
    ``Infinity`` at ``eps = 1e-310`` while ``log(K-1) - log(eps)`` is 716. Else unchanged."""
    factors = [f.as_base_exp() for f in sp.Mul.make_args(arg)]
    if len(factors) < 2 or not all(_on_domain_nonnegative(b) for b, _ in factors):
        return sp.log(arg)
    return sp.Add(*[p * (_stable_log(b) if b.is_Add else sp.log(b)) for b, p in factors])


def _stable(expr: sp.Expr) -> sp.Expr:
    """Step 4 for one branch: stable logarithms (of a sum: :func:`_stable_log`; of a product: :func:`_split_log`);
    then the terms free of logarithms, factored: a product
    computes each factor to a few units of roundoff where a sum of monomials may cancel (``1 - (1-eps)^2 -
    eps^2/(K-1)`` near ``eps = 0``; ``g - (1-eps) g``, left by the log-sum-exp, is ``eps g``)."""
    e = expr.replace(lambda a: isinstance(a, sp.log) and a.args[0].is_Add, lambda a: _stable_log(a.args[0]))
    e = e.replace(lambda a: isinstance(a, sp.log) and a.args[0].is_Mul, lambda a: _split_log(a.args[0]))
    with_logs = [t for t in sp.Add.make_args(e) if t.has(sp.log, log1p)]
    rest = sp.Add(*[t for t in sp.Add.make_args(e) if not t.has(sp.log, log1p)])
    return sp.factor(rest) + sp.Add(*with_logs)


def _unstable(expr):
    """``log1p(t)`` written back as ``log(1 + t)``."""
    return expr.replace(lambda a: isinstance(a, log1p), lambda a: sp.log(1 + a.args[0]))


def _stable_form(q: Quantity, expr: sp.Expr) -> sp.Expr:
    """Step 4: one stable form per sign of ``q.sign`` (a Piecewise), each checked equal to ``expr``."""
    from derivations.engine.symbolic import is_zero

    if q.sign is None:
        branches = [(expr, True, {})]
    else:
        v = SYMBOLS[q.sign]
        pos, neg = sp.Symbol(v.name, nonnegative=True), sp.Symbol(v.name, negative=True)
        branches = [(expr.xreplace({v: pos}), v >= 0, {pos: v}), (expr.xreplace({v: neg}), True, {neg: v})]
    rows = []
    for e, cond, back in branches:
        s = _stable(e)
        if not is_zero(_unstable(s) - e, force_log=True):
            raise ReductionError(f"{q.name}: the stable form {s} differs from {e}")
        rows.append((s.xreplace(back), cond))
    return rows[0][0] if len(rows) == 1 else sp.Piecewise(*rows)


@dataclass(frozen=True)
class Derived:
    """What :func:`derive` found for one quantity: the reduced expression (steps 1-2) and the expression
    printed (steps 3-4)."""

    quantity: Quantity
    reduced: sp.Expr
    printed: sp.Expr
    limits: dict                                # eps edge -> the one-sided limit there, where the form has no value
    at_uniform: sp.Expr | None = None           # the value at eps = (K-1)/K, a function of K (:func:`_at_uniform`)


#: The quantity whose expression is the uniform point eps = (K-1)/K (solved from ch2.optimum).
UNIFORM = "ch2_uniform_eps"


def _at_uniform(q: Quantity, reduced: sp.Expr) -> sp.Expr | None:
    """Step 4 for the uniform point: a quantity of ``K`` and ``eps`` only, at ``eps = (K-1)/K`` exactly, simplified
    (stable logarithms; checked finite for every K >= 2). The figures read it where a reader sets eps to that
    edge: the double nearest ``(K-1)/K`` is not ``(K-1)/K``, and at it the generic form gives the exact value at
    that double, a residue (``4.4e-33`` for the loss variance at the optimum, ``-2.2e-16`` for the optimal gap)
    where the mathematics of the edge is ``0``. ``None`` for other quantities (their values at the edge are not
    where a residue changes what they say)."""
    from derivations.engine.symbolic import is_zero

    if q.args != ("K", "epsilon"):
        return None
    value = sp.simplify(reduced.xreplace({SYMBOLS["epsilon"]: derive(UNIFORM).reduced}))
    if not value.subs(K, sp.Symbol("k", integer=True, nonnegative=True) + 2).is_finite:
        raise ReductionError(f"{q.name}: at the uniform point, {value} is not finite for every K >= 2")
    stable = _stable(value)
    if not is_zero(_unstable(stable) - value, force_log=True):
        raise ReductionError(f"{q.name}: the stable form {stable} at the uniform point differs from {value}")
    return stable


@lru_cache(maxsize=None)
def derive(name: str) -> Derived:
    """Steps 1-4 for the quantity ``name`` (cached)."""
    q = {q.name: q for q in QUANTITIES}[name]
    reduced = _reduced(q)
    _check_reduction(q, reduced)
    for arg, other in q.substitute.items():               # composition with another generated quantity
        reduced = reduced.xreplace({SYMBOLS[arg]: derive(other).reduced})
    if reduced.free_symbols - {SYMBOLS[a] for a in q.args}:
        raise ReductionError(f"{q.name}: {reduced} has symbols beyond its arguments {q.args}")
    return Derived(q, reduced, *_with_edges(q, reduced, _stable_form(q, reduced)), _at_uniform(q, reduced))


def _printer() -> JavascriptCodePrinter:
    return JavascriptCodePrinter({"user_functions": {"log1p": "Math.log1p"}})


def javascript(expr: sp.Expr) -> str:
    """The expression as a JavaScript expression (SymPy's printer; ``log1p`` as ``Math.log1p``)."""
    return _printer().doprint(expr)


def _mpmath_code(expr) -> str:
    """The expression as Python code on mpmath (SymPy's MpmathPrinter)."""
    from sympy.printing.pycode import MpmathPrinter

    return MpmathPrinter({"fully_qualified_modules": True}).doprint(expr)


@lru_cache(maxsize=None)
def _mpmath_functions(path: Path, name: str):
    """The quantity, its derivative in each real argument and its limits at the eps edges, as mpmath functions,
    from the code printed beside the generated file (its ``.json`` companion): no SymPy work here."""
    import mpmath

    f = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))[name]
    compile_ = lambda code: eval(f"lambda {', '.join(f['args'])}: {code}", {"mpmath": mpmath})   # noqa: E731
    return (tuple(f["args"]), compile_(f["value"]), {a: compile_(c) for a, c in f["slopes"].items()},
            {float(e): compile_(c) for e, c in f["limits"].items()})


def reference(name: str, points: list[dict]) -> list[tuple[float, float]]:
    """Python's value of the quantity ``name`` at each point (a dict of its arguments, each taken exactly as the
    double it is), from the expression printed, in mpmath at 50 digits; with its *condition scale*
    ``sum_a |x_a df/dx_a|`` over the real arguments: how much the value moves when every input moves by one
    unit relative, which bounds what any floating-point evaluation at rounded inputs can be held to (it is
    about ``|f|`` where ``f`` is well conditioned, and larger near a zero of ``f`` that its terms cancel to).
    ``(inf, 0)`` or ``(-inf, 0)`` where the quantity is infinite (its one-sided limit at eps = 0 or 1, found
    when the file was generated); ``(nan, 0)`` where it has no value."""
    import mpmath

    args, value, slopes, limits = _mpmath_functions(ensure(), name)
    out = []
    with mpmath.workdps(50):
        for point in points:
            x = [mpmath.mpf(int(point[a]) if a == "K" else float(point[a])) for a in args]
            try:
                v = value(*x)
            except (ZeroDivisionError, ValueError):
                v = None
            edge = float(point["epsilon"]) if "epsilon" in args else None
            if (v is None or not mpmath.isfinite(v)) and edge in limits:
                v = limits[edge](*x)
            if v is None or mpmath.im(v) != 0 or mpmath.isnan(v):
                out.append((float("nan"), 0.0))
                continue
            if mpmath.isinf(v):
                out.append((float(v), 0.0))
                continue
            scale = mpmath.mpf(0)
            for i, a in enumerate(args):
                if a != "K" and x[i] != 0:                 # an input that is 0 stays 0 when moved relatively
                    scale += abs(x[i] * slopes[a](*x))
            out.append((float(v), float(scale)))
    return out


def reference_at_uniform(name: str, ks: list[int]) -> list[float]:
    """Python's value of the quantity ``name`` at eps = (K-1)/K exactly (its ``at_uniform`` form, mpmath at 50
    digits), at each K of ``ks``."""
    import mpmath

    code = json.loads(ensure().with_suffix(".json").read_text(encoding="utf-8"))[name]["at_uniform"]
    f = eval(f"lambda K: {code}", {"mpmath": mpmath})
    with mpmath.workdps(50):
        return [float(f(mpmath.mpf(k))) for k in ks]


def _chapter_data() -> dict:
    from derivations.chapters import CHAPTERS
    from derivations.engine.parameters import COMMON

    low = {p.name: p.low for p in COMMON}
    high = {p.name: p.high for p in COMMON}
    return {str(n): {"notebook": CHAPTERS[n].notebook, "defaults": CHAPTERS[n].defaults,
                     "K": [int(low["K"]), int(CHAPTERS[n].k_max)], "EPS": [low["EPS"], high["EPS"]]}
            for n in FIGURE_CHAPTERS}


@dataclass(frozen=True)
class Generated:
    """The generated file's text, what it holds (function name -> its description), and each function's
    arguments, value, derivatives and edge limits as mpmath code (SymPy's printer), which :func:`reference` runs."""

    text: str
    functions: dict
    expressions: dict


def generate() -> Generated:
    """The JavaScript file: every quantity derived, checked and printed."""
    functions, expressions, body, uniform = {}, {}, [], ["  F.at_uniform = {};"]
    for q in QUANTITIES:
        d = derive(q.name)
        expressions[q.name] = {"args": list(q.args), "value": _mpmath_code(d.printed),
                               "slopes": {a: _mpmath_code(sp.diff(d.printed, SYMBOLS[a])) for a in q.args if a != "K"},
                               "limits": {str(e): _mpmath_code(v) for e, v in d.limits.items()},
                               "at_uniform": None if d.at_uniform is None else _mpmath_code(d.at_uniform)}
        js = javascript(d.printed)
        functions[q.name] = {"claim": q.claim, "part": q.part, "what": q.what, "args": list(q.args),
                             "chapter": q.chapter, "family": None if q.family is None else
                             [sp.sstr(v) for v in q.family[:-1]] + ["... " + sp.sstr(q.family[-1])],
                             "sympy": sp.sstr(d.printed),
                             "at_uniform": None if d.at_uniform is None else sp.sstr(d.at_uniform)}
        body.append(f"  /* {q.claim}, {q.part}: {q.what} */\n"
                    f"  F.{q.name} = function ({', '.join(q.args)}) {{\n    return {js};\n  }};")
        if d.at_uniform is not None:
            uniform.append(f"  F.at_uniform.{q.name} = function (K) {{\n    return {javascript(d.at_uniform)};\n  }};")
    body.append("  /* each function of K and eps at eps = (K-1)/K exactly (the double nearest it is not) */\n"
                + "\n".join(uniform))
    meta = {"functions": functions, "chapters": _chapter_data()}
    text = ("/* Generated by book/live_figures.py from the registry (claims read by derivations.engine.notation,\n"
            " * reduced for each figure's logits, checked in SymPy, printed by SymPy's JavascriptCodePrinter).\n"
            " * Do not edit: every number a live figure computes comes from these functions. */\n"
            "(function (root) {\n  \"use strict\";\n  var F = {};\n" + "\n".join(body) + "\n"
            f"  F.about = {json.dumps(meta, indent=None, sort_keys=True)};\n"
            "  root.LiveFormulas = F;\n})(window);\n")
    return Generated(text, functions, expressions)


def _sources_key() -> str:
    """What the generated file depends on: this module, the engine, the claims of the figures' chapters, SymPy."""
    h = hashlib.sha256(sp.__version__.encode())
    files = [Path(__file__)] + sorted((ROOT / "derivations" / "engine").glob("*.py")) + [
        ROOT / "derivations" / "chapters" / f"ch{n}" / "claims.py" for n in FIGURE_CHAPTERS]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def ensure(cache: Path = ROOT / "build" / "live") -> Path:
    """The generated file for the current sources (``cache/live-formulas-<key>.js``, with its expressions in
    ``.json`` beside it), generated if missing."""
    path = cache / f"live-formulas-{_sources_key()}.js"
    if not (path.exists() and path.with_suffix(".json").exists()):
        cache.mkdir(parents=True, exist_ok=True)
        g = generate()
        for target, text in ((path.with_suffix(".json"), json.dumps(g.expressions, indent=1)), (path, g.text)):
            tmp = target.with_name(target.name + ".tmp")        # written whole, then renamed: never half a file
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        for old in cache.glob("live-formulas-*"):           # one version kept
            if old.stem != path.stem:
                old.unlink(missing_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", type=Path, help="write the file here (default: the cache in build/live/)")
    args = ap.parse_args(argv)
    if args.out:
        args.out.write_text(generate().text, encoding="utf-8")
        path = args.out
    else:
        path = ensure()
    for q in QUANTITIES:
        print(f"{q.name:22s} {q.claim:24s} {javascript(derive(q.name).printed)}")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

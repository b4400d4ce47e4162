"""The words of a derivation cell: the note's formulas read into SymPy, the steps shown, and the verdict.

A chapter's derivation is plain SymPy in the code cells of its notebook tagged ``derivation``
(:mod:`derivations.engine.cells`). Those cells import SymPy and this module, nothing else: no NumPy, so that they
run wherever SymPy runs. Three names do the work:

* :func:`as_printed` reads a claim's formula, exactly as the note prints it (or the claim's statement, for a
  result the companion adds), into SymPy, through the reader of the note's notation
  (:mod:`derivations.engine.notation`); :func:`as_corrected` reads its corrected or general form;
* :func:`steps` shows a chain of intermediate results, typeset by SymPy's LaTeX printer;
* :func:`verdict` decides: it is handed what the printed line gets wrong (its difference from what the cell
  derived: zero, or ``True``, when the line is right), and the same under the claim's assumption and for the
  corrected form. Each is decided for a general ``K`` and again for ``K = 2, 3``.

In Jupyter, :func:`verdict` shows the claim's verdict with its numeric checks folded beside it, and fails the
cell when the evidence does not support it. Run by :mod:`derivations.engine.cells` (for ``python -m derivations``,
the tests, the book), it records its :class:`Decision` for the registry: the same code decides both.

>>> from sympy import Symbol
>>> a = Symbol("a")
>>> d = decide("demo.doc", (a + 1) ** 2 - (a ** 2 + 2 * a + 1))
>>> d.holds, d.parts[0].value
(True, 0)
>>> decide("demo.doc", a, assuming=a.subs(a, 0)).holds_under
True
"""
from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import sympy as sp

from derivations.engine.finding import Finding
from derivations.engine.registry import Formulas, get
from derivations.engine.symbolic import Logits, is_zero, written_out

__all__ = ["as_printed", "as_corrected", "steps", "verdict", "decide", "Decision", "Part", "ByClass",
           "CONCRETE_K", "overriding", "collecting"]

#: The concrete numbers of classes at which every decision is taken again, besides a general ``K``.
CONCRETE_K = (2, 3)
#: The general ``K`` and a class index, as every reading of the note's notation writes them.
_GENERAL = Logits()
_K = _GENERAL.K
_J = sp.Symbol("j", integer=True)
_INDEX_J = sp.Symbol("j", integer=True, positive=True)          # how the notation reads the j of p(y_j|x)

#: Formulas used instead of a claim's own (a mutation test's), by claim id: see :func:`overriding`.
_OVERRIDE: contextvars.ContextVar[Mapping[str, Formulas]] = contextvars.ContextVar("derive_override", default={})
#: Where :func:`verdict` records its decisions when the cells run outside Jupyter (:func:`collecting`).
_COLLECTOR: contextvars.ContextVar[dict | None] = contextvars.ContextVar("derive_collector", default=None)


# -- the note's formulas, read ------------------------------------------------------------------------
def _formulas(claim_id: str) -> Formulas:
    return _OVERRIDE.get().get(claim_id) or get(claim_id).formulas()


def as_printed(claim_id: str, K: int | None = None, *, input: str | None = None):
    r"""The claim's printed formula (or, with ``input``, the formula it reads by that name), read into SymPy.

    For a general ``K`` (``z[j]`` and ``Sum``), or a concrete one (``z[1] ... z[K]``). A line that continues the
    one above (``= ...``, ``\approx ...``) is its right-hand side; ``a = b`` is ``Eq(a, b)``, unevaluated (its
    ``.lhs`` and ``.rhs``); ``a < b \le c`` is a tuple of relations; several formulas (``\quad``) a tuple.
    A value given class by class (``\begin{cases}``, or the note's vectors ``(A, \cdots, B)``) is a
    :class:`ByClass` (``value(1)``, ``value(j)``), and its equation an :class:`Equation` (``.lhs``, ``.rhs``).

    >>> import derivations.chapters  # noqa: F401  (the claims)
    >>> as_printed("ch1.loss_lse")
    log(Sum(exp(z[j]), (j, 1, K))) - z[1]
    """
    f = _formulas(claim_id)
    reading = f.inputs[input] if input is not None else f.printed
    return _read(reading, get(claim_id), K)


def as_corrected(claim_id: str, K: int | None = None):
    """The claim's corrected form (or, for *holds under an assumption*, its general form), read like
    :func:`as_printed`."""
    f = _formulas(claim_id)
    if f.corrected is None:
        raise ValueError(f"{claim_id} gives no corrected form")
    return _read(f.corrected, get(claim_id), K)


def _read(reading, claim, K):
    from derivations.engine.notation import HARD

    rels = reading.relations()
    if not rels:
        raise ValueError(f"{claim.id} quotes the note's words, which hold no formula: read the formulas it names "
                         f"with as_printed({claim.id!r}, input=...) ({', '.join(claim.inputs) or 'none'})")
    x = _GENERAL if K is None else Logits(int(K))
    ctx = claim.context or HARD
    out = [_relation(r, x, ctx) for r in rels]
    return out[0] if len(out) == 1 else tuple(out)


_RELATIONS = {"=": sp.Eq, "≈": sp.Eq, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "!=": sp.Ne}


def _relation(r, x: Logits, ctx):
    from derivations.engine.kinds import evaluate

    if r.op == "chain":
        return tuple(_relation(link, x, ctx) for link in r.rhs.args)
    rhs = _value(evaluate(r.rhs, x, ctx), x)
    if r.lhs is None or r.op == "expr":
        return rhs
    lhs = _value(evaluate(r.lhs, x, ctx), x)
    if isinstance(lhs, ByClass) or isinstance(rhs, ByClass):
        return Equation(ByClass.of(lhs), ByClass.of(rhs))
    return _RELATIONS[r.op](lhs, rhs, evaluate=False)


def _value(v, x: Logits):
    """A reading's value as the cell sees it: the class index of ``p(y_j|x)`` is the cell's ``j``, a concrete
    ``K``'s logits are ``z[1] ... z[K]`` like a general ``K``'s, and a vector is a :class:`ByClass`."""
    from derivations.engine.kinds import Vector

    if isinstance(v, Vector):
        return ByClass(lambda i, v=v: _value(v.component(i), x), v)
    v = sp.sympify(v)
    if not x.general:
        v = v.xreplace({s: _GENERAL.z(k) for k, s in enumerate(x.symbols, start=1)})
    if _INDEX_J in v.free_symbols:
        return ByClass(lambda i, v=v: v.xreplace({_INDEX_J: i}), v.xreplace({_INDEX_J: _J}))
    return v


class Equation(NamedTuple):
    """``lhs = rhs`` where a side is given class by class (a :class:`ByClass`): ``.lhs`` and ``.rhs``."""

    lhs: object
    rhs: object


class ByClass:
    """A value given class by class, as the note writes a vector ``(A, \\cdots, B)`` or ``p(y_j|x)`` with cases:
    ``value(1)``, ``value(2)``, ``value(j)`` (for the note's vectors, a symbolic ``j`` is a class after the first).

    >>> from sympy import KroneckerDelta, Symbol
    >>> v = ByClass(lambda i: KroneckerDelta(i, 1))
    >>> v(1), v(3)
    (1, 0)
    """

    def __init__(self, at, shown=None):
        self._at, self._shown = at, shown

    def __call__(self, i):
        return self._at(sp.sympify(i))

    @classmethod
    def of(cls, v):
        return v if isinstance(v, ByClass) else cls(lambda i, v=v: v, v)

    def _repr_latex_(self) -> str:
        from derivations.engine.kinds import Vector

        if isinstance(self._shown, Vector):
            return rf"$\displaystyle \left({sp.latex(self(1))}, \dots, {sp.latex(self(_J))}\right)$"
        return rf"$\displaystyle j \mapsto {sp.latex(self._shown if self._shown is not None else self(_J))}$"

    def __repr__(self) -> str:
        return f"ByClass(j -> {self(_J)})"


# -- steps -----------------------------------------------------------------------------------------------
class Steps:
    """A chain of equal expressions, shown aligned: LaTeX for people, SymPy's plain text for nbval."""

    def __init__(self, exprs: tuple, name: str | None):
        self.exprs, self.name = exprs, name

    def _repr_latex_(self) -> str:
        # one column, each step indented under the first: MathJax 4 breaks a line too wide for the reader's window
        # within its column, and a narrow first column (the name alone, left of "=") was broken letter by letter
        first = "&" + (self.name + " = " if self.name else "") + sp.latex(self.exprs[0])
        rest = [r"&\qquad = " + sp.latex(e) for e in self.exprs[1:]]
        return r"$\begin{aligned}" + r" \\ ".join([first, *rest]) + r"\end{aligned}$"

    def __repr__(self) -> str:
        from derivations.engine.text import plain

        head = f"{plain(self.name)} = " if self.name else "  "
        pad = " " * (len(head) - 2)
        return "\n".join((head if i == 0 else pad + "= ") + sp.sstr(e) for i, e in enumerate(self.exprs))


def steps(*exprs, name: str | None = None) -> None:
    r"""Show ``exprs`` as one derivation, each line equal to the one before (``name`` heads the first: a LaTeX
    symbol such as ``r"\mathcal{L}"``): typeset in Jupyter, as text elsewhere, and not at all when the engine runs
    the cells (:mod:`derivations.engine.cells`).

    >>> from sympy import Symbol, expand
    >>> a = Symbol("a")
    >>> steps((a + 1) ** 2, expand((a + 1) ** 2), name="f")
    f = (a + 1)**2
      = a**2 + 2*a + 1
    """
    if not exprs:
        raise ValueError("steps() needs at least one expression")
    _show(Steps(tuple(sp.sympify(e) if not isinstance(e, ByClass) else e(_J) for e in exprs), name))


def _show(obj) -> None:
    """Display ``obj`` in Jupyter; print it elsewhere; nothing while the engine runs the cells."""
    if _COLLECTOR.get() is not None:
        return
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:                                # no IPython (a plain interpreter, Pyodide)
        get_ipython = display = None
    if get_ipython is not None and get_ipython() is not None:
        display(obj)
    else:
        print(repr(obj))


# -- the verdict --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One form decided: ``what`` (``printed``, ``assuming``, ``corrected``), the value the cell handed over,
    reduced (``0`` or the difference left), whether it vanishes, and ``where``: for a value in a general ``K``, whether
    it vanishes there and at each concrete ``K`` (empty for a value without ``K``)."""

    what: str
    value: object
    zero: bool
    where: dict = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        """The general ``K`` and every concrete one come out alike."""
        return len(set(self.where.values())) <= 1

    def finding(self) -> Finding:
        """The part as a sentence: what the cell handed over for the form, reduced, and what that makes it.

        >>> Part("corrected", sp.Integer(0), True, {"general K": True, "K=2": True}).finding().statement
        'corrected form: $0$ (general $K$ and $K = 2$), so it is right'
        >>> print(Part("printed", sp.oo, False).finding().statement)
        printed line: $\\infty$, not $0$, so it is wrong
        """
        words = {"printed": "printed line", "assuming": "under the assumption, the printed line",
                 "corrected": "corrected form"}[self.what]
        if not self.agree:
            return Finding("symbolic", f"{words}: the general and the concrete cases disagree ({_cases(self.where)})",
                           False)
        value = f"${_short_latex(self.value)}$"
        if self.zero:
            return Finding("symbolic", f"{words}: {value}{_scope(self.where)}, so it is right")
        return Finding("symbolic", f"{words}: {value}, not $0${_scope(self.where)}, so it is wrong")


@dataclass(frozen=True)
class Decision:
    """What a claim's derivation cell decided: its :class:`Part` s, and from them whether the printed line holds,
    holds under the claim's assumption, and whether the corrected form is right (``None`` where not handed)."""

    claim_id: str
    parts: tuple

    def _part(self, what: str) -> Part | None:
        return next((p for p in self.parts if p.what == what), None)

    @property
    def holds(self) -> bool:
        return self._part("printed").zero

    @property
    def holds_under(self) -> bool | None:
        p = self._part("assuming")
        return None if p is None else p.zero

    @property
    def corrected_ok(self) -> bool | None:
        p = self._part("corrected")
        return None if p is None else p.zero

    def findings(self) -> list[Finding]:
        return [p.finding() for p in self.parts]


def decide(claim_id: str, difference, *, assuming=None, corrected=None) -> Decision:
    """The :class:`Decision` on what :func:`verdict` is handed (without recording or showing it)."""
    parts = [_part("printed", difference)]
    if assuming is not None:
        parts.append(_part("assuming", assuming))
    if corrected is not None:
        parts.append(_part("corrected", corrected))
    return Decision(claim_id, tuple(parts))


def verdict(claim_id: str, difference, *, assuming=None, corrected=None):
    """Decide the claim from its derivation: ``difference`` is what the printed line gets wrong (the printed form
    minus what the cell derived, or a statement's truth value), ``assuming`` the same under the claim's assumption,
    ``corrected`` the same for its corrected or general form. Each may be an expression (right when it simplifies
    to zero), a truth value, or a list or tuple of them (right when every one is).

    The claim *holds* when ``difference`` vanishes, *holds under its assumption* when ``assuming`` does, and is
    an *erratum* otherwise. In Jupyter the claim's verdict is shown, with its numeric checks folded beside it
    (an ``AssertionError`` when the evidence does not support it); run by :mod:`derivations.engine.cells`, the
    decision is recorded for the registry and returned.
    """
    decision = decide(claim_id, difference, assuming=assuming, corrected=corrected)
    collector = _COLLECTOR.get()
    if collector is not None:
        collector[claim_id] = decision
        return decision
    from derivations.engine.display import shown_verdict

    return shown_verdict(decision)


def _part(what: str, value) -> Part:
    items = value if isinstance(value, (list, tuple)) else (value,)
    reduced, where, zero = [], {}, True
    for v in items:
        r, w = _vanishes(v)
        reduced.append(r)
        vanishes = w.pop("")
        zero = zero and vanishes
        for k, z in w.items():
            where[k] = where.get(k, True) and z
    shown = reduced[0] if len(reduced) == 1 else tuple(reduced)
    return Part(what, shown, zero, where)


def _vanishes(v) -> tuple[object, dict]:
    """``v`` reduced, and whether it vanishes (is true), for a general ``K`` and each of :data:`CONCRETE_K`."""
    if isinstance(v, ByClass):
        raise TypeError("a value given class by class: hand over its value at a class, printed(1), printed(j), ...")
    if isinstance(v, (bool, sp.logic.boolalg.BooleanAtom)):
        return sp.true if v else sp.false, {"": bool(v)}
    if isinstance(v, sp.MatrixBase):
        results = [_vanishes(e) for e in v]
        where: dict = {}
        for _, w in results:
            for k, z in w.items():
                where[k] = where.get(k, True) and z
        return (sp.zeros(*v.shape) if where.get("", True) else v), where
    if isinstance(v, (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction)):   # decided by SymPy
        t = sp.simplify(v)
        if t not in (sp.true, sp.false):
            raise ValueError(f"cannot decide {v}: hand over a truth value or an expression that must vanish")
        return t, {"": t == sp.true}
    e = sp.sympify(v)
    zero = is_zero(e, force_log=True)
    where = {}
    if _K in e.free_symbols:                          # a general K: decided again at each concrete one
        where["general K"] = zero
        for k in CONCRETE_K:
            ek = _plain_logits(written_out(e.xreplace({_K: k})))
            where[f"K={k}"] = is_zero(ek, force_log=False) or is_zero(ek, force_log=True)
    # a difference left is reduced for the reader; not under other formulas (a mutation test's), whose verdict is
    # all that is read: SymPy's simplify of a mutated sum can take 20 s (docs/measurements.md)
    shown = sp.Integer(0) if zero else (e if _OVERRIDE.get() else _reduced(e))
    return shown, {**where, "": zero}


def _plain_logits(e):
    """``e`` with each logit of a concrete class, ``z[2]``, as a real symbol ``z_2``: how
    :class:`~derivations.engine.symbolic.Logits` writes a concrete K, which :func:`is_zero`'s exact tests read."""
    found = {a for a in e.atoms(sp.Indexed) if all(i.is_Integer for i in a.indices)}
    return e.xreplace({a: sp.Symbol("_".join([str(a.base), *map(str, a.indices)]), real=bool(a.is_real) or None)
                       for a in found})


def _reduced(e):
    """A nonzero difference, in a short form for the reader (logarithms expanded, then simplified; left as
    it is when that grows it). A difference too long to show as it is (:data:`_SHOWN_LIMIT`) that still holds a sum
    over the classes is simplified around its sums (:func:`_around_sums`): SymPy's own simplification of a general-K
    sum (``sum_simplify``) took 3.5-5.6 s on chapter 3's edited noise at the optimum and then raised
    ``StopIteration`` (SymPy 1.14), leaving the difference as it was (docs/measurements.md, issue 36). A short one
    is simplified whole, sums and all, as before (the stored verdicts' differences are)."""
    try:
        f = sp.expand_log(e, force=True)
        long = f.has(sp.Sum) and len(sp.latex(e)) > _SHOWN_LIMIT
        r = _around_sums(f) if long else sp.simplify(f)
    except Exception:                                  # a form to show, not a decision
        return e
    return r if sp.count_ops(r) <= sp.count_ops(e) else e


def _around_sums(e):
    """``e`` simplified with each outermost ``Sum`` taken as one unknown (left as it is inside).

    >>> j, K, a = sp.Symbol("j", integer=True), sp.Symbol("K", integer=True), sp.Symbol("a", positive=True)
    >>> s = sp.Sum(sp.log(j * a), (j, 1, K))
    >>> _around_sums(s * (a + 1) / (a ** 2 + a) - s / a + sp.log(a ** 2) / 2)
    log(a)
    """
    outer = [s for s in e.atoms(sp.Sum) if not any(s != t and t.has(s) for t in e.atoms(sp.Sum))]
    unknowns = {s: sp.Dummy(f"S{k}") for k, s in enumerate(sorted(outer, key=sp.default_sort_key))}
    return sp.simplify(e.xreplace(unknowns)).xreplace({u: s for s, u in unknowns.items()})


#: The longest difference the verdict line shows, in characters of LaTeX (an ellipsis beyond).
_SHOWN_LIMIT = 160


def _short_latex(v, limit: int = _SHOWN_LIMIT) -> str:
    """``v`` in LaTeX (a tuple as ``(0, 0, \\text{true})``), or an ellipsis when it is too long to read."""
    if isinstance(v, tuple):
        return r"\left(" + ", ".join(_short_latex(e, limit) for e in v) + r"\right)"
    if v is sp.true or v is sp.false:
        return rf"\text{{{str(bool(v)).lower()}}}"
    s = sp.latex(v)
    return s if len(s) <= limit else r"\dots"


def _cases(where: dict) -> str:
    from derivations.engine.tex import cases

    return cases(where)


def _scope(where: dict) -> str:
    return f" ({_cases(where)})" if where else ""


# -- for the engine --------------------------------------------------------------------------------------
class overriding:
    """Within this block :func:`as_printed` and :func:`as_corrected` read ``formulas`` for ``claim_id`` (a
    mutation test's): ``with overriding("ch1.loss_lse", mutated): ...``."""

    def __init__(self, claim_id: str, formulas: Formulas):
        self._value = {**_OVERRIDE.get(), claim_id: formulas}

    def __enter__(self):
        self._token = _OVERRIDE.set(self._value)

    def __exit__(self, *exc):
        _OVERRIDE.reset(self._token)


class collecting:
    """Within this block :func:`verdict` records each decision into the dict it yields, and shows nothing."""

    def __enter__(self) -> dict:
        self._found: dict = {}
        self._token = _COLLECTOR.set(self._found)
        return self._found

    def __exit__(self, *exc):
        _COLLECTOR.reset(self._token)

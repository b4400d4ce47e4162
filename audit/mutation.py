"""Mutation tests of the claims' checks: plausible wrong variants of each formula must be caught.

A check that accepts a wrong formula proves nothing about the right one. For
each claim, :func:`mutants` rewrites the syntax tree of its formulas as read by
:mod:`derivations.engine.notation` (the printed one first, then the inputs, then the
corrected one), one small plausible mistake at a time:

* ``sign``: a subtraction becomes an addition (``1 - \\epsilon -> 1 + \\epsilon``),
  a term or a whole side of a relation is negated;
* ``coefficient``: a number ``n -> n + 1`` (a non-integer ``r -> 1/r``), or a
  constant factor is dropped (``(1-\\epsilon) \\log q_1 -> \\log q_1``);
* ``K vs K-1``: ``K -> K - 1`` and ``K - 1 -> K``;
* ``max vs min``: ``\\max_j`` against ``\\min_j``, and the two maxima of the
  note, ``\\max_j z_j`` against ``\\|z\\|_\\infty`` (also ``M``);
* ``dropped term``: one term of a sum ``a + b (+ ...)`` is left out, the
  ``+ \\dots + B`` of an ellipsis, or the first term of a ``\\sum`` (its lower
  bound raised by one);
* ``index``: a class index is replaced by another index of the same formula
  (``z_{y_1} -> z_{y_j}``, ``q_a -> q_b``), or ``1 -> 2`` where it is the only one;
* ``relation``: ``<`` against ``\\le`` and against ``>`` (``\\le`` against ``<``
  and ``\\ge`` ...); in the conditions of ``cases``, ``=`` against ``\\neq``.
  ``=`` and ``\\approx`` of a displayed line are left alone.

Parts a reader cannot change without making the formula unreadable are left
alone: names of summation variables, the upper bound of a sum over classes
(always ``K``), the subscript of ``\\mathcal{L}``, the variables of a derivative;
so are the arguments of ``\\max_j`` and ``\\|z\\|_\\infty``, which the reader does not evaluate.
A mutant the check still cannot evaluate is *invalid*, not killed.

:func:`kill` runs the claim's own check on a mutant's formulas: the mutant is
*killed* when the outcome is unsound (:func:`~derivations.engine.registry.outcome_of`
finds problems) or its verdict differs from the normal run's; *survived* when
the check accepts it with the same verdict; *invalid* when the check raises
(or runs out of time). A claim none of whose mutants is killed has a check that
does not look at its formula: a defect. ``python -m audit.mutation``
prints, per claim, how many mutants were killed, survived or were invalid.

A worked example, on a claim whose check evaluates its printed formula:

>>> import sympy as sp
>>> from derivations.engine.notation import EPS, SOFT, read
>>> from derivations.engine.registry import Claim, Evidence, Verdict
>>> from derivations.engine.finding import Finding
>>> from derivations.engine.symbolic import Logits
>>> for kind, change, _ in variants(read(r"= 1 - \\epsilon")):
...     print(f"{kind}: {change}")
sign: 1 - \\epsilon -> 1 + \\epsilon
sign: 1 - \\epsilon -> -1 - \\epsilon
sign: 1 - \\epsilon -> -\\left(1 - \\epsilon\\right)
coefficient: 1 - \\epsilon -> 2 - \\epsilon
dropped term: 1 - \\epsilon -> -\\epsilon
dropped term: 1 - \\epsilon -> 1
>>> def check(f):
...     same = sp.simplify(f.printed.rhs(Logits(2), SOFT) - (1 - EPS)) == 0
...     return Evidence(holds=same, findings=[Finding("symbolic", "printed - (1 - eps) = 0", same)])
>>> claim = Claim("demo.weight", 0, "demo", 1, "the true class's weight", r"= 1 - \\epsilon", check=check,
...               stated=Verdict.HOLDS)
>>> first = mutants(claim)[0]
>>> first.description
'printed: 1 - \\\\epsilon -> 1 + \\\\epsilon'
>>> kill(claim, first)
(<Status.KILLED: 'killed'>, 'symbolic check failed: printed - (1 - eps) = 0')

A check that ignores its formula lets every mutant survive:

>>> lazy = Claim("demo.lazy", 0, "demo", 2, "", r"= 1 - \\epsilon", stated=Verdict.HOLDS,
...              check=lambda f: Evidence(holds=True, findings=[Finding("symbolic", "trust me", True)]))
>>> {kill(lazy, m)[0].value for m in mutants(lazy)}
{'survived'}
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum

import sympy as sp

import derivations.chapters  # noqa: F401  (the chapters register their claims: the mutants are theirs)
from derivations.engine import results
from derivations.engine.finding import FailedFinding, stop_at_failed_finding
from derivations.engine.kinds import kind_of, latex
from derivations.engine.notation import Node, Reading, Relation
from derivations.engine.parallel import in_processes
from derivations.engine.registry import REGISTRY, Claim, Formulas, Verdict, evidence_for, outcome_of, run, work_units

__all__ = ["KINDS", "Status", "Mutant", "Trial", "ClaimReport", "variants", "mutants", "kill", "report",
           "format_report", "latex", "main"]

#: The kinds of mutation, in the order :func:`mutants` generates them.
KINDS = ("sign", "coefficient", "K vs K-1", "max vs min", "dropped term", "index", "relation")


class Status(str, Enum):
    """What a claim's check made of a mutant."""

    KILLED = "killed"          # the outcome is unsound, or its verdict changed
    SURVIVED = "survived"      # accepted, same verdict: the check did not notice
    INVALID = "invalid"        # the check raised (or timed out): not a kill


@dataclass(frozen=True)
class Mutant:
    """One wrong variant of a claim's formulas.

    ``where`` is ``"printed"``, ``"corrected"`` or ``"input:<name>"``; ``kind`` one of
    :data:`KINDS`; ``formulas`` what the check is handed instead of the claim's own.
    """

    where: str
    kind: str
    description: str
    formulas: Formulas


# -- the syntax tree: where a mutation may go --------------------------------------------------------
def _render_reading(parts: list, because: str) -> str:
    """A mutated reading written back (:func:`~derivations.engine.kinds.latex`, which every kind declares)."""
    return r", \quad ".join(latex(p) for p in parts) + (rf" \qquad {because}" if because else "")


_K = Node("var", ("K",))
_ONE = Node("num", (sp.Integer(1),))
_K_MINUS_1 = Node("add", (_K, Node("neg", (_ONE,))))
_MAX = Node("max", (Node("var", ("j",)), Node("z", (Node("var", ("j",)),))))
_NORM = Node("norm_inf", (Node("z", (None,)),))
_FLIPS = {"<": ("<=", ">"), "<=": ("<", ">="), ">": (">=", "<"), ">=": (">", "<=")}


def _make_chain(ops: list, terms: list) -> Relation:
    return Relation("chain", None, Node("chain", tuple(Relation(o, a, b) for o, a, b in zip(ops, terms, terms[1:]))))


def _walk(obj, role: str, path: tuple = (), bound: tuple = ()) -> Iterator[tuple[tuple, object, str, tuple]]:
    """Every mutable place below ``obj``, pre-order: ``(path, object, role, bound)``.

    Roles: ``part`` (a relation of the reading), ``side`` (a side of it), ``value``,
    ``index`` (a class or example index), ``cond``/``condition`` (a condition of
    ``cases`` and its sides), ``row`` (a row of ``cases``). ``bound`` names the
    summation indices in scope. A chain ``a < b <= c`` is walked as its terms, so
    the shared ``b`` is one place. Below a node, its kind says what is walked
    (:data:`derivations.engine.kinds.NOTATION`): nothing when it is ``opaque``,
    otherwise each argument in its role (:data:`~derivations.engine.nodes.ROLES`).
    """
    yield path, obj, role, bound
    if isinstance(obj, Relation):
        if obj.op == "chain":
            for i, t in enumerate(obj.terms()):
                yield from _walk(t, "side", path + (i,), bound)
            return
        inner = "condition" if role == "cond" else "side"
        if obj.lhs is not None:
            yield from _walk(obj.lhs, inner, path + (0,), bound)
        yield from _walk(obj.rhs, inner, path + (1,), bound)
        return
    if isinstance(obj, tuple):                                 # a row of cases: (value, condition)
        yield from _walk(obj[0], "value", path + (0,), bound)
        if obj[1] is not None:
            yield from _walk(obj[1], "cond", path + (1,), bound)
        return
    if not isinstance(obj, Node) or obj == _K_MINUS_1:
        return
    kind = kind_of(obj)
    if kind.opaque:
        return
    for i, arg in enumerate(obj.args):
        r = kind.role(i)
        if r == "binder":                                     # in scope in the arguments that follow
            bound = bound + (arg,)
        if r in ("binder", "start", "skip"):
            continue
        if isinstance(arg, (Node, Relation)) or (r == "row" and isinstance(arg, tuple)):
            yield from _walk(arg, r, path + (i,), bound)


def _put(obj, path: tuple, new):
    """``obj`` with the place at ``path`` replaced by ``new`` (nodes are frozen: rebuilt along the path)."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    if isinstance(obj, Relation):
        if obj.op == "chain":
            terms = obj.terms()
            terms[step] = _put(terms[step], rest, new)
            return _make_chain([r.op for r in obj.rhs.args], terms)
        if step == 0:
            return Relation(obj.op, _put(obj.lhs, rest, new), obj.rhs)
        return Relation(obj.op, obj.lhs, _put(obj.rhs, rest, new))
    items = list(obj.args if isinstance(obj, Node) else obj)
    items[step] = _put(items[step], rest, new)
    return Node(obj.kind, tuple(items)) if isinstance(obj, Node) else tuple(items)


def _is_constant(n) -> bool:
    """A factor made of numbers, eps, K ... only: a coefficient (no logits, probabilities or losses)."""
    if not isinstance(n, Node):
        return True
    if n.kind == "var":
        return n.args[0] not in ("M", "p", "q")
    return n.kind in ("num", "add", "neg", "mul", "frac", "pow") and all(_is_constant(a) for a in n.args)


def _number(v) -> Node:
    v = sp.Rational(v)
    return Node("num", ((v + 1) if v.q == 1 else 1 / v,))


def _without(n: Node, i: int) -> Node:
    rest = n.args[:i] + n.args[i + 1:]
    return rest[0] if len(rest) == 1 else Node(n.kind, rest)


# -- the rules: each maps a place to its mutants, in order -------------------------------------------
Rule = Callable[[object, str, list], Iterable[tuple[str, object]]]
_VALUE = ("value", "side")


def _flip(n, role, alphabet):
    if isinstance(n, Node) and role in _VALUE and n.kind == "neg":     # a - b -> a + b, -x -> x
        yield "sign", n.args[0]


_ZERO = Node("num", (sp.Integer(0),))


def _negate(n, role, alphabet):
    if isinstance(n, Node) and role in _VALUE and n != _ZERO:            # -0 is 0: no mutant
        if n.kind == "add" and n != _K_MINUS_1:               # a + b -> a - b (one term at a time)
            for i, t in enumerate(n.args):
                if t.kind != "neg" and t != _ZERO:
                    yield "sign", Node("add", n.args[:i] + (Node("neg", (t,)),) + n.args[i + 1:])
        if role == "side" and n.kind not in ("neg", "tuple", "text") and n != Node("q", (None,)):   # a whole side
            yield "sign", Node("neg", (n,))


def _coefficient(n, role, alphabet):
    if isinstance(n, Node) and role in _VALUE:
        if n.kind == "num":
            yield "coefficient", _number(n.args[0])
        if n.kind == "mul":
            for i, f in enumerate(n.args):
                if _is_constant(f) and f != _ONE:
                    yield "coefficient", _without(n, i)


def _k(n, role, alphabet):
    if n == _K and role in _VALUE + ("index",):
        yield "K vs K-1", _K_MINUS_1
    if n == _K_MINUS_1 and role in _VALUE:
        yield "K vs K-1", _K


def _max(n, role, alphabet):
    if isinstance(n, Node) and role in _VALUE:
        if n.kind == "max":
            yield "max vs min", Node("min", n.args)
            yield "max vs min", _NORM
        if n.kind == "min":
            yield "max vs min", Node("max", n.args)
        if n.kind == "norm_inf" or n == Node("var", ("M",)):
            yield "max vs min", _MAX


def _dropped(n, role, alphabet):
    if isinstance(n, Node) and role in _VALUE:
        if n.kind == "add" and n != _K_MINUS_1:
            for i in range(len(n.args)):
                yield "dropped term", _without(n, i)
        if n.kind == "dots":
            yield "dropped term", n.args[0]
        if n.kind == "sum" and isinstance(n.args[1], Node) and n.args[1].kind == "num":
            yield "dropped term", Node("sum", (n.args[0], _number(n.args[1].args[0])) + n.args[2:])


def _index(n, role, alphabet):
    if isinstance(n, Node) and role == "index" and n.kind in ("num", "var"):
        others = [i for i in alphabet if i != n]
        if n.kind == "num" and _number(n.args[0]) not in alphabet:
            others.append(_number(n.args[0]))
        for other in others:
            yield "index", other
    if isinstance(n, Node) and role == "condition" and n.kind == "num":
        yield "index", _number(n.args[0])
    if isinstance(n, Node) and role in _VALUE and n.kind == "sum":
        lo = n.args[1]
        if isinstance(lo, Node) and lo.kind == "num" and lo.args[0] >= 2:
            yield "index", Node("sum", (n.args[0], Node("num", (lo.args[0] - 1,))) + n.args[2:])


def _relation(n, role, alphabet):
    if isinstance(n, Relation) and role == "part":
        if n.op == "chain":
            links = n.rhs.args
            for i, r in enumerate(links):
                for op in _FLIPS.get(r.op, ()):
                    ops = [x.op for x in links]
                    ops[i] = op
                    yield "relation", _make_chain(ops, n.terms())
        else:
            for op in _FLIPS.get(n.op, ()):
                yield "relation", Relation(op, n.lhs, n.rhs)
    if isinstance(n, Relation) and role == "cond" and n.op in ("=", "!="):
        yield "relation", Relation({"=": "!=", "!=": "="}[n.op], n.lhs, n.rhs)


#: The rules in the order mutants are generated (each over every place, pre-order).
RULES: tuple[Rule, ...] = (_flip, _negate, _coefficient, _k, _max, _dropped, _index, _relation)


def _alphabet(reading: Reading) -> tuple[list, set]:
    """The distinct class indices (numbers and names) of a reading, in order of appearance, and the names
    that some sum binds (such a name is an index only inside its sum)."""
    out, summed = [], set()
    for part in reading.parts:
        for _, n, role, bound in _walk(part, "part"):
            summed.update(bound)
            if role == "index" and isinstance(n, Node) and n.kind in ("num", "var") and n not in out:
                out.append(n)
    return out, summed


def _in_scope(alphabet: list, summed: set, bound: tuple) -> list:
    return [i for i in alphabet if i.kind == "num" or i.args[0] not in summed or i.args[0] in bound]


def _short(before: str, after: str, width: int = 90) -> str:
    """``before -> after``; long renderings cut to the part that changed, with some context on either side."""
    if len(before) + len(after) <= width:
        return f"{before} -> {after}"
    n = min(len(before), len(after))
    p = 0
    while p < n and before[p] == after[p]:
        p += 1
    s = 0
    while s < n - p and before[-1 - s] == after[-1 - s]:
        s += 1
    a = max(0, p - 15)
    a = before.rfind(" ", 0, a) + 1 if a else 0                 # back to a space: more context, never less
    keep = before.find(" ", len(before) - s + 15)               # 15 characters of the common end, up to a space
    b = 0 if keep < 0 else len(before) - keep

    def cut(t: str) -> str:
        mid = t[a:len(t) - b]
        if len(mid) > 70:
            mid = mid[:50] + " … " + mid[-16:]
        return ("…" if a else "") + mid + ("…" if b else "")
    return f"{cut(before)} -> {cut(after)}"


def _get(obj, path: tuple):
    for step in path:
        if isinstance(obj, Relation):
            obj = obj.terms()[step] if obj.op == "chain" else (obj.lhs, obj.rhs)[step]
        else:
            obj = (obj.args if isinstance(obj, Node) else obj)[step]
    return obj


def _describe(before: object, after: object, path: tuple, place, role: str, shown: set) -> str:
    """``before -> after`` at the place (its parent when the place is small), widened until it is unambiguous."""
    depth = len(path)
    if depth and (role in ("index", "condition") or (isinstance(place, Node) and kind_of(place).small)):
        parent = _get(before, path[:-1])
        if isinstance(parent, Node) or (role == "condition" and isinstance(parent, Relation)):
            depth -= 1
            if isinstance(parent, Node) and parent.kind == "event":        # y = 1: shown as Pr(y = 1|x)
                depth -= 1
    while True:
        change = _short(latex(_get(before, path[:depth])), latex(_get(after, path[:depth])))
        if change not in shown:
            return change
        if depth == 0:
            n = 2
            while f"{change} (occurrence {n})" in shown:
                n += 1
            return f"{change} (occurrence {n})"
        depth -= 1


def variants(reading: Reading) -> list[tuple[str, str, Reading]]:
    """Every mutant of one formula: ``(kind, change, reading)``, in the order of :data:`RULES`.

    ``change`` renders the place before and after (LaTeX, cut to the change when
    long); the mutant's ``latex`` is the mutated formula, rendered. Mutants that
    equal the formula or an earlier mutant are left out.

    >>> from derivations.engine.notation import read
    >>> [c for k, c, _ in variants(read(r"= \\frac{\\epsilon}{K - 1}")) if k == "K vs K-1"]
    ['K - 1 -> K']
    >>> [c for k, c, _ in variants(read(r"q_{a} \\delta_{ab} - q_{a} q_{b}")) if k == "index"][:2]
    ['q_{a} -> q_{b}', 'q_{a} q_{b} -> q_{b} q_{b}']
    """
    out, seen, shown = [], {tuple(reading.parts)}, set()
    alphabet, summed = _alphabet(reading)
    for rule in RULES:
        for i, part in enumerate(reading.parts):
            for path, place, role, bound in _walk(part, "part"):
                for kind, new in rule(place, role, _in_scope(alphabet, summed, bound)):
                    if new == place:
                        continue
                    parts = list(reading.parts)
                    parts[i] = _put(part, path, new)
                    key = tuple(parts)
                    if key in seen:
                        continue
                    seen.add(key)
                    change = _describe(part, parts[i], path, place, role, shown)
                    shown.add(change)
                    out.append((kind, change, Reading(_render_reading(parts, reading.because), parts, reading.because)))
    return out


def mutants(claim: Claim) -> list[Mutant]:
    """The claim's mutants: of the printed formula, then of each input, then of the corrected form.

    A claim whose printed text is prose without mathematics has no printed mutants.
    """
    f = claim.formulas()
    out = [Mutant("printed", k, f"printed: {c}", replace(f, printed=r)) for k, c, r in variants(f.printed)]
    for name, reading in f.inputs.items():
        out += [Mutant(f"input:{name}", k, f"input:{name}: {c}", replace(f, inputs={**f.inputs, name: r}))
                for k, c, r in variants(reading)]
    if f.corrected is not None:
        out += [Mutant("corrected", k, f"corrected: {c}", replace(f, corrected=r)) for k, c, r in variants(f.corrected)]
    return out


# -- running them ----------------------------------------------------------------------------------
class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Raise :class:`_Timeout` after ``seconds`` (main thread, POSIX only; otherwise no limit)."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def kill(claim: Claim, mutant: Mutant, timeout: float | None = None) -> tuple[Status, str]:
    """Run the claim's check on the mutant's formulas: ``(status, why)``.

    Killed: the outcome has problems, or its verdict differs from the normal
    run's (:func:`~derivations.engine.registry.run`); the check stops at its first
    fact that fails (:func:`~derivations.engine.registry.stop_at_failed_finding`), a
    problem already. Invalid: the check raised, or took
    longer than ``timeout`` seconds. Otherwise survived. Meaningful only when
    the normal run is sound (see :func:`report`).
    """
    normal = run(claim).verdict
    try:
        with _time_limit(timeout), stop_at_failed_finding():
            outcome = outcome_of(claim, evidence_for(claim, mutant.formulas))
    except FailedFinding as failed:                  # the outcome is unsound already: the rest of the check is not run
        return Status.KILLED, str(failed)
    except _Timeout:
        return Status.INVALID, f"timed out after {timeout:g} s"
    except Exception as e:
        text = str(e).splitlines()[0] if str(e) else ""
        return Status.INVALID, f"{type(e).__name__}: {text[:160]}"
    said = [f"verdict {normal.value} -> {outcome.verdict.value}"] if outcome.verdict is not normal else []
    said += [p for p in outcome.problems if not p.startswith("computed verdict")][:1]
    if said:
        more = len(outcome.problems) - len(said)   # the verdict's change is one of the problems
        return Status.KILLED, "; ".join(said) + (f" (+{more} more problems)" if more > 0 else "")
    return Status.SURVIVED, f"accepted: {outcome.verdict.value}, sound"


#: Seconds a mutant's check may take before it counts as invalid, by default (the slowest normal checks take
#: about a second; a mutant can make a check loop much longer).
TIMEOUT = 900.0


@dataclass
class Trial:
    """One mutant run: its status, why, and how long the check took."""

    mutant: Mutant
    status: Status
    reason: str
    seconds: float


@dataclass
class ClaimReport:
    """The mutants of one claim that were run (all, or up to the first kill)."""

    claim: Claim
    sound: bool                       # the normal run is sound (otherwise no mutant was run)
    generated: int
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(t.status is status for t in self.trials)

    @property
    def survivors(self) -> list[Trial]:
        return [t for t in self.trials if t.status is Status.SURVIVED]

    @property
    def defect(self) -> bool:
        """No mutant killed (or the normal run unsound): the check does not show that it reads its formula."""
        return not self.sound or self.count(Status.KILLED) == 0


def report(claims: Iterable[Claim], limit: int | None = None, stop_at_kill: bool = True,
           timeout: float | None = TIMEOUT, progress: Callable[[Claim, Trial], None] | None = None,
           jobs: int = 1) -> list[ClaimReport]:
    """Run the mutants of each claim: up to the first kill (``stop_at_kill``), at most ``limit`` each, the claims
    shared among ``jobs`` processes (:func:`derivations.engine.parallel.in_processes`; ``progress`` needs ``jobs=1``).

    A claim whose normal run is unsound gets no trials (every mutant would be
    "killed" by the unsoundness already there) and counts as a defect.

    Each process computes a claim's normal run and then its mutants, so what the
    check computed once (its compiled formulas, its limits) is there for the
    mutants. Runs up to the first kill of registered claims are kept with the
    claims' evidence (:mod:`derivations.engine.results`): a test session computes them
    once, with the claims (``conftest.py``), and the mutation test reads them.
    """
    claims = list(claims)
    done = {c: stored for c in claims if (stored := _stored(c, limit, stop_at_kill, timeout)) is not None}
    todo = [c for c in claims if c not in done]
    if jobs > 1 and len(todo) > 1:
        units = in_processes(lambda unit: [_trials(c, limit, stop_at_kill, timeout) for c in unit],
                             _chapter_units(todo), jobs)
        done.update((c, t) for unit, trials in units for c, t in zip(unit, trials))
    else:
        done.update((c, _trials(c, limit, stop_at_kill, timeout, progress)) for c in todo)
    out = []
    for claim in claims:
        sound, generated, trials, seconds = done[claim]
        ms = mutants(claim) if trials else []
        out.append(ClaimReport(claim, sound, generated, [Trial(ms[i], st, why, sec) for i, st, why, sec in trials],
                               seconds))
    return out


def _chapter_units(claims: list[Claim]) -> list[tuple[Claim, ...]]:
    """The claims in units of work by chapter (:func:`~derivations.engine.registry.work_units` joined, so claims that
    share an experiment stay together), the chapters with most claims first: a chapter's claims and their
    mutants, in one process, share what their checks compile (the same forms, limits and functions), which
    finer units computed again in each process (about 5.75 s -> 5.45 s on two cores).

    >>> from derivations.engine.registry import Verdict
    >>> a, b, c = (Claim(i, n, "", 1, "", "x", None, Verdict.HOLDS) for i, n in (("a", 1), ("b", 2), ("c", 2)))
    >>> [[x.id for x in unit] for unit in _chapter_units([a, b, c])]
    [['b', 'c'], ['a']]
    """
    chapters: dict[int, list[Claim]] = {}
    for unit in work_units(claims):
        chapters.setdefault(unit[0].chapter, []).extend(unit)
    return [tuple(u) for u in sorted(chapters.values(), key=len, reverse=True)]


def _first_kill_key(claim: Claim, limit, stop_at_kill, timeout) -> str | None:
    """Where the runs up to the first kill of a registered claim are kept (:mod:`derivations.engine.results`), or
    ``None`` for other runs (every mutant, a limit, an ad-hoc claim)."""
    if not stop_at_kill or limit is not None or REGISTRY.get(claim.id) is not claim:
        return None
    return f"{claim.id}.mutants-to-first-kill.timeout-{timeout}"


def _stored(claim: Claim, limit, stop_at_kill, timeout) -> tuple | None:
    key = _first_kill_key(claim, limit, stop_at_kill, timeout)
    return results.load(key) if key else None


def _trials(claim: Claim, limit, stop_at_kill, timeout, progress=None) -> tuple:
    """One claim's mutant runs, as plain values that pickle: ``(sound, generated, [(index, status, reason,
    seconds)], seconds)``; kept for the run when they are runs up to the first kill (:func:`_first_kill_key`)."""
    key = None if progress is not None else _first_kill_key(claim, limit, stop_at_kill, timeout)
    done = _runs(claim, limit, stop_at_kill, timeout, progress)
    if key:
        results.save(key, done)
    return done


def _runs(claim: Claim, limit, stop_at_kill, timeout, progress) -> tuple:
    start = time.perf_counter()
    ms = mutants(claim)
    sound, trials = run(claim).ok, []
    for i in _likeliest_kill_first(claim, ms[:limit]) if sound else []:
        m = ms[i]
        t0 = time.perf_counter()
        status, why = kill(claim, m, timeout)
        trials.append((i, status, why, time.perf_counter() - t0))
        if progress is not None:
            progress(claim, Trial(m, status, why, trials[-1][3]))
        if stop_at_kill and status is Status.KILLED:
            break
    return sound, len(ms), trials, time.perf_counter() - start


def _likeliest_kill_first(claim: Claim, ms: list[Mutant]) -> list[int]:
    """The indices of ``ms`` in the order they are tried: for an erratum, the corrected form's mutants first (a
    wrong printed line mutated is mostly still wrong, and survives: chapter 2's ``q_modified`` ran 19 printed
    mutants before its first kill), otherwise as generated. Every mutant is still tried when none is killed.

    >>> from derivations.engine.registry import Verdict
    >>> c = Claim("x", 1, "", 1, "", "x", None, Verdict.ERRATUM)
    >>> _likeliest_kill_first(c, [Mutant("printed", "", "", None), Mutant("corrected", "", "", None)])
    [1, 0]
    """
    first = [i for i, m in enumerate(ms) if claim.stated is Verdict.ERRATUM and m.where == "corrected"]
    return first + [i for i in range(len(ms)) if i not in first]


def format_report(reports: list[ClaimReport], survivors: bool = True) -> str:
    """A table: per claim, mutants generated and tried, killed / survived / invalid, time; then the survivors."""
    width = max([len(r.claim.id) for r in reports] + [5])
    lines = [f"{'claim':<{width}}  {'mutants':>7}  {'tried':>5}  {'killed':>6}  {'survived':>8}  {'invalid':>7}  "
             f"{'time':>7}  status"]
    for r in reports:
        status = ("UNSOUND normal run" if not r.sound else "DEFECT: no mutant killed" if r.defect
                  else f"first kill: mutant {next(i for i, t in enumerate(r.trials, 1) if t.status is Status.KILLED)}")
        lines.append(f"{r.claim.id:<{width}}  {r.generated:>7}  {len(r.trials):>5}  {r.count(Status.KILLED):>6}  "
                     f"{r.count(Status.SURVIVED):>8}  {r.count(Status.INVALID):>7}  {r.seconds:>6.1f}s  {status}")
    if survivors and any(r.survivors for r in reports):
        lines.append("\nsurvivors (the check accepted a wrong formula with the same verdict):")
        for r in reports:
            for t in r.survivors:
                lines.append(f"  {r.claim.id}  [{t.mutant.kind}]  {t.mutant.description}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m audit.mutation`` (``make mutants``): exit 1 when some claim's check kills none of its mutants,
    2 when the selection holds no claim."""
    from derivations.engine.registry import claims, get

    parser = argparse.ArgumentParser(prog="python -m audit.mutation",
                                     description="Run each claim's check on wrong variants of its formulas "
                                                 "(a sign, a coefficient, K against K-1, max against ||z||_inf, a "
                                                 "dropped term, an index, a relation) and count how many it catches.")
    parser.add_argument("--claim", action="append", metavar="ID", help="only this claim (repeatable)")
    parser.add_argument("--chapter", type=int, default=None, help="only this chapter's claims")
    parser.add_argument("--all", action="store_true", help="run every mutant (default: stop at the first kill)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many mutants per claim")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per mutant before it counts as "
                                                                        f"invalid (default {TIMEOUT:g}; 0: none)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every mutant as it is run (one process)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes sharing the claims (default: one per core)")
    args = parser.parse_args(argv)
    chosen = [get(i) for i in args.claim] if args.claim else claims(args.chapter)
    if not chosen:
        print("no claims to mutate" + (f" in chapter {args.chapter}" if args.chapter is not None else ""),
              file=sys.stderr)
        return 2

    def show(claim, t):
        print(f"  {claim.id}  {t.status.value:<8} {t.seconds:6.2f}s  [{t.mutant.kind}] {t.mutant.description}"
              f"  -- {t.reason}", file=sys.stderr, flush=True)
    reports = report(chosen, limit=args.limit, stop_at_kill=not args.all, timeout=args.timeout or None,
                     progress=show if args.verbose else None, jobs=1 if args.verbose else max(1, args.jobs))
    print(format_report(reports))
    return 1 if any(r.defect for r in reports) else 0


if __name__ == "__main__":
    # run as the module audit.mutation, not as __main__: the runs other processes stored (results) were pickled
    # with audit.mutation's classes, and a second copy of them, __main__'s, would compare unequal to theirs
    from audit.mutation import main as run_main

    sys.exit(run_main())

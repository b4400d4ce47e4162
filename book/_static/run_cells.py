"""Run a chapter's derivation cells in the book's page (issue 36): the Python half of ``run.js`` and
``run-worker.js``.

In the page, Pyodide runs this module in a Web Worker; the tests run the same module in CPython
(``tests/test_run_in_book.py``). It imports SymPy and the engine's derivation words (``derivations.engine.derive``
and what it imports: no NumPy), nothing else of the project.

* :func:`setup` reads the chapter's manifest (written when the book is built, ``book/builder.py``: the chapter's
  derivation cells as stored, and the claims they decide, with the numeric checks computed then) and registers
  its claims, without their numeric checks, which need NumPy;
* :func:`dependencies` finds the cells a cell depends on: for each name it reads before binding it, the last cell
  above that binds the name, and so on up (a cell that imports ``*`` counts for every cell below it);
* :func:`run` runs a cell after them (each cell from its current source, edited or not), from a namespace kept for
  the same cells and sources, so that running the same cell again runs it alone, and returns its outputs:
  ``steps(...)`` typeset (LaTeX), the verdict (Markdown) recomputed by ``verdict(...)``, printed text.

What a run keeps for the next (:func:`run`): the namespace after the cells above, keyed by their sources; and the
results of each statement that took a while (:data:`MEMO_SECONDS`), keyed by the statement and the values of every
name it reads (through the functions it calls too): a statement whose code and inputs are unchanged is not run
again, its names bound to what it gave and its outputs shown again (:func:`_fingerprint` says when two values are
the same; a statement that changed what it read, or whose inputs cannot be compared, is always run). A function a
cell defined reads the namespace of the run it is used in, never one of an earlier run. And the value of each sum
SymPy evaluated slowly (:func:`_remembering_sums`), so that an edited statement that evaluates the same sums finds
them.

The verdict is decided again from what the cell hands ``verdict``: the engine's own
:func:`~derivations.engine.derive.decide`, then :func:`~derivations.engine.registry.evidence_of` with the numeric
checks as computed when the book was built, and :class:`~derivations.engine.display.ClaimView`, as in the notebook.
Where the recomputed decision and a numeric check read a form differently, the view says so.
"""
from __future__ import annotations

import ast
import builtins
import collections
import contextlib
import io
import json
import symtable
import sys
import time
import traceback
import types

__all__ = ["setup", "dependencies", "run", "BUILT_NOTE", "MEMO_SECONDS"]

#: Said in the summary of a claim's folded checks: the numeric checks were not run again in the page.
BUILT_NOTE = "when the book was built (the numeric checks need NumPy: not run again in the page)"
#: The summary's opening words in the engine's view (``derivations.engine.display``).
_SUMMARY = "<summary>How it was checked: "

#: A statement is remembered for the next runs (:func:`_statement`) when it took at least this long (seconds).
MEMO_SECONDS = 0.02
#: How many statements' results are kept (the least recently used go first).
MEMO_SIZE = 256
#: How many sums' values are kept (:func:`_remembering_sums`; the least recently used go first).
SUMS_SIZE = 256

_STATE: dict = {}
#: Marks a namespace of this module's runs (its key ``__book__``): a function whose globals are one was defined by a
#: cell, and is bound again to the namespace it is used in.
_MARK = object()


# -- the chapter ------------------------------------------------------------------------------------------------
def setup(manifest: str | dict) -> dict:
    """Register the claims of a chapter's manifest (JSON text or its dict) and keep its cells; return what the page
    needs: each cell's index, and whether it is hidden in the page."""
    from sympy.printing import latex  # noqa: F401  (SymPy first: the engine imports it)

    from derivations.engine import derive, display
    from derivations.engine.finding import Finding
    from derivations.engine.registry import REGISTRY, Claim, Numeric, Verdict, register

    m = json.loads(manifest) if isinstance(manifest, str) else manifest
    numeric = {}
    for c in m["claims"]:
        if c["id"] not in REGISTRY:
            register(Claim(id=c["id"], chapter=c["chapter"], section=c["section"], order=c["order"],
                           title=c["title"], printed=c["printed"], stated=Verdict(c["stated"]),
                           assumption=c["assumption"], corrected=c["corrected"], remark=c["remark"],
                           source=c["source"], inputs=c["inputs"], shares=c["shares"],
                           context=_context(c["context"])))
        n = c.get("numeric")
        if n is not None:
            numeric[c["id"]] = Numeric([Finding(**f) for f in n["findings"]],
                                       _Stored(n["counterexample"]) if n["counterexample"] is not None else None,
                                       n["printed"], n["assuming"], n["corrected"])
    _STATE.update(cells={c["index"]: c["source"] for c in m["cells"]}, numeric=numeric, snapshots={},
                  outputs=None, memo=collections.OrderedDict(), library=_library())
    _STATE["sums"] = collections.OrderedDict()
    _remembering_sums()
    derive._show = _show                       # steps(...) and friends: into this run's outputs
    display.shown_verdict = _verdict           # verdict(...): recomputed, with the build's numeric checks
    return {"cells": [{"index": c["index"], "hidden": c.get("hidden", False)} for c in m["cells"]]}


def _remembering_sums() -> None:
    """SymPy's ``Sum.doit`` made to keep, across runs, the value of each sum that took :data:`MEMO_SECONDS` or more,
    keyed by the sum (its structure: SymPy's expressions are immutable and compare by it), the hints, and SymPy's
    global state (:func:`_sympy_state`). An edit that changes a statement but not the sums it evaluates (chapter 3's
    cell 39: ``noise = 2*cov.lhs.replace(Pr, flipped).doit()``, 0.5-0.7 s of summation in CPython) finds their
    values. Only SymPy's expressions are kept (immutable); an error is not."""
    from sympy import Basic, Sum

    if getattr(Sum.doit, "_book_sums", False):
        return
    evaluate = Sum.doit

    def doit(self, **hints):
        memo = _STATE.get("sums")
        try:
            key = (self, tuple(sorted(hints.items())), _sympy_state())
            found = memo.get(key) if memo is not None else None
        except TypeError:                              # a hint that is not hashable
            return evaluate(self, **hints)
        if found is not None:
            memo.move_to_end(key)
            return found
        t0 = time.perf_counter()
        value = evaluate(self, **hints)
        if memo is not None and isinstance(value, Basic) and time.perf_counter() - t0 >= MEMO_SECONDS:
            memo[key] = value
            while len(memo) > SUMS_SIZE:
                memo.popitem(last=False)
        return value

    doit._book_sums = True
    doit.__doc__ = evaluate.__doc__
    Sum.doit = doit


def _library() -> frozenset:
    """The identities of the objects SymPy, mpmath and the engine hold at the top of their modules (``Q``, ``S``,
    ``oo``, their functions and classes): theirs, not a run's (and some fill caches as they are used), so compared
    by identity (:func:`_fingerprint`)."""
    return frozenset(id(v) for name, module in list(sys.modules.items())
                     if name.split(".")[0] in _PACKAGES and module is not None
                     for v in list(vars(module).values()) if type(v) not in _PLAIN)


def _context(name: str | None):
    """The reading of the note's symbols named ``module:name`` (``None``: the default)."""
    import importlib

    if not name:
        return None
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


class _Stored(str):
    """A counterexample as the book's build found and wrote it (its sentence)."""


# -- the cells a cell depends on -----------------------------------------------------------------------------
def _names(source: str) -> tuple[list[tuple[set, set]], bool]:
    """A cell's top-level statements in order, each as (names it reads, names it binds at the top level), and
    whether it imports ``*``."""
    out, star = [], False
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            star = True
            out.append((set(), set()))
            continue
        out.append(_statement_names(stmt))
    return out, star


def _statement_names(stmt: ast.stmt) -> tuple[set, set]:
    """A top-level statement's (names it reads, names it binds at the top level). Reads inside functions, lambdas
    and comprehensions count where they refer to the top level (Python's own symbol tables say which)."""
    table = symtable.symtable(ast.unparse(stmt), "<cell>", "exec")
    reads, binds = set(), set()
    for s in table.get_symbols():
        if s.is_referenced():
            reads.add(s.get_name())
        if s.is_assigned() or s.is_imported() or s.is_namespace():
            binds.add(s.get_name())
    stack = list(table.get_children())
    while stack:                          # nested scopes: their reads of the top level
        t = stack.pop()
        stack.extend(t.get_children())
        for s in t.get_symbols():
            if s.is_global() and s.is_referenced():
                reads.add(s.get_name())
            if s.is_declared_global() and s.is_assigned():
                binds.add(s.get_name())
    for node in ast.walk(stmt):           # x[i] = ..., x.a = ...: x read (and changed: see dependencies)
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                reads.add(base.id)
                binds.add(base.id)
    return reads, binds


def _free_and_bound(source: str) -> tuple[set, set, bool]:
    """What a cell reads before binding it (its free names), what it binds, and whether it imports ``*``."""
    statements, star = _names(source)
    free, bound = set(), set()
    for reads, binds in statements:
        free |= reads - bound - set(dir(builtins))
        bound |= binds
    return free, bound, star


def dependencies(sources: dict[int, str], target: int) -> list[int]:
    """The cells (their indices, in order) that ``target`` depends on among ``sources`` (index -> source, the
    chapter's derivation cells): for each name a cell reads before binding it, the last cell above it that binds
    the name; every cell above that imports ``*``; and the same for each cell found. A cell that does not parse
    raises ``SyntaxError``."""
    order = sorted(i for i in sources if i < target)
    info = {i: _free_and_bound(sources[i]) for i in [*order, target]}
    needed, todo = set(), [target]
    while todo:
        k = todo.pop()
        free = info[k][0]
        above = [i for i in order if i < k]
        for i in above:
            if info[i][2] and i not in needed:        # from ... import *: any name may come from it
                needed.add(i)
                todo.append(i)
        for name in free:
            home = next((i for i in reversed(above) if name in info[i][1]), None)
            if home is not None and home not in needed:
                needed.add(home)
                todo.append(home)
    return sorted(needed)


# -- running -------------------------------------------------------------------------------------------------------
def _exec(source: str, namespace: dict, name: str, show_last: bool) -> None:
    """Run a cell's source in ``namespace``, statement by statement (:func:`_statement`); with ``show_last``, the
    value of a last bare expression is shown, as Jupyter shows it."""
    body = ast.parse(source).body
    for k, stmt in enumerate(body):
        _statement(stmt, namespace, name, show_last and k == len(body) - 1 and isinstance(stmt, ast.Expr))


def run(target: int, sources: dict | None = None, progress=None) -> dict:
    """Run cell ``target`` after the cells it depends on, each from ``sources`` (index -> source; the stored source
    where not given); return ``{"outputs": [...], "ran": [indices], "seconds": ..., "error": None or text,
    "recalled": statements not run again}``. Each output is ``{"kind": "latex" | "markdown" | "verdict" | "text",
    ...}``. ``progress(index, needed)``, when given, is called before each cell runs (``needed``: the cells left to
    run before the target, in order)."""
    start = time.perf_counter()
    current = {**_STATE["cells"], **{int(k): v for k, v in (sources or {}).items()}}
    outputs: list = []
    _STATE["outputs"] = outputs
    _STATE["recalled"] = 0
    ran: list[int] = []
    stdout = io.StringIO()
    try:
        deps = dependencies(current, target)
        namespace = _namespace(deps, current, ran, progress)
        if progress is not None:
            progress(target, [])
        with contextlib.redirect_stdout(stdout):
            _exec(current[target], namespace, f"<cell {target}>", show_last=True)
        ran.append(target)
        error = None
    except BaseException as err:                       # the reader's code: any error is shown under the cell
        error = _readable(err)
    finally:
        _STATE["outputs"] = None
    if stdout.getvalue():
        outputs.insert(0, {"kind": "text", "text": stdout.getvalue()})
    return {"outputs": outputs, "ran": ran, "seconds": time.perf_counter() - start, "error": error,
            "recalled": _STATE["recalled"]}


def _namespace(deps: list[int], sources: dict, ran: list, progress=None) -> dict:
    """A fresh copy of the namespace after ``deps``, each from its current source: from the namespace kept for the
    longest run of them already done (:func:`_restored`), running the rest (their outputs are not shown)."""
    snapshots = _STATE["snapshots"]
    key: tuple = ()
    namespace = None
    start = 0
    for n in range(len(deps), 0, -1):
        k = tuple((i, sources[i]) for i in deps[:n])
        if k in snapshots:
            namespace = _restored(snapshots[k])
            if namespace is None:                      # changed since it was kept: not used again
                del snapshots[k]
                continue
            key, start = k, n
            break
    if namespace is None:
        namespace = {"__name__": "__main__", "__book__": _MARK, "display": _show}      # display(...), as in Jupyter
    for n, i in enumerate(deps[start:], start=start):
        if progress is not None:
            progress(i, deps[n:])
        outputs = _STATE["outputs"]
        _STATE["outputs"] = []                         # what a cell above shows is not this cell's output
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                _exec(sources[i], namespace, f"<cell {i}>", show_last=False)
        except BaseException as err:
            raise _Above(i, err) from err
        finally:
            _STATE["outputs"] = outputs
        ran.append(i)
        key = key + ((i, sources[i]),)
        snapshots[key] = _kept(namespace)
    return namespace


def _kept(namespace: dict) -> tuple[dict, dict]:
    """A namespace as kept for later runs: a copy of it that nothing runs in (its lists, dicts, sets and matrices
    copied, its cells' functions bound to it, so that a later run changes none of it), and the fingerprint of each
    value that has one (to tell, when it is used again, that nothing changed it since)."""
    kept: dict = {}
    kept.update({k: v if _dunder(k) else _fresh(v, kept) for k, v in namespace.items()})
    prints = {}
    for k, v in kept.items():
        if not _dunder(k) and _shared(v):
            with contextlib.suppress(_Unprinted):
                prints[k] = _fingerprint(v, _budget=[2000])
    return kept, prints


def _restored(kept: tuple[dict, dict]) -> dict | None:
    """A new namespace from one :func:`_kept` (copies of its lists, dicts, sets and matrices; its cells' functions
    bound to the new namespace), or ``None`` when one of its values was changed since."""
    values, prints = kept
    for k, fp in prints.items():
        try:
            if _fingerprint(values[k], _budget=[2000]) != fp:
                return None
        except _Unprinted:
            return None
    namespace: dict = {}
    namespace.update({k: v if _dunder(k) else _fresh(v, namespace) for k, v in values.items()})
    return namespace


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _shared(value, depth: int = 0) -> bool:
    """Whether ``value`` may hold an object that a later run could change in place and that :func:`_fresh` does
    not copy (an object other than numbers, text, SymPy's expressions, functions, classes, modules, and the
    containers it copies): such a value is checked, by its fingerprint, before it is used again."""
    t = type(value)
    if t in _PLAIN or t in (float, complex) or isinstance(value, (types.FunctionType, types.BuiltinFunctionType,
                                                                    types.ModuleType, type)):
        return False
    sp = sys.modules.get("sympy")
    if sp is not None and isinstance(value, sp.Basic) or id(value) in _STATE.get("library", ()):
        return False
    if depth > 20:
        return True
    if t in (list, tuple, set, frozenset):
        return any(_shared(v, depth + 1) for v in value)
    if t is dict:
        return any(_shared(k, depth + 1) or _shared(v, depth + 1) for k, v in value.items())
    if sp is not None and isinstance(value, sp.MatrixBase):
        return False
    return True


# -- a statement, run or recalled ----------------------------------------------------------------------------------
#: Names whose use makes a statement's inputs unknowable from the names it reads.
_DYNAMIC = {"eval", "exec", "globals", "locals", "vars", "dir", "__import__", "compile", "breakpoint", "input"}


def _statement(stmt: ast.stmt, namespace: dict, name: str, show: bool) -> None:
    """Run one top-level statement of a cell in ``namespace`` (``show``: show the value of this bare expression),
    or, when the same statement ran before with the same inputs (:func:`_inputs`), bind its names to what it gave
    then and show its outputs again."""
    found = _inputs(stmt, namespace, show)
    key = found[0] if found is not None else None
    memo = _STATE["memo"]
    if key is not None and key in memo:
        if _recall(memo[key], namespace):
            memo.move_to_end(key)
            _STATE["recalled"] += 1
            return
        del memo[key]
    outputs = _STATE["outputs"]
    before = len(outputs) if outputs is not None else 0
    printed = io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(printed):
            if show:
                value = eval(compile(ast.Expression(stmt.value), name, "eval"), namespace)
                if value is not None:
                    _show(value)
            else:
                exec(compile(ast.Module([stmt], type_ignores=[]), name, "exec"), namespace)
    finally:
        sys.stdout.write(printed.getvalue())
    if key is None or time.perf_counter() - t0 < MEMO_SECONDS:
        return
    read = found[1]
    try:                                               # remembered only if it changed nothing it read
        if tuple((n, _fingerprint(v) if v is not _ABSENT else _ABSENT) for n, v in read) != key[2]:
            return
    except _Unprinted:
        return
    _remember(key, stmt, namespace, [dict(o) for o in outputs[before:]] if outputs is not None else [],
              printed.getvalue())


_ABSENT = ("absent",)


def _inputs(stmt: ast.stmt, namespace: dict, show: bool):
    """What a statement's result depends on: its code, and the fingerprint of every name it reads (and of the state
    of SymPy's assumptions and evaluation); and the values read. ``None`` when it cannot be remembered: a statement
    that changes a value in place (``x[i] = ...``, ``x.a = ...``, ``del``, ``global``), imports, defines, or reads
    a value without a fingerprint, or whose inputs are not all named (``eval``, ``globals()``, ...)."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
        return None
    if not all(_plain_target(t) for t in _targets(stmt)):
        return None
    reads, _ = _statement_names(stmt)
    if reads & _DYNAMIC:
        return None
    if isinstance(stmt, ast.AugAssign):
        reads = reads | {stmt.target.id}
    read = [(n, namespace.get(n, _ABSENT)) for n in sorted(reads)]
    try:
        prints = tuple((n, _fingerprint(v) if v is not _ABSENT else _ABSENT) for n, v in read)
    except _Unprinted:
        return None
    return (ast.dump(stmt), show, prints, _sympy_state()), read


def _targets(stmt: ast.stmt) -> list:
    if isinstance(stmt, ast.Assign):
        return stmt.targets
    return [] if isinstance(stmt, ast.Expr) else [stmt.target]


def _plain_target(t: ast.expr) -> bool:
    if isinstance(t, ast.Name):
        return True
    if isinstance(t, (ast.Tuple, ast.List)):
        return all(_plain_target(e) for e in t.elts)
    return isinstance(t, ast.Starred) and _plain_target(t.value)


def _sympy_state():
    """SymPy's global state that can change what a statement gives: its global assumptions and evaluation flags."""
    state = []
    with contextlib.suppress(Exception):
        from sympy.assumptions import global_assumptions
        from sympy.core.parameters import global_parameters

        state = [frozenset(global_assumptions), global_parameters.evaluate, global_parameters.distribute,
                 global_parameters.exp_is_pow]
    return tuple(state)


def _remember(key, stmt: ast.stmt, namespace: dict, outputs: list, printed: str) -> None:
    """Keep what a statement gave (each name it bound, copied, with its fingerprint), for :func:`_recall`."""
    names = [n.id for t in _targets(stmt) for n in ast.walk(t) if isinstance(n, ast.Name)]
    try:
        values = {k: _fresh(namespace[k], None) for k in names}
        prints = {k: _fingerprint(v) for k, v in values.items() if _shared(v)}
    except (_Unprinted, KeyError):
        return
    memo = _STATE["memo"]
    memo[key] = (values, prints, outputs, printed)
    while len(memo) > MEMO_SIZE:
        memo.popitem(last=False)


def _recall(entry, namespace: dict) -> bool:
    """Bind the names a remembered statement bound and show its outputs again; ``False`` (nothing done) when one of
    its values was changed since."""
    values, prints, outputs, printed = entry
    try:
        if any(_fingerprint(values[k]) != fp for k, fp in prints.items()):
            return False
    except _Unprinted:
        return False
    for k, v in values.items():
        namespace[k] = _fresh(v, namespace)
    if _STATE["outputs"] is not None:
        _STATE["outputs"].extend(dict(o) for o in outputs)
    sys.stdout.write(printed)
    return True


def _fresh(value, namespace: dict | None):
    """``value`` for use in ``namespace``: lists, dicts, sets and mutable matrices copied (and what they hold); a
    function a cell defined made anew with ``namespace`` as its globals (with ``None``: kept as it is)."""
    if isinstance(value, types.FunctionType):
        if namespace is None or value.__globals__.get("__book__") is not _MARK or value.__globals__ is namespace:
            return value
        f = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__, value.__closure__)
        f.__kwdefaults__, f.__qualname__, f.__doc__ = value.__kwdefaults__, value.__qualname__, value.__doc__
        f.__dict__.update(value.__dict__)
        return f
    t = type(value)
    if t is list:
        return [_fresh(v, namespace) for v in value]
    if t is tuple:
        return tuple(_fresh(v, namespace) for v in value)
    if t is dict:
        return {k: _fresh(v, namespace) for k, v in value.items()}
    if t is set:
        return set(value)
    sp = sys.modules.get("sympy")
    if sp is not None and isinstance(value, sp.MatrixBase) and not isinstance(value, sp.Basic):   # a mutable one
        return value.copy()
    return value


# -- when two values are the same ----------------------------------------------------------------------------------
class _Unprinted(Exception):
    """A value without a fingerprint."""


#: Types whose values are their own fingerprint (with their type: 1, 1.0 and True differ); floats by their text
#: (0.0 and -0.0 differ).
_PLAIN = (type(None), bool, int, str, bytes, range, slice, type(Ellipsis))
#: Objects of these packages' own classes are compared by their attributes (their state is in them).
_PACKAGES = ("sympy", "mpmath", "derivations")


def _fingerprint(value, _path: set | None = None, _budget: list | None = None):
    """A hashable value equal for two values that any code given them would treat alike: by their content (SymPy's
    expressions by their structure and assumptions, containers by what they hold, a function by its code, defaults,
    closure, and the fingerprints of the globals it reads when a cell defined it), modules, classes and builtins by
    identity. Raises :class:`_Unprinted` for anything else (a generator, an object of another package), a cycle, or
    too large a structure."""
    path = set() if _path is None else _path
    budget = [20000] if _budget is None else _budget
    budget[0] -= 1
    if budget[0] < 0:
        raise _Unprinted("too large")
    t = type(value)
    if t in _PLAIN:
        return (t, value)
    if t in (float, complex):
        return (t, repr(value))
    if isinstance(value, (types.ModuleType, types.BuiltinFunctionType, types.MethodWrapperType,
                          types.WrapperDescriptorType, types.MethodDescriptorType)):
        return ("same", value)
    sp = sys.modules.get("sympy")
    if sp is not None and isinstance(value, sp.Basic):
        return (t, value)
    if id(value) in _STATE.get("library", ()):
        return ("same", id(value))
    if id(value) in path:
        raise _Unprinted("a cycle")
    path.add(id(value))
    try:
        if t in (tuple, list):
            return (t, tuple(_fingerprint(v, path, budget) for v in value))
        if t in (set, frozenset):
            return (t, frozenset(_fingerprint(v, path, budget) for v in value))
        if t is dict:
            return (t, tuple((_fingerprint(k, path, budget), _fingerprint(v, path, budget)) for k, v in value.items()))
        if sp is not None and isinstance(value, sp.MatrixBase):
            return (t, value.shape, tuple(_fingerprint(v, path, budget) for v in value))
        if isinstance(value, type):
            if sp is not None and isinstance(value, sp.core.function.UndefinedFunction):
                return (t, value)                      # Function("f"): by its name and assumptions
            return ("same", value)
        if isinstance(value, types.FunctionType):
            return _function_print(value, path, budget)
        if isinstance(value, types.MethodType):
            return ("method", _fingerprint(value.__self__, path, budget), _fingerprint(value.__func__, path, budget))
        if t.__module__.split(".")[0] in _PACKAGES:
            state = dict(getattr(value, "__dict__", {}))
            for klass in t.__mro__:
                for slot in klass.__dict__.get("__slots__", ()):
                    if slot not in ("__dict__", "__weakref__") and hasattr(value, slot):
                        state[slot] = getattr(value, slot)
            return (t, tuple((k, _fingerprint(v, path, budget)) for k, v in sorted(state.items())))
        raise _Unprinted(t.__name__)
    finally:
        path.discard(id(value))


def _function_print(f: types.FunctionType, path: set, budget: list):
    code = _code_print(f.__code__)
    cells = tuple(_fingerprint(c.cell_contents, path, budget) if _filled(c) else ("empty",)
                  for c in f.__closure__ or ())
    defaults = _fingerprint(f.__defaults__, path, budget), _fingerprint(f.__kwdefaults__, path, budget)
    if f.__globals__.get("__book__") is not _MARK:           # a library's: its module's globals are its own
        return ("function", code, cells, defaults)
    names = _global_names(f.__code__)
    if names & _DYNAMIC:
        raise _Unprinted("reads names it is not given")
    g = f.__globals__
    reads = tuple((n, _fingerprint(g[n], path, budget)) for n in sorted(names) if n in g and n != "__book__")
    return ("function", code, cells, defaults, reads)


def _code_print(code: types.CodeType) -> tuple:
    """A function's code, where it stands in its cell left out (a line added above it changes nothing it does)."""
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, code.co_flags,
            code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_name,
            tuple(_code_print(k) if isinstance(k, types.CodeType) else (type(k), repr(k)) for k in code.co_consts))


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _global_names(code: types.CodeType) -> set:
    """The names a function's code (and the code nested in it) may read from its globals."""
    names, todo = set(), [code]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


class _Above(Exception):
    """A cell above, one the cell depends on, raised."""

    def __init__(self, index: int, err: BaseException):
        super().__init__(index, err)
        self.index, self.err = index, err


def _readable(err: BaseException) -> str:
    """An error as the reader needs it: the exception, and the line of the cell where it happened."""
    where = ""
    if isinstance(err, _Above):
        where, err = f"A cell this one depends on (notebook cell {err.index}) raised: ", err.err
    if isinstance(err, SyntaxError):
        return f"{where}SyntaxError: {err.msg} (line {err.lineno}{f', column {err.offset}' if err.offset else ''})" \
               + (f"\n    {err.text.rstrip()}" if err.text else "")
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<cell")]
    line = f" (line {frames[-1].lineno} of {frames[-1].filename[1:-1]})" if frames else ""
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return f"{where}{text}{line}"


# -- what a cell shows ---------------------------------------------------------------------------------------------
def _show(obj) -> None:
    """``display`` in the page: the object's Markdown, else its LaTeX, else SymPy's LaTeX, else its text."""
    outputs = _STATE.get("outputs")
    if outputs is None:
        return
    if isinstance(obj, _BookVerdict):
        outputs.append(obj.output())
        return
    for kind, method in (("markdown", "_repr_markdown_"), ("latex", "_repr_latex_")):
        f = getattr(obj, method, None)
        if f is not None:
            text = f()
            if text is not None:
                outputs.append({"kind": kind, "text": text})
                return
    import sympy as sp

    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        outputs.append({"kind": "latex", "text": rf"$\displaystyle {sp.latex(obj)}$"})
    else:
        outputs.append({"kind": "text", "text": repr(obj)})


class _BookVerdict:
    """A claim's view in the page: the notebook's view of the recomputed decision, with the numeric checks as the
    build computed them (said in the summary of their fold), and what changed from the verified verdict."""

    def __init__(self, outcome):
        self.outcome = outcome

    def output(self) -> dict:
        from derivations.engine.display import ClaimView

        o = self.outcome
        md = ClaimView(o)._repr_markdown_()
        if _SUMMARY in md:
            md = md.replace(_SUMMARY, f"<summary>How it was checked {BUILT_NOTE}: ", 1)
        return {"kind": "verdict", "claim": o.claim.id, "text": md, "verdict": o.verdict.value,
                "verified": o.claim.stated.value, "problems": o.problems}

    def _repr_markdown_(self) -> str:
        return self.output()["text"]


def _verdict(decision):
    """``verdict(...)`` in the page (``derivations.engine.display.shown_verdict``): the decision, with the claim's
    numeric checks as the build computed them; shown, not asserted (the reader's derivation may break it)."""
    from derivations.engine.registry import evidence_of, get, outcome_of

    claim = get(decision.claim_id)
    view = _BookVerdict(outcome_of(claim, evidence_of(decision, _STATE["numeric"].get(claim.id))))
    return view

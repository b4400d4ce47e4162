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

The verdict is decided again from what the cell hands ``verdict``: the engine's own
:func:`~derivations.engine.derive.decide`, then :func:`~derivations.engine.registry.evidence_of` with the numeric
checks as computed when the book was built, and :class:`~derivations.engine.display.ClaimView`, as in the notebook.
Where the recomputed decision and a numeric check read a form differently, the view says so.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import symtable
import time
import traceback

__all__ = ["setup", "dependencies", "run", "BUILT_NOTE"]

#: Said in the summary of a claim's folded checks: the numeric checks were not run again in the page.
BUILT_NOTE = "when the book was built (the numeric checks need NumPy: not run again in the page)"
#: The summary's opening words in the engine's view (``derivations.engine.display``).
_SUMMARY = "<summary>How it was checked: "

_STATE: dict = {}


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
                  outputs=None)
    derive._show = _show                       # steps(...) and friends: into this run's outputs
    display.shown_verdict = _verdict           # verdict(...): recomputed, with the build's numeric checks
    return {"cells": [{"index": c["index"], "hidden": c.get("hidden", False)} for c in m["cells"]]}


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
    whether it imports ``*``. Reads inside functions, lambdas and comprehensions count where they refer to the
    top level (Python's own symbol tables say which)."""
    tree = ast.parse(source)
    out, star = [], False
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            star = True
            out.append((set(), set()))
            continue
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
        out.append((reads, binds))
    return out, star


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
    """Run a cell's source in ``namespace``; with ``show_last``, the value of a last bare expression is shown, as
    Jupyter shows it."""
    tree = ast.parse(source)
    last = tree.body.pop() if show_last and tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if value is not None:
            _show(value)


def run(target: int, sources: dict | None = None, progress=None) -> dict:
    """Run cell ``target`` after the cells it depends on, each from ``sources`` (index -> source; the stored source
    where not given); return ``{"outputs": [...], "ran": [indices], "seconds": ..., "error": None or text}``.
    Each output is ``{"kind": "latex" | "markdown" | "verdict" | "text", ...}``. ``progress(index, needed)``, when
    given, is called before each cell runs (``needed``: the cells left to run before the target, in order)."""
    start = time.perf_counter()
    current = {**_STATE["cells"], **{int(k): v for k, v in (sources or {}).items()}}
    outputs: list = []
    _STATE["outputs"] = outputs
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
    return {"outputs": outputs, "ran": ran, "seconds": time.perf_counter() - start, "error": error}


def _namespace(deps: list[int], sources: dict, ran: list, progress=None) -> dict:
    """A fresh copy of the namespace after ``deps``, each from its current source: from the namespace kept for the
    longest run of them already done, running the rest (their outputs are not shown)."""
    snapshots = _STATE["snapshots"]
    key: tuple = ()
    namespace = {"__name__": "__main__", "display": _show}      # display(...), as in Jupyter
    start = 0
    for n in range(len(deps), 0, -1):
        k = tuple((i, sources[i]) for i in deps[:n])
        if k in snapshots:
            key, namespace, start = k, snapshots[k], n
            break
    namespace = dict(namespace)
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
        snapshots[key] = dict(namespace)
    return namespace


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

"""The back-links: which claims check each library function, computed from the registry, not typed.

    python -m audit.backlinks            print every public function's computed "Checked by:" line
    python -m audit.backlinks --write    rewrite the "Checked by:" lines of the docstrings to match

A claim *checks* a function when its check calls it: the claim's ``check`` (or, for a claim decided by its
derivation cell, its ``numeric`` checks) is
followed through the code it reaches (the functions and closures of the chapter
that registered it, and whatever the chapter hands to the engine's check
factories: their closure cells and defaults), and every function of the library
(or of a chapter's own machinery, such as ``derivations.chapters.ch4.training``) that this code names is
recorded. The engine's own code is not followed: what a generic check does with
any formula is not a check of a particular function.

The docstring of every public function of :data:`MODULES` carries one line,
``Checked by: <claim ids>`` (continued on indented lines) or ``Used in: ...``
when no claim checks it. ``tests/test_backlinks.py`` fails when a line names a claim
that does not check the function, misses one that does, or says ``Used in:`` of a
function that claims check.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import re
import sys
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["MODULES", "CLAIM_ID", "public_functions", "checked_by", "named_claims", "problem", "line_for", "main"]

#: The modules whose public functions name the claims that check them.
MODULES = ("derivations.library.numeric", "derivations.library.smoothing", "derivations.library.flipping",
           "derivations.library.lse_bounds", "derivations.chapters.ch4.training",
           "derivations.chapters.ch4.linear_response", "derivations.chapters.ch5.mlp")
#: A claim id (not a module path: ``derivations.chapters.ch4`` is none).
CLAIM_ID = re.compile(r"(?<![\w.])ch\d+\.[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]")


def public_functions() -> dict[str, types.FunctionType]:
    """``"module.function"`` -> function, for every public function defined in :data:`MODULES`."""
    out = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for fname, f in inspect.getmembers(module, inspect.isfunction):
            if not fname.startswith("_") and f.__module__ == module.__name__:
                out[f"{name}.{fname}"] = f
    return out


def _codes(code: types.CodeType):
    """A code object and the code objects nested in it (lambdas, comprehensions, inner functions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _unwrapped(obj, stack: list):
    """One step of a walk over code: a partial's function and arguments, or what a decorator wrapped
    (functools.lru_cache, functools.wraps), go on the stack; a bound method is its function. ``None``: nothing
    more to do with ``obj`` itself."""
    if isinstance(obj, functools.partial):
        stack += [obj.func, *obj.args, *obj.keywords.values()]
        return None
    if inspect.ismethod(obj):
        obj = obj.__func__
    if hasattr(obj, "__wrapped__"):
        stack.append(obj.__wrapped__)
    return obj


def _follow(fn, globals_too: bool = True) -> list:
    """What a function of the package was handed (closure cells, defaults) and, with ``globals_too``, the globals
    its code names (of a module of the package it names: the attributes its code names)."""
    out = [c.cell_contents for c in (fn.__closure__ or ()) if _filled(c)]
    out += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
    if not globals_too:
        return out                                               # the engine's own code is not followed
    names = {n for code in _codes(fn.__code__) for n in code.co_names}
    for n in names:
        value = fn.__globals__.get(n)
        if isinstance(value, types.ModuleType) and value.__name__.startswith("derivations."):
            out += [getattr(value, a) for a in names if callable(getattr(value, a, None))]
        elif value is not None:
            out.append(value)
    return out


def _walk(start, step) -> None:
    """Every object reachable from ``start`` visited once, unwrapped (:func:`_unwrapped`): ``step(obj)`` does what
    the walk is for and returns what to go on to from ``obj``."""
    seen, stack = set(), [start]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        obj = _unwrapped(obj, stack)
        if obj is not None:
            stack += step(obj)


def _of_package(obj) -> bool:
    return inspect.isfunction(obj) and (obj.__module__ or "").startswith("derivations.")


def _reached(start, targets: dict[int, str]) -> set[str]:
    """The names (values of ``targets``, keyed by ``id`` of the function) of the target functions that the code
    reachable from ``start`` names. Chapter code is followed through its globals; engine code only through what
    it was handed (closure cells, defaults, partial arguments)."""
    found = set()

    def step(obj) -> list:
        if id(obj) in targets:
            found.add(targets[id(obj)])
        if not _of_package(obj):
            return []
        return _follow(obj, globals_too=obj.__module__.startswith("derivations.chapters."))

    _walk(start, step)
    return found


def _everything_reached(start) -> set[int]:
    """The ids of every function of the package that the code reachable from ``start`` names, the engine's own
    code followed too (for ``Used in:`` lines, which may name the engine's functions)."""
    from derivations.engine.registry import Claim, Outcome

    out = set()

    def step(obj) -> list:
        if inspect.isclass(obj) and (obj.__module__ or "").startswith("derivations."):
            return [v for v in vars(obj).values() if inspect.isfunction(v) or isinstance(v, property)]
        if isinstance(obj, property):
            return [x for x in (obj.fget, obj.fset) if x is not None]
        if isinstance(obj, (Claim, Outcome)):                  # another claim is not this code's: not followed
            return []
        if isinstance(obj, dict):                             # tables: the notation's kinds, by name
            if any(isinstance(x, (Claim, Outcome)) for x in (*obj.keys(), *obj.values())):   # the registry
                return []
            return list(obj.values())
        if isinstance(obj, (list, tuple, set, frozenset)):
            return list(obj)
        if not inspect.isfunction(obj) and (type(obj).__module__ or "").startswith("derivations."):
            return [*getattr(obj, "__dict__", {}).values(),    # an instance of the package's: its fields
                    *(getattr(obj, n) for n in getattr(type(obj), "__slots__", ()) if hasattr(obj, n))]
        if not _of_package(obj):
            return []
        out.add(id(obj))
        return _follow(obj)

    _walk(start, step)
    return out


@functools.lru_cache(maxsize=None)
def _chapter_reach(number: int) -> frozenset[int]:
    """Every function reached from chapter ``number``'s own code (its modules' functions and classes) and from
    its claims' checks."""
    import pkgutil

    from derivations import chapters

    package = importlib.import_module(f"derivations.chapters.ch{number}")
    roots = [c.check or c.numeric for c in chapters.claims(number) if (c.check or c.numeric) is not None]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)          # its functions and classes, and what it imports
        roots += [v for v in vars(module).values() if inspect.isfunction(v) or inspect.isclass(v)]
    roots += _notebook_imports(ROOT / chapters.CHAPTERS[number].path)
    out: set[int] = set()
    for root in roots:
        out |= _everything_reached(root)
    return frozenset(out)


def _notebook_imports(path: Path) -> list:
    """The functions and classes a notebook's code cells import from the package (``from derivations... import``)."""
    import ast

    import nbformat

    out = []
    for cell in nbformat.read(path, as_version=4).cells if path.exists() else []:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("derivations"):
                module = importlib.import_module(node.module)
                out += [getattr(module, a.name) for a in node.names if callable(getattr(module, a.name, None))]
    return out


def _chapters_named(line: str) -> set[int]:
    """The chapter numbers a ``Used in:`` line names: ``chapter 3``, ``chapters 2 and 4``, ``chapters 1-3``,
    ``chapters 1, 2, 3``.

    >>> sorted(_chapters_named("Used in: chapters 1-3 (the tolerance); chapter 5's table, chapters 2 and 4"))
    [1, 2, 3, 4, 5]
    """
    out = set()
    for m in re.finditer(r"\bchapters? ((?:\d+(?:-\d+)?(?:, | and |,? and )?)+)", line):
        for part in re.split(r", | and ", m[1].strip(", ")):
            if "-" in part:
                lo, hi = map(int, part.split("-"))
                out |= set(range(lo, hi + 1))
            elif part.strip().isdigit():
                out.add(int(part))
    return out


def used_in_problem(f, doc: str) -> str | None:
    """What is wrong with a ``Used in:`` entry of ``f``'s docstring, or ``None``: every chapter it names must reach
    ``f`` from its own code or its claims, every claim it names from its check, and every function of ``f``'s
    module it names (``Used in: equation, approximation``) from its code."""
    from derivations.chapters import claims

    entry = re.search(r"^Used in:.*?(?=\n\S|\n\s*\n|\Z)", doc, re.S | re.M)
    if entry is None:
        return None
    line = " ".join(entry[0].split())
    wrong = []
    for n in sorted(_chapters_named(line)):
        if id(f) not in _chapter_reach(n):
            wrong.append(f"chapter {n} does not reach it")
    by_id = {c.id: c for c in claims()}
    for cid in CLAIM_ID.findall(line):
        if cid not in by_id:
            wrong.append(f"{cid} is no claim")
        elif (by_id[cid].check or by_id[cid].numeric) is None or \
                id(f) not in _everything_reached(by_id[cid].check or by_id[cid].numeric):
            wrong.append(f"{cid}'s check does not reach it")
    module = sys.modules[f.__module__]
    for word in set(re.findall(r"(?<![\w.`~])([a-z_][a-z0-9_]*)(?![\w.])", line)):
        other = getattr(module, word, None)
        if inspect.isfunction(other) and other is not f and other.__module__ == module.__name__:
            if id(f) not in _everything_reached(other):
                wrong.append(f"{word} does not call it")
    return "; ".join(wrong) or None


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:                                           # an empty cell (a name not yet bound)
        return False
    return True


@functools.lru_cache(maxsize=1)
def checked_by() -> dict[str, list[str]]:
    """``"module.function"`` -> the ids of the claims whose checks call it, in note order."""
    from derivations.chapters import claims

    functions = public_functions()
    targets = {id(f): name for name, f in functions.items()}
    out: dict[str, list[str]] = {name: [] for name in functions}
    for c in claims():
        root = c.check or c.numeric            # what computes the claim's evidence beside its derivation
        for name in sorted(_reached(root, targets) if root is not None else ()):
            out[name].append(c.id)
    return out


def named_claims(doc: str) -> list[str] | None:
    """The claim ids of a docstring's ``Checked by:`` entry (continuation lines included), or ``None`` when it
    has none.

    >>> named_claims("Text ch9.not_this.\\n\\nChecked by: ch1.softmax, ch2.gradient\\n    ch3.same_p)\\nch9.after")
    ['ch1.softmax', 'ch2.gradient', 'ch3.same_p']
    >>> named_claims("Used in: chapter 2") is None
    True
    """
    out, inside, found = [], False, False
    for line in doc.splitlines():
        if line.startswith("Checked by:"):
            inside = found = True
        elif not line.startswith(" ") or not line.strip():
            inside = False
        if inside:
            out += CLAIM_ID.findall(line)
    return out if found else None


def problem(doc: str, ids: list[str]) -> str | None:
    """What is wrong with a docstring's back-link, given the ids of the claims that check its function (computed
    by :func:`checked_by`), or ``None``.

    >>> problem("Checked by: ch1.softmax", ["ch1.softmax"]) is None
    True
    >>> problem("Checked by: ch1.softmax, ch2.gradient", ["ch1.softmax"])
    "'Checked by:' names ch1.softmax, ch2.gradient; the claims that call it are ch1.softmax"
    >>> problem("Used in: chapter 2", ["ch2.optimum"])
    "'Used in:', yet ch2.optimum call it: a 'Checked by:' line is due"
    >>> problem("Used in: chapter 2\\nChecked by: ch2.optimum", ["ch2.optimum"])
    "one 'Checked by:' or 'Used in:' line; found 2"
    """
    entries = [line for line in doc.splitlines() if line.startswith(("Checked by:", "Used in:"))]
    if len(entries) != 1:
        return f"one 'Checked by:' or 'Used in:' line; found {len(entries)}"
    typed = named_claims(doc)
    if typed is None:
        return f"'Used in:', yet {', '.join(ids)} call it: a 'Checked by:' line is due" if ids else None
    if typed != ids:
        return (f"'Checked by:' names {', '.join(typed) or 'nothing'}; the claims that call it are "
                f"{', '.join(ids) or 'none'}")
    return None


def line_for(ids: list[str], width: int = 110) -> str:
    """The ``Checked by:`` line for these claim ids, wrapped with indented continuation lines."""
    return textwrap.fill("Checked by: " + ", ".join(ids), width=width, subsequent_indent="    ",
                         break_on_hyphens=False, break_long_words=False)


def _rewrite(name: str, f, ids: list[str]) -> bool:
    """Make ``f``'s docstring carry ``Checked by: <ids>`` in its source file, in place of its ``Checked by:`` or
    ``Used in:`` entry (or before its examples when it has neither); ``True`` if the file changed."""
    path = Path(inspect.getsourcefile(f))
    text = path.read_text(encoding="utf-8")
    start = text.index('"""', text.index(f"def {f.__name__}(")) + 3
    end = text.index('"""', start)
    doc = text[start:end]
    head = next(line for line in inspect.getsourcelines(f)[0] if line.lstrip().startswith("def "))
    indent = " " * (head.index("def") + 4)
    new = textwrap.indent(line_for(ids), indent)
    entry = re.search(rf"^{indent}(Checked by|Used in):.*?(?=\n{indent}\S|\n\s*\n|\n\s*$)", doc, re.S | re.M)
    if entry is not None:
        doc = doc[:entry.start()] + new + doc[entry.end():]
    else:
        example = re.search(rf"^{indent}>>>", doc, re.M)
        at = example.start() if example else len(doc.rstrip())
        doc = doc[:at].rstrip() + "\n\n" + new + "\n" + ("\n" + doc[at:] if example else indent)
    if doc == text[start:end]:
        return False
    path.write_text(text[:start] + doc + text[end:], encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite the docstrings' 'Checked by:' lines")
    args = ap.parse_args(argv)
    functions = public_functions()
    for name, ids in checked_by().items():
        if args.write and ids:
            if _rewrite(name, functions[name], ids):
                print(f"rewrote {name}")
        elif not args.write:
            print(f"{name}: {line_for(ids) if ids else 'checked by no claim'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

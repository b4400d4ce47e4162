"""The back-links: which claims check each library function, computed from the registry, not typed.

    python tools/backlinks.py            print every public function's computed "Checked by:" line
    python tools/backlinks.py --write    rewrite the "Checked by:" lines of the docstrings to match

A claim *checks* a function when its check calls it: the claim's ``check`` is
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
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


def _reached(start, targets: dict[int, str]) -> set[str]:
    """The names (values of ``targets``, keyed by ``id`` of the function) of the target functions that the code
    reachable from ``start`` names. Chapter code is followed through its globals; engine code only through what
    it was handed (closure cells, defaults, partial arguments)."""
    found, seen, stack = set(), set(), [start]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, functools.partial):
            stack += [obj.func, *obj.args, *obj.keywords.values()]
            continue
        if inspect.ismethod(obj):
            obj = obj.__func__
        if hasattr(obj, "__wrapped__"):                         # functools.lru_cache, functools.wraps
            stack.append(obj.__wrapped__)
        if id(obj) in targets:
            found.add(targets[id(obj)])
        if not inspect.isfunction(obj) or not (obj.__module__ or "").startswith("derivations."):
            continue
        stack += [c.cell_contents for c in (obj.__closure__ or ()) if _filled(c)]
        stack += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
        if not obj.__module__.startswith("derivations.chapters."):
            continue                                             # the engine's own code is not followed
        names = {n for code in _codes(obj.__code__) for n in code.co_names}
        for n in names:
            value = obj.__globals__.get(n)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("derivations."):
                stack += [getattr(value, a) for a in names if callable(getattr(value, a, None))]
            elif value is not None:
                stack.append(value)
    return found


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
        for name in sorted(_reached(c.check, targets)):
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

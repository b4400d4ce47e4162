"""The chapters: one folder each, found by discovery.

A chapter is a folder ``chN/`` (N its number) whose ``__init__.py`` defines
``CHAPTER`` (:class:`~derivations.engine.parameters.Chapter`: its notebook, the
parameters it reads and their defaults) and may hold

* ``claims.py``: the chapter's registry entries (it calls
  :func:`derivations.engine.registry.register`); imported the first time the
  registry is read, not before (importing this package loads no SymPy);
* ``worked.py``: what the chapter computes at the reader's own values;
* ``figures.py``: its figures; and any machinery of its own.

Nothing lists the chapters but the folders themselves: :data:`CHAPTERS` is what
is found here, and the runner, the tests and the book read it
(``CONTRIBUTING.md`` says how to add one).

>>> sorted(CHAPTERS)[:3]
[0, 1, 2]
>>> check(2, K=10, EPS=0.1, SEED=0)
On this page: K = 10, ε = 0.1, seed 0.

:func:`claims` and :func:`get` are the registry's, here with every chapter's claims named to it:

>>> get("ch3.same_p").chapter
3
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re

from derivations.engine import cells, display
from derivations.engine.parameters import Chapter, Chapters
from derivations.engine.registry import add_catalogue, claims, get

__all__ = ["CHAPTERS", "PARAMETERS", "check", "parse", "parse_all", "run_folder_name", "discover", "claims", "get"]


def discover() -> list[Chapter]:
    """Every chapter folder's ``CHAPTER``, in chapter order; each ``claims`` module is named to the registry
    (:func:`~derivations.engine.registry.add_catalogue`), which imports it when claims are first read."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        m = re.fullmatch(r"ch(\d+)", info.name)
        if not (info.ispkg and m):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        chapter = getattr(module, "CHAPTER", None)
        if not isinstance(chapter, Chapter) or chapter.number != int(m[1]):
            raise ValueError(f"{module.__name__}: CHAPTER must be a Chapter numbered {int(m[1])}; got {chapter!r}")
        found.append(chapter)
    found.sort(key=lambda c: c.number)
    for c in found:
        cells.add_notebook(c.number, f"{c.notebook}.ipynb")
        display.NOTEBOOKS[c.number] = c.notebook
        claims = f"{__name__}.ch{c.number}.claims"
        if importlib.util.find_spec(claims) is not None:
            add_catalogue(claims)
    return found


#: The chapters found, by number.
CHAPTERS = Chapters(discover())
#: Every parameter some chapter reads, in canonical order.
PARAMETERS = CHAPTERS.parameters
parse, parse_all, check, run_folder_name = CHAPTERS.parse, CHAPTERS.parse_all, CHAPTERS.check, CHAPTERS.run_folder_name

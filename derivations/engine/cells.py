"""A chapter's derivation: the code cells of its notebook tagged ``derivation``, run in order, outside Jupyter.

The notebook is the one source of a derivation. Jupyter runs its cells for the reader; :func:`run` runs the same
cells, read from the same file, for the registry (and so for ``python -m derivations``, the tests and the book):
in one namespace, top to bottom, with ``display`` doing nothing and every :func:`~derivations.engine.derive.verdict`
recording its :class:`~derivations.engine.derive.Decision` instead of showing it. Nothing is copied out of the
notebook, and a reader's edit, once saved, is what the registry reads.

A mutation test asks again with other formulas for one claim (:func:`decision` with ``formulas``): the cell that
decided the claim runs again from the namespace it started from, with
:func:`~derivations.engine.derive.overriding` in force.

Where the notebooks are: ``notebooks/`` beside the package in a checkout; in an installed wheel, the copy the
wheel puts in ``<prefix>/share/soft-targets-companion/notebooks`` (``pyproject.toml``, ``data-files``).
"""
from __future__ import annotations

import hashlib
import json
import sysconfig
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["TAG", "Cell", "Run", "add_notebook", "notebooks_folder", "cells", "run", "where_decided", "decision",
           "digest"]

#: The tag of a derivation cell (a code cell's ``metadata.tags``).
TAG = "derivation"

#: Each chapter's notebook file name (``02_soft_labels.ipynb``), as :mod:`derivations.chapters` names them.
_NOTEBOOKS: dict[int, str] = {}


def add_notebook(chapter: int, name: str) -> None:
    """Name ``chapter``'s notebook (a file of :func:`notebooks_folder`)."""
    _NOTEBOOKS[chapter] = name


def notebooks_folder() -> Path:
    """``notebooks/`` of this checkout, or the installed copy beside an installed package."""
    here = Path(__file__).resolve().parents[2] / "notebooks"
    if here.is_dir():
        return here
    return Path(sysconfig.get_path("data")) / "share" / "soft-targets-companion" / "notebooks"


@dataclass(frozen=True)
class Cell:
    """A derivation cell: its index among the notebook's cells, and its source."""

    index: int
    source: str


def cells(chapter: int) -> list[Cell]:
    """The derivation cells of ``chapter``'s notebook, in order (none for a chapter without a notebook named)."""
    if chapter not in _NOTEBOOKS:
        return []
    return list(_cells(str(notebooks_folder() / _NOTEBOOKS[chapter])))


@lru_cache(maxsize=None)
def _cells(path: str) -> tuple[Cell, ...]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code" and TAG in c.get("metadata", {}).get("tags", []):
            src = c["source"]
            out.append(Cell(i, "".join(src) if isinstance(src, list) else src))
    return tuple(out)


def digest() -> str:
    """A digest of the derivation cells of every notebook: part of the key under which computed evidence is kept
    (:func:`derivations.engine.results.source_key`)."""
    h = hashlib.sha256()
    for path in sorted(notebooks_folder().glob("*.ipynb")):
        for c in _cells(str(path)):
            h.update(f"{path.name}:{c.index}\0{c.source}\0".encode())
    return h.hexdigest()[:16]


@dataclass
class Run:
    """One run of a chapter's derivation cells: each claim's decision, the cell that took it, and the namespace
    each cell started from."""

    chapter: int
    decisions: dict = field(default_factory=dict)
    decided_in: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)
    error: str | None = None


def _quiet(*args, **kwargs) -> None:
    """``display`` outside Jupyter: nothing is shown."""


def _exec(cell: Cell, namespace: dict, chapter: int) -> None:
    code = compile(cell.source, f"<chapter {chapter}, notebook cell {cell.index}>", "exec")
    exec(code, namespace)                                  # the chapter's own cells, from its notebook


@lru_cache(maxsize=None)
def run(chapter: int) -> Run:
    """Run ``chapter``'s derivation cells in order (once per process) and collect their decisions. A cell that
    raises stops the run; the claims it had not decided yet report why (:func:`decision`). Which cell decided each
    claim is kept for the run's other processes (:func:`where_decided`)."""
    from derivations.engine.derive import collecting

    r = Run(chapter)
    namespace: dict = {"__name__": f"chapter{chapter}_derivation", "display": _quiet}
    with collecting() as found:
        for cell in cells(chapter):
            r.before[cell.index] = dict(namespace)
            seen = set(found)
            try:
                _exec(cell, namespace, chapter)
            except Exception as err:                       # reported with the claims it leaves undecided
                r.error = f"notebook cell {cell.index} raised {type(err).__name__}: {err}"
                break
            for claim_id in set(found) - seen:
                r.decided_in[claim_id] = cell
    r.decisions = dict(found)
    where_decided(chapter, r)
    return r


def where_decided(chapter: int, ran: Run | None = None) -> tuple[dict[str, int], str | None]:
    """Which notebook cell decided each claim of ``chapter`` (by index), and the error that stopped the run, if any:
    from ``ran``, or from :func:`run`; kept for the other processes of a test session
    (:func:`derivations.engine.results.shared`), where the first to run the cells (the claims' computation) leaves it
    for the notebook-shape test.

    Checked by: tests/test_notebook_shape.py
    """
    from derivations.engine import results

    def found() -> tuple[dict[str, int], str | None]:
        r = ran if ran is not None else run(chapter)
        return {claim_id: cell.index for claim_id, cell in r.decided_in.items()}, r.error
    return results.shared(f"cells.{chapter}.decided_in", found)


def decision(claim, formulas=None):
    """The :class:`~derivations.engine.derive.Decision` of ``claim``'s derivation cell; with ``formulas`` (a
    mutation test's), that cell run again with them read for the claim. ``LookupError`` says why there is none."""
    from derivations.engine.derive import collecting, overriding

    r = run(claim.chapter)
    if claim.id not in r.decisions:
        name = _NOTEBOOKS.get(claim.chapter, f"chapter {claim.chapter}'s notebook")
        why = r.error or f'no derivation cell calls verdict("{claim.id}", ...)'
        raise LookupError(f"{claim.id}: {name}: {why}")
    if formulas is None:
        return r.decisions[claim.id]
    cell = r.decided_in[claim.id]
    namespace = dict(r.before[cell.index])
    with overriding(claim.id, formulas), collecting() as found:
        _exec(cell, namespace, claim.chapter)
    return found[claim.id]

"""Computed evidence, shared between the processes of one run.

A claim's check is deterministic (seeded), so its :class:`~derivations.engine.registry.Evidence`
depends only on the package's source. When the environment variable
``DERIVATIONS_RESULTS`` names a folder, :func:`load` and :func:`save` keep each
claim's evidence there, under a key made from every source file of the package
(``*.py`` and the note's transcription) and every chapter's derivation cells: a test session computes every claim
once and its notebook kernels and subprocesses, which inherit the variable,
read them back. Edit any source file and the key changes, so nothing stale is
read. Without the variable nothing is stored: ``python -m derivations`` and a
notebook run on their own compute everything.

Other deterministic computations that several processes need (chapter 5's
experiment: the claims' and the notebook's) are kept the same way, by
:func:`shared`.

The test session (``conftest.py``) points the variable at a fresh temporary
folder of that session only, so a clean ``make test`` computes everything once.

>>> import os, tempfile
>>> from unittest import mock
>>> from derivations.engine.registry import Evidence
>>> from derivations.engine.finding import Finding
>>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV: folder}):
...     save("demo.one", Evidence(holds=True, findings=[Finding("symbolic", "1 - 1 = 0", True)]))
...     print(load("demo.one").findings[0].statement, load("demo.two"), computed())
1 - 1 = 0 None ['demo.one']
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

__all__ = ["ENV", "source_key", "folder", "load", "save", "computed", "shared"]

#: The environment variable naming the folder of shared results.
ENV = "DERIVATIONS_RESULTS"
#: The whole package (library, engine and chapters): any source file of it may change a claim's evidence.
_PACKAGE = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def source_key() -> str:
    """A digest of every source file of the package (paths and contents) and of every chapter's derivation cells
    (:func:`derivations.engine.cells.digest`), 16 hex digits."""
    from derivations.engine import cells

    h = hashlib.sha256()
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".md") and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(cells.digest().encode())
    return h.hexdigest()[:16]


def folder() -> Path | None:
    """Where results of this source are kept, or ``None`` when sharing is off."""
    root = os.environ.get(ENV)
    return Path(root) / source_key() if root else None


def load(claim_id: str):
    """The stored evidence of ``claim_id`` for this source, or ``None``."""
    where = folder()
    path = where / f"{claim_id}.pickle" if where else None
    if path is None or not path.exists():
        return None
    with path.open("rb") as fh:
        return pickle.load(fh)


def save(claim_id: str, evidence) -> None:
    """Store ``evidence`` (atomically: a reader never sees half a file) and log that it was computed, one
    line per computation in ``computed.log`` (:func:`computed`); no-op when sharing is off."""
    where = folder()
    if where is None:
        return
    where.mkdir(parents=True, exist_ok=True)
    with (where / "computed.log").open("a") as log:                 # one short write: lines do not interleave
        log.write(f"{claim_id}\n")
    fd, tmp = tempfile.mkstemp(dir=where, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(evidence, fh)
    os.replace(tmp, where / f"{claim_id}.pickle")


def computed() -> list[str]:
    """The claim ids computed so far for this source, once per computation (a repeated id was computed
    twice: something did not share)."""
    where = folder()
    log = where / "computed.log" if where else None
    return log.read_text().splitlines() if log is not None and log.exists() else []


def shared(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned in another process of the run (stored under ``key``, which must name
    the computation and all its inputs but the package's source); computed and kept when not stored yet.

    >>> import os, tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV: folder}):
    ...     print(shared("demo.square", lambda: 7 * 7), shared("demo.square", lambda: 0))
    49 49
    """
    stored = load(key)
    if stored is None:
        stored = compute()
        save(key, stored)
    return stored

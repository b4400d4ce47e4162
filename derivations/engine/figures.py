"""The companion's figures: one module per chapter, and here what they share.

:mod:`~derivations.chapters.ch1.figures` (LSE against the margin, the hard-label loss),
:mod:`~derivations.chapters.ch2.figures` (the smoothed loss, the conventions),
:mod:`~derivations.chapters.ch3.figures` (the flipped label, Monte Carlo, noise at the optimum) and
:mod:`~derivations.chapters.ch4.figures` (training curves, memorisation, reliability) and
:mod:`~derivations.chapters.ch5.figures` (reliability diagrams and the smoothing sweep on test digits) draw each
figure from the library's own functions; this module decides where figures go
and how their bytes are fixed (:func:`save`), with one style (:data:`STYLE`).

PNG from Matplotlib's Agg backend is byte-stable for a given Matplotlib and
FreeType version once the ``Software`` metadata (which carries the version)
is dropped; the versions are pinned in ``requirements.txt``.
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["figures_dir", "committed_figures", "save", "STYLE", "on_family"]

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


#: The repository's root when the package runs from a checkout (else ``None``: an installed copy).
_CHECKOUT = Path(__file__).resolve().parents[2]
_CHECKOUT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else None


def committed_figures() -> Path | None:
    """The committed ``figures/`` of the checkout (``None`` for an installed copy of the package)."""
    return None if _CHECKOUT is None else _CHECKOUT / "figures"


def figures_dir() -> Path:
    """Where :func:`save` writes: never the committed ``figures/`` for values other than the defaults.

    * ``$DERIVATIONS_FIGURES`` if set (``make run`` sets it: ``figures/`` at the defaults,
      ``build/runs/<values>/figures`` for a reader's values; the tests set a temporary folder),
      unless it is the committed ``figures/`` and the notebook's values (the last
      :meth:`~derivations.engine.parameters.Chapters.check`) are not its chapter's defaults;
    * else ``build/runs/<values>/figures`` of the checkout (``<values>`` those that differ
      from the chapter's defaults, or ``defaults``): a notebook run in Jupyter, or executed
      by any other tool, writes no tracked file. Outside a checkout, ``./figures``.
    """
    from derivations.engine.parameters import last_checked, run_folder_name

    checked = last_checked()
    env = os.environ.get("DERIVATIONS_FIGURES")
    if env:
        chosen = Path(env)
        committed = committed_figures()
        if not (committed is not None and checked is not None and not checked.at_defaults
                and chosen.resolve() == committed.resolve()):
            return chosen
    if _CHECKOUT is None:
        return Path.cwd() / "figures"
    folder = run_folder_name(checked.changed) if checked is not None else ""
    return _CHECKOUT / "build" / "runs" / (folder or "defaults") / "figures"


def save(fig: plt.Figure, name: str) -> Path:
    """Write ``fig`` to ``<figures_dir>/<name>.png`` atomically, close it, return the path.

    >>> import matplotlib.pyplot as plt, tempfile, os
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {"DERIVATIONS_FIGURES": folder}):
    ...     print(save(plt.figure(), "demo").name)
    demo.png
    """
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"figure name must be letters, digits, '_' or '-'; got {name!r}")
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    os.replace(tmp, path)
    return path


def on_family(f, first, K: int, fill: float = 0.0, budget: int = 2_000_000):
    """``f`` evaluated on the logit vectors ``(first[i], fill, ..., fill)`` of length ``K``, in chunks of rows.

    A figure's curve over a family of logits, at any K, never holding more than
    about ``budget`` logits at once. ``f`` maps an ``(n, K)`` array to ``n`` values.

    >>> import numpy as np
    >>> on_family(lambda z: z.sum(axis=1), np.array([1.0, 2.0]), 3, fill=1.0).tolist()
    [3.0, 4.0]
    """
    import numpy as np

    first = np.asarray(first, dtype=float)
    rows = max(1, budget // K)
    out = np.empty(first.size)
    for i in range(0, first.size, rows):
        z = np.full((min(rows, first.size - i), K), fill)
        z[:, 0] = first[i:i + rows]
        out[i:i + rows] = f(z)
    return out

"""Executable derivation companion to *Soft Targets v/s Label Flipping* (2019).

The package has three layers, each importing only the ones below it:

* :mod:`derivations.library`: label smoothing and label flipping in NumPy, what
  ``pip install`` users import (this module re-exports it; it needs NumPy only);
* :mod:`derivations.engine`: the verification engine: the registry of claims,
  the reader of the note's notation, the derivations' vocabulary, the checks, the views;
* :mod:`derivations.chapters`: one folder per chapter, holding its claims, its
  worked examples at the reader's values and its figures.

The library's names are imported when first used (PEP 562): ``import derivations.engine.derive``, which a chapter's
derivation cells import, loads SymPy and no NumPy, so that those cells run wherever SymPy does.

>>> from derivations import log_sum_exp, cross_entropy
>>> round(float(log_sum_exp([0.0, 0.0])), 6)
0.693147
"""
from importlib import import_module

__version__ = "0.2.0"

#: Where each re-exported name lives (the library's modules' ``__all__``, and four names of ``numeric``).
_LIBRARY = {
    "derivations.library.numeric": ("cross_entropy_per_example", "log_softmax", "log_sum_exp", "softmax"),
    "derivations.library.smoothing": ("REDUCTIONS", "cross_entropy", "target_levels", "eps_to_label_smoothing",
                                      "label_smoothing_to_eps", "smoothed_targets", "smoothed_cross_entropy",
                                      "smoothed_cross_entropy_materialised", "smoothed_optimum_gap",
                                      "smoothed_minimum"),
    "derivations.library.flipping": ("flip_labels", "flipped_losses", "flipped_loss_variance",
                                     "flipped_gradient_covariance", "flipped_gradient_total_variance"),
}
_HOME = {name: module for module, names in _LIBRARY.items() for name in names}

__all__ = ["__version__", *_HOME]


def __getattr__(name: str):
    """A library name, imported on first use (and kept: the next lookup finds it in the module's namespace)."""
    if name not in _HOME:
        raise AttributeError(f"module 'derivations' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))

"""Executable derivation companion to *Soft Targets v/s Label Flipping* (2019).

The package has three layers, each importing only the ones below it:

* :mod:`derivations.library`: label smoothing and label flipping in NumPy, what
  ``pip install`` users import (this module re-exports it; it needs NumPy only);
* :mod:`derivations.engine`: the verification engine: the registry of claims,
  the reader of the note's notation, the checks, the mutation tests, the views;
* :mod:`derivations.chapters`: one folder per chapter, holding its claims, its
  worked examples at the reader's values and its figures.

>>> from derivations import log_sum_exp, cross_entropy
>>> round(float(log_sum_exp([0.0, 0.0])), 6)
0.693147
"""
__version__ = "0.2.0"

from derivations.library import flipping as _flipping
from derivations.library import smoothing as _smoothing
from derivations.library.flipping import *  # noqa: F403  (names listed in flipping.__all__)
from derivations.library.numeric import cross_entropy, log_softmax, log_sum_exp, softmax
from derivations.library.smoothing import *  # noqa: F403  (names listed in smoothing.__all__)

__all__ = ["__version__", "log_sum_exp", "log_softmax", "softmax", "cross_entropy", *_smoothing.__all__, *_flipping.__all__]

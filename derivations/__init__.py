"""Executable derivation companion to *Soft Targets v/s Label Flipping* (2019).

Numeric API (NumPy, stable, validated)::

    >>> from derivations import log_sum_exp, cross_entropy
    >>> round(float(log_sum_exp([0.0, 0.0])), 6)
    0.693147

The symbolic forms live in :mod:`derivations.symbolic`. The note's claims are
data: :mod:`derivations.registry` holds the types and computes verdicts (the
mechanism), :mod:`derivations.checks` the check toolkit, and the chapters of
:mod:`derivations.catalogue` register into the registry (the catalogue). This
package names the catalogue to the registry, which imports it when claims are
first read: ``from derivations import log_sum_exp`` does not load SymPy.
"""
__version__ = "0.2.0"

from . import flipping as _flipping
from . import smoothing as _smoothing
from .flipping import *  # noqa: F403  (names listed in flipping.__all__)
from .numeric import cross_entropy, log_softmax, log_sum_exp, softmax
from .smoothing import *  # noqa: F403  (names listed in smoothing.__all__)

__all__ = ["__version__", "log_sum_exp", "log_softmax", "softmax", "cross_entropy", *_smoothing.__all__, *_flipping.__all__]

from .registry import add_catalogue as _add_catalogue

_add_catalogue("derivations.catalogue")      # every chapter's claims, registered when claims are first read

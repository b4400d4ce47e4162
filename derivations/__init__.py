"""Executable derivation companion to *Soft Targets v/s Label Flipping* (2019).

Numeric API (NumPy, stable, validated)::

    >>> from derivations import log_sum_exp, cross_entropy
    >>> round(float(log_sum_exp([0.0, 0.0])), 6)
    0.693147

The symbolic forms live in :mod:`derivations.symbolic`; the note's claims, each
with the checks that compute its verdict, in :mod:`derivations.registry`.
"""
from .numeric import cross_entropy, log_softmax, log_sum_exp, softmax

__all__ = ["log_sum_exp", "log_softmax", "softmax", "cross_entropy"]

"""Worked examples: what each chapter computes at the reader's own K, eps, seed and sample sizes.

The claims of :mod:`derivations.catalogue` are checked once, for all K and eps.
The modules here hold each chapter's parameter-dependent computations (spot
checks against mpmath, Monte Carlo, training) as functions of the reader's
values, each returning :class:`~derivations.finding.Findings` whose tolerances
come from those values. The notebooks call them with their ``parameters`` cell;
``tests/test_worked.py`` calls them at many values, edges included.
"""

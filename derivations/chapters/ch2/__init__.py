"""Chapter 2 (``notebooks/02_soft_labels.ipynb``): soft labels, the smoothed loss, its optimum, the conventions.

Here: :mod:`.claims` (registry entries), :mod:`.worked` (at the reader's K, eps and seed), :mod:`.figures`.
Closed forms, linear in K: K up to 100,000.
"""
from derivations.engine.parameters import Chapter

CHAPTER = Chapter(2, "02_soft_labels", {"K": 10, "EPS": 0.1, "SEED": 0}, k_max=100_000)

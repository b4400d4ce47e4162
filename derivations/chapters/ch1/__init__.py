"""Chapter 1 (``notebooks/01_hard_labels.ipynb``): hard labels, cross-entropy, and log-sum-exp ≈ max.

Here: :mod:`.claims` (the note's displayed equations and the added results, as registry entries),
:mod:`.worked` (what the chapter computes at the reader's K and seed), :mod:`.figures` (its figures).
Closed forms, linear in K: K up to 100,000.
"""
from derivations.engine.parameters import Chapter

CHAPTER = Chapter(1, "01_hard_labels", {"K": 10, "SEED": 0}, k_max=100_000)

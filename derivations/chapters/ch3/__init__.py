"""Chapter 3 (``notebooks/03_label_flipping.ipynb``): label flipping, the exact equivalence and its noise.

Here: :mod:`.claims` (registry entries), :mod:`.worked` (sampling and Monte Carlo at the reader's values),
:mod:`.figures`. Closed forms and sampling, linear in K: K up to 100,000.
"""
from derivations.engine.parameters import Chapter, Parameter

CHAPTER = Chapter(3, "03_label_flipping", {"K": 10, "EPS": 0.1, "SEED": 0, "N_DRAWS": 200_000, "N_MC": 100_000},
                  k_max=100_000,
                  own=(Parameter("N_DRAWS", int, 100, 10_000_000, "flips per sampling check (chapter 3)"),
                       Parameter("N_MC", int, 100, 10_000_000, "flips in the Monte Carlo convergence check (chapter 3)")))

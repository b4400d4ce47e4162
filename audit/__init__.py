"""The audit wing: checks of the machinery, not of the note, kept outside the package (the wheel ships
``derivations`` only).

* :mod:`audit.mutation` - every wrong variant of every claim's formulas, and which ones its check misses
  (``make mutants``);
* :mod:`audit.shown_verdicts` - every rendered surface shows the computed verdict;
* :mod:`audit.prose_math` - mathematics in prose and outputs is typeset, never ASCII;
* :mod:`audit.backlinks` - library code points back to the sections that use and check it;
* :mod:`audit.crosscheck` - targets, losses and gradients against JAX/optax and PyTorch (``make crosscheck``);
* :mod:`audit.sweep` - the README's examples, then every chapter over values across the valid range
  (``make sweep``).

Each runs from the repository's root as ``python -m audit.<name>``; arrows point down only: the audit imports the
package and the book's build, never the reverse.
"""

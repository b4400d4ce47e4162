"""The library: label smoothing and label flipping in NumPy, stable and validated.

What ``pip install soft-targets-companion`` users import (``from derivations import ...``
re-exports it). It imports NumPy and nothing else of this package: neither the
engine (:mod:`derivations.engine`) nor the chapters (:mod:`derivations.chapters`).

* :mod:`.numeric`: log-sum-exp, softmax, log-softmax, cross-entropy;
* :mod:`.smoothing`: soft targets, the smoothed cross-entropy, its optimum, the conventions;
* :mod:`.flipping`: the label-flipping sampler and the closed forms of its noise;
* :mod:`.lse_bounds`: how far log-sum-exp is from the maximum.
"""

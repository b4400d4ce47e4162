"""The catalogue: one module per chapter of the note, each registering its claims into
:mod:`derivations.registry` (the mechanism, which never imports this package).

``import derivations`` imports it, so ``derivations.registry.claims()`` lists every claim.
"""
from . import ch1_hard_labels, ch2_soft_labels, ch3_label_flipping, ch4_training, ch5_real_data  # noqa: F401

"""The catalogue: one module per chapter of the note, each registering its claims into
:mod:`derivations.registry` (the mechanism, which imports this package only by the name it is given).

``import derivations`` names it to the registry, which imports it the first time
``derivations.registry.claims()`` or ``get(id)`` reads the registry: they list every claim.
"""
from . import ch1_hard_labels, ch2_soft_labels, ch3_label_flipping, ch4_training, ch5_real_data  # noqa: F401

"""Chapter 5 (``notebooks/05_real_data.ipynb``): real data (digits) and a network that over-fits.

Here: :mod:`.claims` (registry entries), :mod:`.worked` (the experiment at the reader's values),
:mod:`.figures`, and the chapter's machinery: :mod:`.mlp` (the network) and :mod:`.digits` (the data).
It does not read K: its data have K = 10 classes; its SEED is the first of five seeds.
"""
from derivations.engine.parameters import Chapter

CHAPTER = Chapter(5, "05_real_data", {"EPS": 0.1, "SEED": 0})

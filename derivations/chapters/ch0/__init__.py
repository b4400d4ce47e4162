"""Overview (``notebooks/00_overview.ipynb``): every verdict of the companion on one page, and the errata.

It registers no claims of its own and reads no parameter: it shows those of the chapters that follow.
"""
from derivations.engine.parameters import Chapter

CHAPTER = Chapter(0, "00_overview", {})

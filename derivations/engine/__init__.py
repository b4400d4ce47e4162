"""The verification engine: the machinery that turns the note into checked claims.

It imports the library (:mod:`derivations.library`) and SymPy, mpmath and matplotlib,
never the chapters (:mod:`derivations.chapters`), which register their claims into it.

* the note as data: :mod:`.registry` (claims, evidence, verdicts), :mod:`.note` (the
  transcription), :mod:`.notation` (its LaTeX read into SymPy), :mod:`.symbolic`;
* the checks: :mod:`.checks`, :mod:`.evaluation`, :mod:`.reference` (mpmath),
  :mod:`.stats` (Bernstein bounds), :mod:`.mutation` (every wrong variant of a formula);
* what the reader sees: :mod:`.display`, :mod:`.finding`, :mod:`.figures`, :mod:`.regimes`,
  :mod:`.report` (``python -m derivations``);
* running: :mod:`.parameters` (a reader's values), :mod:`.results`, :mod:`.parallel`.
"""

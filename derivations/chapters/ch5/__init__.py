"""Chapter 5 (``notebooks/05_real_data.ipynb``): does label smoothing calibrate a network that over-fits real data,
and when? A fair test of Guo et al. (2017) and Müller, Kornblith & Hinton (2019) on scikit-learn's digits.

Here: :mod:`.claims` (registry entries), :mod:`.worked` (the experiment at the reader's values), :mod:`.figures`,
:mod:`.regimes` (the experiment over the training set's size, stored), and the chapter's machinery:
:mod:`.calibration` (ECE, temperature scaling, the tests), :mod:`.inference` (joint resamples of images and seeds,
decisions with the seed as the unit), :mod:`.mlp` (the networks) and :mod:`.digits` (the data). It does not read
K: its data have K = 10 classes. Its EPS is the reader's point in the smoothing sweep (added to it when it is not one
of its values); SEED is the first of N_SEEDS seeds. The cost grows with N_SEEDS x N_PER_DIGIT x HIDDEN x STEPS: about 8 s of CPU at the defaults
(docs/chapter5.md).
"""
from derivations.engine.parameters import Chapter, Parameter

CHAPTER = Chapter(5, "05_real_data", {"EPS": 0.1, "SEED": 0, "N_SEEDS": 10, "N_PER_DIGIT": 3, "HIDDEN": 128,
                                      "STEPS": 300},
                  own=(Parameter("N_SEEDS", int, 2, 20, "seeds: splits, initial weights, flips (chapter 5)"),
                       Parameter("N_PER_DIGIT", int, 1, 74, "training images of each digit (chapter 5)"),
                       Parameter("HIDDEN", int, 4, 1024, "hidden units of the network (chapter 5)"),
                       Parameter("STEPS", int, 10, 10_000, "full-batch Adam steps (chapter 5)")))

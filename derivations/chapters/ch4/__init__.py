"""Chapter 4 (``notebooks/04_training.ipynb``): training with hard, soft and flipped labels.

Here: :mod:`.claims` (registry entries with statistical evidence), :mod:`.worked` (the experiments at the
reader's values), :mod:`.figures`, and the chapter's machinery: :mod:`.training` (free logits, softmax
regression) and :mod:`.linear_response` (the spread that chapter 3's noise predicts). Training costs grow
with K times the data size: K up to 1,000 (:class:`.training.TrainingPlan`).
"""
from derivations.engine.parameters import Chapter, Parameter

CHAPTER = Chapter(4, "04_training", {"K": 4, "EPS": 0.1, "SEED": 0, "N_FREE": 400, "N_TRAIN": 2000, "N_TEST": 2000},
                  k_max=1000,
                  own=(Parameter("N_FREE", int, 50, 2000, "examples of the free-logit model (chapter 4)"),
                       Parameter("N_TRAIN", int, 200, 10_000, "training examples of softmax regression (chapter 4)"),
                       Parameter("N_TEST", int, 100, 10_000, "held-out examples of softmax regression (chapter 4)")))

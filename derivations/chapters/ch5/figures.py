"""Chapter 5 figures: reliability diagrams of the MLP on held-out digits, the seeds pooled."""
from __future__ import annotations

import numpy as np

from derivations.chapters.ch4.figures import plot_reliability
from derivations.chapters.ch4.training import MODES

__all__ = ["plot_digits_reliability"]


def plot_digits_reliability(experiment, name: str = "ch5_reliability"):
    """Accuracy against confidence per bin on the held-out images of every seed (pooled), one panel per mode."""
    probs = {m: np.concatenate([r.test_probs() for r in experiment.each(m)]) for m in MODES}
    labels = np.concatenate([r.y_test for r in experiment.each("hard")])
    return plot_reliability(probs, labels, name=name)

"""Chapter 4 figures: training curves, memorisation, reliability diagrams."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from derivations.chapters.ch4.training import reliability_bins, true_class_probability
from derivations.engine.figures import STYLE, save
from derivations.library.smoothing import smoothed_optimum_gap

__all__ = ["LABELS", "plot_training_curves", "plot_memorisation", "plot_reliability"]

#: How each training mode is named in the figures.
LABELS = {"hard": "(a) hard labels", "soft": "(b) soft labels",
          "flip_fresh": "(c) flipped afresh every step", "flip_once": "(d) flipped once, kept"}
_STYLE = {"hard": dict(color="C2", lw=1.5), "soft": dict(color="k", lw=2.5),
          "flip_fresh": dict(color="C1", lw=1.0), "flip_once": dict(color="C3", lw=1.5, ls="--")}


def _reference_lines(a1, a2, K: int, eps: float):
    """Chapter 2's optimum (1 - eps, and the gap where it is finite: not at eps = 0 or 1)."""
    a1.axhline(1 - eps, color="0.4", ls=":", lw=1, label=r"closed-form optimum $1-\epsilon$")
    gap = smoothed_optimum_gap(K, eps)
    if np.isfinite(gap):
        a2.axhline(gap, color="0.4", ls=":", lw=1,
                   label=r"closed-form optimum $\log\frac{(1-\epsilon)(K-1)}{\epsilon}$")


def plot_training_curves(runs: dict, K: int, eps: float, title: str, name: str):
    """Mean true-class probability and mean logit gap on the training set against the step."""
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.0, 3.8))
        for mode, r in runs.items():
            a1.plot(r.steps, r.p_true, label=LABELS[mode], **_STYLE[mode])
            a2.plot(r.steps, r.gap, label=LABELS[mode], **_STYLE[mode])
        _reference_lines(a1, a2, K, eps)
        a1.set_xlabel("gradient step")
        a1.set_ylabel("mean predicted probability of the true class")
        a2.set_xlabel("gradient step")
        a2.set_ylabel(r"mean logit gap $z_y - \mathrm{mean}_{j \ne y} z_j$")
        a1.legend(fontsize=7, loc="lower right")
        a2.legend(fontsize=7, loc="center right")
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return save(fig, name)


def plot_memorisation(runs: dict, labels, eps: float, name: str = "ch4_memorisation"):
    """Per-example true-class probability at the end of training, for a model that can memorise."""
    bins = np.linspace(0.0, 1.0, 51)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for mode, r in runs.items():
            q = true_class_probability(r.logits, labels)
            ax.hist(q, bins=bins, histtype="step", lw=2 if mode == "soft" else 1.5, label=LABELS[mode],
                    color=_STYLE[mode]["color"])
        ax.axvline(1 - eps, color="0.4", ls=":", lw=1, label=r"$1-\epsilon$")
        ax.set_yscale("log")
        ax.set_xlabel("predicted probability of the true class, per example")
        ax.set_ylabel("examples")
        ax.set_title("Free logits per example: (d) memorises its flipped labels", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
        return save(fig, name)


def plot_reliability(probs: dict, labels, bins: int = 10, name: str = "ch4_reliability"):
    """Reliability diagrams (accuracy against confidence per bin), one panel per mode."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(probs), figsize=(2.6 * len(probs), 2.9), sharey=True)
        edges = np.linspace(0.0, 1.0, bins + 1)
        for ax, (mode, P) in zip(axes, probs.items()):
            conf, acc, count = reliability_bins(P, labels, bins)
            used = count > 0
            ax.bar(edges[:-1][used], acc[used], width=1.0 / bins, align="edge", color="C0", alpha=0.7,
                   edgecolor="k", lw=0.5, label="accuracy")
            ax.plot(conf[used], acc[used], "k.", ms=4)
            ax.plot([0, 1], [0, 1], color="C3", lw=1, ls="--", label="perfect calibration")
            ax.set_title(LABELS[mode], fontsize=8)
            ax.set_xlabel("confidence", fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
        axes[0].set_ylabel("accuracy (test set)", fontsize=8)
        axes[0].legend(fontsize=6, loc="upper left")
        fig.tight_layout()
        return save(fig, name)

"""Chapter 4 figures: training curves, memorisation, reliability diagrams.

Each function draws its figure and ends with its caption and alt text (:data:`FIGURES` numbers them in the order the
notebook shows them) and saves it into the folder ``out`` that the notebook passes (its values' ``figures``).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from derivations.chapters.ch4.training import reliability_bins, true_class_probability
from derivations.chapters.ch4.worked import LABELS
from derivations.engine.figures import Numbered, Shown, legend_outside, math_int, style
from derivations.engine.regimes import uniform_eps
from derivations.library.smoothing import smoothed_optimum_gap

__all__ = ["FIGURES", "LABELS", "plot_training_curves", "plot_memorisation", "plot_reliability"]

#: The chapter's figures, in the order the notebook shows them: Figure 4.1 to 4.4.
FIGURES = Numbered(4, ("ch4_free_logits", "ch4_memorisation", "ch4_softmax_regression", "ch4_reliability"))

_STYLE = {"hard": dict(color="C2", lw=1.5), "soft": dict(color="k", lw=2.5),
          "flip_fresh": dict(color="C1", lw=1.0), "flip_once": dict(color="C3", lw=1.5, ls="--")}


def _reference_lines(a1, a2, K: int, eps: float):
    """Chapter 2's optimum (1 - eps, and the gap where it is finite: not at eps = 0 or 1)."""
    a1.axhline(1 - eps, color="0.4", ls=":", lw=1.2, label=r"chapter 2's optimum: $q_y = 1-\epsilon$")
    gap = smoothed_optimum_gap(K, eps)
    if np.isfinite(gap):
        a2.axhline(gap, color="0.4", ls="-.", lw=1.2,
                   label=r"chapter 2's optimum: gap $\log((1-\epsilon)(K-1)/\epsilon)$")


def _where_they_end(name: str, K: int, eps: float) -> str:
    """The caption's "look at": what the end of training shows for these values."""
    if name == "ch4_softmax_regression":
        return ("Look at where the curves end: (b), (c) and (d) end close together, since a model that cannot single "
                "out an example cannot memorise a label flipped once. The grey lines, chapter 2's optimum for a "
                "single example, are out of reach of one model shared by overlapping classes.")
    if 0 < eps <= uniform_eps(K):
        return ("Look at where the curves end: soft labels (b) and labels flipped afresh (c) reach the same point, "
                "chapter 2's optimum (grey), while labels flipped once and kept (d) end elsewhere.")
    return ("Look at where (b) and (c) end against chapter 2's optimum (grey, where it is finite): at these values the "
            "chapter shows, and explains below, why they need not meet.")


def plot_training_curves(runs: dict, K: int, eps: float, name: str, *, out: Path) -> Shown:
    """Mean true-class probability and mean logit gap on the training set against the step; ``name`` is
    ``"ch4_free_logits"`` or ``"ch4_softmax_regression"`` (the model, which the caption names)."""
    with style():
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.88, 3.6))
        for mode, r in runs.items():
            a1.plot(r.steps, r.p_true, label=LABELS[mode], **_STYLE[mode])
            a2.plot(r.steps, r.gap, label=LABELS[mode], **_STYLE[mode])
        _reference_lines(a1, a2, K, eps)
        for ax in (a1, a2):
            ax.set_xlabel("gradient step")
        a1.set_ylabel(r"mean predicted $q_y$ of the true class")
        a2.set_ylabel(r"mean logit gap $z_y - \mathrm{mean}_{j \neq y}\, z_j$")
        legend_outside(fig, "lower center", ncols=2)
        model = ("free logits, a logit vector per example" if name == "ch4_free_logits" else
                 "softmax regression on overlapping Gaussian blobs")
        return FIGURES.show(
            fig, name,
            caption=rf"The four ways of using the labels, trained side by side: {model}, $K = {math_int(K)}$, "
                    rf"$\epsilon = {eps:g}$. Left, the mean predicted probability $q_y$ of the true class $y$; right, "
                    r"the mean logit gap between the true class and the others; both against the gradient step. "
                    + _where_they_end(name, K, eps),
            alt=f"Two line charts against the gradient step, for {model}, K = {K:,} and epsilon = {eps:g}: the mean "
                f"predicted probability of the true class (left) and the mean logit gap (right), one curve for each "
                f"of hard labels, soft labels, labels flipped afresh every step and labels flipped once, with grey "
                f"horizontal lines at chapter 2's optimum where it is finite.", out=out)


def plot_memorisation(runs: dict, labels, eps: float, *, out: Path) -> Shown:
    """Per-example true-class probability at the end of training, for a model that can memorise."""
    bins = np.linspace(0.0, 1.0, 51)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.2))
        for mode, r in runs.items():
            q = true_class_probability(r.logits, labels)
            ax.hist(q, bins=bins, histtype="step", lw=2 if mode == "soft" else 1.5, label=LABELS[mode],
                    color=_STYLE[mode]["color"], ls=_STYLE[mode].get("ls", "-"))
        ax.axvline(1 - eps, color="0.4", ls=":", lw=1.2, label=r"$q_y = 1-\epsilon$")
        ax.set_yscale("log")
        ax.set_xlabel(r"predicted probability $q_y$ of the true class, per example, after training")
        ax.set_ylabel("examples")
        legend_outside(fig, "right upper")
        return FIGURES.show(
            fig, "ch4_memorisation",
            caption=r"Where each example of the free-logit model ends: the number of examples (log scale) at each "
                    rf"predicted probability $q_y$ of its true class, $\epsilon = {eps:g}$. Look at labels flipped "
                    r"once (d): its examples split in two, near $q_y = 1$ those whose label was kept and near "
                    r"$q_y = 0$ those whose flipped label the model memorised, while soft labels (b) and fresh flips "
                    r"(c) gather at $1-\epsilon$ (dotted).",
            alt=f"Histogram outlines, on a logarithmic count axis, of the final predicted probability of the true class "
                f"per example, for hard labels, soft labels, labels flipped afresh and labels flipped once, with a "
                f"dotted vertical line at 1 - epsilon = {1 - eps:g}. Labels flipped once have two spikes, near 0 and "
                f"near 1; the others form one narrow spike each.", out=out)


def plot_reliability(probs: dict, labels, bins: int = 10, *, out: Path) -> Shown:
    """Reliability diagrams (accuracy against confidence per bin), one panel per mode, two by two."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    with style():
        fig, axes = plt.subplots(2, 2, figsize=(6.88, 5.6), sharex=True, sharey=True)
        for ax, (mode, P) in zip(axes.flat, probs.items()):
            conf, acc, count = reliability_bins(P, labels, bins)
            used = count > 0
            ax.bar(edges[:-1][used], acc[used], width=1.0 / bins, align="edge", color="C0", alpha=0.7,
                   edgecolor="k", lw=0.5, label="accuracy in the bin")
            ax.plot(conf[used], acc[used], "k.", ms=5, label="(mean confidence, accuracy) of the bin")
            ax.plot([0, 1], [0, 1], color="C3", lw=1.2, ls="--", label="perfect calibration")
            ax.set_title(LABELS[mode])
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
        for ax in axes[-1]:
            ax.set_xlabel(r"confidence $\mathrm{max}_j\, q_j$")
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy (test set)")
        legend_outside(fig, "lower center", ncols=2)
        return FIGURES.show(
            fig, "ch4_reliability",
            caption=rf"Reliability diagrams of softmax regression on the held-out test set, {bins} equal-width bins "
                    r"of the confidence $\max_j q_j$, one panel per way of using the labels. Look at the bars "
                    r"against the dashed diagonal: a bar above it is a bin where the model is under-confident, one "
                    r"below it over-confident.",
            alt=f"Four bar charts, two by two, of test accuracy against confidence in {bins} bins, titled hard "
                f"labels, soft labels, labels flipped afresh every step, and labels flipped once, each with a dashed "
                f"diagonal for perfect calibration and a dot per bin at its mean confidence and accuracy.", out=out)

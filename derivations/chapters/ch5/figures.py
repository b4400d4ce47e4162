"""Chapter 5 figures: reliability diagrams on the test digits, and the smoothing sweep."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5.worked import ALPHAS, CHOSEN, alpha_of, boundary
from derivations.engine.figures import STYLE, save

__all__ = ["panels", "plot_reliability", "plot_sweep"]


def panels(x) -> dict:
    """The four networks of the reliability diagrams: hard labels, the alpha chosen on validation, too large an
    alpha (the sweep's largest), and hard labels after temperature scaling (row names of the results)."""
    return {"hard labels": "hard labels", "$\\alpha$ chosen on validation": CHOSEN,
            f"too much: $\\alpha = {ALPHAS[-1]:g}$": f"$\\alpha = {ALPHAS[-1]:g}$",
            "hard labels + temperature scaling": "hard labels + temperature"}


def plot_reliability(x, name: str = "ch5_reliability"):
    """Accuracy against confidence in 15 equal-width bins on the test images of every seed (pooled), one panel per
    network of :func:`panels`, the gap to the diagonal shaded (red: over-confident, blue: under-confident)."""
    r = x.results
    bins = cal.BINS
    edges = np.linspace(0.0, 1.0, bins + 1)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 4, figsize=(11.0, 3.2), sharey=True)
        for ax, (title, row) in zip(axes, panels(x).items()):
            sc = r.scores[row]
            conf = np.concatenate([s.conf for s in sc])
            correct = np.concatenate([s.correct for s in sc])
            idx = cal.bin_index(conf, bins)
            n = np.bincount(idx, minlength=bins)
            used = n > 0
            acc = np.bincount(idx, correct, minlength=bins)[used] / n[used]
            mid = np.bincount(idx, conf, minlength=bins)[used] / n[used]
            ax.bar(edges[:-1][used], acc, width=1.0 / bins, align="edge", color="C0", alpha=0.75, edgecolor="k",
                   lw=0.4, label="accuracy")
            for lo, a, c in zip(edges[:-1][used], acc, mid):
                ax.bar(lo, c - a, bottom=a, width=1.0 / bins, align="edge", color="C3" if c > a else "C9", alpha=0.35,
                       lw=0)
            ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="calibrated")
            ece = r.lines[row].stats["ECE width"]
            ax.set_title(f"{title}\nECE {ece.value:.3f}", fontsize=8)
            ax.set_xlabel("confidence $\\max_j q_j$", fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.tick_params(labelsize=7)
        axes[0].set_ylabel("accuracy on the test digits", fontsize=8)
        axes[0].legend(fontsize=6, loc="upper left")
        fig.tight_layout()
        return save(fig, name)


def plot_sweep(x, name: str = "ch5_sweep"):
    """Against alpha: the test ECE with its 95% interval, temperature scaling's (hard labels) as a band, and mean
    confidence minus accuracy with the under-confidence boundary; the reader's eps marked."""
    r = x.results
    soft = [m for m in x.models if m.target.mode == "soft"]
    soft.sort(key=lambda m: m.alpha)
    a = np.array([m.alpha for m in soft])
    yours = alpha_of(x.plan.eps)
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.0, 3.6))
        for ax, key, label in ((a1, "ECE width", "test ECE (15 equal-width bins)"),
                               (a2, "over", "mean confidence − accuracy")):
            st = [r.lines[m.name].stats[key] for m in soft]
            v = np.array([s.value for s in st])
            err = np.array([[s.value - s.interval()[0] for s in st], [s.interval()[1] - s.value for s in st]])
            ax.errorbar(a, v, yerr=err, fmt="o-", color="k", ms=4, lw=1, capsize=3, label="label smoothing")
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_xlim(-0.002, max(a.max(), yours) * 1.3)
            ax.axvline(yours, color="C1", lw=1, ls=":", label=f"your $\\epsilon = {x.plan.eps:g}$ ($\\alpha = {yours:.3g}$)")
            ax.set_xlabel("$\\alpha$ (the frameworks' smoothing; $\\epsilon = \\alpha (K-1)/K$)")
            ax.set_ylabel(label)
        ts = r.lines["hard labels + temperature"].stats["ECE width"]
        lo, hi = ts.interval()
        a1.axhspan(lo, hi, color="C2", alpha=0.25, lw=0, label="hard labels + temperature scaling")
        a1.axhline(r.lines[CHOSEN].floor, color="0.4", lw=1, ls="--",
                   label="a calibrated model's ECE")
        a2.axhline(0.0, color="0.4", lw=1, ls="--", label="calibrated on average")
        last, first, _ = boundary(x)
        if first is not None:
            a2.axvspan(first, max(a.max(), yours) * 1.3, color="C9", alpha=0.15, lw=0,
                       label=f"decidedly under-confident ($\\alpha \\geq {first:g}$)")
        a1.legend(fontsize=7)
        a2.legend(fontsize=7)
        fig.tight_layout()
        return save(fig, name)

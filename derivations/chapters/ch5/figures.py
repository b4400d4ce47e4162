"""Chapter 5 figures: the smoothing sweep, reliability diagrams on the test digits, and where the claims hold over
the training set's size.

Each function draws its figure and ends with its caption and alt text (:data:`FIGURES` numbers them in the order the
notebook shows them) and saves it into the folder ``out`` that the notebook passes (its values' ``figures``).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from derivations.chapters.ch5 import calibration as cal
from derivations.chapters.ch5 import regimes
from derivations.chapters.ch5.inference import MARGIN, SEED_FALSE_ALARM
from derivations.chapters.ch5.worked import ALPHAS, CHOSEN, TEMPERED, alpha_of, boundary
from derivations.engine.figures import Numbered, Shown, legend_outside, style
from derivations.engine.tex import inline

__all__ = ["FIGURES", "panels", "plot_reliability", "plot_sweep", "plot_regimes"]

#: The chapter's figures, in the order the notebook shows them: Figure 5.1, 5.2, 5.3.
FIGURES = Numbered(5, ("ch5_sweep", "ch5_reliability", "ch5_penultimate", "ch5_distillation", "ch5_regimes"))


def panels(x) -> dict:
    """The four networks of the reliability diagrams: hard labels, the alpha chosen on validation, too large an
    alpha (the sweep's largest), and hard labels after temperature scaling (row names of the results)."""
    return {"hard labels": "hard labels", "$\\alpha$ chosen by validation NLL": CHOSEN,
            f"too much: $\\alpha = {ALPHAS[-1]:g}$": f"$\\alpha = {ALPHAS[-1]:g}$",
            "hard labels + temperature scaling": TEMPERED}


def _reliability_panel(ax, scores):
    """One reliability diagram: accuracy per confidence bin, the gap to the diagonal shaded."""
    bins = cal.BINS
    edges = np.linspace(0.0, 1.0, bins + 1)
    conf = np.concatenate([s.conf for s in scores])
    correct = np.concatenate([s.correct for s in scores])
    idx = cal.bin_index(conf, bins)
    n = np.bincount(idx, minlength=bins)
    used = n > 0
    acc = np.bincount(idx, correct, minlength=bins)[used] / n[used]
    mid = np.bincount(idx, conf, minlength=bins)[used] / n[used]
    ax.bar(edges[:-1][used], acc, width=1.0 / bins, align="edge", color="0.82", edgecolor="k", lw=0.4,
           label="accuracy in the bin")
    for lo, a, c in zip(edges[:-1][used], acc, mid):
        ax.bar(lo, c - a, bottom=a, width=1.0 / bins, align="edge", color="C3" if c > a else "C0", alpha=0.6, lw=0,
               label="over-confident: confidence above accuracy" if c > a else
               "under-confident: confidence below accuracy")
    ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


def plot_reliability(x, *, out: Path) -> Shown:
    """Accuracy against confidence in 15 equal-width bins on the test images of every seed (pooled), one panel per
    network of :func:`panels`, two by two, the gap to the diagonal shaded (red: over-confident, blue:
    under-confident)."""
    r = x.results
    with style():
        fig, axes = plt.subplots(2, 2, figsize=(6.88, 5.8), sharex=True, sharey=True)
        for ax, (title, row) in zip(axes.flat, panels(x).items()):
            _reliability_panel(ax, r.scores[row])
            ax.set_title(f"{title}\nECE {r.lines[row].stats['ECE width'].value:.3f}")
        for ax in axes[-1]:
            ax.set_xlabel(r"confidence $\mathrm{max}_j\, q_j$")
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy on the test digits")
        handles = {}
        for ax in axes.flat:
            for h, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, h)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=2)
        return FIGURES.show(
            fig, "ch5_reliability",
            caption=rf"Reliability diagrams on the test digits of all {x.plan.seeds} seeds pooled, {cal.BINS} "
                    r"equal-width bins of the confidence $\max_j q_j$: hard labels, the $\alpha$ chosen by "
                    rf"validation NLL, too much smoothing ($\alpha = {ALPHAS[-1]:g}$), and hard labels after temperature "
                    r"scaling, each with its expected calibration error (ECE). Look at the shading between each grey "
                    r"bar and the diagonal: red where the network is more confident than accurate, blue where less.",
            alt="Four reliability diagrams, two by two, of accuracy against confidence on the test digits: hard "
                "labels, the smoothing chosen on validation, the sweep's strongest smoothing, and hard labels after "
                "temperature scaling, each titled with its calibration error. Each has grey bars of accuracy per "
                "confidence bin and a dashed diagonal, the gap between bar and diagonal shaded red where the "
                "network is over-confident and blue where it is under-confident.", out=out)


def _sweep_panel(ax, a, stats, yours: float, eps: float, right: float):
    """One row of the sweep: a statistic against alpha with its 95% intervals, the reader's eps marked."""
    v = np.array([s.value for s in stats])
    err = np.array([[s.value - s.interval()[0] for s in stats], [s.interval()[1] - s.value for s in stats]])
    ax.errorbar(a, v, yerr=err, fmt="o-", color="k", ms=4, lw=1, capsize=3, label="label smoothing (95% interval)")
    ax.set_xscale("symlog", linthresh=ALPHAS[1])
    ax.set_xlim(-ALPHAS[1] / 5, right)
    ax.axvline(yours, color="C1", lw=1.2, ls=":", label=rf"your $\epsilon = {eps:g}$ ($\alpha = {yours:.3g}$)")


def plot_sweep(x, *, out: Path) -> Shown:
    """Against alpha: the test ECE with its 95% interval, temperature scaling's (hard labels) as a band, and mean
    confidence minus accuracy with the under-confidence boundary; the reader's eps marked. Stacked, one legend each."""
    r = x.results
    soft = sorted((m for m in x.models if m.target.mode == "soft"), key=lambda m: m.alpha)
    a = np.array([m.alpha for m in soft])
    yours = alpha_of(x.plan.eps)
    right = max(a.max(), yours) * 1.3
    with style():
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.88, 5.2), sharex=True)
        _sweep_panel(a1, a, [r.lines[m.name].stats["ECE width"] for m in soft], yours, x.plan.eps, right)
        _sweep_panel(a2, a, [r.lines[m.name].stats["over"] for m in soft], yours, x.plan.eps, right)
        lo, hi = r.lines[TEMPERED].stats["ECE width"].interval()
        a1.axhspan(lo, hi, color="C2", alpha=0.25, lw=0, label="hard labels + temperature scaling")
        a1.axhline(r.lines[CHOSEN].floor, color="0.4", lw=1, ls="--", label="a calibrated model's ECE")
        a2.axhline(0.0, color="0.4", lw=1, ls="--", label="calibrated on average")
        first = boundary(x)[1]
        if first is not None:
            a2.axvspan(first, right, color="C9", alpha=0.15, lw=0,
                       label=rf"decidedly under-confident ($\alpha \geq {first:g}$)")
        a1.set_ylabel(f"test ECE ({cal.BINS} bins)")
        a2.set_ylabel("mean confidence\n− accuracy")
        a2.set_xlabel(r"$\alpha$, the frameworks' smoothing ($\epsilon = \alpha (K-1)/K$)")
        for ax in (a1, a2):
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        return FIGURES.show(
            fig, "ch5_sweep",
            caption=rf"Calibration along the smoothing sweep, mean over {x.plan.seeds} seeds with 95% intervals "
                    r"(the images and the seeds resampled jointly), "
                    r"against the frameworks' $\alpha$ (symmetric log scale). Top: the test expected calibration "
                    r"error (ECE); the green band is temperature scaling of the hard-label network, the dashed line "
                    r"a calibrated model's ECE on as many images. Bottom: mean confidence minus accuracy. Look at "
                    r"where the bottom curve crosses 0: there smoothing stops correcting over-confidence and starts "
                    r"over-correcting. The dotted line is your $\epsilon$"
                    + ("; the shaded region is where under-confidence is decided." if first is not None else "."),
            alt=f"Two stacked charts against the smoothing strength alpha from 0 to {a.max():g}, black points with "
                f"error bars joined by a line. Top: the test calibration error, with a green band for temperature "
                f"scaling and a dashed line for a calibrated model. Bottom: mean confidence minus accuracy, with a "
                f"dashed line at zero"
                + (f" and a blue region from alpha = {first:g} where the network is decidedly under-confident"
                   if first is not None else "")
                + f". A dotted vertical line marks the reader's epsilon = {x.plan.eps:g}.", out=out)


_SERIES = {"gain": ("smoothing's gain: hard labels' ECE minus the chosen $\\alpha$'s", "k", "o"),
           "gap": ("the chosen $\\alpha$'s ECE minus temperature scaling's", "C3", "s")}


def _draw(ax, xs, points, name: str, colour: str, marker: str, label: str, shift: float = 1.0):
    """One quantity over the sizes: its value, its interval at the decision's false-alarm probability (error bars),
    the points its test confirms filled, the others hollow."""
    v = np.array([p[name]["value"] for p in points])
    lo = np.array([p[name]["interval"][0] for p in points])
    hi = np.array([p[name]["interval"][1] for p in points])
    xs = np.asarray(xs, dtype=float) * shift
    ax.errorbar(xs, v, yerr=[v - lo, hi - v], fmt="-", color=colour, lw=1, capsize=3, label=label)
    for x_, v_, p in zip(xs, v, points):
        filled = p[name]["outcome"] == "confirmed"
        ax.plot([x_], [v_], marker=marker, ms=5, color=colour, mfc=colour if filled else "white", ls="none")


def _span(points, sizes, name: str) -> str:
    """``from +0.168 at 3 to +0.020 at 74``: a quantity's first and last value, for the alt text."""
    return (f"from {points[0][name]['value']:+.3f} at {sizes[0]} to {points[-1][name]['value']:+.3f} at "
            f"{sizes[-1]}")


def plot_regimes(x, data: dict | None = None, *, out: Path) -> Shown:
    """Over the training set's size (the stored sweep, :mod:`derivations.chapters.ch5.regimes`): top, hard labels'
    mean confidence minus accuracy; bottom, smoothing's gain in ECE over hard labels and its difference from
    temperature scaling, with the margin of "about as well". Intervals at the decisions' false-alarm probability; a
    point is filled where its claim's test confirms it. The reader's run is drawn over it when it has another
    size."""
    data = regimes.load() if data is None else data
    sizes = [int(n) for n in data["sizes"]]
    points = [data["sizes"][str(n)] for n in sizes]
    mine = None
    if x.plan.per_class not in sizes or (x.plan.hidden, x.plan.steps, x.plan.seeds, x.plan.seed) != (
            data["plan"]["hidden"], data["plan"]["steps"], data["plan"]["seeds"], data["plan"]["seed"]):
        mine = regimes.point(x)
    alarm = inline(SEED_FALSE_ALARM, "g")
    with style():
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.88, 6.2), sharex=True)
        _draw(a1, sizes, points, "over", "k", "o", "hard labels: mean confidence − accuracy")
        a1.axhline(0.0, color="0.4", lw=1, ls="--", label="calibrated on average")
        for name, (label, colour, marker) in _SERIES.items():
            _draw(a2, sizes, points, name, colour, marker, label, shift=1.06 if name == "gap" else 1.0)
        a2.axhspan(-MARGIN, MARGIN, color="C3", alpha=0.12, lw=0, label=rf"$\pm\Delta$ ($\Delta = {MARGIN:g}$)")
        a2.axhline(0.0, color="0.4", lw=1, ls="--")
        if mine is not None:
            for ax, names in ((a1, ("over",)), (a2, ("gain", "gap"))):
                for name in names:
                    ax.plot([x.plan.per_class], [mine[name]["value"]], marker="*", ms=10, color="C1", ls="none",
                            label="your run")
        a1.set_ylabel("confidence − accuracy")
        a2.set_ylabel("difference in test ECE")
        a2.set_xscale("log")
        a2.set_xticks(sizes, [str(n) for n in sizes])
        a2.minorticks_off()
        a2.set_xlabel("training images of each digit")
        legend_outside(fig, "lower center", ncols=2)
        n_seeds = data["plan"]["seeds"]
        return FIGURES.show(
            fig, "ch5_regimes",
            caption=rf"Where the claims hold, over the training set's size: chapter 5's experiment at its defaults "
                    rf"but the number of training images of each digit, {n_seeds} seeds each (stored, "
                    r"python -m derivations.chapters.ch5.regimes). Error bars: the intervals that decide, at "
                    rf"false-alarm {alarm} per end, the images and the seeds resampled jointly; a filled marker where "
                    r"the claim's test confirms it, a hollow one where it is undecided or refuted. Top: hard labels' "
                    r"over-confidence. Bottom: black, how much the $\alpha$ chosen by validation NLL lowers the test "
                    r"ECE; red, how far its ECE lies from temperature scaling's, against the shaded margin. Look at "
                    r"where the intervals reach 0: there hard labels stop being decidedly over-confident and "
                    r"smoothing stops decidedly helping."
                    + (r" The star is your run." if mine is not None else ""),
            alt=f"Two stacked charts against the number of training images of each digit, {', '.join(map(str, sizes))}"
                f" on a log scale. Top: hard labels' mean confidence minus accuracy with error bars, "
                f"{_span(points, sizes, 'over')}, and a dashed line at zero. Bottom: smoothing's gain in calibration "
                f"error over hard labels (black), {_span(points, sizes, 'gain')}, and its difference from temperature "
                f"scaling (red), {_span(points, sizes, 'gap')}, with error bars and a shaded band for the margin "
                "around zero."
                + (" An orange star marks the reader's own run." if mine is not None else ""), out=out)

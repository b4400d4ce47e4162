"""Chapter 3 figures: the flipped-label distribution, Monte Carlo convergence, noise at the optimum.

Each function draws its figure and ends with its caption and alt text (:data:`FIGURES` numbers them in the order the
notebook shows them) and saves it into the folder ``out`` that the notebook passes (its values' ``figures``).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import Numbered, Shown, legend_outside, math_int, style
from derivations.library.flipping import flip_labels, flipped_gradient_total_variance, flipped_loss_variance
from derivations.library.smoothing import smoothed_targets

__all__ = ["FIGURES", "SHOWN_CLASSES", "plot_flip_distribution", "plot_mc_convergence", "plot_noise_at_optimum"]

#: The chapter's figures, in the order the notebook shows them: Figure 3.1, 3.2, 3.3.
FIGURES = Numbered(3, ("ch3_flip_distribution", "ch3_noise_at_optimum", "ch3_mc_convergence"))

#: Classes drawn as bars in the distribution figure (the first ones; K may be 100,000).
SHOWN_CLASSES = 12


def plot_flip_distribution(K: int, eps: float, n: int, seed: int, *, out: Path) -> Shown:
    """Frequencies of ``flip_labels`` (true class 1) against the closed form, for flip probability eps
    and for the note's wording (flip probability 1 - eps). At most :data:`SHOWN_CLASSES` classes are drawn."""
    rng = np.random.default_rng(seed)
    shown = min(K, SHOWN_CLASSES)
    classes = np.arange(1, shown + 1)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.4))
        for f, label, off, colour in ((eps, r"$f = \epsilon$", -0.2, "C0"),
                                      (1 - eps, r"$f = 1-\epsilon$ (the note's wording)", 0.2, "C3")):
            freq = np.bincount(flip_labels(np.zeros(n, dtype=int), K, f, rng), minlength=K)[:shown] / n
            ax.bar(classes + off, freq, width=0.4, color=colour, alpha=0.7, label=f"sampled, {label}")
            ax.plot(classes + off, smoothed_targets([0], K, eps=f)[0, :shown], "k_", ms=12, mew=2)
        closed = r"closed form $(1-f,\ f/(K-1), \dots, f/(K-1))$"
        ax.plot([], [], "k_", ms=12, mew=2, label=closed)
        ax.set_xticks(classes)
        rest = f" (classes 1 to {shown} of ${math_int(K)}$)" if shown < K else ""
        ax.set_xlabel("flipped label; class 1 is the true class" + rest)
        ax.set_ylabel("probability")
        legend_outside(fig, "lower center", ncols=2, last=[closed]).set_title(r"flip probability $f$")
        return FIGURES.show(
            fig, "ch3_flip_distribution",
            caption=rf"How often each label comes out of {n:,} flips of true class 1, at $K = {math_int(K)}$ and "
                    rf"$\epsilon = {eps:g}$, with flip probability $f$"
                    + (f" (the first {shown} classes)" if shown < K else "")
                    + r". Look at the black marks, the closed form: flipping with probability $\epsilon$ (blue) "
                      r"draws labels from the smoothed target $(1-\epsilon, \frac{\epsilon}{K-1}, \dots)$; the note's "
                      r"wording, flipping with probability $1-\epsilon$ (red), draws from another distribution "
                      r"unless $\epsilon = 1/2$.",
            alt=f"Bar chart of label frequencies for classes 1 to {shown}, two bars per class: blue for flipping "
                f"with probability epsilon = {eps:g}, red for flipping with probability 1 - epsilon. Class 1 has "
                f"frequency about {1 - eps:.3g} in blue and {eps:.3g} in red, each other class about "
                f"{eps / (K - 1):.3g} in blue and {(1 - eps) / (K - 1):.3g} in red; a black mark on each bar shows "
                f"the closed-form probability, which the bar reaches.", out=out)


def plot_noise_at_optimum(Ks=(2, 10, 100), *, out: Path) -> Shown:
    """At the smoothed optimum: trace of the gradient covariance and variance of the loss, against eps.

    Closed forms, ``O(K)`` per point (:func:`flipped_gradient_total_variance`,
    :func:`flipped_loss_variance` at ``z = log p``).
    """
    eps = np.linspace(0.005, 0.995, 199)
    Ks = sorted(set(Ks))
    with style():
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.88, 3.0))
        for K in Ks:
            tr = [flipped_gradient_total_variance(K, e) for e in eps]
            var = [float(flipped_loss_variance(np.log(smoothed_targets([0], K, eps=e)), [0], e)[0]) for e in eps]
            a1.plot(eps, tr, label=f"$K = {math_int(K)}$")
            a2.plot(eps, var, label=f"$K = {math_int(K)}$")
            a2.plot([(K - 1) / K], [0.0], "k.", ms=8)
        a2.plot([], [], "k.", ms=8, label=r"$\epsilon = (K-1)/K$")
        a1.set_xlabel(r"$\epsilon$")
        a1.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}[\nabla_z \ell]$ at the optimum")
        a2.set_xlabel(r"$\epsilon$")
        a2.set_ylabel(r"$\mathrm{Var}[\ell]$ at the optimum")
        legend_outside(fig, "lower center", ncols=len(Ks) + 1)
        ks, ks_math = ", ".join(f"{K:,}" for K in Ks), ", ".join(map(math_int, Ks))
        return FIGURES.show(
            fig, "ch3_noise_at_optimum",
            caption=r"Labels flipped afresh, at the smoothed optimum $z = \log p_\epsilon$, where the mean gradient "
                    r"vanishes: the trace of the gradient's covariance (left) and the variance of the loss $\ell$ "
                    rf"(right) against $\epsilon$, for $K = {ks_math}$. Look at how neither is zero: the gradient's "
                    r"noise, $1 - \sum_j p_j^2$, stays positive for every $0 < \epsilon < 1$, and the loss's "
                    r"variance vanishes only at the dots, $\epsilon = (K-1)/K$, where the target is uniform.",
            alt=f"Two line charts against epsilon from 0 to 1, one curve for each K of {ks}. Left: the trace of the "
                f"gradient covariance, which rises from near 0 at small epsilon, higher for larger K, and for K = 2 "
                f"falls back to near 0 at epsilon = 1. Right: the variance of the loss, positive everywhere except "
                f"at a black dot at epsilon = (K-1)/K for each K, where it touches zero.", out=out)


def plot_mc_convergence(running: np.ndarray, smoothed: float, variance: float, hard: float, K: int,
                        eps: float, *, out: Path) -> Shown:
    """The running mean of the flipped loss against the smoothed loss, with the +/- 2 sd/sqrt(m) band.

    The band is the central-limit band (about 95%) from the closed-form ``variance``; ``hard`` is the hard-label
    loss, drawn for comparison. With ``variance`` 0 (a deterministic flip) the running mean is the smoothed loss
    and the axis is scaled to the rounding.
    """
    n = len(running)
    m = np.arange(1, n + 1)
    se = np.sqrt(variance / m)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.2))
        ax.fill_between(m, smoothed - 2 * se, smoothed + 2 * se, color="C1", alpha=0.25,
                        label=r"smoothed loss $\pm 2\sqrt{\mathrm{Var}[\ell]/m}$")
        ax.semilogx(m, running, lw=1.2, label="running mean of the flipped loss")
        ax.axhline(smoothed, color="k", lw=1, label="smoothed loss")
        ax.axhline(hard, color="C2", ls="--", lw=1, label="hard-label loss")
        half = 6 * se[min(9, n - 1)] if variance > 0 else 1e-9 * max(1.0, abs(smoothed))
        ax.set_ylim(smoothed - half, smoothed + half)
        ax.set_xlabel(r"number of fresh flips $m$")
        ax.set_ylabel(r"loss $\ell$")
        legend_outside(fig, "lower center", ncols=2)
        shown = abs(hard - smoothed) <= half
        return FIGURES.show(
            fig, "ch3_mc_convergence",
            caption=rf"Monte Carlo at $K = {math_int(K)}$, $\epsilon = {eps:g}$: the mean of the loss over $m$ "
                    r"fresh flips of the label against $m$ (log scale). Look at how the running mean settles on the "
                    r"smoothed loss and stays within the shaded band, $\pm 2$ standard errors (about 95% for each "
                    r"$m$, by the central limit theorem), which narrows like $1/\sqrt{m}$"
                    + ("; the hard-label loss (dashed) is drawn for comparison." if shown else
                       "; the hard-label loss lies outside the range shown."),
            alt=f"Line chart on a logarithmic horizontal axis of the running mean of the flipped loss over 1 to "
                f"{n:,} flips, for K = {K:,} and epsilon = {eps:g}. The running mean wanders at first, then stays "
                f"inside a shaded band that narrows around a black horizontal line, the smoothed loss"
                + (", with a dashed line for the hard-label loss." if shown else "."), out=out)

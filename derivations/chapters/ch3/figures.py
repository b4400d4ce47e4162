"""Chapter 3 figures: the flipped-label distribution, Monte Carlo convergence, noise at the optimum."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import STYLE, save
from derivations.library.flipping import flip_labels, flipped_gradient_total_variance, flipped_loss_variance
from derivations.library.smoothing import smoothed_targets

__all__ = ["SHOWN_CLASSES", "plot_flip_distribution", "plot_mc_convergence", "plot_noise_at_optimum"]

#: Classes drawn as bars in the distribution figure (the first ones; K may be 100,000).
SHOWN_CLASSES = 12


def plot_flip_distribution(K: int, eps: float, n: int, seed: int, name: str = "ch3_flip_distribution"):
    """Frequencies of ``flip_labels`` (true class 1) against the closed form, for flip probability eps
    and for the note's wording (flip probability 1 - eps). At most :data:`SHOWN_CLASSES` classes are
    drawn. Returns the saved path."""
    rng = np.random.default_rng(seed)
    shown = min(K, SHOWN_CLASSES)
    classes = np.arange(1, shown + 1)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for f, label, off, colour in ((eps, r"flip with prob. $\epsilon$", -0.2, "C0"),
                                      (1 - eps, r"flip with prob. $1-\epsilon$ (note's wording)", 0.2, "C3")):
            freq = np.bincount(flip_labels(np.zeros(n, dtype=int), K, f, rng), minlength=K)[:shown] / n
            ax.bar(classes + off, freq, width=0.4, color=colour, alpha=0.7, label=f"{label}: sampled")
            ax.plot(classes + off, smoothed_targets([0], K, eps=f)[0, :shown], "k_", ms=14, mew=2)
        ax.plot([], [], "k_", ms=14, mew=2, label=r"closed form $(1-f,\ f/(K-1), \dots)$")
        ax.set_xticks(classes)
        rest = f" (classes 1-{shown} of {K} shown)" if shown < K else ""
        ax.set_xlabel("flipped label (class 1 is the true class)" + rest)
        ax.set_ylabel("probability")
        ax.set_title(f"Distribution of the flipped label, K = {K}, eps = {eps:g}, {n:,} draws", fontsize=10)
        ax.legend(fontsize=8)
        return save(fig, name)


def plot_mc_convergence(running: np.ndarray, smoothed: float, variance: float, hard: float, K: int, eps: float,
                        name: str = "ch3_mc_convergence"):
    """The running mean of the flipped loss against the smoothed loss, with the +/- 2 sd/sqrt(m) band.

    The band is the central-limit band (about 95%) from the closed-form
    ``variance``; ``hard`` is the hard-label loss, drawn for comparison. With
    ``variance`` 0 (a deterministic flip) the running mean is the smoothed loss
    and the axis is scaled to the rounding. Returns the saved path.
    """
    n = len(running)
    m = np.arange(1, n + 1)
    se = np.sqrt(variance / m)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        ax.fill_between(m, smoothed - 2 * se, smoothed + 2 * se, color="C1", alpha=0.25,
                        label=r"smoothed loss $\pm 2\sqrt{\mathrm{Var}/m}$ (CLT, about 95%)")
        ax.semilogx(m, running, lw=1.2, label="running mean of the flipped loss")
        ax.axhline(smoothed, color="k", lw=1, label="smoothed loss")
        ax.axhline(hard, color="C2", ls="--", lw=1, label="hard-label loss")
        half = 6 * se[min(9, n - 1)] if variance > 0 else 1e-9 * max(1.0, abs(smoothed))
        ax.set_ylim(smoothed - half, smoothed + half)
        ax.set_xlabel("number of fresh flips m")
        ax.set_ylabel("loss")
        ax.set_title(f"Monte Carlo: flipped loss -> smoothed loss (K = {K}, eps = {eps:g})", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        return save(fig, name)


def plot_noise_at_optimum(Ks=(2, 10, 100), name: str = "ch3_noise_at_optimum"):
    """At the smoothed optimum: trace of the gradient covariance and variance of the loss, against eps.

    Closed forms, ``O(K)`` per point (:func:`flipped_gradient_total_variance`,
    :func:`flipped_loss_variance` at ``z = log p``).
    """
    eps = np.linspace(0.005, 0.995, 199)
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.6))
        for K in sorted(set(Ks)):
            tr = [flipped_gradient_total_variance(K, e) for e in eps]
            var = [float(flipped_loss_variance(np.log(smoothed_targets([0], K, eps=e)), [0], e)[0]) for e in eps]
            a1.plot(eps, tr, label=f"K = {K}")
            a2.plot(eps, var, label=f"K = {K}")
            a2.plot([(K - 1) / K], [0.0], "k.", ms=6)
        a1.set_xlabel(r"$\epsilon$")
        a1.set_ylabel(r"tr Cov[gradient] at the optimum")
        a2.set_xlabel(r"$\epsilon$")
        a2.set_ylabel(r"Var[loss] at the optimum")
        a1.legend(fontsize=8)
        fig.suptitle("Fresh flips: the mean gradient vanishes at the optimum, the noise does not "
                     "(dots: eps = (K-1)/K, Var = 0)", fontsize=9)
        fig.tight_layout()
        return save(fig, name)

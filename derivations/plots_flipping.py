"""Chapter 3 figures: the flipped-label distribution, Monte Carlo convergence, noise at the optimum."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import numeric as num
from .figures import STYLE, save
from .flipping import flip_labels, flipped_gradient_covariance, flipped_loss_variance
from .smoothing import smoothed_cross_entropy, smoothed_targets

__all__ = ["running_mean_of_flipped_loss", "plot_flip_distribution", "plot_mc_convergence", "plot_noise_at_optimum"]


def running_mean_of_flipped_loss(logits, label: int, eps: float, n: int, rng: np.random.Generator):
    """Running mean of ``LSE(z) - z_Y`` over ``n`` fresh flips of ``label``; also the draws' losses.

    >>> m, l = running_mean_of_flipped_loss([0.0, 0.0], 0, 0.3, 5, np.random.default_rng(0))
    >>> np.round(m, 6).tolist() == [round(float(np.log(2)), 6)] * 5
    True
    """
    z = np.asarray(logits, dtype=float)
    y = flip_labels(np.full(n, label), z.shape[-1], eps, rng)
    losses = num.cross_entropy(np.broadcast_to(z, (n, z.shape[-1])), y)
    return np.cumsum(losses) / np.arange(1, n + 1), losses


def plot_flip_distribution(K: int, eps: float, n: int, seed: int, name: str = "ch3_flip_distribution"):
    """Frequencies of ``flip_labels`` (true class 1) against the closed form, for flip probability eps
    and for the note's wording (flip probability 1 - eps). Returns the saved path."""
    rng = np.random.default_rng(seed)
    classes = np.arange(1, K + 1)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for f, label, off, colour in ((eps, r"flip with prob. $\epsilon$", -0.2, "C0"),
                                      (1 - eps, r"flip with prob. $1-\epsilon$ (note's wording)", 0.2, "C3")):
            freq = np.bincount(flip_labels(np.zeros(n, dtype=int), K, f, rng), minlength=K) / n
            ax.bar(classes + off, freq, width=0.4, color=colour, alpha=0.7, label=f"{label}: sampled")
            ax.plot(classes + off, smoothed_targets([0], K, f)[0], "k_", ms=14, mew=2)
        ax.plot([], [], "k_", ms=14, mew=2, label=r"closed form $(1-f,\ f/(K-1), \dots)$")
        ax.set_xticks(classes)
        ax.set_xlabel("flipped label (class 1 is the true class)")
        ax.set_ylabel("probability")
        ax.set_title(f"Distribution of the flipped label, K = {K}, eps = {eps:g}, {n:,} draws", fontsize=10)
        ax.legend(fontsize=8)
        return save(fig, name)


def plot_mc_convergence(logits, eps: float, n: int, seed: int, name: str = "ch3_mc_convergence"):
    """Running mean of the flipped loss converging to the smoothed loss, with the exact +/- 2 SE band.

    The band is ``smoothed loss +/- 2 sqrt(Var / m)`` after ``m`` draws, ``Var`` from
    :func:`flipped_loss_variance`. Returns ``(path, running_mean, losses)``.
    """
    z = np.asarray(logits, dtype=float)
    running, losses = running_mean_of_flipped_loss(z, 0, eps, n, np.random.default_rng(seed))
    target = float(smoothed_cross_entropy(z, 0, eps))
    se = np.sqrt(float(flipped_loss_variance(z, 0, eps)) / np.arange(1, n + 1))
    m = np.arange(1, n + 1)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        ax.fill_between(m, target - 2 * se, target + 2 * se, color="C1", alpha=0.25,
                        label=r"smoothed loss $\pm 2\sqrt{\mathrm{Var}/m}$ (closed form)")
        ax.semilogx(m, running, lw=1.2, label="running mean of the flipped loss")
        ax.axhline(target, color="k", lw=1, label="smoothed loss")
        ax.axhline(float(num.cross_entropy(z, 0)), color="C2", ls="--", lw=1, label="hard-label loss")
        ax.set_ylim(target - 6 * se[min(9, n - 1)], target + 6 * se[min(9, n - 1)])
        ax.set_xlabel("number of fresh flips m")
        ax.set_ylabel("loss")
        ax.set_title(f"Monte Carlo: flipped loss -> smoothed loss (K = {z.size}, eps = {eps:g})", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        return save(fig, name), running, losses


def plot_noise_at_optimum(Ks=(2, 10, 100), name: str = "ch3_noise_at_optimum"):
    """At the smoothed optimum: trace of the gradient covariance and variance of the loss, against eps."""
    eps = np.linspace(0.005, 0.995, 199)
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.6))
        for K in Ks:
            tr, var = [], []
            for e in eps:
                z = np.log(smoothed_targets([0], K, e))
                tr.append(np.trace(flipped_gradient_covariance(z, [0], e)[0]))
                var.append(flipped_loss_variance(z, [0], e)[0])
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


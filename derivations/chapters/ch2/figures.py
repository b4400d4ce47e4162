"""Chapter 2 figures, each drawn from the library's own functions."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import STYLE, on_family, save
from derivations.library.numeric import cross_entropy
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum, smoothed_optimum_gap, target_levels

__all__ = ["plot_loss_vs_gap", "plot_conventions"]


def plot_loss_vs_gap(K: int = 10, eps_values=(0.0, 0.05, 0.1, 0.2, 0.4), max_gap: float = 12.0,
                     name: str = "ch2_loss_vs_gap"):
    """The smoothed loss along z = (gap, 0, ..., 0) for several eps, each optimum marked.

    The curves come from ``smoothed_cross_entropy``; the markers from
    ``smoothed_optimum_gap`` and ``smoothed_minimum``. Returns the saved path.
    """
    gap = np.linspace(-2.0, max_gap, 281)

    def zeros(z):
        return np.zeros(len(z), dtype=int)

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for eps in sorted(set(eps_values)):
            loss = on_family(lambda z, e=eps: smoothed_cross_entropy(z, zeros(z), eps=e, reduction="none") if e > 0 else
                             cross_entropy(z, zeros(z)), gap, K)
            line, = ax.plot(gap, loss, lw=2, label=rf"$\epsilon$ = {eps:g}")
            g = smoothed_optimum_gap(K, eps)
            if np.isfinite(g):
                ax.plot([g], [smoothed_minimum(K, eps)], "o", color=line.get_color(), ms=6)
        ax.set_xlabel(r"logit gap $z_1 - z_j$ (all other logits equal)")
        ax.set_ylabel(r"smoothed loss $\mathcal{L}_\epsilon$")
        ax.set_title(f"K = {K}: dots mark the optimum, gap log((1-eps)(K-1)/eps), loss H(p_eps);\n"
                     "hard labels (eps = 0) keep decreasing", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.legend()
        return save(fig, name)


def plot_conventions(Ks=(2, 10, 1000), name: str = "ch2_conventions"):
    """Target probability of the true class under both conventions against their parameter.

    The note's ``1 - eps`` and the frameworks' ``1 - alpha + alpha/K``, from
    ``target_levels``; the uniform mixture reaches only eps = (K-1)/K.
    """
    t = np.linspace(0.0, 1.0, 101)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        ax.plot(t, [target_levels(2, eps=v)[0] for v in t], "k", lw=2, label=r"note: $1-\epsilon$ (any K)")
        for K in Ks:
            ax.plot(t, [target_levels(K, label_smoothing=v)[0] for v in t], "--", lw=1.5,
                    label=rf"uniform mixture: $1-\alpha+\alpha/K$, K = {K}")
        ax.set_xlabel(r"smoothing parameter ($\epsilon$ or $\alpha$)")
        ax.set_ylabel("target probability of the true class")
        ax.set_title(r"Same parameter value, different targets: $\epsilon = \alpha (K-1)/K$", fontsize=10)
        ax.legend(fontsize=8)
        return save(fig, name)

"""Chapter 1 figures: the error of LSE ~ max against the margin, the hard-label loss and its approximations."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import STYLE, on_family, save
from derivations.library import numeric as num
from derivations.library.lse_bounds import margin_error_bounds, max_approximation_error

__all__ = ["plot_margin_error", "plot_hard_loss_approximation"]


def plot_margin_error(Ks=(2, 10, 100, 1000), max_margin: float = 12.0, name: str = "ch1_margin_error"):
    """LSE - max against the margin: exact worst case (all others at max - Delta) for several K.

    Returns the saved path. The curves are computed with ``max_approximation_error``
    on explicit logit vectors, and the bound ``log(1 + (K-1) e^-Delta)`` is drawn over them.
    """
    d = np.linspace(0.0, max_margin, 241)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for K in Ks:
            z = np.concatenate([np.zeros((d.size, 1)), -np.repeat(d[:, None], K - 1, axis=1)], axis=1)
            ax.semilogy(d, max_approximation_error(z), lw=2, label=f"K = {K}")
            lo, hi = margin_error_bounds(d, K)
            ax.semilogy(d, hi, "k:", lw=1)
        ax.semilogy(d, margin_error_bounds(d, 2)[0], "k--", lw=1, label=r"lower bound $\log(1+e^{-\Delta})$")
        ax.set_xlabel(r"logit margin $\Delta$ = largest logit $-$ second largest")
        ax.set_ylabel(r"$\mathrm{LSE}(z) - \max_j z_j$")
        ax.set_title(r"Error of LSE $\approx$ max (dotted: upper bound $\log(1+(K-1)e^{-\Delta})$)", fontsize=10)
        ax.legend(loc="lower left")
        return save(fig, name)


def plot_hard_loss_approximation(K: int = 10, name: str = "ch1_hard_loss_approximation"):
    """Exact hard-label loss against the note's approximation and the corrected one.

    Other logits are zero (the note's own set-up) and the true-class logit z_1
    sweeps [-8, 8]. Returns the saved path.
    """
    z1 = np.linspace(-8.0, 8.0, 321)
    exact = on_family(lambda z: num.cross_entropy(z, np.zeros(len(z), dtype=int)), z1, K)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        ax.plot(z1, exact, lw=2.5, label=r"exact: $\mathrm{LSE}(z) - z_1$")
        ax.plot(z1, np.maximum(z1, 0.0) - z1, "--", lw=2, label=r"corrected: $\max_j z_j - z_1$")
        ax.plot(z1, np.abs(z1) - z1, ":", lw=2, label=r"note: $\|z\|_\infty - z_1$")
        ax.set_xlabel(r"true-class logit $z_1$ (other logits 0)")
        ax.set_ylabel("hard-label loss")
        ax.set_title(f"Hard-label loss and its approximations, K = {K}", fontsize=10)
        ax.legend()
        return save(fig, name)

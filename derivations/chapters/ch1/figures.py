"""Chapter 1 figures: the error of LSE ~ max against the margin, the hard-label loss and its approximations.

Each function draws its figure and ends with its caption and alt text (:data:`FIGURES` numbers them in the order the
notebook shows them) and saves it into the folder ``out`` that the notebook passes (its values' ``figures``).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import Numbered, Shown, legend_outside, math_int, on_family, style
from derivations.library import numeric as num
from derivations.library.lse_bounds import margin_error_bounds, max_approximation_error

__all__ = ["FIGURES", "plot_margin_error", "plot_hard_loss_approximation"]

#: The chapter's figures, in the order the notebook shows them: Figure 1.1, 1.2.
FIGURES = Numbered(1, ("ch1_margin_error", "ch1_hard_loss_approximation"))


def plot_margin_error(Ks=(2, 10, 100, 1000), max_margin: float = 12.0, *, out: Path) -> Shown:
    """LSE - max against the margin: exact worst case (all others at max - Delta) for several K.

    The curves are computed with ``max_approximation_error`` on explicit logit vectors, and the bounds
    ``log(1 + e^-Delta) <= LSE - max <= log(1 + (K-1) e^-Delta)`` are drawn over them.
    """
    d = np.linspace(0.0, max_margin, 241)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.4))
        for K in Ks:
            z = np.concatenate([np.zeros((d.size, 1)), -np.repeat(d[:, None], K - 1, axis=1)], axis=1)
            ax.semilogy(d, max_approximation_error(z), lw=2.5, alpha=0.6, label=f"$K = {math_int(K)}$")
            ax.semilogy(d, margin_error_bounds(d, K)[1], "k:", lw=1)
        ax.semilogy([], [], "k:", lw=1, label=r"upper bound $\log(1+(K-1)e^{-\Delta})$")
        ax.semilogy(d, margin_error_bounds(d, 2)[0], "k--", lw=1, label=r"lower bound $\log(1+e^{-\Delta})$")
        ax.set_xlabel(r"logit margin $\Delta$ (largest logit $-$ second largest)")
        ax.set_ylabel(r"$\mathrm{LSE}(z) - \mathrm{max}_j\, z_j$")
        legend_outside(fig, "right upper")
        ks, ks_math = ", ".join(f"{K:,}" for K in Ks), ", ".join(map(math_int, Ks))
        return FIGURES.show(
            fig, "ch1_margin_error",
            caption=r"The error of $\mathrm{LSE}(z) \approx \max_j z_j$ against the margin $\Delta$, in the worst case "
                    rf"(every other logit at $\max_j z_j - \Delta$), for $K = {ks_math}$ (log scale). Look at the "
                    r"slope: each curve lies on its dotted upper bound $\log(1+(K-1)e^{-\Delta})$ and falls like "
                    r"$e^{-\Delta}$ once $\Delta$ exceeds $\log K$; no curve goes below the dashed lower bound "
                    r"$\log(1+e^{-\Delta})$, and at $\Delta = 0$ the error is $\log K$.",
            alt=f"Line chart on a logarithmic vertical axis: the error of approximating log-sum-exp by the maximum "
                f"against the logit margin from 0 to {max_margin:g}, one curve for each K of {ks}. Each curve starts "
                f"at log K and falls as a straight line on the log scale, the curves for larger K lying higher; all "
                f"lie on dotted upper bounds and above one dashed lower bound.", out=out)


def plot_hard_loss_approximation(K: int = 10, *, out: Path) -> Shown:
    """Exact hard-label loss against the note's approximation and the corrected one.

    Other logits are zero (the note's own set-up) and the true-class logit z_1 sweeps [-8, 8].
    """
    z1 = np.linspace(-8.0, 8.0, 321)
    exact = on_family(lambda z: num.cross_entropy_per_example(z, np.zeros(len(z), dtype=int)), z1, K)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.2))
        ax.plot(z1, exact, lw=2.5, label=r"exact: $\mathrm{LSE}(z) - z_1$")
        ax.plot(z1, np.maximum(z1, 0.0) - z1, "--", lw=2, label=r"corrected: $\mathrm{max}_j\, z_j - z_1$")
        ax.plot(z1, np.abs(z1) - z1, ":", lw=2, label=r"note: $\|z\|_\infty - z_1$")
        ax.set_xlabel(r"true-class logit $z_1$ (other logits 0)")
        ax.set_ylabel(r"hard-label loss $\mathcal{L}$")
        legend_outside(fig, "right upper")
        return FIGURES.show(
            fig, "ch1_hard_loss_approximation",
            caption=rf"The hard-label loss at $K = {math_int(K)}$ as the true class's logit $z_1$ varies, every "
                    r"other logit 0, with the two approximations. Look left of $z_1 = 0$: the note's $\|z\|_\infty - z_1$ "
                    r"(dotted) climbs twice as fast as the loss, while the corrected $\max_j z_j - z_1$ (dashed) "
                    r"stays within $\log K$ of it everywhere.",
            alt=f"Line chart of the hard-label loss for K = {K:,} against the true-class logit from -8 to 8. The "
                f"exact loss falls smoothly towards zero as the logit grows; the corrected approximation is a hinge "
                f"that follows it from below; the note's approximation is a hinge twice as steep on the left.", out=out)

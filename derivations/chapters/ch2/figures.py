"""Chapter 2 figures, each drawn from the library's own functions.

Each function draws its figure and ends with its caption and alt text (:data:`FIGURES` numbers them in the order the
notebook shows them) and saves it into the folder ``out`` that the notebook passes (its values' ``figures``).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from derivations.engine.figures import Numbered, Shown, legend_outside, math_int, on_family, style
from derivations.library.numeric import cross_entropy_per_example
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_minimum, smoothed_optimum_gap, target_levels

__all__ = ["FIGURES", "plot_loss_vs_gap", "plot_conventions"]

#: The chapter's figures, in the order the notebook shows them: Figure 2.1, 2.2.
FIGURES = Numbered(2, ("ch2_loss_vs_gap", "ch2_conventions"))


def plot_loss_vs_gap(K: int = 10, eps_values=(0.0, 0.05, 0.1, 0.2, 0.4), yours: float | None = None,
                     max_gap: float = 12.0, *, out: Path) -> Shown:
    """The smoothed loss along z = (gap, 0, ..., 0) for several eps (and the reader's ``yours``), each optimum marked.

    The curves come from ``smoothed_cross_entropy``; the markers from ``smoothed_optimum_gap`` and
    ``smoothed_minimum``.
    """
    gap = np.linspace(-2.0, max_gap, 281)

    def zeros(z):
        return np.zeros(len(z), dtype=int)

    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.4))
        for eps in sorted(set(eps_values) | ({yours} if yours is not None else set())):
            loss = on_family(lambda z, e=eps: smoothed_cross_entropy(z, zeros(z), eps=e, reduction="none") if e > 0 else
                             cross_entropy_per_example(z, zeros(z)), gap, K)
            mine = " (yours)" if eps == yours else ""
            line, = ax.plot(gap, loss, lw=2.5 if mine else 1.5, label=rf"$\epsilon = {eps:g}${mine}")
            g = smoothed_optimum_gap(K, eps)
            if np.isfinite(g):
                ax.plot([g], [smoothed_minimum(K, eps)], "o", color=line.get_color(), ms=6)
        ax.plot([], [], "ko", ms=6, label=r"the optimum $(g^*, H(p_\epsilon))$")
        ax.set_xlabel(r"logit gap $g = z_1 - z_j$ (all other logits equal)")
        ax.set_ylabel(r"smoothed loss $\mathcal{L}_\epsilon$")
        ax.set_ylim(bottom=0)
        legend_outside(fig, "right upper")
        return FIGURES.show(
            fig, "ch2_loss_vs_gap",
            caption=rf"The smoothed loss $\mathcal{{L}}_\epsilon$ at $K = {math_int(K)}$ along the logits $(g, 0, \dots, 0)$, "
                    r"one curve for each $\epsilon$. Look at the dots: for $0 < \epsilon < 1$ the loss has its minimum "
                    r"at the finite gap $g^* = \log\frac{(1-\epsilon)(K-1)}{\epsilon}$, where it equals the entropy "
                    r"$H(p_\epsilon)$ of the soft target; with hard labels ($\epsilon = 0$) it keeps decreasing as the "
                    r"gap grows, and has no minimum.",
            alt=f"Line chart of the smoothed loss for K = {K:,} against the logit gap from -2 to {max_gap:g}, one "
                f"curve for each epsilon of {', '.join(f'{e:g}' for e in sorted(set(eps_values)))}"
                + (f" and the reader's {yours:g}" if yours is not None and yours not in eps_values else "")
                + ". The hard-label curve falls steadily towards zero; each smoothed curve falls, reaches a minimum "
                  "marked by a dot, and rises again, the minimum coming at a smaller gap and a higher loss as epsilon "
                  "grows.", out=out)


def plot_conventions(Ks=(2, 10, 1000), *, out: Path) -> Shown:
    """Target probability of the true class under both conventions against their parameter.

    The note's ``1 - eps`` and the frameworks' ``1 - alpha + alpha/K``, from ``target_levels``; the uniform mixture
    reaches only eps = (K-1)/K.
    """
    t = np.linspace(0.0, 1.0, 101)
    with style():
        fig, ax = plt.subplots(figsize=(6.88, 3.2))
        ax.plot(t, [target_levels(2, eps=v)[0] for v in t], "k", lw=2, label=r"note: $1-\epsilon$ (any $K$)")
        for K in Ks:
            ax.plot(t, [target_levels(K, label_smoothing=v)[0] for v in t], "--", lw=1.5,
                    label=rf"frameworks: $1-\alpha+\alpha/K$, $K = {math_int(K)}$")
        ax.set_xlabel(r"smoothing parameter ($\epsilon$ or $\alpha$)")
        ax.set_ylabel("target probability\nof the true class")
        legend_outside(fig, "right upper")
        ks = ", ".join(f"{K:,}" for K in Ks)
        return FIGURES.show(
            fig, "ch2_conventions",
            caption=r"The target probability of the true class under the note's convention, $1-\epsilon$ (solid), "
                    r"and the frameworks' uniform mixture, $1-\alpha+\alpha/K$ (dashed), against their parameter. "
                    r"Look at the vertical gap between them: the same value gives different targets, since "
                    rf"$\epsilon = \alpha (K-1)/K$; the gap is widest at $K = {math_int(min(Ks))}$, and at $\alpha = 1$ the "
                    r"mixture is uniform, $1/K$, where $\epsilon = 1$ gives the true class nothing.",
            alt=f"Line chart of the true class's target probability against the smoothing parameter from 0 to 1: a "
                f"solid diagonal from 1 down to 0 for the note's epsilon, and dashed lines for the frameworks' alpha "
                f"at K = {ks}, which fall less steeply and end at 1/K.", out=out)

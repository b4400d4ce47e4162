"""Chapter 3 at the reader's values: the flipped label's distribution, the closed forms, Monte Carlo.

Every sampling comparison uses a Bernstein bound (:mod:`derivations.engine.stats`) at
false-alarm :data:`~derivations.engine.stats.FALSE_ALARM` per finding; a bound over
several classes splits that budget among them (union bound). Where a
probability is 0 or 1 the frequency must match exactly: at ``eps = 0`` nothing
flips, and with ``K = 2``, ``eps = 1`` every label is swapped.

Costs are ``O(K + n)``: the K possible losses are computed once and each flip
picks one (:func:`~derivations.library.flipping.flipped_losses`); the gradient
covariance is summarised by its trace in closed form, and formed as a matrix
only for ``K <= 2000``.
"""
from __future__ import annotations

import math

import numpy as np

from derivations.engine.finding import Finding, Findings, outside, shown
from derivations.engine.stats import FALSE_ALARM, bernstein_radius, frequency_radius, summation_slack, variance_radius
from derivations.engine.tex import inline, number
from derivations.library.flipping import (
    flip_labels,
    flipped_gradient_covariance,
    flipped_gradient_total_variance,
    flipped_loss_variance,
    flipped_losses,
)
from derivations.library.numeric import log_softmax, loss_rtol
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_targets

__all__ = ["sampler_frequencies", "example_logits", "closed_forms", "monte_carlo", "monte_carlo_figure", "MATRIX_K_MAX"]

#: Largest K for which the K x K covariance matrix is formed (2000^2 doubles = 32 MB).
MATRIX_K_MAX = 2000


def sampler_frequencies(K: int, eps: float, n: int, seed: int) -> tuple[Findings, np.ndarray]:
    """Flip ``n`` labels of class 1; compare each class's frequency with the soft target.

    Returns the findings and the frequencies (class 1 first).
    """
    rng = np.random.default_rng(seed)
    freq = np.bincount(flip_labels(np.zeros(n, dtype=int), K, eps, rng), minlength=K) / n
    p = smoothed_targets([0], K, eps=eps)[0]
    out = Findings(f"`flip_labels`: {n:,} flips of a label of class 1, $K = {K}$, $\\epsilon = {eps:g}$, seed {seed}")
    r1 = float(frequency_radius(n, p[0]))
    out.add(Finding("statistical", r"$\Pr(Y = 1) = 1 - \epsilon$", abs(freq[0] - p[0]) <= r1,
                    observed=f"sampled {freq[0]:.5f}, closed form {p[0]:.5f}",
                    bound="exact (probability 0 or 1)" if r1 == 0 else
                          f"within {r1:.5f} (Bernstein, false-alarm {inline(FALSE_ALARM, 'g')})"))
    wrong, pw = freq[1:], float(p[1])
    rw = float(frequency_radius(n, pw, FALSE_ALARM / (K - 1)))
    worst = float(np.max(np.abs(wrong - pw)))
    note = (r"$\epsilon = 0$: nothing is flipped; every draw is the true class" if eps == 0 else
            r"$K = 2$, $\epsilon = 1$: every label is swapped; no randomness is left" if (eps == 1 and K == 2) else "")
    out.add(Finding("statistical", r"each wrong class: $\frac{\epsilon}{K-1}$", worst <= rw,
                    observed=f"sampled {inline(wrong.min(), '.3g')} to {inline(wrong.max(), '.3g')}, closed form "
                             f"{inline(pw, '.3g')} (largest deviation {inline(worst, '.2g')})",
                    bound="exact (probability 0 or 1)" if rw == 0 else
                          f"each within {inline(rw, '.3g')} (Bernstein, false-alarm {inline(FALSE_ALARM, 'g')} shared by "
                          f"the {K - 1} wrong class{'es' if K > 2 else ''})",
                    note=note))
    return out, freq


def example_logits(K: int, seed: int) -> np.ndarray:
    """The logits of chapter 3's worked example: ``z_1 = 3`` (the model favours the true class), others N(0, 1)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([[3.0], rng.normal(0.0, 1.0, K - 1)])


def _moments(p: np.ndarray, losses: np.ndarray, r: float, u: float) -> tuple[float, float, float, float]:
    """The references ``sum_j p_j l_j`` and ``sum_j p_j l_j^2``, each summed by ``math.fsum`` (correctly rounded), with
    bounds on their errors: each loss errs by at most ``r`` relative (``loss_rtol``), each target by ``u`` (one
    rounding), each product by one rounding more and the sum by one: ``(r + 3u)`` relative for the mean (a sum of
    non-negative terms), ``(2r + 5u)`` for the second moment. Returns ``(mean, second, err_mean, err_second)``."""
    mean = math.fsum((p * losses).tolist())
    second = math.fsum((p * losses * losses).tolist())
    e1, e2 = r + 3 * u, 2 * r + 5 * u
    return mean, second, e1 * mean / (1 - e1), e2 * second / (1 - e2)


def closed_forms(z: np.ndarray, eps: float) -> Findings:
    """Expected loss, loss variance and gradient noise: closed forms against enumeration over the K labels.

    The references carry their own error bounds (:func:`_moments`; a BLAS dot product would err by up to
    ``K u`` of the sum, more than the library's ``(8 + log2 K) u`` at large K), and each comparison's bound is
    the sum of both sides': a failure prints both values to full precision, their difference and the bound."""
    K = len(z)
    p = smoothed_targets([0], K, eps=eps)[0]
    losses = -log_softmax(z)                              # the loss of each possible label
    u = float(np.finfo(float).eps) / 2
    r = loss_rtol(K)
    mean_enum, second_enum, err_mean, err_second = _moments(p, losses, r, u)
    out = Findings(rf"Closed forms at $z = (3, \mathcal{{N}}(0, 1), \dots)$, $K = {K}$, $\epsilon = {eps:g}$")
    smoothed = float(smoothed_cross_entropy(z, 0, eps=eps))
    tol = r * (mean_enum + err_mean) + err_mean           # the library's (8 + log2 K) u of the exact, and the reference's
    ok = abs(smoothed - mean_enum) <= tol
    out.add(Finding("numeric", "expected flipped loss = smoothed loss", ok,
                    observed=f"`smoothed_cross_entropy` {smoothed:.6f}, "
                             rf"$\sum_j p_j \ell_j = {mean_enum:.6f}$" + outside(ok, smoothed, mean_enum, tol),
                    bound=f"to rounding, {inline(tol, '.1e')}"))
    var = float(flipped_loss_variance(z, 0, eps))
    var_enum = second_enum - mean_enum ** 2
    # the reference: both moments' errors, the square's and the subtraction's roundings; the library's
    # sum_j p_j (l_j - mean)^2: each centred loss errs by at most e (r l_j + e_m mean + u |d_j| <= e (l_j + mean)),
    # so the sum by 2 sqrt(var) sqrt(sum p e^2 (l + mean)^2) + sum p e^2 (l + mean)^2 <= 4 e sqrt(var second) +
    # 4 e^2 second... (sum p (l + mean)^2 <= 4 second), plus its own (3 + log2 K) u of var
    second_hi = second_enum + err_second
    ref_v = err_second + (2 * err_mean * mean_enum + err_mean ** 2) + u * mean_enum ** 2 + u * abs(var_enum)
    e = 2 * r + (3 + math.log2(K)) * u + u
    lib_v = 4 * e * math.sqrt(max(var_enum + ref_v, 0.0) * second_hi) + 4 * e * e * second_hi \
        + (3 + math.log2(K)) * u * (abs(var_enum) + ref_v)
    tol_v = ref_v + lib_v
    ok_v = abs(var - var_enum) <= tol_v
    out.add(Finding("numeric", "variance of the flipped loss", ok_v,
                    observed=f"`flipped_loss_variance` {var:.6f}, "
                             rf"$\sum_j p_j \ell_j^2 - (\sum_j p_j \ell_j)^2 = {var_enum:.6f}$; soft labels: 0"
                             + outside(ok_v, var, var_enum, tol_v),
                    bound=f"to rounding, {inline(tol_v, '.1e')}",
                    note="0 here: the flip is deterministic" if var == 0.0 else ""))
    tr = flipped_gradient_total_variance(K, eps)
    a, b = (1 - eps) ** 2, eps ** 2 / (K - 1)
    formula = 1 - a - b
    # each of the two closed forms errs by at most 3u (a + b) + 2u (the squares, the division, two subtractions);
    # the matrix's trace sum_j p_j (1 - p_j) by u (1 + 2 tr) in its terms and (K - 1) u tr in their sum
    tol_f = 2 * (3 * u * (a + b) + 2 * u)
    if K <= MATRIX_K_MAX:
        trace = float(np.trace(flipped_gradient_covariance(z, 0, eps)))
        observed = rf"{tr:.6f}; trace of the $K \times K$ covariance {trace:.6f}"
        tol_t = tol_f / 2 + u * (1 + (K + 1) * abs(formula))
    else:
        trace, tol_t = tr, tol_f
        observed = rf"{tr:.6f} (the $K \times K$ covariance is not formed for $K > {MATRIX_K_MAX}$)"
    ok_tr = abs(tr - formula) <= tol_f and abs(trace - formula) <= tol_t
    out.add(Finding("numeric", r"$\mathrm{tr}\,\mathrm{Cov}[\text{flipped gradient}] = 1 - (1-\epsilon)^2 - "
                               r"\frac{\epsilon^2}{K-1}$", ok_tr,
                    observed=f"closed form {formula:.6f}, `flipped_gradient_total_variance` {observed}"
                             + outside(abs(tr - formula) <= tol_f, tr, formula, tol_f)
                             + outside(abs(trace - formula) <= tol_t, trace, formula, tol_t),
                    bound=f"to rounding, {inline(max(tol_f, tol_t), '.1e')}"))
    return out


def monte_carlo(z: np.ndarray, eps: float, n: int, seed: int):
    """``n`` fresh flips at logits ``z``: running mean and sample variance against the closed forms.

    Returns ``(findings, running_mean, losses)``. The mean's bound is Bernstein's
    with the closed-form variance and the largest possible deviation of one loss;
    the variance's is :func:`~derivations.engine.stats.variance_radius`.
    """
    K = len(z)
    losses = flipped_losses(z, 0, eps, n, np.random.default_rng(seed))
    running = np.cumsum(losses) / np.arange(1, n + 1)
    target = float(smoothed_cross_entropy(z, 0, eps=eps))
    var = float(flipped_loss_variance(z, 0, eps))
    p = smoothed_targets([0], K, eps=eps)[0]
    l_all = -log_softmax(z)
    support = p > 0
    spread = float(np.max(np.abs(l_all[support] - target)))
    r_mean = float(bernstein_radius(n, var, spread)) + summation_slack(n, l_all[support].max()) + 2 * loss_rtol(K) * target
    out = Findings(f"Monte Carlo: {n:,} fresh flips at the same logits, seed {seed}")
    out.add(Finding("statistical", "the mean flipped loss converges to the smoothed loss", abs(running[-1] - target) <= r_mean,
                    observed=f"after {n:,} flips {running[-1]:.5f}, smoothed loss {target:.5f} (difference "
                             f"{inline(abs(running[-1] - target), '.1e')})",
                    bound=f"Bernstein bound {inline(r_mean, '.1e')} at false-alarm {inline(FALSE_ALARM, 'g')}, from "
                          rf"$\mathrm{{Var}} = {number(var, '.4g')}$"))
    if n >= 2:
        r_var = variance_radius(n, l_all, p) + summation_slack(n, l_all[support].max() ** 2) + 8 * loss_rtol(K) * var
        sample_var = float(losses.var())
        out.add(Finding("statistical", "the sample variance converges to the closed form", abs(sample_var - var) <= r_var,
                        observed=f"{sample_var:.5f} against {var:.5f} (difference {inline(abs(sample_var - var), '.1e')})",
                        bound=f"bound {inline(r_var, '.1e')} at false-alarm {inline(FALSE_ALARM, 'g')} (Bernstein, from "
                              "the fourth moment)"))
    if var == 0.0:
        out.add(shown("numeric", "no noise", "every flip gives the same loss",
                      r"the flip is deterministic here ($\epsilon = 0$, or $K = 2$ with $\epsilon = 1$): flipping is soft "
                      r"labels"))
    return out, running, losses


def monte_carlo_figure(z: np.ndarray, eps: float, running: np.ndarray, *, out):
    """The Monte Carlo figure for :func:`monte_carlo`'s running mean (closed forms computed here), saved into the
    folder ``out``."""
    from derivations.chapters.ch3.figures import plot_mc_convergence
    from derivations.library.numeric import cross_entropy_per_example

    return plot_mc_convergence(running, float(smoothed_cross_entropy(z, 0, eps=eps)),
                               float(flipped_loss_variance(z, 0, eps)), float(cross_entropy_per_example(z, 0)), len(z), eps,
                               out=out)

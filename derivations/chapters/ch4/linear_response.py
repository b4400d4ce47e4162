"""How far flipped labels move training from soft labels: the noise of chapter 3, propagated.

Training on labels flipped afresh (mode (c)) takes the soft-label step (mode
(b)) plus noise: the target ``e_Y`` differs from the soft target ``p`` by
``xi = e_Y - p``, of mean 0 and covariance ``diag(p) - p p^T`` (chapter 3). To
first order in the noise, the deviation of the parameters from (b)'s path
obeys ``D_{t+1} = (I - lr_t H_t) D_t + lr_t B^T xi_t``, where ``H_t`` is the
Hessian of the loss on (b)'s path (chapter 2: ``diag(q) - q q^T`` per example)
and ``B`` maps the logits' noise to the parameters. A statistic ``s`` then
deviates by ``sum_t lr_t a_t . xi_t``: a sum of independent, bounded, mean-zero
terms, whose variance and largest term give a Bernstein bound
(:func:`derivations.engine.stats.bernstein_radius`). Labels flipped once (mode (d))
inject the *same* noise at every step, so their terms add up coherently:
``sum_i A_i . xi_i`` with ``A_i = sum_t lr_t a_{t,i}``.

* :func:`soft_gap_path` and :func:`free_logit_spread`: one free logit vector
  started at 0 with true class 1. Under soft labels all wrong classes stay
  equal, so (b) is one number, the gap ``d = z_1 - z_j``, and the gap direction
  is an eigenvector of both the Hessian (eigenvalue ``K q_1 q_j``) and the
  noise covariance (``K p_1 p_j``): the linear response is a scalar recursion.
* :func:`softmax_regression_spread`: the adjoint (backward) pass along a stored
  path of (b), for the mean predicted probability of the true class.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derivations.library import numeric as num
from derivations.library._validate import as_labels, as_num_classes, as_probability
from derivations.library.smoothing import target_levels

__all__ = ["step_size", "soft_gap_path", "free_logit_spread", "Spread", "softmax_regression_spread"]


def step_size(t: int, lr: float, lr_decay: float | None) -> float:
    """``lr / (1 + t / lr_decay)``, or ``lr`` when ``lr_decay`` is ``None`` (as the training loop).

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises, ch4.regression_same_point

    >>> step_size(200, 0.25, 200.0)
    0.125
    """
    return lr if lr_decay is None else lr / (1.0 + t / lr_decay)


def _probs_of_gap(d: float, K: int) -> tuple[float, float]:
    """``(q_1, q_j)``: the softmax of ``(d, 0, ..., 0)``, stable for any finite ``d``."""
    if d >= 0:
        e = math.exp(-d)
        return 1.0 / (1.0 + (K - 1) * e), e / (1.0 + (K - 1) * e)
    e = math.exp(d)
    return e / (e + K - 1), 1.0 / (e + K - 1)


def soft_gap_path(K: int, eps: float, steps: int, lr: float, lr_decay: float | None = None) -> np.ndarray:
    """The logit gap ``z_1 - z_j`` of soft-label gradient descent from ``z = 0``, before each step and after the last.

    With all wrong classes equal, the step on the logits, ``-lr_t (softmax(z) - p)``,
    moves the gap by ``-lr_t ((q_1 - q_j) - (p_1 - p_j))`` (chapter 2's gradient);
    this is that one-dimensional recursion, written independently of the training code.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises

    >>> float(soft_gap_path(3, 0.5, 0, 1.0)[0])
    0.0
    >>> round(float(soft_gap_path(4, 0.1, 20000, 1.0)[-1]), 6)   # chapter 2: log((1 - eps)(K - 1)/eps) = log 27
    3.295837
    """
    K = as_num_classes(K)
    on, off = target_levels(K, eps=eps)
    out = np.empty(int(steps) + 1)
    d = 0.0
    for t in range(int(steps)):
        out[t] = d
        q1, qj = _probs_of_gap(d, K)
        d -= step_size(t, lr, lr_decay) * ((q1 - qj) - (on - off))
    out[int(steps)] = d
    return out


def free_logit_spread(K: int, eps: float, steps: int, lr: float, lr_decay: float | None = None,
                      noise: float | None = None):
    """Predicted standard deviation, over the flips, of one free-logit example trained on fresh flips.

    Returns ``(sd_gap, sd_p_true, gap)``: the standard deviation of the final
    logit gap and of the final predicted probability of the true class, to
    first order around soft-label training, and (b)'s final gap. Linear response
    in the gap direction ``u = e_1 - mean_{j != 1} e_j``: its variance obeys
    ``v_{t+1} = (1 - lr_t K q_1 q_j)^2 v_t + lr_t^2 s``, and
    ``d q_1 = q_1 (1 - q_1) d(gap)``. ``s = u^T C u`` is the variance of one flip's
    noise along the gap, ``C`` the covariance of the flipped one-hot label;
    ``noise`` gives it (e.g. from a covariance read from the note's notation),
    by default chapter 3's ``C = diag(p) - p p^T``, for which ``s = K p_1 p_j K/(K-1)``.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises

    >>> sd_gap, sd_p, gap = free_logit_spread(10, 0.0, 100, 0.25)     # eps = 0: no noise at all
    >>> sd_gap, sd_p
    (0.0, 0.0)
    >>> free_logit_spread(4, 0.1, 100, 0.25, noise=4 * 0.16)[0] / free_logit_spread(4, 0.1, 100, 0.25)[0]
    2.0
    """
    K = as_num_classes(K)
    e = as_probability(eps)
    on, off = target_levels(K, eps=e)
    if noise is None:
        noise = K * on * off * K / (K - 1)
    elif not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a variance (finite, >= 0); got {noise!r}")
    v, d = 0.0, 0.0
    for t in range(int(steps)):
        q1, qj = _probs_of_gap(d, K)
        rate = step_size(t, lr, lr_decay)
        v = (1.0 - rate * K * q1 * qj) ** 2 * v + rate * rate * noise
        d -= rate * ((q1 - qj) - (on - off))
    q1, _ = _probs_of_gap(d, K)
    sd = math.sqrt(v)
    return sd, q1 * (1.0 - q1) * sd, d


@dataclass(frozen=True)
class Spread:
    """First-order deviation of a statistic from soft-label training, as a sum of independent terms.

    ``var`` is the variance of the sum and ``bound`` the largest absolute value
    one term can take: inputs to Bernstein's inequality
    (``bernstein_radius(1, var, bound)``). ``fresh`` is for labels flipped at
    every step (c), ``once`` for labels flipped once and kept (d).
    ``once_coefficients`` holds ``A_i`` (one row per example): the statistic
    moves by ``sum_i A_i . delta_i`` when example ``i``'s target moves by ``delta_i``
    for the whole run.
    """

    fresh_var: float
    fresh_bound: float
    once_var: float
    once_bound: float
    once_coefficients: np.ndarray


def _term_moments(a: np.ndarray, at_label: np.ndarray, on: float, off: float, work: np.ndarray | None = None):
    """For rows ``a_i`` and ``xi_i = e_Y - p_i``: ``Var(a_i . xi_i)`` summed, and ``max |a_i . xi_i|``.

    ``at_label``: the flat index of each row's label in ``a``; ``work``: scratch of ``a``'s shape.
    """
    if off == 0.0:                               # eps = 0: Y = y always, xi = 0
        return 0.0, 0.0
    work = np.empty_like(a) if work is None else work
    a_y = np.take(a, at_label)
    pa = off * num.rowwise_sum(a) + (on - off) * a_y
    pa2 = off * num.rowwise_sum(np.multiply(a, a, out=work)) + (on - off) * a_y * a_y
    var = float(np.sum(np.maximum(pa2 - pa * pa, 0.0)))
    dev = np.abs(np.subtract(a, pa[:, None], out=work), out=work)
    if on == 0.0:                                # eps = 1: Y != y always
        dev.reshape(-1)[at_label] = 0.0
    return var, float(dev.max())


def softmax_regression_spread(X, y, num_classes: int, eps: float, path: np.ndarray, lr: float,
                              lr_decay: float | None = None) -> Spread:
    """Linear response of the mean predicted probability of the true class, for softmax regression.

    ``path`` holds (b)'s parameters ``W_t`` before every step and after the last
    (``train_softmax_regression(..., "soft", keep_path=True).path``). The
    statistic is ``s(W) = mean_i softmax([x_i, 1] W)_{y_i}``. One backward pass:
    ``v_T = grad s(W_T)``, ``v_t = v_{t+1} - lr_t H_t v_{t+1}`` (a Hessian-vector
    product of the mean loss at ``W_t``); the coefficient of example ``i``'s
    noise at step ``t`` is ``a_{t,i} = lr_t x_i^T v_{t+1} / N``.

    Checked by: ch4.regression_same_point
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps)
    on, off = target_levels(K, eps=e)
    X1 = np.concatenate([np.asarray(X, dtype=float), np.ones((len(X), 1))], axis=1)
    N = len(X1)
    y = as_labels(y, K, (N,))
    at_label = np.arange(N) * K + y
    T = len(path) - 1
    Q = num.softmax(X1 @ path[-1])
    q_y = np.take(Q, at_label)
    R = -q_y[:, None] * Q
    R.reshape(-1)[at_label] += q_y
    V = X1.T @ R / N                                     # grad of s at W_T
    A = np.zeros((N, K))
    B, a, Qt, S, work = (np.empty((N, K)) for _ in range(5))
    fresh_var, fresh_bound = 0.0, 0.0
    with np.errstate(over="ignore", invalid="ignore"):    # an unstable linearisation overflows: callers check
        for t in range(T - 1, -1, -1):
            rate = step_size(t, lr, lr_decay)
            np.matmul(X1, V, out=B)
            np.multiply(rate / N, B, out=a)
            v, b = _term_moments(a, at_label, on, off, work)
            fresh_var += v
            fresh_bound = max(fresh_bound, b)
            A += a
            num.row_softmax(np.matmul(X1, path[t], out=Qt), out=Qt)
            np.multiply(Qt, B, out=S)
            S -= np.multiply(Qt, num.rowwise_sum(S)[:, None], out=work)   # (diag q - q q^T) b, row by row
            V = V - rate * (X1.T @ S) / N
        once_var, once_bound = _term_moments(A, at_label, on, off)
    return Spread(fresh_var, fresh_bound, once_var, once_bound, A)

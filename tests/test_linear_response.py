"""The predicted spread of flipped-label training around soft-label training (chapter 4's bounds)."""
import numpy as np
import pytest

from derivations.chapters.ch4.linear_response import (
    free_logit_spread,
    soft_gap_path,
    softmax_regression_spread,
    step_size,
)
from derivations.chapters.ch4.training import (
    logit_gap,
    make_blobs,
    train_free_logits,
    train_softmax_regression,
    true_class_probability,
)


@pytest.mark.parametrize("K, eps", [(2, 0.3), (5, 0.1), (50, 0.9), (4, 1.0), (3, 0.0)])
def test_soft_gap_path_is_the_trained_soft_gap(K, eps):
    run = train_free_logits([0], K, "soft", eps, steps=400, lr=0.25, lr_decay=200.0, record_every=1)
    path = soft_gap_path(K, eps, 400, 0.25, 200.0)
    np.testing.assert_allclose(run.gap, path, rtol=0, atol=1e-12 * 400)


def test_free_logit_spread_predicts_the_spread_of_fresh_flips():
    K, eps, steps = 5, 0.3, 600
    y = np.zeros(800, dtype=int)
    run = train_free_logits(y, K, "flip_fresh", eps, steps=steps, lr=0.25, lr_decay=200.0, seed=4)
    sd_gap, sd_p, gap = free_logit_spread(K, eps, steps, 0.25, 200.0)
    assert gap == pytest.approx(soft_gap_path(K, eps, steps, 0.25, 200.0)[-1])
    observed_gap = logit_gap(run.logits, y).std()
    observed_p = true_class_probability(run.logits, y).std()
    assert 0.85 < observed_gap / sd_gap < 1.15 and 0.85 < observed_p / sd_p < 1.15


def test_no_noise_at_deterministic_edges():
    assert free_logit_spread(4, 0.0, 100, 0.25)[:2] == (0.0, 0.0)
    assert free_logit_spread(2, 1.0, 100, 0.25)[:2] == (0.0, 0.0)
    X, y = make_blobs(200, 3, spread=3.0, seed=1)
    b = train_softmax_regression(X, y, 3, "soft", 0.0, steps=30, keep_path=True)
    sp = softmax_regression_spread(X, y, 3, 0.0, b.path, 0.5)
    assert (sp.fresh_var, sp.fresh_bound, sp.once_var, sp.once_bound) == (0.0, 0.0, 0.0, 0.0)


def test_adjoint_coefficients_are_the_derivative_of_training():
    """Moving every target by t * delta for the whole run moves the statistic by t * sum_i A_i . delta_i."""
    K, eps, steps, lr = 3, 0.2, 80, 0.5
    X, y = make_blobs(120, K, spread=2.0, seed=5)
    X1 = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    b = train_softmax_regression(X, y, K, "soft", eps, steps=steps, lr=lr, keep_path=True)
    A = softmax_regression_spread(X, y, K, eps, b.path, lr).once_coefficients
    delta = np.random.default_rng(0).normal(size=(len(y), K))
    delta -= delta.mean(axis=1, keepdims=True)                     # targets still sum to one

    def statistic(t):
        P = np.full((len(y), K), eps / (K - 1))
        P[np.arange(len(y)), y] = 1 - eps
        P += t * delta
        W = np.zeros((3, K))
        for s in range(steps):
            Z = X1 @ W
            Q = np.exp(Z - Z.max(axis=1, keepdims=True))
            Q /= Q.sum(axis=1, keepdims=True)
            W = W - step_size(s, lr, None) * X1.T @ (Q - P) / len(y)
        Z = X1 @ W
        return true_class_probability(Z, y).mean()

    h = 1e-5
    numeric = (statistic(h) - statistic(-h)) / (2 * h)
    assert numeric == pytest.approx(float(np.sum(A * delta)), rel=1e-5)

"""The training code of chapter 4: the four modes, the two models, de-duplication, calibration."""
import math

import numpy as np
import pytest

from derivations.chapters.ch4.training import (
    MODES,
    Targets,
    TrainingPlan,
    accuracy,
    expected_calibration_error,
    free_logit_runs,
    logit_gap,
    make_blobs,
    one_hot,
    reliability_bins,
    softmax_regression_runs,
    train_free_logits,
    train_softmax_regression,
    true_class_probability,
)
from derivations.library.flipping import flip_labels
from derivations.library.smoothing import smoothed_targets

K, EPS = 4, 0.1
GAP_STAR = math.log((1 - EPS) * (K - 1) / EPS)      # chapter 2's optimum, written out here


@pytest.fixture(scope="module")
def free():
    y = np.arange(200) % K
    return y, {m: train_free_logits(y, K, m, EPS, steps=3000, lr=1.0, seed=3, lr_decay=20.0) for m in MODES}


def test_soft_labels_reach_the_closed_form_optimum(free):
    y, runs = free
    np.testing.assert_allclose(true_class_probability(runs["soft"].logits, y), 1 - EPS, atol=1e-6)
    np.testing.assert_allclose(logit_gap(runs["soft"].logits, y), GAP_STAR, atol=1e-4)


def test_fresh_flips_scatter_around_the_same_point(free):
    y, runs = free
    q = true_class_probability(runs["flip_fresh"].logits, y)
    assert abs(q.mean() - (1 - EPS)) < 0.01
    assert abs(logit_gap(runs["flip_fresh"].logits, y).mean() - GAP_STAR) < 0.1
    assert np.ptp(q) > 0 and np.ptp(true_class_probability(runs["soft"].logits, y)) < 1e-12


def test_flipped_once_memorises(free):
    y, runs = free
    kept = runs["flip_once"].extra["kept_labels"]
    assert runs["flip_once"].extra["flips"] == np.sum(kept != y)
    assert 0 < np.sum(kept != y) < len(y) * 3 * EPS
    q = true_class_probability(runs["flip_once"].logits, y)
    assert np.all(q[kept != y] < 0.1) and np.all(q[kept == y] > 0.95)


def test_deduplicated_training_equals_training_every_example():
    """Fixed-target modes train each distinct label once; the result is what training every row gives."""
    y = np.array([0, 2, 0, 1, 2, 2])
    run = train_free_logits(y, 3, "soft", 0.2, steps=300, lr=0.5)
    Z = np.zeros((len(y), 3))
    p = np.full((len(y), 3), 0.1)
    p[np.arange(len(y)), y] = 0.8
    for _ in range(300):
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        Z = Z - 0.5 * (e / e.sum(axis=1, keepdims=True) - p)
    np.testing.assert_allclose(run.logits, Z, rtol=0, atol=1e-12)


def test_edge_values_make_the_modes_coincide_exactly():
    y = np.zeros(20, dtype=int)
    at0 = {m: train_free_logits(y, 5, m, 0.0, steps=50, lr=0.25).logits for m in MODES}
    assert all(np.array_equal(at0["hard"], at0[m]) for m in MODES)       # eps = 0: nothing flips
    swap = {m: train_free_logits(y, 2, m, 1.0, steps=50, lr=0.25).logits for m in ("soft", "flip_fresh", "flip_once")}
    assert all(np.array_equal(swap["soft"], v) for v in swap.values())   # K = 2, eps = 1: every label swapped


def test_softmax_regression_is_deterministic_and_keeps_its_path():
    X, y = make_blobs(300, K, spread=3.0, seed=2)
    a = train_softmax_regression(X, y, K, "flip_fresh", EPS, steps=100, lr=0.5, seed=1)
    b = train_softmax_regression(X, y, K, "flip_fresh", EPS, steps=100, lr=0.5, seed=1)
    assert np.array_equal(a.params, b.params) and a.extra["flips"] == b.extra["flips"] > 0
    s = train_softmax_regression(X, y, K, "soft", EPS, steps=100, lr=0.5, keep_path=True)
    assert s.path.shape == (101,) + s.params.shape and np.array_equal(s.path[-1], s.params)


def _same_run(a, b):
    assert np.array_equal(a.steps, b.steps) and np.array_equal(a.p_true, b.p_true) and np.array_equal(a.gap, b.gap)
    assert np.array_equal(a.logits, b.logits) and np.array_equal(a.params, b.params)
    assert (a.path is None) == (b.path is None) and (a.path is None or np.array_equal(a.path, b.path))
    assert a.extra.keys() == b.extra.keys() and all(np.array_equal(a.extra[k], b.extra[k]) for k in a.extra)


@pytest.mark.parametrize("eps", (0.0, 0.3, 1.0))
def test_modes_side_by_side_are_the_modes_alone_bit_for_bit(eps):
    """Stacking the modes (one block of rows, one stack of weight matrices) changes no number."""
    y = np.array([0, 2, 2, 1, 0, 0, 1])
    together = free_logit_runs(y, 3, MODES, eps, steps=60, lr=0.5, seed=2, record_every=7, lr_decay=10.0)
    for m in MODES:
        _same_run(together[m], train_free_logits(y, 3, m, eps, steps=60, lr=0.5, seed=2, record_every=7,
                                                 lr_decay=10.0))
    X, yb = make_blobs(300, 5, spread=3.0, seed=4)
    together = softmax_regression_runs(X, yb, 5, MODES[::-1], eps, steps=40, seed=3, record_every=9,
                                       keep_path="soft")
    for m in MODES:
        _same_run(together[m], train_softmax_regression(X, yb, 5, m, eps, steps=40, seed=3, record_every=9,
                                                        keep_path=(m == "soft")))
    with pytest.raises(ValueError, match="distinct"):
        free_logit_runs(y, 3, ("soft", "soft"), eps)
    with pytest.raises(ValueError, match="keep_path"):
        softmax_regression_runs(X, yb, 5, ("hard",), eps, keep_path="soft")


def test_targets_of_every_mode():
    """The target of a step and the residual softmax(z) - target agree; fresh flips drawn ahead are the flips
    drawn step by step (one stream), and are counted."""
    y, K, eps, steps = np.array([0, 3, 1, 1, 2]), 4, 0.4, 7
    Q = np.random.default_rng(0).dirichlet(np.ones(K), size=len(y))
    for mode in MODES:
        a, b = (Targets(mode, y, K, eps, np.random.default_rng(1), steps=steps) for _ in range(2))
        for _ in range(steps + 2):                       # two steps more than announced: drawn one at a time
            target = a.target()
            np.testing.assert_allclose(b.residual(Q.copy()), Q - target, rtol=0, atol=1e-15)
        assert a.flips == b.flips
    fresh, rng = Targets("flip_fresh", y, K, eps, np.random.default_rng(5), steps=steps), np.random.default_rng(5)
    drawn = [flip_labels(y, K, eps, rng) for _ in range(steps + 1)]
    assert all(np.array_equal(one_hot(d, K), fresh.target()) for d in drawn)
    assert fresh.flips == sum(int(np.sum(d != y)) for d in drawn)
    assert np.array_equal(Targets("soft", y, K, eps, rng).target(), smoothed_targets(y, K, eps=eps))
    once = Targets("flip_once", y, K, eps, np.random.default_rng(5), distinct=True)
    assert np.array_equal(once.kept, drawn[0]) and np.array_equal(once.rows[once.example_rows], once.kept)


def test_training_that_diverges_says_so():
    X = np.array([[1e300, 0.0], [0.0, 1e300], [-1e300, 1.0]])
    with pytest.raises(ValueError, match="training diverged"):
        train_softmax_regression(X, [0, 1, 2], 3, "hard", 0.1, steps=20)


def test_plan_scales_the_blobs_with_the_data():
    assert TrainingPlan(K=1000, eps=0.1, seed=0).blob_classes == 20
    assert TrainingPlan(K=1000, eps=0.1, seed=0, n_train=500).blob_classes == 5
    assert TrainingPlan(K=3, eps=0.1, seed=0).blob_classes == 3
    with pytest.raises(ValueError, match="n_train must be >= 200"):
        TrainingPlan(K=3, eps=0.1, seed=0, n_train=100)
    assert "not K = 1000" in TrainingPlan(K=1000, eps=0.1, seed=0).describe()


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        train_free_logits([0, 1], 2, "smooth", 0.1, steps=1)
    with pytest.raises(ValueError, match="steps must be"):
        train_free_logits([0, 1], 2, "soft", 0.1, steps=-1)
    with pytest.raises(ValueError, match="eps must lie in"):
        train_free_logits([0, 1], 2, "soft", 1.1, steps=1)


def test_ece_by_hand():
    # two bins of width 1/2; all four confidences (0.9, 0.7, 0.6, 0.6; mean 0.7) fall in the upper one,
    # and the predictions (0, 1, 0, 1) get two of four right: ECE = |0.5 - 0.7|
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 0, 1, 1])
    conf, acc, count = reliability_bins(P, y, bins=2)
    assert count.tolist() == [0, 4]
    assert expected_calibration_error(P, y, bins=2) == pytest.approx(0.2)
    # perfectly calibrated by construction: confidence 0.75, 3 of 4 right, in every bin used
    P = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(P, np.array([0, 0, 0, 1])) == pytest.approx(0.0)


def test_accuracy_and_gap():
    assert accuracy([[2.0, 1.0], [0.0, 1.0]], [0, 0]) == 0.5
    assert logit_gap([[1.0, 1.0, 1.0]], [2]).tolist() == [0.0]

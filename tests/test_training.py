"""The training experiment of chapter 4: the four modes, the two models, calibration."""
import math

import numpy as np
import pytest

from derivations.training import (
    MODES, accuracy, expected_calibration_error, logit_gap, make_blobs, reliability_bins,
    train_free_logits, train_softmax_regression, true_class_probability,
)

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


def test_fresh_flips_converge_to_the_same_point(free):
    y, runs = free
    q = true_class_probability(runs["flip_fresh"].logits, y)
    assert abs(q.mean() - (1 - EPS)) < 0.01
    assert abs(logit_gap(runs["flip_fresh"].logits, y).mean() - GAP_STAR) < 0.1
    assert np.all(q != true_class_probability(runs["soft"].logits, y))     # but not exactly: noise


def test_flipped_once_memorises(free):
    y, runs = free
    kept = runs["flip_once"].extra["kept_labels"]
    assert 0 < np.sum(kept != y) < len(y) * 3 * EPS
    q = true_class_probability(runs["flip_once"].logits, y)
    assert np.all(q[kept != y] < 0.1) and np.all(q[kept == y] > 0.95)


def test_softmax_regression_soft_and_fresh_agree_and_are_deterministic():
    X, y = make_blobs(600, K, spread=3.0, seed=2)
    soft = train_softmax_regression(X, y, K, "soft", EPS, steps=600, lr=0.5, seed=1)
    fresh = train_softmax_regression(X, y, K, "flip_fresh", EPS, steps=600, lr=0.5, seed=1)
    again = train_softmax_regression(X, y, K, "flip_fresh", EPS, steps=600, lr=0.5, seed=1)
    assert np.array_equal(fresh.params, again.params)
    p_s = true_class_probability(soft.averaged_logits, y).mean()
    p_f = true_class_probability(fresh.averaged_logits, y).mean()
    assert abs(p_s - p_f) < 0.01
    assert np.std(fresh.p_true[-20:]) > 10 * np.std(soft.p_true[-20:])


def test_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        train_free_logits([0, 1], 2, "smooth", 0.1, steps=1)


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

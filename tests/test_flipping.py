"""flip_labels and the closed forms of chapter 3, against independent computations."""
import math

import numpy as np
import pytest

import derivations.library.flipping as flipping
from derivations import (
    flip_labels,
    flipped_gradient_covariance,
    flipped_gradient_total_variance,
    flipped_loss_variance,
    flipped_losses,
)
from derivations.library import numeric as num


def closed_form(K: int, eps: float, true: int) -> np.ndarray:
    """Pr(flipped = j | true), written out here from the definition of the process."""
    p = np.full(K, eps / (K - 1))
    p[true] = 1 - eps
    return p


def chi_square_excess(labels, flipped, K, probs_for) -> float:
    """Largest over true classes of (chi2 - dof) / sqrt(2 dof): ~N(0, 1) when the model is right."""
    worst = -np.inf
    for c in np.unique(labels):
        f = flipped[labels == c]
        expected = f.size * probs_for(c)
        chi2 = float(np.sum((np.bincount(f, minlength=K) - expected) ** 2 / expected))
        worst = max(worst, (chi2 - (K - 1)) / math.sqrt(2 * (K - 1)))
    return worst


@pytest.mark.parametrize("K, eps", [(2, 0.05), (3, 0.5), (10, 0.1), (50, 0.3), (7, 0.95)])
def test_flipped_labels_follow_the_closed_form(K, eps):
    rng = np.random.default_rng(1234)
    y = rng.integers(0, min(K, 4), size=400_000)
    f = flip_labels(y, K, eps, rng)
    assert chi_square_excess(y, f, K, lambda c: closed_form(K, eps, c)) < 6


def test_chi_square_check_has_power():
    """The same check rejects the note's wording (flip probability 1 - eps) and non-uniform flips."""
    rng = np.random.default_rng(99)
    y = rng.integers(0, 3, size=400_000)
    f = flip_labels(y, 10, 1 - 0.1, rng)
    assert chi_square_excess(y, f, 10, lambda c: closed_form(10, 0.1, c)) > 100
    skewed = np.where(rng.random(y.size) < 0.1, (y + 1) % 10, y)     # always flips to the next class
    assert chi_square_excess(y, skewed, 10, lambda c: closed_form(10, 0.1, c)) > 100


def test_reproducible_and_independent_of_block_size(monkeypatch):
    y = np.random.default_rng(0).integers(0, 7, size=(300, 501))
    a = flip_labels(y, 7, 0.4, np.random.default_rng(5))
    assert np.array_equal(a, flip_labels(y, 7, 0.4, np.random.default_rng(5)))
    assert not np.array_equal(a, flip_labels(y, 7, 0.4, np.random.default_rng(6)))
    monkeypatch.setattr(flipping, "BLOCK", 1000)
    assert np.array_equal(a, flip_labels(y, 7, 0.4, np.random.default_rng(5)))
    assert a.shape == y.shape and a.dtype == np.intp


def test_edge_probabilities():
    y = np.arange(1000) % 5
    assert np.array_equal(flip_labels(y, 5, 0.0, np.random.default_rng(0)), y)
    always = flip_labels(y, 5, 1.0, np.random.default_rng(0))
    assert np.all(always != y) and set(np.unique(always)) == set(range(5))
    tiny = flip_labels(np.zeros(10_000, dtype=int), 3, 1e-320, np.random.default_rng(0))
    assert np.all((tiny >= 0) & (tiny < 3))
    assert int(flip_labels(np.int64(2), 3, 0.0, np.random.default_rng(0))) == 2


@pytest.mark.parametrize("args, exc, match", [
    (([0, 1], 1, 0.1), ValueError, "num_classes .* got 1"),
    (([0, 1], 2.5, 0.1), ValueError, "num_classes .* got 2.5"),
    (([0, 1], True, 0.1), ValueError, "num_classes .* got True"),
    (([0, 1], 3, 1.5), ValueError, "eps must lie in \\[0, 1\\]; got 1.5"),
    (([0, 1], 3, -0.1), ValueError, "eps must lie in \\[0, 1\\]; got -0.1"),
    (([0, 1], 3, float("nan")), ValueError, "eps .* nan"),
    (([0, 1], 3, "0.1"), ValueError, "eps must be a real number"),
    (([0, 3], 3, 0.1), ValueError, "labels must lie in \\[0, 3\\); found 3 at index \\(1,\\)"),
    (([0, -1], 3, 0.1), ValueError, "found -1"),
    (([0.5], 3, 0.1), ValueError, "labels must be integers; found 0.5"),
    (([True], 3, 0.1), ValueError, "labels must be integers; got dtype bool"),
])
def test_validation(args, exc, match):
    with pytest.raises(exc, match=match):
        flip_labels(*args, np.random.default_rng(0))


def test_rng_follows_spec_7():
    """None, a seed or a Generator (SPEC 7): a seed gives the flips of ``default_rng(seed)``; a Generator is advanced
    by the draws; None draws fresh entropy (two calls differ: 1000 labels flipped at eps = 0.5 agree by chance with
    probability about 0.67 ** 1000)."""
    y = np.zeros(1000, dtype=int)
    by_seed = flip_labels(y, 4, 0.5, 7)
    assert np.array_equal(by_seed, flip_labels(y, 4, 0.5, np.random.default_rng(7)))
    assert np.array_equal(by_seed, flip_labels(y, 4, 0.5, rng=np.random.SeedSequence(7)))
    g = np.random.default_rng(7)
    first, second = flip_labels(y, 4, 0.5, g), flip_labels(y, 4, 0.5, g)
    assert np.array_equal(first, by_seed) and not np.array_equal(first, second)
    assert not np.array_equal(flip_labels(y, 4, 0.5), flip_labels(y, 4, 0.5, None))


@pytest.mark.parametrize("rng, got", [(np.random.RandomState(0), "RandomState"), (0.5, "float"), ("0", "str"),
                                       (True, "bool"), (-1, "int -1")])
def test_rng_other_than_spec_7_is_refused_naming_it(rng, got):
    with pytest.raises(TypeError, match=rf"rng must be None, an integer seed or a numpy.random.Generator \(SPEC 7.*got {got}"):
        flip_labels([0, 1], 3, 0.1, rng)


def losses_by_label(z: np.ndarray) -> np.ndarray:
    """-log softmax(z)_j for every j, in plain float64 (fine at these scales)."""
    return np.log(np.sum(np.exp(z))) - z


@pytest.mark.parametrize("K, eps, true", [(2, 0.1, 0), (3, 0.3, 2), (10, 0.1, 4), (25, 0.6, 0)])
def test_loss_variance_by_enumeration_and_monte_carlo(K, eps, true):
    z = np.random.default_rng(K).normal(0.0, 2.0, size=K)
    p, loss = closed_form(K, eps, true), losses_by_label(z)
    enumerated = float(np.sum(p * loss ** 2) - np.sum(p * loss) ** 2)
    got = float(flipped_loss_variance(z, true, eps))
    assert got == pytest.approx(enumerated, rel=1e-9, abs=1e-12)
    n = 200_000
    sample = loss[flip_labels(np.full(n, true), K, eps, np.random.default_rng(K + 1))]
    mu4 = float(np.sum(p * (loss - np.sum(p * loss)) ** 4))
    assert abs(sample.var() - got) < 5 * math.sqrt((mu4 - got ** 2) / n)


def test_loss_variance_batches_and_known_values():
    z = np.random.default_rng(0).normal(size=(4, 3, 6))
    y = np.random.default_rng(1).integers(0, 6, size=(4, 3))
    v = flipped_loss_variance(z, y, 0.2)
    assert v.shape == (4, 3)
    assert v[2, 1] == pytest.approx(float(flipped_loss_variance(z[2, 1], y[2, 1], 0.2)), rel=1e-12)
    # at the smoothed optimum z = log p the losses are -log p: eps(1-eps) log^2((1-eps)(K-1)/eps)
    K, eps = 10, 0.1
    v_opt = float(flipped_loss_variance(np.log(closed_form(K, eps, 0)), 0, eps))
    assert v_opt == pytest.approx(eps * (1 - eps) * math.log((1 - eps) * (K - 1) / eps) ** 2, rel=1e-12)
    assert float(flipped_loss_variance([0.0] * 4, 0, 0.75)) == pytest.approx(0.0, abs=1e-15)   # all equal losses


@pytest.mark.parametrize("K, eps, true", [(2, 0.1, 1), (4, 0.3, 0), (12, 0.05, 7)])
def test_gradient_covariance_by_enumeration_and_monte_carlo(K, eps, true):
    z = np.random.default_rng(K).normal(0.0, 2.0, size=K)
    q = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    p = closed_form(K, eps, true)
    grads = q - np.eye(K)                     # row j: the gradient when the flipped label is j
    mean = p @ grads
    enumerated = (grads - mean).T @ ((grads - mean) * p[:, None])
    C = flipped_gradient_covariance(z, true, eps)
    np.testing.assert_allclose(C, enumerated, atol=1e-14)
    assert np.trace(C) == pytest.approx(1 - (1 - eps) ** 2 - eps ** 2 / (K - 1), rel=1e-12)
    n = 100_000
    sample = grads[flip_labels(np.full(n, true), K, eps, np.random.default_rng(3))]
    # every product of two gradient entries lies in [-1, 1]: standard error at most 1/sqrt(n)
    assert np.max(np.abs(np.cov(sample, rowvar=False, bias=True) - C)) < 5 / math.sqrt(n)


def test_gradient_covariance_shape_and_validation():
    assert flipped_gradient_covariance(np.zeros((5, 3)), np.zeros(5, dtype=int), 0.1).shape == (5, 3, 3)
    with pytest.raises(ValueError, match="logits must be finite"):
        flipped_gradient_covariance([0.0, np.inf], 0, 0.1)
    with pytest.raises(ValueError, match="eps must lie in"):
        flipped_loss_variance([0.0, 1.0], 0, 2.0)
    with pytest.raises(ValueError, match="labels must lie in"):
        flipped_loss_variance([0.0, 1.0], 2, 0.1)






def test_flipped_losses_are_the_losses_of_the_flipped_labels():
    z = np.random.default_rng(3).normal(size=7)
    a = flipped_losses(z, 2, 0.4, 500, np.random.default_rng(9))
    labels = flip_labels(np.full(500, 2), 7, 0.4, np.random.default_rng(9))
    np.testing.assert_allclose(a, num.cross_entropy_per_example(np.broadcast_to(z, (500, 7)), labels), rtol=1e-14)
    with pytest.raises(ValueError, match="one vector"):
        flipped_losses(np.zeros((2, 3)), 0, 0.1, 5, np.random.default_rng(0))


@pytest.mark.parametrize("K", [2, 3, 17])
def test_total_variance_is_the_trace(K):
    z = np.zeros((1, K))
    for eps in (0.0, 0.2, (K - 1) / K, 0.9, 1.0):
        trace = float(np.trace(flipped_gradient_covariance(z, [0], eps)[0]))
        assert flipped_gradient_total_variance(K, eps) == pytest.approx(trace, abs=1e-15)
    assert flipped_gradient_total_variance(2, 1.0) == 0.0 and flipped_gradient_total_variance(K, 0.0) == 0.0

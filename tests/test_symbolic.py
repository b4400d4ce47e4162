"""Symbolic identities of derivations.engine.symbolic, for a general K and concrete K."""
import numpy as np
import pytest
import sympy as sp

from derivations.engine.symbolic import (
    Logits,
    canonical,
    cross_entropy,
    is_zero,
    log_sum_exp,
    one_hot,
    smoothed_target,
    softmax,
)
from derivations.library import numeric as num


def test_softmax_sums_to_one_general_K():
    g = Logits()
    assert is_zero(g.sum(lambda i: softmax(g, i)) - 1)


@pytest.mark.parametrize("K", [2, 3, 7])
def test_softmax_sums_to_one_concrete_K(K):
    x = Logits(K)
    assert sp.simplify(sum(softmax(x, i) for i in range(1, K + 1))) == 1


def test_hard_cross_entropy_is_lse_minus_true_logit_general_K():
    g = Logits()
    ce = cross_entropy(g, lambda j: one_hot(g, j))
    assert is_zero(ce - (log_sum_exp(g) - g.z(1)), force_log=True)


def test_is_zero_rejects_a_false_identity():
    g = Logits()
    ce = cross_entropy(g, lambda j: one_hot(g, j))
    assert not is_zero(ce - (log_sum_exp(g) - g.z(2)), force_log=True)
    x = Logits(3)
    assert not is_zero(log_sum_exp(x) - sp.Max(*x.symbols))


def test_others_zero_general_matches_concrete():
    g = Logits()
    general = g.others_zero(log_sum_exp(g))
    for K in (2, 5):
        x = Logits(K)
        concrete = x.others_zero(log_sum_exp(x))
        assert sp.simplify(general.subs({g.K: K, g.z(1): x.z(1)}) - concrete) == 0


def test_smoothed_target_sums_to_one_and_matches_concrete():
    eps = sp.Symbol("epsilon", positive=True)
    for K in (2, 4):
        x = Logits(K)
        p = [smoothed_target(x, j, eps) for j in range(1, K + 1)]
        assert sp.simplify(sum(p) - 1) == 0
        assert p[0] == 1 - eps and all(sp.simplify(v - eps / (K - 1)) == 0 for v in p[1:])


def test_symbolic_lse_agrees_with_numpy_at_random_points():
    rng = np.random.default_rng(3)
    for K in (2, 4, 9):
        x = Logits(K)
        f = sp.lambdify(x.symbols, log_sum_exp(x), "numpy")
        z = rng.normal(scale=5, size=(20, K))
        assert np.allclose(f(*z.T), num.log_sum_exp(z), rtol=1e-13)


def test_canonical_distinguishes_different_sums():
    i, j, K = sp.symbols("i j K", integer=True)
    z = sp.IndexedBase("z")
    assert canonical(sp.Sum(z[i], (i, 1, K)) - sp.Sum(z[j], (j, 2, K))) != 0


def test_logits_rejects_K_below_two():
    with pytest.raises(ValueError, match="K must be an integer >= 2; got 1"):
        Logits(1)

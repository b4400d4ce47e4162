"""Chapter 5: the data, the network, the findings at several eps and seeds (edges included), the claims' plan."""
import numpy as np
import pytest

from derivations.chapters.ch5 import claims as ch5c
from derivations.chapters.ch5 import digits
from derivations.chapters.ch5 import worked as ch5
from derivations.chapters.ch5.mlp import forward, gradients, initial_network, mean_loss, train
from derivations.engine.regimes import uniform_eps
from derivations.engine.registry import Verdict, claims
from derivations.library.numeric import softmax

IDS = ["ch5.hard_overconfident", "ch5.smoothing_calibrates", "ch5.fresh_matches_soft", "ch5.once_memorises"]


def test_the_digits_are_scikit_learns():
    from sklearn.datasets import load_digits

    X, y = digits.load()
    d = load_digits()
    assert np.array_equal(X * 16.0, d.data) and np.array_equal(y, d.target)


def test_the_split_is_seeded_stratified_and_disjoint():
    tr, te = digits.split(1797, 120, seed=3)
    assert np.array_equal(tr, digits.split(1797, 120, seed=3)[0]) and not np.array_equal(tr, digits.split(1797, 120, 4)[0])
    assert np.bincount(digits.load()[1][tr]).tolist() == [12] * 10
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 1797


def test_backpropagation_is_the_derivative_of_the_loss():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    net, T = initial_network(5, 6, 3, seed=1), np.eye(3)[y]
    z, h = forward(net, X)
    grads = gradients(net, X, h, (softmax(z) - T) / len(X))
    for a, g in zip(net.arrays(), grads):
        i = np.unravel_index(np.argmax(np.abs(g)), g.shape)
        old, step = a[i], 1e-6
        a[i] = old + step
        up = mean_loss(forward(net, X)[0], T)
        a[i] = old - step
        down = mean_loss(forward(net, X)[0], T)
        a[i] = old
        assert (up - down) / (2 * step) == pytest.approx(g[i], rel=1e-5, abs=1e-9)


def test_training_is_deterministic_and_the_modes_share_their_initial_weights():
    X, y = digits.load()
    a = train(X[:60], y[:60], 10, "flip_fresh", 0.3, steps=20, seed=2)
    b = train(X[:60], y[:60], 10, "flip_fresh", 0.3, steps=20, seed=2)
    assert np.array_equal(a.net.W1, b.net.W1) and a.flips == b.flips > 0
    assert np.array_equal(train(X[:60], y[:60], 10, "hard", 0.3, steps=0).net.W1,
                          train(X[:60], y[:60], 10, "soft", 0.3, steps=0).net.W1)


def small(eps, seed):
    return ch5.Plan(eps=eps, seed=seed, seeds=2, steps=120)


@pytest.mark.parametrize("eps, seed", [(0.0, 0), (0.1, 7), (0.45, 1), (uniform_eps(10), 3), (1.0, 5)])
def test_findings_hold_at_several_values(eps, seed):
    x = ch5.experiment(small(eps, seed))
    f = ch5.findings(x)
    assert not f.failed, repr(f)
    assert all(i.asserted or i.note for i in f)
    if eps == 0.0:               # nothing flips: the four modes are hard labels
        for m in ("soft", "flip_fresh", "flip_once"):
            assert all(np.array_equal(a.test_logits, b.test_logits) for a, b in zip(x.each("hard"), x.each(m)))
    table = ch5.summary_table(x)
    assert len(table.splitlines()) == 6 and ("no finite optimum" in table) == (eps in (0.0, 1.0))


def test_the_claims_are_registered_and_rest_on_statistical_tests():
    assert [c.id for c in claims(5)] == IDS
    assert [c.stated for c in claims(5)] == [Verdict.HOLDS, Verdict.ERRATUM, Verdict.HOLDS, Verdict.HOLDS]
    assert ch5c.PLAN == ch5.Plan(eps=0.1, seed=0, seeds=5)


def test_true_first_and_the_calibration_gap():
    Z = np.array([[0.0, 1.0, 2.0]])
    assert ch5c.true_first(Z, np.array([2])).tolist() == [[2.0, 1.0, 0.0]]
    P = softmax(np.array([[1.0, 0.0, -1.0]]))
    expected = sum(P[0, c] * ch5.calibration_gap(P, np.array([c]))[0] for c in range(3))
    assert abs(expected) < 1e-15                # calibrated: the label drawn from q itself

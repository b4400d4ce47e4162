"""Chapter 4's registered claims: sound, sensitive to their formulas, and their tolerances justified."""

import mpmath
import numpy as np
import pytest
from test_ch5 import edited as _with

from derivations.chapters.ch4 import claims as ch4c
from derivations.chapters.ch4.linear_response import free_logit_spread, soft_gap_path
from derivations.chapters.ch4.training import TrainingPlan
from derivations.engine.registry import Verdict, claims, run
from derivations.engine.stats import variance_ratio_band
from derivations.library.smoothing import smoothed_optimum_gap, target_levels

IDS = ["ch4.fresh_same_point", "ch4.soft_optimum", "ch4.once_memorises", "ch4.regression_same_point"]


def test_chapter_4_registers_its_claims_in_order():
    assert [c.id for c in claims(4)] == IDS
    assert all(c.source == "added" and c.stated is Verdict.HOLDS for c in claims(4))


@pytest.mark.parametrize("claim_id", IDS)
def test_the_claims_rest_on_statistical_tests(claim_id):
    """(Soundness is tests/test_registry.py's, for every claim.) Each chapter-4 claim's evidence includes
    a statistical test at a stated false-alarm probability, and the report says so."""
    o = run(claim_id)
    assert any(f.kind == "statistical" and "false-alarm" in f.statement for f in o.evidence.findings)
    assert o.symbolic_summary.startswith("statistical tests at stated false-alarm")


def test_a_wrong_optimal_gap_is_an_erratum():
    o = _with("ch4.soft_optimum", r"\log\frac{(1-\epsilon)(K-1)}{\epsilon}", r"\log\frac{(1-\epsilon)K}{\epsilon}")
    assert o.verdict is Verdict.ERRATUM and not o.ok
    assert any("convergence bound" in p for p in o.problems)


def test_a_wrong_optimal_probability_is_an_erratum():
    o = _with("ch4.soft_optimum", r"so $q_{1} = 1 - \epsilon$", r"so $q_{1} = 1 - \frac{\epsilon}{K}$")
    assert o.verdict is Verdict.ERRATUM and not o.ok


def test_a_covariance_without_its_outer_product_fails_the_variance_test():
    """Dropping - p_a p_b keeps u an eigenvector but predicts a variance 5.7 times too large: the sample variance
    of the trained gaps rules it out (the statistical test, not only the symbolic one)."""
    o = _with("ch4.fresh_same_point", r"p_{a}\delta_{ab} - p_{a} p_{b}", r"p_{a}\delta_{ab} - p_{a} p_{a}")
    assert o.verdict is Verdict.ERRATUM
    failed = [f.statement for f in o.evidence.findings if not f.ok]
    assert any("chi-square band" in t for t in failed), failed


def test_a_wrong_flip_fraction_and_a_reversed_inequality_fail():
    assert _with("ch4.once_memorises", r"= \epsilon$", r"= 1 - \epsilon$").verdict is Verdict.ERRATUM
    assert _with("ch4.once_memorises", r"$q_{k} > q_{1}$", r"$q_{k} < q_{1}$").verdict is Verdict.ERRATUM


def test_a_wrong_covariance_fails_the_regression_claim():
    o = _with("ch4.regression_same_point", r"- p_{a} p_{b}", r"+ p_{a} p_{b}")
    assert o.verdict is Verdict.ERRATUM and not o.ok


@pytest.mark.parametrize("K, eps, steps, lr, decay", [(2, 0.1, 200, 1.0, 50.0), (4, 0.1, 400, 0.5, 100.0),
                                                     (10, 0.3, 300, 0.25, None), (50, 0.05, 500, 1.0, 100.0)])
def test_the_convergence_bound_holds_and_is_not_vacuous(K, eps, steps, lr, decay):
    plan = TrainingPlan(K=K, eps=eps, seed=0, free_steps=steps, free_lr=lr, free_decay=decay or 1e12)
    star = smoothed_optimum_gap(K, eps)
    path = soft_gap_path(K, eps, steps, lr, decay or 1e12)
    assert np.all(np.diff(path) >= 0) and path[-1] <= star        # monotone, no overshoot
    assert star - path[-1] <= ch4c.convergence_bound(plan) < star


def test_the_gap_noise_of_chapter_3s_covariance_is_the_linear_responses_default():
    for K, eps in ((2, 0.3), (4, 0.1), (20, 0.6)):
        on, off = target_levels(K, eps=eps)
        p = np.array([on] + [off] * (K - 1))
        noise = ch4c.gap_noise(np.diag(p) - np.outer(p, p))
        assert noise == pytest.approx(K * K * on * off / (K - 1), rel=1e-12)
        assert free_logit_spread(K, eps, 300, 0.5, 100.0, noise=noise) == pytest.approx(
            free_logit_spread(K, eps, 300, 0.5, 100.0), rel=1e-12)
    with pytest.raises(ValueError, match="noise must be a variance"):
        free_logit_spread(4, 0.1, 10, 0.5, noise=-1.0)


def test_propagated_variance_is_the_linear_responses_for_chapter_3s_covariance():
    x = ch4c.regression_experiment()
    on, off = target_levels(x.K, eps=x.plan.eps)
    p = np.array([on] + [off] * (x.K - 1))
    v = ch4c.propagated_variance(x.spread.once_coefficients, x.y_train, np.diag(p) - np.outer(p, p))
    assert v == pytest.approx(x.spread.once_var, rel=1e-12)


@pytest.mark.parametrize("n", [50, 200, 1000])
def test_the_chi_square_band_keeps_its_false_alarm(n):
    lo, hi = variance_ratio_band(n)
    nu = n - 1
    below = mpmath.gammainc(nu / 2, 0, lo * nu / 2, regularized=True)
    above = mpmath.gammainc(nu / 2, hi * nu / 2, mpmath.inf, regularized=True)
    assert below + above <= 1e-6 and below + above >= 0.5e-6          # exact to within a factor of 2
    assert 0 < lo < 1 < hi and variance_ratio_band(n, 1e-2)[0] > lo


def test_the_radius_of_a_flip_kept_comes_from_each_flips_distribution():
    """Issue 33: (d)'s Bernstein radius was 0.200 against a predicted SD of 0.023, dominated by the largest flip's
    effect. Chernoff's bound from every example's flip distribution is the radius now: at least the normal quantile
    times the SD, below Bernstein's, and never exceeded by the sum in many simulated flip draws (its tail at 1e-3,
    by simulation, lies inside it)."""
    from derivations.chapters.ch4 import worked as ch4
    from derivations.engine.stats import bernstein_radius, normal_quantile

    x = ch4c.regression_experiment()
    A, y, K, eps = x.spread.once_coefficients, x.y_train, x.K, x.plan.eps
    sd = np.sqrt(x.spread.once_var)
    radius = ch4.chernoff_radius(A, y, K, eps)
    assert normal_quantile() * sd <= radius < float(bernstein_radius(1, x.spread.once_var, x.spread.once_bound))
    assert radius / sd < 7.0
    on, off = target_levels(K, eps=eps)
    rng = np.random.default_rng(0)
    probs = np.full(A.shape, off)
    probs[np.arange(len(A)), y] = on
    values = A - (probs * A).sum(axis=1, keepdims=True)
    draws = (rng.random((20_000, len(A), 1)) > np.cumsum(probs, axis=1)[None]).sum(axis=2)      # a class per example
    sums = values[np.arange(len(A)), draws].sum(axis=1)
    assert sums.std() == pytest.approx(sd, rel=0.05)                     # the terms are the linear response's
    assert np.quantile(np.abs(sums), 1 - 1e-3) < radius


def test_a_numeric_error_is_in_a_declared_unit():
    """Issue 33: 'max num. err' held absolute deviations, a unit --help does not name. Every finding of chapters 4
    and 5 that reports an error says which of the declared units it is in."""
    for c in claims(4) + claims(5):
        for f in run(c).evidence.findings:
            if f.error is not None:
                assert "relative" in f.statement or "rounding slack" in f.bound, (c.id, f.statement)


def test_notebook_4_states_the_claims_plan():
    """The registered claims' sizes that notebook 4's prose states are PLAN's."""
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "04_training.ipynb", as_version=4)
    text = " ".join(" ".join(c.source for c in nb.cells if c.cell_type == "markdown").split())
    p = ch4c.PLAN
    assert (f"on {p.n_free} examples and {p.free_steps} steps of size ${p.free_lr:g}/(1 + t/{p.free_decay:g})$"
            in text)
    assert f"(at the defaults, on {p.n_train} points in {p.blob_classes} blobs and {p.steps} steps)" in text
    assert "already calibrated" not in text and "capped near" not in text          # issue 33: now computed


def test_the_calibration_sentence_follows_the_tests():
    """Notebook 4's calibration sentence is computed: planted over-confident and calibrated test sets are said to be
    what they are."""
    from derivations.chapters.ch4 import worked as ch4

    rng = np.random.default_rng(1)
    P = np.exp(rng.normal(scale=2.0, size=(4000, 4)))
    P /= P.sum(axis=1, keepdims=True)
    y = (rng.random((4000, 1)) > np.cumsum(P, axis=1)).sum(axis=1)          # calibrated: labels drawn from P
    c = ch4._calibration(P, y)
    assert c["calibrated"] and abs(c["over"]) / c["se"] < c["z"]
    sharp = P ** 4 / (P ** 4).sum(axis=1, keepdims=True)                       # over-confident on the same labels
    c = ch4._calibration(sharp, y)
    assert not c["calibrated"] and c["over"] / c["se"] > c["z"]

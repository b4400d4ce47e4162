"""Chapter 4's registered claims: sound, sensitive to their formulas, and their tolerances justified."""
import dataclasses

import mpmath
import numpy as np
import pytest

from derivations.chapters.ch4 import claims as ch4c
from derivations.chapters.ch4.linear_response import free_logit_spread, soft_gap_path
from derivations.chapters.ch4.training import TrainingPlan
from derivations.engine.registry import Verdict, check_claim, claims, get, run
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


def _with(claim_id: str, old: str, new: str):
    c = get(claim_id)
    assert old in c.printed
    return check_claim(dataclasses.replace(c, printed=c.printed.replace(old, new)))


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

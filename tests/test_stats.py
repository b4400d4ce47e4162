"""The bounds behind every random comparison: their false-alarm rate is what they promise."""
import numpy as np
import pytest

from derivations.engine.stats import (
    bernstein_radius,
    frequency_radius,
    normal_quantile,
    summation_slack,
    variance_radius,
)


def test_bernstein_radius_closed_form():
    L = np.log(2 / 1e-6)
    n, s2, b = 1000, 0.3, 2.0
    a = b * L / (3 * n)
    assert float(bernstein_radius(n, s2, b)) == pytest.approx(a + np.sqrt(a * a + 2 * s2 * L / n))
    assert float(bernstein_radius(4 * n, s2, 0.0)) == pytest.approx(float(bernstein_radius(n, s2, 0.0)) / 2)


@pytest.mark.parametrize("p, n", [(0.5, 50), (0.01, 200), (1e-4, 1000), (0.97, 30)])
def test_frequency_radius_keeps_its_false_alarm_rate(p, n):
    """At a generous false-alarm 0.05, 20,000 simulated frequencies leave the radius at most 5% of the time
    (Bernstein is conservative: rare events included, where a normal approximation is not)."""
    rng = np.random.default_rng(1)
    freq = rng.binomial(n, p, size=20_000) / n
    assert np.mean(np.abs(freq - p) > frequency_radius(n, p, 0.05)) <= 0.05


def test_frequency_radius_is_exact_where_nothing_is_random():
    assert float(frequency_radius(10, 0.0)) == 0.0 and float(frequency_radius(10, 1.0)) == 0.0
    with pytest.raises(ValueError):
        frequency_radius(10, 1.5)


def test_variance_radius_keeps_its_false_alarm_rate():
    values, probs = np.array([0.0, 1.0, 5.0]), np.array([0.7, 0.25, 0.05])
    mu = probs @ values
    var = probs @ (values - mu) ** 2
    rng = np.random.default_rng(2)
    n = 200
    draws = rng.choice(values, size=(5000, n), p=probs)
    miss = np.abs(draws.var(axis=1) - var) > variance_radius(n, values, probs, 0.05)
    assert miss.mean() <= 0.05


def test_normal_quantile_and_slack():
    assert normal_quantile(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert normal_quantile(1e-6) == pytest.approx(4.891638, abs=1e-6)
    assert 0 < summation_slack(1000, 3.0) < 1e-12


@pytest.mark.parametrize("call", [lambda: bernstein_radius(0, 1.0, 1.0), lambda: bernstein_radius(5, -1.0, 1.0),
                                  lambda: bernstein_radius(5, 1.0, 1.0, false_alarm=0.0),
                                  lambda: normal_quantile(1.5)])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()

"""tools/crosscheck.py (`make crosscheck`) without JAX: its bounds, its table, and its verdicts on the
package compared with itself, honest and with planted errors."""
import math
import re
from pathlib import Path

import numpy as np
import pytest

from derivations.library.numeric import log_softmax, softmax
from tools.crosscheck import (
    Table,
    cases,
    grad_tol,
    loss_tol,
    report,
    run,
    sum_bound,
    target_tol,
    unit_roundoff,
)

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(ks=(2, 10), scales=(1.0, 100.0), alphas=(0.0, 0.1, 1.0), epss=(0.05,))


class Itself:
    """The framework's textbook formulas in NumPy with the package's own softmax; ``plant`` alters one output."""

    name = "the package against itself"

    def __init__(self, plant=None):
        self.plant = plant

    def use_dtype(self, dtype):
        pass

    def smooth_labels(self, onehot, alpha):
        K = onehot.shape[-1]
        if self.plant == "convention":            # the frameworks' alpha taken for the note's eps
            return np.where(onehot == 1, 1 - alpha, alpha / (K - 1)).astype(onehot.dtype)
        return (1 - alpha) * onehot + alpha / K

    def loss(self, logits, targets):
        loss = -(targets * log_softmax(logits)).sum(axis=-1)
        if self.plant in ("loss inside", "loss outside"):
            factor = 0.5 if self.plant == "loss inside" else 2.0
            loss = loss + factor * loss_tol(logits.shape[-1], logits.dtype, loss)
        return loss

    def grad(self, logits, targets):
        g = softmax(logits) * targets.sum(axis=-1, keepdims=True) - targets
        if self.plant == "gradient":              # one entry off by twice its bound
            g[0, 0] += 2 * grad_tol(logits.shape[-1], logits.dtype)
        return g


def test_bounds_are_the_stated_formulas():
    assert unit_roundoff(np.float32) == 2.0 ** -24 and unit_roundoff(np.float64) == 2.0 ** -53
    assert target_tol(np.float32) == 8 * 2.0 ** -24
    assert sum_bound(1024, np.float64) == (1024 + 8 + 10) * 2.0 ** -53
    assert grad_tol(1024, np.float64) == 4 * sum_bound(1024, np.float64)
    assert np.allclose(loss_tol(10, np.float32, [0.0, 9.0]), [2, 20] * np.array(sum_bound(10, np.float32)))


def test_cases_cover_both_conventions_and_the_edges():
    c = cases(4, alphas=(0.0, 1.0), epss=(0.1, 0.9))
    assert ("uniform", 1.0, 1.0) in c and ("note", 0.75, 1.0) in c      # alpha = 1 <=> eps = (K-1)/K
    assert ("note", 0.0, 0.0) in c and not [e for conv, e, _ in c if conv == "note" and e > 0.75]


def test_table_fails_on_a_difference_above_its_bound_or_not_finite():
    t = Table()
    t.record(np.float64, "note", "loss", [1e-16, 3e-16], [2e-16, 2e-16], "here")
    t.record(np.float64, "note", "targets", [0.0, 1e-17], 1e-16, "there")
    t.record(np.float32, "note", "loss", [np.nan], 1.0, "nan")
    row = t.rows[("float64", "note", "loss")]
    assert (row.n, row.failures, row.max_diff, row.max_ratio, row.where) == (2, 1, 3e-16, 1.5, "here")
    assert (row.diff_at_worst, row.tol_at_worst) == (3e-16, 2e-16)
    assert t.failed == [("float64", "note", "loss"), ("float32", "note", "loss")]
    assert math.isnan(t.rows[("float32", "note", "loss")].max_diff)
    text, status = report(t, "test", 0.0, 0)
    assert status == 1 and "FAILED (1)" in text and "| float64 | note | targets | 2 | 1.0e-17 | 0.1 | 1.0e-17 | 1.0e-16 | there | ok |" in text


def test_the_package_against_itself_passes():
    t = run(Itself(), **SMALL)
    quantities = {q for _, _, q in t.rows}
    assert len(t.rows) == 14 and len(quantities) == 4 and not t.failed
    text, status = report(t, Itself.name, 0.1, 0)
    assert status == 0 and re.search(r"ok: [\d,]+ values compared", text)


@pytest.mark.parametrize("plant, failing", [
    ("convention", {"targets", "loss", "gradient (autodiff vs softmax - p)"}),
    ("gradient", {"gradient (autodiff vs softmax - p)"}),
    ("loss outside", {"loss"}),
    ("loss inside", set()),
])
def test_a_planted_error_fails_exactly_where_it_is(plant, failing):
    t = run(Itself(plant), **SMALL)
    assert {q for _, _, q in t.failed} == failing
    assert report(t, plant, 0.1, 0)[1] == (1 if failing else 0)


def test_crosscheck_pins_the_package_requirements_as_requirements_txt_does():
    def pins(name):
        lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    ours, theirs = pins("requirements-crosscheck.txt"), pins("requirements.txt")
    for name in ("sympy", "mpmath", "numpy", "matplotlib"):
        assert ours[name] == theirs[name], name
    assert {"jax", "jaxlib", "optax"} <= set(ours)

"""Müller et al. (2019)'s penultimate-layer geometry and distillation findings on the digits (chapter 5): the paired
test across seeds, the projection and its measurements on planted points, distillation's pieces against their
definitions, the claims (registered, sound, reading their statements and their measurements, able to come out
holds, erratum or undecided), the figures, and the findings at edge values."""
import dataclasses
import math

import numpy as np
import pytest
from test_ch5 import edited as _with

import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
from derivations.chapters.ch5 import CHAPTER
from derivations.chapters.ch5 import distillation as dist
from derivations.chapters.ch5 import geometry as geo
from derivations.chapters.ch5 import muller_claims as mc
from derivations.chapters.ch5.inference import t_quantile
from derivations.chapters.ch5.paired import SEED_FALSE_ALARM, Paired
from derivations.engine.figures import COLUMN, page_figure_problems
from derivations.engine.registry import Verdict, check_claim, claims, get, run
from derivations.library.smoothing import smoothed_targets

IDS = ("ch5.penultimate_tighter", "ch5.distil_worse")


def small(**kw):
    return geo.Plan(**{"seed": 7, "seeds": 2, "per_class": 2, "hidden": 32, "steps": 60, **kw})


# -- the paired test across seeds ---------------------------------------------------------------------------------
def test_a_paired_comparison_goes_three_ways_and_is_paired():
    rng = np.random.default_rng(0)
    big = Paired(-0.05 + 0.002 * rng.standard_normal(5))
    assert (big.side("<"), big.side(">"), big.side("<=")) == ("confirmed", "refuted", "confirmed")
    noisy = Paired(np.array([-0.05, 0.04, -0.06, 0.05, -0.03]))
    assert noisy.side("<") == noisy.side(">") == "undecided"
    # a shared seed effect cancels in the difference: paired, not two samples
    seed_effect = 10 * rng.standard_normal(5)
    assert Paired((seed_effect - 0.05) - seed_effect).side("<") == "confirmed"
    lo, hi = big.interval(SEED_FALSE_ALARM)
    assert hi - lo == pytest.approx(2 * t_quantile(1 - SEED_FALSE_ALARM, 4) * big.se)
    assert big.interval(0.025)[1] - big.mean == pytest.approx(2.7764 * big.se, rel=1e-4)     # Student's 95%


def test_the_sign_flip_p_value_is_exact():
    d = Paired(np.array([-1.0, -2.0, -3.0, -4.0, -5.0]))
    assert d.sign_flip("<") == 1 / 32 and d.agree("<") == 5
    assert Paired(np.array([1.0, -1.0])).sign_flip("<") == 0.75
    assert Paired(-np.arange(1.0, 18.0)).sign_flip("<") < 1e-3               # drawn, beyond 16 seeds


def test_a_paired_comparison_refuses_too_few_or_infinite_seeds():
    for bad in ([1.0], [1.0, np.nan]):
        with pytest.raises(ValueError):
            Paired(np.array(bad))


# -- the projection and its measurements, on planted points ---------------------------------------------------
def test_the_plane_goes_through_the_three_templates_with_an_orthonormal_basis():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((9, geo.K))
    T = geo.triples()
    assert len(T) == 120
    E, origin = geo.planes(W, T)
    assert np.allclose(np.einsum("mhd,mhe->mde", E, E), np.eye(2))
    for m in (0, 57, 119):
        pts = W[:, T[m]].T
        back = origin[m] + geo.project(pts, E[m:m + 1], origin[m:m + 1])[0] @ E[m].T
        assert np.allclose(back, pts)                                         # the templates lie in their plane


def _planted(spread: float, per_class: int = 20, seed: int = 2):
    """Templates at random, each class's points around one spot of the plane of every triple, ``spread`` apart."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((6, geo.K))
    centres = 3 * rng.standard_normal((geo.K, 6))
    y = np.repeat(np.arange(geo.K), per_class)
    return centres[y] + spread * rng.standard_normal((len(y), 6)), W, y


def test_tightness_grows_with_the_spread_and_ignores_the_scale():
    T = geo.triples()
    R = [geo._geometry(*_planted(s), T)[0].mean() for s in (0.0, 0.1, 1.0)]
    assert R[0] == pytest.approx(0.0, abs=1e-12) and R[0] < R[1] < R[2]
    H, W, y = _planted(0.3)
    for a, b in zip(geo._geometry(H, W, y, T), geo._geometry(7.0 * H, 7.0 * W, y, T)):
        assert np.allclose(a, b)                                              # scale-free, both of them


def test_equal_distances_to_the_other_templates_give_u_zero():
    W = np.zeros((3, geo.K))
    W[:2, :3] = [[0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]                            # w_0, w_1, w_2 in the first plane
    H = np.array([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]])                       # digit 0 on the bisector of w_1, w_2
    y = np.array([0, 0])
    U = geo._geometry(H, W, y, np.array([[0, 1, 2]]))[1]
    assert U[0] == pytest.approx(0.0, abs=1e-12)
    assert geo._geometry(np.array([[0.0, 1.0, 0.0]]), W, np.array([0]), np.array([[0, 1, 2]]))[1][0] > 0.1


def test_one_image_a_digit_has_no_tightness():
    H, W, y = _planted(0.3, per_class=1)
    assert np.isnan(geo._geometry(H, W, y, geo.triples())[0]).all()


def test_the_penultimate_activations_and_templates_give_the_networks_logits():
    t = geo.teachers(small())
    X = t.images("test")
    assert np.allclose(t.penultimate(X) @ t.templates(), t.logits(X), atol=1e-4)


# -- distillation's pieces, against their definitions ------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.5])
def test_gamma_of_label_smoothings_own_target_is_alpha(alpha):
    y = np.arange(10) % 10
    z = np.log(smoothed_targets(y, 10, eps=alpha * 9 / 10))
    assert dist.gamma(z, y, 1.0) == pytest.approx(alpha, rel=1e-12)


def test_the_matched_temperature_matches_and_a_misfit_teacher_is_clipped():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 10, 50)
    z = rng.standard_normal((50, 10))
    z[np.arange(50), y] += 6.0                                                # every label the largest logit
    T = dist.matched_temperature(z, y, 0.1)
    assert dist.gamma(z, y, T) == pytest.approx(0.1, abs=1e-12)
    with pytest.raises(ValueError, match="not reached"):
        dist.matched_temperature(-z, y, 0.1)
    assert dist.matched_temperature(-z, y, 0.1, clip=True) in (1e-2, 1e4)


def test_the_students_gradient_is_that_of_its_tempered_loss():
    rng = np.random.default_rng(4)
    z, T = rng.standard_normal((5, 4)), 3.0
    P = dist.tempered(rng.standard_normal((5, 4)), 1.0)

    def loss(z):
        return float(-(P * np.log(dist.tempered(z, T))).sum(axis=1).mean())
    grad = (dist.tempered(z, T) - P) / (T * len(z))                          # what distil() steps along
    h = 1e-6
    numeric = np.array([[(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(4)[None].repeat(5, 0)[i]]
                        for i in range(5)])
    E = np.zeros_like(z)
    for i in range(5):
        for k in range(4):
            E[:] = 0
            E[i, k] = h
            numeric[i, k] = (loss(z + E) - loss(z - E)) / (2 * h)
    assert np.allclose(grad, numeric, atol=1e-8)


def test_the_shifts_and_the_mutual_information_estimate():
    X = np.arange(64.0).reshape(1, 64)
    S = dist.shifted(X)
    assert S.shape == (9, 1, 64) and np.array_equal(S[4], X)
    assert S[0].reshape(8, 8)[:-1, :-1].tolist() == X.reshape(8, 8)[1:, 1:].tolist()      # up and left by one
    assert not S[0].reshape(8, 8)[-1].any() and not S[0].reshape(8, 8)[:, -1].any()     # zeros shifted in
    rng = np.random.default_rng(5)
    apart = np.arange(6) * 100.0 + rng.standard_normal((9, 6))               # six examples, far apart
    two = np.repeat([0.0, 100.0], 3) + rng.standard_normal((9, 6))           # two clusters of three
    assert dist.mutual_information(apart) == pytest.approx(math.log(6), abs=1e-6)
    assert dist.mutual_information(two) == pytest.approx(math.log(2), abs=0.05)
    assert 0.0 <= dist.mutual_information(rng.standard_normal((9, 6))) < 0.5


def test_the_students_of_a_seed_start_alike_and_not_as_the_teacher():
    s = dist.initial_student(64, 16, 10, seeds=[0, 1], networks=3)
    assert np.array_equal(s.W2[0, 0], s.W2[0, 2]) and not np.array_equal(s.W2[0, 0], s.W2[1, 0])
    from derivations.chapters.ch5.mlp import initial_stack
    assert not np.array_equal(s.W1[0, :, :16], initial_stack(64, 16, 10, [0], 1).W1[0])


# -- the claims ------------------------------------------------------------------------------------------------------
def test_the_claims_plan_is_the_chapters_defaults_and_muellers_alpha():
    d = CHAPTER.defaults
    assert mc.PLAN == geo.Plan(seed=d["SEED"], seeds=d["N_SEEDS"], per_class=d["N_PER_DIGIT"], hidden=d["HIDDEN"],
                               steps=d["STEPS"])
    assert mc.PLAN.alpha == 0.1 and mc.PLAN.student == mc.PLAN.hidden // 4


def test_the_claims_are_registered_after_the_chapters_own_sound_and_cite_the_paper():
    ids = [c.id for c in claims(5)]
    assert ids[-2:] == list(IDS)
    section = get("ch5.hard_overconfident").section
    for cid in IDS:
        c = get(cid)
        o = run(c)
        assert c.section == section and c.source == "added" and c.shares == "ch5.muller"
        assert o.ok, (cid, o.problems)
        assert o.verdict is c.stated
        assert any(f.kind == "statistical" and f.asserted for f in o.evidence.findings)
        assert "Müller, Kornblith & Hinton (2019), Section" in c.remark
    assert "Section 2 and Figure 1" in get(IDS[0]).remark and "Section 4 and Figure 5" in get(IDS[1]).remark


def test_a_reversed_statement_is_an_erratum_with_its_measurement():
    o = _with("ch5.penultimate_tighter", r"$R_{\alpha} < R_{0}$", r"$R_{\alpha} > R_{0}$")
    assert o.verdict is Verdict.ERRATUM and o.evidence.counterexample is not None
    assert o.evidence.counterexample.correct < 0


def test_the_checks_read_the_measurements(monkeypatch):
    """No fact is hard-coded: planted measurements turn each claim to holds, to an erratum, or leave it undecided."""
    g = geo.measure(mc.PLAN)
    swapped = dataclasses.replace(g, R={k: v[:, ::-1] for k, v in g.R.items()}, U={k: v[:, ::-1] for k, v in g.U.items()})
    monkeypatch.setattr(geo, "measure", lambda plan: swapped)
    o = check_claim(get("ch5.penultimate_tighter"))
    assert o.verdict is Verdict.ERRATUM and o.evidence.counterexample is not None

    x = dist.experiment(mc.PLAN)
    a, b = dist.CLAIMED
    rng = np.random.default_rng(6)
    for planted, verdict in ((_moved(x, a, b, -120, rng), Verdict.HOLDS), (_moved(x, a, b, +120, rng), Verdict.ERRATUM),
                             (_moved(x, a, b, 0, rng), Verdict.UNDECIDED)):
        monkeypatch.setattr(dist, "experiment", lambda plan, planted=planted: planted)
        o = check_claim(get("ch5.distil_worse"))
        assert o.verdict is verdict, (verdict, o.verdict, o.problems)
        assert (o.evidence.counterexample is not None) == (verdict is Verdict.ERRATUM)


def _moved(x, a: int, b: int, net: int, rng):
    """``x`` with student ``a`` right on the images student ``b`` is right on, then ``net`` more (fewer, if negative)
    images right at every seed: 30 of its wrong images turned right and ``30 - net`` of its right ones wrong."""
    correct = x.correct.copy()
    for s in range(len(correct)):
        row = correct[s, b].copy()
        right, wrong = np.flatnonzero(row), np.flatnonzero(~row)
        row[rng.choice(wrong, 30 + max(net, 0), replace=False)] = True
        row[rng.choice(right, 30 + max(-net, 0), replace=False)] = False
        correct[s, a] = row
    return dataclasses.replace(x, correct=correct)


def test_the_joint_decision_is_centred_on_the_seeds_mean():
    x = dist.experiment(mc.PLAN)
    a, b = dist.CLAIMED
    dec = x.decide(a, b, "<")
    assert dec.value == pytest.approx(x.paired(a, b).mean, abs=1e-15)
    assert dec.lo < dec.value < dec.hi and dec.se > 0
    from derivations.engine.notation import read
    via_formula, seeds = mc.joint(read(r"S_{\alpha} < S_{0}").relation(), {"S[alpha]": a, "S[0]": b}, x)
    assert (via_formula.lo, via_formula.hi) == (dec.lo, dec.hi) and np.allclose(seeds.per_seed, x.paired(a, b).per_seed)


# -- the figures, and the findings at edge values ----------------------------------------------------------------------
def test_the_figures_pass_the_check_numbered_after_the_chapters_own(tmp_path):
    plan = small()
    numbered = geo.figures()
    for name, shown in (("ch5_penultimate", geo.plot_penultimate(plan, out=tmp_path)),
                        ("ch5_distillation", dist.plot_distillation(plan, out=tmp_path))):
        assert shown.label == numbered.label(name)
        assert shown.width == round(COLUMN * 100)
        assert "Look " in shown.caption and page_figure_problems(shown._repr_html_(), min_words=12) == []
    assert {p.stem for p in tmp_path.glob("*.png")} == {"ch5_penultimate", "ch5_distillation"}


@pytest.mark.parametrize("kw", [{}, {"per_class": 1}, {"steps": 10}, {"hidden": 4, "seeds": 3}])
def test_the_findings_run_at_the_edges(kw):
    plan = small(**kw)
    for f in (geo.findings(plan), dist.findings(plan)):
        assert not f.failed and all(not i.asserted for i in f), repr(f)
    if plan.per_class == 1:
        assert "not measured" in repr(geo.findings(plan))


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="seeds must be >= 2"):
        geo.Plan(seeds=1)
    with pytest.raises(ValueError, match="alpha"):
        geo.Plan(alpha=0.0)

r"""Paired comparisons across seeds: the seed is the unit.

A claim about *training* (does a network trained one way end tighter, or teach better, than one trained the other
way?) is about the distribution of what training produces, and its sample is the seeds: each seed draws its own
training images and its own initial weights, and the two networks compared at a seed share both (*paired*). Per
seed ``s`` the difference ``d_s`` of the two networks' statistic is one draw; the claim is about the mean ``E[d]``.

:class:`Paired` holds the ``S`` differences and decides a one-sided claim ``E[d] op 0`` with Student's t on ``S - 1``
degrees of freedom: its interval at the false-alarm probability ``a`` is ``mean -+ t_{1-a, S-1} SE`` (``SE`` the
seeds' standard deviation over ``sqrt(S)``), and the claim is *confirmed* when the whole interval lies on the claimed
side of 0, *refuted* when it lies on the other, *undecided* otherwise
(:func:`derivations.engine.stats.side`). Each wrong decision has probability at most ``a`` when the seeds'
differences are independent and normal; the normality is an assumption (five draws cannot check it), so
:meth:`Paired.sign_flip` adds the distribution-free view, whose smallest attainable p-value is ``2^-S``.

What the false-alarm probability covers: the draw of the training images and of the initial weights (the seed).
What it does not cover: the data set, the architecture, and every choice the plan fixes.

:data:`SEED_FALSE_ALARM` and Student's quantile are chapter 5's (:mod:`derivations.chapters.ch5.inference`, which
says why ``1e-3`` and not the companion's ``1e-6``). A statistic of the seed's *training* digits (each seed has its
own) is decided here; a mean over the *test* digits, which the seeds share, is decided with the chapter's joint
resamples of the images and the seeds (:class:`~derivations.chapters.ch5.inference.JointBootstrap`), as
:mod:`.distillation` does.

>>> d = Paired(np.array([-0.05, -0.04, -0.06, -0.05, -0.03]))
>>> round(d.mean, 3), round(d.t, 2), d.df, d.side("<")
(-0.046, -9.02, 4, 'confirmed')
>>> d.side(">"), Paired(np.array([-0.05, 0.04, -0.06, 0.05, -0.03])).side("<")
('refuted', 'undecided')
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derivations.chapters.ch5.inference import SEED_FALSE_ALARM
from derivations.chapters.ch5.inference import t_quantile as _quantile
from derivations.engine.stats import side as _side

__all__ = ["SEED_FALSE_ALARM", "Paired"]


@dataclass(frozen=True)
class Paired:
    """The differences ``d_s`` (one per seed, at least two) of a statistic between two networks trained at the same
    seed, and the t-test across seeds (see the module's docstring)."""

    per_seed: np.ndarray

    def __post_init__(self):
        d = np.asarray(self.per_seed, dtype=float)
        if d.ndim != 1 or len(d) < 2 or not np.all(np.isfinite(d)):
            raise ValueError(f"a paired comparison needs at least two finite differences, one per seed; got {d!r}")
        object.__setattr__(self, "per_seed", d)

    @property
    def S(self) -> int:
        return len(self.per_seed)

    @property
    def df(self) -> int:
        return self.S - 1

    @property
    def mean(self) -> float:
        return float(self.per_seed.mean())

    @property
    def se(self) -> float:
        """The standard error of the mean over seeds: their standard deviation (``ddof=1``) over ``sqrt(S)``."""
        return float(self.per_seed.std(ddof=1) / math.sqrt(self.S))

    @property
    def t(self) -> float:
        """``mean / se`` (``+-inf`` when the seeds agree exactly on a non-zero difference, 0 when all are 0)."""
        if self.se == 0.0:
            return 0.0 if self.mean == 0.0 else math.copysign(math.inf, self.mean)
        return self.mean / self.se

    def interval(self, false_alarm: float = SEED_FALSE_ALARM) -> tuple[float, float]:
        """``mean -+ t_{1-a, S-1} se``: each end is a one-sided bound at false-alarm ``a``; at ``a = 0.025`` the
        usual 95% interval."""
        m = _quantile(1.0 - false_alarm, self.df) * self.se
        return self.mean - m, self.mean + m

    def side(self, op: str, false_alarm: float = SEED_FALSE_ALARM) -> str:
        """``"confirmed"``, ``"refuted"`` or ``"undecided"``: where :meth:`interval` puts the claim ``E[d] op 0``."""
        return _side(*self.interval(false_alarm), op)

    def agree(self, op: str) -> int:
        """How many seeds' differences lie on the claimed side of 0 (``op`` one of ``<``, ``<=``, ``>``, ``>=``)."""
        d = self.per_seed
        return int({"<": d < 0, "<=": d <= 0, ">": d > 0, ">=": d >= 0}[op].sum())

    def sign_flip(self, op: str, draws: int = 1 << 16) -> float:
        """The distribution-free p-value of the claimed side: the share of the ``2^S`` sign patterns of ``|d_s|``
        (all of them up to ``S = 16``, else ``draws`` seeded draws) whose mean lies at least as far on the claimed
        side as the observed one. Exact under the hypothesis that each ``d_s`` is symmetric about 0.

        >>> Paired(np.array([-1.0, -2.0, -3.0])).sign_flip("<")          # 1 pattern of 8 is as extreme
        0.125
        """
        a = np.abs(self.per_seed)
        if self.S <= 16:
            signs = 1 - 2 * ((np.arange(1 << self.S)[:, None] >> np.arange(self.S)) & 1)
        else:
            signs = np.random.default_rng([self.S, 7]).choice([-1, 1], size=(draws, self.S))
        means = signs @ a / self.S
        tol = 1e-12 * max(1.0, float(a.max()))
        at_least = means <= self.mean + tol if op in ("<", "<=") else means >= self.mean - tol
        return float(at_least.mean())

    def text(self, digits: int = 3) -> str:
        """``mean [95% interval] ($t = ...$, df)``."""
        lo, hi = self.interval(0.025)
        t = f"{self.t:+.2f}" if math.isfinite(self.t) else ("+inf" if self.t > 0 else "-inf")
        return f"{self.mean:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}] ($t = {t}$, {self.df} df)"

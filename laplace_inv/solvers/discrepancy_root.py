"""The discrepancy α of global Tikhonov by root finding instead of a path.

The rule takes the largest α whose in-range misfit is within the target, and the target
rests on the best achievable fit (the α → 0 end). Rather than walking a 13-point α path
and bisecting, this search

1. solves the non-negative least-squares problem once (`nnls_active_set`): the best fit,
   the floor of the misfit, and the bins it uses;
2. steps in α with the closed form of unconstrained Tikhonov on the bins of the latest
   solution (`SupportModel`), which matches the non-negative misfit there in value and
   slope, safeguarded by regula falsi once the root is bracketed;
3. solves each α from the nearest solved one (the active-set method from its support,
   `tikhonov_active_set`, costs a few small factorisations).

It returns the solved points, or ``None`` when the problem is degenerate (no room between
the floor and the target, or NNLS hitting its cap), and the caller then walks the path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.alpha import PathPoint
from laplace_inv.solvers.nnls import nnls_gram

#: Stop when the misfit above the floor is within this fraction below its target.
MISFIT_RTOL = 0.01
#: ... or when the bracket on α is narrower than this factor minus one.
ALPHA_RTOL = 0.01
#: Most BRD solves before giving up on the root (the caller then walks the path).
MAX_SOLVES = 12


@dataclass
class BestFit:
    """The non-negative least-squares fit: the α → 0 end of the Tikhonov path."""

    F: np.ndarray
    misfit: float
    support: np.ndarray


def best_fit(op: CompressedOperator, S_c: np.ndarray) -> BestFit | None:
    """Non-negative least squares on the compressed problem; ``None`` at its cap.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> op = k.compress()
    >>> S_c = op.project(k.forward(np.eye(16)))
    >>> fit = best_fit(op, S_c)
    >>> bool(fit.misfit < 1e-6 * float(np.sum(S_c**2)))
    True
    """
    res = nnls_gram(op.gram_block, op.gram_apply, op.adjoint(S_c), max_add=32)
    if not res.converged:
        return None
    F = res.map
    r = op.forward(F) - S_c
    return BestFit(F, float(np.vdot(r, r)), F > 0)


class SupportModel:
    """The misfit of unconstrained Tikhonov on a fixed set of bins, as a function of α.

    With ``A_P`` the compressed kernel's columns for the bins and ``λₖ``, ``uₖ`` the
    eigenpairs of ``A_P A_Pᵀ``, the misfit exceeds its least-squares value on the bins by
    ``E(α) = Σ (α/(λₖ + α))² cₖ²``, ``cₖ = uₖᵀS̃``. At a solved α whose positive bins these
    are, the non-negative misfit and this model agree in value and slope (the optimality
    conditions are equalities on the support), so a step of the model is a Newton-like step
    of the root search. The eigenvalues come from the smaller of ``A_PᵀA_P`` (the Gram block,
    for few bins) and ``A_P A_Pᵀ`` (for many).

    Examples
    --------
    >>> op = CompressedOperator.from_matrices(np.diag([2.0, 1.0]), np.ones((1, 1)), 1e-12)
    >>> model = SupportModel(op, np.array([[2.0], [1.0]]), np.array([[True], [True]]))
    >>> round(model.excess(1.0), 6)  # (1/5)²·4 + (1/2)²·1 ... in the eigenbasis
    0.41
    """

    def __init__(self, op: CompressedOperator, S_c: np.ndarray, support: np.ndarray) -> None:
        idx = np.flatnonzero(np.asarray(support).ravel())
        self.lam = self.c2 = np.zeros(0)
        if not idx.size:
            return
        if idx.size <= S_c.size:
            lam, V = np.linalg.eigh(op.gram_block(idx))
            keep = lam > 1e-12 * max(float(lam[-1]), 1e-300)
            b = op.adjoint(S_c).ravel()[idx]
            self.lam = lam[keep]
            self.c2 = (V[:, keep].T @ b) ** 2 / self.lam
        else:
            rows, cols = np.divmod(idx, op.map_shape[1])
            A = (op.K1[:, None, rows] * op.K2[None, :, cols]).reshape(S_c.size, idx.size)
            lam, U = np.linalg.eigh(A @ A.T)
            keep = lam > 1e-12 * max(float(lam[-1]), 1e-300)
            self.lam = lam[keep]
            self.c2 = (U[:, keep].T @ S_c.ravel()) ** 2

    def excess(self, alpha: float) -> float:
        """``E(α)``."""
        return float(np.sum((alpha / (self.lam + alpha)) ** 2 * self.c2))

    def alpha_for(self, misfit0: float, alpha0: float, goal: float, bounds: tuple) -> float:
        """The α where ``misfit0 + E(α) − E(α0)`` reaches ``goal`` (bisection in log α)."""
        base = misfit0 - self.excess(alpha0)
        lo, hi = float(np.log(bounds[0])), float(np.log(bounds[1]))
        if base + self.excess(np.exp(hi)) <= goal:
            return float(np.exp(hi))
        if base + self.excess(np.exp(lo)) >= goal:
            return float(np.exp(lo))
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if base + self.excess(np.exp(mid)) < goal else (lo, mid)
        return float(np.exp(0.5 * (lo + hi)))


def discrepancy_root(
    solve: Callable[[float, PathPoint | None], PathPoint],
    op: CompressedOperator,
    S_c: np.ndarray,
    fit: BestFit,
    target: float,
    bounds: tuple[float, float],
) -> tuple[PathPoint, list[PathPoint]] | None:
    """The largest α in ``bounds`` whose misfit is within ``target`` (see module docstring).

    Parameters
    ----------
    solve : callable
        ``(α, nearest solved point or None) ↦ PathPoint``.
    op : CompressedOperator
        The compressed kernels.
    S_c : numpy.ndarray
        Compressed data.
    fit : BestFit
        The α → 0 fit (`best_fit`).
    target : float
        The in-range misfit target.
    bounds : tuple
        ``(α_min, α_max)``.

    Returns
    -------
    tuple or None
        The chosen point and every solved point, or ``None`` (degenerate problem, or no
        root within `MAX_SOLVES` solves).
    """
    gap = target - fit.misfit
    if not gap > 0:
        return None
    lo_lim, hi_lim = np.log(bounds[0]), np.log(bounds[1])
    points: list[tuple[float, float, PathPoint]] = []  # (log α, g, point)
    # Steps aim inside the accepted band, so that a step lands on the good side.
    aim = 0.5 * float(np.log1p(-MISFIT_RTOL))
    goal = fit.misfit + gap * float(np.exp(aim))
    latest = PathPoint(0.0, fit.F, fit.misfit, 0.0)
    for _ in range(MAX_SOLVES):
        model = SupportModel(op, S_c, latest.F > 0)
        log_a = float(np.log(model.alpha_for(latest.misfit, latest.alpha, goal, bounds)))
        lo, hi = _bracket(points)
        if lo is not None and hi is not None and not lo[0] < log_a < hi[0]:
            log_a = _secant_in_bracket(lo, hi, aim)
        nearest = min(points, key=lambda q: abs(q[0] - log_a))[2] if points else latest
        latest = solve(float(np.exp(log_a)), nearest)
        g = float(np.log(max(latest.misfit - fit.misfit, 1e-300 * gap)) - np.log(gap))
        points.append((log_a, g, latest))
        lo, hi = _bracket(points)
        solved = [q[2] for q in points]
        if lo is not None and (lo[1] >= np.log1p(-MISFIT_RTOL) or lo[0] >= hi_lim):
            return lo[2], solved
        if hi is not None and hi[0] <= lo_lim:
            return hi[2], solved
        if lo is not None and hi is not None and hi[0] - lo[0] < np.log1p(ALPHA_RTOL):
            return lo[2], solved
    return None


def _bracket(points: list) -> tuple:
    """The solved points closest to the root from below (g ≤ 0) and above (g > 0)."""
    good = [q for q in points if q[1] <= 0]
    bad = [q for q in points if q[1] > 0]
    lo = max(good, key=lambda q: q[0]) if good else None
    hi = min(bad, key=lambda q: q[0]) if bad else None
    return lo, hi


def _secant_in_bracket(lo: tuple, hi: tuple, aim: float) -> float:
    """Regula falsi for ``g = aim`` between ``lo`` (g ≤ 0) and ``hi`` (g > 0), off the ends."""
    width = hi[0] - lo[0]
    x = lo[0] + (aim - lo[1]) * width / (hi[1] - lo[1])
    return float(np.clip(x, lo[0] + 0.1 * width, hi[0] - 0.1 * width))

"""Global non-negative Tikhonov on the compressed problem: fixed α, or α by a rule.

``min_{F≥0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²``, solved by BRD dual Newton along a decreasing α
path (warm starts), or by projected FISTA for a fixed α.
"""

from __future__ import annotations

import logging

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.alpha import (
    PathPoint,
    default_alphas,
    gcv_values,
    lcurve_corner,
    refine_minimum,
    solve_path,
)
from laplace_inv.solvers.brd import brd_solve
from laplace_inv.solvers.discrepancy import discrepancy_target, largest_alpha_within
from laplace_inv.solvers.gradient import nonneg, projected_gradient
from laplace_inv.solvers.result import SolverResult, warn_not_converged

logger = logging.getLogger(__name__)

ALPHA_RULES = ("gcv", "lcurve", "discrepancy")


def tikhonov_fista(
    op: CompressedOperator,
    S_c: np.ndarray,
    alpha: float,
    *,
    max_iter: int = 20000,
    tol: float = 1e-7,
    F0: np.ndarray | None = None,
) -> SolverResult:
    """``min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²`` by projected FISTA with restart.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> op = k.compress()
    >>> res = tikhonov_fista(op, op.project(k.forward(np.eye(16))), 1e-3)
    >>> bool(res.converged), bool(res.map.min() >= 0)
    (True, True)
    """
    return nonneg_quadratic(op, S_c, lambda F: alpha * F, alpha, F0, max_iter, tol)


def nonneg_quadratic(
    op: CompressedOperator,
    S_c: np.ndarray,
    regulariser,
    reg_lipschitz: float,
    F0: np.ndarray | None = None,
    max_iter: int = 20000,
    tol: float = 1e-7,
) -> SolverResult:
    """``min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½⟨F, R(F)⟩`` by FISTA with adaptive restart.

    ``R`` (``regulariser``) is symmetric positive semi-definite with largest eigenvalue at
    most ``reg_lipschitz``. Starts from zeros by default (starting from ones leaves
    invisible bins unshrunk).
    """
    B = op.adjoint(S_c)
    F = np.zeros_like(B) if F0 is None else np.maximum(np.asarray(F0, dtype=float), 0.0)

    def gradient(Y: np.ndarray) -> np.ndarray:
        return op.gram_apply(Y) - B + regulariser(Y)

    return projected_gradient(
        gradient,
        nonneg,
        F,
        op.lipschitz + reg_lipschitz,
        steps="fista_restart",
        max_iter=max_iter,
        tol=tol,
    )


def global_tikhonov(
    op: CompressedOperator,
    S: np.ndarray,
    S_c: np.ndarray,
    alpha: str | float,
    *,
    alpha_grid: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
    noise_std: float | None = None,
) -> SolverResult:
    """Non-negative Tikhonov by BRD: α fixed, or chosen by GCV, the L-curve or discrepancy.

    Parameters
    ----------
    op : CompressedOperator
        The compressed kernels.
    S : numpy.ndarray
        The raw (normalised) data, for the out-of-range residual and the noise estimate.
    S_c : numpy.ndarray
        ``op.project(S)``.
    alpha : {"gcv", "lcurve", "discrepancy"} or float
        The rule, or α itself.
    alpha_grid : numpy.ndarray, optional
        Candidate α values; default `default_alphas`.
    max_iter : int
        Newton iteration cap per α.
    tol : float
        Relative dual-gradient tolerance.
    noise_std : float, optional
        Known noise level (same units as ``S``) for the discrepancy rule; estimated from the
        data outside the kernels' range when absent.

    Returns
    -------
    SolverResult
        ``info`` holds ``method``, ``alpha``, ``alpha_rule``, ``dof`` and, for a rule, the
        path (``alpha_path``, ``misfit_path``, ``norm_path``, ``dof_path``).
    """
    prob = op.pairs()
    s = prob.data(S_c)
    n_iter = 0

    def solve(a: float, warm) -> PathPoint:
        nonlocal n_iter
        res = brd_solve(prob, s, a, op.map_shape, c0=warm, max_iter=max_iter, tol=tol)
        if not res.converged:
            warn_not_converged("BRD (global Tikhonov)", res.iterations, tol)
        n_iter += res.iterations
        # Misfit over every compressed entry, the pairs BRD dropped included.
        r = op.forward(res.map) - S_c
        return PathPoint(a, res.map, float(np.vdot(r, r)), res.info["dof"], res.info["dual"])

    info: dict = {"method": "Tikhonov", "compressed_shape": op.shape, "dual_size": prob.m}
    if not isinstance(alpha, str):
        # Continuation: the dual Newton iteration converges reliably from the solution of a
        # 10x larger α, not from zero when α is many decades below the Lipschitz constant.
        warm = None
        a = 1e-2 * op.lipschitz
        while a > 10.0 * float(alpha):
            warm = solve(a, warm).warm
            a /= 10.0
        best = solve(float(alpha), warm)
        info["alpha_rule"] = "fixed"
    else:
        alphas = (
            default_alphas(op.lipschitz)
            if alpha_grid is None
            else np.sort(np.asarray(alpha_grid, float))[::-1]
        )
        points = solve_path(solve, alphas)
        best = _select(alpha, solve, points, op, S, noise_std, info)
        info.update(
            alpha_rule=alpha,
            alpha_path=np.array([p.alpha for p in points]),
            misfit_path=np.array([p.misfit for p in points]),
            norm_path=np.array([p.norm for p in points]),
            dof_path=np.array([p.dof for p in points]),
        )
    info.update(alpha=best.alpha, dof=best.dof, iterations=n_iter)
    logger.debug(
        "global Tikhonov: alpha=%.3g (%s), dof=%.1f, %d BRD iterations",
        best.alpha,
        info["alpha_rule"],
        best.dof,
        n_iter,
    )
    return SolverResult(best.F, n_iter, True, info)


def _select(
    rule: str,
    solve,
    points: list[PathPoint],
    op: CompressedOperator,
    S: np.ndarray,
    noise_std: float | None,
    info: dict,
) -> PathPoint:
    """Apply the α rule ``rule`` to a solved path (recording its figures in ``info``)."""
    if rule == "gcv":
        n = S.size
        out_sq = op.out_of_range_norm(S) ** 2
        values = gcv_values(points, n, out_sq)
        info["gcv"] = values
        return refine_minimum(solve, points, values, lambda p: gcv_values([p], n, out_sq)[0])
    if rule == "lcurve":
        return points[lcurve_corner(points)]
    # Residuals below ``max(nσ², best fit) + √(2n)σ²`` are statistically indistinguishable
    # (one standard deviation of χ²_n), so take the largest α that reaches it: Morozov's
    # rule, robust to a model-error floor.
    sigma = op.noise_std(S) if noise_std is None else float(noise_std)
    fixed_part = op.out_of_range_norm(S) ** 2
    best_total = min(p.misfit for p in points) + fixed_part
    target = discrepancy_target(S.size, sigma, fixed_part, floor=best_total, chi2_margin=True)
    info["noise_std_normalised"] = sigma
    return largest_alpha_within(solve, points, target)

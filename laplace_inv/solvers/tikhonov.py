"""Global non-negative Tikhonov on the compressed problem: fixed α, or α by a rule.

``min_{F≥0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²``, solved by BRD dual Newton along a decreasing α
path (warm starts), or by projected FISTA for a fixed α. The default rule, the discrepancy
principle, skips the path: the best fit (NNLS) gives the floor of the misfit, and a root
search in α with active-set solves started from the nearest solved support finds the α
(`laplace_inv.solvers.discrepancy_root`); an explicit ``alpha_grid`` walks the path.
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
from laplace_inv.solvers.brd import PositiveGram, brd_solve, degrees_of_freedom
from laplace_inv.solvers.discrepancy import discrepancy_target, largest_alpha_within
from laplace_inv.solvers.discrepancy_root import best_fit, discrepancy_root
from laplace_inv.solvers.gradient import nonneg, projected_gradient
from laplace_inv.solvers.result import SolverResult, warn_not_converged
from laplace_inv.solvers.tikhonov_active import tikhonov_active_set

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
        ``info`` holds ``method``, ``alpha``, ``alpha_rule``, ``dof``, ``converged`` (every
        solve met its tolerance before its cap) and, for a rule, the solved points
        (``alpha_path``, ``misfit_path``, ``norm_path``, ``dof_path``).
    """
    solves = _Solves(op, S_c, max_iter, tol)
    prob, solve = solves.prob, solves.brd
    info: dict = {"method": "Tikhonov", "compressed_shape": op.shape, "dual_size": prob.m}
    if not isinstance(alpha, str):
        best = solves.continuation(float(alpha))
        info["alpha_rule"] = "fixed"
    else:
        fast = None
        if alpha == "discrepancy" and alpha_grid is None:
            fast = _discrepancy_by_root(solves, S, noise_std, info)
        if fast is not None:
            best, points = fast
        else:
            alphas = (
                default_alphas(op.lipschitz)
                if alpha_grid is None
                else np.sort(np.asarray(alpha_grid, float))[::-1]
            )
            points = solve_path(solve, alphas)
            best = _select(alpha, solve, points, op, S, noise_std, info)
        points = sorted(points, key=lambda p: -p.alpha)
        info.update(
            alpha_rule=alpha,
            alpha_path=np.array([p.alpha for p in points]),
            misfit_path=np.array([p.misfit for p in points]),
            norm_path=np.array([p.norm for p in points]),
            dof_path=np.array([p.dof for p in points]),
        )
    n_iter = solves.iterations
    info.update(alpha=best.alpha, dof=best.dof, iterations=n_iter, converged=solves.converged)
    logger.debug(
        "global Tikhonov: alpha=%.3g (%s), dof=%.1f, %d iterations",
        best.alpha,
        info["alpha_rule"],
        best.dof,
        n_iter,
    )
    return SolverResult(best.F, n_iter, solves.converged, info)


class _Solves:
    """One α at a time on one problem: BRD (warm dual), continuation, or pivoting."""

    def __init__(self, op: CompressedOperator, S_c: np.ndarray, max_iter: int, tol: float):
        self.op, self.S_c, self.max_iter, self.tol = op, S_c, max_iter, tol
        self.prob = op.pairs()
        self.gram = PositiveGram(self.prob.K)
        self.s = self.prob.data(S_c)
        self.iterations = 0
        self.converged = True

    def point(self, a: float, F: np.ndarray, dof: float, dual: np.ndarray) -> PathPoint:
        # Misfit over every compressed entry, the pairs BRD dropped included.
        r = self.op.forward(F) - self.S_c
        return PathPoint(a, F, float(np.vdot(r, r)), dof, dual)

    def brd(self, a: float, warm) -> PathPoint:
        """BRD dual Newton from the dual ``warm`` (or zero)."""
        res = brd_solve(
            self.prob,
            self.s,
            a,
            self.op.map_shape,
            c0=warm,
            max_iter=self.max_iter,
            tol=self.tol,
            gram=self.gram,
        )
        if not res.converged:
            warn_not_converged("BRD (global Tikhonov)", res.iterations, self.tol)
            self.converged = False
        self.iterations += res.iterations
        return self.point(a, res.map, res.info["dof"], res.info["dual"])

    def continuation(self, a: float) -> PathPoint:
        """BRD at ``a`` along decades from ``1e-2·L``.

        The dual Newton iteration converges reliably from the solution of a 10x larger α,
        not from zero when α is many decades below the Lipschitz constant.
        """
        warm = None
        b = 1e-2 * self.op.lipschitz
        while b > 10.0 * a:
            warm = self.brd(b, warm).warm
            b /= 10.0
        return self.brd(a, warm)

    def near(self, a: float, near: PathPoint | None) -> PathPoint:
        """Solve at ``a`` from a nearby solution: the active-set method from its support when
        it is small (solves of its size), else BRD from its dual (or by continuation)."""
        if near is not None and 0 < int(np.count_nonzero(near.F > 0)) <= self.prob.m:
            res = tikhonov_active_set(
                self.op, self.S_c, a, near.F, max_support=self.prob.m, max_iter=self.max_iter
            )
            if res.converged:
                self.iterations += res.iterations
                F = res.map
                dual = (self.s - self.prob.K @ F.ravel()) / a
                return self.point(a, F, degrees_of_freedom(self.prob.K[:, F.ravel() > 0], a), dual)
        if near is not None and near.warm is not None:
            return self.brd(a, near.warm)
        return self.continuation(a)


def _discrepancy_by_root(
    solves: _Solves, S: np.ndarray, noise_std: float | None, info: dict
) -> tuple[PathPoint, list[PathPoint]] | None:
    """The discrepancy rule by NNLS and root finding (`discrepancy_root`); ``None``: walk."""
    op = solves.op
    fit = best_fit(op, solves.S_c)
    if fit is None:
        return None
    sigma = op.noise_std(S) if noise_std is None else float(noise_std)
    fixed_part = op.out_of_range_norm(S) ** 2
    target = discrepancy_target(
        S.size, sigma, fixed_part, floor=fit.misfit + fixed_part, chi2_margin=True
    )
    alphas = default_alphas(op.lipschitz)
    found = discrepancy_root(solves.near, op, solves.S_c, fit, target, (alphas[-1], alphas[0]))
    if found is not None:
        info.update(noise_std_normalised=sigma, best_fit_misfit=fit.misfit)
    return found


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

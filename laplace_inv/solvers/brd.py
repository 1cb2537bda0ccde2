"""Butler–Reeds–Dawson (1981) dual Newton solver for non-negative Tikhonov.

Primal: ``min_{f ≥ 0} ½‖K f − s‖² + ½α‖f‖²`` on the compressed problem, with ``K`` the
Kronecker pairs ``K̃1 ⊗ K̃2`` whose singular-value products are significant. Its dual
is the smooth, strictly convex problem in ``c ∈ R^m``

    χ(c) = ½‖max(0, Kᵀc)‖² + ½α‖c‖² − cᵀs,       f = max(0, Kᵀc),

minimised here by Newton's method with backtracking. ``m`` is a few hundred, so each step
is one ``m × m`` Cholesky factorisation, and its iteration count does not depend on the
conditioning. GCV's degrees of freedom are ``df = tr(M(M + αI)⁻¹)`` with ``M = K_P K_Pᵀ`` on
the positive bins.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from laplace_inv.operator import PairProblem
from laplace_inv.solvers.result import SolverResult


def brd_solve(
    prob: PairProblem,
    s: np.ndarray,
    alpha: float,
    map_shape: tuple[int, int],
    c0: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> SolverResult:
    """Solve the non-negative Tikhonov problem for one α by dual Newton.

    Parameters
    ----------
    prob : PairProblem
        Kept pairs of the compressed kernel.
    s : numpy.ndarray, shape (m,)
        Compressed data on the kept pairs.
    alpha : float
        Regularisation weight (> 0).
    map_shape : tuple
        ``(N1, N2)``.
    c0 : numpy.ndarray, optional
        Warm start for the dual variable.
    max_iter : int
        Newton iteration cap.
    tol : float
        Stop when ``‖∇χ‖ ≤ tol·‖s‖``.

    Returns
    -------
    SolverResult
        ``map`` (shape ``map_shape``), Newton ``iterations``, ``converged``, and ``info``
        with ``dual`` (the dual variable, a warm start for the next α) and ``dof`` (GCV's
        degrees of freedom).

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> comp = k.compress()
    >>> prob = comp.pairs()
    >>> s = prob.data(comp.project(k.forward(np.eye(16))))
    >>> res = brd_solve(prob, s, 1e-3, (16, 16))
    >>> bool(res.converged), bool(res.map.min() >= 0)
    (True, True)
    """
    K = prob.K
    m = prob.m
    c = np.zeros(m) if c0 is None else np.asarray(c0, float).copy()
    s_norm = max(float(np.linalg.norm(s)), 1e-300)

    def chi(c_: np.ndarray) -> tuple[float, np.ndarray]:
        f_ = np.maximum(K.T @ c_, 0.0)
        return 0.5 * float(f_ @ f_) + 0.5 * alpha * float(c_ @ c_) - float(c_ @ s), f_

    val, f = chi(c)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        grad = K @ f + alpha * c - s
        if float(np.linalg.norm(grad)) <= tol * s_norm:
            converged = True
            it -= 1
            break
        positive = f > 0
        Kp = K[:, positive]
        H = Kp @ Kp.T
        H[np.diag_indices(m)] += alpha
        factor = cho_factor(H, lower=True, check_finite=False)
        step = -cho_solve(factor, grad, check_finite=False)
        slope = float(grad @ step)
        t = 1.0
        for _ in range(30):
            new_val, new_f = chi(c + t * step)
            if new_val <= val + 1e-4 * t * slope:
                break
            t *= 0.5
        c = c + t * step
        val, f = new_val, new_f
    dof = degrees_of_freedom(K[:, f > 0], alpha)
    return SolverResult(f.reshape(map_shape), it, converged, {"dual": c, "dof": dof})


def degrees_of_freedom(Kp: np.ndarray, alpha: float) -> float:
    """``tr(M(M + αI)⁻¹) = Σ λ/(λ + α)`` over the eigenvalues of ``M = K_P K_Pᵀ``.

    ``K_P`` holds the columns of the positive bins; the non-zero eigenvalues of ``K_P K_Pᵀ``
    and ``K_Pᵀ K_P`` agree, so the smaller Gram matrix is used.

    Examples
    --------
    >>> round(degrees_of_freedom(np.eye(3)[:, :2], 1.0), 6)
    1.0
    """
    gram = Kp.T @ Kp if Kp.shape[1] < Kp.shape[0] else Kp @ Kp.T
    lam = np.maximum(np.linalg.eigvalsh(gram), 0.0) if gram.size else np.zeros(0)
    return float(np.sum(lam / (lam + alpha)))

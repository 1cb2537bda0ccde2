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
from scipy.linalg.blas import dsyrk

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
    gram: PositiveGram | None = None,
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
    gram : PositiveGram, optional
        The Newton matrix tracker of ``prob.K``, shared by the solves of one problem at
        several α (their supports overlap); default: a new one.

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
    if gram is None or gram.K is not K:
        gram = PositiveGram(K)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        grad = K @ f + alpha * c - s
        if float(np.linalg.norm(grad)) <= tol * s_norm:
            converged = True
            it -= 1
            break
        H = gram.update(f > 0)
        H[np.diag_indices(m)] += alpha
        factor = cho_factor(H, lower=True, check_finite=False, overwrite_a=True)
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
    dof = degrees_of_freedom_from_gram(gram.update(f > 0), alpha)
    return SolverResult(f.reshape(map_shape), it, converged, {"dual": c, "dof": dof})


class PositiveGram:
    """``K_P K_Pᵀ`` (lower triangle) for a changing set ``P`` of columns of ``K``.

    Newton steps change the positive bins little once near the solution, so the matrix is
    updated by the columns that enter and leave (``±K_a K_aᵀ``, symmetric rank-k updates),
    which costs ``m²`` per changed column instead of ``m²`` per positive one. It is formed
    anew when more columns change than stay, and every `REFRESH` updates against drift.

    Parameters
    ----------
    K : numpy.ndarray, shape (m, n)
        The columns.

    Examples
    --------
    >>> K = np.arange(12.0).reshape(3, 4)
    >>> g = PositiveGram(K)
    >>> P = np.array([True, False, True, True])
    >>> np.allclose(np.tril(g.update(P)), np.tril(K[:, P] @ K[:, P].T))
    True
    >>> Q = np.array([False, True, True, True])
    >>> np.allclose(np.tril(g.update(Q)), np.tril(K[:, Q] @ K[:, Q].T))
    True
    """

    #: Incremental updates between two full formations.
    REFRESH = 8

    def __init__(self, K: np.ndarray) -> None:
        self.K = K
        self.positive: np.ndarray | None = None
        self.lower = np.zeros((K.shape[0], K.shape[0]))
        self.updates = 0

    def update(self, positive: np.ndarray) -> np.ndarray:
        """The lower triangle of ``K_P K_Pᵀ`` for the boolean mask ``positive`` (a copy)."""
        positive = np.asarray(positive, dtype=bool)
        old = self.positive
        if old is not None and np.array_equal(old, positive):
            return self.lower.copy()
        known = old if old is not None else np.zeros_like(positive)
        entered, left = positive & ~known, known & ~positive
        changed = int(entered.sum() + left.sum())
        if old is None or changed > int(positive.sum()) or self.updates >= self.REFRESH:
            self.lower = self._syrk(positive, 1.0, 0.0, np.zeros_like(self.lower))
            self.updates = 0
        else:
            self.lower = self._syrk(entered, 1.0, 1.0, self.lower)
            self.lower = self._syrk(left, -1.0, 1.0, self.lower)
            self.updates += 1
        self.positive = positive
        return self.lower.copy()

    def _syrk(self, mask: np.ndarray, weight: float, keep: float, c: np.ndarray) -> np.ndarray:
        if not mask.any():
            return c if keep else np.zeros_like(c)
        cols = self.K[:, mask]  # a C-ordered copy: its transpose is Fortran-ordered
        # dsyrk with trans=1 on the (n_cols, m) transpose view: cols colsᵀ, no copy.
        return dsyrk(weight, cols.T, beta=keep, c=c, trans=1, lower=1, overwrite_c=1)


def degrees_of_freedom_from_gram(lower: np.ndarray, alpha: float) -> float:
    """``Σ λ/(λ + α)`` over the eigenvalues of ``M = K_P K_Pᵀ`` given its lower triangle.

    Examples
    --------
    >>> round(degrees_of_freedom_from_gram(np.diag([1.0, 1.0, 0.0]), 1.0), 6)
    1.0
    """
    lam = np.maximum(np.linalg.eigvalsh(lower, UPLO="L"), 0.0) if lower.size else np.zeros(0)
    return float(np.sum(lam / (lam + alpha)))


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
    return degrees_of_freedom_from_gram(gram, alpha)

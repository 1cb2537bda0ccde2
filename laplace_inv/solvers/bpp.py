"""Fixed-weight UPEN subproblem: a strictly convex QP solved by block principal pivoting.

For fixed local weights λ the UPEN problem is ``½FᵀHF − BᵀF`` over ``F ≥ 0`` with
``H = K̃1ᵀK̃1 ⊗ K̃2ᵀK̃2 + Lᵀ diag(λ) L`` positive definite: a linear complementarity problem
with a P-matrix. Block principal pivoting (Júdice & Pires 1994; Kim & Park 2011) solves
``H_PP F_P = B_P`` exactly on a passive set ``P`` and exchanges all KKT violators at once.
The data part of ``H_PP`` is the element-wise product of Gram sub-matrices
``G1[I, I'] ⊙ G2[J, J']`` (no ``N1N2 × N1N2`` matrix is formed) and the penalty part the
sparse ``L_{:,P}ᵀ diag(λ) L_{:,P}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.ndimage import maximum_filter

from laplace_inv.operator import CompressedOperator
from laplace_inv.operator.forms import laplacian

#: Largest free set solved by a dense Cholesky factorisation; larger ones use PCG.
MAX_DENSE = 2500
#: Most bins entering the passive set in one exchange.
MAX_ENTER = 400
#: Exchange cap of the first inner solve (its λ comes from the unregularised start and
#: is discarded after one solve, so it need not be exact).
FIRST_SOLVE_CAP = 20
#: Armijo sufficient-decrease constant.
ARMIJO = 1e-4
#: Relative KKT tolerance: a zero bin is a violator if ∇ < −KKT_RTOL·max|K̃ᵀS̃K̃|.
KKT_RTOL = 1e-7
#: A capped pivoting run still counts as converged if ‖min(F, ∇)‖ ≤ INNER_RTOL·‖K̃ᵀS̃K̃‖.
INNER_RTOL = 1e-6


def slope_curvature(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope ``p = √(px² + py²)`` (forward differences, zero outside) and curvature ``|LF|``.

    An axis of one bin has no slope along it.
    """
    px = np.diff(F, axis=0, append=0.0) if F.shape[0] > 1 else np.zeros_like(F)
    py = np.diff(F, axis=1, append=0.0) if F.shape[1] > 1 else np.zeros_like(F)
    return np.sqrt(px * px + py * py), np.abs(laplacian(F))


def upen_weights(
    F: np.ndarray, R2: float, beta0: float, beta_p: float, beta_c: float
) -> np.ndarray:
    """UPEN's local weights ``λ = R²/(β0 + βp·p̂² + βc·ĉ²)`` with 3 × 3-max-filtered p, c.

    ``beta0`` here is the *effective* (already scaled) constant.

    Examples
    --------
    >>> lam = upen_weights(np.zeros((4, 4)), 2.0, 1.0, 1.0, 1.0)
    >>> lam.shape, float(lam.max())
    ((4, 4), 2.0)
    """
    p, c = slope_curvature(F)
    p = maximum_filter(p, size=3, mode="constant")
    c = maximum_filter(c, size=3, mode="constant")
    return R2 / (beta0 + beta_p * p * p + beta_c * c * c)


@dataclass
class _Quadratic:
    """``½‖K̃1 F K̃2ᵀ − S̃‖² + ½ Σ λ (LF)²`` with its gradient and reduced Hessians."""

    comp: CompressedOperator
    S_c: np.ndarray
    lam: np.ndarray
    Lmat: sp.csc_matrix
    B: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.B = self.comp.adjoint(self.S_c)

    def value(self, F: np.ndarray) -> float:
        r = self.comp.forward(F) - self.S_c
        LF = laplacian(F)
        return 0.5 * float(np.vdot(r, r)) + 0.5 * float(np.vdot(LF, self.lam * LF))

    def grad(self, F: np.ndarray) -> np.ndarray:
        return self.comp.gram_apply(F) - self.B + laplacian(self.lam * laplacian(F))

    def hess_apply(self, V: np.ndarray) -> np.ndarray:
        return self.comp.gram_apply(V) + laplacian(self.lam * laplacian(V))

    def hess_diag(self) -> np.ndarray:
        d = np.outer(np.diag(self.comp.gram1), np.diag(self.comp.gram2))
        # diag(Lᵀ Λ L)_k = Σ_i λ_i L_ik².
        pen = self.Lmat.multiply(self.Lmat).T @ self.lam.ravel()
        return d + np.asarray(pen).reshape(self.lam.shape)

    def reduced_hessian(self, free: np.ndarray) -> np.ndarray:
        n2 = self.lam.shape[1]
        idx = np.flatnonzero(free.ravel())
        rows, cols = np.divmod(idx, n2)
        H = self.comp.gram1[np.ix_(rows, rows)] * self.comp.gram2[np.ix_(cols, cols)]
        Lf = self.Lmat[:, idx]
        pen = (Lf.T @ sp.diags(self.lam.ravel()) @ Lf).toarray()
        return H + pen


@dataclass
class InnerResult:
    """Outcome of one fixed-λ solve."""

    F: np.ndarray
    iterations: int
    factorizations: int
    converged: bool


def solve_bpp(
    q: _Quadratic,
    F0: np.ndarray,
    max_iter: int = 100,
    max_dense: int = MAX_DENSE,
    max_enter: int = MAX_ENTER,
) -> InnerResult:
    """Block principal pivoting (Júdice & Pires 1994; Kim & Park 2011) for ``min_{F≥0} q``.

    ``q`` is a strictly convex quadratic, ``½FᵀHF − BᵀF`` with ``H`` positive definite, so the
    KKT conditions form a linear complementarity problem with a P-matrix and block principal
    pivoting converges finitely. Each iteration solves the reduced system ``H_PP F_P = B_P``
    exactly on the passive set ``P`` (dense Cholesky), then moves *every* infeasible variable
    (``F_P < 0``, or a zero bin with negative gradient) across at once; after three
    exchanges that do not reduce the number of infeasibilities it falls back to Murty's
    single-variable rule, which guarantees termination. Warm-started from the previous
    outer iteration's support it needs a handful of factorisations.

    At most ``max_enter`` bins enter per exchange (the most violated first) and the passive
    set never exceeds ``max_dense`` bins, which bounds the cost of a factorisation. At the
    iteration cap the best projected iterate (lowest objective) is returned with
    ``converged=False``.

    Parameters
    ----------
    q : _Quadratic
        The fixed-λ objective.
    F0 : numpy.ndarray
        Warm start; its support is the first passive set (its ``max_enter`` largest bins if
        larger).
    max_iter : int
        Cap on exchanges (one factorisation each).
    max_dense : int
        Largest passive set solved densely.
    max_enter : int
        Largest number of variables exchanged in one block-pivoting step.

    Returns
    -------
    InnerResult
    """
    passive = F0 > 0
    if int(passive.sum()) > max_enter:
        # A spiky warm start (the unregularised map) has a huge support: start from its
        # largest bins instead; pivoting adds whatever else the KKT conditions ask for.
        thresh = np.partition(F0.ravel(), -max_enter)[-max_enter]
        passive = F0 >= max(thresh, np.finfo(float).tiny)
    kkt_tol = KKT_RTOL * max(float(np.abs(q.B).max()), 1e-300)
    n_best = passive.size + 1
    chances = 3
    it = 0
    best_F, best_val = np.maximum(F0, 0.0), q.value(np.maximum(F0, 0.0))
    for it in range(1, max_iter + 1):
        n_p = int(passive.sum())
        F = np.zeros_like(F0)
        if n_p:
            H = q.reduced_hessian(passive)
            try:
                fac = cho_factor(H, check_finite=False)
            except LinAlgError:
                H[np.diag_indices_from(H)] += 1e-12 * float(np.trace(H)) / n_p
                fac = cho_factor(H, check_finite=False)
            F[passive] = cho_solve(fac, q.B[passive], check_finite=False)
        g = q.grad(F)
        x_tol = 1e-9 * max(float(np.abs(F).max()), 1e-300)
        infeasible = (passive & (F < -x_tol)) | (~passive & (g < -kkt_tol))
        n_inf = int(infeasible.sum())
        if n_inf == 0:
            return InnerResult(np.maximum(F, 0.0), it, it, True)
        F_proj = np.maximum(F, 0.0)
        val = q.value(F_proj)
        if val < best_val:
            best_F, best_val = F_proj, val
        leaving = passive & infeasible
        entering = infeasible & ~passive
        room = min(max_enter, max_dense - (n_p - int(leaving.sum())))
        if int(entering.sum()) > room:
            # Admit the most violated bins first.
            idx = np.flatnonzero(entering.ravel())
            keep = idx[np.argsort(g.ravel()[idx])[: max(room, 0)]]
            entering = np.zeros_like(entering)
            entering.flat[keep] = True
            infeasible = leaving | entering
        if not infeasible.any():
            break  # no room left for the violators: keep the best iterate (capped)
        if n_inf < n_best:
            n_best, chances = n_inf, 3
            passive ^= infeasible
        elif chances > 0:
            chances -= 1
            passive ^= infeasible
        else:
            k = int(np.flatnonzero(infeasible.ravel())[-1])
            passive.flat[k] = not passive.flat[k]
    # Capped: accept the best projected iterate if its projected gradient is negligible.
    pg = np.minimum(best_F, q.grad(best_F))
    ok = float(np.linalg.norm(pg)) <= INNER_RTOL * max(float(np.linalg.norm(q.B)), 1e-300)
    return InnerResult(best_F, it, it, ok)

"""Projected FISTA for non-negative, quadratically regularised problems on compressed data.

Solves ``min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½⟨F, R(F)⟩`` where ``R`` is a symmetric positive
semi-definite linear operator (``αI`` for global Tikhonov, ``Lᵀ diag(λ) L`` for UPEN). The
gradient uses the Gram form ``K̃1ᵀK̃1 F K̃2ᵀK̃2 − K̃1ᵀ S̃ K̃2 + R(F)`` (FLINT, Teal & Eccles
2015), so one iteration costs two small matrix products whatever the raw data size.

Why FISTA rather than BRD: the primal iteration never forms the (r1·r2)² dual Hessian, works
unchanged for any quadratic penalty (UPEN's local weights included), and warm-starts cheaply
along an α path. Adaptive restart (O'Donoghue & Candès 2015) keeps it fast on the
ill-conditioned small-α end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laplace_inv.kernels import CompressedProblem

Regulariser = Callable[[np.ndarray], np.ndarray]


@dataclass
class FistaResult:
    """Solution and diagnostics of :func:`nonneg_fista`."""

    F: np.ndarray
    n_iter: int
    converged: bool


def nonneg_fista(
    comp: CompressedProblem,
    S_c: np.ndarray,
    regulariser: Regulariser,
    reg_lipschitz: float,
    F0: np.ndarray | None = None,
    max_iter: int = 20000,
    tol: float = 1e-7,
) -> FistaResult:
    """Minimise ``½‖K̃1 F K̃2ᵀ − S̃‖² + ½⟨F, R(F)⟩`` over ``F ≥ 0``.

    Parameters
    ----------
    comp : CompressedProblem
        The compressed kernels.
    S_c : numpy.ndarray, shape (r1, r2)
        Compressed data.
    regulariser : callable
        ``F ↦ R(F)``, symmetric positive semi-definite.
    reg_lipschitz : float
        An upper bound on the largest eigenvalue of ``R``.
    F0 : numpy.ndarray, optional
        Starting map (default zeros: starting from ones leaves invisible bins unshrunk).
    max_iter : int
        Iteration cap.
    tol : float
        Stop when ``‖F_k − F_{k−1}‖ ≤ tol·max(‖F_k‖, tiny)``.

    Returns
    -------
    FistaResult

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> comp = k.compress()
    >>> S_c = comp.project(k.forward(np.eye(16)))
    >>> res = nonneg_fista(comp, S_c, lambda F: 1e-3 * F, 1e-3)
    >>> bool(res.converged), bool(res.F.min() >= 0)
    (True, True)
    """
    B = comp.adjoint(S_c)
    step = 1.0 / (comp.lipschitz + reg_lipschitz)
    F = np.zeros_like(B) if F0 is None else np.maximum(np.asarray(F0, dtype=float), 0.0)
    Y = F.copy()
    t = 1.0
    for k in range(1, max_iter + 1):
        grad = comp.gram_apply(Y) - B + regulariser(Y)
        F_new = np.maximum(Y - step * grad, 0.0)
        diff = F_new - F
        # Gradient-based adaptive restart: drop momentum when it points uphill.
        if np.vdot(Y - F_new, diff) > 0:
            t = 1.0
            Y = F_new
        else:
            t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            Y = F_new + ((t - 1.0) / t_new) * diff
            t = t_new
        F = F_new
        norm = np.linalg.norm(F)
        if np.linalg.norm(diff) <= tol * max(norm, 1e-300):
            return FistaResult(F, k, True)
    return FistaResult(F, max_iter, False)

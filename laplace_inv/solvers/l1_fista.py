"""FISTA for the non-negative L1 (and elastic-net) problem: an independent cross-check of cvxpy.

Solves, on the SVD-compressed problem,

    min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²

with the shrink-then-project step ``F ← max(0, Y − (∇(Y) + α)/L)``, which is the exact
proximal map of ``α‖F‖₁ + indicator(F ≥ 0)`` (Beck & Teboulle 2009), run by the shared
`laplace_inv.solvers.gradient.projected_gradient`. The gradient uses the
Gram form ``K̃1ᵀK̃1 Y K̃2ᵀK̃2 − K̃1ᵀS̃K̃2`` (FLINT) and ``L = λmax(K̃1ᵀK̃1)·λmax(K̃2ᵀK̃2) + l2``.

The problem is severely ill-conditioned (``L`` is about 1e7 on the cement layout while the
curvature along the map's support is orders of magnitude smaller), so FISTA needs tens of
thousands of iterations to agree with an interior-point solution to 1e-3 in objective. That is
fine for a cross-check; it is why the production path is cvxpy.
"""

from __future__ import annotations

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.gradient import projected_gradient, shrink_nonneg
from laplace_inv.solvers.result import SolverResult, warn_not_converged

__all__ = ["duality_gap", "l1_fista", "l1_objective"]


def l1_objective(
    comp: CompressedOperator, S_c: np.ndarray, F: np.ndarray, alpha: float, l2: float = 0.0
) -> float:
    """``½‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖₁ + ½·l2·‖F‖²`` on the compressed problem.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 8),
    ...                          np.geomspace(1e-3, 1, 10), n_grid=6)
    >>> comp = k.compress()
    >>> l1_objective(comp, comp.project(np.zeros((8, 10))), np.zeros((6, 6)), 0.01)
    0.0
    """
    return _primal(comp.forward(F) - S_c, F, alpha, l2)


def _primal(R: np.ndarray, F: np.ndarray, alpha: float, l2: float) -> float:
    """The objective from the residual ``R = K̃1 F K̃2ᵀ − S̃`` (shared by the gap)."""
    return float(0.5 * np.sum(R * R) + alpha * np.sum(np.abs(F)) + 0.5 * l2 * np.sum(F * F))


def duality_gap(
    comp: CompressedOperator, S_c: np.ndarray, F: np.ndarray, alpha: float, l2: float = 0.0
) -> tuple[float, float]:
    """Primal value at ``F`` and a dual lower bound on the optimum.

    The dual of the problem is ``max_y −½‖y‖² − ⟨S̃, y⟩ − ‖(−α − K̃1ᵀyK̃2)₊‖²/(2·l2)``; for
    ``l2 = 0`` the last term becomes the constraint ``K̃1ᵀyK̃2 ≥ −α``. The residual
    ``y = K̃1FK̃2ᵀ − S̃`` (scaled into the feasible set when ``l2 = 0``) gives the bound, so
    ``primal − dual ≥ primal − optimum``.

    Returns
    -------
    primal, dual : float

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 8),
    ...                          np.geomspace(1e-3, 1, 10), n_grid=6)
    >>> comp = k.compress()
    >>> S_c = comp.forward(np.eye(6))
    >>> p, d = duality_gap(comp, S_c, np.zeros((6, 6)), 0.01)
    >>> p >= d
    True
    """
    R = comp.forward(F) - S_c
    primal = _primal(R, F, alpha, l2)
    g = comp.adjoint(R)
    if l2 > 0:
        Y = R
        viol = np.maximum(-alpha - g, 0.0)
        penalty = float(np.sum(viol * viol)) / (2.0 * l2)
    else:
        worst = float(-g.min())
        scale = 1.0 if worst <= alpha else alpha / worst
        Y = scale * R
        penalty = 0.0
    dual = float(-0.5 * np.sum(Y * Y) - np.sum(S_c * Y)) - penalty
    return primal, dual


def l1_fista(
    comp: CompressedOperator,
    S_c: np.ndarray,
    alpha: float,
    l2: float = 0.0,
    max_iter: int = 50_000,
    tol: float = 1e-8,
    F0: np.ndarray | None = None,
) -> SolverResult:
    """Non-negative L1 / elastic-net inversion by FISTA with a shrink-then-project step.

    Parameters
    ----------
    comp : CompressedOperator
        The compressed problem (``Kernel2D.compress``).
    S_c : numpy.ndarray
        Compressed data ``U1ᵀ S U2``, shape ``comp.shape``.
    alpha : float
        L1 weight (≥ 0).
    l2 : float
        Elastic-net ridge weight (≥ 0): adds ``½·l2·‖F‖²``.
    max_iter : int
        Iteration cap; reaching it emits a ``ConvergenceWarning``.
    tol : float
        Stop when ``‖F_k − F_{k−1}‖ ≤ tol·‖F_k‖``. A tiny step of ``1/L`` makes this test
        strict: the default 1e-8 is needed for 1e-3 agreement in objective.
    F0 : numpy.ndarray, optional
        Warm start (projected onto ``F ≥ 0``); zeros by default (FLINT's advice).

    Returns
    -------
    SolverResult
        The map (shape ``(N1, N2)``, non-negative) and the iterations performed.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> comp = k.compress()
    >>> F_true = np.zeros((8, 8)); F_true[3, 4] = 1.0
    >>> F = l1_fista(comp, comp.forward(F_true), alpha=1e-3).map
    >>> bool(F.min() >= 0), int(np.argmax(F)) == 3 * 8 + 4
    (True, True)
    """
    alpha = float(alpha)
    l2 = float(l2)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}")
    if not np.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be finite and >= 0, got {l2!r}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    S_c = np.asarray(S_c, dtype=float)
    if S_c.shape != comp.shape:
        raise ValueError(f"S_c must have shape {comp.shape}, got {S_c.shape}")
    N1, N2 = comp.map_shape
    KtS = comp.adjoint(S_c)
    lipschitz = comp.lipschitz + l2
    if F0 is None:
        F = np.zeros((N1, N2))
    else:
        F = np.maximum(np.asarray(F0, dtype=float).reshape(N1, N2), 0.0)

    def gradient(Y: np.ndarray) -> np.ndarray:
        G = comp.gram_apply(Y) - KtS
        if l2:
            G += l2 * Y
        return G

    res = projected_gradient(
        gradient,
        shrink_nonneg(alpha * (1.0 / lipschitz)),
        F,
        lipschitz,
        steps="fista",
        max_iter=int(max_iter),
        tol=tol,
    )
    if not res.converged:
        warn_not_converged("fista_l1", res.iterations, tol)
    return res

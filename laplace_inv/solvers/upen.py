"""2DUPEN: non-negative Tikhonov with locally adapted Laplacian weights.

Bortolotti, Brown, Fantazzini, Landi, Zama, *Inverse Problems* 33 (2017) 015003, on the
SVD-compressed problem:

    min_{F ≥ 0}  ½‖K̃1 F K̃2ᵀ − S̃‖² + ½ Σ_i λ_i (L F)_i²

* **Laplacian.** The 5-point 2D Laplacian in index space with zero (Dirichlet) boundary
  values, so ``Lᵀ diag(λ) L`` is positive definite for positive λ and mass piled on the
  grid edges is charged. On a 1D map (a singleton second axis) it is the 1D second
  difference (`laplace_inv.operator.forms.laplacian`): the 5-point stencil there would
  charge the map's own value and its weights cycle instead of converging.
* **Weights.** ``λ_i = R² / (β0 + βp·p̂_i² + βc·ĉ_i²)``: ``p`` the slope, ``c = |L F|`` the
  curvature, ``p̂, ĉ`` their 3 × 3 maxima and ``R²`` the full-data residual per bin (the
  in-range compressed residual plus the out-of-range part). With a known noise level the
  residual is replaced by its expected value ``n·σ²``. β00 plays β0's role for the first
  weights, computed from the unregularised start (whose slope and curvature are noise).
* **Start.** Unregularised projected gradient with Barzilai–Borwein steps from zero.
* **Inner solve.** Block principal pivoting (`laplace_inv.solvers.bpp`), warm-started.
* **Outer loop.** Recompute λ from the new map and re-solve until
  ``‖F − F_old‖/‖F‖ ≤ upen_tol``.
"""

from __future__ import annotations

import time

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.operator.forms import laplacian_matrix
from laplace_inv.solvers.bpp import FIRST_SOLVE_CAP, _Quadratic, solve_bpp, upen_weights
from laplace_inv.solvers.gradient import nonneg, projected_gradient
from laplace_inv.solvers.result import SolverResult, warn_not_converged


def bb_start(
    op: CompressedOperator, S_c: np.ndarray, max_iter: int = 100, tol: float = 1e-6
) -> tuple[np.ndarray, int]:
    """Unregularised projected gradient with Barzilai–Borwein steps, from ``max(B/L, 0)``.

    Returns the map and the number of iterations. The unregularised problem is ill-posed, so
    this is a start, not a solution: it stops at ``max_iter`` without a warning.
    """
    B = op.adjoint(S_c)
    F0 = np.maximum(B / op.lipschitz, 0.0)

    def gradient(F: np.ndarray) -> np.ndarray:
        return op.gram_apply(F) - B

    res = projected_gradient(
        gradient, nonneg, F0, op.lipschitz, steps="bb", max_iter=max_iter, tol=tol
    )
    return res.map, res.iterations


def upen_solve(
    op: CompressedOperator,
    S_c: np.ndarray,
    *,
    beta00: float = 1.0,
    beta0: float = 1e-4,
    beta_p: float = 1e-5,
    beta_c: float = 0.1,
    upen_tol: float = 1e-3,
    upen_max_iter: int = 100,
    max_iter: int = 100,
    start_iter: int = 100,
    out_of_range2: float = 0.0,
    noise_energy: float | None = None,
) -> SolverResult:
    """Run 2DUPEN on compressed data.

    Parameters
    ----------
    op : CompressedOperator
        The compressed kernels.
    S_c : numpy.ndarray
        Compressed (normalised) data, shape ``op.shape``.
    beta00 : float
        β0 of the first weights (from the unregularised start).
    beta0 : float
        Constant compliance term of later weights.
    beta_p : float
        Slope compliance.
    beta_c : float
        Curvature compliance.
    upen_tol : float
        Outer-loop tolerance on ``‖F − F_old‖/‖F‖``.
    upen_max_iter : int
        Outer-loop iteration cap.
    max_iter : int
        Exchange cap of each inner (block pivoting) solve.
    start_iter : int
        Iteration cap of the Barzilai–Borwein start.
    out_of_range2 : float
        ``‖S‖² − ‖S̃‖²``: the squared data norm no map can explain, added to the compressed
        residual so that ``R²`` is the full-data residual per bin.
    noise_energy : float, optional
        ``n·σ²`` for a known noise level: used as the residual in ``R²`` instead of the
        map's own residual.

    Returns
    -------
    SolverResult
        ``iterations`` counts outer iterations; ``info`` holds ``method``,
        ``outer_iterations``, ``inner_iterations``, ``factorizations``,
        ``inner_not_converged``, ``start_iterations``, ``lambda`` (the final weight
        field), the β values, ``R2`` (the map's full-data residual per bin), ``R2_start``
        (the one of the first weights), ``converged`` and ``time_s``.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> op = k.compress()
    >>> F = np.zeros((16, 16)); F[8, 8] = 1.0
    >>> res = upen_solve(op, op.project(k.forward(F)))
    >>> res.converged, int(np.argmax(res.map)) == 8 * 16 + 8
    (True, True)
    """
    t0 = time.perf_counter()
    N1, N2 = op.map_shape
    N = N1 * N2
    oor2 = max(float(out_of_range2), 0.0)

    def R2_of(F: np.ndarray) -> float:
        r = op.forward(F) - S_c
        return (float(np.vdot(r, r)) + oor2) / N

    def R2_weights(F: np.ndarray) -> float:
        # A known noise level replaces the residual by its expected value.
        return R2_of(F) if noise_energy is None else float(noise_energy) / N

    Lmat = laplacian_matrix(op.map_shape)
    # Upen2DTool stops its projected-gradient start at the UPEN tolerance too.
    F, n_start = bb_start(op, S_c, max_iter=start_iter, tol=upen_tol)
    R02 = max(R2_weights(F), 1e-300)
    # First weights from the unregularised start: β00 stands in for β0 because the start's
    # slope and curvature are noise, not structure.
    lam = upen_weights(F, R02, beta00, beta_p, beta_c)
    n_inner = n_fact = n_failed = 0
    converged = False
    outer = 0
    for outer in range(1, upen_max_iter + 1):
        q = _Quadratic(op, S_c, lam, Lmat)
        cap = min(max_iter, FIRST_SOLVE_CAP) if outer == 1 else max_iter
        res = solve_bpp(q, F, max_iter=cap)
        n_inner += res.iterations
        n_fact += res.factorizations
        n_failed += not res.converged
        change = float(np.linalg.norm(res.F - F))
        norm = float(np.linalg.norm(res.F))
        F = res.F
        lam = upen_weights(F, R2_weights(F), beta0, beta_p, beta_c)
        if res.converged and change <= upen_tol * max(norm, 1e-300):
            converged = True
            break
    if not converged:
        warn_not_converged("UPEN outer loop", outer, upen_tol)
    if not np.all(np.isfinite(F)):
        raise FloatingPointError("UPEN produced a non-finite map")
    info = {
        "method": "UPEN",
        "outer_iterations": outer,
        "inner_iterations": n_inner,
        "cg_iterations": 0,
        "factorizations": n_fact,
        "inner_not_converged": n_failed,
        "start_iterations": n_start,
        "lambda": lam,
        "beta00": float(beta00),
        "beta0": float(beta0),
        "beta_p": float(beta_p),
        "beta_c": float(beta_c),
        "R2": R2_of(F),
        "R2_start": R02,
        "converged": converged,
        "compressed_shape": op.shape,
        "time_s": time.perf_counter() - t0,
    }
    return SolverResult(F, outer, converged, info)

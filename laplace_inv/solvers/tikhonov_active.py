"""Non-negative Tikhonov at one α by an active-set method, from a guess of the support.

``min_{F≥0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²`` is non-negative least squares in Gram form with
``G + αI`` (`nnls_gram`): each step solves exactly on the current support, whose Gram block
is ``G1[I, I'] ⊙ G2[J, J'] + αI`` (per-axis Gram matrices), so its cost follows the size of
the support. Started from a nearby α's support it changes only the bins that differ. It is
the fast path when the support is small (small α, sparse maps), where the dual Newton
method (`brd_solve`) pays an ``m × m`` factorisation per step however few bins are
positive.
"""

from __future__ import annotations

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.nnls import nnls_gram
from laplace_inv.solvers.result import SolverResult


def tikhonov_active_set(
    op: CompressedOperator,
    S_c: np.ndarray,
    alpha: float,
    F0: np.ndarray | None = None,
    *,
    max_support: int | None = None,
    max_iter: int | None = None,
    tol: float = 1e-10,
) -> SolverResult:
    """Solve non-negative Tikhonov at ``alpha`` by Lawson–Hanson on ``G + αI``.

    Parameters
    ----------
    op : CompressedOperator
        The compressed kernels.
    S_c : numpy.ndarray
        Compressed data.
    alpha : float
        Regularisation weight (≥ 0; 0 is non-negative least squares).
    F0 : numpy.ndarray, optional
        A nearby α's map: its positive bins are the first guess of the support.
    max_support : int, optional
        Stop unconverged when the support would grow beyond this size.
    max_iter : int, optional
        Cap on the steps (each adds one bin or a block of bins).
    tol : float
        KKT tolerance relative to ``max|K̃ᵀS̃|``.

    Returns
    -------
    SolverResult
        ``iterations`` counts the steps (see `nnls_gram`).

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16))
    >>> op = k.compress()
    >>> S_c = op.project(k.forward(np.eye(16)))
    >>> res = tikhonov_active_set(op, S_c, 1e-3)
    >>> bool(res.converged), bool(res.map.min() >= 0)
    (True, True)
    """
    alpha = float(alpha)

    def gram_block(idx: np.ndarray) -> np.ndarray:
        return op.gram_block(idx, alpha)

    def gram_apply(F: np.ndarray) -> np.ndarray:
        return op.gram_apply(F) + alpha * F

    passive0 = None if F0 is None else np.asarray(F0).reshape(op.map_shape) > 0
    return nnls_gram(
        gram_block,
        gram_apply,
        op.adjoint(S_c),
        passive0=passive0,
        max_support=max_support,
        max_iter=max_iter,
        tol=tol,
        max_add=32,
    )

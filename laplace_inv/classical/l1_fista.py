"""Old import path of the L1 FISTA cross-check (now `laplace_inv.solvers.l1_fista`)."""

from __future__ import annotations

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.solvers.l1_fista import duality_gap, l1_fista, l1_objective

__all__ = ["duality_gap", "fista_l1", "l1_objective"]


def fista_l1(
    comp: CompressedOperator,
    S_c: np.ndarray,
    alpha: float,
    l2: float = 0.0,
    max_iter: int = 50_000,
    tol: float = 1e-8,
    F0: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """`laplace_inv.solvers.l1_fista.l1_fista` returning ``(F, n_iter)`` as it used to.

    Examples
    --------
    >>> from laplace_inv.kernels import Kernel2D
    >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 12),
    ...                          np.geomspace(1e-3, 1, 16), n_grid=8)
    >>> F, n_iter = fista_l1(k.compress(), np.zeros(k.compress().shape), 0.01)
    >>> float(F.sum()), n_iter
    (0.0, 1)
    """
    res = l1_fista(comp, S_c, alpha, l2, max_iter=max_iter, tol=tol, F0=F0)
    return res.map, res.iterations

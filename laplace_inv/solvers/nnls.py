"""Non-negative least squares by the Lawson–Hanson active-set method, in Gram form.

``min_{x ≥ 0} ½xᵀGx − bᵀx`` with ``G = AᵀA`` and ``b = Aᵀy`` (the normal-equations form of
``min ‖A x − y‖``) for many bins and a sparse solution: the passive set grows one bin at a
time, each step an exact solve of ``G_PP x_P = b_P`` on the passive bins (Lawson & Hanson,
*Solving Least Squares Problems*, 1974, ch. 23; in Gram form as Bro & De Jong 1997), so the
work follows the size of the support, not the number of bins. On the compressed operator
``G`` is never formed: its sub-matrices are products of the per-axis Gram matrices.
Global Tikhonov uses it for the best achievable fit, the α → 0 end of its path, which the
discrepancy rule needs as its floor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs

from laplace_inv.solvers.result import SolverResult

GramBlock = Callable[[np.ndarray], np.ndarray]
"""``idx ↦ G[idx][:, idx]`` for flat bin indices ``idx``."""


def nnls_gram(
    gram_block: GramBlock,
    gram_apply: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    *,
    max_iter: int | None = None,
    max_support: int | None = None,
    tol: float = 1e-10,
    passive0: np.ndarray | None = None,
    max_add: int = 1,
) -> SolverResult:
    """Solve ``min_{x ≥ 0} ½xᵀGx − bᵀx`` (``G`` positive semi-definite) by Lawson–Hanson.

    Parameters
    ----------
    gram_block : callable
        ``idx ↦ G[idx][:, idx]`` for an array of flat indices.
    gram_apply : callable
        ``x ↦ G x`` (``x`` with the shape of ``b``).
    b : numpy.ndarray
        The linear term ``Aᵀy`` (any shape; bins are its flat entries).
    max_iter : int, optional
        Cap on the steps, each adding one bin or a block of bins (default ``3·b.size``).
    max_support : int, optional
        Give up (``converged=False``) when the passive set would grow beyond this size
        (default no limit).
    tol : float
        A bin enters while its gradient ``b − G x`` exceeds ``tol·max|b|``.
    passive0 : numpy.ndarray of bool, optional
        A first guess of the support (shape of ``b``): the solve starts there and drops the
        bins that turn negative, then adds bins as usual. A good guess (a nearby problem's
        solution) saves most of the steps.
    max_add : int
        Most bins entering at once (1: the classical method). Several at a time (those
        with at least half the largest gradient) save steps when the support is large; the
        block shrinks to one bin whenever the new bins do not stay.

    Returns
    -------
    SolverResult
        ``map`` is ``x`` (shape of ``b``); ``iterations`` the steps; ``info`` holds
        ``support`` (the passive bins as flat indices) and ``entered`` (bins that entered).

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> G, b = A.T @ A, A.T @ np.array([1.0, -1.0])
    >>> res = nnls_gram(lambda i: G[np.ix_(i, i)], lambda x: G @ x, b)
    >>> res.map.round(6).tolist(), res.converged
    ([1.0, 0.0, 0.0], True)
    """
    b = np.asarray(b, dtype=float)
    flat_b = b.ravel()
    n = flat_b.size
    max_iter = 3 * n if max_iter is None else int(max_iter)
    max_support = n if max_support is None else int(max_support)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    if passive0 is not None:
        passive = np.asarray(passive0, dtype=bool).ravel().copy()
        x = _feasible_start(gram_block, flat_b, passive)
    threshold = tol * max(float(np.abs(flat_b).max(initial=0.0)), 1e-300)
    entered = steps = 0
    converged = False
    block = 1
    while steps < max_iter:
        w = flat_b - np.asarray(gram_apply(x.reshape(b.shape)), dtype=float).ravel()
        w[passive] = -np.inf
        j = int(np.argmax(w))
        if not w[j] > threshold:
            converged = True
            break
        room = max_support - int(passive.sum())
        if room <= 0:
            break
        new = _entering(w, j, min(block, room))
        passive[new] = True
        entered += new.size
        steps += 1
        x = _inner_loop(gram_block, flat_b, x, passive)
        stayed = int(passive[new].sum())
        if new.size == 1 and not stayed:  # the bin left at once: rounding, no progress
            converged = True
            break
        block = min(max_add, 2 * stayed) if stayed == new.size else 1
    info = {"support": np.flatnonzero(passive), "entered": entered}
    return SolverResult(x.reshape(b.shape), steps, converged, info)


def _entering(w: np.ndarray, j: int, block: int) -> np.ndarray:
    """The ``block`` bins with the largest gradient of at least half the largest (``j``)."""
    if block <= 1:
        return np.array([j])
    top = np.argpartition(-w, block - 1)[:block]
    return top[w[top] >= 0.5 * w[j]]


def _passive_solve(gram_block: GramBlock, b: np.ndarray, idx: np.ndarray) -> np.ndarray:
    G = gram_block(idx)
    # LAPACK directly: these systems are tiny and solved hundreds of times per call.
    factor, info = dpotrf(G, lower=True, clean=False)
    if info == 0:
        x, info = dpotrs(factor, b[idx], lower=True)
        if info == 0:
            return x
    return np.linalg.lstsq(G, b[idx], rcond=None)[0]  # collinear columns: least norm


def _feasible_start(gram_block: GramBlock, b: np.ndarray, passive: np.ndarray) -> np.ndarray:
    """Solve on the guessed support, dropping the bins that come out non-positive, until the
    solve is positive (updates ``passive`` in place)."""
    x = np.zeros(b.size)
    while passive.any():
        idx = np.flatnonzero(passive)
        z = _passive_solve(gram_block, b, idx)
        if np.all(z > 0):
            x[idx] = z
            break
        passive[idx[z <= 0]] = False
    return x


def _inner_loop(
    gram_block: GramBlock, b: np.ndarray, x: np.ndarray, passive: np.ndarray
) -> np.ndarray:
    """Solve on the passive set, stepping back towards ``x`` until the solve is positive.

    Updates ``passive`` in place (bins that reach zero leave it).
    """
    for _ in range(passive.size):
        idx = np.flatnonzero(passive)
        z = np.zeros_like(x)
        z[idx] = _passive_solve(gram_block, b, idx)
        if np.all(z[idx] > 0):
            return z
        bad = idx[z[idx] <= 0]
        ratios = x[bad] / (x[bad] - z[bad])
        k = int(np.argmin(ratios))
        x = x + float(ratios[k]) * (z - x)
        x[bad[k]] = 0.0  # exactly: the bin that blocks the step leaves
        passive &= x > 0
        if not passive.any():
            return np.zeros_like(x)
    return np.maximum(x, 0.0)

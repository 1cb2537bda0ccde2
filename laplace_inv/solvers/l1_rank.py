"""The compression L1 solves on: per-axis ranks whose truncation error is below the noise.

Truncating axis 1 of the compressed operator at rank ``r1`` changes ``K1 F K2ᵀ`` by at most
``s1[r1]·s2[0]·‖F‖_F`` in Frobenius norm (``s1[r1]`` the first dropped singular value), and
likewise for axis 2. On data scaled to ``max|S| = 1`` a map's visible mass is about 1 and
``‖F‖_F`` at most its mass, so keeping every singular value with ``sᵢ·s_other[0] > σ/2`` (``σ``
the noise level of the scaled data) bounds the whole truncation error by ``σ``: one noise
standard deviation in total, far below the noise norm ``σ·√(n1·n2)`` of the data. The rank
then follows the noise: fewer components for noisy data, more for clean data.
"""

from __future__ import annotations

import weakref

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.operator.compressed import AxisFactor

_truncated: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def noise_ranks(op: CompressedOperator, sigma: float, mass: float = 1.0) -> tuple[int, int]:
    """Per-axis ranks whose truncation error is at most ``sigma`` for a map of ``mass``.

    Parameters
    ----------
    op : CompressedOperator
        The finest compression (its ranks are the upper limits).
    sigma : float
        Noise standard deviation, in the units of the data ``op`` is applied to.
    mass : float
        Bound on the map's Frobenius norm (1 for data scaled to ``max|S| = 1``).

    Returns
    -------
    tuple of int
        ``(r1, r2)``, each at least 1.

    Examples
    --------
    >>> K = np.exp(-np.outer(np.geomspace(1e-3, 1, 40), 1 / np.geomspace(1e-3, 1, 30)))
    >>> op = CompressedOperator.from_matrices(K, K[:20], rtol=1e-10)
    >>> clean, noisy = noise_ranks(op, 1e-8), noise_ranks(op, 1e-2)
    >>> clean[0] > noisy[0] and clean[1] > noisy[1]
    True
    """
    if not sigma > 0:
        return op.shape
    limit = 0.5 * float(sigma) / max(float(mass), 1e-300)
    r1 = int(np.count_nonzero(op.s1 * op.s2[0] > limit))
    r2 = int(np.count_nonzero(op.s2 * op.s1[0] > limit))
    return max(r1, 1), max(r2, 1)


def truncated(op: CompressedOperator, ranks: tuple[int, int]) -> CompressedOperator:
    """``op`` with each axis cut to ``ranks`` (``op`` itself when nothing is cut); cached.

    Examples
    --------
    >>> K = np.exp(-np.outer(np.geomspace(1e-3, 1, 40), 1 / np.geomspace(1e-3, 1, 30)))
    >>> op = CompressedOperator.from_matrices(K, K[:20], rtol=1e-10)
    >>> truncated(op, (3, 2)).shape, truncated(op, (3, 2)) is truncated(op, (3, 2))
    ((3, 2), True)
    """
    r1, r2 = (min(int(r), full) for r, full in zip(ranks, op.shape, strict=True))
    if (r1, r2) == op.shape:
        return op
    per_op = _truncated.setdefault(op, {})
    if (r1, r2) not in per_op:
        per_op[(r1, r2)] = CompressedOperator(_cut(op.axis1, r1), _cut(op.axis2, r2))
    return per_op[(r1, r2)]


def _cut(axis: AxisFactor, rank: int) -> AxisFactor:
    return AxisFactor(U=axis.U[:, :rank], s=axis.s[:rank], Vt=axis.Vt[:rank])

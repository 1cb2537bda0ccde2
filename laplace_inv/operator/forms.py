"""Other forms of a `CompressedOperator`: padded, Kronecker pairs, and the map Laplacian."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

    from laplace_inv.operator.compressed import CompressedOperator


@dataclass
class PairProblem:
    """The compressed problem restricted to significant singular-value pairs.

    Attributes
    ----------
    K : numpy.ndarray
        Rows of ``K̃1 ⊗ K̃2`` acting on C-order flattened maps, shape ``(m, N1*N2)``.
    pairs : numpy.ndarray
        Boolean mask of shape ``(r1, r2)``: which compressed data entries are kept.

    Examples
    --------
    >>> p = PairProblem(K=np.eye(2), pairs=np.array([[True, True]]))
    >>> p.m, p.data(np.array([[3.0, 4.0]])).tolist()
    (2, [3.0, 4.0])
    """

    K: np.ndarray
    pairs: np.ndarray

    @property
    def m(self) -> int:
        """Number of kept pairs (the dual dimension)."""
        return int(self.K.shape[0])

    def data(self, S_c: np.ndarray) -> np.ndarray:
        """The kept entries of compressed data ``S̃``."""
        return S_c[self.pairs]


def pair_problem(op: CompressedOperator, eps: float = 1e-8) -> PairProblem:
    """Keep the pairs with ``σ1,i·σ2,j > eps·σ1,1·σ2,1``."""
    prod = np.outer(op.s1, op.s2)
    pairs = prod > eps * prod[0, 0]
    K = np.kron(op.K1, op.K2)[pairs.ravel()]
    return PairProblem(K=K, pairs=pairs)


def padded_kernels(op: CompressedOperator) -> tuple[np.ndarray, np.ndarray]:
    """``K̃i`` in the first ``min(ri, Ni)`` rows of an ``(Ni, Ni)`` zero matrix."""
    N1, N2 = op.map_shape
    K1p = np.zeros((N1, N1))
    K2p = np.zeros((N2, N2))
    r1 = min(op.K1.shape[0], N1)
    r2 = min(op.K2.shape[0], N2)
    K1p[:r1] = op.K1[:r1]
    K2p[:r2] = op.K2[:r2]
    return K1p, K2p


def pad_data(op: CompressedOperator, S_c: np.ndarray) -> np.ndarray:
    """Compressed data zero-padded from ``(..., r1, r2)`` to ``(..., N1, N2)``."""
    N1, N2 = op.map_shape
    S_c = np.asarray(S_c)
    r1, r2 = min(S_c.shape[-2], N1), min(S_c.shape[-1], N2)
    out = np.zeros((*S_c.shape[:-2], N1, N2))
    out[..., :r1, :r2] = S_c[..., :r1, :r2]
    return out


def laplacian(F: np.ndarray) -> np.ndarray:
    """The 5-point Laplacian ``4F_ij − ΣF_neighbours`` with zero values outside the grid.

    A singleton axis (the second axis of a 1D distribution, shape ``(N, 1)``) has no
    neighbours: the operator is then the 3-point second difference ``2f_i − f_{i−1} −
    f_{i+1}`` along the other axis.

    Examples
    --------
    >>> laplacian(np.ones((3, 3)))
    array([[2., 1., 2.],
           [1., 0., 1.],
           [2., 1., 2.]])
    >>> laplacian(np.ones((3, 1))).ravel()
    array([1., 0., 1.])
    """
    P = np.pad(F, 1)
    out = np.zeros_like(F, dtype=float)
    if F.shape[0] > 1:
        out += 2.0 * F - P[:-2, 1:-1] - P[2:, 1:-1]
    if F.shape[1] > 1:
        out += 2.0 * F - P[1:-1, :-2] - P[1:-1, 2:]
    return out


def laplacian_matrix(shape: tuple[int, int]) -> sp.csc_matrix:
    """Sparse matrix of `laplacian` acting on C-order flattened maps.

    Examples
    --------
    >>> L = laplacian_matrix((3, 3))
    >>> bool(np.allclose(L @ np.ones(9), laplacian(np.ones((3, 3))).ravel()))
    True
    >>> laplacian_matrix((4, 1)).toarray()[1]
    array([-1.,  2., -1.,  0.])
    """
    import scipy.sparse as sp

    n1, n2 = shape

    def second_difference(n: int) -> sp.spmatrix:
        if n == 1:  # a singleton axis has no neighbours along it
            return sp.csc_matrix((1, 1))
        return sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])

    L = sp.kron(second_difference(n1), sp.identity(n2)) + sp.kron(
        sp.identity(n1), second_difference(n2)
    )
    return sp.csc_matrix(L)

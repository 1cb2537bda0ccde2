"""The SVD-compressed separable operator ``F ↦ K1 F K2ᵀ`` that every solver consumes.

Each axis keeps its truncated SVD ``K ≈ U diag(s) Vᵀ`` apart (`AxisFactor`); the 2D
operator (`CompressedOperator`) combines two of them. In the compressed space the data are
``S̃ = U1ᵀ S U2`` and the kernels ``K̃i = diag(si) Viᵀ``, so that
``‖K1 F K2ᵀ − S‖² = ‖K̃1 F K̃2ᵀ − S̃‖² + ‖S − U1 S̃ U2ᵀ‖²``: the second term (the data
outside the kernels' range) is pure noise and gives the noise estimate.

A 1D kernel is the same object with a singleton second axis (``K2 = [[1]]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

    from laplace_inv.operator.forms import PairProblem
    from laplace_inv.operator.torch_view import TorchOperator


def right_factor_first(left: tuple[int, int], right: tuple[int, int]) -> bool:
    """Whether ``Aᵀ X B`` takes fewer operations as ``Aᵀ (X B)`` than as ``(Aᵀ X) B``.

    Parameters
    ----------
    left : tuple of int
        Shape ``(n1, r1)`` of ``A``.
    right : tuple of int
        Shape ``(n2, r2)`` of ``B``.

    Returns
    -------
    bool
        True when the product with ``B`` should come first.

    Examples
    --------
    >>> right_factor_first((48, 32), (1000, 25))  # few long rows: shorten them first
    True
    """
    (n1, r1), (n2, r2) = left, right
    return n1 * r2 * (n2 + r1) < r1 * n2 * (n1 + r2)


@dataclass(frozen=True, eq=False)
class AxisFactor:
    """Truncated SVD ``K ≈ U diag(s) Vt`` of one kernel axis.

    Attributes
    ----------
    U : numpy.ndarray
        Left singular vectors, shape ``(n, r)`` (acquisition side).
    s : numpy.ndarray
        Retained singular values, decreasing, shape ``(r,)``.
    Vt : numpy.ndarray
        Right singular vectors as rows, shape ``(r, N)`` (grid side).

    Examples
    --------
    >>> f = AxisFactor.from_matrix(np.array([[1.0, 0.0], [0.0, 1e-12]]), rtol=1e-8)
    >>> f.rank, f.n_data, f.n_grid
    (1, 2, 2)
    """

    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray

    @classmethod
    def from_matrix(cls, K: np.ndarray, rtol: float) -> AxisFactor:
        """Keep the singular values above ``rtol·σ_max`` (at least one)."""
        U, s, Vt = np.linalg.svd(np.asarray(K, dtype=float), full_matrices=False)
        keep = max(1, int(np.sum(s > rtol * s[0])))
        return cls(U=U[:, :keep], s=s[:keep], Vt=Vt[:keep])

    @property
    def rank(self) -> int:
        """Number of retained singular values ``r``."""
        return int(self.s.size)

    @property
    def n_data(self) -> int:
        """Number of acquisition points ``n``."""
        return int(self.U.shape[0])

    @property
    def n_grid(self) -> int:
        """Number of grid points ``N``."""
        return int(self.Vt.shape[1])

    @property
    def V(self) -> np.ndarray:
        """Right singular vectors as columns, shape ``(N, r)``."""
        return self.Vt.T


class CompressedOperator:
    """The compressed 2D problem ``S̃ = K̃1 F K̃2ᵀ`` built from two `AxisFactor` objects.

    `Kernel2D.compress` builds and caches one per tolerance; solvers receive it instead of
    re-deriving any part of it. The historical attribute names (``U1, U2, K1, K2, s1, s2,
    gram1, gram2``) stay, so it is also importable as ``laplace_inv.kernels.CompressedProblem``.

    Parameters
    ----------
    axis1 : AxisFactor
        SVD of the first (row) axis.
    axis2 : AxisFactor
        SVD of the second (column) axis.

    Examples
    --------
    >>> K1 = np.exp(-np.outer(np.geomspace(1e-3, 1, 12), 1 / np.geomspace(1e-3, 1, 6)))
    >>> op = CompressedOperator.from_matrices(K1, np.ones((1, 1)), rtol=1e-8)
    >>> op.shape, op.map_shape
    ((6, 1), (6, 1))
    >>> F = np.ones((6, 1))
    >>> bool(np.allclose(op.U1 @ op.forward(F) @ op.U2.T, K1 @ F))
    True
    """

    def __init__(self, axis1: AxisFactor, axis2: AxisFactor) -> None:
        self.axis1 = axis1
        self.axis2 = axis2
        self.U1, self.s1 = axis1.U, axis1.s
        self.U2, self.s2 = axis2.U, axis2.s
        self.K1 = axis1.s[:, None] * axis1.Vt
        self.K2 = axis2.s[:, None] * axis2.Vt
        self.gram1 = self.K1.T @ self.K1
        self.gram2 = self.K2.T @ self.K2
        self._cache: dict[Any, Any] = {}

    @classmethod
    def from_matrices(cls, K1: np.ndarray, K2: np.ndarray, rtol: float) -> CompressedOperator:
        """SVD-compress two kernel matrices, keeping ``σ > rtol·σ_max`` per axis."""
        return cls(AxisFactor.from_matrix(K1, rtol), AxisFactor.from_matrix(K2, rtol))

    # ---------------------------------------------------------------------------------
    # shapes and constants
    @property
    def shape(self) -> tuple[int, int]:
        """``(r1, r2)``, the size of the compressed data."""
        return (self.axis1.rank, self.axis2.rank)

    @property
    def data_shape(self) -> tuple[int, int]:
        """``(n1, n2)``, the size of one raw dataset."""
        return (self.axis1.n_data, self.axis2.n_data)

    @property
    def map_shape(self) -> tuple[int, int]:
        """``(N1, N2)``, the size of one map."""
        return (self.axis1.n_grid, self.axis2.n_grid)

    @property
    def lipschitz(self) -> float:
        """``λmax(K̃1ᵀK̃1)·λmax(K̃2ᵀK̃2)``, the Lipschitz constant of the data-term gradient."""
        return float(self.s1[0] ** 2 * self.s2[0] ** 2)

    @property
    def noise_dof(self) -> int:
        """``n1·n2 − r1·r2``: how many data dimensions lie outside the kernels' range."""
        n1, n2 = self.data_shape
        r1, r2 = self.shape
        return n1 * n2 - r1 * r2

    # ---------------------------------------------------------------------------------
    # linear maps
    def project(self, S: np.ndarray) -> np.ndarray:
        """``U1ᵀ S U2`` for one ``(n1, n2)`` dataset or a batch ``(..., n1, n2)``."""
        if right_factor_first(self.U1.shape, self.U2.shape):
            return self.U1.T @ (S @ self.U2)
        return (self.U1.T @ S) @ self.U2

    def forward(self, F: np.ndarray) -> np.ndarray:
        """``K̃1 F K̃2ᵀ`` for one map or a batch."""
        return self.K1 @ F @ self.K2.T

    def adjoint(self, S_c: np.ndarray) -> np.ndarray:
        """``K̃1ᵀ S̃ K̃2`` for compressed data."""
        return self.K1.T @ S_c @ self.K2

    def gram_apply(self, F: np.ndarray) -> np.ndarray:
        """``K̃1ᵀK̃1 F K̃2ᵀK̃2``, the Gram form used by every gradient (FLINT)."""
        return self.gram1 @ F @ self.gram2

    def gram_block(self, idx: np.ndarray, shift: float = 0.0) -> np.ndarray:
        """The Gram matrix ``K̃ᵀK̃ + shift·I`` restricted to the map bins ``idx`` (flat, C order).

        ``K̃ᵀK̃ = G1 ⊗ G2``, so the block is ``G1[I, I'] ⊙ G2[J, J']`` with ``(I, J)`` the
        bins' rows and columns: the active-set solvers' systems, of the support's size.

        Examples
        --------
        >>> from laplace_inv.kernels import Kernel2D, KernelAxis
        >>> op = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=6),
        ...               KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=5)).compress()
        >>> idx = np.array([3, 7, 22])
        >>> full = np.kron(op.gram1, op.gram2)[np.ix_(idx, idx)]
        >>> np.allclose(op.gram_block(idx, 0.5), full + 0.5 * np.eye(3))
        True
        """
        rows, cols = np.divmod(np.asarray(idx), self.map_shape[1])
        G = self.gram1[rows][:, rows] * self.gram2[cols][:, cols]
        if shift:
            G[np.diag_indices(G.shape[0])] += shift
        return G

    # ---------------------------------------------------------------------------------
    # the data outside the range: noise
    def out_of_range_norm(self, S: np.ndarray) -> float:
        """``‖S − U1U1ᵀ S U2U2ᵀ‖``: the part of the data no map can explain."""
        S = np.asarray(S, dtype=float)
        scale = float(np.abs(S).max()) if S.size else 0.0
        if not scale > 0 or not np.isfinite(scale):
            return 0.0 if scale == 0 else float("nan")
        # Work on S / max|S| so that the squares neither overflow nor underflow.
        Sn = S / scale
        S_c = self.project(Sn)
        return scale * float(np.sqrt(max(np.sum(Sn * Sn) - np.sum(S_c * S_c), 0.0)))

    def out_of_range_energy(self, S: np.ndarray, S_c: np.ndarray | None = None) -> float:
        """``‖S‖² − ‖S̃‖²`` computed directly (UPEN adds it to the compressed residual)."""
        if S_c is None:
            S_c = self.project(S)
        return float(np.vdot(S, S) - np.vdot(S_c, S_c))

    def noise_std(self, S: np.ndarray) -> float:
        """Noise standard deviation ``‖S − U1S̃U2ᵀ‖ / √(n1·n2 − r1·r2)``.

        The signal has no component outside the kernels' range, so only noise remains
        there.

        Raises
        ------
        ValueError
            When the compressed problem leaves no data dimension outside the range.

        Examples
        --------
        >>> K = np.exp(-np.outer(np.linspace(0, 1, 50), [1.0, 5.0]))
        >>> op = CompressedOperator.from_matrices(K, np.ones((1, 1)), 1e-8)
        >>> noise = 0.01 * np.random.default_rng(0).standard_normal((50, 1))
        >>> round(op.noise_std(K @ [[1.0], [2.0]] + noise), 2)
        0.01
        """
        S = np.asarray(S, dtype=float)
        dof = S.shape[0] * S.shape[1] - self.shape[0] * self.shape[1]
        if dof <= 0:
            raise ValueError(
                "the data have no degrees of freedom outside the kernels' range; "
                "give noise_std explicitly"
            )
        return float(self.out_of_range_norm(S) / np.sqrt(dof))

    # ---------------------------------------------------------------------------------
    # other forms of the same operator (built once, cached)
    def _cached(self, key: Any, build: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``K̃1``, ``K̃2`` zero-padded to ``(N1, N1)`` and ``(N2, N2)`` (rows beyond ``r``)."""
        from laplace_inv.operator.forms import padded_kernels

        return self._cached("padded", lambda: padded_kernels(self))

    def pad(self, S_c: np.ndarray) -> np.ndarray:
        """Compressed data ``(..., r1, r2)`` zero-padded to ``(..., N1, N2)``."""
        from laplace_inv.operator.forms import pad_data

        return pad_data(self, S_c)

    def pairs(self, eps: float = 1e-8) -> PairProblem:
        """The Kronecker form restricted to pairs ``σ1,iσ2,j > eps·σ1,1σ2,1`` (cached)."""
        from laplace_inv.operator.forms import pair_problem

        return self._cached(("pairs", float(eps)), lambda: pair_problem(self, float(eps)))

    def laplacian(self) -> sp.csc_matrix:
        """Sparse 5-point Laplacian on the map grid, acting on C-order flattened maps."""
        from laplace_inv.operator.forms import laplacian_matrix

        return self._cached("laplacian", lambda: laplacian_matrix(self.map_shape))

    def to_torch(self, device: Any = None, dtype: Any = None) -> TorchOperator:
        """The same operator as torch tensors on ``device`` (torch is imported here)."""
        from laplace_inv.operator.torch_view import torch_operator

        return torch_operator(self, device, dtype)

    def __repr__(self) -> str:
        return (
            f"CompressedOperator(rank={self.shape}, data_shape={self.data_shape}, "
            f"map_shape={self.map_shape})"
        )

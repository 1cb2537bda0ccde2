"""Laplace kernels: the one place where the physics of the forward model lives.

``S = K1 F K2ᵀ + E``. `KernelAxis` (in `laplace_inv.kernels.axis`) describes one dimension
(its kind, acquisition values and output grid) and builds its kernel matrix; `Kernel2D`
combines two axes into the separable 2D operator with forward, adjoint, Gram matrices and
the SVD compression of Venkataramanan, Song and Hürlimann (IEEE TSP 2002); `Kernel1D` is the
same operator for a single decay, with a singleton second axis. Default grids follow one
rule for every kind (`laplace_inv.kernels.grids`).

Units are SI throughout: seconds for times and relaxation times, s/m² for b-values and
m²/s for diffusion coefficients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_finite
from laplace_inv.kernels.axis import (
    KINDS,
    MIN_COLUMN_SPREAD,
    MIN_KERNEL_MAX,
    KernelAxis,
    kernel_matrix,
)
from laplace_inv.kernels.grids import DEFAULT_GRID_SIZE, GRID_MARGINS, grid_range
from laplace_inv.operator import AxisFactor, CompressedOperator

__all__ = [
    "DEFAULT_GRID_SIZE",
    "GRID_MARGINS",
    "KINDS",
    "MIN_COLUMN_SPREAD",
    "MIN_KERNEL_MAX",
    "CompressedProblem",
    "Kernel1D",
    "Kernel2D",
    "KernelAxis",
    "default_grid",
    "grid_range",
    "kernel_matrix",
]


def default_grid(kind: str, tau: np.ndarray, n_points: int = DEFAULT_GRID_SIZE) -> np.ndarray:
    """A log-spaced grid of ``n_points`` over `grid_range` of the acquisition.

    Parameters
    ----------
    kind : {"T2", "T1_IR", "T1_SR", "D"}
        The kernel kind.
    tau : numpy.ndarray
        Acquisition values (s, or s/m² for ``D``).
    n_points : int
        Number of grid points.

    Returns
    -------
    numpy.ndarray
        The grid, increasing.

    Examples
    --------
    >>> g = default_grid("T2", np.array([1e-3, 1e-1]), 3)
    >>> [float(round(v, 6)) for v in g]
    [0.0002, 0.007746, 0.3]
    """
    lo, hi = grid_range(kind, tau)
    return np.logspace(np.log10(lo), np.log10(hi), n_points)


CompressedProblem = CompressedOperator
"""The historical name of `CompressedOperator` (same class)."""


class Kernel2D:
    """The separable 2D Laplace operator ``F ↦ K1 F K2ᵀ``.

    Parameters
    ----------
    axis1 : KernelAxis
        Indirect dimension (data rows, map rows).
    axis2 : KernelAxis
        Direct dimension (data columns, map columns).

    Examples
    --------
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16)),
    ...              KernelAxis("T2", np.arange(1, 201) * 1e-4))
    >>> k.data_shape, k.map_shape
    ((16, 200), (64, 64))
    >>> k.forward(np.ones(k.map_shape)).shape
    (16, 200)
    """

    def __init__(self, axis1: KernelAxis, axis2: KernelAxis | None = None) -> None:
        if axis2 is None:
            kind = getattr(axis1, "kind", "T2")
            raise TypeError(
                "Kernel2D needs two axes; for a 1D decay use Kernel1D(KernelAxis("
                f"{kind!r}, tau)), which takes one axis and runs every classical estimator"
            )
        for name, axis in (("axis1", axis1), ("axis2", axis2)):
            if not isinstance(axis, KernelAxis):
                raise TypeError(f"{name} must be a KernelAxis, got {type(axis).__name__}")
        self.axis1 = axis1
        self.axis2 = axis2
        self._compressed: dict[float, CompressedProblem] = {}

    @classmethod
    def from_arrays(
        cls,
        kinds: tuple[str, str],
        tau1: Any,
        tau2: Any,
        grid1: Any = None,
        grid2: Any = None,
        n_grid: int = DEFAULT_GRID_SIZE,
    ) -> Kernel2D:
        """Build from kinds and acquisition arrays in one call."""
        return cls(
            KernelAxis(kinds[0], tau1, grid1, n_grid=n_grid),
            KernelAxis(kinds[1], tau2, grid2, n_grid=n_grid),
        )

    @property
    def ndim(self) -> int:
        """Number of physical axes: 2 (1 for a `Kernel1D`)."""
        return 2

    @property
    def K1(self) -> np.ndarray:
        """Kernel matrix of axis 1, shape ``(n1, N1)``."""
        return self.axis1.matrix

    @property
    def K2(self) -> np.ndarray:
        """Kernel matrix of axis 2, shape ``(n2, N2)``."""
        return self.axis2.matrix

    @property
    def kinds(self) -> tuple[str, str]:
        """Kinds of the two axes."""
        return (self.axis1.kind, self.axis2.kind)

    @property
    def data_shape(self) -> tuple[int, int]:
        """``(n1, n2)``: shape of one data matrix."""
        return (self.axis1.tau.size, self.axis2.tau.size)

    @property
    def map_shape(self) -> tuple[int, int]:
        """``(N1, N2)``: shape of one map."""
        return (self.axis1.grid.size, self.axis2.grid.size)

    @property
    def grid1(self) -> np.ndarray:
        """Output grid of axis 1."""
        return self.axis1.grid

    @property
    def grid2(self) -> np.ndarray:
        """Output grid of axis 2."""
        return self.axis2.grid

    @property
    def gram1(self) -> np.ndarray:
        """``K1ᵀK1``, shape ``(N1, N1)``."""
        return self.K1.T @ self.K1

    @property
    def gram2(self) -> np.ndarray:
        """``K2ᵀK2``, shape ``(N2, N2)``."""
        return self.K2.T @ self.K2

    def _check_maps(self, F: Any) -> np.ndarray:
        arr = as_real_array(F, "F")
        if arr.ndim < 2 or arr.shape[-2:] != self.map_shape:
            raise ValueError(f"F must have shape (..., {self.map_shape}), got {arr.shape}")
        check_finite(arr, "F")
        return arr

    def _check_data(self, S: Any) -> np.ndarray:
        arr = as_real_array(S, "S")
        if arr.ndim < 2 or arr.shape[-2:] != self.data_shape:
            raise ValueError(f"S must have shape (..., {self.data_shape}), got {arr.shape}")
        check_finite(arr, "S")
        return arr

    def forward(self, F: Any) -> np.ndarray:
        """``K1 F K2ᵀ`` for one map ``(N1, N2)`` or a batch ``(n, N1, N2)``."""
        return self.K1 @ self._check_maps(F) @ self.K2.T

    def adjoint(self, S: Any) -> np.ndarray:
        """``K1ᵀ S K2`` for one dataset ``(n1, n2)`` or a batch ``(n, n1, n2)``."""
        return self.K1.T @ self._check_data(S) @ self.K2

    def compress(self, rtol: float = 1e-8) -> CompressedProblem:
        """SVD-compress the problem, keeping singular values above ``rtol·σ_max`` per axis.

        The result is cached per kernel and tolerance. With the default tolerance the
        compressed operator reproduces ``K1 F K2ᵀ`` to better than 1e-8 relative on
        non-negative maps.

        Parameters
        ----------
        rtol : float
            Relative singular-value threshold, in (0, 1).

        Returns
        -------
        CompressedOperator
            Also importable as ``CompressedProblem``.

        Examples
        --------
        >>> k = Kernel2D.from_arrays(("T2", "T2"), np.geomspace(1e-3, 1, 8),
        ...                          np.geomspace(1e-3, 1, 10), n_grid=6)
        >>> k.compress() is k.compress()
        True
        """
        try:
            rtol = float(rtol)
        except (TypeError, ValueError):
            raise TypeError(f"rtol must be a number in (0, 1), got {rtol!r}") from None
        if not 0.0 < rtol < 1.0:
            raise ValueError(f"rtol must lie in (0, 1), got {rtol:g}")
        if rtol not in self._compressed:
            self._compressed[rtol] = CompressedOperator(
                _truncated_svd(self.K1, rtol), _truncated_svd(self.K2, rtol)
            )
        return self._compressed[rtol]

    def with_grids(self, grid1: Any, grid2: Any) -> Kernel2D:
        """The same acquisition with other output grids."""
        return Kernel2D(self.axis1.with_grid(grid1), self.axis2.with_grid(grid2))

    def refined(self, factor: int) -> Kernel2D:
        """The same acquisition on grids ``factor`` times finer (to avoid the inverse crime)."""
        return Kernel2D(self.axis1.refined(factor), self.axis2.refined(factor))

    def fingerprint(self) -> str:
        """A short hash identifying both axes."""
        return self.axis1.fingerprint() + self.axis2.fingerprint()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kernel2D) and self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __getstate__(self) -> dict:
        # The compression cache is cheap to rebuild; don't ship it through pickling.
        state = self.__dict__.copy()
        state["_compressed"] = {}
        return state

    def __repr__(self) -> str:
        return f"Kernel2D({self.axis1!r}, {self.axis2!r})"


_UNIT = np.ones((1, 1))
_UNIT.setflags(write=False)
_PLACEHOLDER_GRID = np.ones(1)
_PLACEHOLDER_GRID.setflags(write=False)


class Kernel1D(Kernel2D):
    """The 1D Laplace operator ``f ↦ K f`` of a single decay (CPMG, recovery or PGSE).

    It is a `Kernel2D` whose second axis is a singleton (``K2 = [[1]]``), so the compressed
    operator, every classical solver and estimator (UPEN, global Tikhonov, L1), the noise
    estimate and `InversionResult` run unchanged: internally one dataset has shape
    ``(n, 1)`` and one distribution ``(N, 1)``. To the user a batch of decays is
    ``(n_samples, n)`` in and ``(n_samples, N)`` out of ``predict``, and ``invert`` takes a
    decay of shape ``(n,)``.

    Parameters
    ----------
    axis : KernelAxis
        The acquisition axis (echo times, recovery delays or b-values) and its grid.

    Examples
    --------
    >>> k = Kernel1D(KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=40))
    >>> k.kind, k.data_shape, k.map_shape
    ('T2', (100, 1), (40, 1))
    >>> k.forward(np.ones(40)).shape, k.forward(np.ones((3, 40))).shape
    ((100,), (3, 100))
    >>> Kernel2D(KernelAxis("T2", np.arange(1, 101) * 1e-3))
    Traceback (most recent call last):
    ...
    TypeError: Kernel2D needs two axes; for a 1D decay use Kernel1D(KernelAxis('T2', tau)), \
which takes one axis and runs every classical estimator
    """

    def __init__(self, axis: KernelAxis) -> None:
        if not isinstance(axis, KernelAxis):
            raise TypeError(f"axis must be a KernelAxis, got {type(axis).__name__}")
        self.axis1 = axis
        self._compressed: dict[float, CompressedProblem] = {}

    @classmethod
    def from_arrays(  # type: ignore[override]
        cls,
        kind: str,
        tau: Any,
        grid: Any = None,
        n_grid: int = DEFAULT_GRID_SIZE,
    ) -> Kernel1D:
        """Build from a kind, acquisition values and an optional grid in one call."""
        return cls(KernelAxis(kind, tau, grid, n_grid=n_grid))

    @property
    def axis2(self) -> KernelAxis:  # type: ignore[override]
        """A 1D kernel has no second axis (`AttributeError`); use `axis`."""
        raise AttributeError(
            "a Kernel1D has one axis (kernel.axis); its second dimension is a singleton"
        )

    @property
    def axis(self) -> KernelAxis:
        """The acquisition axis."""
        return self.axis1

    @property
    def kind(self) -> str:
        """The kernel kind of the axis."""
        return self.axis1.kind

    @property
    def tau(self) -> np.ndarray:
        """Acquisition values (s, or s/m² for ``D``)."""
        return self.axis1.tau

    @property
    def grid(self) -> np.ndarray:
        """The output grid (s, or m²/s for ``D``)."""
        return self.axis1.grid

    @property
    def ndim(self) -> int:
        """Number of physical axes: 1."""
        return 1

    @property
    def K(self) -> np.ndarray:
        """The kernel matrix, shape ``(n, N)``."""
        return self.axis1.matrix

    @property
    def K2(self) -> np.ndarray:
        """``[[1]]``: the singleton second axis."""
        return _UNIT

    @property
    def kinds(self) -> tuple[str]:  # type: ignore[override]
        """``(kind,)``: one kind, as for a 1D `Acquisition`."""
        return (self.axis1.kind,)

    @property
    def data_shape(self) -> tuple[int, int]:
        """``(n, 1)``: one decay as the estimators see it."""
        return (self.axis1.tau.size, 1)

    @property
    def map_shape(self) -> tuple[int, int]:
        """``(N, 1)``: one distribution as the estimators see it."""
        return (self.axis1.grid.size, 1)

    @property
    def grid2(self) -> np.ndarray:
        """``[1.0]``: the placeholder grid of the singleton axis (no unit)."""
        return _PLACEHOLDER_GRID

    def forward(self, F: Any) -> np.ndarray:
        """``K f`` for a distribution ``(N,)``, a batch ``(..., N)`` or maps ``(..., N, 1)``."""
        arr = self._check_last(F, self.axis1.grid.size, "F", "distribution")
        if arr.ndim >= 2 and arr.shape[-2:] == self.map_shape:
            return self.K @ arr
        return arr @ self.K.T

    def adjoint(self, S: Any) -> np.ndarray:
        """``Kᵀ s`` for a decay ``(n,)``, a batch ``(..., n)`` or data ``(..., n, 1)``."""
        arr = self._check_last(S, self.axis1.tau.size, "S", "decay")
        if arr.ndim >= 2 and arr.shape[-2:] == self.data_shape:
            return self.K.T @ arr
        return arr @ self.K

    @staticmethod
    def _check_last(X: Any, size: int, name: str, what: str) -> np.ndarray:
        arr = as_real_array(X, name)
        column = arr.ndim >= 2 and arr.shape[-2:] == (size, 1)
        if arr.ndim == 0 or not (column or arr.shape[-1] == size):
            raise ValueError(
                f"{name} must be a {what} of {size} values, shape ({size},), (..., {size}) "
                f"or (..., {size}, 1); got {arr.shape}"
            )
        check_finite(arr, name)
        return arr

    def with_grid(self, grid: Any) -> Kernel1D:
        """The same acquisition with another output grid."""
        return Kernel1D(self.axis1.with_grid(grid))

    def with_grids(self, grid1: Any, grid2: Any = None) -> Kernel1D:
        """The same acquisition with another output grid (``grid2`` must be None)."""
        if grid2 is not None:
            raise ValueError("a Kernel1D has one grid; call with_grid(grid)")
        return self.with_grid(grid1)

    def refined(self, factor: int) -> Kernel1D:
        """The same acquisition on a grid ``factor`` times finer (to avoid the inverse crime)."""
        return Kernel1D(self.axis1.refined(factor))

    def fingerprint(self) -> str:
        """A short hash identifying the axis (and that the kernel is 1D)."""
        return self.axis1.fingerprint() + "-1d"

    def __repr__(self) -> str:
        return f"Kernel1D({self.axis1!r})"


def _truncated_svd(K: np.ndarray, rtol: float) -> AxisFactor:
    return AxisFactor.from_matrix(K, rtol)

"""Laplace kernels: the one place where the physics of the forward model lives.

``S = K1 F K2ᵀ + E`` (ALGORITHMS.md §1). ``KernelAxis`` describes one dimension (its kind,
acquisition values and output grid) and builds its kernel matrix; ``Kernel2D`` combines two
axes into the separable 2D operator with forward, adjoint, Gram matrices and the SVD
compression of Venkataramanan, Song and Hürlimann (IEEE TSP 2002).

Units are SI throughout: seconds for times and relaxation times, s/m² for b-values and
m²/s for diffusion coefficients.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.operator import AxisFactor, CompressedOperator

KINDS: tuple[str, ...] = ("T2", "T1_IR", "T1_SR", "D")
"""The kernel kinds understood by :class:`KernelAxis`."""

DEFAULT_GRID_SIZE = 64

MIN_KERNEL_MAX = 1e-30
"""A kernel axis whose largest entry is below this sees nothing of its grid (refused)."""

MIN_COLUMN_SPREAD = 1e-3
"""A grid point is seen when its kernel column changes by more than this along the axis."""


def kernel_matrix(kind: str, tau: np.ndarray, grid: np.ndarray, efficiency: float = 1.0):
    """Kernel matrix ``k(tau_i, grid_j)`` for one axis.

    Parameters
    ----------
    kind : {"T2", "T1_IR", "T1_SR", "D"}
        ``T2``: exp(−t/T2); ``T1_IR``: 1 − (1+e)·exp(−t/T1); ``T1_SR``: 1 − exp(−t/T1);
        ``D``: exp(−b·D).
    tau : numpy.ndarray
        Acquisition values (s, or s/m² for ``D``).
    grid : numpy.ndarray
        Output grid (s, or m²/s for ``D``).
    efficiency : float
        Inversion efficiency ``e`` of the ``T1_IR`` kernel (1 is a perfect π pulse).

    Returns
    -------
    numpy.ndarray
        Array of shape ``(len(tau), len(grid))``.

    Examples
    --------
    >>> kernel_matrix("T1_IR", np.array([0.0]), np.array([1.0]))
    array([[-1.]])
    """
    t = tau[:, None]
    x = grid[None, :]
    if kind == "T2":
        return np.exp(-t / x)
    if kind == "T1_IR":
        return 1.0 - (1.0 + efficiency) * np.exp(-t / x)
    if kind == "T1_SR":
        return 1.0 - np.exp(-t / x)
    if kind == "D":
        return np.exp(-t * x)
    raise ValueError(f"unknown kernel kind {kind!r}; expected one of {KINDS}")


def default_grid(kind: str, tau: np.ndarray, n_points: int = DEFAULT_GRID_SIZE) -> np.ndarray:
    """A log-spaced grid spanning what an acquisition axis can resolve (ALGORITHMS.md §1).

    Relaxation: ``[t_min/5, 3·t_max]`` with ``t_min`` the smallest positive delay.
    Diffusion: ``[0.1/b_max, 10/b_min]`` with ``b_min`` the smallest positive b-value.

    Examples
    --------
    >>> g = default_grid("T2", np.array([1e-3, 1e-1]), 3)
    >>> [float(round(v, 6)) for v in g]
    [0.0002, 0.007746, 0.3]
    """
    positive = tau[tau > 0]
    if positive.size == 0:
        raise ValueError("tau has no positive values; cannot choose a default grid")
    t_min, t_max = float(positive.min()), float(positive.max())
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        if kind == "D":
            lo, hi = 0.1 / t_max, 10.0 / t_min
        else:
            lo, hi = t_min / 5.0, 3.0 * t_max
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(
            f"cannot choose a default {kind} grid for acquisition values in "
            f"[{t_min:g}, {t_max:g}] (the grid bounds over- or underflow); give the grid "
            "explicitly"
        )
    return np.logspace(np.log10(lo), np.log10(hi), n_points)


class KernelAxis:
    """One dimension of a 2D Laplace experiment.

    Parameters
    ----------
    kind : {"T2", "T1_IR", "T1_SR", "D"}
        The kernel kind.
    tau : array_like
        Acquisition values: delays/echo times in s, or b-values in s/m² for ``D``.
        Strictly increasing and non-negative.
    grid : array_like or None
        Output grid (relaxation times in s or diffusion coefficients in m²/s), strictly
        increasing and positive. ``None`` selects :func:`default_grid` with ``n_grid``
        points.
    n_grid : int
        Grid size used when ``grid`` is None.
    efficiency : float
        Inversion efficiency ``e`` for ``T1_IR`` (``k = 1 − (1+e)·exp(−t/T1)``).

    Examples
    --------
    >>> ax = KernelAxis("T2", np.linspace(1e-3, 0.1, 100))
    >>> ax.matrix.shape
    (100, 64)
    >>> KernelAxis("T3", [1.0])
    Traceback (most recent call last):
    ...
    ValueError: unknown kernel kind 'T3'; expected one of ('T2', 'T1_IR', 'T1_SR', 'D')
    """

    def __init__(
        self,
        kind: str,
        tau: Any,
        grid: Any = None,
        *,
        n_grid: int = DEFAULT_GRID_SIZE,
        efficiency: float = 1.0,
    ) -> None:
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"unknown kernel kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.tau = check_axis_values(tau, f"tau ({kind} acquisition values)")
        if grid is None:
            if not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
                raise ValueError(f"n_grid must be an integer >= 2, got {n_grid!r}")
            grid = default_grid(kind, self.tau, int(n_grid))
        self.grid = check_axis_values(grid, f"grid ({kind} output grid)", allow_zero=False)
        if self.grid.size < 2:
            raise ValueError("grid must have at least 2 points")
        eff = as_real_array(efficiency, "efficiency")
        if eff.ndim != 0:
            raise ValueError("efficiency must be a scalar")
        check_finite(eff, "efficiency")
        if not 0.0 < float(eff) <= 1.5:
            raise ValueError(f"efficiency must lie in (0, 1.5], got {float(eff):g}")
        if kind != "T1_IR" and float(eff) != 1.0:
            raise ValueError("efficiency only applies to the T1_IR kind")
        self.efficiency = float(eff)
        with np.errstate(over="ignore", divide="ignore", under="ignore", invalid="ignore"):
            matrix = kernel_matrix(kind, self.tau, self.grid, self.efficiency)
        if not np.all(np.isfinite(matrix)):  # pragma: no cover - finite axes give finite k
            raise ValueError(f"the {kind} kernel matrix has non-finite entries")
        if not np.abs(matrix).max() > MIN_KERNEL_MAX:
            raise ValueError(
                f"the {kind} kernel matrix is numerically zero (max |k| = "
                f"{np.abs(matrix).max():.3g}): the grid [{self.grid[0]:.3g}, "
                f"{self.grid[-1]:.3g}] lies where the acquisition [{self.tau[0]:.3g}, "
                f"{self.tau[-1]:.3g}] sees no signal; widen the grid or use grid=None"
            )
        matrix.setflags(write=False)
        self._matrix = matrix
        _warn_if_unseen(self)

    @property
    def matrix(self) -> np.ndarray:
        """The kernel matrix, shape ``(len(tau), len(grid))``."""
        return self._matrix

    @property
    def log_grid(self) -> np.ndarray:
        """``log10`` of the grid (positions and widths are measured in these units)."""
        return np.log10(self.grid)

    @property
    def decades(self) -> float:
        """Span of the grid in decades."""
        return float(np.log10(self.grid[-1] / self.grid[0]))

    def with_grid(self, grid: Any) -> KernelAxis:
        """Return the same acquisition with another output grid."""
        return KernelAxis(self.kind, self.tau, grid, efficiency=self.efficiency)

    def with_efficiency(self, efficiency: float) -> KernelAxis:
        """Return the same axis with another ``T1_IR`` inversion efficiency."""
        return KernelAxis(self.kind, self.tau, self.grid, efficiency=efficiency)

    def refined(self, factor: int) -> KernelAxis:
        """The same axis on a grid ``factor`` times finer over the same span (for simulation)."""
        n = (self.grid.size - 1) * int(factor) + 1
        grid = np.logspace(np.log10(self.grid[0]), np.log10(self.grid[-1]), n)
        return self.with_grid(grid)

    def fingerprint(self) -> str:
        """A short hash of kind, acquisition, grid and efficiency."""
        h = hashlib.sha256(self.kind.encode())
        for arr in (self.tau, self.grid, np.array([self.efficiency])):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KernelAxis) and self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return (
            f"KernelAxis({self.kind!r}, tau=[{self.tau[0]:.3g}..{self.tau[-1]:.3g}] "
            f"({self.tau.size}), grid=[{self.grid[0]:.3g}..{self.grid[-1]:.3g}] "
            f"({self.grid.size}))"
        )


def _warn_if_unseen(axis: KernelAxis) -> None:
    """Warn when no grid point's kernel column changes along the acquisition.

    Such a grid lies entirely where the acquisition sees either nothing or a constant (a T2
    grid far beyond the last echo, say), so every map on it is arbitrary.
    """
    if axis.tau.size < 2:
        return  # a single acquisition point resolves nothing along this axis by design
    spread = axis.matrix.max(axis=0) - axis.matrix.min(axis=0)
    if not np.any(spread > MIN_COLUMN_SPREAD):
        warnings.warn(
            f"the {axis.kind} grid [{axis.grid[0]:.3g}, {axis.grid[-1]:.3g}] lies outside what "
            f"the acquisition [{axis.tau[0]:.3g}, {axis.tau[-1]:.3g}] can see (no kernel "
            f"column changes by more than {MIN_COLUMN_SPREAD:g} along it); move the grid into "
            "the acquisition window or use grid=None",
            UserWarning,
            stacklevel=3,
        )


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

    def __init__(self, axis1: KernelAxis, axis2: KernelAxis) -> None:
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


def _truncated_svd(K: np.ndarray, rtol: float) -> AxisFactor:
    return AxisFactor.from_matrix(K, rtol)

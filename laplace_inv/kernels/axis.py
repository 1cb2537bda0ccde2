"""One acquisition axis: its kind, acquisition values, output grid and kernel matrix.

Units are SI throughout: seconds for times and relaxation times, s/m² for b-values and
m²/s for diffusion coefficients.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.kernels.grids import DEFAULT_GRID_SIZE

KINDS: tuple[str, ...] = ("T2", "T1_IR", "T1_SR", "D")
"""The kernel kinds understood by `KernelAxis`."""

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
        increasing and positive. ``None`` selects `default_grid` with ``n_grid``
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
            from laplace_inv.kernels import default_grid  # not at the top: the package imports us

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

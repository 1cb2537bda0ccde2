"""The result of inverting one dataset (a 2D map or a 1D distribution) and its fit figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.kernels import Kernel2D
from laplace_inv.metrics import relative_residual as _relative_residual
from laplace_inv.metrics import residual_to_noise as _residual_to_noise


@dataclass
class InversionResult:
    """One inverted dataset: the map, its grids and how well it explains the data.

    A 1D inversion (a `Kernel1D`) keeps the same attributes with a singleton second axis:
    ``map`` has shape ``(N, 1)`` and ``data`` ``(n, 1)``; `distribution` and `grid` are the
    1D views, `projections` returns the distribution itself, `peaks` has one position per
    peak and `plot` draws the distribution with the decay and its fit.

    Attributes
    ----------
    map : numpy.ndarray
        The distribution ``F``, shape ``(N1, N2)``, non-negative, in the data's units
        (map mass per bin; ``K1 F K2ᵀ`` reproduces the data).
    kernel : Kernel2D
        The kernel used (a `Kernel1D` for a 1D decay).
    data : numpy.ndarray
        The data that was inverted, shape ``(n1, n2)``.
    info : dict
        Solver information: method, chosen α, iteration counts, wall time, ...
    noise_std : float or None
        Noise standard deviation (given or estimated), in data units.
    warnings : list of str
        What the fit check (`laplace_inv.diagnostics.fit_warnings`) found wrong with the
        residual: each names the likely cause and the fix. Empty for a clean fit.
    """

    map: np.ndarray
    kernel: Kernel2D
    data: np.ndarray
    info: dict = field(default_factory=dict)
    noise_std: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ndim(self) -> int:
        """1 for a decay inverted with a `Kernel1D`, 2 for a map."""
        return self.kernel.ndim

    @property
    def distribution(self) -> np.ndarray:
        """The 1D distribution, shape ``(N,)`` (1D results only)."""
        self._require_1d("distribution")
        return self.map[:, 0]

    @property
    def grid(self) -> np.ndarray:
        """The grid of a 1D distribution (s, or m²/s for ``D``; 1D results only)."""
        self._require_1d("grid")
        return self.kernel.grid1

    def _require_1d(self, name: str) -> None:
        if self.ndim != 1:
            raise AttributeError(
                f"{name} belongs to 1D results; a 2D result has map, grid1 and grid2"
            )

    @property
    def grid1(self) -> np.ndarray:
        """Output grid of axis 1."""
        return self.kernel.grid1

    @property
    def grid2(self) -> np.ndarray:
        """Output grid of axis 2."""
        return self.kernel.grid2

    @property
    def kinds(self) -> tuple[str, ...]:
        """Kernel kinds of the two axes (one in 1D)."""
        return self.kernel.kinds

    @property
    def fit(self) -> np.ndarray:
        """The data the map predicts, ``K1 F K2ᵀ`` (plus any fitted offset)."""
        return self.kernel.forward(self.map) + float(self.info.get("offset", 0.0))

    @property
    def residual(self) -> np.ndarray:
        """``S − fit``."""
        return self.data - self.fit

    @property
    def relative_residual(self) -> float:
        """``‖S − fit‖ / ‖S‖`` (0 for all-zero data)."""
        if not np.any(self.data):
            return 0.0
        return _relative_residual(self.data, self.fit)

    @property
    def residual_to_noise(self) -> float | None:
        """RMS residual divided by the noise standard deviation (≈ 1 for a good fit)."""
        if not self.noise_std:
            return None
        return _residual_to_noise(self.data, self.fit, self.noise_std)

    def projections(self) -> tuple[np.ndarray, ...]:
        """Marginal distributions along axis 1 (summed over axis 2) and along axis 2.

        A 1D result has one: ``(distribution,)``.
        """
        if self.ndim == 1:
            return (self.distribution,)
        return self.map.sum(axis=1), self.map.sum(axis=0)

    def peaks(self, **kwargs: Any) -> list:
        """Detected peaks (`laplace_inv.metrics.find_peaks`, or `find_peaks_1d` in 1D)."""
        from laplace_inv.metrics import find_peaks
        from laplace_inv.metrics.peaks import find_peaks_1d

        if self.ndim == 1:
            return find_peaks_1d(self.distribution, self.grid, **kwargs)
        return find_peaks(self.map, self.grid1, self.grid2, **kwargs)

    def plot(self, **kwargs: Any):
        """The map with both projections (`laplace_inv.plotting.plot_map`).

        A 1D result draws the distribution beside the decay, its fit and the residual
        (`laplace_inv.plotting.plot_distribution`).
        """
        from laplace_inv.plotting import plot_distribution, plot_map

        if self.ndim == 1:
            kwargs.setdefault("tau", self.kernel.axis1.tau)
            kwargs.setdefault("data", self.data[:, 0])
            kwargs.setdefault("fit", self.fit[:, 0])
            kwargs.setdefault("peaks", self.peaks())
            return plot_distribution(self.distribution, self.grid, self.kinds[0], **kwargs)
        kwargs.setdefault("peaks", self.peaks())
        return plot_map(self.map, self.grid1, self.grid2, self.kinds, **kwargs)

    def summary(self) -> dict:
        """A flat dictionary of the headline figures (used by the CLI and benchmarks)."""
        out: dict[str, Any] = {
            "method": self.info.get("method", "?"),
            "relative_residual": self.relative_residual,
            "residual_to_noise": self.residual_to_noise,
            "time_s": self.info.get("time_s"),
        }
        if "alpha" in self.info:
            out["alpha"] = self.info["alpha"]
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

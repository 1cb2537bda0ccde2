"""The acquisition container every reader returns: 1D decays and 2D maps alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.io._common import as_kinds, wrap
from laplace_inv.kernels import (
    DEFAULT_GRID_SIZE,
    GRID_MARGINS,
    Kernel1D,
    Kernel2D,
    KernelAxis,
    default_grid,
    grid_range,
)

D_GRID_MARGIN = GRID_MARGINS["D"][0]
"""Factor by which the default D grid extends beyond ``[1/b_max, 1/b_min]`` on each side."""


def resolvable_d_range(b: np.ndarray) -> tuple[float, float]:
    """The D range a set of b-values (s/m²) can resolve: the default D grid's span.

    A component decays by ``exp(-b·D)``. It is visible only if it decays measurably by the
    largest b, ``D ≳ 1/b_max``, and if it has not vanished by the first positive b,
    ``D ≲ 1/b_min``. Both ends are widened by `D_GRID_MARGIN`: ``[0.1/b_max, 10/b_min]``
    (`laplace_inv.kernels.grid_range`, the rule every default grid follows).

    Examples
    --------
    >>> lo, hi = resolvable_d_range(np.array([0.0, 1e8, 4e8, 9e8]))
    >>> f"{lo:.3g} {hi:.3g}"
    '1.11e-10 1e-07'
    """
    b = np.sort(np.asarray(b, dtype=np.float64))
    if b.size < 2 or b[-1] <= 0 or b[-1] == b[0]:
        raise ValueError("b-values need at least two distinct values with b_max > 0")
    return grid_range("D", b)


def _check_grid_hint(hint: Any, src: str, n_axes: int) -> tuple:
    try:
        out = tuple((float(lo), float(hi), int(n)) for lo, hi, n in hint)
    except (TypeError, ValueError):
        out = ()
    if len(out) != n_axes:
        shape = "((lo1, hi1, N1), (lo2, hi2, N2))" if n_axes == 2 else "((lo, hi, N),)"
        raise ValueError(f"{src}: grid_hint must be {shape}, got {hint!r}")
    for lo, hi, n in out:
        if not (0 < lo < hi and math.isfinite(hi)) or n < 2:
            raise ValueError(f"{src}: grid_hint ranges need 0 < lo < hi and N >= 2, got {out!r}")
    return out


@dataclass
class Acquisition:
    """One 1D or 2D acquisition read from disk.

    A 2D acquisition has two kinds and both axes; a 1D acquisition (a single CPMG, inversion
    recovery or diffusion decay) has one kind, ``tau2 = None`` and data of shape ``(n,)``.
    `ndim` tells them apart.

    Parameters
    ----------
    data : numpy.ndarray
        Real data: shape ``(n1, n2)`` (rows follow ``tau1``, the indirect dimension; columns
        ``tau2``, the direct CPMG dimension), or ``(n,)`` for a 1D decay along ``tau1``.
    tau1 : numpy.ndarray
        First (or only) acquisition axis in SI units: s, or s/m² for a ``"D"`` axis.
    tau2 : numpy.ndarray or None
        Second axis in SI units; ``None`` for a 1D acquisition.
    kinds : tuple of str
        Kernel kinds, one per axis: ``("T1_IR", "T2")``, or ``("T2",)`` for a 1D decay.
    noise_std : float or None
        Noise standard deviation in data units, when the file allows an estimate.
    grid_hint : tuple or None
        Output-grid settings from the tool, one ``(lo, hi, N)`` per axis in SI units (s, or
        m²/s for ``"D"``), log-spaced. ``None`` when the file has none.
    metadata : dict
        Everything else the reader found (parameters, phases, file names).
    source : str
        Path the acquisition was read from.

    Examples
    --------
    >>> acq = Acquisition(np.ones((3, 4)), np.array([1e-3, 1e-2, 1e-1]),
    ...                   np.arange(1, 5) * 1e-3, ("T1_IR", "T2"))
    >>> acq.shape, acq.ndim
    ((3, 4), 2)
    >>> acq.kernel(n_grid=16).map_shape
    (16, 16)
    >>> one = Acquisition(np.exp(-np.arange(1, 6) / 3), np.arange(1, 6) * 1e-3, None, ("T2",))
    >>> one.ndim, one.kind, one.shape
    (1, 'T2', (5,))
    >>> Acquisition(np.ones((3, 5)), [1.0, 2.0, 3.0], [1.0, 2.0], ("T2", "T2"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: <memory>: data has shape (3, 5) but tau1 has 3 values and tau2 has 2 ...
    """

    data: np.ndarray
    tau1: np.ndarray
    tau2: np.ndarray | None
    kinds: tuple[str, ...]
    noise_std: float | None = None
    grid_hint: tuple | None = None
    metadata: dict = field(default_factory=dict)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        src = self.source
        if not isinstance(self.kinds, (tuple, list)):
            raise ValueError(f"{src}: kinds must be a tuple of kinds, got {self.kinds!r}")
        n_axes = 1 if self.tau2 is None else 2
        self.kinds = as_kinds(self.kinds, src, n_axes)
        data = wrap(as_real_array, src, self.data, "data")
        if data.ndim != n_axes:
            want = "2D (n1, n2)" if n_axes == 2 else "1D (n,) because tau2 is None"
            raise ValueError(f"{src}: data must be {want}, got shape {data.shape}")
        wrap(check_finite, src, data, "data")
        self.data = np.ascontiguousarray(data, dtype=np.float64)
        self.tau1 = wrap(check_axis_values, src, self.tau1, "tau1")
        if self.tau2 is not None:
            self.tau2 = wrap(check_axis_values, src, self.tau2, "tau2")
        self._check_shape()
        if self.noise_std is not None:
            noise = float(self.noise_std)
            if not math.isfinite(noise) or noise < 0:
                raise ValueError(f"{src}: noise_std must be finite and >= 0, got {noise!r}")
            self.noise_std = noise
        if self.grid_hint is not None:
            self.grid_hint = _check_grid_hint(self.grid_hint, src, n_axes)
        if self.metadata is None:
            self.metadata = {}

    def _check_shape(self) -> None:
        src = self.source
        if self.tau2 is None:
            if self.data.shape != (self.tau1.size,):
                raise ValueError(
                    f"{src}: data has shape {self.data.shape} but tau1 has {self.tau1.size} values"
                )
            return
        n1, n2 = self.tau1.size, self.tau2.size
        if self.data.shape != (n1, n2):
            hint = "; it looks transposed" if self.data.shape == (n2, n1) else ""
            raise ValueError(
                f"{src}: data has shape {self.data.shape} but tau1 has {n1} values and tau2 "
                f"has {n2} (rows must follow tau1, columns tau2){hint}"
            )

    @property
    def ndim(self) -> int:
        """Number of acquisition axes: 1 for a decay, 2 for a map."""
        return len(self.kinds)

    @property
    def shape(self) -> tuple[int, ...]:
        """The data shape: ``(n1, n2)``, or ``(n,)`` in 1D."""
        return tuple(self.data.shape)

    @property
    def kind(self) -> str:
        """The kind of a 1D acquisition (the first kind of a 2D one)."""
        return self.kinds[0]

    @property
    def axes(self) -> tuple[np.ndarray, ...]:
        """The acquisition axes, one per dimension (SI units)."""
        return (self.tau1,) if self.tau2 is None else (self.tau1, self.tau2)

    def grids(self, n_grid: int | None = None) -> tuple[np.ndarray, ...]:
        """Output grids, one per axis.

        The tool's `grid_hint` when present (``n_grid`` then overrides only the number of
        points). Otherwise the span the acquisition can resolve, the same rule for 1D and
        2D and for every kind (`laplace_inv.kernels.grid_range`): relaxation
        ``[t_min/5, 3·t_max]`` with ``t_min`` the first positive delay or echo time, and
        diffusion ``[0.1/b_max, 10/b_min]`` with ``b_min`` the smallest positive b-value.
        ``n_grid`` points (64 by default), log-spaced.

        Examples
        --------
        >>> acq = Acquisition(np.ones((3, 2)), [0.0, 1e8, 4e8], [1e-3, 2e-3], ("D", "T2"))
        >>> [f"{g[0]:.3g}..{g[-1]:.3g}" for g in acq.grids(8)]
        ['2.5e-10..1e-07', '0.0002..0.006']
        >>> acq.grids(-4)
        Traceback (most recent call last):
        ...
        ValueError: n_grid (grid points per axis) must be an integer >= 2, got -4
        """
        if n_grid is not None and (
            isinstance(n_grid, bool) or not float(n_grid).is_integer() or int(n_grid) < 2
        ):
            raise ValueError(
                f"n_grid (grid points per axis) must be an integer >= 2, got {n_grid!r}"
            )
        n = DEFAULT_GRID_SIZE if n_grid is None else int(n_grid)
        if self.grid_hint is not None:
            return tuple(
                np.geomspace(lo, hi, int(n_grid if n_grid is not None else m))
                for lo, hi, m in self.grid_hint
            )
        return tuple(
            default_grid(kind, tau, n) for kind, tau in zip(self.kinds, self.axes, strict=True)
        )

    def kernel(self, n_grid: int | None = None) -> Kernel2D:
        """The suggested kernel for this acquisition, on the grids of `grids`.

        A `Kernel2D` for a 2D acquisition, a `Kernel1D` (a `Kernel2D` with a singleton
        second axis) for a 1D decay.

        Examples
        --------
        >>> one = Acquisition(np.exp(-np.arange(1, 6) / 3), np.arange(1, 6) * 1e-3, None,
        ...                   ("T2",))
        >>> one.kernel(n_grid=16)
        Kernel1D(KernelAxis('T2', tau=[0.001..0.005] (5), grid=[0.0002..0.015] (16)))
        """
        grids = self.grids(n_grid)
        if self.tau2 is None:
            return Kernel1D(KernelAxis(self.kinds[0], self.tau1, grids[0]))
        return Kernel2D(
            KernelAxis(self.kinds[0], self.tau1, grids[0]),
            KernelAxis(self.kinds[1], self.tau2, grids[1]),
        )

    def __repr__(self) -> str:
        axes = ", ".join(f"tau{i + 1}=[{t[0]:.3g}..{t[-1]:.3g}]" for i, t in enumerate(self.axes))
        return (
            f"Acquisition(kinds={self.kinds}, shape={self.shape}, {axes}, "
            f"noise_std={self.noise_std}, source={self.source!r})"
        )

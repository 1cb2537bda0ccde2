"""Peaks of a batch of maps as one structured array (``predict(..., output="peaks")``).

With the kernel given, each peak carries the physics flags of the cell it lies in
(`laplace_inv.diagnostics.physics_regions`): ``T1<T2/2`` in a T1-T2 map, or outside what the
acquisition can see (``T2<first echo``, ``D>1/b_min``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from laplace_inv.diagnostics import physics_regions, region_labels

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.kernels import Kernel2D

#: One row per detected peak (``output="peaks"``); positions and widths as in
#: `laplace_inv.metrics.Peak` (log10 units for ``log_position*`` and ``fwhm*``); ``flags``
#: the physics flags of the peak's cell as a bit mask (0 when none or unknown; decode with
#: `laplace_inv.diagnostics.describe_flags`).
PEAK_DTYPE = np.dtype(
    [
        ("sample", np.int64),
        ("peak", np.int32),
        ("log_position1", np.float64),
        ("log_position2", np.float64),
        ("position1", np.float64),
        ("position2", np.float64),
        ("fwhm1", np.float64),
        ("fwhm2", np.float64),
        ("mass", np.float64),
        ("fraction", np.float64),
        ("height", np.float64),
        ("row", np.int32),
        ("col", np.int32),
        ("flags", np.int32),
    ]
)


def kernel_regions(kernel: Kernel2D) -> dict[str, np.ndarray]:
    """The physics regions (`laplace_inv.diagnostics.physics_regions`) of a kernel's map.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> sorted(kernel_regions(cement_kernel()))[:2]
    ['T1<T2/2', 'T1<first delay']

    A 1D kernel gives masks of its map's shape ``(N, 1)``:

    >>> from laplace_inv import Kernel1D, KernelAxis
    >>> masks = kernel_regions(Kernel1D(KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=30)))
    >>> sorted(masks), masks["T2<first echo"].shape
    (['T2<first echo', 'T2>last echo'], (30, 1))
    """
    if kernel.ndim == 1:
        masks = physics_regions(kernel.grid1, None, kernel.kinds[:1], kernel.axis1.tau)
        return {name: mask[:, None] for name, mask in masks.items()}
    return physics_regions(
        kernel.grid1, kernel.grid2, kernel.kinds, kernel.axis1.tau, kernel.axis2.tau
    )


def peak_flags(index: tuple[int, ...], regions: dict[str, np.ndarray]) -> list[str]:
    """The names of the regions holding map cell ``index``.

    Examples
    --------
    >>> peak_flags((0, 1), {"T1<T2": np.array([[False, True]]), "x": np.zeros((1, 2), bool)})
    ['T1<T2']
    """
    return [name for name, mask in regions.items() if mask[tuple(index)]]


def peak_table(
    maps: np.ndarray,
    grid1: np.ndarray,
    grid2: np.ndarray,
    offset: int = 0,
    *,
    kernel: Kernel2D | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """One `PEAK_DTYPE` row per peak of every map (``laplace_inv.metrics.find_peaks``).

    Parameters
    ----------
    maps : numpy.ndarray
        Maps, shape ``(n, N1, N2)``.
    grid1 : numpy.ndarray
        Axis-1 grid.
    grid2 : numpy.ndarray
        Axis-2 grid.
    offset : int
        Number of the first map (for the ``sample`` column).
    kernel : Kernel2D, optional
        The kernel of the maps: fills the ``flags`` column (`kernel_regions`, bits of
        `laplace_inv.diagnostics.region_labels`).
    **kwargs
        Options of ``find_peaks`` (``min_fraction``...).

    Returns
    -------
    numpy.ndarray
        Structured, dtype `PEAK_DTYPE`.

    Examples
    --------
    >>> g = np.logspace(-3, 0, 11)
    >>> F = np.zeros((2, 11, 11)); F[0, 2, 8] = 1.0; F[1, 5, 5] = 2.0; F[1, 9, 1] = 2.0
    >>> t = peak_table(F, g, g)
    >>> t["sample"].tolist(), t["peak"].tolist(), t["row"].tolist()
    ([0, 1, 1], [0, 0, 1], [2, 5, 9])
    >>> from laplace_inv.diagnostics import describe_flags
    >>> from laplace_inv.kernels import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(2e-3, 1, 8), g),
    ...              KernelAxis("T2", np.arange(1, 51) * 2e-3, g))
    >>> flags = peak_table(F, g, g, kernel=k)["flags"]
    >>> [describe_flags(f, k.kinds) for f in flags]
    ['T1<T2/2,T2>last echo', '', 'T2<first echo']
    """
    from laplace_inv.metrics import find_peaks

    regions = kernel_regions(kernel) if kernel is not None else {}
    bits = region_labels(kernel.kinds) if kernel is not None else {}
    rows = []
    for i, F in enumerate(maps):
        for j, p in enumerate(find_peaks(F, grid1, grid2, **kwargs)):
            rows.append(
                (
                    offset + i,
                    j,
                    *p.log_position,
                    *p.position,
                    *p.fwhm,
                    p.mass,
                    p.fraction,
                    p.height,
                    *p.index,
                    sum(bits[name] for name in peak_flags(p.index, regions)),
                )
            )
    return np.array(rows, dtype=PEAK_DTYPE)

"""Maps from the network's native grid to any output grid, keeping mass and position.

The network runs on the grid it was trained on (`native_kernel`: the same acquisition with
that many points over the requested range); its map is then moved to the requested grid by
`transfer_matrix`, one axis at a time: ``F = T1 F_native T2ᵀ``, in ``log10`` of the grids.
Every native bin hands over all of its mass, and its centre of mass stays where it was up to
a fraction of the requested cell width.
"""

from __future__ import annotations

import numpy as np

from laplace_inv.kernels import Kernel2D

#: Sample points per requested cell in the numerical integration of the hats.
SUBSAMPLES = 32


def _cell_edges(x: np.ndarray) -> np.ndarray:
    """Edges of the cells around sorted points ``x``: midpoints, half a spacing at the ends."""
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])


def _overlap(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Share of each source cell that lies in each target cell (boxes in log space)."""
    se, te = _cell_edges(source), _cell_edges(target)
    lo = np.maximum(te[:-1, None], se[None, :-1])
    hi = np.minimum(te[1:, None], se[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def _hats(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each source bin's hat (linear density between neighbours) integrated per target cell.

    The outer hats are whole (symmetric), their part beyond the target range counted in the
    outer target cells, so that the outer bins keep their centres too.
    """
    edges = _cell_edges(target)
    points = np.concatenate([[2 * source[0] - source[1]], source, [2 * source[-1] - source[-2]]])
    lo, hi = min(edges[0], points[0]), max(edges[-1], points[-1])
    m = (
        SUBSAMPLES
        * max(len(target), len(source))
        * max(1, round((hi - lo) / (edges[-1] - edges[0])))
    )
    z = np.linspace(lo, hi, m + 1)
    z = 0.5 * (z[1:] + z[:-1])
    unit = np.pad(np.eye(len(source)), ((1, 1), (0, 0)))
    hats = np.stack([np.interp(z, points, u) for u in unit.T], axis=1)
    cell = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, len(target) - 1)
    out = np.zeros((len(target), len(source)))
    np.add.at(out, cell, hats)
    return out


def transfer_matrix(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mass-conserving transfer from points ``source`` to points ``target`` (one axis).

    Onto a grid no finer than the source, each source cell's mass goes to the target cells
    it overlaps, in proportion (the identity for equal grids); onto a finer grid, each
    source bin's mass is spread as a hat, the piecewise-linear interpolant of the density,
    so that the map does not turn into steps.

    Parameters
    ----------
    source : numpy.ndarray, shape (Ns,)
        Increasing positions of the source bins (``log10`` of the grid).
    target : numpy.ndarray, shape (Nt,)
        Increasing positions of the target bins, in the same units.

    Returns
    -------
    numpy.ndarray, shape (Nt, Ns)
        Non-negative; every column sums to one (total mass is kept), and a source bin
        keeps its centre of mass to within a fraction of a target cell.

    Examples
    --------
    >>> T = transfer_matrix(np.linspace(0, 1, 5), np.linspace(0, 1, 9))
    >>> T.shape, bool(np.allclose(T.sum(axis=0), 1.0))
    ((9, 5), True)
    >>> x = np.linspace(0, 1, 9)
    >>> bool(np.allclose(x @ T, np.linspace(0, 1, 5), atol=0.07))
    True
    >>> bool(np.allclose(transfer_matrix(x, x), np.eye(9)))
    True
    """
    source = np.asarray(source, dtype=float)
    target = np.asarray(target, dtype=float)
    if len(source) < 2 or len(target) < 2:
        raise ValueError("a grid transfer needs at least two points on each side")
    T = _hats(source, target) if len(target) > len(source) else _overlap(source, target)
    # A source cell beyond the target range keeps its mass in the nearest target cell.
    empty = T.sum(axis=0) <= 0
    T[np.where(source[empty] < target[0], 0, len(target) - 1), np.flatnonzero(empty)] = 1.0
    return T / T.sum(axis=0, keepdims=True)


def native_kernel(kernel: Kernel2D, shape: tuple[int, int]) -> Kernel2D:
    """The same acquisition on geometric grids of ``shape`` over the kernel's grid range.

    Parameters
    ----------
    kernel : Kernel2D
        The requested acquisition and output grids.
    shape : tuple of int
        ``(N1, N2)`` of the native grids.

    Returns
    -------
    Kernel2D
        ``kernel`` itself when its grids already have ``shape``.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> native_kernel(k, (64, 64)) is k, native_kernel(k, (32, 16)).map_shape
    (True, (32, 16))
    """
    if tuple(kernel.map_shape) == tuple(shape):
        return kernel
    g1, g2 = kernel.grid1, kernel.grid2
    return kernel.with_grids(
        np.geomspace(g1[0], g1[-1], int(shape[0])), np.geomspace(g2[0], g2[-1], int(shape[1]))
    )


def grid_transfer(native: Kernel2D, kernel: Kernel2D) -> tuple[np.ndarray, np.ndarray]:
    """``(T1, T2)`` moving maps from ``native``'s grids to ``kernel``'s: ``T1 F T2ᵀ``.

    Parameters
    ----------
    native : Kernel2D
        Where the maps are.
    kernel : Kernel2D
        Where they go.

    Returns
    -------
    tuple of numpy.ndarray
        Shapes ``(N1, n1)`` and ``(N2, n2)`` (`transfer_matrix` per axis).

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> T1, T2 = grid_transfer(native_kernel(k, (32, 32)), k)
    >>> T1.shape, T2.shape
    ((64, 32), (64, 32))
    """
    return (
        transfer_matrix(np.log10(native.grid1), np.log10(kernel.grid1)),
        transfer_matrix(np.log10(native.grid2), np.log10(kernel.grid2)),
    )

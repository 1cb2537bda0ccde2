"""Regions of a Laplace map: boxes, polygons and cut-offs, and what a map holds inside them.

A region is defined in SI units (seconds; m²/s for diffusion). Axis 1 is the map's rows (T1,
D or the first T2), axis 2 its columns (T2). A 1D distribution has axis 1 only.

A pixel belongs to a region when its *centre* (the grid value) lies inside; boundaries count
as inside. Maps hold mass per bin (as everywhere in the package, e.g. the peak fractions of
`laplace_inv.metrics.find_peaks`), so a region's mass is the plain sum of its pixels and no
area weighting is applied. Negative map entries are treated as zero.

Regions are read from and written to small TOML or JSON files (`load_regions`,
`save_regions`); the format is described in the user guide's "Regions" page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.analysis.region_files import (
    load_regions,
    regions_from_dict,
    regions_to_dict,
    save_regions,
)
from laplace_inv.analysis.shapes import Box, Cutoff, Polygon, Region

__all__ = [
    "Box",
    "Cutoff",
    "Polygon",
    "Region",
    "RegionStats",
    "integrate_regions",
    "load_regions",
    "region_mask",
    "regions_from_dict",
    "regions_to_dict",
    "save_regions",
]


def _grids(grid1: Any, grid2: Any) -> tuple[np.ndarray, np.ndarray | None]:
    g1 = check_axis_values(grid1, "grid1", allow_zero=False)
    g2 = None if grid2 is None else check_axis_values(grid2, "grid2", allow_zero=False)
    return g1, g2


def _inside_polygon(lx1: np.ndarray, lx2: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule on points ``(lx1, lx2)`` (same shape); boundary points count as inside."""
    inside = np.zeros(lx1.shape, dtype=bool)
    on_edge = np.zeros(lx1.shape, dtype=bool)
    n = len(vertices)
    for k in range(n):
        (a1, a2), (b1, b2) = vertices[k], vertices[(k + 1) % n]
        crosses = (a2 > lx2) != (b2 > lx2)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = a1 + (lx2 - a2) * (b1 - a1) / (b2 - a2)
        inside ^= crosses & (lx1 < at)
        # Points on the edge: collinear with it and within its bounding box.
        cross = (b1 - a1) * (lx2 - a2) - (b2 - a2) * (lx1 - a1)
        scale = max(abs(b1 - a1), abs(b2 - a2), 1.0)
        on_edge |= (
            (np.abs(cross) <= 1e-12 * scale)
            & (lx1 >= min(a1, b1) - 1e-12)
            & (lx1 <= max(a1, b1) + 1e-12)
            & (lx2 >= min(a2, b2) - 1e-12)
            & (lx2 <= max(a2, b2) + 1e-12)
        )
    return inside | on_edge


def _within(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (values >= bounds[0]) & (values <= bounds[1])


def region_mask(region: Region, grid1: Any, grid2: Any = None) -> np.ndarray:
    """Which pixels of a map lie in a region (pixel centres, boundaries inclusive).

    Parameters
    ----------
    region : Box, Polygon or Cutoff
        The region, in SI units.
    grid1 : array_like
        Grid of axis 1 (rows), positive and increasing.
    grid2 : array_like or None
        Grid of axis 2 (columns); None for a 1D distribution.

    Returns
    -------
    numpy.ndarray of bool
        Shape ``(N1, N2)``, or ``(N1,)`` in 1D.

    Examples
    --------
    >>> g = np.array([0.001, 0.01, 0.1, 1.0])
    >>> region_mask(Box("b", (0.005, 0.2), (0.05, 2.0)), g, g).astype(int)
    array([[0, 0, 0, 0],
           [0, 0, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 0, 0]])
    >>> region_mask(Cutoff("short", axis=1, value=0.01, side="below"), g).astype(int)
    array([1, 1, 0, 0])
    """
    g1, g2 = _grids(grid1, grid2)
    if isinstance(region, Box):
        m1 = _within(g1, region.x1)
        if g2 is None:
            if region.x2 is not None:
                raise ValueError(
                    f"box {region.name!r} has an x2 range but the distribution is 1D; "
                    "drop x2 or give grid2"
                )
            return m1
        m2 = np.ones(g2.size, dtype=bool) if region.x2 is None else _within(g2, region.x2)
        return m1[:, None] & m2[None, :]
    if isinstance(region, Polygon):
        if g2 is None:
            raise ValueError(
                f"polygon {region.name!r} needs a 2D map; use a Box or Cutoff for 1D data"
            )
        verts = np.log10(np.asarray(region.vertices, dtype=float))
        lx1, lx2 = np.meshgrid(np.log10(g1), np.log10(g2), indexing="ij")
        return _inside_polygon(lx1, lx2, verts)
    if isinstance(region, Cutoff):
        if region.axis == 2 and g2 is None:
            raise ValueError(
                f"cutoff {region.name!r} is on axis 2 but the distribution is 1D; use axis = 1"
            )
        grid = g1 if region.axis == 1 else g2
        assert grid is not None
        side = grid <= region.value if region.side == "below" else grid > region.value
        if g2 is None:
            return side
        if region.axis == 1:
            return np.repeat(side[:, None], g2.size, axis=1)
        return np.repeat(side[None, :], g1.size, axis=0)
    raise TypeError(f"region must be a Box, Polygon or Cutoff, got {type(region).__name__}")


@dataclass(frozen=True)
class RegionStats:
    """What a map holds inside one region.

    Attributes
    ----------
    name : str
        The region's name.
    fraction : float
        Share of the map's total (non-negative) mass inside the region.
    log_mean : tuple of float
        Signal-weighted mean of log10(position) per axis (NaN when the region is empty).
    position : tuple of float
        ``10 ** log_mean``, SI units.
    log_width : tuple of float
        Signal-weighted standard deviation of log10(position) per axis, in decades.
    ratio : float or None
        T1/T2 (``position[0] / position[1]``) for T1-T2 maps, else None.

    Examples
    --------
    >>> g = np.logspace(-3, 0, 4)
    >>> s = integrate_regions(np.eye(4), g, g, [Box("all", (1e-4, 10), (1e-4, 10))])[0]
    >>> s.fraction, s.log_mean
    (1.0, (-1.5, -1.5))
    """

    name: str
    fraction: float
    log_mean: tuple[float, ...]
    position: tuple[float, ...]
    log_width: tuple[float, ...]
    ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        """A flat dict (one key per axis) for tables and CSV files.

        Examples
        --------
        >>> RegionStats("a", 0.5, (-1.0,), (0.1,), (0.2,), None).as_dict()["position1"]
        0.1
        """
        out: dict[str, Any] = {"name": self.name, "fraction": self.fraction}
        axes = zip(self.log_mean, self.position, self.log_width, strict=True)
        for k, (lm, pos, w) in enumerate(axes):
            out[f"log_mean{k + 1}"] = lm
            out[f"position{k + 1}"] = pos
            out[f"log_width{k + 1}"] = w
        out["ratio"] = self.ratio
        return out


def _check_map(F: Any, g1: np.ndarray, g2: np.ndarray | None) -> np.ndarray:
    arr = as_real_array(F, "F")
    check_finite(arr, "F")
    shape = (g1.size,) if g2 is None else (g1.size, g2.size)
    if arr.shape != shape:
        raise ValueError(
            f"F has shape {arr.shape} but the grids give {shape}; rows follow grid1"
            + (", columns grid2" if g2 is not None else " (1D: grid2=None)")
        )
    return np.clip(arr, 0.0, None)


def _is_t1_t2(kinds: Any) -> bool:
    if kinds is None or len(kinds) != 2:
        return False
    return str(kinds[0]).startswith("T1") and str(kinds[1]) == "T2"


def _stats(name: str, weights: np.ndarray, logs: list[np.ndarray], total: float) -> RegionStats:
    mass = float(weights.sum())
    if mass <= 0:
        nan = tuple(float("nan") for _ in logs)
        return RegionStats(name, 0.0, nan, nan, nan, None)
    means = [float((weights * lg).sum() / mass) for lg in logs]
    widths = [
        float(np.sqrt(max(float((weights * (lg - m) ** 2).sum() / mass), 0.0)))
        for lg, m in zip(logs, means, strict=True)
    ]
    return RegionStats(
        name=name,
        fraction=mass / total if total > 0 else 0.0,
        log_mean=tuple(means),
        position=tuple(float(10.0**m) for m in means),
        log_width=tuple(widths),
        ratio=None,
    )


def integrate_regions(
    F: Any,
    grid1: Any,
    grid2: Any,
    regions: Any,
    kinds: Any = None,
) -> list[RegionStats]:
    """Fraction, signal-weighted log-mean position and width of a map in each region.

    Parameters
    ----------
    F : array_like
        The map, shape ``(N1, N2)`` (or ``(N1,)`` for a 1D distribution); mass per bin.
    grid1 : array_like
        Grid of axis 1, SI units.
    grid2 : array_like or None
        Grid of axis 2, SI units; None for 1D.
    regions : sequence of Box, Polygon or Cutoff
        The regions (they may overlap; each is integrated on its own).
    kinds : tuple of str, optional
        The kernel kinds of the axes (e.g. ``("T1_IR", "T2")``); a T1-T2 map gets the
        ratio T1/T2 of each region's position.

    Returns
    -------
    list of RegionStats
        In the order of ``regions``.

    Examples
    --------
    >>> g = np.logspace(-3, 0, 31)
    >>> F = np.zeros((31, 31))
    >>> F[20, 10] = 3.0
    >>> F[25, 5] = 1.0
    >>> cut = Cutoff("short T2", axis=2, value=0.005, side="below")
    >>> s = integrate_regions(F, g, g, [cut], kinds=("T1_IR", "T2"))[0]
    >>> round(s.fraction, 2), [round(v, 2) for v in s.log_mean], round(s.ratio)
    (0.25, [-0.5, -2.5], 100)
    """
    g1, g2 = _grids(grid1, grid2)
    Fc = _check_map(F, g1, g2)
    if isinstance(regions, (Box, Polygon, Cutoff)):
        regions = [regions]
    total = float(Fc.sum())
    if g2 is None:
        logs = [np.log10(g1)]
    else:
        lx1, lx2 = np.meshgrid(np.log10(g1), np.log10(g2), indexing="ij")
        logs = [lx1, lx2]
    ratio_applies = g2 is not None and _is_t1_t2(kinds)
    out = []
    for region in regions:
        mask = region_mask(region, g1, g2)
        stats = _stats(region.name, np.where(mask, Fc, 0.0), logs, total)
        if ratio_applies and stats.fraction > 0:
            ratio = stats.position[0] / stats.position[1]
            stats = RegionStats(**{**stats.__dict__, "ratio": ratio})
        out.append(stats)
    return out

"""Region outlines, tags and uncertainty error bars on a map or a 1D distribution.

Regions follow the shapes of `laplace_inv.analysis.regions` (`Box`, `Polygon`, `Cutoff`); any
object with the same attributes works. Positions are in SI units, axis 1 = map rows (drawn
vertically), axis 2 = columns (drawn horizontally).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon as PolygonPatch

from laplace_inv.plotting._style import FONT_SIZE, REGION_COLOURS


def region_kind(region: Any) -> str:
    """``"box"``, ``"polygon"`` or ``"cutoff"`` from the attributes of ``region``."""
    if not hasattr(region, "name"):
        raise TypeError(f"a region needs a name, got {type(region).__name__}")
    if hasattr(region, "vertices"):
        return "polygon"
    if all(hasattr(region, a) for a in ("axis", "value", "side")):
        if region.side not in ("below", "above") or region.axis not in (1, 2):
            raise ValueError(
                f"region {region.name!r}: cutoff needs axis 1 or 2 and side 'below'/'above'"
            )
        return "cutoff"
    if hasattr(region, "x1"):
        return "box"
    raise TypeError(
        f"region {region.name!r}: expected a Box (x1, x2), Polygon (vertices) or Cutoff "
        "(axis, value, side)"
    )


def _outline(region: Any, kind: str, f1: float, f2: float, lims: tuple) -> np.ndarray:
    """Closed outline in display coordinates (x = axis 2, y = axis 1)."""
    x0, x1 = lims[0]
    if kind == "polygon":
        pts = np.array([(v[1] * f2, v[0] * f1) for v in region.vertices], dtype=float)
        return pts
    if kind == "box":
        lo1, hi1 = (v * f1 for v in region.x1)
        lo2, hi2 = (x0, x1) if region.x2 is None else (v * f2 for v in region.x2)
        return np.array([(lo2, lo1), (hi2, lo1), (hi2, hi1), (lo2, hi1)], dtype=float)
    raise ValueError(kind)


def _clamp(p: float, lo: float, hi: float) -> float:
    return float(np.clip(p, lo, hi))


def draw_regions_2d(ax: Axes, regions: Sequence[Any], f1: float, f2: float) -> list[Line2D]:
    """Outline each region on the map ``ax``; returns legend handles (tag: name)."""
    handles = []
    lims = (ax.get_xlim(), ax.get_ylim())
    for i, region in enumerate(regions):
        kind = region_kind(region)
        colour = REGION_COLOURS[i % len(REGION_COLOURS)]
        tag = chr(ord("A") + i % 26)
        if kind == "cutoff":
            value = region.value * (f2 if region.axis == 2 else f1)
            line = ax.axvline if region.axis == 2 else ax.axhline
            line(value, color=colour, lw=1.2, ls="--", zorder=4)
            span = ax.axvspan if region.axis == 2 else ax.axhspan
            lo, hi = lims[0] if region.axis == 2 else lims[1]
            span(
                *((lo, value) if region.side == "below" else (value, hi)),
                color=colour,
                alpha=0.06,
                lw=0,
                zorder=0.5,
            )
            tx, ty = (value, lims[1][1]) if region.axis == 2 else (lims[0][1], value)
        else:
            pts = _outline(region, kind, f1, f2, lims)
            ax.add_patch(PolygonPatch(pts, closed=True, fill=False, ec=colour, lw=1.3, zorder=4))
            lx, ly = np.log10(pts[:, 0]), np.log10(pts[:, 1])
            tx, ty = 10 ** lx.min(), 10 ** ly.max()  # top-left corner of the outline
        tx = _clamp(tx, *lims[0])
        ty = _clamp(ty, *lims[1])
        ax.annotate(
            tag,
            (tx, ty),
            xytext=(2, -2),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=FONT_SIZE,
            color=colour,
            fontweight="bold",
            annotation_clip=False,
            zorder=6,
        )
        handles.append(Line2D([], [], color=colour, lw=1.3, label=f"{tag}: {region.name}"))
    return handles


def _get(row: Any, key: str) -> Any:
    if isinstance(row, dict):
        return row.get(key)
    return getattr(row, key, None)


def uncertainty_rows(uncertainty: Any) -> list[Any]:
    """Rows of an uncertainty table: a list of rows or an object with ``table()``."""
    if uncertainty is None:
        return []
    if hasattr(uncertainty, "table") and callable(uncertainty.table):
        return list(uncertainty.table())
    if isinstance(uncertainty, (list, tuple)):
        return list(uncertainty)
    raise TypeError(
        "uncertainty must be a list of rows or an object with a table() method, got "
        f"{type(uncertainty).__name__}"
    )


def error_bars(row: Any, n_axes: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(position, [[minus...], [plus...]])`` in SI from one row, or None if incomplete.

    A row gives ``position`` and either ``position_lo``/``position_hi`` (the interval) or
    ``position_err`` (a symmetric ±), one value per axis; or it is a row of
    `laplace_inv.analysis.uncertainty.UncertaintyResult.table` (``position1``,
    ``log_position1``, ``log_position1_pm68``, ...), drawn as its 68 % interval.
    """
    pos = _get(row, "position")
    if pos is None:
        return _bootstrap_bars(row, n_axes)
    pos = np.atleast_1d(np.asarray(pos, dtype=float))[:n_axes]
    lo, hi, err = (_get(row, k) for k in ("position_lo", "position_hi", "position_err"))
    if lo is not None and hi is not None:
        lo = np.atleast_1d(np.asarray(lo, dtype=float))[:n_axes]
        hi = np.atleast_1d(np.asarray(hi, dtype=float))[:n_axes]
        return pos, np.vstack([pos - lo, hi - pos])
    if err is not None:
        err = np.atleast_1d(np.asarray(err, dtype=float))[:n_axes]
        return pos, np.vstack([err, err])
    return None


def _bootstrap_bars(row: Any, n_axes: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The 68 % position intervals of a bootstrap table row, or None if it is not one."""
    keys = [(f"log_position{k}", f"log_position{k}_pm68") for k in range(1, n_axes + 1)]
    values = [(_get(row, m), _get(row, h)) for m, h in keys]
    if any(m is None or h is None for m, h in values):
        return None
    mean = np.array([float(m) for m, _ in values])
    half = np.array([float(h) for _, h in values])
    pos = 10.0**mean
    return pos, np.vstack([pos - 10.0 ** (mean - half), 10.0 ** (mean + half) - pos])


def draw_error_bars_2d(ax: Axes, uncertainty: Any, f1: float, f2: float) -> int:
    """Cross-shaped error bars at each row's position; returns how many were drawn."""
    n = 0
    for row in uncertainty_rows(uncertainty):
        bars = error_bars(row, 2)
        if bars is None or bars[0].size < 2:
            continue
        pos, err = bars
        ax.errorbar(
            pos[1] * f2,
            pos[0] * f1,
            xerr=np.abs(err[:, 1:2]) * f2,
            yerr=np.abs(err[:, 0:1]) * f1,
            fmt="o",
            ms=3,
            color="k",
            ecolor="k",
            elinewidth=1.0,
            capsize=2,
            zorder=7,
        )
        n += 1
    return n

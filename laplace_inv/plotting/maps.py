"""One 2D Laplace map: filled contours on log axes, projections, colour bar, labels.

The layout follows Fig. 2 of the DLEMLR paper (J. Am. Chem. Soc. 2024): axis 2 (the direct
T2 dimension) horizontal, axis 1 (T1, D or the first T2) vertical, the axis-2 projection
above the map and the axis-1 projection on its right. Figures are built without pyplot, so
they work under any backend and leave no global state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from laplace_inv.metrics import Peak, _check_map, find_peaks, projections
from laplace_inv.plotting import PEAK_THRESHOLD
from laplace_inv.plotting._style import (
    FONT_SIZE,
    LINE_COLOUR,
    MAP_CMAP,
    REF_COLOUR,
    axis_labels,
    check_kinds,
    edges,
    factor,
    has_diagonal,
)
from laplace_inv.plotting.extent import resolve_limits
from laplace_inv.plotting.labels import label_peaks
from laplace_inv.plotting.layout import Panel, carve, main_size_points
from laplace_inv.plotting.regions import draw_error_bars_2d, draw_regions_2d

__all__ = ["intensity_levels", "plot_map"]


def intensity_levels(intensity: str, n_levels: int, decades: float) -> tuple[np.ndarray, Any]:
    """Contour levels (fractions of the colour-scale maximum) and the matching norm.

    Examples
    --------
    >>> levels, _ = intensity_levels("log", 3, 2.0)
    >>> levels.round(3).tolist()
    [0.01, 0.1, 1.0]
    """
    if intensity not in ("linear", "log"):
        raise ValueError(f"intensity must be 'linear' or 'log', got {intensity!r}")
    if not (isinstance(n_levels, (int, np.integer)) and n_levels >= 2):
        raise ValueError(f"levels must be an integer >= 2, got {n_levels!r}")
    if intensity == "log":
        if not (np.isfinite(decades) and decades > 0):
            raise ValueError(f"decades must be positive, got {decades!r}")
        return np.logspace(-decades, 0.0, n_levels), LogNorm(10.0**-decades, 1.0)
    levels = np.linspace(0.0, 1.0, n_levels + 1)
    levels[0] = 0.01  # keep the empty background white
    return levels, Normalize(0.0, 1.0)


def _select_peaks(peaks: Any, Fc: np.ndarray, g1: np.ndarray, g2: np.ndarray, threshold: float):
    if peaks is None:
        return []
    if isinstance(peaks, str):
        if peaks != "auto":
            raise ValueError(f"peaks must be a sequence of Peak, 'auto' or None, got {peaks!r}")
        return find_peaks(Fc, g1, g2, min_fraction=threshold)
    peaks = list(peaks)
    if not all(isinstance(p, Peak) for p in peaks):
        raise ValueError("peaks must hold laplace_inv.metrics.Peak objects")
    # below the threshold: not labelled (NaN fraction: given by the caller, kept)
    return [p for p in peaks if not np.isfinite(p.fraction) or p.fraction >= threshold]


def _draw_map(ax: Axes, Z: np.ndarray, coords: tuple, style: dict) -> Any:
    """Cells filled by contour band (so one-cell peaks stay visible) and contour lines."""
    import matplotlib

    x, y, x_edges, y_edges = coords
    levels, _ = intensity_levels(style["intensity"], style["levels"], style["decades"])
    cmap = matplotlib.colormaps[style["cmap"]]
    norm = BoundaryNorm(levels, cmap.N)
    Zc = np.where(Z >= levels[0], np.minimum(Z, 1.0), np.nan)  # below the lowest level: blank
    mesh = ax.pcolormesh(x_edges, y_edges, Zc, cmap=cmap, norm=norm, shading="flat", zorder=1)
    if min(Z.shape) >= 2 and np.any(Z >= levels[0]):
        lines = np.where(np.isfinite(Zc), Zc, 0.0)
        ax.contour(
            x, y, lines, levels=levels[::2], colors="k", linewidths=0.3, alpha=0.45, zorder=2
        )
    return mesh


def _projections(panel: Panel, Fc, ref, x, y, proj_max: float | None) -> None:
    p1, p2 = projections(Fc)
    top, right = panel.top, panel.right
    top.plot(x, p2, color=LINE_COLOUR, lw=1.1)
    top.fill_between(x, p2, color=LINE_COLOUR, alpha=0.15, lw=0)
    right.plot(p1, y, color=LINE_COLOUR, lw=1.1)
    right.fill_betweenx(y, p1, color=LINE_COLOUR, alpha=0.15, lw=0)
    if ref is not None:
        r1, r2 = projections(ref)
        scale = Fc.sum() / ref.sum() if ref.sum() > 0 and Fc.sum() > 0 else 1.0
        top.plot(x, r2 * scale, color=REF_COLOUR, lw=0.9, ls="--")
        right.plot(r1 * scale, y, color=REF_COLOUR, lw=0.9, ls="--")
    m2 = proj_max if proj_max is not None else float(max(p2.max(), 0.0))
    m1 = proj_max if proj_max is not None else float(max(p1.max(), 0.0))
    top.set_ylim(0, 1.08 * m2 if m2 > 0 else 1.0)
    right.set_xlim(0, 1.08 * m1 if m1 > 0 else 1.0)


def add_colorbar(fig: Figure, mappable: Any, rect: Sequence[float], intensity: str) -> Axes:
    """A horizontal colour bar in ``rect`` (figure fraction), ticks as fractions of max."""
    x0, y0, w, h = rect
    cax = fig.add_axes((x0 + 0.1 * w, y0 + 0.25 * h, 0.8 * w, 0.14 * h))
    cbar = fig.colorbar(mappable, cax=cax, orientation="horizontal")
    set_colorbar_ticks(cbar, mappable, intensity)
    cax.tick_params(labelsize=FONT_SIZE - 2, length=2, pad=1)
    cax.set_title("intensity / max", fontsize=FONT_SIZE - 1, pad=2)
    return cax


def set_colorbar_ticks(cbar: Any, mappable: Any, intensity: str) -> None:
    """Ticks at decades (log) or at 0.5 and 1 (linear), within the colour bar's range."""
    lo = float(mappable.norm.boundaries[0])
    if intensity == "log":
        ticks = [t for t in (0.001, 0.01, 0.1, 1.0) if t >= lo * (1 - 1e-9)]
    else:
        ticks = [lo, 0.5, 1.0]
    cbar.set_ticks(ticks)
    cbar.set_ticklabels([f"{t:g}" for t in ticks])


def _legend_below(ax: Axes, handles: list, text: str) -> None:
    handles = list(handles)
    if text:
        handles += [Line2D([], [], ls="none", label=line) for line in text.split("\n")]
    if not handles:
        return
    _, h = main_size_points(ax)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(-0.02, -34.0 / max(h, 1.0)),
        frameon=False,
        fontsize=FONT_SIZE - 1,
        handlelength=1.6,
        borderaxespad=0.0,
    )


def plot_map(
    F: Any,
    grid1: Any,
    grid2: Any,
    kinds: Sequence[str],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    peaks: Sequence[Peak] | str | None = None,
    reference: Any = None,
    log_scale_units: str = "ms",
    cmap: str = MAP_CMAP,
    intensity: str = "log",
    decades: float = 2.0,
    levels: int = 13,
    vmax: float | None = None,
    colorbar: bool = True,
    regions: Sequence[Any] | None = None,
    uncertainty: Any = None,
    peak_threshold: float = PEAK_THRESHOLD,
    projection_max: float | None = None,
    limits: Any = None,
) -> Figure:
    """Draw a 2D map as filled contours on log axes with its projections and a colour bar.

    Parameters
    ----------
    F : array_like, shape (N1, N2)
        The map; rows follow axis 1 (drawn vertically), columns axis 2 (horizontally).
    grid1 : array_like
        Axis-1 grid in SI units (s, or m²/s for ``D``).
    grid2 : array_like
        Axis-2 grid in SI units.
    kinds : pair of str
        The kinds of axis 1 and axis 2, e.g. ``("T1_IR", "T2")`` or ``("D", "T2")``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the projections and colour bar are carved out of its box. A new
        figure is made when omitted.
    title : str, optional
        Title, above the top projection.
    peaks : sequence of Peak, "auto" or None
        Peaks to mark and label (position in display units and share of the signal);
        ``"auto"`` finds them with `laplace_inv.metrics.find_peaks` at ``peak_threshold``.
        Peaks below the threshold are never labelled. Labels sit beside their peak when they
        fit without overlapping; otherwise the peaks are numbered and listed under the map.
    reference : array_like, shape (N1, N2), optional
        A reference map (e.g. the truth), drawn as red contour lines and dashed red
        projections scaled to the mass of ``F``.
    log_scale_units : {"ms", "s", "us"}
        Display unit of relaxation-time axes (diffusion axes always use m²/s).
    cmap : str
        Colour map of the filled contours.
    intensity : {"log", "linear"}
        Contour levels spaced logarithmically over ``decades`` below the maximum (small
        components stay visible) or linearly.
    decades : float
        Depth of the log intensity scale.
    levels : int
        Number of contour levels.
    vmax : float, optional
        Value at the top of the colour scale (default: the maximum of ``F``); give the same
        value to several maps to share one scale.
    colorbar : bool
        Draw the colour bar in the corner between the projections.
    regions : sequence, optional
        `Box`, `Polygon` or `Cutoff` regions (`laplace_inv.analysis.regions`, or any objects
        with their attributes) to outline, tagged A, B, ... and named under the map.
    uncertainty : list or object with ``table()``, optional
        Rows with ``position`` and ``position_lo``/``position_hi`` (or ``position_err``), one
        value per axis in SI units: drawn as error bars.
    peak_threshold : float
        Smallest share of the signal a labelled peak holds (shared with the CLI tables).
    projection_max : float, optional
        Upper limit of both projection axes (to share them between panels).
    limits : None, "auto" or ((low1, high1), (low2, high2)), optional
        The part of the grid shown, in SI units: the full grid (None), the part holding
        signal plus 0.4 decade (``"auto"``, see `laplace_inv.plotting.extent.auto_limits`),
        or explicit ranges of axis 1 and axis 2.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the map (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> g1, g2 = np.logspace(-3, 0, 16), np.logspace(-3, -1, 12)
    >>> F = np.zeros((16, 12))
    >>> F[8, 6] = 1.0
    >>> fig = plot_map(F, g1, g2, ("T1_IR", "T2"), peaks="auto")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('T2 (ms)', 'T1 (ms)')
    """
    Fc, _, _ = _check_map(F, grid1, grid2)
    kinds = check_kinds(kinds)
    g1 = np.asarray(grid1, dtype=float)
    g2 = np.asarray(grid2, dtype=float)
    f1, f2 = factor(kinds[0], log_scale_units), factor(kinds[1], log_scale_units)
    ref = None if reference is None else _check_map(reference, grid1, grid2, "reference")[0]
    shown = _select_peaks(peaks, Fc, g1, g2, peak_threshold)
    top_value = float(Fc.max()) if vmax is None else float(vmax)
    if vmax is not None and not (np.isfinite(top_value) and top_value > 0):
        raise ValueError(f"vmax must be positive and finite, got {vmax!r}")

    if ax is None:
        fig = Figure(figsize=(5.0, 5.0))
        ax = fig.add_axes((0.14, 0.2, 0.8, 0.74))
    fig = cast(Figure, ax.figure)
    panel = carve(ax)
    x, y = g2 * f2, g1 * f1
    x_edges, y_edges = edges(g2) * f2, edges(g1) * f1
    ax.set_xscale("log")
    ax.set_yscale("log")
    view = resolve_limits(limits, [Fc], g1, g2, depth=decades if intensity == "log" else 2.0)
    if view is None:
        ax.set_xlim(x_edges[0], x_edges[-1])
        ax.set_ylim(y_edges[0], y_edges[-1])
    else:
        ax.set_xlim(view[1][0] * f2, view[1][1] * f2)
        ax.set_ylim(view[0][0] * f1, view[0][1] * f1)
    label1, label2 = axis_labels(kinds, log_scale_units)
    ax.set_xlabel(label2)
    ax.set_ylabel(label1)
    style = {"intensity": intensity, "levels": levels, "decades": decades, "cmap": cmap}
    Z = Fc / top_value if top_value > 0 else np.zeros_like(Fc)
    cs = _draw_map(ax, Z, (x, y, x_edges, y_edges), style)
    if ref is not None and min(ref.shape) >= 2 and ref.max() > 0:
        ax.contour(
            x,
            y,
            ref / ref.max(),
            levels=[0.1, 0.5],
            colors=REF_COLOUR,
            linewidths=0.7,
            zorder=3,
        )
    handles: list = []
    if has_diagonal(kinds):
        lo, hi = max(x_edges[0], y_edges[0]), min(x_edges[-1], y_edges[-1])
        if lo < hi:
            sym = [s.split(" (")[0] for s in (label1, label2)]
            (line,) = ax.plot(
                [lo, hi],
                [lo, hi],
                ls="--",
                lw=0.8,
                color="0.35",
                label=f"{sym[0]} = {sym[1]}",
                zorder=3,
            )
            handles.append(line)
    if regions:
        handles += draw_regions_2d(ax, regions, f1, f2)
    draw_error_bars_2d(ax, uncertainty, f1, f2)
    listed = label_peaks(ax, shown, kinds, log_scale_units, f1, f2)
    _legend_below(ax, handles, listed)
    _projections(panel, Fc, ref, x, y, projection_max)
    if colorbar:
        add_colorbar(fig, cs, panel.corner, intensity)
    if title:
        panel.top.set_title(title, fontsize=FONT_SIZE + 2)
    return fig

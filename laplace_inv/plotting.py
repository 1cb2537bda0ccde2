"""Figures: a 2D Laplace map with its two projections, and side-by-side method comparisons.

The layout follows Fig. 2 of the DLEMLR paper (J. Am. Chem. Soc. 2024): the map in log-log axes
with axis 2 (the direct T2 dimension) horizontal and axis 1 (T1, D or the first T2) vertical, the
axis-2 marginal drawn above it and the axis-1 marginal on its right.

Everything is drawn on :class:`matplotlib.figure.Figure` objects created without pyplot, so the
functions work under any backend (Agg included), never open a window and leave no global
state behind. Relaxation times are shown in ms by default; diffusion coefficients in m²/s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1 import make_axes_locatable

from laplace_inv.kernels import KINDS
from laplace_inv.metrics import Peak, _check_map, find_peaks, projections

__all__ = ["plot_comparison", "plot_map", "save_figure"]

_TIME_FACTORS: dict[str, float] = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6}
_SYMBOLS: dict[str, str] = {"T2": "T2", "T1_IR": "T1", "T1_SR": "T1", "D": "D"}
_MAP_CMAP = "Blues"
_LINE_COLOUR = "#1f4e79"
_REF_COLOUR = "#d62728"


def _check_kinds(kinds: Any) -> tuple[str, str]:
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or len(kinds) != 2:
        raise ValueError(f"kinds must be a pair such as ('T1_IR', 'T2'), got {kinds!r}")
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown kernel kind {kind!r}; expected one of {KINDS}")
    return str(kinds[0]), str(kinds[1])


def _check_units(units: str) -> float:
    if units not in _TIME_FACTORS:
        raise ValueError(
            f"log_scale_units must be one of {tuple(_TIME_FACTORS)} for relaxation axes, "
            f"got {units!r}"
        )
    return _TIME_FACTORS[units]


def _factor(kind: str, units: str) -> float:
    """Multiplier from SI to display units for one axis."""
    return 1.0 if kind == "D" else _check_units(units)


def _axis_labels(kinds: tuple[str, str], units: str) -> tuple[str, str]:
    """Labels for axis 1 and axis 2, e.g. ("T1 (ms)", "T2 (ms)") or ("D (m²/s)", "T2 (ms)")."""
    symbols = [_SYMBOLS[k] for k in kinds]
    if symbols[0] == symbols[1]:  # T2-T2 exchange, or the like
        symbols = [f"{symbols[0]},1", f"{symbols[1]},2"]
    unit_text = ["m²/s" if k == "D" else units for k in kinds]
    return f"{symbols[0]} ({unit_text[0]})", f"{symbols[1]} ({unit_text[1]})"


def _edges(values: np.ndarray) -> np.ndarray:
    """Bin edges of a log-spaced grid: geometric midpoints, extrapolated at both ends."""
    lg = np.log10(values)
    if lg.size == 1:
        return 10.0 ** np.array([lg[0] - 0.5, lg[0] + 0.5])
    mid = 0.5 * (lg[1:] + lg[:-1])
    first = lg[0] - (mid[0] - lg[0])
    last = lg[-1] + (lg[-1] - mid[-1])
    return 10.0 ** np.concatenate([[first], mid, [last]])


def _has_diagonal(kinds: tuple[str, str]) -> bool:
    return kinds[0] != "D" and kinds[1] != "D"


def _format_value(value: float) -> str:
    return f"{value:.3g}"


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
    cmap: str = _MAP_CMAP,
) -> Figure:
    """Draw a 2D map with its two marginal projections.

    Parameters
    ----------
    F : array_like, shape (N1, N2)
        The map; rows follow axis 1 (drawn vertically), columns axis 2 (horizontally).
    grid1, grid2 : array_like
        The grids in SI units (s, or m²/s for ``D``).
    kinds : pair of str
        The kinds of axis 1 and axis 2, e.g. ``("T1_IR", "T2")`` or ``("D", "T2")``.
    ax : matplotlib.axes.Axes, optional
        Where to draw the map; the projection panels are carved out of it. A new figure is
        made when omitted.
    title : str, optional
        Title, placed above the top projection.
    peaks : sequence of Peak, "auto" or None
        Peaks to mark and annotate with their position (display units) and fraction;
        ``"auto"`` runs :func:`laplace_inv.metrics.find_peaks` on ``F``.
    reference : array_like, shape (N1, N2), optional
        A reference map (e.g. the ground truth), drawn as red contour lines and dashed red
        projections scaled to the same total mass as ``F``.
    log_scale_units : {"ms", "s", "us"}
        Display unit of relaxation-time axes (diffusion axes always use m²/s).
    cmap : str
        Colour map of the 2D map.

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
    kinds = _check_kinds(kinds)
    g1 = np.asarray(grid1, dtype=float)
    g2 = np.asarray(grid2, dtype=float)
    f1, f2 = _factor(kinds[0], log_scale_units), _factor(kinds[1], log_scale_units)
    ref = None
    if reference is not None:
        ref, _, _ = _check_map(reference, grid1, grid2, "reference")
    if isinstance(peaks, str):
        if peaks != "auto":
            raise ValueError(f"peaks must be a sequence of Peak, 'auto' or None, got {peaks!r}")
        peaks = find_peaks(Fc, g1, g2)
    elif peaks is not None:
        peaks = list(peaks)
        if not all(isinstance(p, Peak) for p in peaks):
            raise ValueError("peaks must hold laplace_inv.metrics.Peak objects")

    if ax is None:
        fig = Figure(figsize=(5.2, 5.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    x_disp, y_disp = g2 * f2, g1 * f1  # SI -> display units
    x_edges, y_edges = _edges(g2) * f2, _edges(g1) * f1

    ax.pcolormesh(x_edges, y_edges, Fc, cmap=cmap, shading="flat", rasterized=True)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    label1, label2 = _axis_labels(kinds, log_scale_units)
    ax.set_xlabel(label2)
    ax.set_ylabel(label1)
    sym1, sym2 = (s.split(" (")[0] for s in (label1, label2))
    unit1, unit2 = (s.split(" (")[1].rstrip(")") for s in (label1, label2))

    if ref is not None and min(ref.shape) >= 2 and ref.max() > 0:
        levels = ref.max() * np.array([0.1, 0.3, 0.5, 0.7, 0.9])
        ax.contour(x_disp, y_disp, ref, levels=levels, colors=_REF_COLOUR, linewidths=0.8)

    if _has_diagonal(kinds):
        lo = max(x_edges[0], y_edges[0])
        hi = min(x_edges[-1], y_edges[-1])
        if lo < hi:
            ax.plot([lo, hi], [lo, hi], ls="--", lw=0.8, color="0.4", label=f"{sym1} = {sym2}")

    for peak in peaks or []:
        x, y = peak.position[1] * f2, peak.position[0] * f1
        ax.plot(x, y, marker="+", ms=9, mew=1.5, color=_REF_COLOUR, ls="none")
        text = f"{sym1} {_format_value(y)} {unit1}\n{sym2} {_format_value(x)} {unit2}"
        if np.isfinite(peak.fraction):
            text += f"\n{peak.fraction:.0%}"
        ax.annotate(
            text,
            (x, y),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=7,
            color="k",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7, "lw": 0},
        )

    divider = make_axes_locatable(ax)
    top = divider.append_axes("top", size="22%", pad=0.08, sharex=ax)
    right = divider.append_axes("right", size="22%", pad=0.08, sharey=ax)
    p1, p2 = projections(Fc)
    top.plot(x_disp, p2, color=_LINE_COLOUR, lw=1.2)
    top.fill_between(x_disp, p2, color=_LINE_COLOUR, alpha=0.15, lw=0)
    right.plot(p1, y_disp, color=_LINE_COLOUR, lw=1.2)
    right.fill_betweenx(y_disp, p1, color=_LINE_COLOUR, alpha=0.15, lw=0)
    if ref is not None:
        r1, r2 = projections(ref)
        scale = Fc.sum() / ref.sum() if ref.sum() > 0 and Fc.sum() > 0 else 1.0
        top.plot(x_disp, r2 * scale, color=_REF_COLOUR, lw=1.0, ls="--")
        right.plot(r1 * scale, y_disp, color=_REF_COLOUR, lw=1.0, ls="--")
    top.set_ylim(bottom=0)
    right.set_xlim(left=0)
    top.tick_params(labelbottom=False, left=False, labelleft=False)
    right.tick_params(labelleft=False, bottom=False, labelbottom=False)
    for side in ("top", "right", "left"):
        top.spines[side].set_visible(False)
    for side in ("top", "right", "bottom"):
        right.spines[side].set_visible(False)
    if title:
        top.set_title(title)
    return fig


def plot_comparison(
    results: Sequence[tuple[str, Any]],
    grid1: Any,
    grid2: Any,
    kinds: Sequence[str],
    *,
    truth: Any = None,
    peaks: str | None = None,
    log_scale_units: str = "ms",
    panel_size: float = 4.0,
) -> Figure:
    """Several maps side by side, one column per method, each with its projections.

    Parameters
    ----------
    results : sequence of (str, array_like)
        ``(name, map)`` pairs, all on the same grids.
    grid1, grid2 : array_like
        The grids in SI units.
    kinds : pair of str
        Kinds of axis 1 and axis 2.
    truth : array_like, optional
        The true map: drawn in a first column titled "Truth" and overlaid (red contours and
        dashed projections) on every method's panel.
    peaks : "auto" or None
        ``"auto"`` marks the peaks found in each map.
    log_scale_units : {"ms", "s", "us"}
        Display unit of relaxation-time axes.
    panel_size : float
        Width and height of one column in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> g = np.logspace(-3, 0, 10)
    >>> F = np.eye(10)
    >>> fig = plot_comparison([("A", F), ("B", F)], g, g, ("T2", "T2"), truth=F)
    >>> [a.get_title() for a in fig.axes if a.get_title()]
    ['Truth', 'A', 'B']
    """
    if isinstance(results, tuple) and len(results) == 2 and isinstance(results[0], str):
        results = [results]  # a single (name, map) pair
    results = list(results)
    if not results:
        raise ValueError("results is empty; give at least one (name, map) pair")
    for item in results:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(f"results must hold (name, map) pairs, got {type(item).__name__}")
    if peaks not in (None, "auto"):
        raise ValueError(f"peaks must be 'auto' or None, got {peaks!r}")
    kinds = _check_kinds(kinds)
    columns = ([("Truth", truth)] if truth is not None else []) + results
    fig = Figure(figsize=(panel_size * len(columns), panel_size * 1.05))
    axes = fig.subplots(1, len(columns), squeeze=False)[0]
    for i, (ax, (name, F)) in enumerate(zip(axes, columns, strict=True)):
        is_truth = truth is not None and i == 0
        plot_map(
            F,
            grid1,
            grid2,
            kinds,
            ax=ax,
            title=name,
            peaks=peaks,
            reference=None if is_truth else truth,
            log_scale_units=log_scale_units,
        )
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.12, top=0.9, wspace=0.45)
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` (format from the suffix), creating parent folders.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> fig = Figure()
    >>> _ = fig.add_subplot().plot([0, 1])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, Path(tmp) / "sub" / "fig.png")
    ...     out.stat().st_size > 0
    True
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out

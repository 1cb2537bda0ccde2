"""A 1D relaxation or diffusion distribution, with its decay and fit when given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from laplace_inv.kernels import KINDS
from laplace_inv.plotting._style import (
    FONT_SIZE,
    LINE_COLOUR,
    REF_COLOUR,
    REGION_COLOURS,
    factor,
    fmt,
)
from laplace_inv.plotting.regions import error_bars, region_kind, uncertainty_rows

__all__ = ["plot_distribution"]


def _band(region: Any) -> tuple[float, float]:
    kind = region_kind(region)
    if kind == "box":
        return float(region.x1[0]), float(region.x1[1])
    if kind == "cutoff":
        value = float(region.value)
        return (0.0, value) if region.side == "below" else (value, np.inf)
    raise ValueError(f"region {region.name!r}: a polygon has no meaning on a 1D distribution")


def _check_1d(f: Any, grid: Any) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(f, dtype=float)
    grid = np.asarray(grid, dtype=float)
    if f.ndim != 1 or grid.ndim != 1 or f.size != grid.size or f.size < 2:
        raise ValueError(
            f"f and grid must be 1D of the same length >= 2, got {f.shape} and {grid.shape}"
        )
    if not (np.all(np.isfinite(f)) and np.all(grid > 0) and np.all(np.diff(grid) > 0)):
        raise ValueError("f must be finite and grid positive and strictly increasing")
    return f, grid


def plot_distribution(
    f: Any,
    grid: Any,
    kind: str = "T2",
    *,
    tau: Any = None,
    data: Any = None,
    fit: Any = None,
    title: str | None = None,
    regions: Sequence[Any] | None = None,
    uncertainty: Any = None,
    peaks: Sequence[Any] | None = None,
    log_scale_units: str = "ms",
) -> Figure:
    """Draw a 1D distribution on a log axis; with ``data`` also the decay and its fit.

    Parameters
    ----------
    f : array_like, shape (N,)
        The distribution (signal per grid point).
    grid : array_like, shape (N,)
        Its grid in SI units (s, or m²/s for ``D``).
    kind : str
        Kernel kind of the axis (``"T2"``, ``"T1_IR"``, ``"T1_SR"`` or ``"D"``).
    tau : array_like, optional
        Acquisition axis of ``data`` (s, or s/m² for ``D``).
    data : array_like, optional
        The measured decay; drawn as points in a second panel.
    fit : array_like, optional
        The decay the distribution predicts; drawn as a line over ``data`` with the residual.
    title : str, optional
        Figure title.
    regions : sequence, optional
        `Box` (a band along the axis) or `Cutoff` regions, shaded and named in the legend.
    uncertainty : list or object with ``table()``, optional
        Rows with ``position`` and an interval (see `plot_map`): horizontal error bars.
    peaks : sequence, optional
        Detected peaks (`laplace_inv.metrics.peaks.find_peaks_1d`): each marked at its
        position and labelled with it and its share of the signal.
    log_scale_units : {"ms", "s", "us"}
        Display unit of a relaxation axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> g = np.logspace(-4, 0, 40)
    >>> f = np.exp(-0.5 * ((np.log10(g) + 2) / 0.2) ** 2)
    >>> tau = np.arange(1, 101) * 1e-3
    >>> S = np.exp(-tau[:, None] / g) @ f
    >>> fig = plot_distribution(f, g, "T2", tau=tau, data=S, fit=S)
    >>> [a.get_xlabel() for a in fig.axes]
    ['T2 (ms)', 'time (ms)']
    """
    f, g = _check_1d(f, grid)
    if kind not in KINDS:
        raise ValueError(f"unknown kernel kind {kind!r}; expected one of {KINDS}")
    k = factor(kind, log_scale_units)
    symbol = {"T1_IR": "T1", "T1_SR": "T1"}.get(kind, kind)
    unit = "m²/s" if kind == "D" else log_scale_units
    with_data = data is not None
    fig = Figure(figsize=(8.0 if with_data else 4.6, 3.4))
    axes = fig.subplots(1, 2 if with_data else 1, squeeze=False)[0]
    ax = axes[0]
    ax.plot(g * k, f, color=LINE_COLOUR, lw=1.4)
    ax.fill_between(g * k, f, color=LINE_COLOUR, alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.set_xlim(g[0] * k, g[-1] * k)
    ax.set_ylim(bottom=min(0.0, float(f.min()) * 1.05))
    ax.set_xlabel(f"{symbol} ({unit})")
    ax.set_ylabel("signal per grid point")
    for i, region in enumerate(regions or []):
        lo, hi = _band(region)
        colour = REGION_COLOURS[i % len(REGION_COLOURS)]
        ax.axvspan(
            max(lo * k, g[0] * k),
            min(hi * k, g[-1] * k),
            color=colour,
            alpha=0.15,
            lw=0,
            label=region.name,
        )
    for row in uncertainty_rows(uncertainty):
        bars = error_bars(row, 1)
        if bars is not None:
            pos, err = bars
            top = float(np.interp(pos[0], g, f))
            ax.errorbar(
                pos[0] * k, top, xerr=np.abs(err[:, :1]) * k, fmt="o", ms=3, color="k", capsize=2
            )
    _mark_peaks(ax, peaks or [], g, f, k, symbol, unit)
    if regions:
        ax.legend(fontsize=FONT_SIZE - 1, frameon=False)
    if with_data:
        _decay_panel(axes[1], tau, data, fit, kind, log_scale_units)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _mark_peaks(
    ax: Any, peaks: Sequence[Any], g: np.ndarray, f: np.ndarray, k: float, symbol: str, unit: str
) -> None:
    top = float(f.max()) if f.size else 0.0
    for peak in peaks:
        x = float(peak.position[0])  # the centroid, in the label
        i = int(peak.index[0])
        at = float(g[i]) if 0 <= i < g.size else x  # the marker sits on the maximum
        y = float(f[i]) if 0 <= i < g.size else float(np.interp(x, g, f))
        ax.plot([at * k], [y], "v", ms=5, color=REF_COLOUR)
        ax.annotate(
            f"{symbol} {fmt(x * k)} {unit}\n{100 * peak.fraction:.0f} %",
            (at * k, y),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT_SIZE - 1,
        )
    if peaks and top > 0:
        ax.set_ylim(top=1.25 * top)


def _decay_panel(ax: Any, tau: Any, data: Any, fit: Any, kind: str, units: str) -> None:
    if tau is None:
        raise ValueError("tau is required to draw data")
    tau = np.asarray(tau, dtype=float)
    S = np.asarray(data, dtype=float)
    if S.shape != tau.shape:
        raise ValueError(f"data has shape {S.shape} but tau has {tau.shape}")
    k = 1.0 if kind == "D" else factor(kind, units)
    ax.plot(tau * k, S, ".", ms=3, color="0.4", label="data")
    if fit is not None:
        fit = np.asarray(fit, dtype=float)
        if fit.shape != S.shape:
            raise ValueError(f"fit has shape {fit.shape} but data has {S.shape}")
        ax.plot(tau * k, fit, color=REF_COLOUR, lw=1.2, label="fit")
        ax.plot(tau * k, S - fit, color="0.2", lw=0.6, alpha=0.7, label="residual")
    ax.set_xlabel("b (s/m²)" if kind == "D" else f"time ({units})")
    ax.set_ylabel("signal")
    ax.legend(fontsize=FONT_SIZE - 1, frameon=False)

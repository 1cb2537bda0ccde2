"""Several maps side by side on one colour scale (the layout of Fig. 2 of the DLEMLR paper)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from laplace_inv.metrics import _check_map, projections
from laplace_inv.plotting import PEAK_THRESHOLD
from laplace_inv.plotting._style import check_kinds
from laplace_inv.plotting.extent import resolve_limits
from laplace_inv.plotting.maps import plot_map, set_colorbar_ticks

__all__ = ["plot_comparison"]


def _check_results(results: Any) -> list[tuple[str, Any]]:
    if isinstance(results, tuple) and len(results) == 2 and isinstance(results[0], str):
        results = [results]  # a single (name, map) pair
    results = list(results)
    if not results:
        raise ValueError("results is empty; give at least one (name, map) pair")
    for item in results:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(f"results must hold (name, map) pairs, got {type(item).__name__}")
    return results


def plot_comparison(
    results: Sequence[tuple[str, Any]],
    grid1: Any,
    grid2: Any,
    kinds: Sequence[str],
    *,
    truth: Any = None,
    peaks: str | None = None,
    log_scale_units: str = "ms",
    panel_size: float = 3.6,
    shared_scale: bool = False,
    intensity: str = "log",
    decades: float = 2.0,
    regions: Sequence[Any] | None = None,
    peak_threshold: float = PEAK_THRESHOLD,
    limits: Any = None,
) -> Figure:
    """Several maps side by side, one column per method, each with its projections.

    Parameters
    ----------
    results : sequence of (str, array_like)
        ``(name, map)`` pairs, all on the same grids.
    grid1 : array_like
        Axis-1 grid in SI units.
    grid2 : array_like
        Axis-2 grid in SI units.
    kinds : pair of str
        Kinds of axis 1 and axis 2.
    truth : array_like, optional
        The true map: drawn in a first column titled "Truth" and overlaid (red contours and
        dashed projections) on every method's panel.
    peaks : "auto" or None
        ``"auto"`` labels the peaks of each map above ``peak_threshold``.
    log_scale_units : {"ms", "s", "us"}
        Display unit of relaxation-time axes.
    panel_size : float
        Width and height of one column in inches.
    shared_scale : bool
        One colour scale for all panels and shared projection axes (Fig. 2 of the DLEMLR
        paper); otherwise each map is scaled to its own maximum (a sparse map's spikes then
        cannot wash out the others). Either way one colour bar serves every panel.
    intensity : {"log", "linear"}
        Contour level spacing (see `plot_map`).
    decades : float
        Depth of the log intensity scale.
    regions : sequence, optional
        Regions outlined on every panel (see `plot_map`).
    peak_threshold : float
        Smallest share of the signal a labelled peak holds.
    limits : None, "auto" or ((low1, high1), (low2, high2)), optional
        The part of the grid shown on every panel (see `plot_map`); ``"auto"`` keeps the
        part where any of the maps holds signal.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> g = np.logspace(-3, 0, 10)
    >>> F = np.eye(10)
    >>> fig = plot_comparison([("A", F), ("B", F)], g, g, ("T2", "T2"), truth=F)
    >>> [a.get_title() for a in fig.axes if a.get_title()][:3]
    ['Truth', 'A', 'B']
    """
    results = _check_results(results)
    if peaks not in (None, "auto"):
        raise ValueError(f"peaks must be 'auto' or None, got {peaks!r}")
    kinds = check_kinds(kinds)
    columns = ([("Truth", truth)] if truth is not None else []) + results
    maps = [_check_map(F, grid1, grid2, name)[0] for name, F in columns]
    view = resolve_limits(limits, maps, grid1, grid2, decades if intensity == "log" else 2.0)
    vmax = max(float(F.max()) for F in maps) if shared_scale else None
    pmax = None
    if shared_scale:
        pmax = max(float(max(p.max() for p in projections(F))) for F in maps)
    n = len(columns)
    width, height = panel_size * n + 0.5, panel_size * 1.18
    fig = Figure(figsize=(width, height))
    left, right = 0.55 / width, 0.55 / width
    slot = (1.0 - left - right) / n
    last = None
    box = (0.0, 0.0, 0.0, 0.0)
    for i, ((name, _), F) in enumerate(zip(columns, maps, strict=True)):
        is_truth = truth is not None and i == 0
        box = (left + i * slot, 0.2, slot * 0.8, 0.7)
        ax = fig.add_axes(box)
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
            intensity=intensity,
            decades=decades,
            vmax=vmax if vmax and vmax > 0 else None,
            colorbar=False,
            regions=regions,
            peak_threshold=peak_threshold,
            projection_max=pmax if pmax and pmax > 0 else None,
            limits=view,
        )
        last = ax
    meshes = [c for c in last.collections if isinstance(c, QuadMesh)] if last else []
    if meshes:
        _, y0, _, h = last.get_position().bounds  # type: ignore[union-attr]
        cax = fig.add_axes((box[0] + box[2] + 0.12 / width, y0, 0.12 / width, h))
        cbar = fig.colorbar(meshes[0], cax=cax)
        cax.tick_params(labelsize=7)
        scale = "max of all panels" if shared_scale else "max of each map"
        cbar.set_label(f"intensity / {scale}", fontsize=8)
        set_colorbar_ticks(cbar, meshes[0], intensity)
    return fig

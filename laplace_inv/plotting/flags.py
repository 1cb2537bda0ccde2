"""Mark on a map where the physics forbids mass or the acquisition cannot see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from laplace_inv.plotting._style import FONT_SIZE, factor

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["shade_physics_regions"]

UNSEEN_COLOUR = "0.55"
FORBIDDEN_COLOUR = "#b2182b"


def shade_physics_regions(
    ax: Axes,
    kinds: Sequence[str],
    windows: Sequence[tuple[float, float]],
    *,
    log_scale_units: str = "ms",
    note: str | None = None,
    margin: float = 1.0,
) -> list:
    """Grey out what each axis cannot see and hatch ``T1 < T2/margin`` on a `plot_map` map.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map's axes (``fig.axes[0]`` of `plot_map`): axis 2 horizontal, axis 1 vertical.
    kinds : sequence of str
        Kinds of axis 1 and axis 2.
    windows : sequence of (float, float)
        Per axis, the range the acquisition sees in SI units
        (`laplace_inv.diagnostics.acquisition_window`).
    log_scale_units : {"ms", "s", "us"}
        The display unit `plot_map` used for relaxation axes.
    margin : float
        The hatched area of a T1-T2 map is ``T1 < T2/margin``.
    note : str, optional
        Text written under the map, below its legend (e.g. the share of the map found in
        the marked areas and the hint to fit the acquisition model).

    Returns
    -------
    list
        The artists added (shaded spans, the hatched triangle, the note).

    Examples
    --------
    >>> from laplace_inv.plotting import plot_map
    >>> g1, g2 = np.logspace(-4, 1, 16), np.logspace(-5, 0, 12)
    >>> F = np.zeros((16, 12)); F[8, 6] = 1.0
    >>> fig = plot_map(F, g1, g2, ("T1_IR", "T2"))
    >>> added = shade_physics_regions(fig.axes[0], ("T1_IR", "T2"), [(1e-3, 3.0), (1e-4, 0.1)])
    >>> len(added)
    5
    """
    f1, f2 = factor(kinds[0], log_scale_units), factor(kinds[1], log_scale_units)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    style: dict[str, Any] = {"color": UNSEEN_COLOUR, "alpha": 0.18, "lw": 0, "zorder": 2}
    added: list = []
    (lo1, hi1), (lo2, hi2) = windows
    if lo2 * f2 > x0:
        added.append(ax.axvspan(x0, lo2 * f2, **style))
    if hi2 * f2 < x1:
        added.append(ax.axvspan(hi2 * f2, x1, **style))
    if lo1 * f1 > y0:
        added.append(ax.axhspan(y0, lo1 * f1, **style))
    if hi1 * f1 < y1:
        added.append(ax.axhspan(hi1 * f1, y1, **style))
    if kinds[0] in ("T1_IR", "T1_SR") and kinds[1] == "T2" and f1 == f2:
        x = np.geomspace(x0, x1, 200)
        upper = np.clip(x / margin, y0, y1)
        added.append(
            ax.fill_between(
                x,
                y0,
                upper,
                where=upper > y0,
                facecolor="none",
                edgecolor=FORBIDDEN_COLOUR,
                hatch="////",
                lw=0,
                alpha=0.35,
                zorder=2,
            )
        )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if note:
        added.append(
            ax.text(
                0.0,
                -0.24,
                note,
                transform=ax.transAxes,
                fontsize=FONT_SIZE - 1,
                color=FORBIDDEN_COLOUR,
                va="top",
                ha="left",
            )
        )
    return added

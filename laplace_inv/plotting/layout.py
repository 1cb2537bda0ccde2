"""Carving a map panel into the map, its two projections and a colour bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Fractions of the panel: the map takes the lower-left square, the projections the strips
# above and to the right, the colour bar the free corner between them.
_MAIN = 0.74
_GAP = 0.025


@dataclass
class Panel:
    """The axes of one map panel."""

    main: Axes
    top: Axes
    right: Axes
    corner: tuple[float, float, float, float]  # free top-right rectangle (figure fraction)


def carve(ax: Axes) -> Panel:
    """Shrink ``ax`` to the map and add the projection axes beside it, all within its box.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> panel = carve(fig.add_subplot())
    >>> len(fig.axes)
    3
    """
    fig = cast(Figure, ax.figure)
    x0, y0, w, h = ax.get_position().bounds
    mw, mh = w * _MAIN, h * _MAIN
    ax.set_position((x0, y0, mw, mh))
    top = fig.add_axes((x0, y0 + mh + _GAP * h, mw, h - mh - _GAP * h), sharex=ax)
    right = fig.add_axes((x0 + mw + _GAP * w, y0, w - mw - _GAP * w, mh), sharey=ax)
    corner = (x0 + mw + _GAP * w, y0 + mh + _GAP * h, w - mw - _GAP * w, h - mh - _GAP * h)
    for side in ("top", "right", "left"):
        top.spines[side].set_visible(False)
    for side in ("top", "right", "bottom"):
        right.spines[side].set_visible(False)
    top.tick_params(which="both", bottom=False, labelbottom=False, left=False, labelleft=False)
    right.tick_params(which="both", left=False, labelleft=False, bottom=False, labelbottom=False)
    return Panel(ax, top, right, corner)


def main_size_points(ax: Axes) -> tuple[float, float]:
    """Width and height of ``ax`` in points (from its position and the figure size)."""
    fig = cast(Figure, ax.figure)
    _, _, w, h = ax.get_position().bounds
    fw, fh = fig.get_size_inches()
    return float(w * fw * 72.0), float(h * fh * 72.0)

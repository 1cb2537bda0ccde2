"""Figures of Laplace NMR maps for papers and reports.

- `plot_map`: one 2D map as filled contours on log axes, with a colour bar, marginal
  projections, the T1 = T2 line, labelled peaks, region outlines and error bars.
- `plot_comparison`: several methods side by side on a shared colour scale (the layout of
  Fig. 2 of the DLEMLR paper).
- `plot_distribution`: a 1D distribution and, when given, its decay with the fit.
- `save_figure`: PNG, SVG or PDF by file extension, written atomically.

`PEAK_THRESHOLD` is the one peak threshold shared by the figures and the `laplace-inv`
tables: peaks holding less of the total signal are merged into a neighbour and never labelled.

Importing this package is light: matplotlib loads on the first use of a plotting function.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PEAK_THRESHOLD",
    "plot_comparison",
    "plot_distribution",
    "plot_map",
    "save_figure",
]

PEAK_THRESHOLD = 0.03
"""Smallest share of the total signal a labelled peak holds (figures and CLI tables)."""

_LAZY = {
    "plot_map": "laplace_inv.plotting.maps",
    "plot_comparison": "laplace_inv.plotting.comparison",
    "plot_distribution": "laplace_inv.plotting.distribution",
    "save_figure": "laplace_inv.plotting.save",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'laplace_inv.plotting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

"""Units, labels, colours and grid helpers shared by the plotting modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from laplace_inv.kernels import KINDS

TIME_FACTORS: dict[str, float] = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6}
SYMBOLS: dict[str, str] = {"T2": "T2", "T1_IR": "T1", "T1_SR": "T1", "D": "D"}
MAP_CMAP = "YlGnBu"
LINE_COLOUR = "#1f4e79"
REF_COLOUR = "#d62728"
REGION_COLOURS = ("#e66101", "#5e3c99", "#1b7837", "#b2182b", "#2166ac", "#8c510a")
FONT_SIZE = 8


def check_kinds(kinds: Any) -> tuple[str, str]:
    """A validated pair of kernel kinds."""
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or len(kinds) != 2:
        raise ValueError(f"kinds must be a pair such as ('T1_IR', 'T2'), got {kinds!r}")
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown kernel kind {kind!r}; expected one of {KINDS}")
    return str(kinds[0]), str(kinds[1])


def factor(kind: str, units: str) -> float:
    """Multiplier from SI to display units for one axis (D stays in m²/s)."""
    if units not in TIME_FACTORS:
        raise ValueError(
            f"log_scale_units must be one of {tuple(TIME_FACTORS)} for relaxation axes, "
            f"got {units!r}"
        )
    return 1.0 if kind == "D" else TIME_FACTORS[units]


def symbol_unit(kinds: Sequence[str], units: str) -> list[tuple[str, str]]:
    """``[(symbol, unit), ...]`` per axis, e.g. ``[("T1", "ms"), ("T2", "ms")]``."""
    symbols = [SYMBOLS[k] for k in kinds]
    if len(symbols) == 2 and symbols[0] == symbols[1]:
        symbols = [f"{symbols[0]},1", f"{symbols[1]},2"]
    return [(s, "m²/s" if k == "D" else units) for s, k in zip(symbols, kinds, strict=True)]


def axis_labels(kinds: Sequence[str], units: str) -> tuple[str, str]:
    """Labels for axis 1 and axis 2, e.g. ``("T1 (ms)", "T2 (ms)")``."""
    (s1, u1), (s2, u2) = symbol_unit(kinds, units)
    return f"{s1} ({u1})", f"{s2} ({u2})"


def edges(values: np.ndarray) -> np.ndarray:
    """Bin edges of a log-spaced grid: geometric midpoints, extrapolated at both ends."""
    lg = np.log10(values)
    if lg.size == 1:
        return 10.0 ** np.array([lg[0] - 0.5, lg[0] + 0.5])
    mid = 0.5 * (lg[1:] + lg[:-1])
    first = lg[0] - (mid[0] - lg[0])
    last = lg[-1] + (lg[-1] - mid[-1])
    return 10.0 ** np.concatenate([[first], mid, [last]])


def has_diagonal(kinds: Sequence[str]) -> bool:
    """Whether both axes are relaxation times (so a T1 = T2 line means something)."""
    return kinds[0] != "D" and kinds[1] != "D"


def fmt(value: float) -> str:
    """Three significant digits."""
    return f"{value:.3g}"

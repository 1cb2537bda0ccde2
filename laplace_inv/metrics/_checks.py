"""Validation shared by the metrics: maps with their grids, fractions, smoothing widths."""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite


def _check_map(
    F: Any, grid1: Any, grid2: Any, name: str = "F"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a map and its grids; return (map clipped at 0, log10 grid1, log10 grid2)."""
    arr = as_real_array(F, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2D map (N1, N2), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    check_finite(arr, name)
    g1 = check_axis_values(grid1, "grid1", allow_zero=False)
    g2 = check_axis_values(grid2, "grid2", allow_zero=False)
    if arr.shape != (g1.size, g2.size):
        hint = ""
        if arr.shape == (g2.size, g1.size):
            hint = " (it looks transposed: rows follow axis 1, columns axis 2)"
        raise ValueError(
            f"{name} has shape {arr.shape} but grid1 has {g1.size} points and grid2 has "
            f"{g2.size} points; expected shape ({g1.size}, {g2.size}){hint}"
        )
    total = float(arr.sum())
    if total < 0:
        raise ValueError(f"{name} has negative total mass {total:g}; a map must be non-negative")
    return np.clip(arr, 0.0, None), np.log10(g1), np.log10(g2)


def _check_fraction(value: float, name: str) -> float:
    val = float(value)
    if not np.isfinite(val) or not 0.0 <= val < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return val


def _check_smooth(smooth: float | None) -> float | None:
    if smooth is None:
        return None
    val = float(smooth)
    if not np.isfinite(val) or val < 0:
        raise ValueError(f"smooth must be None or a non-negative width in bins, got {smooth!r}")
    return val or None

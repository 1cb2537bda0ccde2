"""The part of a map's grid worth showing: where any of the maps holds signal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["auto_limits", "resolve_limits"]


def auto_limits(
    maps: Sequence[Any],
    grid1: Any,
    grid2: Any,
    depth: float = 2.0,
    margin: float = 0.4,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits (SI units) around the pixels of any map above ``10**-depth`` of its max.

    Parameters
    ----------
    maps : sequence of array_like, each of shape (N1, N2)
        The maps drawn on the same grids.
    grid1 : array_like
        Axis-1 grid (SI units).
    grid2 : array_like
        Axis-2 grid (SI units).
    depth : float
        Decades below each map's maximum that still count as signal (the depth of the
        colour scale, so everything coloured stays in view).
    margin : float
        Room added on each side, in decades; the limits never leave the grid.

    Returns
    -------
    ((low1, high1), (low2, high2))

    Examples
    --------
    >>> g = np.logspace(-4, 0, 41)
    >>> F = np.zeros((41, 41))
    >>> F[20, 10] = 1.0
    >>> (lo1, hi1), (lo2, hi2) = auto_limits([F], g, g, margin=0.5)
    >>> round(float(np.log10(lo1)), 1), round(float(np.log10(hi2)), 1)
    (-2.5, -2.5)
    """
    l1, l2 = np.log10(np.asarray(grid1, float)), np.log10(np.asarray(grid2, float))
    mask = np.zeros((l1.size, l2.size), bool)
    for F in maps:
        A = np.clip(np.asarray(F, float), 0.0, None)
        if A.max() > 0:
            mask |= A >= A.max() * 10.0**-depth
    if not mask.any():
        return (10.0 ** l1[0], 10.0 ** l1[-1]), (10.0 ** l2[0], 10.0 ** l2[-1])
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    out = []
    for lg, idx in ((l1, rows), (l2, cols)):
        half = 0.5 * abs(lg[1] - lg[0]) if lg.size > 1 else 0.5
        lo = max(lg[idx[0]] - margin, lg[0] - half)
        hi = min(lg[idx[-1]] + margin, lg[-1] + half)
        out.append((float(10.0**lo), float(10.0**hi)))
    return out[0], out[1]


def resolve_limits(
    limits: Any, maps: Sequence[Any], grid1: Any, grid2: Any, depth: float = 2.0
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """``None`` (the full grid), ``"auto"`` (`auto_limits` at ``depth``) or two pairs.

    Examples
    --------
    >>> resolve_limits(None, [], [1, 2], [1, 2]) is None
    True
    >>> resolve_limits(((1e-3, 1e-1), (1e-4, 1e-2)), [], [1, 2], [1, 2])
    ((0.001, 0.1), (0.0001, 0.01))
    """
    if limits is None:
        return None
    if isinstance(limits, str):
        if limits != "auto":
            raise ValueError(
                f"limits must be None, 'auto' or two (low, high) pairs, got {limits!r}"
            )
        return auto_limits(maps, grid1, grid2, depth=depth)
    try:
        (a, b), (c, d) = limits
        pairs = ((float(a), float(b)), (float(c), float(d)))
    except (TypeError, ValueError):
        raise ValueError(
            f"limits must be None, 'auto' or ((low1, high1), (low2, high2)), got {limits!r}"
        ) from None
    for lo, hi in pairs:
        if not (0 < lo < hi and np.isfinite(hi)):
            raise ValueError(f"each limit pair needs 0 < low < high (SI units), got {limits!r}")
    return pairs

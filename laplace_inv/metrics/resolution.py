"""Whether a map resolves two known peaks (a Rayleigh-like criterion)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from laplace_inv._validation import as_real_array, check_finite
from laplace_inv.metrics._checks import _check_fraction, _check_map, _check_smooth
from laplace_inv.metrics.peaks import _smoothed, find_peaks

__all__ = ["resolved"]


def _as_positions(value: Any, name: str, log10: bool) -> np.ndarray:
    arr = as_real_array(value, name)
    if arr.shape != (2, 2):
        raise ValueError(
            f"{name} must hold two (axis 1, axis 2) positions, shape (2, 2); got {arr.shape}"
        )
    check_finite(arr, name)
    if not log10:
        if np.any(arr <= 0):
            raise ValueError(f"{name} must be positive when given in SI units (log10=False)")
        arr = np.log10(arr)
    return arr


def resolved(
    F: Any,
    grid1: Any,
    grid2: Any,
    true_positions: Any,
    *,
    log10: bool = True,
    min_share: float = 0.1,
    dip: float = 0.8,
    min_fraction: float = 0.01,
    smooth: float | None = None,
) -> bool:
    """Whether a map resolves two known peaks.

    The rule, with ``d`` the log distance between the two true positions:

    1. `find_peaks` (with ``min_fraction`` and ``smooth``) must return at least two
       peaks.
    2. True and detected peaks are matched greedily, closest pair first (Euclidean distance in
       decades between the true position and the detected centroid). Each true peak needs its
       own detected peak within ``d / 2``.
    3. Each of the two matched peaks must hold at least ``min_share`` (10 %) of their combined
       mass.
    4. Rayleigh-like dip: along the straight segment joining the two detected maxima (argmax
       bins, sampled with bilinear interpolation in index space), the map must fall below
       ``dip`` (0.8) times the smaller of the two maxima. Adjacent maxima never pass.

    Parameters
    ----------
    F : array_like, shape (N1, N2)
        The map.
    grid1 : array_like
        The map's grid of axis 1 (SI units).
    grid2 : array_like
        The map's grid of axis 2 (SI units).
    true_positions : array_like, shape (2, 2)
        The two true peak positions, one (axis 1, axis 2) row each, in log10 units (decades)
        unless ``log10=False``, in which case they are SI values.
    log10 : bool
        Whether ``true_positions`` are log10 values.
    min_share : float
        Least share of the pair's mass each matched peak must hold.
    dip : float
        Required dip ratio along the joining segment.
    min_fraction : float
        Smallest mass fraction a detected peak may hold (`find_peaks`).
    smooth : float or None
        Smoothing passed to `find_peaks`; with it, the dip is measured on the smoothed map.

    Returns
    -------
    bool

    Examples
    --------
    >>> g = np.logspace(-3, 0, 31)
    >>> F = np.zeros((31, 31))
    >>> F[10, 10] = F[20, 20] = 1.0
    >>> resolved(F, g, g, [[-2.0, -2.0], [-1.0, -1.0]])
    True
    >>> resolved(np.ones((31, 31)), g, g, [[-2.0, -2.0], [-1.0, -1.0]])
    False
    """
    Fc, _, _ = _check_map(F, grid1, grid2)
    truth = _as_positions(true_positions, "true_positions", log10)
    min_share = _check_fraction(min_share, "min_share")
    dip = float(dip)
    if not 0.0 < dip <= 1.0:
        raise ValueError(f"dip must lie in (0, 1], got {dip!r}")
    sep = float(np.linalg.norm(truth[0] - truth[1]))
    if sep == 0:
        raise ValueError("true_positions are identical; two distinct peaks are needed")
    peaks = find_peaks(Fc, grid1, grid2, min_fraction=min_fraction, smooth=smooth)
    if len(peaks) < 2:
        return False
    est = np.array([p.log_position for p in peaks])
    dist = np.linalg.norm(truth[:, None, :] - est[None, :, :], axis=2)
    matched: dict[int, int] = {}
    used: set[int] = set()
    for flat in np.argsort(dist, axis=None, kind="stable"):
        t, e = divmod(int(flat), len(peaks))
        if t in matched or e in used:
            continue
        matched[t] = e
        used.add(e)
        if len(matched) == 2:
            break
    if any(dist[t, e] > sep / 2 for t, e in matched.items()):
        return False
    a, b = peaks[matched[0]], peaks[matched[1]]
    pair = a.mass + b.mass
    if min(a.mass, b.mass) < min_share * pair:
        return False
    G = _smoothed(Fc, _check_smooth(smooth))
    (i0, j0), (i1, j1) = a.index, b.index
    n = 4 * max(abs(i1 - i0), abs(j1 - j0)) + 1
    if n <= 5:  # neighbouring maxima: nothing between them
        return False
    u = np.linspace(0.0, 1.0, n)[1:-1]
    line = ndimage.map_coordinates(G, [i0 + u * (i1 - i0), j0 + u * (j1 - j0)], order=1)
    return bool(line.min() < dip * min(G[i0, j0], G[i1, j1]))

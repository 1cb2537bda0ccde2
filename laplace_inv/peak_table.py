"""Peaks of a batch of maps as one structured array (``predict(..., output="peaks")``)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: One row per detected peak (``output="peaks"``); positions and widths as in
#: :class:`laplace_inv.metrics.Peak` (log10 units for ``log_position*`` and ``fwhm*``).
PEAK_DTYPE = np.dtype(
    [
        ("sample", np.int64),
        ("peak", np.int32),
        ("log_position1", np.float64),
        ("log_position2", np.float64),
        ("position1", np.float64),
        ("position2", np.float64),
        ("fwhm1", np.float64),
        ("fwhm2", np.float64),
        ("mass", np.float64),
        ("fraction", np.float64),
        ("height", np.float64),
        ("row", np.int32),
        ("col", np.int32),
    ]
)


def peak_table(
    maps: np.ndarray, grid1: np.ndarray, grid2: np.ndarray, offset: int = 0, **kwargs: Any
) -> np.ndarray:
    """One :data:`PEAK_DTYPE` row per peak of every map (``laplace_inv.metrics.find_peaks``).

    Examples
    --------
    >>> g = np.logspace(-3, 0, 11)
    >>> F = np.zeros((2, 11, 11)); F[0, 2, 8] = 1.0; F[1, 5, 5] = 2.0; F[1, 9, 1] = 2.0
    >>> t = peak_table(F, g, g)
    >>> t["sample"].tolist(), t["peak"].tolist(), t["row"].tolist()
    ([0, 1, 1], [0, 0, 1], [2, 5, 9])
    """
    from laplace_inv.metrics import find_peaks

    rows = []
    for i, F in enumerate(maps):
        for j, p in enumerate(find_peaks(F, grid1, grid2, **kwargs)):
            rows.append(
                (
                    offset + i,
                    j,
                    *p.log_position,
                    *p.position,
                    *p.fwhm,
                    p.mass,
                    p.fraction,
                    p.height,
                    *p.index,
                )
            )
    return np.array(rows, dtype=PEAK_DTYPE)

"""Per-sample normalisation: every solver sees data scaled to ``max|S| = 1``."""

from __future__ import annotations

import numpy as np


def sample_scales(batch: np.ndarray) -> np.ndarray:
    """``max|S|`` of every sample of a batch ``(m, ...)``.

    Computed as ``max(max S, −min S)``: the same value without a full-size temporary.

    Examples
    --------
    >>> sample_scales(np.array([[[1.0, -3.0]], [[2.0, 0.5]]])).tolist()
    [3.0, 2.0]
    """
    flat = batch.reshape(len(batch), -1)
    return np.maximum(flat.max(axis=1), -flat.min(axis=1))

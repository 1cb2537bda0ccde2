"""How well a fit explains the data: relative residual and residual-to-noise ratio."""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_finite

__all__ = ["relative_residual", "residual_to_noise"]


def _check_pair(S: Any, S_fit: Any) -> tuple[np.ndarray, np.ndarray]:
    a = as_real_array(S, "S")
    b = as_real_array(S_fit, "S_fit")
    if a.shape != b.shape:
        raise ValueError(f"S has shape {a.shape} but S_fit has shape {b.shape}")
    if a.size == 0:
        raise ValueError("S is empty")
    check_finite(a, "S")
    check_finite(b, "S_fit")
    return a, b


def relative_residual(S: Any, S_fit: Any) -> float:
    """Relative residual ``‖S − S_fit‖ / ‖S‖`` (Frobenius norms).

    Examples
    --------
    >>> relative_residual([[3.0, 4.0]], [[3.0, 3.0]])
    0.2
    """
    a, b = _check_pair(S, S_fit)
    scale = float(np.abs(a).max())
    if scale == 0:
        raise ValueError("S is all zero; the relative residual is undefined")
    # Divide by max|S| first: the squares of 1e±300 data would over- or underflow.
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(a / scale - b / scale) / np.linalg.norm(a / scale))


def residual_to_noise(S: Any, S_fit: Any, noise_std: float) -> float:
    """Root-mean-square residual divided by the noise standard deviation.

    About 1 for a fit that explains the data down to the noise; well below 1 means over-fitting,
    well above means a misfit.

    Examples
    --------
    >>> round(residual_to_noise([[1.0, 1.0]], [[0.9, 1.1]], noise_std=0.1), 6)
    1.0
    """
    a, b = _check_pair(S, S_fit)
    sigma = float(noise_std)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"noise_std must be a positive finite number, got {noise_std!r}")
    with np.errstate(over="ignore"):
        d = a - b
    scale = float(np.abs(d).max())
    if scale == 0:
        return 0.0
    if not np.isfinite(scale):  # |S - S_fit| overflows: halve both first
        d = a / 2 - b / 2
        scale = float(np.abs(d).max())
        return float(2 * scale * np.sqrt(np.mean((d / scale) ** 2)) / sigma)
    return float(scale * np.sqrt(np.mean((d / scale) ** 2)) / sigma)

"""Robust location and scale: the median and the MAD standard deviation of a whole array."""

from __future__ import annotations

import numpy as np

#: ``σ = MAD_TO_STD · median|x − median x|`` for Gaussian noise.
MAD_TO_STD = 1.4826


def median(x: np.ndarray) -> float:
    """The median of all entries of ``x``, equal to `numpy.median` (NaN if any entry is NaN).

    Parameters
    ----------
    x : numpy.ndarray
        Any shape, at least one entry.

    Returns
    -------
    float
        The median.

    Notes
    -----
    One selection and a maximum: `numpy.median` selects the two middle entries of an even
    count together, which takes about ten times longer on arrays of 10⁴-10⁵ entries.

    Examples
    --------
    >>> median(np.array([4.0, 1.0, 3.0, 2.0])), median(np.array([3.0, 1.0, 2.0]))
    (2.5, 2.0)
    """
    flat = np.asarray(x, dtype=float).ravel()
    if flat.size == 0:
        raise ValueError("the median of an empty array is undefined: pass at least one value")
    if np.isnan(flat).any():
        return float("nan")
    half = flat.size // 2
    selected = np.partition(flat, half)
    if flat.size % 2:
        return float(selected[half])
    return float((selected[:half].max() + selected[half]) / 2)


def robust_std(x: np.ndarray) -> float:
    """``1.4826·median|x − median x|``, the standard deviation of Gaussian noise (0 if empty).

    Parameters
    ----------
    x : numpy.ndarray
        Any shape.

    Returns
    -------
    float
        The robust standard deviation; 0 for an empty array.

    Examples
    --------
    >>> round(robust_std(np.random.default_rng(0).standard_normal(10_000)), 1)
    1.0
    """
    flat = np.asarray(x, dtype=float).ravel()
    if flat.size == 0:
        return 0.0
    return MAD_TO_STD * median(np.abs(flat - median(flat)))

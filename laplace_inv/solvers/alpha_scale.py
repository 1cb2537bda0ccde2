"""The scale a numeric α is measured in: absolute (normalised data) or the noise level."""

from __future__ import annotations

import numpy as np

from laplace_inv.kernels import Kernel2D

ALPHA_SCALES: tuple[str, ...] = ("absolute", "noise")
"""Accepted ``alpha_scale`` values of the classical inverters."""


def alpha_unit(
    alpha_scale: str, kernel: Kernel2D, S: np.ndarray, noise_std: float | None = None
) -> float:
    """The value of ``α = 1`` for one dataset scaled to ``max|S| = 1``.

    ``"absolute"``: 1, so α refers to the normalised data directly. ``"noise"``:
    ``N1·N2·σ̂²``, with σ̂ the noise standard deviation of the normalised data (``noise_std``
    when given, else estimated from the data outside the kernels' range). ``σ̂²/‖F‖²`` is the
    Wiener-filter α of a map ``F``, and a map of unit mass spread evenly over the ``N1·N2``
    bins has ``‖F‖² = 1/(N1·N2)``: α = 1 is then about the largest useful regularisation,
    so a log grid from 1e-4 (barely regularised) to 1e2 (over-smoothed) brackets the best
    map whatever the noise level and grid size.

    Parameters
    ----------
    alpha_scale : {"absolute", "noise"}
        The scale.
    kernel : Kernel2D
        The forward model (its map size and noise estimate).
    S : numpy.ndarray, shape (n1, n2)
        One dataset scaled to ``max|S| = 1``.
    noise_std : float, optional
        Known noise standard deviation in the same scaled units.

    Returns
    -------
    float
        The factor that multiplies the user's α.

    Raises
    ------
    ValueError
        For ``"noise"`` when no noise level is given and the data have no dimension outside
        the kernels' range to estimate it from.

    Examples
    --------
    >>> from laplace_inv import KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 8), n_grid=10),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=10))
    >>> alpha_unit("absolute", k, np.ones((8, 12)))
    1.0
    >>> alpha_unit("noise", k, np.ones((8, 12)), noise_std=0.01)
    0.01
    """
    if alpha_scale == "absolute":
        return 1.0
    if alpha_scale != "noise":
        raise ValueError(f"alpha_scale must be one of {ALPHA_SCALES}, got {alpha_scale!r}")
    if noise_std is None:
        try:
            noise_std = kernel.compress().noise_std(S)
        except ValueError as exc:
            raise ValueError(
                f"alpha_scale='noise' needs a noise level ({exc}): pass noise_std to "
                "invert, or use alpha_scale='absolute'"
            ) from None
    n_bins = kernel.map_shape[0] * kernel.map_shape[1]
    # Noise-free data would make every α zero; 1e-12 of max|S| is below rounding anyway.
    return float(n_bins * max(float(noise_std), 1e-12) ** 2)

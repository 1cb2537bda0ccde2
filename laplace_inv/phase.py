"""Zero-order phase correction of complex NMR decays."""

from __future__ import annotations

from typing import Any

import numpy as np


def phase_correct(S: Any) -> tuple[np.ndarray, float, float]:
    """Rotate complex data so that the signal lies in the real channel.

    The zero-order phase φ maximises the energy of the real channel,
    ``φ = ½·arg Σ z²``, with the sign chosen so that the largest-magnitude point is
    positive. The imaginary channel after rotation holds noise only, so its standard
    deviation is an unbiased noise estimate.

    Parameters
    ----------
    S : array_like of complex
        Complex decay data of any shape.

    Returns
    -------
    real : numpy.ndarray
        The phased real channel.
    phase : float
        The applied phase in radians (``real = Re(S·exp(-i·phase))``).
    noise_std : float
        Standard deviation of the phased imaginary channel.

    Examples
    --------
    >>> z = np.exp(-np.arange(5.0)) * np.exp(1j * 0.7)
    >>> real, phase, noise = phase_correct(z)
    >>> round(phase, 6), bool(np.allclose(real, np.exp(-np.arange(5.0))))
    (0.7, True)
    """
    z = np.asarray(S)
    if z.size == 0:
        raise ValueError("S is empty")
    if not np.iscomplexobj(z):
        z = z.astype(np.complex128)
    if not np.all(np.isfinite(z)):
        raise ValueError("S contains NaN or infinite values")
    phase = 0.5 * float(np.angle(np.sum(z * z)))
    rotated = z * np.exp(-1j * phase)
    peak = rotated.real.flat[int(np.argmax(np.abs(rotated.real)))]
    if peak < 0:
        phase = phase + np.pi if phase <= 0 else phase - np.pi
        rotated = -rotated
    noise_std = float(np.std(rotated.imag))
    return rotated.real.copy(), float(phase), noise_std

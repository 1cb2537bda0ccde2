"""Physics flags of a 1D distribution: mass where the acquisition cannot resolve it."""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv.diagnostics import PHYSICS_SHARE, physics_shares
from laplace_inv.peak_table import kernel_regions


def regions_1d(res: Any) -> dict[str, np.ndarray]:
    """Masks of the grid points below the first or beyond the last acquisition value.

    Parameters
    ----------
    res : InversionResult
        A 1D result.

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean masks over the grid, keyed by labels such as ``"T2<first echo"``.

    Examples
    --------
    >>> import numpy as np
    >>> from laplace_inv import Kernel1D, KernelAxis
    >>> from laplace_inv.methods import make_inverter
    >>> t = np.arange(1, 201) * 1e-3
    >>> res = make_inverter("tikhonov", Kernel1D(KernelAxis("T2", t, n_grid=40))).invert(
    ...     np.exp(-t / 0.05), noise_std=1e-3)
    >>> sorted(regions_1d(res))
    ['T2<first echo', 'T2>last echo']
    """
    return {name: mask[:, 0] for name, mask in kernel_regions(res.kernel).items()}


def peak_flags(res: Any, peak: Any, regions: dict[str, np.ndarray]) -> list[str]:
    """Labels of the flagged regions that hold the grid point nearest to ``peak``.

    Parameters
    ----------
    res : InversionResult
        A 1D result.
    peak : DetectedPeak
        One of its peaks.
    regions : dict of str to numpy.ndarray
        Masks from `regions_1d`.

    Returns
    -------
    list of str
        The labels, empty for a peak the acquisition resolves.

    Examples
    --------
    >>> import numpy as np
    >>> from laplace_inv import Kernel1D, KernelAxis
    >>> from laplace_inv.methods import make_inverter
    >>> t = np.arange(1, 201) * 1e-3
    >>> res = make_inverter("tikhonov", Kernel1D(KernelAxis("T2", t, n_grid=40))).invert(
    ...     np.exp(-t / 0.05), noise_std=1e-3)
    >>> peak_flags(res, res.peaks()[0], regions_1d(res))
    []
    """
    index = int(np.argmin(np.abs(np.log10(res.grid) - np.log10(peak.position[0]))))
    return [name for name, mask in regions.items() if mask[index]]


def shares_line(res: Any, regions: dict[str, np.ndarray]) -> tuple[str, dict[str, float]]:
    """The ``map in flagged areas`` line of one method, with the shares it lists.

    Parameters
    ----------
    res : InversionResult
        A 1D result.
    regions : dict of str to numpy.ndarray
        Masks from `regions_1d`.

    Returns
    -------
    line : str
        The shares of at least 0.5 %, or ``none``, and a hint when a share is large.
    shares : dict of str to float
        Every region's share of the distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from laplace_inv import Kernel1D, KernelAxis
    >>> from laplace_inv.methods import make_inverter
    >>> t = np.arange(1, 201) * 1e-3
    >>> res = make_inverter("tikhonov", Kernel1D(KernelAxis("T2", t, n_grid=40))).invert(
    ...     np.exp(-t / 0.05), noise_std=1e-3)
    >>> shares_line(res, regions_1d(res))[0]
    'map in flagged areas: none'
    """
    shares = physics_shares(res.distribution, regions)
    listed = [f"{k} {100 * v:.1f} %" for k, v in shares.items() if v >= 0.005]
    line = "map in flagged areas: " + (", ".join(listed) or "none")
    if any(v >= PHYSICS_SHARE for v in shares.values()):
        line += (
            "\nhint: a component lies beyond the delays, echoes or b-values acquired; check "
            "the kind and the time unit (--kind, --time-unit), or extend the acquisition"
        )
    return line, shares

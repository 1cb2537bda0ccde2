"""The forward model (fine-grid data from a map, acquisition imperfections) and the noise."""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_finite
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate.peaks import Peak, render_map


def simulate_decay(
    kernel: Kernel2D, peaks: list[Peak], oversample: int = 4, *, efficiency: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free data and the true map on the output grid.

    Parameters
    ----------
    kernel : Kernel2D
        Acquisition and output grids.
    peaks : list of Peak
        The distribution.
    oversample : int
        The data are computed from the distribution on grids this many times finer than the
        output grids (1 reproduces the "inverse crime").
    efficiency : float, optional
        Inversion efficiency of the acquisition's ``T1_IR`` axis (see `with_ir_efficiency`);
        None keeps the kernel's own.

    Returns
    -------
    S : numpy.ndarray, shape (n1, n2)
        ``K1 F K2ᵀ`` computed on the fine grid.
    F : numpy.ndarray, shape (N1, N2)
        The true map on the output grid.

    Examples
    --------
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-4, 1, 20)),
    ...              KernelAxis("T2", np.geomspace(1e-4, 1, 30)))
    >>> S, F = simulate_decay(k, [Peak((-2, -2), (0.1, 0.1))])
    >>> S.shape, F.shape, round(float(F.sum()), 3)
    ((20, 30), (64, 64), 1.0)
    """
    F = render_map(peaks, kernel.grid1, kernel.grid2)
    if efficiency is not None:
        kernel = with_ir_efficiency(kernel, efficiency)
    if oversample <= 1:
        return kernel.forward(F), F
    fine = kernel.refined(int(oversample))
    F_fine = render_map(peaks, fine.grid1, fine.grid2)
    return fine.forward(F_fine), F


def noise_std_for_snr(S: np.ndarray, snr: float) -> float:
    """``σ = max|S| / SNR``."""
    try:
        snr = float(snr)
    except (TypeError, ValueError):
        raise TypeError(f"snr must be a positive number, got {snr!r}") from None
    if not (snr > 0 and np.isfinite(snr)):
        raise ValueError(f"snr must be positive, got {snr!r}")
    return float(np.max(np.abs(S))) / float(snr)


def add_noise(
    S: np.ndarray, snr: float, random_state: int | np.random.Generator | None = None
) -> tuple[np.ndarray, float]:
    """Add white Gaussian noise with ``σ = max|S| / snr``.

    Returns
    -------
    noisy : numpy.ndarray
    sigma : float

    Examples
    --------
    >>> noisy, sigma = add_noise(np.ones((2, 2)), 100.0, random_state=0)
    >>> sigma
    0.01
    """
    arr = as_real_array(S, "S")
    check_finite(arr, "S")
    sigma = noise_std_for_snr(arr, snr)
    rng = np.random.default_rng(random_state)
    return arr + sigma * rng.standard_normal(arr.shape), sigma


def estimate_noise(S: Any, kernel: Kernel2D, rtol: float = 1e-8) -> float:
    """Noise standard deviation from the data outside the kernels' range.

    ``σ² ≈ ‖S − U1U1ᵀ S U2U2ᵀ‖² / (n1·n2 − r1·r2)`` (see the theory page). The signal has
    no component there, so only noise remains. The estimate itself is the compressed
    operator's (`CompressedOperator.noise_std`).

    Examples
    --------
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-4, 1, 40)),
    ...              KernelAxis("T2", np.geomspace(1e-4, 1, 200)))
    >>> S, _ = simulate_decay(k, [Peak((-2, -2), (0.1, 0.1))], oversample=1)
    >>> noisy = S + 0.01 * np.random.default_rng(0).standard_normal(S.shape)
    >>> round(float(estimate_noise(noisy, k)), 2)
    0.01
    """
    return kernel.compress(rtol).noise_std(np.asarray(S, dtype=float))


def with_ir_efficiency(kernel: Kernel2D, efficiency: float) -> Kernel2D:
    """The same kernel with its ``T1_IR`` axis at inversion efficiency ``efficiency``.

    ``k = 1 − (1 + e)·exp(−t/T1)``, through `KernelAxis.with_efficiency`.

    Raises
    ------
    ValueError
        If the kernel has no ``T1_IR`` axis (saturation recovery, CPMG and diffusion kernels
        have no inversion efficiency).

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> with_ir_efficiency(cement_kernel(), 0.8).axis1.efficiency
    0.8
    """
    _ir_axis_index(kernel)
    return Kernel2D(*(_at_efficiency(ax, efficiency) for ax in (kernel.axis1, kernel.axis2)))


def _at_efficiency(axis: KernelAxis, efficiency: float) -> KernelAxis:
    return axis.with_efficiency(efficiency) if axis.kind == "T1_IR" else axis


def _ir_axis_index(kernel: Kernel2D) -> int:
    """0 or 1: the kernel's one ``T1_IR`` axis."""
    ir = [i for i, kind in enumerate(kernel.kinds) if kind == "T1_IR"]
    if len(ir) != 1:
        raise ValueError(
            f"an inversion efficiency needs exactly one T1_IR axis, the kernel's kinds are "
            f"{kernel.kinds}; drop the efficiency option for this family"
        )
    return ir[0]

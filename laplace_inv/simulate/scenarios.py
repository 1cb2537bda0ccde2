"""Named simulated scenarios with their ground truth: cement-like, cheese-like, peak pairs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate.forward import add_noise, noise_std_for_snr, simulate_decay
from laplace_inv.simulate.peaks import Peak

CEMENT_TAU1 = np.geomspace(0.8e-3, 2.8, 48)
"""Inversion delays of the cement IR-CPMG acquisition (s)."""
CEMENT_TAU2 = np.arange(1, 1001) * 0.1078e-3
"""Echo times of the cement IR-CPMG acquisition (s)."""


def cement_kernel(n_grid: int = 64) -> Kernel2D:
    """The cement IR-CPMG acquisition layout (48 × 1000) with default grids."""
    return Kernel2D(
        KernelAxis("T1_IR", CEMENT_TAU1, n_grid=n_grid),
        KernelAxis("T2", CEMENT_TAU2, n_grid=n_grid),
    )


@dataclass
class Scenario:
    """A simulated test case with its ground truth.

    Attributes
    ----------
    name : str
    kernel : Kernel2D
    data : numpy.ndarray
        Noisy data, shape (n1, n2).
    clean : numpy.ndarray
        Noise-free data.
    truth : numpy.ndarray
        True map on the kernel's output grid.
    peaks : list of Peak
        The true peaks.
    noise_std : float
    snr : float
    params : dict
        Scenario parameters (e.g. separation and axis of a resolution pair).
    """

    name: str
    kernel: Kernel2D
    data: np.ndarray
    clean: np.ndarray
    truth: np.ndarray
    peaks: list[Peak]
    noise_std: float
    snr: float
    params: dict = field(default_factory=dict)

    def true_peaks(self) -> list:
        """The reference peaks for `laplace_inv.metrics.compare_to_truth`.

        For Gaussian components: each component's centre, marginal FWHM (``2.3548·σ`` per
        axis) and share of the total weight. Unlike the peaks found on the discretised
        `truth` map, a thin tilted component (a ridge) stays one peak (on a grid its ridge can
        show several local maxima). When a component is skewed, or the scenario says its
        components are parts of continuous distributions (``params["truth_from_map"]``), the
        truth is the map: the reference peaks are what `laplace_inv.metrics.find_peaks` finds
        on `truth`.

        Examples
        --------
        >>> sc = resolution_pair(0.5, "T2", snr=100)
        >>> [round(p.fraction, 2) for p in sc.true_peaks()]
        [0.5, 0.5]
        """
        from laplace_inv.metrics import Peak as MapPeak
        from laplace_inv.metrics import find_peaks

        if self.params.get("truth_from_map") or any(p.skewed for p in self.peaks):
            return find_peaks(self.truth, self.kernel.grid1, self.kernel.grid2)
        total = sum(p.weight for p in self.peaks)
        return [
            MapPeak.from_log_position(
                p.center, fwhm=p.fwhm, fraction=p.weight / total if total > 0 else np.nan
            )
            for p in self.peaks
        ]


def make_scenario(
    name: str,
    kernel: Kernel2D,
    peaks: list[Peak],
    snr: float,
    random_state: int | np.random.Generator | None = None,
    oversample: int = 4,
    params: dict | None = None,
    *,
    efficiency: float | None = None,
    offset: float = 0.0,
) -> Scenario:
    """Simulate ``peaks`` through ``kernel`` at ``snr`` (fine-grid data, output-grid truth).

    Parameters
    ----------
    name : str
        Scenario name.
    kernel : Kernel2D
        The acquisition (ideal: the scenario's kernel is what an inversion is given).
    peaks : list of Peak
        The true components.
    snr : float
        ``max|S| / σ`` of the data before the offset.
    random_state : int or Generator, optional
        Seed of the noise.
    oversample : int
        Fine-grid factor of the data.
    params : dict, optional
        Stored in `Scenario.params`.
    efficiency : float, optional
        Inversion efficiency of the acquisition's ``T1_IR`` axis, unknown to the inversion
        (recorded in ``params["efficiency"]``).
    offset : float
        Constant baseline of the data as a fraction of the noise-free ``max|S|`` (recorded in
        data units in ``params["offset"]``).

    Examples
    --------
    >>> sc = make_scenario("ir", cement_kernel(), [Peak((-1.0, -2.0), (0.1, 0.1))], 300,
    ...                    random_state=0, efficiency=0.8, offset=0.01)
    >>> level = sc.params["offset"]
    >>> sc.params["efficiency"], round(float(level / np.abs(sc.clean - level).max()), 3)
    (0.8, 0.01)
    """
    clean, truth = simulate_decay(kernel, peaks, oversample, efficiency=efficiency)
    params = dict(params or {})
    if efficiency is not None:
        params["efficiency"] = float(efficiency)
    if offset:
        level = float(offset) * float(np.max(np.abs(clean)))
        sigma = noise_std_for_snr(clean, snr)
        clean = clean + level
        rng = np.random.default_rng(random_state)
        noisy = clean + sigma * rng.standard_normal(clean.shape)
        params["offset"] = level
    else:
        noisy, sigma = add_noise(clean, snr, random_state)
    return Scenario(name, kernel, noisy, clean, truth, list(peaks), sigma, float(snr), params)


def cement_like(
    kernel: Kernel2D | None = None, snr: float = 200.0, random_state: Any = 0
) -> Scenario:
    """Two components like white cement paste.

    Main peak at T1 = 112 ms, T2 = 19.6 ms (88 %) and a minor one at T1 = 97 ms,
    T2 = 0.79 ms (12 %), on the cement IR-CPMG acquisition by default.
    """
    kernel = kernel or cement_kernel()
    peaks = [
        Peak((np.log10(0.112), np.log10(19.6e-3)), (0.08, 0.08), 0.88, 0.3),
        Peak((np.log10(0.097), np.log10(0.79e-3)), (0.08, 0.10), 0.12, 0.0),
    ]
    return make_scenario("cement_like", kernel, peaks, snr, random_state)


CHEESE_COMPONENTS = {
    "water": (0.320, 40e-3),
    "protein-bound water": (0.160, 4e-3),
    "fat": (0.100, 70e-3),
}
"""(T1, T2) in seconds of the three cheese components (DLEMLR paper Fig. 3)."""


def cheese_like(
    kernel: Kernel2D | None = None,
    snr: float = 300.0,
    random_state: Any = 0,
    weights: tuple[float, float, float] = (0.5, 0.2, 0.3),
    shift: float = 0.0,
) -> Scenario:
    """Three components like ripening cheese: water, protein-bound water and fat.

    Parameters
    ----------
    kernel : Kernel2D, optional
        The acquisition; default the cement IR-CPMG layout (`cement_kernel`).
    snr : float
        ``max|S| / σ`` of the data.
    random_state : int or Generator
        Seed of the noise.
    weights : tuple of float
        Weights of water, protein-bound water and fat.
    shift : float
        Shift of the water and protein-bound components towards shorter T1/T2, in decades
        (ripening dehydrates the curd); 0 gives the published positions.

    Examples
    --------
    >>> len(cheese_like(shift=0.1).peaks)
    3
    """
    kernel = kernel or cement_kernel()
    comps = list(CHEESE_COMPONENTS.values())
    shifts = (shift, shift, 0.0)
    peaks = [
        Peak((np.log10(t1) - s, np.log10(t2) - s), (0.06, 0.07), w, 0.2)
        for (t1, t2), w, s in zip(comps, weights, shifts, strict=True)
    ]
    return make_scenario("cheese_like", kernel, peaks, snr, random_state, params={"shift": shift})


def resolution_pair(
    separation: float,
    axis: str = "T2",
    snr: float = 1000.0,
    kernel: Kernel2D | None = None,
    sigma: float = 0.04,
    center: tuple[float, float] | None = None,
    random_state: Any = 0,
) -> Scenario:
    """Two equal Gaussian peaks ``separation`` decades apart.

    Parameters
    ----------
    separation : float
        Distance between the centres in decades.
    axis : {"T1", "T2", "diagonal", "axis1", "axis2"}
        Direction of the separation: along axis 1 (``"T1"``/``"axis1"``), axis 2
        (``"T2"``/``"axis2"``) or both (``"diagonal"``, the distance measured along the
        diagonal).
    snr : float
        ``max|S| / σ`` of the data.
    kernel : Kernel2D, optional
        The acquisition; default the cement IR-CPMG layout (`cement_kernel`).
    sigma : float
        Peak σ in decades on both axes.
    center : tuple, optional
        Midpoint in log10 units; default T1 = 100 ms, T2 = 10 ms (well inside the cement grid).
    random_state : int or Generator
        Seed of the noise.

    Examples
    --------
    >>> sc = resolution_pair(0.5, "T2", snr=100)
    >>> round(sc.peaks[1].center[1] - sc.peaks[0].center[1], 3)
    0.5
    """
    if not separation > 0:
        raise ValueError(f"separation must be positive, got {separation!r}")
    directions = {
        "T1": (1.0, 0.0),
        "axis1": (1.0, 0.0),
        "T2": (0.0, 1.0),
        "axis2": (0.0, 1.0),
        "diagonal": (np.sqrt(0.5), np.sqrt(0.5)),
    }
    if axis not in directions:
        raise ValueError(f"axis must be one of {sorted(directions)}, got {axis!r}")
    kernel = kernel or cement_kernel()
    if center is None:
        center = (np.log10(0.1), np.log10(0.01))
    d = np.array(directions[axis]) * separation / 2.0
    c = np.array(center, dtype=float)
    peaks = [
        Peak((float(c[0] - d[0]), float(c[1] - d[1])), (sigma, sigma), 0.5),
        Peak((float(c[0] + d[0]), float(c[1] + d[1])), (sigma, sigma), 0.5),
    ]
    return make_scenario(
        f"pair_{axis}_{separation:g}",
        kernel,
        peaks,
        snr,
        random_state,
        params={"separation": float(separation), "axis": axis},
    )

"""Simulation: peak-based map priors in log space, forward model, additive noise, training pairs.

Maps hold *mass per bin*: a Gaussian peak of weight ``w`` contributes
``w·pdf(log10 x1, log10 x2)·Δ1·Δ2`` to each bin, so a map's sum is the sum of its weights on
any grid, and a map on a fine grid and its counterpart on the output grid describe the same
distribution. Data are ``K1 F K2ᵀ`` (computed on a finer grid when ``oversample > 1``, to
avoid the inverse crime) plus white Gaussian noise with ``σ = max|S| / SNR``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_finite
from laplace_inv.kernels import Kernel2D, KernelAxis


@dataclass(frozen=True)
class Peak:
    """A 2D Gaussian peak in log10 space.

    Attributes
    ----------
    center : tuple of float
        ``(log10 x1, log10 x2)`` in SI units.
    sigma : tuple of float
        Standard deviations along each axis, in decades (FWHM = 2.355·σ).
    weight : float
        Total mass of the peak.
    rho : float
        Correlation coefficient in (−1, 1): the tilt of the peak.
    """

    center: tuple[float, float]
    sigma: tuple[float, float]
    weight: float = 1.0
    rho: float = 0.0

    def __post_init__(self) -> None:
        for name, value in (("center", self.center), ("sigma", self.sigma)):
            arr = as_real_array(value, f"Peak {name}")
            if arr.shape != (2,):
                raise ValueError(f"Peak {name} must be a pair (axis 1, axis 2), got {value!r}")
            check_finite(arr, f"Peak {name}")
        if not np.all(np.asarray(self.sigma, dtype=float) > 0):
            raise ValueError(f"Peak sigma must be positive (decades), got {self.sigma!r}")
        weight = float(self.weight)
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"Peak weight must be finite and >= 0, got {self.weight!r}")
        rho = float(self.rho)
        if not -1.0 < rho < 1.0:
            raise ValueError(f"Peak rho must lie in (-1, 1), got {self.rho!r}")

    @property
    def fwhm(self) -> tuple[float, float]:
        """Full widths at half maximum, in decades."""
        c = 2.0 * np.sqrt(2.0 * np.log(2.0))
        return (c * self.sigma[0], c * self.sigma[1])


@dataclass(frozen=True)
class PeakPrior:
    """Distribution of random maps used for training and random test cases.

    Positions are drawn uniformly in the grid span shrunk by ``margin`` decades on each
    side; widths log-uniformly in ``sigma``; correlation uniformly in ``rho``; weights
    uniformly in ``weight`` and then normalised to sum to 1.

    Attributes
    ----------
    n_peaks : tuple of int
        Inclusive range of the number of peaks.
    sigma : tuple of float
        Range of σ in decades.
    rho : tuple of float
        Range of the correlation (tilt).
    weight : tuple of float
        Range of relative weights before normalisation.
    min_separation : float
        Minimum distance between peak centres, in decades.
    margin : float
        Distance of centres from the grid edges, in decades.
    t1_ge_t2 : bool
        For T1-T2 maps, keep centres on the physical side ``T1 ≥ T2``.
    cluster : float
        Probability that a peak after the first is placed next to an earlier one (chosen at
        random), at a distance drawn uniformly in ``[min_separation, cluster_radius]`` and a
        uniformly random direction. Uniform placement on a 4-decade grid rarely draws close
        pairs, which are what resolution is about. 0 (the default) places every peak
        uniformly.
    cluster_radius : float
        Largest distance of a clustered peak from its neighbour, in decades.
    pair_sigma_ratio : float
        If positive, each σ of a peak is capped at (distance to its nearest neighbour) /
        ``pair_sigma_ratio`` (but not below ``sigma[0]``), so that close peaks are narrow
        enough to show as separate maxima (two equal Gaussians are bimodal from a distance of
        2σ). Without it, two broad peaks a fraction of their width apart look like one broad
        peak in the map and in the data, and a model trained on such pairs learns to split
        single broad peaks. 0 (the default) leaves the widths alone; the random draws are the
        same either way.
    """

    n_peaks: tuple[int, int] = (1, 5)
    sigma: tuple[float, float] = (0.03, 0.2)
    rho: tuple[float, float] = (-0.6, 0.6)
    weight: tuple[float, float] = (0.2, 1.0)
    min_separation: float = 0.15
    margin: float = 0.4
    t1_ge_t2: bool = False
    cluster: float = 0.0
    cluster_radius: float = 0.6
    pair_sigma_ratio: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.n_peaks
        if not (
            isinstance(lo, (int, np.integer))
            and isinstance(hi, (int, np.integer))
            and 0 <= lo <= hi
            and hi >= 1
        ):
            raise ValueError(
                f"PeakPrior n_peaks must be integers 0 <= low <= high, high >= 1; "
                f"got {self.n_peaks!r}"
            )
        for name in ("sigma", "rho", "weight"):
            a, b = (float(v) for v in getattr(self, name))
            if not (np.isfinite(a) and np.isfinite(b) and a <= b):
                raise ValueError(
                    f"PeakPrior {name} must be a finite range (low <= high), got "
                    f"{getattr(self, name)!r}"
                )
        if not self.sigma[0] > 0:
            raise ValueError(f"PeakPrior sigma must be positive, got {self.sigma!r}")
        if not (-1.0 < self.rho[0] and self.rho[1] < 1.0):
            raise ValueError(f"PeakPrior rho must lie in (-1, 1), got {self.rho!r}")
        if not self.weight[0] > 0:
            raise ValueError(f"PeakPrior weight must be positive, got {self.weight!r}")
        if not 0.0 <= float(self.cluster) <= 1.0:
            raise ValueError(
                f"PeakPrior cluster must be a probability in [0, 1], got {self.cluster!r}"
            )
        if float(self.cluster) > 0 and not float(self.cluster_radius) >= self.min_separation:
            raise ValueError(
                f"PeakPrior cluster_radius ({self.cluster_radius!r}) must be at "
                f"least min_separation ({self.min_separation!r})"
            )
        if not (np.isfinite(self.pair_sigma_ratio) and self.pair_sigma_ratio >= 0):
            raise ValueError(
                f"PeakPrior pair_sigma_ratio must be finite and >= 0, got {self.pair_sigma_ratio!r}"
            )


def render_map(peaks: list[Peak], grid1: np.ndarray, grid2: np.ndarray) -> np.ndarray:
    """Render peaks as mass per bin on log grids.

    Examples
    --------
    >>> g = np.logspace(-3, 0, 61)
    >>> F = render_map([Peak((-1.5, -1.5), (0.1, 0.1), weight=2.0)], g, g)
    >>> round(float(F.sum()), 4)
    2.0
    """
    l1, l2 = np.log10(grid1), np.log10(grid2)
    F = np.zeros((l1.size, l2.size))
    if not peaks:
        return F
    centers = np.array([p.center for p in peaks], dtype=float)
    sigmas = np.array([p.sigma for p in peaks], dtype=float)
    weights = np.array([p.weight for p in peaks], dtype=float)
    rhos = np.array([p.rho for p in peaks], dtype=float)
    return _render_batch(centers[None], sigmas[None], weights[None], rhos[None], l1, l2)[0]


def _bin_widths(log_grid: np.ndarray) -> np.ndarray:
    """Widths of the bins centred on a log grid (half-distances to neighbours)."""
    if log_grid.size == 1:
        return np.ones(1)
    edges = np.concatenate(
        [
            [log_grid[0] - (log_grid[1] - log_grid[0]) / 2],
            (log_grid[1:] + log_grid[:-1]) / 2,
            [log_grid[-1] + (log_grid[-1] - log_grid[-2]) / 2],
        ]
    )
    return np.diff(edges)


def _render_batch(
    centers: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    rhos: np.ndarray,
    l1: np.ndarray,
    l2: np.ndarray,
) -> np.ndarray:
    """Vectorised rendering: arrays of shape (n, P, ...) → maps (n, N1, N2)."""
    return _render_form(*_quadratic_form(centers, sigmas, rhos, l1, l2), weights, l1, l2)


def _render_form(
    q: np.ndarray, norm: np.ndarray, weights: np.ndarray, l1: np.ndarray, l2: np.ndarray
) -> np.ndarray:
    """:func:`_render_batch` from the components' :func:`_quadratic_form`."""
    dens = np.exp(-0.5 * q) * (weights / norm)[..., None, None]
    cell = _bin_widths(l1)[:, None] * _bin_widths(l2)[None, :]
    return dens.sum(axis=1) * cell


def _component_labels(q: np.ndarray, norm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The index of the component with the largest weighted density at each bin, (n, N1, N2).

    ``q`` and ``norm`` come from :func:`_quadratic_form`. Densities are compared in log space,
    so that bins where every density underflows still go to the nearest component;
    components of weight 0 (padding) never win.
    """
    with np.errstate(divide="ignore"):
        log_w = np.log(weights / norm)
    return np.argmax(-0.5 * q + log_w[..., None, None], axis=1).astype(np.int8)


def _quadratic_form(
    centers: np.ndarray, sigmas: np.ndarray, rhos: np.ndarray, l1: np.ndarray, l2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each tilted Gaussian's ``q`` (n, P, N1, N2) and normalisation ``2πσ1σ2√(1−ρ²)``."""
    d1 = (l1[None, None, :] - centers[..., 0:1]) / sigmas[..., 0:1]  # (n, P, N1)
    d2 = (l2[None, None, :] - centers[..., 1:2]) / sigmas[..., 1:2]  # (n, P, N2)
    one_minus = 1.0 - rhos**2
    q = (
        d1[..., :, None] ** 2
        + d2[..., None, :] ** 2
        - 2.0 * rhos[..., None, None] * d1[..., :, None] * d2[..., None, :]
    ) / one_minus[..., None, None]
    return q, 2.0 * np.pi * sigmas[..., 0] * sigmas[..., 1] * np.sqrt(one_minus)


def sample_peaks(prior: PeakPrior, kernel: Kernel2D, rng: np.random.Generator) -> list[Peak]:
    """Draw one random set of peaks for ``kernel``'s grids."""
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    lo = np.array([l1[0], l2[0]]) + prior.margin
    hi = np.array([l1[-1], l2[-1]]) - prior.margin
    if np.any(hi <= lo):
        raise ValueError("the prior's margin leaves no room on the grid")
    n = int(rng.integers(prior.n_peaks[0], prior.n_peaks[1] + 1))
    centers: list[np.ndarray] = []
    for _ in range(200 * n):
        if len(centers) == n:
            break
        if centers and prior.cluster > 0 and rng.uniform() < prior.cluster:
            c = _near(centers[int(rng.integers(len(centers)))], prior, rng)
        else:
            c = rng.uniform(lo, hi)
        if np.any(c < lo) or np.any(c > hi):
            continue
        if prior.t1_ge_t2 and c[0] < c[1]:
            c = c[::-1].copy()
            if np.any(c < lo) or np.any(c > hi):
                continue
        if all(np.linalg.norm(c - o) >= prior.min_separation for o in centers):
            centers.append(c)
    weights = rng.uniform(*prior.weight, size=len(centers))
    weights = weights / weights.sum()
    log_s = np.log(prior.sigma)
    peaks = []
    for i, (c, w) in enumerate(zip(centers, weights, strict=True)):
        sig = np.exp(rng.uniform(log_s[0], log_s[1], size=2))
        if prior.pair_sigma_ratio > 0 and len(centers) > 1:
            nearest = min(float(np.linalg.norm(c - o)) for j, o in enumerate(centers) if j != i)
            sig = np.minimum(sig, max(nearest / prior.pair_sigma_ratio, prior.sigma[0]))
        rho = float(rng.uniform(*prior.rho))
        center = (float(c[0]), float(c[1]))
        peaks.append(Peak(center, (float(sig[0]), float(sig[1])), float(w), rho))
    return peaks


def _near(center: np.ndarray, prior: PeakPrior, rng: np.random.Generator) -> np.ndarray:
    """A point at a random distance in ``[min_separation, cluster_radius]`` from ``center``."""
    r = rng.uniform(prior.min_separation, prior.cluster_radius)
    phi = rng.uniform(0.0, 2.0 * np.pi)
    return center + r * np.array([np.cos(phi), np.sin(phi)])


def simulate_decay(
    kernel: Kernel2D, peaks: list[Peak], oversample: int = 4
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

    ``σ² ≈ ‖S − U1U1ᵀ S U2U2ᵀ‖² / (n1·n2 − r1·r2)`` (ALGORITHMS.md §1). The signal has no
    component there, so only noise remains. The estimate itself is the compressed
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


def make_training_set(
    kernel: Kernel2D,
    n_samples: int,
    *,
    prior: PeakPrior | None = None,
    snr: tuple[float, float] | float = (30.0, 3000.0),
    oversample: int = 1,
    random_state: int | np.random.Generator | None = None,
    return_clean: bool = False,
    return_labels: bool = False,
    chunk_size: int = 512,
) -> tuple[np.ndarray, ...]:
    """Vectorised (decay, map) training pairs.

    Parameters
    ----------
    kernel : Kernel2D
        Acquisition and output grids.
    n_samples : int
        Number of pairs.
    prior : PeakPrior, optional
        Distribution of maps (default ``PeakPrior()``).
    snr : float or (low, high)
        Fixed SNR, or a range sampled log-uniformly per sample.
    oversample : int
        Fine-grid factor for the data (1 is fastest).
    random_state : int or Generator, optional
        Seed.
    return_clean : bool
        Also return the noise-free data.
    return_labels : bool
        Also return, for every output bin, the index of the peak whose weighted density is
        largest there (a partition of the map into one region per peak).

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n1*n2)
        Noisy decays.
    Y : numpy.ndarray, shape (n_samples, N1*N2)
        True maps (weights sum to 1).
    sigma : numpy.ndarray, shape (n_samples,)
        Noise standard deviations.
    X_clean : numpy.ndarray, optional
        Noise-free decays, when ``return_clean``.
    labels : numpy.ndarray of int8, shape (n_samples, N1*N2), optional
        The peak regions, when ``return_labels`` (after ``X_clean`` if both are asked).

    Examples
    --------
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 12)),
    ...              KernelAxis("T2", np.arange(1, 101) * 1e-3))
    >>> X, Y, sigma = make_training_set(k, 4, random_state=0)
    >>> X.shape, Y.shape, sigma.shape
    ((4, 1200), (4, 4096), (4,))
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    prior = prior or PeakPrior()
    rng = np.random.default_rng(random_state)
    sim_kernel = kernel.refined(oversample) if oversample > 1 else kernel
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    lf1, lf2 = sim_kernel.axis1.log_grid, sim_kernel.axis2.log_grid
    P = prior.n_peaks[1]
    centers = np.zeros((n_samples, P, 2))
    sigmas = np.ones((n_samples, P, 2))
    weights = np.zeros((n_samples, P))
    rhos = np.zeros((n_samples, P))
    for i in range(n_samples):
        for j, p in enumerate(sample_peaks(prior, kernel, rng)):
            centers[i, j], sigmas[i, j], weights[i, j], rhos[i, j] = (
                p.center,
                p.sigma,
                p.weight,
                p.rho,
            )
    snr_arr = as_real_array(snr, "snr")
    if (
        snr_arr.shape not in ((), (2,))
        or not np.all(np.isfinite(snr_arr))
        or not np.all(snr_arr > 0)
        or (snr_arr.ndim == 1 and snr_arr[0] > snr_arr[1])
    ):
        raise ValueError(
            f"snr must be a positive number or a range (low, high) with "
            f"0 < low <= high, got {snr!r}"
        )
    if snr_arr.ndim == 0:
        snrs = np.full(n_samples, float(snr_arr))
    else:
        lo, hi = np.log(snr_arr[0]), np.log(snr_arr[1])
        snrs = np.exp(rng.uniform(lo, hi, n_samples))
    X = np.empty((n_samples, *kernel.data_shape))
    Y = np.empty((n_samples, *kernel.map_shape))
    labels = np.empty((n_samples, *kernel.map_shape), dtype=np.int8) if return_labels else None
    for start in range(0, n_samples, chunk_size):
        sl = slice(start, start + chunk_size)
        args = (centers[sl], sigmas[sl], weights[sl], rhos[sl])
        # The quadratic form is the costly part of rendering: the labels reuse it.
        q, norm = _quadratic_form(centers[sl], sigmas[sl], rhos[sl], l1, l2)
        Y[sl] = _render_form(q, norm, weights[sl], l1, l2)
        if labels is not None:
            labels[sl] = _component_labels(q, norm, weights[sl])
        F_sim = Y[sl] if oversample <= 1 else _render_batch(*args, lf1, lf2)
        X[sl] = sim_kernel.K1 @ F_sim @ sim_kernel.K2.T
    clean = X.copy() if return_clean else None
    sigma = np.abs(X).reshape(n_samples, -1).max(axis=1) / snrs
    X += sigma[:, None, None] * rng.standard_normal(X.shape)
    out: tuple[np.ndarray, ...] = (
        X.reshape(n_samples, -1),
        Y.reshape(n_samples, -1),
        sigma,
    )
    if return_clean:
        out = (*out, clean.reshape(n_samples, -1))
    if labels is not None:
        out = (*out, labels.reshape(n_samples, -1))
    return out


# --------------------------------------------------------------------------------------
# Named scenarios

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
        """The simulated components as reference peaks for :func:`laplace_inv.metrics.
        compare_to_truth`.

        Each component's centre, marginal FWHM (``2.3548·σ`` per axis) and share of the total
        weight. Unlike the peaks found on the discretised :attr:`truth` map, a thin tilted
        component stays one peak (on a grid its ridge can show several local maxima).

        Examples
        --------
        >>> sc = resolution_pair(0.5, "T2", snr=100)
        >>> [round(p.fraction, 2) for p in sc.true_peaks()]
        [0.5, 0.5]
        """
        from laplace_inv.metrics import Peak as MapPeak

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
) -> Scenario:
    """Simulate ``peaks`` through ``kernel`` at ``snr`` (fine-grid data, output-grid truth)."""
    clean, truth = simulate_decay(kernel, peaks, oversample)
    noisy, sigma = add_noise(clean, snr, random_state)
    return Scenario(name, kernel, noisy, clean, truth, list(peaks), sigma, float(snr), params or {})


def cement_like(
    kernel: Kernel2D | None = None, snr: float = 200.0, random_state: Any = 0
) -> Scenario:
    """Two components like white cement paste (ALGORITHMS.md / data README).

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
    shift : float
        Shift of the water and protein-bound components towards shorter T1/T2, in decades
        (ripening dehydrates the curd); 0 gives the published positions.
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
    sigma : float
        Peak σ in decades on both axes.
    center : tuple, optional
        Midpoint in log10 units; default T1 = 100 ms, T2 = 10 ms (well inside the cement grid).

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
        Peak(tuple(map(float, c - d)), (sigma, sigma), 0.5),
        Peak(tuple(map(float, c + d)), (sigma, sigma), 0.5),
    ]
    return make_scenario(
        f"pair_{axis}_{separation:g}",
        kernel,
        peaks,
        snr,
        random_state,
        params={"separation": float(separation), "axis": axis},
    )

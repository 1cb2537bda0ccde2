"""Drawing random maps from a `PeakPrior`: components, shapes and the T1 ≥ T2 constraint."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, owens_t

from laplace_inv.kernels import Kernel2D
from laplace_inv.simulate.peaks import FWHM_PER_SIGMA, Peak
from laplace_inv.simulate.prior import PeakPrior

__all__ = ["mass_below_diagonal", "sample_components", "sample_peaks"]


def sample_peaks(prior: PeakPrior, kernel: Kernel2D, rng: np.random.Generator) -> list[Peak]:
    """Draw one random set of peaks for ``kernel``'s grids.

    A continuous component (see `PeakPrior.continuous`) contributes all its log-normals;
    `sample_components` keeps them grouped.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> peaks = sample_peaks(PeakPrior(n_peaks=(2, 2)), cement_kernel(), np.random.default_rng(0))
    >>> len(peaks), round(sum(p.weight for p in peaks), 6)
    (2, 1.0)
    """
    return [p for component in sample_components(prior, kernel, rng) for p in component]


def sample_components(
    prior: PeakPrior, kernel: Kernel2D, rng: np.random.Generator
) -> list[list[Peak]]:
    """Draw one random map as a list of components, each a list of peaks.

    A single peak, a ridge or a skewed peak is a one-peak component; a continuous component is
    the mixture of its log-normals. Weights over all peaks sum to 1.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> prior = PeakPrior(n_peaks=(1, 1), continuous=1.0, continuous_parts=(3, 3))
    >>> comps = sample_components(prior, cement_kernel(), np.random.default_rng(0))
    >>> len(comps), len(comps[0])
    (1, 3)
    """
    if not prior.widened:
        return [[p] for p in _sample_plain(prior, kernel, rng)]
    return _sample_widened(prior, kernel, rng)


def _sample_plain(prior: PeakPrior, kernel: Kernel2D, rng: np.random.Generator) -> list[Peak]:
    """The draws of a prior without shape options (kept as they were: seeds reproduce)."""
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


@dataclass
class _Component:
    """A drawn component before its weight: its centre, kind and parts (relative weights)."""

    center: np.ndarray
    kind: str
    parts: list[tuple[np.ndarray, np.ndarray, float, np.ndarray, float]]


def _sample_widened(
    prior: PeakPrior, kernel: Kernel2D, rng: np.random.Generator
) -> list[list[Peak]]:
    """The draws of a prior with shape options: one component at a time, with rejection."""
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    lo = np.array([l1[0], l2[0]]) + prior.margin
    hi = np.array([l1[-1], l2[-1]]) - prior.margin
    if np.any(hi <= lo):
        raise ValueError("the prior's margin leaves no room on the grid")
    n = int(rng.integers(prior.n_peaks[0], prior.n_peaks[1] + 1))
    comps: list[_Component] = []
    for _ in range(200 * n):
        if len(comps) == n:
            break
        comp = _draw_component(prior, lo, hi, [c.center for c in comps], rng)
        if comp is None:
            continue
        if any(np.linalg.norm(comp.center - c.center) < prior.min_separation for c in comps):
            continue
        if prior.below_diagonal is not None and _component_below(comp) > prior.below_diagonal:
            continue
        comps.append(comp)
    weights = rng.uniform(*prior.weight, size=len(comps))
    weights = weights / weights.sum()
    centers = [c.center for c in comps]
    out = []
    for i, (comp, w) in enumerate(zip(comps, weights, strict=True)):
        parts = comp.parts
        if prior.pair_sigma_ratio > 0 and comp.kind == "peak" and len(comps) > 1:
            nearest = min(
                float(np.linalg.norm(comp.center - o)) for j, o in enumerate(centers) if j != i
            )
            c, sig, rho, skew, rel = parts[0]
            sig = np.minimum(sig, max(nearest / prior.pair_sigma_ratio, prior.sigma[0]))
            parts = [(c, sig, rho, skew, rel)]
        out.append([_as_peak(c, sig, rho, skew, w * rel) for c, sig, rho, skew, rel in parts])
    return out


def _as_peak(c: np.ndarray, sig: np.ndarray, rho: float, skew: np.ndarray, w: float) -> Peak:
    return Peak(
        (float(c[0]), float(c[1])),
        (float(sig[0]), float(sig[1])),
        float(w),
        float(rho),
        (float(skew[0]), float(skew[1])),
    )


def _draw_component(
    prior: PeakPrior,
    lo: np.ndarray,
    hi: np.ndarray,
    centers: list[np.ndarray],
    rng: np.random.Generator,
) -> _Component | None:
    """One component of the widened prior, or None when its centre falls off the grid."""
    u = rng.uniform()
    kind = (
        "ridge"
        if u < prior.ridge
        else "continuous"
        if u < prior.ridge + prior.continuous
        else "peak"
    )
    if kind == "ridge":
        x2 = rng.uniform(lo[1], hi[1])
        c = np.array([x2 + np.log10(_log_uniform(prior.ridge_ratio, rng)), x2])
    elif centers and prior.cluster > 0 and rng.uniform() < prior.cluster:
        c = _near(centers[int(rng.integers(len(centers)))], prior, rng)
    else:
        c = rng.uniform(lo, hi)
    if kind != "ridge" and prior.t1_ge_t2 and c[0] < c[1]:
        c = c[::-1].copy()
    if np.any(c < lo) or np.any(c > hi):
        return None
    if kind == "ridge":
        sig, rho = _ridge_shape(prior, rng)
        # Keep the ridge within 2σ of its ends on the grid: a ridge cut by the edge loses mass.
        half = 2.0 * sig[0] * np.sqrt((1.0 + rho) / 2.0)
        if np.any(c - half < lo - prior.margin) or np.any(c + half > hi + prior.margin):
            return None
    else:
        sig, rho = _peak_shape(prior, rng)
    skew = np.zeros(2)
    if prior.skew > 0 and rng.uniform() < prior.skew:
        skew = rng.uniform(*prior.skew_alpha, size=2) * rng.choice([-1.0, 1.0], size=2)
    if kind == "continuous":
        return _Component(c, kind, _mixture_parts(c, sig, rho, skew, prior, rng))
    return _Component(c, kind, [(c, sig, rho, skew, 1.0)])


def _log_uniform(bounds: tuple[float, float], rng: np.random.Generator) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _peak_shape(prior: PeakPrior, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """σ per axis (broad or from ``sigma``) and the tilt of a peak."""
    if prior.broad > 0 and rng.uniform() < prior.broad:
        sig = rng.uniform(*prior.broad_fwhm, size=2) / FWHM_PER_SIGMA
    else:
        log_s = np.log(prior.sigma)
        sig = np.exp(rng.uniform(log_s[0], log_s[1], size=2))
    return sig, float(rng.uniform(*prior.rho))


def _ridge_shape(prior: PeakPrior, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """σ per axis and tilt of a Gaussian with FWHM ``L`` along the diagonal and ``W`` across.

    Along ``(1, 1)/√2`` the variance is ``σ²(1 + ρ)``, across it ``σ²(1 − ρ)``.
    """
    a = rng.uniform(*prior.ridge_length) / FWHM_PER_SIGMA
    b = rng.uniform(*prior.ridge_width) / FWHM_PER_SIGMA
    s = np.sqrt((a**2 + b**2) / 2.0)
    return np.array([s, s]), float((a**2 - b**2) / (a**2 + b**2))


def _mixture_parts(
    c: np.ndarray,
    sig: np.ndarray,
    rho: float,
    skew: np.ndarray,
    prior: PeakPrior,
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, np.ndarray, float, np.ndarray, float]]:
    """Log-normals scattered within one width of ``c``, narrower than it, random weights."""
    k = int(rng.integers(prior.continuous_parts[0], prior.continuous_parts[1] + 1))
    offsets = rng.standard_normal((k, 2)) * 0.6 * sig
    scales = rng.uniform(0.4, 0.7, size=k)
    rel = rng.uniform(0.3, 1.0, size=k)
    rel = rel / rel.sum()
    return [(c + offsets[i], sig * scales[i], rho, skew, float(rel[i])) for i in range(k)]


def _component_below(comp: _Component) -> float:
    return sum(
        rel * mass_below_diagonal(c, sig, rho, skew) for c, sig, rho, skew, rel in comp.parts
    )


def mass_below_diagonal(
    center: np.ndarray | tuple[float, float],
    sigma: np.ndarray | tuple[float, float],
    rho: float = 0.0,
    skew: np.ndarray | tuple[float, float] = (0.0, 0.0),
) -> float:
    """The fraction of a component's mass at ``x1 < x2`` (T1 < T2), exactly.

    ``u = log10 x1 − log10 x2`` of a (skew-)normal component is skew-normal with location
    ``c1 − c2``, scale ``ω = √(σ1² + σ2² − 2ρσ1σ2)`` and shape from ``δ = Ω̄α / √(1 + αᵀΩ̄α)``;
    its distribution function is ``Φ(z) − 2·T(z, α_u)`` (Owen's T).

    Parameters
    ----------
    center : pair of float
        Location in log10 units.
    sigma : pair of float
        Scale per axis in decades.
    rho : float
        Correlation.
    skew : pair of float
        Skew-normal shape ``α``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(mass_below_diagonal((0.0, 0.0), (0.1, 0.1)), 3)
    0.5
    >>> mass_below_diagonal((1.0, 0.0), (0.1, 0.1)) < 1e-10
    True
    """
    c = np.asarray(center, dtype=float)
    s = np.asarray(sigma, dtype=float)
    a = np.asarray(skew, dtype=float)
    omega = float(np.sqrt(s[0] ** 2 + s[1] ** 2 - 2.0 * rho * s[0] * s[1]))
    z = -(c[0] - c[1]) / omega
    if not np.any(a):
        return float(ndtr(z))
    corr = np.array([[1.0, rho], [rho, 1.0]])
    delta = corr @ a / np.sqrt(1.0 + a @ corr @ a)
    d_u = float(np.clip((s[0] * delta[0] - s[1] * delta[1]) / omega, -1 + 1e-12, 1 - 1e-12))
    return float(ndtr(z) - 2.0 * owens_t(z, d_u / np.sqrt(1.0 - d_u**2)))

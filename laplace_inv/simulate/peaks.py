"""Map components in log10 space and their batched rendering as mass per bin.

A component is a 2D Gaussian in ``(log10 x1, log10 x2)`` (a log-normal distribution of the
relaxation times), optionally tilted (correlation ``rho``) and skewed (a skew-normal shape,
``2·φ(d)·Φ(α·d)``). Its weight ``w`` spreads as ``w·pdf·Δ1·Δ2`` over the bins, so a map's sum
is the sum of its weights on any grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from laplace_inv._validation import as_real_array, check_finite

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
"""The FWHM of a Gaussian in units of its σ (2.3548)."""


@dataclass(frozen=True)
class Peak:
    """A 2D Gaussian (or skew-normal) component in log10 space.

    Attributes
    ----------
    center : tuple of float
        ``(log10 x1, log10 x2)`` in SI units: the mean of a Gaussian, the location of a
        skewed component.
    sigma : tuple of float
        Standard deviations along each axis, in decades (FWHM = 2.355·σ): the scale of a
        skewed component.
    weight : float
        Total mass of the peak.
    rho : float
        Correlation coefficient in (−1, 1): the tilt of the peak.
    skew : tuple of float
        Skew-normal shape ``α`` in standardised coordinates; the density is
        ``2·φ(d; ρ)·Φ(α1·d1 + α2·d2)`` with ``d = (log10 x − center) / sigma``. The marginal
        along axis 1 leans to the side of the sign of ``α1 + ρ·α2`` (axis 2 likewise);
        ``(0, 0)`` is the Gaussian.

    Examples
    --------
    >>> Peak((-1.0, -2.0), (0.1, 0.1), skew=(3.0, 0.0)).skewed
    True
    """

    center: tuple[float, float]
    sigma: tuple[float, float]
    weight: float = 1.0
    rho: float = 0.0
    skew: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        for name, value in (("center", self.center), ("sigma", self.sigma), ("skew", self.skew)):
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
        """Full widths at half maximum of the Gaussian with this ``sigma``, in decades.

        A skewed component is narrower than this (its ``sigma`` is a scale).
        """
        return (FWHM_PER_SIGMA * self.sigma[0], FWHM_PER_SIGMA * self.sigma[1])

    @property
    def skewed(self) -> bool:
        """Whether the component has a skew-normal shape."""
        return bool(self.skew[0] != 0.0 or self.skew[1] != 0.0)


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
    skews = np.array([p.skew for p in peaks], dtype=float)
    return _render_batch(
        centers[None], sigmas[None], weights[None], rhos[None], l1, l2, skews[None]
    )[0]


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
    skews: np.ndarray | None = None,
) -> np.ndarray:
    """Vectorised rendering: arrays of shape (n, P, ...) → maps (n, N1, N2)."""
    q, norm = _quadratic_form(centers, sigmas, rhos, l1, l2)
    return _render_form(q, norm, weights, l1, l2, _skew_log_factor(centers, sigmas, skews, l1, l2))


def _render_form(
    q: np.ndarray,
    norm: np.ndarray,
    weights: np.ndarray,
    l1: np.ndarray,
    l2: np.ndarray,
    log_skew: np.ndarray | None = None,
) -> np.ndarray:
    """`_render_batch` from the components' `_quadratic_form` (and `_skew_log_factor`)."""
    if log_skew is None:
        dens = np.exp(-0.5 * q) * (weights / norm)[..., None, None]
    else:
        dens = np.exp(log_skew - 0.5 * q) * (weights / norm)[..., None, None]
    cell = _bin_widths(l1)[:, None] * _bin_widths(l2)[None, :]
    return dens.sum(axis=1) * cell


def _component_labels(
    q: np.ndarray, norm: np.ndarray, weights: np.ndarray, log_skew: np.ndarray | None = None
) -> np.ndarray:
    """The index of the component with the largest weighted density at each bin, (n, N1, N2).

    ``q`` and ``norm`` come from `_quadratic_form`. Densities are compared in log space,
    so that bins where every density underflows still go to the nearest component;
    components of weight 0 (padding) never win.
    """
    with np.errstate(divide="ignore"):
        log_w = np.log(weights / norm)
    log_dens = -0.5 * q + log_w[..., None, None]
    if log_skew is not None:
        log_dens = log_dens + log_skew
    return np.argmax(log_dens, axis=1).astype(np.int8)


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


def _skew_log_factor(
    centers: np.ndarray,
    sigmas: np.ndarray,
    skews: np.ndarray | None,
    l1: np.ndarray,
    l2: np.ndarray,
) -> np.ndarray | None:
    """``log(2·Φ(α1·d1 + α2·d2))`` (n, P, N1, N2), or None when no component is skewed.

    The skew-normal keeps the Gaussian's normalisation for any ``α``, so masses do not change.
    """
    if skews is None or not np.any(skews):
        return None
    # Only skewed components get a factor (others keep log(2·½) = 0): fewer log_ndtr calls.
    skewed = np.any(skews != 0.0, axis=-1)  # (n, P)
    c, s, a = centers[skewed], sigmas[skewed], skews[skewed]  # (m, 2)
    d1 = (l1[None, :] - c[:, 0:1]) / s[:, 0:1]
    d2 = (l2[None, :] - c[:, 1:2]) / s[:, 1:2]
    arg = (a[:, 0:1] * d1)[:, :, None] + (a[:, 1:2] * d2)[:, None, :]
    out = np.zeros((*skews.shape[:-1], l1.size, l2.size))
    out[skewed] = np.log(2.0) + log_ndtr(arg)
    return out

"""The map prior: how many components, where, how wide, and of which shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PeakPrior:
    """Distribution of random maps used for training and random test cases.

    Positions are drawn uniformly in the grid span shrunk by ``margin`` decades on each
    side; widths log-uniformly in ``sigma``; correlation uniformly in ``rho``; weights
    uniformly in ``weight`` and then normalised to sum to 1.

    The shape options are off by default, and a prior with all of them off draws exactly the
    maps it drew before they existed. Each component is first a *ridge* (probability ``ridge``), a
    *continuous* log-normal mixture (probability ``continuous``) or a single peak; then, with
    probabilities ``broad`` and ``skew``, it is made broad and skewed.

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

    broad : float
        Probability that a component is broad: its FWHM along each axis is drawn uniformly
        in ``broad_fwhm`` instead of from ``sigma``.
    broad_fwhm : tuple of float
        FWHM range of broad components, in decades.
    skew : float
        Probability that a component is skewed (a skew-normal shape, see `Peak`).
    skew_alpha : tuple of float
        Range of ``|α|`` per axis of a skewed component; each axis gets a random sign.
    ridge : float
        Probability that a component is a ridge along ``x1 ∝ x2`` (T1 ∝ T2 in a T1-T2 map, as a
        pore-size distribution at a fixed surface relaxivity ratio gives): a Gaussian elongated
        along the diagonal of the log plane.
    ridge_ratio : tuple of float
        Band of the ratio ``x1 / x2`` (linear units) on which ridge centres lie.
    ridge_length : tuple of float
        FWHM range of a ridge along the diagonal, in decades.
    ridge_width : tuple of float
        FWHM range of a ridge across the diagonal, in decades.
    continuous : float
        Probability that a component is a continuous distribution: a mixture of
        ``continuous_parts`` overlapping log-normals scattered within the component's width,
        which shapes one irregular, asymmetric distribution.
    continuous_parts : tuple of int
        Inclusive range of the number of log-normals in a continuous component.
    below_diagonal : float or None
        If set, the largest fraction of a component's mass allowed at ``x1 < x2`` (T1 < T2,
        unphysical): a component over it is rejected and drawn again (rejection sampling; the
        mass is computed exactly from the skew-normal distribution of ``x1 − x2``). Use with
        ``t1_ge_t2`` on T1-T2 maps.

    Examples
    --------
    >>> prior = PeakPrior(n_peaks=(1, 3), broad=0.5, skew=0.3, below_diagonal=0.01)
    >>> prior.widened, PeakPrior().widened
    (True, False)
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
    broad: float = 0.0
    broad_fwhm: tuple[float, float] = (0.3, 0.6)
    skew: float = 0.0
    skew_alpha: tuple[float, float] = (1.5, 5.0)
    ridge: float = 0.0
    ridge_ratio: tuple[float, float] = (1.5, 10.0)
    ridge_length: tuple[float, float] = (0.6, 1.5)
    ridge_width: tuple[float, float] = (0.1, 0.25)
    continuous: float = 0.0
    continuous_parts: tuple[int, int] = (2, 4)
    below_diagonal: float | None = None

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
        _check_shape_options(self)

    @property
    def widened(self) -> bool:
        """Whether any shape option is on (the draws then follow the widened sampler)."""
        return (
            self.broad > 0
            or self.skew > 0
            or self.ridge > 0
            or self.continuous > 0
            or self.below_diagonal is not None
        )


def _check_range(prior: PeakPrior, name: str, positive: bool = True) -> None:
    a, b = (float(v) for v in getattr(prior, name))
    if not (np.isfinite(a) and np.isfinite(b) and a <= b and (a > 0 or not positive)):
        raise ValueError(
            f"PeakPrior {name} must be a finite range low <= high"
            f"{' with low > 0' if positive else ''}, got {getattr(prior, name)!r}"
        )


def _check_shape_options(prior: PeakPrior) -> None:
    """Validate the shape options of `PeakPrior` (broad, skew, ridge, continuous)."""
    for name in ("broad", "skew", "ridge", "continuous"):
        p = float(getattr(prior, name))
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"PeakPrior {name} must be a probability in [0, 1], got {p!r}")
    if prior.ridge + prior.continuous > 1.0:
        raise ValueError(
            "PeakPrior ridge + continuous must not exceed 1 (a component is one or the other), "
            f"got {prior.ridge!r} + {prior.continuous!r}"
        )
    for name in ("broad_fwhm", "skew_alpha", "ridge_ratio", "ridge_length", "ridge_width"):
        _check_range(prior, name)
    lo, hi = prior.continuous_parts
    if not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer))):
        raise ValueError(f"PeakPrior continuous_parts must be integers, got {(lo, hi)!r}")
    if not 1 <= lo <= hi:
        raise ValueError(
            f"PeakPrior continuous_parts must satisfy 1 <= low <= high, got {(lo, hi)!r}"
        )
    if prior.below_diagonal is not None and not 0.0 < float(prior.below_diagonal) < 1.0:
        raise ValueError(
            f"PeakPrior below_diagonal must lie in (0, 1) or be None, got {prior.below_diagonal!r}"
        )

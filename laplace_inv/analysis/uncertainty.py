"""Calibrated uncertainty of a map's regions and peaks by a parametric bootstrap.

`bootstrap` inverts the data once, then draws maps that vary as the estimate would under
fresh noise (see `laplace_inv.analysis.draws`):

* the data model is the fitted decay ``K1 F K2ᵀ`` plus white Gaussian noise at the level
  estimated from the data outside the kernels' range (or given). A parametric bootstrap is
  used rather than resampling residuals: the residual of a regularised fit holds the
  regularisation's misfit as well as noise, and its entries are not exchangeable along a
  decay, while the out-of-range estimate of σ is unbiased by construction;
* DLEMLR inverts all draws in one batch (200 by default); other methods re-invert each
  draw, so they default to 30 draws; global Tikhonov uses its exact linear response at the
  chosen α (200 draws for the cost of one small solve).

Each region and each automatic peak (a watershed basin of the fitted map, the same as
`laplace_inv.metrics.find_peaks`) gets its fraction, signal-weighted log10 positions and
widths measured on the fitted map and on every draw; the standard deviation over draws is
the raw uncertainty. A bootstrap does not see the regularisation bias, so the half-widths
of the 68 % and 95 % intervals are ``k · √(std² + τ²)``, with a multiplier ``k`` and a bias
floor ``τ`` learned per method and quantity on simulated maps
(`laplace_inv.analysis.calibration`); peaks use the regions' values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.analysis.calibration import floors_for, half_width, method_key, multipliers_for
from laplace_inv.analysis.draws import (
    linear_response_maps,
    resampled_maps,
    supports_linear_response,
)
from laplace_inv.analysis.regions import RegionStats, integrate_regions, region_mask
from laplace_inv.metrics import DetectedPeak, find_peaks

__all__ = ["PeakInterval", "RegionInterval", "UncertaintyResult", "bootstrap", "mask_stats"]

DEFAULT_DRAWS = {"batched": 200, "linear": 200, "resampled": 30}
"""Default numbers of draws by kind of bootstrap."""


@dataclass(frozen=True)
class _Interval:
    name: str
    fraction: float
    log_mean: tuple[float, ...]
    log_width: tuple[float, ...]
    fraction_std: float
    log_mean_std: tuple[float, ...]
    log_width_std: tuple[float, ...]
    multipliers: dict[str, dict[str, float]] = field(repr=False)
    floors: dict[str, float] = field(default_factory=dict, repr=False)

    def _half(self, quantity: str, level: str, std: float) -> float:
        if level not in ("68", "95"):
            raise ValueError(f"level must be '68' or '95', got {level!r}")
        return half_width(std, self.multipliers[quantity][level], self.floors.get(quantity, 0.0))

    @property
    def fraction_pm(self) -> float:
        """Half-width of the 68 % interval of the fraction."""
        return self._half("fraction", "68", self.fraction_std)

    @property
    def log_mean_pm(self) -> tuple[float, ...]:
        """Half-widths of the 68 % intervals of the log10 positions (decades)."""
        return tuple(self._half("log_position", "68", s) for s in self.log_mean_std)

    def fraction_interval(self, level: str = "68") -> tuple[float, float]:
        """``(low, high)`` of the fraction at a nominal level (``"68"`` or ``"95"``)."""
        h = self._half("fraction", level, self.fraction_std)
        return (self.fraction - h, self.fraction + h)

    def log_mean_interval(self, level: str = "68") -> tuple[tuple[float, float], ...]:
        """``(low, high)`` of each axis' log10 position at a nominal level."""
        return tuple(
            (m - self._half("log_position", level, s), m + self._half("log_position", level, s))
            for m, s in zip(self.log_mean, self.log_mean_std, strict=True)
        )

    def position_interval(self, level: str = "68") -> tuple[tuple[float, float], ...]:
        """``(low, high)`` of each axis' position in SI units at a nominal level."""
        return tuple((10.0**lo, 10.0**hi) for lo, hi in self.log_mean_interval(level))

    def row(self) -> dict[str, Any]:
        """One flat table row: values, 68 % half-widths and 95 % bounds."""
        out: dict[str, Any] = {"name": self.name, "fraction": self.fraction}
        out["fraction_pm68"] = self.fraction_pm
        out["fraction_lo95"], out["fraction_hi95"] = self.fraction_interval("95")
        for k, (m, w) in enumerate(zip(self.log_mean, self.log_width, strict=True)):
            ax = k + 1
            (lo, hi) = self.log_mean_interval("95")[k]
            out[f"position{ax}"] = 10.0**m
            out[f"log_position{ax}"] = m
            out[f"log_position{ax}_pm68"] = self.log_mean_pm[k]
            out[f"position{ax}_lo95"], out[f"position{ax}_hi95"] = 10.0**lo, 10.0**hi
            out[f"log_width{ax}"] = w
            out[f"log_width{ax}_pm68"] = self._half("log_width", "68", self.log_width_std[k])
        return out


@dataclass(frozen=True)
class RegionInterval(_Interval):
    """A region's statistics on the fitted map with bootstrap ± (see `bootstrap`).

    ``fraction``, ``log_mean`` (log10 positions) and ``log_width`` (decades) are those of the
    fitted map; the ``*_std`` fields are the bootstrap standard deviations; the intervals use
    the (calibrated) multipliers. ``stats`` is the full `RegionStats` of the fitted map.
    """

    stats: RegionStats | None = None


@dataclass(frozen=True)
class PeakInterval(_Interval):
    """An automatic peak with bootstrap ± of its fraction, position and width.

    The peak's basin (its watershed region in the fitted map) is held fixed and integrated on
    every draw. ``peak`` is the `DetectedPeak` of the fitted map.
    """

    peak: DetectedPeak | None = None


@dataclass
class UncertaintyResult:
    """Output of `bootstrap`.

    Attributes
    ----------
    map : numpy.ndarray
        The fitted map of the data.
    spread : numpy.ndarray
        Per-pixel standard deviation over the draws.
    regions : list of RegionInterval
        One per region given.
    peaks : list of PeakInterval
        One per automatic peak of the fitted map.
    n_draws : int
        Number of bootstrap draws.
    calibrated : bool
        Whether the intervals use calibrated multipliers.
    method : str
        The calibration key of the estimator.
    kind : str
        ``"batched"``, ``"resampled"`` or ``"linear"`` (how the draws were made).
    noise_std : float
        The noise level of the draws (data units).
    """

    map: np.ndarray
    spread: np.ndarray
    regions: list[RegionInterval]
    peaks: list[PeakInterval]
    n_draws: int
    calibrated: bool
    method: str = ""
    kind: str = ""
    noise_std: float = float("nan")

    def table(self) -> list[dict[str, Any]]:
        """Rows for printing or CSV: regions first, then peaks (``kind`` tells which).

        Examples
        --------
        >>> from laplace_inv import TikhonovInverter
        >>> from laplace_inv.analysis.regions import Box
        >>> from laplace_inv.simulate import cement_like
        >>> sc = cement_like(snr=300)
        >>> est = TikhonovInverter(sc.kernel, penalty="global")
        >>> res = bootstrap(est, sc.data, regions=[Box("main", (0.05, 0.3), (0.005, 0.05))])
        >>> row = res.table()[0]
        >>> row["kind"], row["name"], round(row["fraction"], 2), row["fraction_pm68"] > 0
        ('region', 'main', 0.88, True)
        """
        rows = []
        for kind, items in (("region", self.regions), ("peak", self.peaks)):
            for item in items:
                rows.append({"kind": kind, **item.row(), "calibrated": self.calibrated})
        return rows


def mask_stats(
    maps: np.ndarray, masks: np.ndarray, logs: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction, log-mean and log-width of many maps in many masks at once.

    Parameters
    ----------
    maps : numpy.ndarray, shape (B, *map_shape)
        Maps (negative entries count as zero).
    masks : numpy.ndarray of bool, shape (R, *map_shape)
        Regions.
    logs : list of numpy.ndarray
        log10 coordinate of every pixel along each axis, each of shape ``map_shape``.

    Returns
    -------
    fraction : numpy.ndarray, shape (B, R)
    log_mean : numpy.ndarray, shape (B, R, n_axes)
        NaN where a region holds no mass.
    log_width : numpy.ndarray, shape (B, R, n_axes)

    Examples
    --------
    >>> g = np.log10(np.logspace(-3, 0, 4))
    >>> f, m, w = mask_stats(np.eye(4)[None], np.ones((1, 4, 4), bool),
    ...                      list(np.meshgrid(g, g, indexing="ij")))
    >>> float(f[0, 0]), m[0, 0].tolist()
    (1.0, [-1.5, -1.5])
    """
    B, R = maps.shape[0], masks.shape[0]
    M = np.clip(maps, 0.0, None).reshape(B, -1)
    W = masks.reshape(R, -1).astype(float)
    total = M.sum(axis=1)
    mass = M @ W.T
    fraction = mass / np.where(total > 0, total, 1.0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(mass > 0, mass, np.nan)
        means, widths = [], []
        for lg in logs:
            x = lg.reshape(-1)
            m1 = (M * x) @ W.T / safe
            m2 = (M * x * x) @ W.T / safe
            means.append(m1)
            widths.append(np.sqrt(np.clip(m2 - m1 * m1, 0.0, None)))
    return fraction, np.stack(means, axis=-1), np.stack(widths, axis=-1)


def _draw_maps(
    estimator: Any, result: Any, noise_std: float, n_draws: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    if supports_linear_response(estimator, result.info):
        kind = "linear"
    elif type(estimator).__name__.startswith("DLEMLR"):
        kind = "batched"
    else:
        kind = "resampled"
    n = DEFAULT_DRAWS[kind] if n_draws is None else int(n_draws)
    if n < 2:
        raise ValueError(f"n_draws must be an integer >= 2, got {n_draws!r}")
    if kind == "linear":
        rtol = getattr(estimator, "rtol", 1e-8)
        maps = linear_response_maps(
            result.kernel, result.map, result.info["alpha"], noise_std, n, rng, rtol
        )
    else:
        maps = resampled_maps(estimator, result.fit, noise_std, n, rng)
    return maps, kind


def _peak_masks(
    F: np.ndarray, grid1: np.ndarray, grid2: np.ndarray, min_fraction: float
) -> tuple[list[DetectedPeak], np.ndarray]:
    from laplace_inv.metrics._watershed import _segment

    peaks = find_peaks(F, grid1, grid2, min_fraction=min_fraction)
    if not peaks:
        return peaks, np.zeros((0, *F.shape), bool)
    labels, _, _ = _segment(np.clip(F, 0.0, None), np.clip(F, 0.0, None), min_fraction)
    masks = np.stack([labels == labels[p.index] for p in peaks])
    return peaks, masks


def _intervals(
    cls: type[_Interval],
    names: list[str],
    fitted: tuple[np.ndarray, ...],
    draws: tuple[np.ndarray, ...],
    multipliers: dict[str, dict[str, float]],
    floors: dict[str, float],
    extra: tuple[str, list[Any]],
) -> list[Any]:
    f0, m0, w0 = fitted
    fb, mb, wb = draws
    with np.errstate(invalid="ignore"):
        f_std = np.nanstd(fb, axis=0)
        m_std = np.nanstd(mb, axis=0)
        w_std = np.nanstd(wb, axis=0)
    out = []
    for r, name in enumerate(names):
        out.append(
            cls(
                name=name,
                fraction=float(f0[r]),
                log_mean=tuple(float(v) for v in m0[r]),
                log_width=tuple(float(v) for v in w0[r]),
                fraction_std=float(f_std[r]),
                log_mean_std=tuple(float(v) for v in m_std[r]),
                log_width_std=tuple(float(v) for v in w_std[r]),
                multipliers=multipliers,
                floors=floors,
                **{extra[0]: extra[1][r]},
            )
        )
    return out


def bootstrap(
    estimator: Any,
    S: Any,
    *,
    regions: Any = None,
    n_draws: int | None = None,
    noise_std: float | None = None,
    calibration: Any = None,
    random_state: Any = 0,
    min_fraction: float = 0.01,
) -> UncertaintyResult:
    """Invert ``S`` and give calibrated ± for its regions and peaks by a parametric bootstrap.

    Parameters
    ----------
    estimator : BaseInverter
        A ready estimator (fitted or pretrained for DLEMLR).
    S : array_like, shape (n1, n2)
        The data.
    regions : sequence of Box, Polygon or Cutoff, optional
        Regions to integrate (see `laplace_inv.analysis.regions`).
    n_draws : int, optional
        Number of draws; default 200 for DLEMLR (one batch) and global Tikhonov (linear
        response), 30 for other methods (one re-inversion each).
    noise_std : float, optional
        Noise standard deviation in data units; estimated from the data outside the kernels'
        range if absent.
    calibration : None, False, dict or path
        ``None``: the multipliers shipped with the package for this method (uncalibrated
        Gaussian ones if it has none); ``False``: uncalibrated; a dict or a JSON path: that
        table.
    random_state : int or numpy.random.Generator, optional
        Seed of the noise draws.
    min_fraction : float
        Peak threshold of `laplace_inv.metrics.find_peaks`.

    Returns
    -------
    UncertaintyResult

    Examples
    --------
    >>> from laplace_inv import TikhonovInverter
    >>> from laplace_inv.analysis.regions import Cutoff
    >>> from laplace_inv.simulate import cement_like
    >>> sc = cement_like(snr=300)
    >>> est = TikhonovInverter(sc.kernel, penalty="global")
    >>> res = bootstrap(est, sc.data, regions=[Cutoff("short T2", 2, 3e-3, "below")])
    >>> reg = res.regions[0]
    >>> round(reg.fraction, 2), reg.fraction_interval("95")[0] < reg.fraction, res.kind
    (0.12, True, 'linear')
    >>> res.spread.shape, len(res.peaks) >= 2
    ((64, 64), True)
    """
    rng = np.random.default_rng(random_state)
    result = estimator.invert(S, noise_std=noise_std)
    sigma = float(result.noise_std)
    F = result.map
    maps, kind = _draw_maps(estimator, result, sigma, n_draws, rng)
    method = method_key(estimator)
    multipliers, calibrated = multipliers_for(method, calibration)
    floors = floors_for(method, calibration if calibrated else False)
    g1, g2 = result.grid1, result.grid2
    logs = list(np.meshgrid(np.log10(g1), np.log10(g2), indexing="ij"))

    regions = list(regions or [])
    stats = integrate_regions(F, g1, g2, regions, kinds=result.kinds) if regions else []
    r_masks = np.stack([region_mask(r, g1, g2) for r in regions]) if regions else None
    peaks, p_masks = _peak_masks(F, g1, g2, min_fraction)
    out_regions: list[RegionInterval] = []
    out_peaks: list[PeakInterval] = []
    if r_masks is not None:
        fitted = tuple(a[0] for a in mask_stats(F[None], r_masks, logs))
        out_regions = _intervals(
            RegionInterval,
            [r.name for r in regions],
            fitted,
            mask_stats(maps, r_masks, logs),
            multipliers,
            floors,
            ("stats", stats),
        )
    if peaks:
        fitted = tuple(a[0] for a in mask_stats(F[None], p_masks, logs))
        out_peaks = _intervals(
            PeakInterval,
            [f"peak {k + 1}" for k in range(len(peaks))],
            fitted,
            mask_stats(maps, p_masks, logs),
            multipliers,
            floors,
            ("peak", peaks),
        )
    return UncertaintyResult(
        map=F,
        spread=maps.std(axis=0),
        regions=out_regions,
        peaks=out_peaks,
        n_draws=int(maps.shape[0]),
        calibrated=calibrated,
        method=method,
        kind=kind,
        noise_std=sigma,
    )

"""A fit check every inversion runs: does the residual look like noise?

A map that explains the data leaves a residual ``S − fit`` that looks like white noise. Four
patterns say it does not, each with a likely cause:

- **worse than a zero map**: ``‖S − fit‖ ≥ ‖S‖`` while the residual is far above the noise
  (the data have a sign or phase the non-negative model cannot follow, or the kernel does
  not match the acquisition);
- **isolated spike**: a few residual points many robust standard deviations out while the
  rest is quiet (a corrupted point in the data);
- **baseline**: mass piled on the grid edges, where a non-negative map imitates a constant
  offset (the kernel columns there are nearly constant along the acquisition), or row means
  of the residual far from zero with one sign (an offset the map could not imitate);
- **phase**: the residual far above the noise and correlated with the data (a phase or sign
  error).

The scale of the residual is measured robustly (median absolute deviation), because one spike
inflates every norm-based noise estimate.
"""

from __future__ import annotations

import numpy as np

#: Relative residual at or above which the map explains no more than an all-zero map.
ZERO_MAP_RATIO = 0.95
#: ... counted only when the RMS residual is this many noise levels above the noise.
FAR_ABOVE_NOISE = 3.0
#: A residual point this many robust standard deviations out is a spike ...
SPIKE_SIGMAS = 12.0
#: ... when at most this many points are (more is structure, not a spike).
MAX_SPIKES = 3
#: ... or when one point holds this share of the residual energy.
SPIKE_ENERGY = 0.5
#: Row-mean t-statistic (median over rows) that flags a baseline ...
BASELINE_T = 6.0
#: ... when at least this share of the rows has the same sign.
BASELINE_SAME_SIGN = 0.9
#: Share of the map's mass in its outer two rows and columns that flags a baseline.
EDGE_MASS = 0.15
#: ... on grids of at least this many points per axis (on smaller ones the edges are most of
#: the map).
MIN_EDGE_GRID = 16
#: Correlation of residual and data that flags a phase or sign error (with the residual
#: ``FAR_ABOVE_NOISE`` times the noise).
PHASE_CORRELATION = 0.3


def robust_std(r: np.ndarray) -> float:
    """``1.4826·median|r − median r|``, the standard deviation of Gaussian noise.

    Examples
    --------
    >>> round(robust_std(np.random.default_rng(0).standard_normal(10_000)), 1)
    1.0
    """
    r = np.asarray(r, dtype=float).ravel()
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def fit_warnings(
    S: np.ndarray, fit: np.ndarray, noise_std: float | None, F: np.ndarray | None = None
) -> list[str]:
    """What the residual ``S − fit`` shows that noise would not (empty for a clean fit).

    Parameters
    ----------
    S : numpy.ndarray
        The data, shape ``(n1, n2)``.
    fit : numpy.ndarray
        What the map predicts, same shape.
    noise_std : float or None
        The noise level (given or estimated).
    F : numpy.ndarray, optional
        The map, for the edge-mass check.

    Returns
    -------
    list of str
        One message per problem, naming the likely cause and the fix.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = np.outer(np.exp(-np.arange(8) / 3), np.exp(-np.arange(50) / 10))
    >>> fit_warnings(S + 1e-3 * rng.standard_normal(S.shape), S, 1e-3)
    []
    >>> S_bad = S + 1e-3 * rng.standard_normal(S.shape); S_bad[3, 7] = 1e3
    >>> [m.split(":")[0] for m in fit_warnings(S_bad, S, 1e-3)]
    ['isolated spike in the residual']
    """
    S = np.asarray(S, dtype=float)
    size = float(np.abs(S).max()) if S.size else 0.0
    if not size > 0 or not np.isfinite(size):
        return []
    # Work on S / max|S|: squares of data near the float limits neither overflow nor vanish.
    S = S / size
    r = S - np.asarray(fit, dtype=float) / size
    noise_std = None if noise_std is None else float(noise_std) / size
    norm_s = float(np.linalg.norm(S))
    if not norm_s > 0 or not np.all(np.isfinite(r)):
        return []
    scale = robust_std(r)
    sigma = max(scale, float(noise_std or 0.0))
    spike = _spike(r, scale)
    if spike:  # a spike distorts the whole map: the other checks would only echo it
        return spike
    return _zero_map(r, norm_s, sigma) + _baseline(r, scale, F) + _phase(r, S, sigma)


def _zero_map(r: np.ndarray, norm_s: float, sigma: float) -> list[str]:
    ratio = float(np.linalg.norm(r)) / norm_s
    rms = float(np.sqrt(np.mean(r * r)))
    if ratio >= ZERO_MAP_RATIO and rms > FAR_ABOVE_NOISE * max(sigma, 1e-300):
        return [
            f"map no better than an all-zero map: relative residual {ratio:.2f} with the "
            f"residual {rms / max(sigma, 1e-300):.3g} times the noise; check the sign and "
            "phase of the data (e.g. phase-correct it, or use the real channel) and that the "
            "kernel kinds, axes and units match the acquisition"
        ]
    return []


def _spike(r: np.ndarray, scale: float) -> list[str]:
    dev = np.abs(r - np.median(r)).ravel()
    worst = int(np.argmax(dev))
    z = dev / scale if scale > 0 else np.full(dev.shape, np.inf)
    far = np.flatnonzero(z > SPIKE_SIGMAS)
    share = float(dev[worst] ** 2 / max(float(np.sum(dev * dev)), 1e-300))
    if far.size == 0 or not (far.size <= MAX_SPIKES or share > SPIKE_ENERGY):
        return []
    i, j = np.unravel_index(worst, r.shape)
    return [
        f"isolated spike in the residual: data point [{i}, {j}] holds {share:.0%} of the "
        "residual energy and lies far off the fit; a corrupted point distorts the whole "
        "map: remove or replace it (e.g. with the mean of its neighbours) and invert again"
    ]


def _baseline(r: np.ndarray, scale: float, F: np.ndarray | None) -> list[str]:
    if F is not None and min(F.shape) >= MIN_EDGE_GRID:
        total = float(np.clip(F, 0, None).sum())
        inner = float(np.clip(F[2:-2, 2:-2], 0, None).sum())
        edge = (total - inner) / total if total > 0 else 0.0
        if edge > EDGE_MASS:
            return [
                f"baseline suspected: {edge:.0%} of the map's mass lies on the grid edges, "
                "where a non-negative map imitates a constant offset; subtract the offset or "
                "fit it with laplace_inv.classical.robust.fit_acquisition_model(est, S, "
                "offset='auto'), or widen the grid if the edge mass is real signal"
            ]
    if not scale > 0 or r.shape[1] < 2:
        return []
    t = r.mean(axis=1) / (scale / np.sqrt(r.shape[1]))
    same_sign = max(float(np.mean(t > 0)), float(np.mean(t < 0)))
    typical = float(np.median(np.abs(t)))
    if same_sign >= BASELINE_SAME_SIGN and typical > BASELINE_T:
        offset = float(np.median(r.mean(axis=1)))
        return [
            f"baseline in the residual: the rows' mean residuals share one sign (median "
            f"{offset:.3g}·max|S|, {typical:.3g} standard errors from zero); the data likely "
            "carry a "
            "constant offset: subtract it, or fit it with "
            "laplace_inv.classical.robust.fit_acquisition_model(est, S, offset='auto')"
        ]
    return []


def _phase(r: np.ndarray, S: np.ndarray, sigma: float) -> list[str]:
    rc, Sc = r - r.mean(), S - S.mean()
    denom = float(np.linalg.norm(rc)) * float(np.linalg.norm(Sc))
    if not denom > 0:
        return []
    rho = float(np.vdot(rc, Sc)) / denom
    rms = float(np.sqrt(np.mean(r * r)))
    if abs(rho) > PHASE_CORRELATION and rms > FAR_ABOVE_NOISE * sigma:
        return [
            f"residual correlated with the data (correlation {rho:.2f}) and "
            f"{rms / sigma:.3g} times the noise: the model misses part of the signal itself, "
            "typically a phase or sign error; phase-correct the data "
            "(laplace_inv.phase.phase_correct) or check the kernel kinds"
        ]
    return []

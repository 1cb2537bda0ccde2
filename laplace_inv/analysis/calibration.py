"""Calibration of bootstrap intervals: per-method scales learned on simulated maps.

A bootstrap measures how an estimate varies under fresh noise, not how far the
regularisation pulls it from the truth (its bias). The half-width of an interval at a
nominal level ``p`` is therefore

    h_p = k_p · √(std² + τ²),

with ``std`` the bootstrap standard deviation, ``τ`` a per-method, per-quantity *bias floor*
(in the quantity's units: a fraction, or decades) and ``k_p`` a multiplier. Both are
learned on a calibration set of simulated maps with known truth: for each candidate ``τ``,
``k_p`` is the split-conformal quantile of ``|estimate − truth| / √(std² + τ²)`` at
``⌈(n + 1) p⌉ / n``, and the ``τ`` kept is the one that gives the narrowest intervals on
average. ``τ = 0`` is a plain scaling of the bootstrap std; a large ``τ`` gives the same
half-width to every estimate. Without calibration, ``k_p`` is the Gaussian value (1 for
68 %, 1.96 for 95 %) and ``τ = 0``.

The values shipped with the package are in ``calibration.json`` next to this module
(``"methods"`` → method key → quantity → level → ``k_p``, and ``"floor"`` → quantity →
``τ``), together with the command that produced them (``benchmarks/bench_coverage.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GAUSSIAN",
    "LEVELS",
    "QUANTITIES",
    "calibration_path",
    "conformal_multipliers",
    "fit_calibration",
    "floors_for",
    "half_width",
    "load_calibration",
    "method_key",
    "multipliers_for",
]

LEVELS: tuple[str, ...] = ("68", "95")
"""Nominal coverage levels, in percent, as keys of the calibration tables."""

GAUSSIAN: dict[str, float] = {"68": 1.0, "95": 1.959963984540054}
"""Half-width multipliers of a Gaussian for each level (the uncalibrated intervals)."""

QUANTITIES: tuple[str, ...] = ("fraction", "log_position", "log_width")
"""Quantities with their own multipliers."""


def calibration_path() -> Path:
    """The calibration file shipped with the package.

    Examples
    --------
    >>> calibration_path().name
    'calibration.json'
    """
    return Path(__file__).with_name("calibration.json")


def method_key(estimator: Any) -> str:
    """The calibration key of an estimator: ``"tikhonov-global"``, ``"dlemlr"``, ...

    Examples
    --------
    >>> from laplace_inv import TikhonovInverter
    >>> from laplace_inv.simulate import cement_kernel
    >>> method_key(TikhonovInverter(cement_kernel(), penalty="global"))
    'tikhonov-global'
    """
    name = type(estimator).__name__
    if name == "TikhonovInverter":
        return f"tikhonov-{getattr(estimator, 'penalty', 'upen')}"
    if name == "DLEMLRInverter":
        return "dlemlr-refined" if getattr(estimator, "refine", False) else "dlemlr"
    if name == "L1Inverter":
        return "l1"
    return name.lower()


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """Read a calibration table (default: the one shipped with the package).

    Parameters
    ----------
    path : str or Path, optional
        A JSON file written by ``benchmarks/bench_coverage.py``.

    Returns
    -------
    dict
        With keys ``"methods"`` (method key → quantity → level → multiplier) and
        ``"command"``.

    Examples
    --------
    >>> "methods" in load_calibration()
    True
    """
    file = calibration_path() if path is None else Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"calibration file {file} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("methods"), dict):
        raise ValueError(f'calibration file {file} needs a "methods" table')
    return data


def multipliers_for(method: str, calibration: Any) -> tuple[dict[str, dict[str, float]], bool]:
    """Half-width multipliers per quantity and level, and whether they are calibrated.

    Parameters
    ----------
    method : str
        The method key (`method_key`).
    calibration : None, False, dict or path
        ``False``: Gaussian multipliers (raw bootstrap). ``None``: the shipped table if it
        has ``method``, else Gaussian. A dict or path: that table (it must have ``method``).

    Returns
    -------
    (dict, bool)

    Examples
    --------
    >>> mult, calibrated = multipliers_for("tikhonov-global", False)
    >>> mult["fraction"]["68"], calibrated
    (1.0, False)
    """
    raw = {q: dict(GAUSSIAN) for q in QUANTITIES}
    if calibration is False:
        return raw, False
    if calibration is None:
        table = load_calibration()
        if method not in table["methods"]:
            return raw, False
    elif isinstance(calibration, dict):
        table = calibration
    else:
        table = load_calibration(calibration)
    methods = table.get("methods", {})
    if method not in methods:
        raise ValueError(
            f"the calibration table has no entry for {method!r} (it has {sorted(methods)}); "
            "pass calibration=False for uncalibrated intervals"
        )
    entry = methods[method]
    out = {}
    for q in QUANTITIES:
        levels = entry.get(q, {})
        out[q] = {lv: float(levels.get(lv, GAUSSIAN[lv])) for lv in LEVELS}
    return out, True


def _finite_pairs(errors: Any, stds: Any) -> tuple[np.ndarray, np.ndarray]:
    """``|errors|`` and ``stds`` as float arrays, keeping the pairs where both are finite."""
    e = np.abs(np.asarray(errors, dtype=float))
    s = np.asarray(stds, dtype=float)
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    if e.size == 0:
        raise ValueError("no finite calibration errors to learn multipliers from")
    return e, s


def conformal_multipliers(errors: Any, stds: Any) -> dict[str, float]:
    """Split-conformal half-width multipliers from calibration errors and bootstrap stds.

    Parameters
    ----------
    errors : array_like
        ``estimate − truth`` over the calibration set (NaN entries are skipped).
    stds : array_like
        The bootstrap standard deviations of the same estimates.

    Returns
    -------
    dict
        Level (``"68"``, ``"95"``) → multiplier ``k`` such that ``|error| ≤ k · std`` for a
        fraction ``⌈(n + 1) p⌉ / n`` of the calibration set.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> k = conformal_multipliers(3.0 * rng.standard_normal(4000), np.ones(4000))
    >>> round(k["68"], 1), round(k["95"], 1)
    (3.0, 5.8)
    """
    e, s = _finite_pairs(errors, stds)
    tiny = 1e-12
    score = np.where(s > tiny, e / np.maximum(s, tiny), np.where(e > tiny, np.inf, 0.0))
    n = score.size
    out = {}
    for lv in LEVELS:
        p = int(lv) / 100.0
        rank = min(math.ceil((n + 1) * p), n)
        out[lv] = float(np.sort(score)[rank - 1])
    return out


def half_width(std: Any, multiplier: float, floor: float = 0.0) -> Any:
    """Half-width ``k · √(std² + τ²)`` of a calibrated interval.

    Parameters
    ----------
    std : float or array_like
        Bootstrap standard deviation(s).
    multiplier : float
        The level's multiplier ``k``.
    floor : float
        The bias floor ``τ`` (same units as ``std``).

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> half_width(0.03, 2.0, 0.04)
    0.1
    """
    scale = np.hypot(np.asarray(std, dtype=float), float(floor))
    out = float(multiplier) * scale
    return float(out) if np.ndim(out) == 0 else out


TIE = 0.02
"""Relative excess mean width within which `fit_calibration` counts floors as tied."""


def _floor_candidates(e: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Bias floors to try: 0 and a log-spaced range spanning the stds and the errors."""
    pos = np.concatenate([e[e > 0], s[s > 0]])
    if pos.size == 0:
        return np.zeros(1)
    lo, hi = np.quantile(pos, [0.02, 0.98])
    return np.concatenate([[0.0], np.geomspace(max(lo, 1e-12), max(hi, lo * 1.01, 1e-12), 60)])


def fit_calibration(errors: Any, stds: Any) -> dict[str, Any]:
    """Learn the bias floor ``τ`` and the multipliers ``k_p`` of one quantity.

    For each candidate ``τ`` (0 and a log-spaced range over the sizes of the errors and
    stds), ``k_p`` is the split-conformal quantile of ``|error| / √(std² + τ²)`` (see
    `conformal_multipliers`); the ``τ`` kept minimises the mean half-width summed over the
    levels (the largest ``τ`` within 2 % of the minimum), so the intervals are as narrow as
    the calibration set allows at the nominal coverage.

    Parameters
    ----------
    errors : array_like
        ``estimate − truth`` over the calibration set (NaN entries are skipped).
    stds : array_like
        The bootstrap standard deviations of the same estimates.

    Returns
    -------
    dict
        ``{"multiplier": {level: k}, "floor": τ}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> std = rng.uniform(0.001, 0.002, 2000)          # the bootstrap sees little noise
    >>> err = 0.05 * rng.standard_normal(2000)         # the bias dominates
    >>> fit = fit_calibration(err, std)
    >>> fit["floor"] > 0.01
    True
    >>> round(half_width(0.0015, fit["multiplier"]["68"], fit["floor"]), 2)
    0.05
    """
    e, s = _finite_pairs(errors, stds)
    fits = []
    for tau in _floor_candidates(e, s):
        scale = np.hypot(s, tau)
        k = conformal_multipliers(e, scale)
        fits.append((sum(k[lv] * float(np.mean(scale)) for lv in LEVELS), float(tau), k))
    narrowest = min(width for width, _, _ in fits)
    # Among near-ties, the largest floor: the smallest multiplier, so that an estimate whose
    # bootstrap std is far larger than on the calibration set is not blown up by k.
    _, tau, k = max((f for f in fits if f[0] <= (1.0 + TIE) * narrowest), key=lambda f: f[1])
    return {"multiplier": k, "floor": tau}


def floors_for(method: str, calibration: Any) -> dict[str, float]:
    """The bias floors ``τ`` per quantity of a method (0 where the table has none).

    Parameters
    ----------
    method : str
        The method key (`method_key`).
    calibration : None, False, dict or path
        As for `multipliers_for`.

    Returns
    -------
    dict
        Quantity → ``τ``.

    Examples
    --------
    >>> floors_for("tikhonov-global", False)
    {'fraction': 0.0, 'log_position': 0.0, 'log_width': 0.0}
    """
    zero = {q: 0.0 for q in QUANTITIES}
    if calibration is False:
        return zero
    table = load_calibration() if calibration is None else calibration
    if not isinstance(table, dict):
        table = load_calibration(table)
    entry = table.get("methods", {}).get(method)
    if not isinstance(entry, dict):
        return zero
    floor = entry.get("floor", {})
    return {q: float(floor.get(q, 0.0)) for q in QUANTITIES}

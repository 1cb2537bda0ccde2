"""Calibration of bootstrap intervals: per-method scale factors learned on simulated maps.

A bootstrap measures how an estimate varies under fresh noise, not how far the
regularisation pulls it from the truth. On a calibration set of simulated maps with known
truth, the normalised errors ``e = |estimate − truth| / bootstrap std`` are collected per
method and quantity; the half-width multiplier of a nominal level ``p`` is the conformal
quantile of ``e`` at ``⌈(n + 1) p⌉ / n``. Intervals ``estimate ± k_p · std`` then cover the
truth with probability about ``p`` on maps like those of the calibration set. Without
calibration, ``k_p`` is the Gaussian value (1 for 68 %, 1.96 for 95 %).

The factors shipped with the package are in ``calibration.json`` next to this module,
together with the command that produced them (``benchmarks/bench_coverage.py``).
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
    e = np.abs(np.asarray(errors, dtype=float))
    s = np.asarray(stds, dtype=float)
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    if e.size == 0:
        raise ValueError("no finite calibration errors to learn multipliers from")
    tiny = 1e-12
    score = np.where(s > tiny, e / np.maximum(s, tiny), np.where(e > tiny, np.inf, 0.0))
    n = score.size
    out = {}
    for lv in LEVELS:
        p = int(lv) / 100.0
        rank = min(math.ceil((n + 1) * p), n)
        out[lv] = float(np.sort(score)[rank - 1])
    return out

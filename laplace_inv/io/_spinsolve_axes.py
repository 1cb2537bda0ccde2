"""Acquisition axes of Spinsolve exports, built from ``acqu.par`` (SI units out)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from laplace_inv.io._par import MAX_AXIS_POINTS, lookup, par_float, par_int

GYROMAGNETIC_RATIOS: dict[str, float] = {
    "1H": 2.6752218744e8,
    "2H": 4.1066279e7,
    "7Li": 1.0396171e8,
    "13C": 6.728284e7,
    "19F": 2.518148e8,
    "23Na": 7.0808493e7,
    "31P": 1.0839e8,
}
"""Gyromagnetic ratios γ in rad s⁻¹ T⁻¹ (CODATA 2018 for 1H; tabulated values otherwise)."""


def gyromagnetic_ratio(nucleus: str, path: Path) -> float:
    """γ (rad s⁻¹ T⁻¹) of ``nucleus`` as Spinsolve writes it (``"1H"``, or ``"1H-1H"``).

    Examples
    --------
    >>> gyromagnetic_ratio("1H-1H", Path("acqu.par"))
    267522187.44
    """
    name = nucleus.strip().strip('"').split("-")[0].strip()
    if name not in GYROMAGNETIC_RATIOS:
        raise ValueError(
            f"{path}: nucleus {nucleus!r} has no known gyromagnetic ratio; known: "
            f"{sorted(GYROMAGNETIC_RATIOS)}"
        )
    return GYROMAGNETIC_RATIOS[name]


def stejskal_tanner_b(
    gamma: float, gradient: np.ndarray, delta: float, big_delta: float, ramp: float = 0.0
) -> np.ndarray:
    """b-values (s/m²) of a pulsed-gradient pair with trapezoidal pulses.

    ``b = γ²g²[δ_e²(Δ − δ_e/3) + ε³/30 − δ_e·ε²/6]`` with ``δ_e = δ − ε`` the width at half
    height of a pulse lasting ``δ`` in all, ramps ``ε`` included, and ``Δ`` the separation of
    the two pulses' starts. With ``ε = 0`` this is Stejskal–Tanner's ``(γgδ)²(Δ − δ/3)``.
    The formula is the exact ``∫ q(t)² dt`` for trapezoids (tests check it against a
    numerical integration).

    Parameters
    ----------
    gamma : float
        Gyromagnetic ratio, rad s⁻¹ T⁻¹.
    gradient : numpy.ndarray
        Gradient amplitudes, T/m.
    delta : float
        Total gradient pulse duration δ (s), ramps included.
    big_delta : float
        Diffusion time Δ (s).
    ramp : float
        Ramp time ε (s) of each edge.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> b = stejskal_tanner_b(2.675e8, np.array([0.1]), 2e-3, 20e-3)
    >>> bool(np.isclose(b[0], (2.675e8 * 0.1 * 2e-3) ** 2 * (20e-3 - 2e-3 / 3)))
    True
    """
    width = delta - ramp
    core = width**2 * (big_delta - width / 3.0) + ramp**3 / 30.0 - width * ramp**2 / 6.0
    return gamma**2 * np.asarray(gradient, dtype=np.float64) ** 2 * core


def _yes(value: str | None) -> bool:
    return value is not None and value.strip().strip('"').lower() in ("yes", "true", "1")


def echo_axis(par: Mapping[str, str], path: Path, n_echoes: int) -> np.ndarray:
    """CPMG echo times ``echoTime·(1..nrEchoes)``; ``echoTime`` in µs."""
    echo_us = par_float(par, "echoTime", path)
    if not echo_us > 0:
        raise ValueError(f"{path}: echoTime must be positive, got {echo_us!r}")
    return echo_us * 1e-6 * np.arange(1, n_echoes + 1)


def _spaced(lo: float, hi: float, n: int, log: bool) -> np.ndarray:
    return np.geomspace(lo, hi, n) if log else np.linspace(lo, hi, n)


def tau_axis(par: Mapping[str, str], path: Path) -> np.ndarray:
    """Recovery delays from ``tauSteps``, ``minTau``, ``maxTau`` (ms) and ``logspace``."""
    n = par_int(par, "tauSteps", path, low=1, high=MAX_AXIS_POINTS)
    lo, hi = par_float(par, "minTau", path), par_float(par, "maxTau", path)
    log = _yes(lookup(par, "logspace"))
    if not (0 <= lo <= hi) or (log and lo <= 0) or (n > 1 and lo == hi):
        raise ValueError(f"{path}: need 0 < minTau < maxTau (ms), got {lo!r} and {hi!r}")
    return _spaced(lo, hi, n, log) * 1e-3


def echo_step_axis(par: Mapping[str, str], path: Path) -> np.ndarray:
    """First-CPMG durations of a T2-T2 export: ``echoTime × n`` echoes, ``n`` from
    ``nrEchoSteps`` values between ``minEcho`` and ``maxEcho`` (log or linear, rounded to
    whole echoes; unrounded with a warning if rounding would merge steps)."""
    n = par_int(par, "nrEchoSteps", path, low=1, high=MAX_AXIS_POINTS)
    lo, hi = par_float(par, "minEcho", path), par_float(par, "maxEcho", path)
    if not (0 < lo <= hi) or (n > 1 and lo == hi):
        raise ValueError(f"{path}: need 0 < minEcho < maxEcho, got {lo!r} and {hi!r}")
    counts = _spaced(lo, hi, n, _yes(lookup(par, "logspace")))
    rounded = np.round(counts)
    if np.all(np.diff(rounded) > 0):
        counts = rounded
    else:
        warnings.warn(
            f"{path}: rounding the {n} echo steps between {lo:g} and {hi:g} to whole echoes "
            "would merge some; the unrounded values are used",
            UserWarning,
            stacklevel=3,
        )
    return counts * par_float(par, "echoTime", path) * 1e-6


def b_axis(par: Mapping[str, str], path: Path) -> tuple[np.ndarray, dict[str, float]]:
    """b-values (s/m²) of a Spinsolve PGSE/PFG-CPMG export.

    The ``nrSteps`` gradients run linearly from 0 to ``gradMax`` (mT/m); ``lDelta`` (δ, ms)
    is the whole pulse, ramps included, ``gradRamp`` (ms) each ramp and ``bDelta`` (Δ, ms)
    the diffusion time; see `stejskal_tanner_b`.
    """
    n = par_int(par, "nrSteps", path, low=1, high=MAX_AXIS_POINTS)
    g_max = par_float(par, "gradMax", path) * 1e-3
    delta = par_float(par, "lDelta", path) * 1e-3
    big_delta = par_float(par, "bDelta", path) * 1e-3
    ramp_value = lookup(par, "gradRamp")
    ramp = par_float(par, "gradRamp", path) * 1e-3 if ramp_value not in (None, "") else 0.0
    if not (g_max > 0 and delta > 0 and big_delta > delta and 0 <= 2 * ramp <= delta):
        raise ValueError(
            f"{path}: gradient settings need gradMax > 0, 0 < 2·gradRamp <= lDelta < bDelta; "
            f"got gradMax={g_max * 1e3:g} mT/m, lDelta={delta * 1e3:g} ms, "
            f"bDelta={big_delta * 1e3:g} ms, gradRamp={ramp * 1e3:g} ms"
        )
    gamma = gyromagnetic_ratio(lookup(par, "nucleus") or "1H", path)
    gradients = np.linspace(0.0, g_max, n)
    b = stejskal_tanner_b(gamma, gradients, delta, big_delta, ramp)
    settings = {
        "gamma_rad_per_s_T": gamma,
        "gradient_max_T_per_m": g_max,
        "delta_s": delta,
        "Delta_s": big_delta,
        "ramp_s": ramp,
    }
    return b, settings

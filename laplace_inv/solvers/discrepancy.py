"""The discrepancy principle: choose α so that the residual matches the noise.

With ``n`` data points of noise ``σ``, the residual of a map that explains the signal has
``‖S − fit‖² ≈ n·σ²``. The part of the data outside the kernels' range (``‖·‖² = oor²``)
is fixed whatever the map, so the rule acts on the in-range misfit ``‖K̃F − S̃‖²`` with the
target `discrepancy_target` returns. Two searches use it:

- `largest_alpha_within` walks a decreasing α path and bisects in ``log α`` for the largest α
  whose misfit is within the target (global Tikhonov, warm-started path solvers);
- `alpha_for_residual` finds the α whose residual norm equals the target by a bracketed
  Illinois regula falsi in ``log α`` (L1, where every step is a full solve).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from laplace_inv.solvers.alpha import PathPoint, Solver


def discrepancy_target(
    n: int,
    sigma: float,
    out_of_range2: float,
    *,
    factor: float = 1.0,
    floor: float | None = None,
    chi2_margin: bool = False,
) -> float:
    """Target for the in-range misfit ``‖K̃F − S̃‖²``.

    The full-data target is ``factor²·n·σ²``, raised to ``floor`` (the best achievable
    fit, when model error keeps real data above the noise floor) and widened by one
    standard deviation of χ²ₙ, ``√(2n)·σ²``, when ``chi2_margin``; ``out_of_range2`` is then
    subtracted.

    Parameters
    ----------
    n : int
        Number of raw data points.
    sigma : float
        Noise standard deviation (in the units of the data handed to the solver).
    out_of_range2 : float
        ``‖S − U1S̃U2ᵀ‖²``, the part of the residual no map changes.
    factor : float
        Target RMS residual / noise.
    floor : float, optional
        Lower bound of the full-data target.
    chi2_margin : bool
        Add ``√(2n)·σ²``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(discrepancy_target(100, 0.1, 0.25), 6)
    0.75
    >>> round(discrepancy_target(100, 0.1, 0.25, floor=2.0, chi2_margin=True), 6)
    1.891421
    """
    total = factor**2 * n * sigma**2
    if floor is not None:
        total = max(total, floor)
    if chi2_margin:
        total = total + np.sqrt(2.0 * n) * sigma**2
    return float(total - out_of_range2)


def largest_alpha_within(
    solve: Solver, points: list[PathPoint], target_misfit: float, n_bisect: int = 5
) -> PathPoint:
    """The largest α whose misfit is at most ``target_misfit`` (bisection in log α)."""
    below = [i for i, p in enumerate(points) if p.misfit <= target_misfit]
    if not below:  # even the smallest α cannot fit to the noise: model error dominates
        return points[-1]
    j = below[0]
    if j == 0:
        return points[0]
    good = points[j]
    lo, hi = np.log(points[j].alpha), np.log(points[j - 1].alpha)
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        p = solve(float(np.exp(mid)), good.warm)
        if p.misfit <= target_misfit:
            lo, good = mid, p
        else:
            hi = mid
    return good


Attempt = tuple[Any, dict, float]
"""One solve: ``(F, info, residual norm)``."""


def alpha_for_residual(
    solve: Callable[[float], Attempt], target: float, alpha_max: float
) -> tuple[float, Attempt, int]:
    """The α whose residual norm equals ``target`` (residual grows with α).

    Brackets the root of ``log‖r(α)‖ − log target`` from α = 0.01 (GRIN's default),
    walking a decade at a time within ``[alpha_max·1e-10, alpha_max]``, then refines by
    Illinois regula falsi in ``log α``.

    Parameters
    ----------
    solve : callable
        ``α ↦ (F, info, ‖K̃F − S̃‖)``.
    target : float
        Target residual norm.
    alpha_max : float
        An α above which the zero map is optimal.

    Returns
    -------
    alpha : float
        The chosen α (the solve closest to the target).
    attempt : tuple
        Its ``(F, info, residual)``.
    n_solves : int
        Number of solves made.

    Examples
    --------
    >>> alpha, (F, _, r), n = alpha_for_residual(lambda a: (None, {}, 10 * a), 0.5, 1.0)
    >>> round(alpha, 3), n > 0
    (0.05, True)
    """
    cache: dict[float, Attempt] = {}

    def g(log_a: float) -> float:
        attempt = solve(10.0**log_a)
        cache[log_a] = attempt
        return np.log(max(attempt[2], 1e-300)) - np.log(target)

    lo_lim, hi_lim = np.log10(alpha_max) - 10.0, np.log10(alpha_max)
    a = float(np.clip(-2.0, lo_lim, hi_lim))
    fa = g(a)
    step = -1.0 if fa > 0 else 1.0
    b, fb = a, fa
    while np.sign(fb) == np.sign(fa):
        a, fa = b, fb
        b = float(np.clip(b + step, lo_lim, hi_lim))
        if b == a:
            break
        fb = g(b)
    if np.sign(fb) != np.sign(fa):
        _illinois(g, a, fa, b, fb)
    else:
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(
            "alpha='discrepancy': the residual target could not be bracketed; using the "
            f"closest α (10^{b:.2f})",
            ConvergenceWarning,
            stacklevel=5,
        )
    best = min(cache, key=lambda k: abs(np.log(cache[k][2]) - np.log(target)))
    return float(10.0**best), cache[best], len(cache)


def _illinois(g: Callable[[float], float], a: float, fa: float, b: float, fb: float) -> None:
    """Illinois regula falsi on a bracket ``[a, b]`` (every evaluation is kept by ``g``)."""
    side = 0
    for _ in range(30):
        c = (a * fb - b * fa) / (fb - fa)
        fc = g(c)
        if abs(fc) < np.log(1.01) or abs(b - a) < 1e-3:
            break
        if np.sign(fc) == np.sign(fb):
            b, fb = c, fc
            if side == -1:
                fa /= 2
            side = -1
        else:
            a, fa = c, fc
            if side == 1:
                fb /= 2
            side = 1

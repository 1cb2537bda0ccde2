"""The acquisition model of real data: inversion efficiency and a constant offset, any method.

Real inversion pulses are imperfect and real baselines are never exactly zero. The forward
model becomes

    S = K1(e) F K2ᵀ + c·11ᵀ + E,        k_IR(t, T1) = 1 − (1 + e)·exp(−t/T1),

with ``e`` the inversion efficiency of any ``T1_IR`` axis (1 is a perfect π pulse) and ``c``
a constant offset in data units. Left out, both are absorbed by the map: a constant can only
be imitated by mass where the kernel columns are flat (the smallest T1, the longest T2, the
smallest D), and a wrong ``e`` shifts and smears the T1 axis, putting mass at ``T1 < T2``.

`invert_with_model` inverts with given ``(e, c)``; `fit_acquisition_model` fits them. Both
wrap **any** estimator with a ``kernel`` parameter (Tikhonov, UPEN, L1, DLEMLR): they clone it
with the kernel at efficiency ``e`` and invert ``S − c``; the result's ``info["offset"]``
makes `InversionResult.fit` include the offset.

The fit:

* for a given ``e`` the offset solves ``h(c) = mean(S − c − K F(S − c)) = 0`` (the best
  constant for a map is its mean residual): one fixed-point step then secant steps on ``h``,
  warm-started from the previous ``e``, usually 2–4 inversions;
* ``e`` minimises the data residual ``‖S − c(e) − K(e) F‖`` by bounded scalar minimisation
  (Brent's method on ``efficiency_bounds``);
* the search runs on grids restricted to the acquisition window (`window_axis`), where no
  flat kernel column can imitate ``c`` or ``e``; the final map is computed once by the
  estimator on its own grid at the chosen ``(e, c)``.

A method that cannot change its grid (DLEMLR's trained network) is searched with global
Tikhonov unless another ``search_estimator`` is given.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import clone

from laplace_inv.base import BaseInverter, InversionResult
from laplace_inv.diagnostics import acquisition_window, edge_mass, fit_warnings
from laplace_inv.kernels import Kernel2D, KernelAxis

__all__ = [
    "edge_mass",
    "fit_acquisition_model",
    "invert_with_model",
    "kernel_with_efficiency",
    "window_axis",
]


def kernel_with_efficiency(kernel: Kernel2D, efficiency: float) -> Kernel2D:
    """The same kernel with every ``T1_IR`` axis set to inversion efficiency ``efficiency``.

    Examples
    --------
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 1, 8), n_grid=6),
    ...              KernelAxis("T2", np.arange(1, 21) * 1e-3, n_grid=6))
    >>> kernel_with_efficiency(k, 0.8).axis1.efficiency
    0.8
    """
    axes = [
        ax.with_efficiency(efficiency) if ax.kind == "T1_IR" else ax
        for ax in (kernel.axis1, kernel.axis2)
    ]
    return Kernel2D(*axes)


def window_axis(axis: KernelAxis, n_grid: int | None = None) -> KernelAxis:
    """The axis with its grid restricted to the acquisition window.

    The window is `laplace_inv.diagnostics.acquisition_window`: ``[t_min, t_max]`` (smallest
    positive and largest delay) for relaxation, ``[1/b_max, 1/b_min]`` for diffusion. Outside
    it the kernel columns are nearly constant along the acquisition, which is exactly what
    lets a map imitate an offset or a wrong efficiency with edge mass.

    Parameters
    ----------
    axis : KernelAxis
        The axis.
    n_grid : int, optional
        Points of the new grid (default: as many as the old grid has inside the window, at
        least 8).

    Returns
    -------
    KernelAxis

    Examples
    --------
    >>> ax = KernelAxis("T2", np.arange(1, 101) * 1e-3)
    >>> w = window_axis(ax, 16)
    >>> float(w.grid[0]), float(round(w.grid[-1], 6)), w.grid.size
    (0.001, 0.1, 16)
    """
    lo, hi = acquisition_window(axis.kind, axis.tau)
    lo, hi = max(lo, axis.grid[0]), min(hi, axis.grid[-1])
    inside = axis.grid[(axis.grid >= lo) & (axis.grid <= hi)]
    n = int(n_grid) if n_grid is not None else max(inside.size, 8)
    return axis.with_grid(np.geomspace(lo, hi, n))


def _check_option(value: Any, name: str) -> None:
    if value is None or (isinstance(value, str) and value == "auto"):
        return
    if isinstance(value, str) or not np.isfinite(float(value)):
        raise ValueError(f"{name} must be 'auto', a number or None, got {value!r}")


def _check_model_options(
    efficiency: Any, offset: Any, efficiency_bounds: tuple[float, float], search_grid: str
) -> tuple[float, float]:
    """Check the options of `fit_acquisition_model`; return the efficiency bounds."""
    _check_option(efficiency, "efficiency")
    _check_option(offset, "offset")
    lo, hi = (float(v) for v in efficiency_bounds)
    if not 0.0 < lo < hi <= 1.5:
        raise ValueError(f"efficiency_bounds must satisfy 0 < lo < hi <= 1.5, got {lo, hi}")
    if search_grid not in ("window", "full"):
        raise ValueError(f"search_grid must be 'window' or 'full', got {search_grid!r}")
    return lo, hi


def _offset_root(
    invert: Callable[[float], np.ndarray],
    mean_residual: Callable[[float, np.ndarray], float],
    c0: float,
    scale: float,
    rtol: float,
    max_iter: int,
) -> tuple[float, np.ndarray]:
    """The offset ``c`` whose map leaves a zero mean residual ``h(c)``: a fixed-point step,
    then guarded secant steps, from the warm start ``c0``."""
    F0 = invert(c0)
    h0 = mean_residual(c0, F0)
    c, F = c0, F0
    if abs(h0) > rtol * scale:
        c1 = c0 + float(np.clip(h0, -0.1 * scale, 0.1 * scale))  # fixed-point step
        for _ in range(max_iter - 1):
            F1 = invert(c1)
            h1 = mean_residual(c1, F1)
            c, F = c1, F1
            if abs(h1) <= rtol * scale:
                break
            slope = (h1 - h0) / (c1 - c0) if c1 != c0 else -1.0
            # h decreases with c (slope -1 for a map that ignores the offset, towards 0
            # when the map absorbs it); guard against a flat or wrong-signed secant.
            slope = min(slope, -0.05)
            c0, h0 = c1, h1
            step = float(np.clip(-h1 / slope, -0.1 * scale, 0.1 * scale))
            c1 = float(np.clip(c1 + step, -0.5 * scale, 0.5 * scale))
    return c, F


def _has_own_grid(estimator: BaseInverter) -> bool:
    """Whether the estimator can invert on any grid (classical methods can; a trained
    network cannot)."""
    from laplace_inv.classical import L1Inverter, TikhonovInverter

    return isinstance(estimator, (TikhonovInverter, L1Inverter))


def _default_searcher(estimator: BaseInverter, kernel: Kernel2D) -> BaseInverter:
    if _has_own_grid(estimator):
        return estimator
    from laplace_inv.classical import TikhonovInverter

    return TikhonovInverter(kernel, penalty="global")


def _with_efficiency(est: BaseInverter, e: float | None) -> tuple[BaseInverter, Kernel2D]:
    kernel = est._check_kernel()
    if e is None or "T1_IR" not in kernel.kinds:
        return est, kernel
    k = kernel_with_efficiency(kernel, e)
    return _with_kernel(est, k), k


def _with_kernel(est: BaseInverter, kernel: Kernel2D) -> BaseInverter:
    """``est`` on another kernel: a clone for the classical methods, a shallow copy for a
    fitted model (a clone would drop DLEMLR's trained network)."""
    if _has_own_grid(est):
        return clone(est).set_params(kernel=kernel)
    return copy.copy(est).set_params(kernel=kernel)


def _final_result(
    estimator: BaseInverter,
    S: np.ndarray,
    F: np.ndarray,
    kernel: Kernel2D,
    info: dict[str, Any],
    noise_std: float | None,
) -> InversionResult:
    noise = noise_std if noise_std is not None else kernel.compress().noise_std(S - info["offset"])
    result = InversionResult(map=F, kernel=kernel, data=S, info=info, noise_std=noise)
    result.warnings = fit_warnings(S, result.fit, noise, F, kernel.kinds)
    for message in result.warnings:
        warnings.warn(f"{estimator._method_name()}: {message}", UserWarning, stacklevel=3)
    return result


def invert_with_model(
    estimator: BaseInverter,
    S: Any,
    *,
    efficiency: float | None = None,
    offset: float = 0.0,
    noise_std: float | None = None,
) -> InversionResult:
    """Invert ``S`` with a known inversion efficiency and offset, with any estimator.

    Parameters
    ----------
    estimator : BaseInverter
        Any inverter with a ``kernel`` parameter (cloned, never modified).
    S : array_like, shape (n1, n2)
        The data.
    efficiency : float, optional
        Inversion efficiency of the kernel's ``T1_IR`` axis; None keeps the kernel's own.
    offset : float
        Constant offset of the data (data units), subtracted before inverting and added to
        `InversionResult.fit`.
    noise_std : float, optional
        Noise level of the data (default: estimated).

    Returns
    -------
    InversionResult
        With ``info["efficiency"]`` (None without a ``T1_IR`` axis) and ``info["offset"]``.

    Examples
    --------
    >>> from laplace_inv.classical import TikhonovInverter
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 12), n_grid=16),
    ...              KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=16))
    >>> F = np.zeros((16, 16)); F[8, 8] = 1.0
    >>> noise = 1e-3 * np.random.default_rng(0).standard_normal((12, 100))
    >>> S = kernel_with_efficiency(k, 0.9).forward(F) + 0.01 + noise
    >>> res = invert_with_model(TikhonovInverter(k), S, efficiency=0.9, offset=0.01)
    >>> res.info["efficiency"], res.info["offset"], bool(res.relative_residual < 1e-2)
    (0.9, 0.01, True)
    """
    S = np.asarray(S, dtype=float)
    kernel = estimator._check_kernel()
    if efficiency is not None and "T1_IR" not in kernel.kinds:
        raise ValueError("efficiency applies only to kernels with a T1_IR axis")
    if not np.isfinite(float(offset)):
        raise ValueError(f"offset must be a finite number, got {offset!r}")
    est, final_kernel = _with_efficiency(estimator, efficiency)
    t0 = time.perf_counter()
    F = est.invert(S - float(offset), noise_std=noise_std, check_fit=False).map
    info = _model_info(estimator, final_kernel, float(offset))
    info["time_s"] = time.perf_counter() - t0
    return _final_result(estimator, S, F, final_kernel, info, noise_std)


def _model_info(estimator: BaseInverter, kernel: Kernel2D, offset: float) -> dict[str, Any]:
    ir = [ax.efficiency for ax in (kernel.axis1, kernel.axis2) if ax.kind == "T1_IR"]
    return {
        "method": f"{estimator._method_name()}+acquisition",
        "efficiency": ir[0] if ir else None,
        "offset": offset,
    }


def fit_acquisition_model(
    estimator: BaseInverter,
    S: Any,
    *,
    efficiency: str | float | None = "auto",
    offset: str | float | None = "auto",
    efficiency_bounds: tuple[float, float] = (0.5, 1.1),
    efficiency_xtol: float = 5e-3,
    offset_rtol: float = 1e-4,
    max_offset_iter: int = 8,
    search_estimator: BaseInverter | None = None,
    search_grid: str = "window",
    search_n_grid: int | None = 32,
    noise_std: float | None = None,
) -> InversionResult:
    """Invert ``S`` while fitting the inversion efficiency and a constant offset.

    Parameters
    ----------
    estimator : BaseInverter
        Any inverter with a ``kernel`` parameter (cloned, never modified): Tikhonov, UPEN,
        L1 or DLEMLR.
    S : array_like, shape (n1, n2)
        The data.
    efficiency : "auto", float or None
        ``"auto"`` fits ``e`` (needs a ``T1_IR`` axis; ignored otherwise); a number fixes it;
        ``None`` keeps the estimator kernel's own efficiency.
    offset : "auto", float or None
        ``"auto"`` fits the constant offset ``c`` (data units); a number fixes it; ``None``
        means no offset.
    efficiency_bounds : (float, float)
        Search interval for ``e`` (within ``(0, 1.5]``).
    efficiency_xtol : float
        Absolute tolerance on ``e``.
    offset_rtol : float
        Stop the offset search when the mean residual is below ``offset_rtol·max|S|``.
    max_offset_iter : int
        Cap on inversions per offset search.
    search_estimator : BaseInverter, optional
        A cheaper inverter used during the search (default: ``estimator`` for the classical
        methods, global Tikhonov for a method that cannot change its grid, such as DLEMLR).
    search_grid : {"window", "full"}
        Grids used during the search. ``"window"`` (default) restricts both grids to the
        acquisition window (`window_axis`): outside it, edge bins reproduce a constant
        offset or a wrong efficiency almost exactly, so on the full grid the residual barely
        depends on ``(e, c)``. ``"full"`` searches on the estimator's own grids.
    search_n_grid : int or None
        Points per axis of the window grids (default 32, for speed; None keeps the
        estimator's density).
    noise_std : float, optional
        Noise level of the data (default: estimated from ``S − c``).

    Returns
    -------
    InversionResult
        The map for the fitted model, with ``info["efficiency"]``, ``info["offset"]`` (so
        that ``result.fit`` includes it), ``info["efficiency_search"]`` (list of
        ``(e, c, residual)``), ``info["n_inversions"]`` and ``info["robust_time_s"]``.

    Examples
    --------
    >>> from laplace_inv.classical import TikhonovInverter
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 12), n_grid=16),
    ...              KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=16))
    >>> F = np.zeros((16, 16)); F[8, 8] = 1.0
    >>> noise = 1e-3 * np.random.default_rng(0).standard_normal((12, 100))
    >>> S = kernel_with_efficiency(k, 0.9).forward(F) + 0.01 + noise
    >>> res = fit_acquisition_model(TikhonovInverter(k), S, efficiency=0.9, offset=0.01)
    >>> res.info["efficiency"], res.info["offset"], res.info["n_inversions"]
    (0.9, 0.01, 1)
    """
    t0 = time.perf_counter()
    kernel = estimator._check_kernel()
    S = np.asarray(S, dtype=float)
    if S.shape != kernel.data_shape:
        raise ValueError(f"S must have shape {kernel.data_shape}, got {S.shape}")
    lo, hi = _check_model_options(efficiency, offset, efficiency_bounds, search_grid)
    has_ir = "T1_IR" in kernel.kinds
    if not has_ir and efficiency not in (None, "auto"):
        raise ValueError("efficiency applies only to kernels with a T1_IR axis")
    searcher = search_estimator or _default_searcher(estimator, kernel)
    if search_grid == "window":
        search_kernel = Kernel2D(
            window_axis(kernel.axis1, search_n_grid), window_axis(kernel.axis2, search_n_grid)
        )
        searcher = clone(searcher).set_params(kernel=search_kernel)
    search = _Search(searcher, S, noise_std, offset, offset_rtol, max_offset_iter)

    e_best: float | None = None
    if efficiency == "auto" and has_ir:
        minimize_scalar(
            search.objective,
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": efficiency_xtol},
        )
        e_best = min(search.history, key=lambda h: h[2])[0]
    elif efficiency is not None and has_ir and not isinstance(efficiency, str):
        e_best = float(efficiency)

    offset_auto = isinstance(offset, str)
    if offset_auto and e_best not in search.cache:
        search.objective(e_best)  # offset search only, at the given efficiency
    if searcher is estimator and e_best in search.cache:
        c, F = search.cache[e_best]
        final_kernel = _with_efficiency(estimator, e_best)[1]
    else:
        est, final_kernel = _with_efficiency(estimator, e_best)
        # Keep the offset the search found: on the full grid the map could absorb it.
        c = search.cache[e_best][0] if offset_auto else (0.0 if offset is None else float(offset))
        F = search.invert(est, S - c)
    info = _model_info(estimator, final_kernel, float(c))
    info.update(
        efficiency_search=search.history,
        n_inversions=search.n_inversions,
        robust_time_s=time.perf_counter() - t0,
    )
    return _final_result(estimator, S, F, final_kernel, info, noise_std)


class _Search:
    """The residual of the best map and offset for one efficiency, with its history."""

    def __init__(
        self,
        searcher: BaseInverter,
        S: np.ndarray,
        noise_std: float | None,
        offset: Any,
        rtol: float,
        max_iter: int,
    ) -> None:
        self.searcher, self.S, self.noise_std = searcher, S, noise_std
        self.offset, self.rtol, self.max_iter = offset, rtol, max_iter
        self.scale = float(np.abs(S).max()) or 1.0
        self.n_inversions = 0
        self.c_warm = 0.0
        self.history: list[tuple[float, float, float]] = []
        self.cache: dict[float | None, tuple[float, np.ndarray]] = {}

    def invert(self, est: BaseInverter, data: np.ndarray) -> np.ndarray:
        self.n_inversions += 1
        return est.invert(data, noise_std=self.noise_std, check_fit=False).map

    def solve_offset(self, est: BaseInverter, k: Kernel2D) -> tuple[float, np.ndarray]:
        """Map and offset for one kernel: the root of the mean residual ``h(c)``."""
        S = self.S
        if not isinstance(self.offset, str):
            c = 0.0 if self.offset is None else float(self.offset)
            return c, self.invert(est, S - c)
        c, F = _offset_root(
            lambda c: self.invert(est, S - c),
            lambda c, F: float(np.mean(S - c - k.forward(F))),
            self.c_warm,
            self.scale,
            self.rtol,
            self.max_iter,
        )
        self.c_warm = c
        return c, F

    def objective(self, e: float | None) -> float:
        est, k = _with_efficiency(self.searcher, e)
        c, F = self.solve_offset(est, k)
        r = float(np.linalg.norm(self.S - c - k.forward(F)))
        self.cache[e] = (c, F)
        self.history.append((float(e) if e is not None else float("nan"), c, r))
        return r

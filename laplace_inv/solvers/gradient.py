"""One projected-gradient method with pluggable steps: FISTA, FISTA with restart, BB.

Minimises ``f(F) + g(F)`` with ``f`` smooth (its gradient given as a callable) and ``g``
simple (its proximal map given as a callable, e.g. the projection onto ``F ≥ 0``, or
shrink-then-project for ``α‖F‖₁ + indicator(F ≥ 0)``). The step rule is one of

- ``"fista"``: constant step ``1/L`` with Nesterov momentum (Beck & Teboulle 2009);
- ``"fista_restart"``: the same with gradient-based adaptive restart (O'Donoghue & Candès
  2015), which keeps it fast at the ill-conditioned small-α end;
- ``"bb"``: no momentum, Barzilai–Borwein step lengths (the UPEN start).

The loop stops when ``‖F_k − F_{k−1}‖ ≤ tol·max(‖F_k‖, tiny)``. It runs on numpy arrays and
on torch tensors (the callables then work on tensors too).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from laplace_inv.solvers.result import SolverResult

STEP_RULES = ("fista", "fista_restart", "bb")

Array = Any


def _norm(X: Array) -> float:
    if isinstance(X, np.ndarray):
        return float(np.linalg.norm(X))
    return float(X.norm())  # torch


def _dot(X: Array, Y: Array) -> float:
    if isinstance(X, np.ndarray):
        return float(np.vdot(X, Y))
    return float((X * Y).sum())  # torch


def nonneg(V: Array) -> Array:
    """Projection onto ``F ≥ 0`` (numpy or torch)."""
    if isinstance(V, np.ndarray):
        return np.maximum(V, 0.0)
    return V.clamp_min(0.0)  # torch


def shrink_nonneg(shrink: float) -> Callable[[Array], Array]:
    """Proximal map of ``shrink·‖F‖₁ + indicator(F ≥ 0)``: shrink, then project."""

    def prox(V: Array) -> Array:
        return nonneg(V - shrink)

    return prox


def projected_gradient(
    gradient: Callable[[Array], Array],
    prox: Callable[[Array], Array],
    F0: Array,
    lipschitz: float,
    *,
    steps: str = "fista",
    max_iter: int = 1000,
    tol: float = 1e-7,
) -> SolverResult:
    """Projected (proximal) gradient descent with the step rule ``steps``.

    Parameters
    ----------
    gradient : callable
        ``F ↦ ∇f(F)``.
    prox : callable
        ``V ↦ prox(V)`` for the step ``1/L`` (the projection for a constraint).
    F0 : array
        Starting point (already feasible).
    lipschitz : float
        Lipschitz constant ``L`` of ``∇f``: the step is ``1/L`` (the first step for BB).
    steps : {"fista", "fista_restart", "bb"}
        The step rule.
    max_iter : int
        Iteration cap.
    tol : float
        Relative change of ``F`` at which to stop.

    Returns
    -------
    SolverResult
        ``map`` is the last iterate; no warning is emitted at the cap (the caller decides).

    Examples
    --------
    >>> A = np.diag([1.0, 2.0]); b = np.array([1.0, -1.0])
    >>> res = projected_gradient(lambda x: A @ x - b, nonneg, np.zeros(2), 2.0, tol=1e-12)
    >>> res.map.round(6).tolist(), res.converged
    ([1.0, 0.0], True)
    """
    if steps not in STEP_RULES:
        raise ValueError(f"steps must be one of {STEP_RULES}, got {steps!r}")
    step = 1.0 / lipschitz
    F = F0
    Y = F
    t = 1.0
    G: Array = gradient(Y) if steps == "bb" else None
    for k in range(1, max_iter + 1):
        if steps != "bb":
            G = gradient(Y)
        F_new = prox(Y - step * G)
        D = F_new - F
        if steps == "bb":
            G_new = gradient(F_new)
            sy = _dot(D, G_new - G)
            Y, G = F_new, G_new
        elif steps == "fista_restart" and _dot(Y - F_new, D) > 0:
            t = 1.0  # momentum points uphill: drop it
            Y = F_new
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            Y = F_new + ((t - 1.0) / t_new) * D
            t = t_new
        F = F_new
        if _norm(D) <= tol * max(_norm(F), 1e-300):
            return SolverResult(F, k, True)
        if steps == "bb":
            step = _dot(D, D) / sy if sy > 0 else 1.0 / lipschitz
    return SolverResult(F, max_iter, False)

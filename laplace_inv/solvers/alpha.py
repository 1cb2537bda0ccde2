"""Choosing the global regularisation weight α: GCV, L-curve corner, discrepancy principle.

Every rule walks a decreasing α path with warm starts. A solver callback returns, for one α,
the map, its in-range misfit ``‖K̃F − S̃‖²`` and its degrees of freedom ``df``.

- **GCV** (Mitchell, Chandrasekera, Gladden 2012): ``G(α) = n·‖r‖² / (n − df)²`` on the
  full data (``n = n1·n2`` points; the residual outside the kernels' range is added to the
  in-range misfit), with ``df`` the trace of the influence matrix restricted to the bins
  the non-negative solution keeps (as in BRD). GCV on the compressed data alone ignores
  what the out-of-range residual says about the noise and under-smooths real data.
- **L-curve**: the point of maximum curvature of ``(log‖r‖, log‖F‖)`` against ``log α``.
- **Discrepancy**: see `laplace_inv.solvers.discrepancy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class PathPoint:
    """One solve along the α path."""

    alpha: float
    F: np.ndarray
    misfit: float
    dof: float
    warm: Any = None

    @property
    def norm(self) -> float:
        """``‖F‖``."""
        return float(np.linalg.norm(self.F))


Solver = Callable[[float, Any], PathPoint]


def solve_path(solve: Solver, alphas: np.ndarray) -> list[PathPoint]:
    """Solve for each α (given in decreasing order), warm-starting from the previous point."""
    points: list[PathPoint] = []
    warm = None
    for alpha in alphas:
        point = solve(float(alpha), warm)
        warm = point.warm
        points.append(point)
    return points


def gcv_values(points: list[PathPoint], n: int, out_of_range: float = 0.0) -> np.ndarray:
    """GCV values ``n·‖r‖² / (n − df)²`` along the path.

    ``n`` is the number of raw data points and ``‖r‖² = misfit + out_of_range``, the
    in-range misfit plus the squared norm of the data outside the kernels' range, so this is
    GCV on the full, uncompressed problem (for ``n ≫ df`` it approaches the unbiased
    predictive-risk estimate ``misfit + 2σ²·df``).
    """
    misfit = np.array([p.misfit for p in points]) + out_of_range
    dof = np.array([p.dof for p in points])
    return n * misfit / np.maximum(n - dof, 1e-12) ** 2


def refine_minimum(
    solve: Solver, points: list[PathPoint], values: np.ndarray, criterion, n_steps: int = 4
) -> PathPoint:
    """Golden-section refinement in ``log α`` around the best grid point."""
    i = int(np.argmin(values))
    if i == 0 or i == len(points) - 1:
        return points[i]
    lo, hi = np.log(points[i + 1].alpha), np.log(points[i - 1].alpha)
    best, best_val = points[i], float(values[i])
    warm = points[i].warm
    golden = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    for _ in range(n_steps):
        x1 = b - golden * (b - a)
        x2 = a + golden * (b - a)
        p1, p2 = solve(float(np.exp(x1)), warm), solve(float(np.exp(x2)), warm)
        v1, v2 = criterion(p1), criterion(p2)
        for p, v in ((p1, v1), (p2, v2)):
            if v < best_val:
                best, best_val = p, v
        if v1 < v2:
            b = x2
        else:
            a = x1
    return best


def lcurve_corner(points: list[PathPoint]) -> int:
    """Index of the maximum-curvature point of the L-curve."""
    x = 0.5 * np.log(np.maximum([p.misfit for p in points], 1e-300))
    y = np.log(np.maximum([p.norm for p in points], 1e-300))
    t = np.log([p.alpha for p in points])
    dx, dy = np.gradient(x, t), np.gradient(y, t)
    ddx, ddy = np.gradient(dx, t), np.gradient(dy, t)
    kappa = (dx * ddy - ddx * dy) / np.maximum((dx**2 + dy**2) ** 1.5, 1e-300)
    interior = kappa[1:-1]
    return int(np.argmax(interior)) + 1 if interior.size else 0


def default_alphas(lipschitz: float, n: int = 13) -> np.ndarray:
    """Decreasing α values from ``1e-2·L`` to ``1e-11·L`` (``L`` the data-term Lipschitz bound)."""
    return lipschitz * np.logspace(-2, -11, n)

"""Old import path of the α-selection helpers (now `laplace_inv.solvers.alpha`)."""

from laplace_inv.solvers.alpha import (
    PathPoint,
    Solver,
    default_alphas,
    gcv_values,
    lcurve_corner,
    refine_minimum,
    solve_path,
)
from laplace_inv.solvers.discrepancy import largest_alpha_within as discrepancy_point

__all__ = [
    "PathPoint",
    "Solver",
    "default_alphas",
    "discrepancy_point",
    "gcv_values",
    "lcurve_corner",
    "refine_minimum",
    "solve_path",
]

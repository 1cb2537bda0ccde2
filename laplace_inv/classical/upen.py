"""Old import path of 2DUPEN (now `laplace_inv.solvers.upen` and `laplace_inv.solvers.bpp`)."""

from laplace_inv.operator.forms import laplacian, laplacian_matrix
from laplace_inv.solvers.bpp import (
    ARMIJO,
    FIRST_SOLVE_CAP,
    INNER_RTOL,
    KKT_RTOL,
    MAX_DENSE,
    MAX_ENTER,
    InnerResult,
    _Quadratic,
    slope_curvature,
    solve_bpp,
    upen_weights,
)
from laplace_inv.solvers.upen import bb_start, upen_solve

__all__ = [
    "ARMIJO",
    "FIRST_SOLVE_CAP",
    "INNER_RTOL",
    "KKT_RTOL",
    "MAX_DENSE",
    "MAX_ENTER",
    "InnerResult",
    "_Quadratic",
    "bb_start",
    "laplacian",
    "laplacian_matrix",
    "slope_curvature",
    "solve_bpp",
    "upen_solve",
    "upen_weights",
]

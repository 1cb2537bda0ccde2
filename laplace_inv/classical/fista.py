"""Old import path of the non-negative quadratic FISTA (now `laplace_inv.solvers`)."""

from laplace_inv.solvers.result import SolverResult as FistaResult
from laplace_inv.solvers.tikhonov import nonneg_quadratic as nonneg_fista

__all__ = ["FistaResult", "nonneg_fista"]

"""Solvers: explicit arguments in, one `SolverResult` out, no estimator state.

- `gradient`: one projected-gradient method with pluggable steps (FISTA, FISTA with restart,
  Barzilai–Borwein), on numpy or torch arrays;
- `brd`: Butler–Reeds–Dawson dual Newton for non-negative Tikhonov;
- `tikhonov`: global Tikhonov, fixed α or α by GCV, the L-curve or the discrepancy rule;
- `nnls`, `tikhonov_active`: Lawson–Hanson active sets (the best fit, and Tikhonov at one α
  from a nearby support);
- `alpha`, `discrepancy`, `discrepancy_root`: α selection (the discrepancy α by root finding
  from the best fit, without a path);
- `bpp`, `upen`: 2DUPEN with block principal pivoting;
- `l1_fista`, `l1_cvxpy`: non-negative L1 / elastic net (cvxpy is imported by `l1_cvxpy`
  only).
"""

from laplace_inv.solvers.gradient import nonneg, projected_gradient, shrink_nonneg
from laplace_inv.solvers.result import SolverResult, warn_not_converged

__all__ = [
    "SolverResult",
    "nonneg",
    "projected_gradient",
    "shrink_nonneg",
    "warn_not_converged",
]

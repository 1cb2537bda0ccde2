"""The compressed Laplace operator: per-axis SVD factors and every form solvers need.

`CompressedOperator` (built and cached by `Kernel2D.compress`) owns projection of data,
forward/adjoint and Gram products in compressed space, the Lipschitz constant, the noise
estimate from the data outside the kernels' range, and its padded, Kronecker-pair,
Laplacian and torch forms.
"""

from laplace_inv.operator.compressed import AxisFactor, CompressedOperator
from laplace_inv.operator.forms import PairProblem, laplacian, laplacian_matrix

__all__ = ["AxisFactor", "CompressedOperator", "PairProblem", "laplacian", "laplacian_matrix"]

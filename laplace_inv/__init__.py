"""laplace_inv: two-dimensional Laplace NMR inversion (T1-T2, T2-T2, D-T2)."""

from laplace_inv.kernels import KINDS, CompressedProblem, Kernel2D, KernelAxis

__version__ = "0.1.0"

__all__ = ["KINDS", "CompressedProblem", "Kernel2D", "KernelAxis", "__version__"]

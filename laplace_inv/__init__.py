"""laplace_inv: two-dimensional Laplace NMR inversion (T1-T2, T2-T2, D-T2).

The three estimators share one scikit-learn interface: ``TikhonovInverter`` (UPEN or
global α), ``L1Inverter`` (cvxpy) and ``DLEMLRInverter`` (a physics-informed vision
transformer). Every public name is imported on first use, so that ``import laplace_inv``
pays for neither scikit-learn, SciPy, torch nor cvxpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "KINDS": "laplace_inv.kernels",
    "BaseInverter": "laplace_inv.base",
    "CompressedOperator": "laplace_inv.operator",
    "CompressedProblem": "laplace_inv.kernels",
    "DLEMLRInverter": "laplace_inv.dlemlr",
    "InversionResult": "laplace_inv.result",
    "Kernel1D": "laplace_inv.kernels",
    "Kernel2D": "laplace_inv.kernels",
    "KernelAxis": "laplace_inv.kernels",
    "L1Inverter": "laplace_inv.classical.l1",
    "TikhonovInverter": "laplace_inv.classical.tikhonov",
    "make_inverter": "laplace_inv.methods",
}

__all__ = [
    "KINDS",
    "BaseInverter",
    "CompressedOperator",
    "CompressedProblem",
    "DLEMLRInverter",
    "InversionResult",
    "Kernel1D",
    "Kernel2D",
    "KernelAxis",
    "L1Inverter",
    "TikhonovInverter",
    "__version__",
    "make_inverter",
]

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.base import BaseInverter
    from laplace_inv.classical.l1 import L1Inverter
    from laplace_inv.classical.tikhonov import TikhonovInverter
    from laplace_inv.dlemlr import DLEMLRInverter
    from laplace_inv.kernels import KINDS, CompressedProblem, Kernel1D, Kernel2D, KernelAxis
    from laplace_inv.methods import make_inverter
    from laplace_inv.operator import CompressedOperator
    from laplace_inv.result import InversionResult


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'laplace_inv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

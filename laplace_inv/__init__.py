"""laplace_inv: two-dimensional Laplace NMR inversion (T1-T2, T2-T2, D-T2).

The three estimators share one scikit-learn interface: ``TikhonovInverter`` (UPEN or
global α), ``L1Inverter`` (cvxpy) and ``DLEMLRInverter`` (a physics-informed vision
transformer). ``DLEMLRInverter`` and ``L1Inverter`` are imported on first use, so that
``import laplace_inv`` does not pay for torch or cvxpy.
"""

from __future__ import annotations

from typing import Any

from laplace_inv.base import BaseInverter, InversionResult
from laplace_inv.classical.tikhonov import TikhonovInverter
from laplace_inv.kernels import KINDS, CompressedProblem, Kernel2D, KernelAxis

__version__ = "0.1.0"

_LAZY = {
    "L1Inverter": "laplace_inv.classical.l1",
    "DLEMLRInverter": "laplace_inv.dlemlr",
}

__all__ = [
    "KINDS",
    "BaseInverter",
    "CompressedProblem",
    "DLEMLRInverter",
    "InversionResult",
    "Kernel2D",
    "KernelAxis",
    "L1Inverter",
    "TikhonovInverter",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'laplace_inv' has no attribute {name!r}")

"""Classical inverters: non-negative Tikhonov (global α or UPEN) and L1."""

from laplace_inv.classical.tikhonov import TikhonovInverter

__all__ = ["TikhonovInverter"]

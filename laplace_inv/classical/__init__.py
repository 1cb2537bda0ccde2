"""Classical inverters: non-negative Tikhonov (global α or UPEN) and L1."""

from laplace_inv.classical.tikhonov import TikhonovInverter


def __getattr__(name: str):
    # cvxpy is imported only when the L1 inverter is used.
    if name == "L1Inverter":
        from laplace_inv.classical.l1 import L1Inverter

        return L1Inverter
    raise AttributeError(f"module 'laplace_inv.classical' has no attribute {name!r}")


__all__ = ["L1Inverter", "TikhonovInverter"]

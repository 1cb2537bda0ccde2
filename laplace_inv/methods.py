"""The package's inverters by name, with their default settings as a user would call them.

This is the one place that builds a method from its name: the CLI, the benchmark registry
and the benchmark scripts call `make_inverter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.base import BaseInverter
    from laplace_inv.kernels import Kernel2D


def _upen(kernel: Kernel2D) -> BaseInverter:
    """2DUPEN multi-parameter Tikhonov (``TikhonovInverter(penalty="upen")``)."""
    from laplace_inv.classical.tikhonov import TikhonovInverter

    return TikhonovInverter(kernel, penalty="upen")


def _tikhonov(kernel: Kernel2D) -> BaseInverter:
    """Global non-negative Tikhonov, α by the discrepancy rule (``penalty="global"``)."""
    from laplace_inv.classical.tikhonov import TikhonovInverter

    return TikhonovInverter(kernel, penalty="global")


def _l1(kernel: Kernel2D) -> BaseInverter:
    """Sparse L1 (GRIN-like) inversion with cvxpy (``L1Inverter``)."""
    from laplace_inv.classical.l1 import L1Inverter

    return L1Inverter(kernel)


def _dlemlr(kernel: Kernel2D) -> BaseInverter:
    """DLEMLR vision transformer with the shipped weights (``from_pretrained``)."""
    from laplace_inv.dlemlr import DLEMLRInverter

    return DLEMLRInverter.from_pretrained(kernel=kernel)


METHODS: dict[str, Callable[[Kernel2D], BaseInverter]] = {
    "upen": _upen,
    "tikhonov": _tikhonov,
    "l1": _l1,
    "dlemlr": _dlemlr,
}
"""Factories ``kernel → estimator`` for every inverter, with default settings."""


def make_inverter(name: str, kernel: Kernel2D, **params: Any) -> BaseInverter:
    """Build the inverter called ``name`` for ``kernel``, with optional overrides.

    Parameters
    ----------
    name : str
        One of the keys of `METHODS`: ``"upen"``, ``"tikhonov"``, ``"l1"``, ``"dlemlr"``.
    kernel : Kernel2D
        The acquisition and the output grid.
    **params
        Estimator parameters that replace the defaults (``set_params``), for example
        ``alpha="gcv"`` for Tikhonov or ``refine=False`` for DLEMLR.

    Returns
    -------
    BaseInverter
        The estimator, not yet used.

    Raises
    ------
    ValueError
        For an unknown name, or a parameter the method does not have.
    RuntimeError
        When the method cannot be built here (missing module or weights); the message
        says why.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> type(make_inverter("tikhonov", cement_kernel())).__name__
    'TikhonovInverter'
    >>> make_inverter("tikhonov", cement_kernel(), alpha="gcv").alpha
    'gcv'
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {sorted(METHODS)}")
    try:
        estimator = METHODS[name](kernel)
    except (ImportError, OSError, KeyError, FileNotFoundError) as exc:
        raise RuntimeError(f"method {name!r} is not available: {exc}") from exc
    unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
    if unknown:
        raise ValueError(
            f"method {name!r} has no parameter(s) {unknown}; "
            f"valid ones: {sorted(estimator.get_params(deep=False))}"
        )
    return estimator.set_params(**params) if params else estimator

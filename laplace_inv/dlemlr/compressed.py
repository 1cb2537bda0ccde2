"""The compressed problem as DLEMLR consumes it: the one place that reads `Kernel2D.compress`.

Every other DLEMLR module (features, refinement, training sets) gets the projection bases, the
padded compressed kernels and the spectral operator from `problem(kernel)`; none calls
`Kernel2D.compress` itself. All of them are views of the kernel's `CompressedOperator`
(``DLEMLRProblem.operator``): nothing is re-derived from the padded kernels.

Tensors are built on request for a device and dtype and cached per problem, so a batch
never copies the operator twice to an accelerator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from laplace_inv.dlemlr.admm import SpectralOperator
from laplace_inv.kernels import Kernel2D
from laplace_inv.operator import CompressedOperator

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.operator.torch_view import TorchOperator

#: Compression tolerance of the DLEMLR input (what the shipped weights were trained on).
RTOL = 1e-8


@dataclass(frozen=True)
class DLEMLRProblem:
    """The compressed acquisition, padded to the output grid.

    Attributes
    ----------
    U1 : numpy.ndarray
        Projection basis of axis 1, shape ``(n1, r1)``.
    U2 : numpy.ndarray
        Projection basis of axis 2, shape ``(n2, r2)``.
    K1p : numpy.ndarray
        Compressed kernel ``Σ1 V1ᵀ`` of axis 1 in the first ``r1`` rows of an ``(N1, N1)``
        array, zeros below.
    K2p : numpy.ndarray
        The same for axis 2, ``(N2, N2)``.
    scale : float
        ``σ1,1·σ2,1``, the largest singular value of the 2D kernel.
    map_shape : tuple of int
        ``(N1, N2)``.
    operator : CompressedOperator
        The kernel's compressed operator, which all the fields above come from.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> p = problem(cement_kernel())
    >>> p.K1p.shape, p.map_shape
    ((64, 64), (64, 64))
    """

    U1: np.ndarray
    U2: np.ndarray
    K1p: np.ndarray
    K2p: np.ndarray
    scale: float
    map_shape: tuple[int, int]
    operator: CompressedOperator
    _tensors: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rank(self) -> tuple[int, int]:
        """``(r1, r2)``: retained components per axis, at most ``(N1, N2)``."""
        return (min(self.U1.shape[1], self.map_shape[0]), min(self.U2.shape[1], self.map_shape[1]))

    def torch_operator(self, device: torch.device | str, dtype: torch.dtype) -> TorchOperator:
        """The operator's torch view on ``device`` in ``dtype`` (cached)."""
        key = ("operator", str(torch.device(device)), dtype)
        if key not in self._tensors:
            self._tensors[key] = self.operator.to_torch(device, dtype)
        return self._tensors[key]

    def tensors(self, device: torch.device | str, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        """``U1``, ``U2``, ``K1p``, ``K2p`` as tensors on ``device`` (cached)."""
        key = ("arrays", str(torch.device(device)), dtype)
        if key not in self._tensors:
            view = self.torch_operator(device, dtype)
            self._tensors[key] = {
                "U1": view.U1,
                "U2": view.U2,
                **{
                    name: torch.from_numpy(getattr(self, name)).to(device=device, dtype=dtype)
                    for name in ("K1p", "K2p")
                },
            }
        return self._tensors[key]

    def spectral(
        self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> SpectralOperator:
        """The operator's `SpectralOperator` on ``device`` (cached)."""
        key = ("spectral", str(torch.device(device)), dtype)
        if key not in self._tensors:
            # Form σ1²σ2² in float64 and round once: the float32 operator is then the one
            # the shipped weights were trained with, bit for bit.
            exact = SpectralOperator.from_operator(self.operator.to_torch(device, torch.float64))
            self._tensors[key] = SpectralOperator(
                V1=exact.V1.to(dtype), V2=exact.V2.to(dtype), s2=exact.s2.to(dtype)
            )
        return self._tensors[key]

    def cached(self, name: Any, build: Any) -> Any:
        """A derived quantity, computed once per problem by ``build()`` (``name``: any key)."""
        if name not in self._tensors:
            self._tensors[name] = build()
        return self._tensors[name]


def problem(kernel: Kernel2D, rtol: float = RTOL) -> DLEMLRProblem:
    """The kernel's `DLEMLRProblem` (cached with the kernel's compression).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance passed to `Kernel2D.compress`.

    Returns
    -------
    DLEMLRProblem

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> problem(k) is problem(k)
    True
    """
    op = kernel.compress(rtol)
    cache = op.__dict__.setdefault("_dlemlr_problem", {})
    if "problem" not in cache:
        K1p, K2p = op.padded()
        cache["problem"] = DLEMLRProblem(
            U1=op.U1,
            U2=op.U2,
            K1p=K1p,
            K2p=K2p,
            scale=float(op.s1[0] * op.s2[0]),
            map_shape=op.map_shape,
            operator=op,
        )
    return cache["problem"]

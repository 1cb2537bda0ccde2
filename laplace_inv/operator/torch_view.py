"""The compressed operator as torch tensors (torch is imported only here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from laplace_inv.operator.compressed import right_factor_first

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from laplace_inv.operator.compressed import CompressedOperator


@dataclass(frozen=True)
class TorchOperator:
    """The factors of a `CompressedOperator` as torch tensors on one device.

    Attributes
    ----------
    U1, U2 : torch.Tensor
        Left singular vectors, shapes ``(n1, r1)`` and ``(n2, r2)``.
    V1, V2 : torch.Tensor
        Right singular vectors as columns, shapes ``(N1, r1)`` and ``(N2, r2)``.
    s1, s2 : torch.Tensor
        Singular values, shapes ``(r1,)`` and ``(r2,)``.
    K1, K2 : torch.Tensor
        Compressed kernels ``diag(si) Viᵀ``, shapes ``(r1, N1)`` and ``(r2, N2)``.
    """

    U1: torch.Tensor
    U2: torch.Tensor
    V1: torch.Tensor
    V2: torch.Tensor
    s1: torch.Tensor
    s2: torch.Tensor
    K1: torch.Tensor
    K2: torch.Tensor

    @property
    def s2_products(self) -> torch.Tensor:
        """Squared singular-value products ``σ1,i²σ2,j²``, shape ``(r1, r2)``."""
        return (self.s1[:, None] * self.s2[None, :]) ** 2

    def project(self, S: torch.Tensor) -> torch.Tensor:
        """``U1ᵀ S U2`` for a dataset or a batch (the cheaper product first)."""
        (n1, r1), (n2, r2) = self.U1.shape, self.U2.shape
        if right_factor_first((n1, r1), (n2, r2)):
            return self.U1.T @ (S @ self.U2)
        return (self.U1.T @ S) @ self.U2

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        """``K̃1 F K̃2ᵀ`` for a map or a batch."""
        return self.K1 @ F @ self.K2.T

    def adjoint(self, S_c: torch.Tensor) -> torch.Tensor:
        """``K̃1ᵀ S̃ K̃2`` for compressed data."""
        return self.K1.T @ S_c @ self.K2


def torch_operator(op: CompressedOperator, device: Any = None, dtype: Any = None) -> TorchOperator:
    """Copy the factors of ``op`` to torch (default dtype float64, default device CPU).

    Examples
    --------
    >>> from laplace_inv.operator import CompressedOperator
    >>> op = CompressedOperator.from_matrices(np.eye(3), np.ones((1, 1)), 1e-8)
    >>> t = op.to_torch("cpu")
    >>> tuple(t.V1.shape), str(t.K1.dtype)
    ((3, 3), 'torch.float64')
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    return TorchOperator(
        U1=tensor(op.U1),
        U2=tensor(op.U2),
        V1=tensor(op.axis1.V),
        V2=tensor(op.axis2.V),
        s1=tensor(op.s1),
        s2=tensor(op.s2),
        K1=tensor(op.K1),
        K2=tensor(op.K2),
    )

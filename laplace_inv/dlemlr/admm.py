"""Batched non-negative Tikhonov by ADMM on the compressed problem (the DLEMLR physics input).

Solves, for a batch of compressed data ``S̃_b`` and per-sample weights ``α_b``,

    min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²

with the splitting ``F = Z`` (Boyd et al. 2011, §5.2; the same ADMM the GRIN toolbox uses):

    F ← (KᵀK + (α+ρ)I)⁻¹ (KᵀS̃ + ρ(Z − U))      (closed form, below)
    Z ← max(0, F̂ + U),  U ← U + F̂ − Z,          F̂ = γF + (1−γ)Z  (over-relaxation γ = 1.6)

The rows of ``K̃i = Σi Viᵀ`` are orthogonal (`laplace_inv.Kernel2D.compress`), so
``KᵀK = (V1Σ1²V1ᵀ) ⊗ (V2Σ2²V2ᵀ)`` and the F-update is two small products with ``V1``, ``V2``:
``(KᵀK + cI)⁻¹X = X/c + V1 [(1/(s² + c) − 1/c) ⊙ V1ᵀXV2] V2ᵀ`` with ``s² = σ1,i²σ2,j²``.
Each iteration costs a few ``N × r`` products whatever the conditioning, which first-order
methods on this problem cannot offer. The iterations are a fixed, deterministic
preprocessing; the network learns what they leave unconverged. ``ρ = ADMM_RHO·α`` was chosen
for convergence on measured data (``docs/design/dlemlr-training.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from laplace_inv.operator.compressed import right_factor_first

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.operator.torch_view import TorchOperator

#: ADMM penalty relative to the Tikhonov weight: ``ρ = ADMM_RHO·α``.
ADMM_RHO = 3000.0

#: Over-relaxation factor γ (1 is plain ADMM; 1.5-1.8 is the usual speed-up).
RELAXATION = 1.6

#: Most coefficient entries (iterations × maps × r1 × r2) formed at once by `admm_iterations`:
#: forming a block of iterations' coefficients in a few large operations instead of many
#: small ones saves a third of a single map's ADMM time, and the cap bounds the memory.
COEFFICIENT_BUDGET = 2**21

#: Map entries per group of maps iterated together on a CPU (the working set, a few maps'
#: worth of ``T`` and ``|T|`` in float32, then stays in a 1-2 MiB L2 cache): whole batches
#: spill to memory, and each element-wise pass then costs more than the products.
CACHE_BLOCK = 2**18


@dataclass(frozen=True)
class SpectralOperator:
    """The compressed 2D kernel in its SVD form, as torch tensors.

    Attributes
    ----------
    V1 : torch.Tensor
        Right singular vectors of axis 1, shape ``(N1, r1)``.
    V2 : torch.Tensor
        Right singular vectors of axis 2, shape ``(N2, r2)``.
    s2 : torch.Tensor
        Squared singular-value products ``σ1,i²σ2,j²``, shape ``(r1, r2)``.
    """

    V1: torch.Tensor
    V2: torch.Tensor
    s2: torch.Tensor

    @classmethod
    def from_operator(cls, op: TorchOperator) -> SpectralOperator:
        """The spectral form of a `CompressedOperator`'s torch view (no copy).

        Examples
        --------
        >>> from laplace_inv.simulate import cement_kernel
        >>> op = SpectralOperator.from_operator(cement_kernel().compress(1e-8).to_torch("cpu"))
        >>> op.V1.shape[0], op.V2.shape[0]
        (64, 64)
        """
        return cls(V1=op.V1, V2=op.V2, s2=op.s2_products)

    @property
    def rank(self) -> tuple[int, int]:
        """``(r1, r2)``."""
        return (self.V1.shape[1], self.V2.shape[1])

    def to_spectral(self, X: torch.Tensor) -> torch.Tensor:
        """``V1ᵀ X V2`` for a batch of maps ``(n, N1, N2)`` → ``(n, r1, r2)``."""
        # Multiply first by the factor of the smaller rank: fewer operations.
        if self.V2.shape[1] <= self.V1.shape[1]:
            return self.V1.T @ (X @ self.V2)
        return (self.V1.T @ X) @ self.V2

    def _v1_first(self, n1: int, n2: int) -> bool:
        """Whether ``V1ᵀ X V2`` costs less with ``V1`` applied first (``X`` is ``n1 × n2``)."""
        r1, r2 = self.rank
        return not right_factor_first((n1, r1), (n2, r2))

    def to_spectral_rows(self, X: torch.Tensor) -> torch.Tensor:
        """`to_spectral` for maps stored axis-1 first, ``(N1, n, N2)`` → ``(r1, n, r2)``.

        In this layout both products are single matrix products over the whole batch,
        which BLAS runs faster than batched products of one small map each.
        """
        N1, n, N2 = X.shape
        r1, r2 = self.rank
        if self._v1_first(N1, N2):
            left = self.V1.T @ X.reshape(N1, n * N2)
            return (left.view(r1 * n, N2) @ self.V2).view(r1, n, r2)
        right = X.reshape(N1 * n, N2) @ self.V2
        return (self.V1.T @ right.view(N1, n * r2)).view(r1, n, r2)

    def add_from_spectral_rows(self, C: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """``X += V1 C V2ᵀ`` in the layout of `to_spectral_rows` (``X`` contiguous)."""
        N1, n, N2 = X.shape
        r1, r2 = self.rank
        if self._v1_first(N1, N2):
            right = C.reshape(r1 * n, r2) @ self.V2.T
            X.view(N1, n * N2).addmm_(self.V1, right.view(r1, n * N2))
        else:
            left = self.V1 @ C.reshape(r1, n * r2)
            X.view(N1 * n, N2).addmm_(left.view(N1 * n, r2), self.V2.T)
        return X

    def from_spectral(self, C: torch.Tensor) -> torch.Tensor:
        """``V1 C V2ᵀ`` for a batch ``(n, r1, r2)`` → maps ``(n, N1, N2)``."""
        if self.V2.shape[1] <= self.V1.shape[1]:
            return (self.V1 @ C) @ self.V2.T
        return self.V1 @ (C @ self.V2.T)


def nonneg_tikhonov_admm(
    op: SpectralOperator,
    Sc: torch.Tensor,
    alpha: torch.Tensor,
    rho_factors: torch.Tensor,
    relaxation: float = RELAXATION,
) -> torch.Tensor:
    """Non-negative Tikhonov maps for a batch, by ADMM with a given penalty schedule.

    Parameters
    ----------
    op : SpectralOperator
        The compressed kernel (shared by the batch).
    Sc : torch.Tensor, shape (n, r1', r2')
        Compressed data ``U1ᵀ S U2``; entries beyond the operator's rank are ignored.
    alpha : torch.Tensor, shape (n,)
        Tikhonov weights (> 0), one per sample.
    rho_factors : torch.Tensor, shape (n_iter,) or (n_iter, n)
        ``ρ/α`` at each iteration (shared, or per sample). A constant schedule converges to
        the minimiser; a decreasing one reaches small-α detail sooner at fixed cost, ending
        nearer a less regularised solution (the scaled dual ``U`` is rescaled when ρ
        changes).
    relaxation : float
        Over-relaxation factor.

    Returns
    -------
    torch.Tensor, shape (n, N1, N2)
        Non-negative maps (the feasible iterate ``Z``).

    Examples
    --------
    >>> import numpy as np
    >>> from laplace_inv.simulate import cement_kernel
    >>> from laplace_inv.dlemlr.compressed import problem
    >>> prob = problem(cement_kernel())
    >>> K1, K2 = prob.K1p, prob.K2p
    >>> op = prob.spectral("cpu", torch.float64)
    >>> F = torch.zeros(1, 64, 64, dtype=torch.float64); F[0, 30, 30] = 1.0
    >>> Sc = torch.from_numpy(K1) @ F @ torch.from_numpy(K2).T
    >>> rho = torch.full((200,), ADMM_RHO, dtype=torch.float64)
    >>> Z = nonneg_tikhonov_admm(op, Sc, torch.tensor([1e-6], dtype=torch.float64), rho)
    >>> bool(Z.min() >= 0), int(Z[0].argmax()) == 30 * 64 + 30
    (True, True)
    """
    dtype = op.s2.dtype
    alpha = alpha.to(dtype)
    rho_factors = torch.as_tensor(rho_factors, dtype=dtype, device=Sc.device)
    if rho_factors.ndim == 1:
        rho_factors = rho_factors[:, None].expand(-1, Sc.shape[0])
    return admm_iterations(op, Sc, alpha, rho_factors * alpha[None, :], relaxation=relaxation)


def admm_iterations(
    op: SpectralOperator,
    Sc: torch.Tensor,
    alpha: torch.Tensor,
    rhos: torch.Tensor,
    relaxation: float = RELAXATION,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """ADMM for ``min_{F≥0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½α‖F‖²`` with absolute penalties ``rhos``.

    The iterates ``Z`` and ``U`` are carried as one variable ``T = Z + U``: after each step
    ``Z = max(T, 0)`` and ``U = min(T, 0)``, so ``Z − U = |T|`` and the whole iteration is

        T ← γ·P(|T|) + p·T + q·|T|,    p = 1 − γ/2,  q = γ(ρ/c − 1/2),  c = α + ρ,

    with ``P(X) = V1[g ⊙ V1ᵀXV2 + d]V2ᵀ`` the low-rank part of the F-update. That is two
    element-wise passes over the maps besides the products, against about ten for the
    textbook form, and the same iterates up to rounding.

    Parameters
    ----------
    op : SpectralOperator
        The compressed kernel.
    Sc : torch.Tensor, shape (n, r1', r2')
        Compressed data.
    alpha : torch.Tensor, shape (n,)
        Tikhonov weights (``≥ 0``).
    rhos : torch.Tensor, shape (n_iter, n)
        ADMM penalty ``ρ > 0`` of each iteration and sample.
    relaxation : float
        Over-relaxation factor.
    start : torch.Tensor, shape (n, N1, N2), optional
        First iterate (clipped at zero). Default: the clipped unconstrained solution at the
        first penalty.
    """
    if len(rhos) == 0:
        raise ValueError("ADMM needs at least one iteration")
    r1, r2 = op.rank
    dtype = op.s2.dtype
    Sc = Sc[:, :r1, :r2].to(dtype)
    a = alpha.to(dtype).reshape(-1, 1, 1)
    rhos = rhos.to(dtype)
    s_Sc = op.s2.sqrt() * Sc
    if start is not None:
        first_T = torch.clamp(start.to(dtype), min=0.0)
    else:  # the clipped unconstrained solution at the first penalty
        first_inverse = 1.0 / (op.s2 + (a + rhos[0].reshape(-1, 1, 1)))
        first_T = torch.clamp(op.from_spectral(s_Sc * first_inverse), min=0.0)
    # One host sync for the whole run: where the penalty changes, the scaled dual follows it.
    changes = [False, *(rhos[1:] != rhos[:-1]).any(dim=1).tolist()]
    n, N1, N2 = first_T.shape
    # On a CPU, maps go through in groups that stay in the cache; a GPU takes the batch whole.
    group = n if first_T.device.type != "cpu" else max(1, CACHE_BLOCK // (N1 * N2))
    parts = []
    for lo in range(0, n, group):
        part = slice(lo, lo + group)
        # Axis 1 first, (N1, maps, N2): every product is then one matrix product.
        T = first_T[part].transpose(0, 1).contiguous()
        rows = (s_Sc[part].transpose(0, 1), a[part].reshape(1, -1, 1), rhos[:, part])
        block = max(1, COEFFICIENT_BUDGET // max(1, rows[0].numel()))
        for first in range(0, len(rhos), block):
            coefficients = _iteration_coefficients(op, *rows, first, block, relaxation)
            for k, (gain, data_term, q, ratio) in enumerate(zip(*coefficients, strict=True)):
                if changes[first + k]:
                    T = rescale_dual(T, ratio)
                T = one_variable_step(op, T, (gain, data_term, q), relaxation)
        parts.append(T.clamp_(min=0.0).transpose(0, 1))
    return torch.cat(parts) if len(parts) > 1 else parts[0].contiguous()


def one_variable_step(
    op: SpectralOperator,
    T: torch.Tensor,
    coefficients: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    relaxation: float,
    prior: torch.Tensor | None = None,
) -> torch.Tensor:
    """One over-relaxed ADMM iteration on ``T = Z + U``, in place (see `admm_iterations`).

    ``T ← γ·P(|T|) + (1 − γ/2)·T + q·|T| (+ prior)`` with ``P(X) = V1[g ⊙ V1ᵀXV2 + d]V2ᵀ``;
    ``coefficients`` is ``(γg, γd, q)`` in the axis-1-first layout of
    `SpectralOperator.to_spectral_rows`, and ``prior`` a constant map term (the
    data-consistency step's ``γ(λ/c)F₀``) in the layout of ``T``.
    """
    gain, data_term, q = coefficients
    A = T.abs()
    low_rank = (gain * op.to_spectral_rows(A)).add_(data_term)
    T.mul_(1.0 - relaxation / 2).addcmul_(A, q)
    if prior is not None:
        T.add_(prior)
    return op.add_from_spectral_rows(low_rank, T)


def rescale_dual(T: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    """``U ← ratio·U`` for ``T = Z + U`` (``U = min(T, 0)``), in place: the scaled dual
    follows a change of the penalty, ``ratio = ρ_previous/ρ``."""
    return T.addcmul_(T.clamp(max=0.0), ratio - 1.0)


def _iteration_coefficients(
    op: SpectralOperator,
    s_Sc: torch.Tensor,
    a: torch.Tensor,
    rhos: torch.Tensor,
    first: int,
    block: int,
    relaxation: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The coefficients of iterations ``first … first + block − 1`` at once.

    ``s_Sc`` ``(r1, maps, r2)`` and ``a`` ``(1, maps, 1)`` come in the layout of the
    iterates; ``rhos`` is ``(n_iter, maps)``. Returns ``(gain, data_term, q, ratio)``, each
    indexed by iteration first, then in that layout: ``γρ(1/(s² + c) − 1/c)``,
    ``γs⊙S̃/(s² + c)``, ``γ(ρ/c − 1/2)`` and ``ρ_previous/ρ``, ``c = α + ρ``.
    """
    n = rhos.shape[1]
    rho = rhos[first : first + block].reshape(-1, 1, n, 1)
    previous = rhos[max(first - 1, 0) : first + len(rho) - 1].reshape(-1, 1, n, 1)
    if first == 0:
        previous = torch.cat([rho[:1], previous])
    c = a + rho
    s2 = op.s2[:, None, :]
    inverse = (s2 + c).reciprocal_()
    # ρ(1/(s² + c) − 1/c) = −ρs²/(c(s² + c)), without the cancellation.
    gain = (inverse * s2).mul_(-relaxation * rho / c)
    return gain, inverse.mul_(relaxation * s_Sc), relaxation * (rho / c - 0.5), previous / rho

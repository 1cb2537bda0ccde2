"""Data consistency for a batch of prior maps: fit the data to the noise, stay near the prior.

For each map of a batch, with compressed data ``S̃`` and a prior map ``F₀`` (the network's
output), solve

    min_{F ≥ 0} ½‖K̃1 F K̃2ᵀ − S̃‖² + ½λ‖F − F₀‖²

on a decreasing path of ``λ`` (warm-started), stopping each map at the first ``λ`` whose
in-range misfit ``‖K̃1 F K̃2ᵀ − S̃‖²`` reaches its discrepancy target (the data explained to
the noise level), or when the misfit stops falling (model error: the data cannot be fitted
further; a stage lowers it by less than a fraction, or optionally by less than the
fluctuation of χ² under the noise), or at an iteration cap. The largest such ``λ`` keeps the
map as close to ``F₀`` as the data allow: directions the data determine follow the data, the
others keep the prior.

Each ``λ`` is solved by ADMM with the splitting ``F = Z`` (``Z ≥ 0``). The rows of
``K̃i = diag(si) Viᵀ`` are orthogonal, so ``K̃ᵀK̃ = (V1 S1² V1ᵀ) ⊗ (V2 S2² V2ᵀ)`` and the
F-update ``(K̃ᵀK̃ + cI) F = K̃ᵀS̃ + λF₀ + ρ(Z − U)``, ``c = λ + ρ``, has the closed form

    F = X/c + V1 [(1/(s² + c) − 1/c) ⊙ V1ᵀ X V2 + s ⊙ S̃ / (s² + c)] V2ᵀ,   X = λF₀ + ρ(Z − U)

with ``s = σ1,i σ2,j``: two products with ``V1``, ``V2`` per iteration. The penalty
``ρ = √(λ·σ_max²)`` balances the smallest and largest eigenvalues of ``K̃ᵀK̃ + λI``; it is
floored at `RHO_FLOOR`·``σ_max²``, since a very small penalty makes the last stages of the
path, which see only a few iterations each, oscillate instead of converging.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from laplace_inv.dlemlr.admm import (
    RELAXATION,
    SpectralOperator,
    one_variable_step,
    rescale_dual,
)

#: Default first ``λ`` of the path, relative to ``σ_max²`` (the largest ``σ1,i²σ2,j²``).
LAMBDA_START = 1e-4

#: Default ratio between successive ``λ`` of the path.
LAMBDA_FACTOR = 5.0

#: Default smallest ``λ``, relative to ``σ_max²``.
LAMBDA_MIN = 1e-12

#: Default ADMM iterations per ``λ`` of the path.
STAGE_ITERATIONS = 15

#: Least ADMM penalty, relative to ``σ_max²``: below it, small-``λ`` stages barely move.
RHO_FLOOR = 1e-3

#: Why a map stopped: the prior already fitted its data, the target was reached, a stage
#: lowered the misfit by less than the stagnation fraction or significance (model error),
#: the iteration cap, or the end of the ``λ`` path.
STOP_REASONS = ("prior", "target", "stagnation", "cap", "lambda_min")

#: A stage that lowers the misfit by less than this fraction ends the path (model error).
STAGNATION = 0.05


@dataclass(frozen=True)
class ConsistencySettings:
    """The ``λ`` path and the stopping rules of `data_consistency`.

    Attributes
    ----------
    max_iter : int
        Cap on the ADMM iterations per map, over the whole path.
    lambda_start : float
        First ``λ``, relative to ``σ_max²``.
    lambda_factor : float
        Ratio between successive ``λ`` (> 1).
    lambda_min : float
        Smallest ``λ``, relative to ``σ_max²``.
    stage_iterations : int
        ADMM iterations per ``λ``.
    stagnation : float
        Relative misfit decrease below which a stage ends the path.
    significance : float
        Misfit decrease, in standard deviations of the in-range χ² (``√(2·r1·r2)·σ²``),
        below which a stage also ends the path (0: off); needs the noise level.
    """

    max_iter: int = 200
    lambda_start: float = LAMBDA_START
    lambda_factor: float = LAMBDA_FACTOR
    lambda_min: float = LAMBDA_MIN
    stage_iterations: int = STAGE_ITERATIONS
    stagnation: float = STAGNATION
    significance: float = 0.0


@dataclass(frozen=True)
class ConsistencyResult:
    """What `data_consistency` returns, per map of the batch.

    Attributes
    ----------
    maps : torch.Tensor, shape (n, N1, N2)
        Non-negative maps.
    lam : torch.Tensor, shape (n,)
        The ``λ`` each map ended at, relative to ``σ_max²`` (``inf``: the prior was kept).
    iterations : torch.Tensor, shape (n,)
        ADMM iterations spent on each map.
    misfit_before : torch.Tensor, shape (n,)
        In-range misfit ``‖K̃1 F₀ K̃2ᵀ − S̃‖²`` of the clipped prior.
    misfit_after : torch.Tensor, shape (n,)
        In-range misfit of the returned map.
    stop : list of str
        Why each map stopped: one of `STOP_REASONS`.
    """

    maps: torch.Tensor
    lam: torch.Tensor
    iterations: torch.Tensor
    misfit_before: torch.Tensor
    misfit_after: torch.Tensor
    stop: list[str]


def _misfit(op: SpectralOperator, s: torch.Tensor, F: torch.Tensor, Sc: torch.Tensor):
    """``‖s ⊙ V1ᵀ F V2 − S̃‖²`` per map."""
    return ((s * op.to_spectral(F) - Sc) ** 2).flatten(1).sum(dim=1)


def _stage(
    op: SpectralOperator,
    s: torch.Tensor,
    problem: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    T: torch.Tensor,
    lam: torch.Tensor,
    rho: torch.Tensor,
    n_iter: int,
) -> torch.Tensor:
    """``n_iter`` over-relaxed ADMM iterations at fixed ``λ``, ``ρ`` (shapes ``(1, 1, 1)``).

    ``problem`` is ``(S̃, V1ᵀF₀V2, F₀)``; ``T = Z + U`` carries the iterate and the scaled
    dual as in `laplace_inv.dlemlr.admm.admm_iterations` (``Z = max(T, 0)``,
    ``U = min(T, 0)``), so an iteration is ``T ← γP(|T|) + pT + q|T| + γ(λ/c)F₀``.
    """
    Sc, P0, F0 = problem
    c = lam + rho
    inv = 1.0 / (op.s2 + c)
    gain = inv - 1.0 / c
    # The parts of the F-update that stay fixed during the stage (λF₀ and the data), in the
    # axis-1-first layout of `SpectralOperator.to_spectral_rows`.
    fixed = (RELAXATION * (s * Sc * inv + lam * gain * P0)).transpose(0, 1).contiguous()
    gain = (RELAXATION * rho * gain)[0][:, None, :]
    prior = (RELAXATION * lam / c * F0).transpose(0, 1).contiguous()
    coefficients = (gain, fixed, RELAXATION * (rho / c - 0.5))
    T = T.transpose(0, 1).contiguous()
    for _ in range(n_iter):
        T = one_variable_step(op, T, coefficients, RELAXATION, prior)
    return T.transpose(0, 1).contiguous()


def data_consistency(
    op: SpectralOperator,
    Sc: torch.Tensor,
    F0: torch.Tensor,
    target: torch.Tensor,
    settings: ConsistencySettings | None = None,
    noise_var: torch.Tensor | None = None,
) -> ConsistencyResult:
    """Fit each map of a batch to its data down to ``target``, staying near its prior.

    Parameters
    ----------
    op : SpectralOperator
        The compressed kernel (shared by the batch); its dtype and device are the
        computation's.
    Sc : torch.Tensor, shape (n, r1', r2')
        Compressed data ``U1ᵀ S U2`` (entries beyond the operator's rank are ignored).
    F0 : torch.Tensor, shape (n, N1, N2)
        Prior maps (clipped at zero).
    target : torch.Tensor, shape (n,)
        In-range misfit ``‖K̃1 F K̃2ᵀ − S̃‖²`` to reach per map (the discrepancy target).
    settings : ConsistencySettings, optional
        Path and stopping rules.
    noise_var : torch.Tensor, shape (n,), optional
        Noise variance ``σ²`` per map, in the units of ``S̃``; needed when
        ``settings.significance`` is positive.

    Returns
    -------
    ConsistencyResult
        Maps, the ``λ`` reached, iterations, misfits before and after, stop reasons.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> from laplace_inv.dlemlr.compressed import problem
    >>> prob = problem(cement_kernel())
    >>> op = prob.spectral("cpu", torch.float64)
    >>> x = torch.arange(64, dtype=torch.float64)
    >>> def blob(c1, c2):
    ...     return torch.exp(-((x[:, None] - c1) ** 2 + (x[None, :] - c2) ** 2) / 8)[None]
    >>> K1, K2 = (torch.from_numpy(k) for k in (prob.K1p, prob.K2p))
    >>> Sc = K1 @ blob(30, 30) @ K2.T
    >>> out = data_consistency(op, Sc, blob(30, 31), torch.tensor([10.0], dtype=torch.float64))
    >>> out.stop, round(float(out.misfit_before[0])), bool(out.misfit_after[0] <= 10.0)
    (['target'], 2373, True)
    >>> bool(out.maps.min() >= 0)
    True
    """
    settings = ConsistencySettings() if settings is None else settings
    dtype, device = op.s2.dtype, op.s2.device
    r1, r2 = op.rank
    n = Sc.shape[0]
    # The smallest misfit decrease per stage that counts as progress, per map.
    least = torch.zeros(n, dtype=dtype, device=device)
    if settings.significance > 0:
        if noise_var is None:
            raise ValueError(
                "ConsistencySettings.significance needs the noise level: pass noise_var "
                "(σ² per map) or set significance=0"
            )
        chi2_sd = (2.0 * r1 * r2) ** 0.5 * noise_var.to(device=device, dtype=dtype)
        least = settings.significance * chi2_sd
    Sc = Sc[:, :r1, :r2].to(dtype)
    s = op.s2.sqrt()
    smax2 = op.s2.max()
    F0 = torch.clamp(F0.to(dtype), min=0.0)
    target = target.to(device=device, dtype=dtype)
    P0 = op.to_spectral(F0)
    before = ((s * P0 - Sc) ** 2).flatten(1).sum(dim=1)
    maps, misfit = F0.clone(), before.clone()
    lam_rel = torch.full((n,), float("inf"), dtype=dtype, device=device)
    iterations = torch.zeros(n, dtype=torch.long, device=device)
    # Stop codes: -1 running, else an index into STOP_REASONS.
    code = torch.where(before <= target, 0, -1).to(device=device, dtype=torch.long)
    T = F0.clone()  # Z + U (`_stage`); the first stage starts at Z = F₀, U = 0
    lam_k = float(settings.lambda_start)
    rho_prev = None
    while True:
        idx = torch.nonzero(code < 0).flatten()
        if idx.numel() == 0:
            break
        lam = (lam_k * smax2).reshape(1, 1, 1)
        rho = torch.sqrt(lam * smax2).clamp_min(RHO_FLOOR * smax2)
        Ti = T[idx]
        if rho_prev is not None:
            rescale_dual(Ti, rho_prev / rho)
        problem = (Sc[idx], P0[idx], F0[idx])
        Ti = _stage(op, s, problem, Ti, lam, rho, int(settings.stage_iterations))
        T[idx] = Ti
        Zi = Ti.clamp(min=0.0)
        rho_prev = rho
        iterations[idx] += int(settings.stage_iterations)
        new = _misfit(op, s, Zi, Sc[idx])
        best = misfit[idx]
        better = new < best
        maps[idx[better]] = Zi[better]
        misfit[idx[better]] = new[better]
        lam_rel[idx[better]] = lam_k
        # The first reason that applies wins, in the order of STOP_REASONS.
        last = lam_k / settings.lambda_factor < settings.lambda_min * (1.0 - 1e-9)
        reasons = (
            new <= target[idx],
            (new > (1.0 - settings.stagnation) * best) | (best - new < least[idx]),
            iterations[idx] >= int(settings.max_iter),
            torch.full_like(better, last),
        )
        stopped = torch.full_like(idx, -1)
        for k in reversed(range(len(reasons))):
            stopped = torch.where(reasons[k], k + 1, stopped)
        code[idx] = stopped
        lam_k /= settings.lambda_factor
    return ConsistencyResult(
        maps=maps,
        lam=lam_rel,
        iterations=iterations,
        misfit_before=before,
        misfit_after=misfit,
        stop=[STOP_REASONS[int(c)] for c in code.cpu()],
    )

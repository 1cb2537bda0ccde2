"""Acquisition-independent network input for DLEMLR, built on the output grid.

The published DLEMLR resamples the measured decay onto a fixed 100 × 100 image, which ties a
trained network to one acquisition layout. Here every quantity the network (and its physics
loss) sees lives on the ``N1 × N2`` *output* grid, computed from the SVD-compressed problem
``S̃ = U1ᵀ S U2``, ``K̃i = Σi Viᵀ`` of :meth:`laplace_inv.Kernel2D.compress`:

* ``nnt`` — non-negative Tikhonov maps ``argmin_{F≥0} ‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖²`` at
  noise-adapted weights ``α = c·σ̂²`` (a MAP estimate under a Gaussian prior of bin standard
  deviation ``1/√c`` on data normalised to ``max|S| = 1``), each from
  :data:`DEFAULT_N_ITER` batched ADMM iterations (:mod:`laplace_inv.dlemlr.admm`); see
  :data:`NNT_CHANNELS`. This is the paper's "kernel-integrated input": the decay integrated
  against every kernel column, made sharp by non-negativity. The channels trade resolution
  against stability: a lightly regularised one with a decreasing ADMM penalty (resolves
  peak pairs 0.3 decade apart, but splits broad peaks), a middle one (:data:`BASE_CHANNEL`)
  and a smooth one (the best mass fractions). The network's projector mixes them per pixel
  and adds a correction.
* ``bp`` — the back-projected data ``K̃1ᵀ S̃ K̃2 = K1ᵀ (U1U1ᵀ S U2U2ᵀ) K2`` divided by its
  maximum: the data seen through the kernels, before any inversion.
* ``scalars`` — ``log10 σ̂`` and ``log10 σ1,1σ2,1`` (centred): the noise level, estimated from
  the data outside the kernels' range (:func:`project_with_noise`), and the scale of the
  kernel; together they tell how many singular directions rise above the noise.
* ``gram1``, ``gram2`` — ``K̃1ᵀK̃1`` and ``K̃2ᵀK̃2`` divided by their maxima, as ``N1 × N2``
  images: how well the acquisition resolves each part of the grid (the point spread of the
  back-projection) and which kernel it is (IR, SR, CPMG, diffusion).

For the physics term of the loss the training set also carries the compressed kernels
zero-padded to square ``N1 × N1`` and ``N2 × N2`` blocks (rank ``ri ≤ Ni`` always holds):
``‖K̃1 f K̃2ᵀ − S̃‖`` equals the in-range part of the full residual ``‖K1 f K2ᵀ − S‖``, and
zero rows add nothing to it. None of it depends on ``n1`` or ``n2``, so one trained network
inverts any acquisition layout whose output grid has the trained size.

Data are expected normalised to ``max|S| = 1`` (as :class:`laplace_inv.base.BaseInverter`
hands them over), or raw with per-sample ``scales``.
"""

from __future__ import annotations

import numpy as np
import torch

from laplace_inv.dlemlr.admm import ADMM_RHO, SpectralOperator, nonneg_tikhonov_admm
from laplace_inv.kernels import Kernel2D

#: ADMM iterations of each non-negative Tikhonov channel.
DEFAULT_N_ITER = 50

#: The ``nnt`` channels: ``(c, ρ_first, ρ_last)`` with Tikhonov weight ``α = c·σ̂²`` and an
#: ADMM penalty ``ρ/α`` going geometrically from ``ρ_first`` to ``ρ_last``. The weights were
#: chosen on simulated pairs and random maps; the penalties (10× those of input version 2)
#: so that 50 iterations come close to the measured data too
#: (``benchmarks/bench_dlemlr_channels.py``, :mod:`laplace_inv.dlemlr.admm`).
NNT_CHANNELS: tuple[tuple[float, float, float], ...] = (
    (30.0, 1e5, 300.0),
    (300.0, ADMM_RHO, ADMM_RHO),
    (3000.0, ADMM_RHO, ADMM_RHO),
)

#: The Tikhonov weights ``c`` of the ``nnt`` channels (``α = c·σ̂²``).
NNT_SCALES: tuple[float, ...] = tuple(c for c, _, _ in NNT_CHANNELS)

#: Index (into :data:`NNT_SCALES`) of the channel the network's output is a correction of.
BASE_CHANNEL = 1

#: Least noise level (data normalised to ``max|S| = 1``): keeps ``α > 0`` on noise-free data.
NOISE_FLOOR = 1e-4

#: Noise level assumed when the data have no degrees of freedom outside the kernels' range.
FALLBACK_NOISE = 3e-3

#: Centring of the ``scalars`` input (``log10 σ̂``, ``log10 σ1,1σ2,1``).
SCALAR_OFFSETS = (-2.5, 2.0)

#: Per-sample image channels of the network input: the ``nnt`` maps and ``bp``.
N_DATA_CHANNELS = len(NNT_SCALES) + 1

#: Kernel-description channels (``gram1``, ``gram2``), shared by the samples of a layout.
N_KERNEL_CHANNELS = 2

#: Number of per-sample scalars.
N_SCALARS = 2


def padded_problem(kernel: Kernel2D, rtol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Compressed kernels zero-padded to ``(N1, N1)`` and ``(N2, N2)``.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance passed to :meth:`Kernel2D.compress`.

    Returns
    -------
    K1p, K2p : numpy.ndarray
        ``K̃i`` in the first ``ri`` rows, zeros below.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> K1p, K2p = padded_problem(cement_kernel())
    >>> K1p.shape, K2p.shape
    ((64, 64), (64, 64))
    """
    comp = kernel.compress(rtol)
    N1, N2 = kernel.map_shape
    K1p = np.zeros((N1, N1))
    K2p = np.zeros((N2, N2))
    r1 = min(comp.K1.shape[0], N1)
    r2 = min(comp.K2.shape[0], N2)
    K1p[:r1] = comp.K1[:r1]
    K2p[:r2] = comp.K2[:r2]
    return K1p, K2p


def project_with_noise(
    kernel: Kernel2D, S: np.ndarray, rtol: float = 1e-8, scales: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Compressed data ``U1ᵀ S U2`` zero-padded to ``(n, N1, N2)``, and the noise level.

    The noise standard deviation comes from the data outside the kernels' range
    (ALGORITHMS.md §1): ``σ̂² = (‖S‖² − ‖U1ᵀ S U2‖²) / (n1·n2 − r1·r2)``, floored at
    :data:`NOISE_FLOOR`; :data:`FALLBACK_NOISE` when ``n1·n2 = r1·r2``.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays.
    rtol : float
        Compression tolerance.
    scales : numpy.ndarray, shape (n,), optional
        Per-sample factors to divide by (usually ``max|S|``): the result equals
        ``project_with_noise(kernel, S / scales)``, and ``σ̂`` is in the scaled units.

    Returns
    -------
    Sp : numpy.ndarray, shape (n, N1, N2)
    sigma : numpy.ndarray, shape (n,)

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> S = 0.01 * np.random.default_rng(0).standard_normal((1, *k.data_shape))
    >>> Sp, sigma = project_with_noise(k, S)
    >>> Sp.shape, round(float(sigma[0]), 3)
    ((1, 64, 64), 0.01)
    """
    comp = kernel.compress(rtol)
    N1, N2 = kernel.map_shape
    S = np.asarray(S, dtype=float)
    n = S.shape[0]
    scales = np.ones(n) if scales is None else np.asarray(scales, dtype=float)
    # In torch, so that inference runs on one thread pool (numpy's BLAS threads competing
    # with torch's slow a 2-core machine down by half). The scaling comes first: squares of
    # raw data can under- or overflow.
    with torch.no_grad():
        St = torch.from_numpy(S) * torch.from_numpy(1.0 / scales)[:, None, None]
        Sc = torch.from_numpy(comp.U1.T) @ St @ torch.from_numpy(comp.U2)
        energy = (St.reshape(n, -1) ** 2).sum(dim=1) - (Sc.reshape(n, -1) ** 2).sum(dim=1)
    dof = S.shape[1] * S.shape[2] - Sc.shape[1] * Sc.shape[2]
    if dof > 0:
        sigma = np.maximum(np.sqrt(np.maximum(energy.numpy(), 0.0) / dof), NOISE_FLOOR)
    else:
        sigma = np.full(n, FALLBACK_NOISE)
    r1, r2 = min(Sc.shape[1], N1), min(Sc.shape[2], N2)
    out = np.zeros((n, N1, N2))
    out[:, :r1, :r2] = Sc[:, :r1, :r2].numpy()
    return out, sigma


def project_data(
    kernel: Kernel2D, S: np.ndarray, rtol: float = 1e-8, scales: np.ndarray | None = None
) -> np.ndarray:
    """Compressed data ``U1ᵀ S U2`` zero-padded to ``(n, N1, N2)`` (see
    :func:`project_with_noise`)."""
    return project_with_noise(kernel, S, rtol, scales)[0]


def spectral_operator(kernel: Kernel2D, rtol: float = 1e-8) -> SpectralOperator:
    """The kernel's :class:`~laplace_inv.dlemlr.admm.SpectralOperator` (cached per kernel)."""
    comp = kernel.compress(rtol)
    cache = comp.__dict__.setdefault("_dlemlr_spectral", {})
    if "op" not in cache:
        cache["op"] = SpectralOperator.from_padded(*padded_problem(kernel, rtol))
    return cache["op"]


def fista_nnls(
    K1p: torch.Tensor,
    K2p: torch.Tensor,
    Sp: torch.Tensor,
    n_iter: int,
    F0: torch.Tensor | None = None,
    momentum: bool = True,
) -> torch.Tensor:
    """Batched FISTA for ``min_{F≥0} ½‖K1p F K2pᵀ − Sp‖²`` (Gram form, step ``1/L``).

    Used by the test-time refinement with ``refine_penalty=0`` (plain projected gradient).

    Parameters
    ----------
    K1p, K2p : torch.Tensor
        Padded compressed kernels ``(N1, N1)``/``(N2, N2)``, shared by the batch.
    Sp : torch.Tensor, shape (n, N1, N2)
        Padded compressed data.
    n_iter : int
        Number of iterations (0 returns the start).
    F0 : torch.Tensor, optional
        Starting maps (default zeros).
    momentum : bool
        FISTA (True) or plain projected gradient (False, monotone: the objective never
        increases).

    Returns
    -------
    torch.Tensor, shape (n, N1, N2)

    Examples
    --------
    >>> K = torch.eye(3, dtype=torch.float64); S = torch.ones(1, 3, 3, dtype=torch.float64)
    >>> bool(torch.allclose(fista_nnls(K, K, S, 50), S))
    True
    """
    # Drop the zero padding: iterate in the factored form on the ``r1 × r2`` data.
    r1 = int((K1p.abs().sum(dim=1) > 0).sum().clamp_min(1))
    r2 = int((K2p.abs().sum(dim=1) > 0).sum().clamp_min(1))
    K1, K2, Sr = K1p[:r1], K2p[:r2], Sp[:, :r1, :r2]
    L = float((torch.linalg.matrix_norm(K1, ord=2) * torch.linalg.matrix_norm(K2, ord=2)) ** 2)
    L = max(L, 1e-30)
    F = torch.zeros(Sp.shape, dtype=Sp.dtype) if F0 is None else F0.to(Sp.dtype).clone()
    Y = F
    t = 1.0
    for _ in range(int(n_iter)):
        grad = K1.T @ (K1 @ Y @ K2.T - Sr) @ K2
        F_new = torch.clamp(Y - grad / L, min=0.0)
        t_new = (1.0 + float(np.sqrt(1.0 + 4.0 * t * t))) / 2.0
        Y = F_new + ((t - 1.0) / t_new) * (F_new - F) if momentum else F_new
        F, t = F_new, t_new
    return F


def nnt_maps(
    kernel: Kernel2D,
    Sp: np.ndarray,
    sigma: np.ndarray,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = 1e-8,
    channels: tuple[tuple[float, float, float], ...] = NNT_CHANNELS,
) -> np.ndarray:
    """The ``nnt`` channels: non-negative Tikhonov maps of :data:`NNT_CHANNELS`.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    Sp : numpy.ndarray, shape (n, N1, N2)
        Padded compressed data (:func:`project_with_noise`).
    sigma : numpy.ndarray, shape (n,)
        Noise levels of the (normalised) data.
    n_iter : int
        ADMM iterations (at least one is run).
    rtol : float
        Compression tolerance.
    channels : tuple of (c, ρ_first, ρ_last)
        The channels (default :data:`NNT_CHANNELS`, what the network is trained on; others
        serve diagnostics such as ``benchmarks/bench_dlemlr_channels.py``).

    Returns
    -------
    numpy.ndarray, shape (n, len(channels), N1, N2), float32
    """
    op = spectral_operator(kernel, rtol)
    n, N1, N2 = Sp.shape
    m = len(channels)
    with torch.no_grad():
        Sc = torch.from_numpy(np.ascontiguousarray(Sp, dtype=np.float32))
        # All weights in one batch (n·m maps): fewer, larger products.
        Sc = Sc[:, None].expand(n, m, N1, N2).reshape(n * m, N1, N2)
        alpha = (
            torch.from_numpy(np.asarray(sigma, dtype=np.float32))[:, None] ** 2
            * torch.tensor([c for c, _, _ in channels], dtype=torch.float32)[None]
        ).reshape(-1)
        schedule = torch.from_numpy(
            np.stack(
                [np.geomspace(first, last, max(int(n_iter), 1)) for _, first, last in channels],
                axis=1,
            ).astype(np.float32)
        )  # (n_iter, m)
        schedule = schedule[:, None, :].expand(-1, n, m).reshape(len(schedule), n * m)
        Z = nonneg_tikhonov_admm(op, Sc, alpha, schedule)
    return Z.reshape(n, m, N1, N2).numpy()


def kernel_channels(kernel: Kernel2D, rtol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """The Gram images ``gram1``, ``gram2`` as ``(N1, N2)`` float32 arrays."""
    K1p, K2p = padded_problem(kernel, rtol)
    N1, N2 = kernel.map_shape
    G1 = K1p.T @ K1p
    G2 = K2p.T @ K2p
    # gram1 needs N2 columns, gram2 needs N1 rows.
    g1 = _resize_square(G1 / np.abs(G1).max(), N1, N2)
    g2 = _resize_square(G2 / np.abs(G2).max(), N1, N2)
    return g1.astype(np.float32), g2.astype(np.float32)


def kernel_scale(kernel: Kernel2D, rtol: float = 1e-8) -> float:
    """``σ1,1·σ2,1``, the largest singular value of the 2D kernel."""
    comp = kernel.compress(rtol)
    return float(comp.s1[0] * comp.s2[0])


def compute_inputs(
    kernel: Kernel2D,
    S: np.ndarray,
    *,
    scales: np.ndarray | None = None,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = 1e-8,
) -> dict[str, np.ndarray]:
    """The network's input for a batch of decays of one acquisition (inference).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid is the network's grid.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays, each normalised to ``max|S| = 1`` (or raw, with ``scales``).
    scales : numpy.ndarray, shape (n,), optional
        Per-sample normalisation factors: the result equals
        ``compute_inputs(kernel, S / scales)``.
    n_iter : int
        ADMM iterations of the ``nnt`` channels.
    rtol : float
        Compression tolerance.

    Returns
    -------
    dict
        float32 arrays ``nnt`` ``(n, len(NNT_SCALES), N1, N2)``, ``bp`` ``(n, N1, N2)``,
        ``scalars`` ``(n, 2)``, and the kernel channels ``gram1``, ``gram2`` ``(1, N1, N2)``,
        shared by the batch; ``sigma`` ``(n,)`` is the estimated noise level.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> inputs = compute_inputs(k, np.ones((3, *k.data_shape)))
    >>> inputs["nnt"].shape, inputs["gram1"].shape, inputs["scalars"].shape
    ((3, 3, 64, 64), (1, 64, 64), (3, 2))
    """
    S = np.asarray(S, dtype=float)
    if S.ndim == 2:
        S = S[None]
    Sp, sigma = project_with_noise(kernel, S, rtol, scales)
    nnt = nnt_maps(kernel, Sp, sigma, n_iter, rtol)
    K1p, K2p = padded_problem(kernel, rtol)
    with torch.no_grad():
        sp = torch.from_numpy(Sp)
        bp = torch.from_numpy(K1p.T) @ sp @ torch.from_numpy(K2p)
        bp /= bp.abs().reshape(len(S), -1).amax(dim=1).clamp_min(1e-30)[:, None, None]
    g1, g2 = kernel_channels(kernel, rtol)
    scalars = np.stack(
        [
            np.log10(sigma) - SCALAR_OFFSETS[0],
            np.full(len(S), np.log10(kernel_scale(kernel, rtol)) - SCALAR_OFFSETS[1]),
        ],
        axis=1,
    )
    return {
        "nnt": nnt,
        "bp": bp.numpy().astype(np.float32),
        "scalars": scalars.astype(np.float32),
        "gram1": g1[None],
        "gram2": g2[None],
        "sigma": sigma,
    }


def _resize_square(G: np.ndarray, N1: int, N2: int) -> np.ndarray:
    """A square ``(N, N)`` Gram matrix as an ``(N1, N2)`` image (identity when sizes agree)."""
    if G.shape == (N1, N2):
        return G
    rows = np.linspace(0, G.shape[0] - 1, N1)
    cols = np.linspace(0, G.shape[1] - 1, N2)
    tmp = np.stack([np.interp(cols, np.arange(G.shape[1]), r) for r in G])
    return np.stack([np.interp(rows, np.arange(G.shape[0]), c) for c in tmp.T]).T

"""Acquisition-independent network input for DLEMLR, built on the output grid.

The published DLEMLR resamples the measured decay onto a fixed 100 × 100 image, which ties a
trained network to one acquisition layout. Here every quantity the network (and its physics
loss) sees lives on the ``N1 × N2`` *output* grid, computed from the SVD-compressed problem
``S̃ = U1ᵀ S U2``, ``K̃i = Σi Viᵀ`` of `laplace_inv.Kernel2D.compress`:

* ``nnt`` — non-negative Tikhonov maps ``argmin_{F≥0} ‖K̃1 F K̃2ᵀ − S̃‖² + α‖F‖²`` at
  noise-adapted weights ``α = c·σ̂²`` (a MAP estimate under a Gaussian prior of bin standard
  deviation ``1/√c`` on data normalised to ``max|S| = 1``), each from
  `DEFAULT_N_ITER` batched ADMM iterations (`laplace_inv.dlemlr.admm`); see
  `NNT_CHANNELS`. This is the paper's "kernel-integrated input": the decay integrated
  against every kernel column, made sharp by non-negativity. The channels trade resolution
  against stability: a lightly regularised one with a decreasing ADMM penalty (resolves
  peak pairs 0.3 decade apart, but splits broad peaks), a middle one (`BASE_CHANNEL`)
  and a smooth one (the best mass fractions). The network's projector mixes them per pixel
  and adds a correction.
* ``bp`` — the back-projected data ``K̃1ᵀ S̃ K̃2 = K1ᵀ (U1U1ᵀ S U2U2ᵀ) K2`` divided by its
  maximum: the data seen through the kernels, before any inversion.
* ``scalars`` — ``log10 σ̂`` and ``log10 σ1,1σ2,1`` (centred): the noise level, estimated from
  the data outside the kernels' range (`project_with_noise`), and the scale of the
  kernel; together they tell how many singular directions rise above the noise.
* ``gram1``, ``gram2`` — ``K̃1ᵀK̃1`` and ``K̃2ᵀK̃2`` divided by their maxima, as ``N1 × N2``
  images: how well the acquisition resolves each part of the grid (the point spread of the
  back-projection) and which kernel it is (IR, SR, CPMG, diffusion).

For the physics term of the loss the training set also carries the compressed kernels
zero-padded to square ``N1 × N1`` and ``N2 × N2`` blocks (rank ``ri ≤ Ni`` always holds):
``‖K̃1 f K̃2ᵀ − S̃‖`` equals the in-range part of the full residual ``‖K1 f K2ᵀ − S‖``, and
zero rows add nothing to it. None of it depends on ``n1`` or ``n2``, so one trained network
inverts any acquisition layout whose output grid has the trained size.

Data are expected normalised to ``max|S| = 1`` (as `laplace_inv.base.BaseInverter`
hands them over), or raw with per-sample ``scales``.
"""

from __future__ import annotations

import numpy as np
import torch

from laplace_inv.dlemlr.admm import ADMM_RHO, SpectralOperator, nonneg_tikhonov_admm
from laplace_inv.dlemlr.compressed import RTOL, DLEMLRProblem, problem
from laplace_inv.kernels import Kernel2D

#: ADMM iterations of each non-negative Tikhonov channel.
DEFAULT_N_ITER = 50

#: The ``nnt`` channels: ``(c, ρ_first, ρ_last)`` with Tikhonov weight ``α = c·σ̂²`` and an
#: ADMM penalty ``ρ/α`` going geometrically from ``ρ_first`` to ``ρ_last``. The weights were
#: chosen on simulated pairs and random maps; the penalties (10× those of input version 2)
#: so that 50 iterations come close to the measured data too
#: (``benchmarks/bench_dlemlr_channels.py``, `laplace_inv.dlemlr.admm`).
NNT_CHANNELS: tuple[tuple[float, float, float], ...] = (
    (30.0, 1e5, 300.0),
    (300.0, ADMM_RHO, ADMM_RHO),
    (3000.0, ADMM_RHO, ADMM_RHO),
)

#: The Tikhonov weights ``c`` of the ``nnt`` channels (``α = c·σ̂²``).
NNT_SCALES: tuple[float, ...] = tuple(c for c, _, _ in NNT_CHANNELS)

#: Index (into `NNT_SCALES`) of the channel the network's output is a correction of.
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


def padded_problem(kernel: Kernel2D, rtol: float = RTOL) -> tuple[np.ndarray, np.ndarray]:
    """Compressed kernels zero-padded to ``(N1, N1)`` and ``(N2, N2)``.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance passed to `Kernel2D.compress`.

    Returns
    -------
    K1p : numpy.ndarray
        ``K̃1`` in the first ``r1`` rows, zeros below.
    K2p : numpy.ndarray
        The same for axis 2.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> K1p, K2p = padded_problem(cement_kernel())
    >>> K1p.shape, K2p.shape
    ((64, 64), (64, 64))
    """
    prob = problem(kernel, rtol)
    return prob.K1p.copy(), prob.K2p.copy()


def project_tensor(
    prob: DLEMLRProblem, S: torch.Tensor, scales: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`project_with_noise` on tensors, on the device and in the dtype of ``S``.

    Parameters
    ----------
    prob : DLEMLRProblem
        The compressed acquisition (`laplace_inv.dlemlr.compressed.problem`).
    S : torch.Tensor, shape (n, n1, n2)
        Decays.
    scales : torch.Tensor, shape (n,), optional
        Per-sample factors to divide by.

    Returns
    -------
    Sp : torch.Tensor, shape (n, N1, N2)
        Padded compressed data.
    sigma : torch.Tensor, shape (n,)
        Noise level in the scaled units.
    """
    n = S.shape[0]
    view = prob.torch_operator(S.device, S.dtype)
    if scales is not None:
        scales = scales.to(device=S.device, dtype=S.dtype)
        inverse = 1.0 / scales
        # The scaling comes first: squares of raw data can under- or overflow. A reciprocal
        # of a subnormal scale overflows, so such batches divide instead.
        if bool(torch.isfinite(inverse).all()):
            S = S * inverse[:, None, None]
        else:
            S = S / scales[:, None, None]
    Sc = view.project(S)
    # The operator's out_of_range_energy ‖S‖² − ‖S̃‖², batched on tensors.
    energy = (S.reshape(n, -1) ** 2).sum(dim=1) - (Sc.reshape(n, -1) ** 2).sum(dim=1)
    dof = prob.operator.noise_dof
    if dof > 0:
        sigma = torch.sqrt(energy.clamp_min(0.0) / dof).clamp_min(NOISE_FLOOR)
    else:
        sigma = torch.full((n,), FALLBACK_NOISE, dtype=S.dtype, device=S.device)
    r1, r2 = prob.rank
    out = torch.zeros((n, *prob.map_shape), dtype=S.dtype, device=S.device)
    out[:, :r1, :r2] = Sc[:, :r1, :r2]
    return out, sigma


def project_with_noise(
    kernel: Kernel2D, S: np.ndarray, rtol: float = RTOL, scales: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Compressed data ``U1ᵀ S U2`` zero-padded to ``(n, N1, N2)``, and the noise level.

    The noise standard deviation comes from the data outside the kernels' range:
    ``σ̂² = (‖S‖² − ‖U1ᵀ S U2‖²) / (n1·n2 − r1·r2)``, floored at `NOISE_FLOOR`;
    `FALLBACK_NOISE` when ``n1·n2 = r1·r2``.

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
        Padded compressed data.
    sigma : numpy.ndarray, shape (n,)
        Noise level.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> S = 0.01 * np.random.default_rng(0).standard_normal((1, *k.data_shape))
    >>> Sp, sigma = project_with_noise(k, S)
    >>> Sp.shape, round(float(sigma[0]), 3)
    ((1, 64, 64), 0.01)
    """
    S = np.asarray(S, dtype=float)
    with torch.no_grad():
        # In torch, so that inference runs on one thread pool (numpy's BLAS threads
        # competing with torch's slow a 2-core machine down by half).
        Sp, sigma = project_tensor(
            problem(kernel, rtol),
            torch.from_numpy(S),
            None if scales is None else torch.from_numpy(np.asarray(scales, dtype=float)),
        )
    return Sp.numpy(), sigma.numpy()


def project_data(
    kernel: Kernel2D, S: np.ndarray, rtol: float = RTOL, scales: np.ndarray | None = None
) -> np.ndarray:
    """Compressed data ``U1ᵀ S U2`` zero-padded to ``(n, N1, N2)``.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays.
    rtol : float
        Compression tolerance.
    scales : numpy.ndarray, shape (n,), optional
        Per-sample factors to divide by.

    Returns
    -------
    numpy.ndarray, shape (n, N1, N2)
        See `project_with_noise`.
    """
    return project_with_noise(kernel, S, rtol, scales)[0]


def spectral_operator(kernel: Kernel2D, rtol: float = RTOL) -> SpectralOperator:
    """The kernel's float32 `SpectralOperator` on the CPU (cached per kernel).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance.

    Returns
    -------
    SpectralOperator
    """
    return problem(kernel, rtol).spectral("cpu")


def nnt_maps(
    kernel: Kernel2D,
    Sp: np.ndarray,
    sigma: np.ndarray,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = RTOL,
    channels: tuple[tuple[float, float, float], ...] = NNT_CHANNELS,
) -> np.ndarray:
    """The ``nnt`` channels: non-negative Tikhonov maps of `NNT_CHANNELS`.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    Sp : numpy.ndarray, shape (n, N1, N2)
        Padded compressed data (`project_with_noise`).
    sigma : numpy.ndarray, shape (n,)
        Noise levels of the (normalised) data.
    n_iter : int
        ADMM iterations (at least one is run).
    rtol : float
        Compression tolerance.
    channels : tuple of (c, ρ_first, ρ_last)
        The channels (default `NNT_CHANNELS`, what the network is trained on; others
        serve diagnostics such as ``benchmarks/bench_dlemlr_channels.py``).

    Returns
    -------
    numpy.ndarray, shape (n, len(channels), N1, N2), float32
        The maps.
    """
    with torch.no_grad():
        Z = nnt_tensor(
            problem(kernel, rtol),
            torch.from_numpy(np.asarray(Sp, dtype=float)),
            torch.from_numpy(np.asarray(sigma, dtype=float)),
            n_iter,
            channels,
        )
    return Z.numpy()


def nnt_tensor(
    prob: DLEMLRProblem,
    Sp: torch.Tensor,
    sigma: torch.Tensor,
    n_iter: int = DEFAULT_N_ITER,
    channels: tuple[tuple[float, float, float], ...] = NNT_CHANNELS,
) -> torch.Tensor:
    """`nnt_maps` on tensors, on the device of ``Sp`` (float32 result).

    Parameters
    ----------
    prob : DLEMLRProblem
        The compressed acquisition.
    Sp : torch.Tensor, shape (n, N1, N2)
        Padded compressed data.
    sigma : torch.Tensor, shape (n,)
        Noise levels.
    n_iter : int
        ADMM iterations.
    channels : tuple of (c, ρ_first, ρ_last)
        The channels.

    Returns
    -------
    torch.Tensor, shape (n, len(channels), N1, N2)
        The maps.
    """
    dev = Sp.device
    op = prob.spectral(dev)
    n, N1, N2 = Sp.shape
    m = len(channels)
    Sc = Sp.to(torch.float32)
    # All weights in one batch (n·m maps): fewer, larger products.
    Sc = Sc[:, None].expand(n, m, N1, N2).reshape(n * m, N1, N2)
    weights = torch.tensor([c for c, _, _ in channels], dtype=torch.float32, device=dev)
    alpha = (sigma.to(torch.float32)[:, None] ** 2 * weights[None]).reshape(-1)
    schedule = torch.from_numpy(
        np.stack(
            [np.geomspace(first, last, max(int(n_iter), 1)) for _, first, last in channels],
            axis=1,
        ).astype(np.float32)
    ).to(dev)  # (n_iter, m)
    schedule = schedule[:, None, :].expand(-1, n, m).reshape(len(schedule), n * m)
    Z = nonneg_tikhonov_admm(op, Sc, alpha, schedule)
    return Z.reshape(n, m, N1, N2)


def kernel_channels(kernel: Kernel2D, rtol: float = RTOL) -> tuple[np.ndarray, np.ndarray]:
    """The Gram images ``gram1``, ``gram2`` as ``(N1, N2)`` float32 arrays.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance.

    Returns
    -------
    gram1 : numpy.ndarray
        ``K̃1ᵀK̃1`` over its maximum, resized to ``(N1, N2)``.
    gram2 : numpy.ndarray
        ``K̃2ᵀK̃2`` over its maximum, resized to ``(N1, N2)``.
    """
    g1, g2 = _gram_images(problem(kernel, rtol))
    return g1.copy(), g2.copy()


def _gram_images(prob: DLEMLRProblem) -> tuple[np.ndarray, np.ndarray]:
    def build() -> tuple[np.ndarray, np.ndarray]:
        N1, N2 = prob.map_shape
        G1 = prob.K1p.T @ prob.K1p
        G2 = prob.K2p.T @ prob.K2p
        # gram1 needs N2 columns, gram2 needs N1 rows.
        g1 = _resize_square(G1 / np.abs(G1).max(), N1, N2)
        g2 = _resize_square(G2 / np.abs(G2).max(), N1, N2)
        return g1.astype(np.float32), g2.astype(np.float32)

    return prob.cached("gram_images", build)


def kernel_scale(kernel: Kernel2D, rtol: float = RTOL) -> float:
    """``σ1,1·σ2,1``, the largest singular value of the 2D kernel.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    rtol : float
        Compression tolerance.

    Returns
    -------
    float
        The scale.
    """
    return problem(kernel, rtol).scale


def input_tensors(
    prob: DLEMLRProblem,
    S: torch.Tensor,
    scales: torch.Tensor | None = None,
    n_iter: int = DEFAULT_N_ITER,
) -> dict[str, torch.Tensor]:
    """`compute_inputs` on tensors: everything on the device of ``S``.

    Parameters
    ----------
    prob : DLEMLRProblem
        The compressed acquisition.
    S : torch.Tensor, shape (n, n1, n2), float64
        Decays.
    scales : torch.Tensor, shape (n,), optional
        Per-sample normalisation factors.
    n_iter : int
        ADMM iterations of the ``nnt`` channels.

    Returns
    -------
    dict of torch.Tensor
        As `compute_inputs`, with ``Sp`` (the padded compressed data, float64) added.
    """
    dev = S.device
    n = S.shape[0]
    Sp, sigma = project_tensor(prob, S, scales)
    nnt = nnt_tensor(prob, Sp, sigma, n_iter)
    ops = prob.tensors(dev, Sp.dtype)
    bp = ops["K1p"].T @ Sp @ ops["K2p"]
    bp = bp / bp.abs().reshape(n, -1).amax(dim=1).clamp_min(1e-30)[:, None, None]
    g1, g2 = _gram_images(prob)
    log_scale = float(np.log10(prob.scale)) - SCALAR_OFFSETS[1]
    scalars = torch.stack(
        [torch.log10(sigma) - SCALAR_OFFSETS[0], torch.full_like(sigma, log_scale)], dim=1
    )
    return {
        "nnt": nnt,
        "bp": bp.to(torch.float32),
        "scalars": scalars.to(torch.float32),
        "gram1": torch.from_numpy(g1[None]).to(dev),
        "gram2": torch.from_numpy(g2[None]).to(dev),
        "sigma": sigma,
        "Sp": Sp,
    }


def compute_inputs(
    kernel: Kernel2D,
    S: np.ndarray,
    *,
    scales: np.ndarray | None = None,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = RTOL,
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
    with torch.no_grad():
        out = input_tensors(
            problem(kernel, rtol),
            torch.from_numpy(S),
            None if scales is None else torch.from_numpy(np.asarray(scales, dtype=float)),
            n_iter,
        )
    del out["Sp"]
    return {k: v.numpy() for k, v in out.items()}


def _resize_square(G: np.ndarray, N1: int, N2: int) -> np.ndarray:
    """A square ``(N, N)`` Gram matrix as an ``(N1, N2)`` image (identity when sizes agree)."""
    if G.shape == (N1, N2):
        return G
    rows = np.linspace(0, G.shape[0] - 1, N1)
    cols = np.linspace(0, G.shape[1] - 1, N2)
    tmp = np.stack([np.interp(cols, np.arange(G.shape[1]), r) for r in G])
    return np.stack([np.interp(rows, np.arange(G.shape[0]), c) for c in tmp.T]).T

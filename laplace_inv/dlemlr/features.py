"""Acquisition-independent network input for DLEMLR, built on the output grid.

The published DLEMLR resamples the measured decay onto a fixed 100 × 100 image, which ties a
trained network to one acquisition layout. Here every quantity the network (and its physics
loss) sees lives on the ``N1 × N2`` *output* grid, computed from the SVD-compressed problem
``S̃ = U1ᵀ S U2``, ``K̃i = Σi Viᵀ`` of :meth:`laplace_inv.Kernel2D.compress`:

* ``bp`` — the back-projected data ``K̃1ᵀ S̃ K̃2 = K1ᵀ (U1U1ᵀ S U2U2ᵀ) K2`` divided by its
  maximum. This is the "kernel-integrated" input of the paper: the data integrated against
  every kernel column, whatever the number or spacing of acquisition points.
* ``tik`` — closed-form, SVD-filtered (unconstrained) Tikhonov solutions at a few
  regularisation strengths (:data:`TIKHONOV_ALPHAS`, :func:`tikhonov_maps`): a cheap
  multi-scale view of what the data determine.
* ``phys`` — an unrolled physics estimate: ``n_iter`` batched FISTA steps of non-negative
  least squares ``min_{F≥0} ‖K̃1 F K̃2ᵀ − S̃‖²`` started from the clipped Tikhonov channel
  (``α = TIKHONOV_ALPHAS[WARM_START_ALPHA]``), in the Gram form of ALGORITHMS.md §1.
  A fixed, small number of steps is cheap (milliseconds), deterministic, and already places
  the well-determined mass; the network learns the correction (sharpening, de-blurring of the
  ill-determined directions), and its output is a residual on top of this channel.
* ``gram1``, ``gram2`` — ``K̃1ᵀK̃1`` and ``K̃2ᵀK̃2`` divided by their maxima, as
  ``N1 × N2`` images (rows of ``gram1`` along axis 1, columns of ``gram2`` along axis 2). They
  tell the network how well the acquisition resolves each part of the grid (the point-spread
  of the back-projection) and which kernel it is (IR, SR, CPMG, diffusion), which differs
  between layouts and families. :func:`compute_inputs` (inference) returns them once for the
  batch; :func:`compute_features` (training, where batches mix layouts) once per sample.

For the physics term of the loss the features also carry the compressed kernels and data
zero-padded to square ``N1 × N1`` and ``N2 × N2`` blocks (rank ``ri ≤ Ni`` always holds):
``‖K̃1 f K̃2ᵀ − S̃‖`` equals the in-range part of the full residual ``‖K1 f K2ᵀ − S‖``, and
zero rows add nothing to it. All of it is independent of ``n1`` and ``n2``, so one trained
network per experiment family inverts any acquisition layout whose output grid has the trained
size.

Data are expected normalised to ``max|S| = 1`` (as :class:`laplace_inv.base.BaseInverter`
hands them over).
"""

from __future__ import annotations

import numpy as np
import torch

from laplace_inv.kernels import Kernel2D

#: Number of FISTA steps of the physics channel (warm-started from a Tikhonov solution).
DEFAULT_N_ITER = 16

#: Regularisation strengths of the closed-form Tikhonov channels, relative to the largest
#: squared singular value ``(σ1,max·σ2,max)²`` of the compressed 2D kernel.
TIKHONOV_ALPHAS: tuple[float, ...] = (1e-2, 1e-3, 1e-4, 1e-5)

#: Index (into :data:`TIKHONOV_ALPHAS`) of the Tikhonov solution that starts the FISTA steps.
WARM_START_ALPHA = 2

#: Feature keys that the network consumes, in channel order (``tik`` holds
#: ``len(TIKHONOV_ALPHAS)`` channels).
CHANNELS: tuple[str, ...] = ("phys", "bp", "gram1", "gram2", "tik")

#: Number of per-sample image channels of the network input (``phys``, ``bp``, ``tik``).
N_DATA_CHANNELS = 2 + len(TIKHONOV_ALPHAS)

#: Number of kernel-description channels (``gram1``, ``gram2``), shared by all samples of
#: one acquisition.
N_KERNEL_CHANNELS = 2


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


def project_data(kernel: Kernel2D, S: np.ndarray, rtol: float = 1e-8,
                 scales: np.ndarray | None = None) -> np.ndarray:
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
        Per-sample factors to divide by, applied to the (small) projected data rather than to
        ``S``: the result equals ``project_data(kernel, S / scales)``.
    """
    comp = kernel.compress(rtol)
    N1, N2 = kernel.map_shape
    S = np.asarray(S, dtype=float)
    # In torch, so that inference runs on one thread pool (numpy's BLAS threads competing
    # with torch's slow a 2-core machine down by half).
    with torch.no_grad():
        Sc = sandwich(torch.from_numpy(comp.U1.T), torch.from_numpy(S),
                      torch.from_numpy(comp.U2.T))
        if scales is not None:
            Sc = Sc / torch.from_numpy(np.asarray(scales, dtype=float))[:, None, None]
    r1, r2 = min(Sc.shape[1], N1), min(Sc.shape[2], N2)
    out = np.zeros((Sc.shape[0], N1, N2))
    out[:, :r1, :r2] = Sc[:, :r1, :r2].numpy()
    return out


def sandwich(A: torch.Tensor, Y: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``A @ Y @ Bᵀ`` for a batch ``Y`` (n, p, q) and shared ``A`` (a, p), ``B`` (b, q).

    Two large matrix products instead of ``2n`` small ones (about twice as fast on a CPU).

    Examples
    --------
    >>> A, Y, B = torch.rand(3, 4), torch.rand(5, 4, 6), torch.rand(2, 6)
    >>> bool(torch.allclose(sandwich(A, Y, B), A @ Y @ B.T, atol=1e-5))
    True
    """
    n, p, q = Y.shape
    a, b = A.shape[0], B.shape[0]
    Z = (Y.reshape(n * p, q) @ B.T).reshape(n, p, b).transpose(0, 1).reshape(p, n * b)
    return (A @ Z).reshape(a, n, b).transpose(0, 1)


def fista_nnls(
    K1p: torch.Tensor, K2p: torch.Tensor, Sp: torch.Tensor, n_iter: int = DEFAULT_N_ITER,
    F0: torch.Tensor | None = None, momentum: bool = True,
) -> torch.Tensor:
    """Batched FISTA for ``min_{F≥0} ½‖K1p F K2pᵀ − Sp‖²`` (Gram form, step ``1/L``).

    Parameters
    ----------
    K1p, K2p : torch.Tensor
        Padded compressed kernels, ``(N1, N1)``/``(N2, N2)`` shared by the batch, or
        ``(n, N1, N1)``/``(n, N2, N2)`` per sample.
    Sp : torch.Tensor, shape (n, N1, N2)
        Padded compressed data.
    n_iter : int
        Number of iterations (0 returns the start).
    F0 : torch.Tensor, optional
        Starting maps (default zeros).
    momentum : bool
        FISTA (True) or plain projected gradient (False, monotone: the objective never
        increases, used by the test-time refinement).

    Returns
    -------
    torch.Tensor, shape (n, N1, N2)
    """
    if K1p.ndim == 2 and K2p.ndim == 2:
        # Shared kernels: drop the zero padding and iterate in the factored form, which is
        # cheaper than the Gram form when the ranks are well below the grid sizes.
        r1 = int((K1p.abs().sum(dim=1) > 0).sum().clamp_min(1))
        r2 = int((K2p.abs().sum(dim=1) > 0).sum().clamp_min(1))
        K1p, K2p, Sp_r = K1p[:r1], K2p[:r2], Sp[:, :r1, :r2]
    else:
        Sp_r = Sp
    L1 = torch.linalg.matrix_norm(K1p, ord=2) ** 2
    L2 = torch.linalg.matrix_norm(K2p, ord=2) ** 2
    L = (L1 * L2).clamp_min(1e-30)
    if L.ndim:
        L = L[:, None, None]
    K1t, K2t = K1p.transpose(-1, -2), K2p.transpose(-1, -2)
    shared = K1p.ndim == 2 and K2p.ndim == 2
    F = torch.zeros(Sp.shape, dtype=Sp.dtype) if F0 is None else F0.to(Sp.dtype).clone()
    Y = F
    t = 1.0
    for _ in range(int(n_iter)):
        if shared:
            grad = sandwich(K1t, sandwich(K1p, Y, K2p) - Sp_r, K2t)
        else:
            grad = K1t @ (K1p @ Y @ K2t - Sp_r) @ K2p
        F_new = torch.clamp(Y - grad / L, min=0.0)
        t_new = (1.0 + float(np.sqrt(1.0 + 4.0 * t * t))) / 2.0
        Y = F_new + ((t - 1.0) / t_new) * (F_new - F) if momentum else F_new
        F, t = F_new, t_new
    return F


def tikhonov_maps(
    K1p: np.ndarray, K2p: np.ndarray, Sp: np.ndarray,
    alphas: tuple[float, ...] = TIKHONOV_ALPHAS,
) -> np.ndarray:
    """Closed-form, unconstrained Tikhonov solutions on the compressed problem.

    The rows of the compressed kernels ``K̃i = Σi Viᵀ`` (:meth:`Kernel2D.compress`) are
    orthogonal, so ``σi`` are their row norms and ``Viᵀ = Σi⁻¹ K̃i`` — no factorisation needed.
    ``F_α = V1 [(σ1iσ2j / (σ1i²σ2j² + α)) ⊙ S̃] V2ᵀ`` for each ``α = a·(σ1,max σ2,max)²``:
    two small matrix products per ``α`` on the ``r1 × r2`` compressed data, independent of
    the acquisition layout (everything lives on the output grid).

    Parameters
    ----------
    K1p, K2p : numpy.ndarray
        Padded compressed kernels (:func:`padded_problem`; rows orthogonal).
    Sp : numpy.ndarray, shape (n, N1, N2)
        Padded compressed data (:func:`project_data`).
    alphas : tuple of float
        Relative regularisation strengths.

    Returns
    -------
    numpy.ndarray, shape (n, len(alphas), N1, N2), float32

    Examples
    --------
    >>> K = np.eye(3); S = np.ones((1, 3, 3))
    >>> tikhonov_maps(K, K, S, (1e-2,)).shape
    (1, 1, 3, 3)
    """
    s1 = np.linalg.norm(K1p, axis=1)
    s2 = np.linalg.norm(K2p, axis=1)
    r1 = max(int((s1 > 0).sum()), 1)
    r2 = max(int((s2 > 0).sum()), 1)
    s1, s2 = s1[:r1], s2[:r2]
    V1t = K1p[:r1] / np.maximum(s1, 1e-300)[:, None]
    V2t = K2p[:r2] / np.maximum(s2, 1e-300)[:, None]
    ss = np.outer(s1, s2)
    smax2 = max(float(ss.max()) ** 2, 1e-300)
    with torch.no_grad():
        C = torch.from_numpy(np.ascontiguousarray(np.asarray(Sp)[:, :r1, :r2], np.float32))
        V1 = torch.from_numpy(np.ascontiguousarray(V1t.T, np.float32))
        V2 = torch.from_numpy(np.ascontiguousarray(V2t.T, np.float32))
        out = []
        for a in alphas:
            filt = torch.from_numpy((ss / (ss**2 + a * smax2)).astype(np.float32))
            out.append(sandwich(V1, C * filt, V2))
        return torch.stack(out, dim=1).numpy()


def compute_inputs(
    kernel: Kernel2D, S: np.ndarray, *, scales: np.ndarray | None = None,
    n_iter: int = DEFAULT_N_ITER, rtol: float = 1e-8,
) -> dict[str, np.ndarray]:
    """The network's image channels for a batch of normalised decays (inference input).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid is the network's grid.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays, each normalised to ``max|S| = 1`` (or raw, with ``scales``).
    scales : numpy.ndarray, shape (n,), optional
        Per-sample normalisation factors, applied to the (small) projected data rather than
        to ``S``: the result equals ``compute_inputs(kernel, S / scales)``.
    n_iter : int
        FISTA steps of the ``phys`` channel.
    rtol : float
        Compression tolerance.

    Returns
    -------
    dict
        float32 arrays ``phys``, ``bp`` ``(n, N1, N2)``, ``tik``
        ``(n, len(TIKHONOV_ALPHAS), N1, N2)`` and the kernel channels ``gram1``, ``gram2``
        ``(1, N1, N2)``, shared by the batch.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> inputs = compute_inputs(k, np.ones((3, *k.data_shape)))
    >>> inputs["phys"].shape, inputs["gram1"].shape
    ((3, 64, 64), (1, 64, 64))
    """
    S = np.asarray(S, dtype=float)
    if S.ndim == 2:
        S = S[None]
    K1p, K2p = padded_problem(kernel, rtol)
    Sp = project_data(kernel, S, rtol, scales)
    return _inputs_from_projected(K1p, K2p, Sp, n_iter)


def _inputs_from_projected(K1p: np.ndarray, K2p: np.ndarray, Sp: np.ndarray, n_iter: int
                           ) -> dict[str, np.ndarray]:
    n, N1, N2 = Sp.shape
    tik = tikhonov_maps(K1p, K2p, Sp)
    with torch.no_grad():
        k1 = torch.from_numpy(K1p).float()
        k2 = torch.from_numpy(K2p).float()
        sp = torch.from_numpy(Sp).float()
        F0 = torch.from_numpy(np.clip(tik[:, WARM_START_ALPHA], 0.0, None))
        phys = fista_nnls(k1, k2, sp, n_iter, F0=F0).numpy()
        bp = sandwich(k1.T, sp, k2.T)
        bp /= bp.abs().reshape(n, -1).amax(dim=1).clamp_min(1e-30)[:, None, None]
    G1 = K1p.T @ K1p
    G2 = K2p.T @ K2p
    # The Gram matrices as images: gram1 needs N2 columns, gram2 needs N1 rows.
    g1 = _resize_square(G1 / np.abs(G1).max(), N1, N2)
    g2 = _resize_square(G2 / np.abs(G2).max(), N1, N2)
    f32 = np.float32
    return {
        "phys": phys.astype(f32, copy=False),
        "bp": bp.numpy().astype(f32, copy=False),
        "tik": tik.astype(f32, copy=False),
        "gram1": g1.astype(f32)[None],
        "gram2": g2.astype(f32)[None],
    }


def compute_features(
    kernel: Kernel2D,
    S: np.ndarray,
    *,
    S_target: np.ndarray | None = None,
    F_target: np.ndarray | None = None,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = 1e-8,
) -> dict[str, np.ndarray]:
    """Network input and physics-loss operands for a batch of normalised decays (training).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid is the network's grid.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays, each normalised to ``max|S| = 1``.
    S_target : numpy.ndarray, shape (n, n1, n2), optional
        Decays the physics loss compares against (e.g. the noise-free data during
        training). Defaults to ``S``.
    F_target : numpy.ndarray, shape (n, N1, N2), optional
        True maps (normalised like ``S``); when given, the physics target is their noise-free
        decay ``K̃1 F K̃2ᵀ`` (overrides ``S_target``).
    n_iter : int
        FISTA steps of the ``phys`` channel.
    rtol : float
        Compression tolerance.

    Returns
    -------
    dict
        float32 arrays: the channels of :func:`compute_inputs` with ``gram1``/``gram2``
        repeated per sample (training batches mix layouts), ``K1`` ``(n, N1, N1)``, ``K2``
        ``(n, N2, N2)``, ``S`` ``(n, N1, N2)`` (padded compressed target data) and ``npts``
        ``(n,)`` (``n1·n2``, to average the physics term per data point).

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel, make_training_set
    >>> k = cement_kernel()
    >>> X, Y, _ = make_training_set(k, 2, random_state=0)
    >>> S = X.reshape(2, *k.data_shape)
    >>> feats = compute_features(k, S / np.abs(S).max(axis=(1, 2), keepdims=True))
    >>> feats["phys"].shape, feats["gram1"].shape, feats["K1"].shape
    ((2, 64, 64), (2, 64, 64), (2, 64, 64))
    """
    S = np.asarray(S, dtype=float)
    if S.ndim == 2:
        S = S[None]
    n = S.shape[0]
    N1, N2 = kernel.map_shape
    K1p, K2p = padded_problem(kernel, rtol)
    Sp = project_data(kernel, S, rtol)
    if F_target is not None:
        St = K1p @ np.asarray(F_target, dtype=float).reshape(n, N1, N2) @ K2p.T
    elif S_target is not None:
        St = project_data(kernel, np.asarray(S_target, dtype=float), rtol)
    else:
        St = Sp
    feats = _inputs_from_projected(K1p, K2p, Sp, n_iter)
    f32 = np.float32
    for key in ("gram1", "gram2"):
        feats[key] = np.broadcast_to(feats[key], (n, N1, N2)).copy()
    feats.update(
        K1=np.broadcast_to(K1p.astype(f32), (n, N1, N1)).copy(),
        K2=np.broadcast_to(K2p.astype(f32), (n, N2, N2)).copy(),
        S=St.astype(f32),
        npts=np.full(n, float(S.shape[1] * S.shape[2]), dtype=f32),
    )
    return feats


def _resize_square(G: np.ndarray, N1: int, N2: int) -> np.ndarray:
    """A square ``(N, N)`` Gram matrix as an ``(N1, N2)`` image (identity when sizes agree)."""
    if G.shape == (N1, N2):
        return G
    rows = np.linspace(0, G.shape[0] - 1, N1)
    cols = np.linspace(0, G.shape[1] - 1, N2)
    tmp = np.stack([np.interp(cols, np.arange(G.shape[1]), r) for r in G])
    return np.stack([np.interp(rows, np.arange(G.shape[0]), c) for c in tmp.T]).T

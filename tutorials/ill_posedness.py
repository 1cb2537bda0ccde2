"""Tutorial 1: why inverting a 2D Laplace transform is ill-posed.

Shows, for an inversion-recovery CPMG (T1_IR-T2) acquisition:

1. the singular values of ``K1``, ``K2`` and of their Kronecker product ``K1 ⊗ K2``
   (``ill_posedness_singular_values.png``);
2. a discrete Picard plot of simulated data: the data coefficients ``|u_kᵀ s|`` fall to the
   noise floor long before the singular values ``σ_k`` do, so ``|u_kᵀ s| / σ_k`` explodes
   (``ill_posedness_picard.png``);
3. the naive least-squares solution ``F = K1⁺ S (K2⁺)ᵀ`` for two data sets that differ by noise
   ``δ`` with ``‖δ‖ = 1e-3·‖S‖``: the map changes by many orders of magnitude more than the
   true map's size (``ill_posedness_naive_ls.png``), while a truncated SVD keeps the change small
   (``ill_posedness_tsvd.png``).

Run ``python tutorials/ill_posedness.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import numpy as np
from _common import parse_args, save, t1t2_kernel
from matplotlib.figure import Figure

from laplace_inv.simulate import Peak, simulate_decay


def kronecker_singular_values(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Singular values of ``K1 ⊗ K2``: all products ``σ1_i·σ2_j``, sorted decreasingly."""
    return np.sort(np.outer(s1, s2).ravel())[::-1]


def naive_least_squares(
    K1: np.ndarray, K2: np.ndarray, S: np.ndarray, rcond: float = 1e-15
) -> np.ndarray:
    """Minimum-norm least squares ``K1⁺ S (K2⁺)ᵀ`` (the pseudo-inverse of ``K1 ⊗ K2``)."""
    return np.linalg.pinv(K1, rcond=rcond) @ S @ np.linalg.pinv(K2, rcond=rcond).T


def tsvd_solution(U1, s1, V1t, U2, s2, V2t, S: np.ndarray, k: int) -> np.ndarray:
    """Truncated-SVD solution keeping the ``k`` largest products ``σ1_i·σ2_j``."""
    C = U1.T @ S @ U2
    sig = np.outer(s1, s2)
    keep = np.zeros(sig.shape, dtype=bool)
    keep.ravel()[np.argsort(sig.ravel())[::-1][:k]] = True
    coef = np.where(keep, C / sig, 0.0)
    return V1t.T @ coef @ V2t


def main(argv: list[str] | None = None) -> dict:
    """Run the tutorial; return the headline numbers."""
    args = parse_args(__doc__.splitlines()[0], argv)
    kernel = t1t2_kernel(args.quick)
    K1, K2 = kernel.K1, kernel.K2
    U1, s1, V1t = np.linalg.svd(K1, full_matrices=False)
    U2, s2, V2t = np.linalg.svd(K2, full_matrices=False)
    s12 = kronecker_singular_values(s1, s2)

    # --- 1. singular values -------------------------------------------------------------
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    ax.semilogy(np.arange(1, s1.size + 1), s1 / s1[0], "o-", ms=3, label=r"$K_1$ (T1_IR)")
    ax.semilogy(np.arange(1, s2.size + 1), s2 / s2[0], "s-", ms=3, label=r"$K_2$ (T2)")
    ax.semilogy(np.arange(1, s12.size + 1), s12 / s12[0], "-", lw=1.5, label=r"$K_1 \otimes K_2$")
    ax.axhline(np.finfo(float).eps, color="grey", ls=":", lw=1)
    ax.text(1, np.finfo(float).eps * 3, "machine precision", color="grey", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("index $k$")
    ax.set_ylabel(r"$\sigma_k / \sigma_1$")
    ax.set_title(f"Singular values: data {kernel.data_shape}, grid {kernel.map_shape}")
    ax.legend()
    save(fig, args.out, "ill_posedness_singular_values.png")

    # --- simulated data -----------------------------------------------------------------
    peaks = [
        Peak((np.log10(0.3), np.log10(0.04)), (0.08, 0.08), 0.6, 0.2),
        Peak((np.log10(0.1), np.log10(0.004)), (0.08, 0.08), 0.4, 0.0),
    ]
    clean, truth = simulate_decay(kernel, peaks, oversample=4)
    rng = np.random.default_rng(args.seed)
    snr = 1000.0
    sigma = np.abs(clean).max() / snr
    S = clean + sigma * rng.standard_normal(clean.shape)

    # --- 2. Picard plot -----------------------------------------------------------------
    C = U1.T @ S @ U2
    C_clean = U1.T @ clean @ U2
    sig = np.outer(s1, s2).ravel()
    order = np.argsort(sig)[::-1]
    k = np.arange(1, sig.size + 1)
    fig = Figure(figsize=(7.5, 4.0))
    ax = fig.add_subplot()
    ax.semilogy(k, sig[order], "k-", lw=1.5, label=r"$\sigma_k$")
    ax.semilogy(
        k, np.abs(C.ravel()[order]), ".", ms=2, alpha=0.6, label=r"$|u_k^T s|$ (noisy data)"
    )
    ax.semilogy(
        k, np.abs(C_clean.ravel()[order]), ".", ms=2, alpha=0.6, label=r"$|u_k^T s|$ (noise-free)"
    )
    ratio = np.abs(C.ravel()[order]) / sig[order]
    ax.semilogy(k, ratio, ".", ms=2, alpha=0.6, label=r"$|u_k^T s| / \sigma_k$ (noisy)")
    ax.axhline(sigma, color="C3", ls="--", lw=1, label=rf"noise $\sigma$ = {sigma:.1e}")
    ax.set_xscale("log")
    ax.set_ylim(1e-20, 1e20)
    ax.set_xlabel(r"index $k$ (pairs sorted by $\sigma_{1,i}\sigma_{2,j}$)")
    ax.set_title(f"Discrete Picard plot, SNR {snr:g}")
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    save(fig, args.out, "ill_posedness_picard.png")
    n_above = int(np.sum(np.abs(C_clean) > sigma))

    # --- 3. naive least squares under a 1e-3 noise change ---------------------------------
    delta = rng.standard_normal(clean.shape)
    delta *= 1e-3 * np.linalg.norm(S) / np.linalg.norm(delta)  # ‖δ‖ = 1e-3·‖S‖
    F_a = naive_least_squares(K1, K2, S)
    F_b = naive_least_squares(K1, K2, S + delta)
    data_change = float(np.linalg.norm(delta) / np.linalg.norm(S))
    map_change = float(np.linalg.norm(F_b - F_a) / np.linalg.norm(truth))
    fig = Figure(figsize=(11, 3.4))
    axes = fig.subplots(1, 3)
    extent = [
        np.log10(kernel.grid2[0] * 1e3),
        np.log10(kernel.grid2[-1] * 1e3),
        np.log10(kernel.grid1[0] * 1e3),
        np.log10(kernel.grid1[-1] * 1e3),
    ]
    panels = [
        ("true map F", truth),
        ("naive least squares from S", F_a),
        (r"its change $\Delta F$ when S → S + $\delta$", F_b - F_a),
    ]
    for ax, (title, F) in zip(axes, panels, strict=True):
        lim = float(np.abs(F).max())
        im = ax.imshow(
            F, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r", vmin=-lim, vmax=lim
        )
        fig.colorbar(im, ax=ax, format="%.0e" if lim > 1e3 else None)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(r"log$_{10}$ T2 / ms")
    axes[0].set_ylabel(r"log$_{10}$ T1 / ms")
    fig.suptitle(
        rf"$\|\delta\|/\|S\|$ = {data_change:.0e} moves the least-squares map by "
        rf"$\|\Delta F\|/\|F\|$ = {map_change:.1e}",
        fontsize=11,
    )
    fig.subplots_adjust(top=0.8, wspace=0.35)
    save(fig, args.out, "ill_posedness_naive_ls.png")

    # --- TSVD: how many singular pairs the data support -----------------------------------
    ks = np.unique(np.geomspace(1, sig.size, 30 if args.quick else 60).astype(int))
    err, change = [], []  # both relative to the true map
    for kk in ks:
        Fa = tsvd_solution(U1, s1, V1t, U2, s2, V2t, S, int(kk))
        Fb = tsvd_solution(U1, s1, V1t, U2, s2, V2t, S + delta, int(kk))
        err.append(np.linalg.norm(Fa - truth) / np.linalg.norm(truth))
        change.append(np.linalg.norm(Fb - Fa) / np.linalg.norm(truth))
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    ax.loglog(ks, err, "o-", ms=3, label="error vs true map")
    ax.loglog(ks, change, "s-", ms=3, label=r"change under the $10^{-3}$ perturbation")
    ax.axvline(n_above, color="grey", ls=":", lw=1)
    ax.text(
        n_above,
        0.55,
        f" {n_above} coefficients\n above the noise",
        fontsize=8,
        color="grey",
        transform=ax.get_xaxis_transform(),
    )
    ax.set_xlabel("singular pairs kept (truncated SVD)")
    ax.set_ylabel("relative norm")
    ax.set_title("Truncation trades resolution for stability")
    ax.legend(fontsize=8)
    save(fig, args.out, "ill_posedness_tsvd.png")

    cond = float(s12[0] / s12[-1])
    print(f"condition number of K1 ⊗ K2: {cond:.2e}")
    print(f"pairs above the noise: {n_above} of {sig.size}")
    print(f"data change {data_change:.2e} -> naive LS map change {map_change:.3g} x |F|")
    return {
        "condition": cond,
        "data_change": data_change,
        "map_change": map_change,
        "n_above_noise": n_above,
    }


if __name__ == "__main__":
    main()

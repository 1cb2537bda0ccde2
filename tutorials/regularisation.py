"""Tutorial 2: regularisation — sweeping α for global Tikhonov, the L-curve and GCV.

On simulated cheese-like T1-T2 data (``laplace_inv.simulate.cheese_like``),
``TikhonovInverter(penalty="global")`` walks a decreasing α path and records, for every α,
the misfit ``‖K̃F − S̃‖²``, the solution norm ``‖F‖``, the degrees of freedom and the GCV value
(``info["alpha_path"]``, ``"misfit_path"``, ``"norm_path"``, ``"dof_path"``, ``"gcv"``). This
script draws

1. the L-curve with the α chosen by GCV, by the L-curve corner and by the discrepancy
   principle marked (``regularisation_lcurve.png``);
2. the GCV curve with its minimum (``regularisation_gcv.png``);
3. the maps at three α: 1000× the GCV choice (over-smoothed), the GCV choice and 1/1000 of it
   (under-smoothed) (``regularisation_maps.png``).

α refers to data scaled to ``max|S| = 1`` (the inverters normalise every dataset).

Run ``python tutorials/regularisation.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import warnings

import numpy as np
from _common import parse_args, save, t1t2_kernel
from matplotlib.figure import Figure

from laplace_inv import TikhonovInverter
from laplace_inv.plotting import plot_comparison
from laplace_inv.simulate import cheese_like


def _interp_path(alpha: float, path_alpha: np.ndarray, values: np.ndarray) -> float:
    """Interpolate a path quantity at ``alpha`` in log-log coordinates."""
    order = np.argsort(path_alpha)
    return float(
        10
        ** np.interp(
            np.log10(alpha),
            np.log10(path_alpha[order]),
            np.log10(np.maximum(values[order], 1e-300)),
        )
    )


def main(argv: list[str] | None = None) -> dict:
    """Run the tutorial; return the α chosen by each rule."""
    args = parse_args(__doc__.splitlines()[0], argv)
    kernel = t1t2_kernel(args.quick)
    sc = cheese_like(kernel, snr=100.0, random_state=args.seed)
    n_alpha = 10 if args.quick else 25
    L = kernel.compress().lipschitz
    alpha_grid = L * np.logspace(-1, -12, n_alpha)

    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes at extreme α
        for rule in ("gcv", "lcurve", "discrepancy"):
            est = TikhonovInverter(kernel, penalty="global", alpha=rule, alpha_grid=alpha_grid)
            results[rule] = est.invert(sc.data, noise_std=sc.noise_std)
    info = results["gcv"].info
    a_path = info["alpha_path"]
    misfit = np.sqrt(info["misfit_path"])
    norm = info["norm_path"]
    chosen = {rule: float(res.info["alpha"]) for rule, res in results.items()}
    styles = {
        "gcv": ("C3", "o", "GCV"),
        "lcurve": ("C2", "s", "L-curve corner"),
        "discrepancy": ("C1", "D", "discrepancy"),
    }

    # --- 1. L-curve -----------------------------------------------------------------------
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.add_subplot()
    ax.loglog(misfit, norm, "k.-", lw=1)
    for a, r, n in zip(a_path[::3], misfit[::3], norm[::3], strict=True):
        ax.annotate(
            f"{a:.0e}", (r, n), fontsize=7, color="grey", xytext=(4, 2), textcoords="offset points"
        )
    for rule, a in chosen.items():
        colour, marker, label = styles[rule]
        ax.loglog(
            _interp_path(a, a_path, misfit),
            _interp_path(a, a_path, norm),
            marker,
            color=colour,
            ms=9,
            mfc="none",
            mew=2,
            label=f"{label}: α = {a:.2g}",
        )
    ax.set_xlabel(r"residual norm $\|\tilde K F - \tilde S\|$ (normalised data)")
    ax.set_ylabel(r"solution norm $\|F\|$")
    ax.set_title("L-curve of global Tikhonov (labels: α)")
    ax.legend(fontsize=8)
    save(fig, args.out, "regularisation_lcurve.png")

    # --- 2. GCV curve ---------------------------------------------------------------------
    gcv = info["gcv"]
    fig = Figure(figsize=(11, 3.8))
    ax, ax_excess = fig.subplots(1, 2)
    ax.loglog(a_path, gcv, "k.-", lw=1, label="GCV(α)")
    ax2 = ax.twinx()
    ax2.semilogx(a_path, info["dof_path"], color="C0", lw=1, ls="--")
    ax2.set_ylabel("degrees of freedom (dashed)", color="C0")
    excess = np.maximum(gcv / gcv.min() - 1.0, 1e-9)
    ax_excess.loglog(a_path, excess, "k.-", lw=1)
    for rule, a in chosen.items():
        colour, _, label = styles[rule]
        for axis in (ax, ax_excess):
            axis.axvline(a, color=colour, lw=1.5, label=f"{label}: α = {a:.2g}")
    ax.set_xlabel("α")
    ax.set_ylabel(r"$G(\alpha) = n\|r\|^2/(n - \mathrm{dof})^2$")
    ax.set_title("Generalised cross-validation")
    ax.legend(fontsize=8, loc="upper left")
    ax_excess.set_xlabel("α")
    ax_excess.set_ylabel(r"$G(\alpha)/\min G - 1$")
    ax_excess.set_title("The same, relative to its minimum")
    fig.subplots_adjust(wspace=0.45)
    save(fig, args.out, "regularisation_gcv.png")

    # --- 3. maps at three α -----------------------------------------------------------------
    a_gcv = chosen["gcv"]
    maps = []
    for factor, label in ((1e3, "over-smoothed"), (1.0, "GCV"), (1e-3, "under-smoothed")):
        a = a_gcv * factor
        # A cold start at small α needs more Newton steps than the warm-started path.
        est = TikhonovInverter(kernel, penalty="global", alpha=a, max_iter=2000)
        res = est.invert(sc.data)
        maps.append((f"α = {a:.1e} ({label})", res.map))
        print(
            f"alpha {a:.2e} ({label}): residual/noise "
            f"{np.sqrt(np.mean(res.residual**2)) / sc.noise_std:.3f}, "
            f"{len(res.peaks(min_fraction=0.03))} peaks"
        )
    fig = plot_comparison(
        maps, kernel.grid1, kernel.grid2, kernel.kinds, truth=sc.truth, panel_size=3.6
    )
    save(fig, args.out, "regularisation_maps.png")

    for rule, a in chosen.items():
        print(f"{rule:12s} alpha = {a:.3e}")
    return chosen


if __name__ == "__main__":
    main()

"""Tutorial 3: UPEN vs global Tikhonov vs L1 vs DLEMLR on the same data, with residuals.

Every method is built with `laplace_inv.methods.make_inverter` (default settings, as a
user would call it) and inverts the same simulated cheese-like T1-T2 data set (three
components: water, protein-bound water and fat). A method that cannot run here (for example
DLEMLR without its weights) is skipped, and the figure says why.

Figures: ``method_comparison_maps.png`` (maps with projections, the truth as red contours)
and ``method_comparison_residuals.png`` (``(S − K1 F K2ᵀ)/σ`` for each method; a good fit
leaves structureless noise of unit variance).

Full size uses the cement IR-CPMG layout (48 × 1000 points, 64 × 64 grid); ``--quick`` a
12 × 150 acquisition on a 20 × 20 grid and caps UPEN's outer iterations.

Run ``python tutorials/method_comparison.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _common import METHOD_LABELS, build_methods, parse_args, save, skipped_note, t1t2_kernel
from matplotlib.figure import Figure

from laplace_inv.plotting import plot_comparison
from laplace_inv.simulate import cement_kernel, cheese_like


def run_methods(kernel, data: np.ndarray, noise_std: float, quick: bool):
    """Invert ``data`` with every method; return ``(results, skipped)``.

    ``results`` is a list of ``(name, InversionResult, seconds)``; ``skipped`` maps the
    names of methods that could not run to the reason.
    """
    estimators, skipped = build_methods(kernel, quick)
    results = []
    for name, est in estimators.items():
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = est.invert(data, noise_std=noise_std)
        except Exception as exc:
            skipped[name] = f"failed: {str(exc).splitlines()[0]}"
            print(f"{name}: {skipped[name]}")
            continue
        elapsed = time.perf_counter() - t0
        results.append((name, res, elapsed))
        print(
            f"{name:9s} residual/noise {res.residual_to_noise:.3f}  "
            f"{len(res.peaks(min_fraction=0.03))} peaks  {took(elapsed)}"
        )
    return results, skipped


def took(seconds: float) -> str:
    """A duration for titles: ms below a second ("0.0 s" would read as free)."""
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def main(argv: list[str] | None = None) -> dict:
    """Run the tutorial; return residual/noise per method (None for skipped ones)."""
    args = parse_args(__doc__.splitlines()[0], argv)
    kernel = t1t2_kernel(True) if args.quick else cement_kernel()
    sc = cheese_like(kernel, snr=300.0, random_state=args.seed)
    results, skipped = run_methods(kernel, sc.data, sc.noise_std, args.quick)
    note = skipped_note(skipped)

    if results:
        maps = [(f"{METHOD_LABELS[n]} ({took(t)})", r.map) for n, r, t in results]
        fig = plot_comparison(
            maps, kernel.grid1, kernel.grid2, kernel.kinds, truth=sc.truth, panel_size=3.6
        )
    else:
        fig = Figure(figsize=(6, 2))
    if note:
        fig.text(0.01, -0.02, note, fontsize=8, color="C3", va="top")
    save(fig, args.out, "method_comparison_maps.png")

    n = max(len(results), 1)
    fig = Figure(figsize=(3.6 * n, 3.4))
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (name, res, _) in zip(axes, results, strict=False):
        z = res.residual / sc.noise_std
        im = ax.imshow(
            z,
            aspect="auto",
            origin="lower",
            cmap="RdBu_r",
            vmin=-4,
            vmax=4,
            interpolation="nearest",
        )
        ax.set_title(
            f"{METHOD_LABELS[name]}\nrms residual/σ = {res.residual_to_noise:.3f}", fontsize=9
        )
        ax.set_xlabel("echo index (T2 axis)")
        ax.set_ylabel("inversion delay index (T1 axis)")
        fig.colorbar(im, ax=ax, label="(S − fit)/σ")
    if note:
        fig.text(0.01, -0.04, note, fontsize=8, color="C3", va="top")
    fig.subplots_adjust(wspace=0.5)
    save(fig, args.out, "method_comparison_residuals.png")
    out = {n: r.residual_to_noise for n, r, _ in results}
    out.update(dict.fromkeys(skipped))
    return out


if __name__ == "__main__":
    main()

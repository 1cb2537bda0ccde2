"""Tutorial 4: resolution vs SNR — what each method can separate.

Two equal Gaussian peaks (σ = 0.04 decade) are placed a given number of decades apart along
T2 (:func:`laplace_inv.simulate.resolution_pair`) and simulated at several SNRs. Each
method inverts every case and :func:`laplace_inv.metrics.resolved` decides whether the map
shows two peaks at the right places with a dip between them. The "truth" column applies the
same test to the true map on the output grid: it is the best any method can do on that grid.

Figures: ``resolution_snr_grid.png`` (resolved or not, separation × SNR, one panel per method)
and ``resolution_snr_projections.png`` (T2 projections at the smallest separation, lowest and
highest SNR).

Full size: cement IR-CPMG layout (48 × 1000, 64 × 64 grid), separations 0.2–0.8 decade and
SNR 30–3000. ``--quick``: a 12 × 150 acquisition on a 20 × 20 grid, two separations, two SNRs.

Run ``python tutorials/resolution_snr.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import warnings

import numpy as np
from _common import METHOD_LABELS, build_methods, parse_args, save, skipped_note, t1t2_kernel
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from laplace_inv.metrics import resolved
from laplace_inv.simulate import cement_kernel, resolution_pair


def main(argv: list[str] | None = None) -> dict:
    """Run the tutorial; return ``{method: boolean array (separation, SNR)}``."""
    args = parse_args(__doc__.splitlines()[0], argv)
    if args.quick:
        kernel = t1t2_kernel(True)
        separations, snrs = [0.4, 1.0], [100.0, 3000.0]
    else:
        kernel = cement_kernel()
        separations, snrs = [0.2, 0.3, 0.4, 0.6, 0.8], [30.0, 100.0, 1000.0, 3000.0]
    estimators, skipped = build_methods(kernel, args.quick)
    names = ["truth", *estimators]
    table = {name: np.zeros((len(separations), len(snrs)), dtype=bool) for name in names}
    examples: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for i, sep in enumerate(separations):
        for j, snr in enumerate(snrs):
            sc = resolution_pair(
                sep, "T2", snr=snr, kernel=kernel, random_state=args.seed + 100 * i + j
            )
            centres = [p.center for p in sc.peaks]
            maps = {"truth": sc.truth}
            for name, est in estimators.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    maps[name] = est.invert(sc.data, noise_std=sc.noise_std).map
            for name, F in maps.items():
                table[name][i, j] = resolved(F, kernel.grid1, kernel.grid2, centres)
            if i == 0 and j in (0, len(snrs) - 1):
                examples[(i, j)] = maps
            row = "  ".join(f"{n}={'Y' if table[n][i, j] else '.'}" for n in names)
            print(f"separation {sep:.2f} dec, SNR {snr:6.0f}: {row}")

    # --- resolved / not resolved grid ---------------------------------------------------
    fig = Figure(figsize=(2.6 * len(names) + 0.5, 2.9))
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    cmap = ListedColormap(["#e9c4c4", "#7bbf7b"])
    for ax, name in zip(axes, names, strict=True):
        ax.imshow(
            table[name].astype(float), origin="lower", cmap=cmap, vmin=0, vmax=1, aspect="auto"
        )
        for (a, b), ok in np.ndenumerate(table[name]):
            ax.text(b, a, "✓" if ok else "×", ha="center", va="center", fontsize=10)
        ax.set_xticks(range(len(snrs)), [f"{s:g}" for s in snrs])
        ax.set_xlabel("SNR")
        ax.set_title("truth (grid limit)" if name == "truth" else METHOD_LABELS[name], fontsize=9)
    axes[0].set_yticks(range(len(separations)), [f"{s:g}" for s in separations])
    axes[0].set_ylabel("separation along T2 (decades)")
    if skipped:
        fig.text(0.01, -0.08, skipped_note(skipped, 120), fontsize=8, color="C3", va="top")
    save(fig, args.out, "resolution_snr_grid.png")

    # --- T2 projections of the closest pair -------------------------------------------------
    fig = Figure(figsize=(10, 3.2))
    axes = fig.subplots(1, len(examples), sharey=False)
    t2_ms = kernel.grid2 * 1e3
    for ax, ((i, j), maps) in zip(np.atleast_1d(axes), sorted(examples.items()), strict=True):
        for k, (name, F) in enumerate(maps.items()):
            proj = F.sum(axis=0)
            style = (
                {"color": "k", "lw": 2.5, "alpha": 0.35}
                if name == "truth"
                else {"color": f"C{k}", "lw": 1.3}
            )
            label = "truth" if name == "truth" else METHOD_LABELS[name]
            ax.semilogx(t2_ms, proj / max(proj.max(), 1e-300), label=label, **style)
        ax.set_title(f"{separations[i]:g} decade apart, SNR {snrs[j]:g}", fontsize=10)
        ax.set_xlabel("T2 (ms)")
        ax.set_xlim(1, 100)
    np.atleast_1d(axes)[0].set_ylabel("T2 projection (normalised)")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    save(fig, args.out, "resolution_snr_projections.png")
    return table


if __name__ == "__main__":
    main()

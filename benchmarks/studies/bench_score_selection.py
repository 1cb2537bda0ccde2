"""Does the score without true maps choose α well? Grid searches on simulated data.

For global Tikhonov and L1 (α in units of the noise, ``alpha_scale="noise"``, grid 1e-4 to
1e2) and UPEN (``beta0`` from 1e-3 to 10), on 16 × 16 maps of 6 simulated IR-CPMG decays
(``make_training_set(snr=30)``) per seed: the map quality of every grid value
(`laplace_inv.metrics.map_similarity` to the true maps, what ``score(X, Y)`` returns), and two
scores without true maps: `gcv_stability_scorer` (the default ``score(X)``) and the older
`discrepancy_scorer`. For each score it reports the quality of the value it chooses relative
to the best on the grid, and its rank correlation (Spearman) with map quality.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.studies.bench_score_selection \\
        --out benchmarks/results/score_selection.md   # about 15 minutes on one core
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.stats import spearmanr

from benchmarks.markdown import emit_table
from laplace_inv import Kernel2D, KernelAxis, L1Inverter, TikhonovInverter
from laplace_inv.metrics.scorers import discrepancy_scorer, gcv_stability_scorer, map_similarity
from laplace_inv.simulate import make_training_set

KERNEL = Kernel2D(
    KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=16),
    KernelAxis("T2", np.arange(1, 201) * 1e-3, n_grid=16),
)
NOISE_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
CASES = {
    "global Tikhonov (alpha)": (
        TikhonovInverter(KERNEL, penalty="global", alpha_scale="noise"),
        "alpha",
        NOISE_GRID,
    ),
    "UPEN (beta0)": (TikhonovInverter(KERNEL), "beta0", [1e-3, 1e-2, 1e-1, 1.0, 10.0]),
    "L1 (alpha)": (L1Inverter(KERNEL, alpha_scale="noise"), "alpha", NOISE_GRID),
}
SCORES = {"gcv_stability": gcv_stability_scorer, "discrepancy": discrepancy_scorer}


def one_search(est, param: str, grid: list[float], seed: int) -> dict[str, float]:
    """Quality and scores over the grid for one seed; the choice and rank correlation."""
    X, Y, _ = make_training_set(KERNEL, 6, snr=30, random_state=seed)
    quality, scores = [], {name: [] for name in SCORES}
    for value in grid:
        est.set_params(**{param: value})
        quality.append(map_similarity(Y, est.predict(X)))
        for name, scorer in SCORES.items():
            scores[name].append(scorer(est, X))
    q = np.array(quality)
    row = {"best": grid[int(np.argmax(q))], "best_quality": float(q.max())}
    for name, values in scores.items():
        chosen = int(np.argmax(values))
        row[f"{name}_value"] = grid[chosen]
        row[f"{name}_ratio"] = float(q[chosen] / q.max())
        row[f"{name}_rho"] = float(spearmanr(values, q).statistic)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 (default 6)")
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    lines = [
        "# Choosing α without true maps",
        "",
        "Made by `OMP_NUM_THREADS=1 python -m benchmarks.studies.bench_score_selection "
        f"--seeds {args.seeds}`. Quality: `map_similarity` to the true maps (1: perfect). "
        "'chosen/best': the quality of the value a score chooses over the best on the grid; "
        "ρ: Spearman correlation of the score with quality over the grid.",
        "",
        "| method | seed | best value | best quality | gcv_stability: value | chosen/best | ρ "
        "| discrepancy: value | chosen/best | ρ |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    summary = []
    for label, (est, param, grid) in CASES.items():
        rows = [one_search(est, param, grid, seed) for seed in range(args.seeds)]
        for seed, r in enumerate(rows):
            lines.append(
                f"| {label} | {seed} | {r['best']:g} | {r['best_quality']:.3f} "
                f"| {r['gcv_stability_value']:g} | {r['gcv_stability_ratio']:.3f} "
                f"| {r['gcv_stability_rho']:.2f} | {r['discrepancy_value']:g} "
                f"| {r['discrepancy_ratio']:.3f} | {r['discrepancy_rho']:.2f} |"
            )
        summary.append(
            f"| {label} | "
            + " | ".join(
                f"{min(r[f'{s}_ratio'] for r in rows):.3f} | "
                f"{np.mean([r[f'{s}_rho'] for r in rows]):.2f}"
                for s in SCORES
            )
            + " |"
        )
    lines += [
        "",
        "Over the seeds:",
        "",
        "| method | gcv_stability: worst chosen/best | mean ρ "
        "| discrepancy: worst chosen/best | mean ρ |",
        "| --- | --- | --- | --- | --- |",
        *summary,
    ]
    emit_table(lines, args.out)


if __name__ == "__main__":
    main()

"""Does the score without true maps choose α well? Grid searches on simulated data.

For global Tikhonov and L1 (α in units of the noise, ``alpha_scale="noise"``, grid 1e-4 to
1e2) and UPEN (``beta0`` from 1e-3 to 10), on 16 × 16 maps of 6 simulated IR-CPMG decays
(``make_training_set(snr=30)``) per seed: the map quality of every grid value
(`laplace_inv.metrics.map_similarity` to the true maps, what ``score(X, Y)`` returns), and two
scores without true maps: `gcv_stability_scorer` (the default ``score(X)``) and the older
`discrepancy_scorer`. For each score it reports the quality of the value it chooses relative
to the best on the grid, and its rank correlation (Spearman) with map quality.

``--scenario narrow`` runs a harder problem for global Tikhonov and L1: 24 × 24 maps of 4
decays with 1 to 3 narrow peaks (widths 0.05 to 0.15 decades) at SNR 20.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.studies.bench_score_selection \\
        --out benchmarks/results/score_selection.md   # about 10 minutes on one core
    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.studies.bench_score_selection \\
        --scenario narrow --out benchmarks/results/score_selection_narrow.md
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.stats import spearmanr

from benchmarks.markdown import emit_table
from laplace_inv import Kernel2D, KernelAxis, L1Inverter, TikhonovInverter
from laplace_inv.metrics.scorers import discrepancy_scorer, gcv_stability_scorer, map_similarity
from laplace_inv.simulate import PeakPrior, make_training_set

NOISE_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
# name: (kernel, decays per seed, SNR, peak prior or None, with UPEN)
SCENARIOS = {
    "default": (
        Kernel2D(
            KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=16),
            KernelAxis("T2", np.arange(1, 201) * 1e-3, n_grid=16),
        ),
        6,
        30.0,
        None,
        True,
    ),
    "narrow": (
        Kernel2D(
            KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=24),
            KernelAxis("T2", np.arange(1, 301) * 1e-3, n_grid=24),
        ),
        4,
        20.0,
        PeakPrior(n_peaks=(1, 3), sigma=(0.05, 0.15), t1_ge_t2=True),
        False,
    ),
}


def cases(kernel: Kernel2D, with_upen: bool) -> dict:
    """``{label: (estimator, parameter, grid)}`` for one kernel."""
    found = {
        "global Tikhonov (alpha)": (
            TikhonovInverter(kernel, penalty="global", alpha_scale="noise"),
            "alpha",
            NOISE_GRID,
        ),
        "UPEN (beta0)": (TikhonovInverter(kernel), "beta0", [1e-3, 1e-2, 1e-1, 1.0, 10.0]),
        "L1 (alpha)": (L1Inverter(kernel, alpha_scale="noise"), "alpha", NOISE_GRID),
    }
    if not with_upen:
        del found["UPEN (beta0)"]
    return found


SCORES = {"gcv_stability": gcv_stability_scorer, "discrepancy": discrepancy_scorer}


def one_search(est, param: str, grid: list[float], scenario: tuple, seed: int) -> dict:
    """Quality and scores over the grid for one seed; the choice and rank correlation."""
    kernel, n, snr, prior, _ = scenario
    X, Y, _ = make_training_set(kernel, n, prior=prior, snr=snr, random_state=seed)
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
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="default")
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    scenario = SCENARIOS[args.scenario]
    warnings.simplefilter("ignore")
    lines = [
        "# Choosing α without true maps",
        "",
        "Made by `OMP_NUM_THREADS=1 python -m benchmarks.studies.bench_score_selection "
        f"--seeds {args.seeds} --scenario {args.scenario}`. "
        "Quality: `map_similarity` to the true maps (1: perfect). "
        "'chosen/best': the quality of the value a score chooses over the best on the grid; "
        "ρ: Spearman correlation of the score with quality over the grid.",
        "",
        "| method | seed | best value | best quality | gcv_stability: value | chosen/best | ρ "
        "| discrepancy: value | chosen/best | ρ |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    summary = []
    for label, (est, param, grid) in cases(scenario[0], scenario[4]).items():
        rows = [one_search(est, param, grid, scenario, seed) for seed in range(args.seeds)]
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

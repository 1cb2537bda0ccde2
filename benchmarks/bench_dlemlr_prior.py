"""DLEMLR weights on the widened prior against the classical methods: one printed table.

Usage::

    python -m benchmarks.bench_dlemlr_prior --weights stage4=DIR4 --weights stage5=DIR5
        [--n-per-kind 40] [--n-standard 40] [--classical-every 4] [--seeds 3]
        [--cache DIR] [--markdown benchmarks/results/dlemlr_prior.md]

Each ``--weights NAME=DIR`` names a folder holding ``all.safetensors`` and ``all.json``: the
shipped stage-4 files (``git show 0b32517:laplace_inv/dlemlr/weights/all.json`` and
``all.safetensors``) or the output of ``laplace-inv train --recipe all-stage5.toml``. Every
model is scored raw (``refine=False``) and refined (``set_params(refine=True)``). Without
``--weights`` the shipped model is scored.

The maps are simulated on the cement IR-CPMG acquisition (`cement_kernel`, 4× finer data
grids, no inverse crime) with the package's widened benchmark priors
(`laplace_inv.bench.cases.WIDE_PRIORS`: broad, skewed, ridge, continuous, and a non-ideal IR
acquisition with inversion efficiency 0.6-1.0 and a baseline of ±2 % of max|S|), all at
T1 ≥ T2 with at most 1 % of a component's mass below the diagonal; ``--n-per-kind`` maps per
kind (5 kinds: 200 maps by default). A *standard* group of Gaussian peaks
(`benchmarks.bench_dlemlr.TEST_PRIOR`, ideal acquisition) checks that nothing is lost on
the narrow world. SNR is log-uniform in [100, 1000]. Seeds: kind ``k`` (0-5) draws its maps
from ``numpy.random.default_rng(8_000_000 + 1000·k)``, disjoint from every training seed
(stages 1-5 seed their chunks with ``(seed, chunk)`` pairs, seeds 0-7 and 10 000-10 007) and
from ``benchmarks.bench_dlemlr`` (7 000 000 + i).

Figures, per method and kind:

* **map L1**: ``Σ |p − q|`` between estimate and truth normalised to unit mass (twice the
  total-variation distance of `laplace_inv.metrics.compare_to_truth`; 0 identical, 2 disjoint).
* **pos**: matched position error in decades, pooled over true peaks matched within 0.5
  decade (`benchmarks.bench_dlemlr.map_scores`), with the share of true peaks missed.
* **broad count**: over the maps whose components are all broad (unskewed Gaussians with
  FWHM ≥ 0.3 decade along both principal axes), the share where the number of peaks holding
  ≥ 3 % of the mass (`find_peaks(min_fraction=0.03)`) equals that of the true map.
* **resolution**: the smallest separation from which two σ = 0.04 decade peaks are resolved
  (`laplace_inv.metrics.resolved`, majority of ``--seeds``), along T2 and along the diagonal
  at SNR 1000 and 100 (`benchmarks.bench_dlemlr.smallest_resolved`).

The classical methods (UPEN, global Tikhonov, L1 via `laplace_inv.methods.make_inverter`) are
slow on a shared machine: they run on every ``--classical-every``-th map of each kind, and a
second table compares every method on that same subset. ``--cache DIR`` keeps each method's
maps (``DIR/<label>.npz``) so that a rerun scores only what changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.bench_dlemlr import TEST_PRIOR, map_scores, smallest_resolved
from benchmarks.markdown import emit_table
from laplace_inv.bench.cases import NONIDEAL_EFFICIENCY, NONIDEAL_OFFSET, WIDE_PRIORS
from laplace_inv.methods import make_inverter
from laplace_inv.metrics import compare_to_truth, find_peaks
from laplace_inv.simulate import PeakPrior, Scenario, cement_kernel, make_scenario, sample_peaks

SEED0 = 8_000_000
#: Kinds of maps, in table order; "standard" is the narrow (non-widened) world.
KINDS = (
    "random-broad",
    "random-skewed",
    "random-ridge",
    "random-continuous",
    "random-nonideal-ir",
    "standard",
)
WIDENED = KINDS[:-1]
SNR_RANGE = (100.0, 1000.0)
BROAD_FWHM = 0.3
COUNT_FRACTION = 0.03
RESOLUTION = (("T2", 1000.0), ("T2", 100.0), ("diagonal", 1000.0), ("diagonal", 100.0))


def kind_prior(kind: str) -> PeakPrior:
    """The prior of a kind on a T1-T2 acquisition (T1 ≥ T2 for the widened kinds)."""
    if kind == "standard":
        return TEST_PRIOR
    fields = {**WIDE_PRIORS[kind].__dict__, "t1_ge_t2": True, "below_diagonal": 0.01}
    return PeakPrior(**fields)


def make_cases(n_per_kind: int, n_standard: int) -> list[tuple[str, Scenario]]:
    """The ``(kind, scenario)`` test maps on the cement acquisition (seeds: module docstring)."""
    kernel = cement_kernel()
    cases = []
    for k, kind in enumerate(KINDS):
        rng = np.random.default_rng(SEED0 + 1000 * k)
        prior = kind_prior(kind)
        for i in range(n_standard if kind == "standard" else n_per_kind):
            peaks = sample_peaks(prior, kernel, rng)
            snr = float(np.exp(rng.uniform(*np.log(SNR_RANGE))))
            acquisition: dict[str, Any] = {}
            if kind == "random-nonideal-ir":
                acquisition = {
                    "efficiency": float(rng.uniform(*NONIDEAL_EFFICIENCY)),
                    "offset": float(rng.uniform(*NONIDEAL_OFFSET)),
                }
            params = {"truth_from_map": kind != "standard"}
            sc = make_scenario(f"{kind}{i}", kernel, peaks, snr, rng, params=params, **acquisition)
            cases.append((kind, sc))
    return cases


def all_broad(sc: Scenario) -> bool:
    """Whether every component is an unskewed Gaussian at least 0.3 decade wide (FWHM) in
    every direction (along the narrow principal axis of a tilted one: ridges do not count)."""
    for p in sc.peaks:
        s1, s2 = p.sigma
        cov = np.array([[s1 * s1, p.rho * s1 * s2], [p.rho * s1 * s2, s2 * s2]])
        narrowest = 2.0 * np.sqrt(2.0 * np.log(2.0)) * np.sqrt(np.linalg.eigvalsh(cov)[0])
        if p.skewed or narrowest < BROAD_FWHM:
            return False
    return True


def n_peaks(F: np.ndarray, sc: Scenario) -> int:
    """Number of peaks holding at least 3 % of the map's mass."""
    return len(find_peaks(F, sc.kernel.grid1, sc.kernel.grid2, min_fraction=COUNT_FRACTION))


def invert_all(est: Any, cases: list[tuple[str, Scenario]], rows: np.ndarray) -> np.ndarray:
    """Maps of ``est`` for the cases at ``rows`` (NaN maps elsewhere)."""
    shape = cases[0][1].kernel.map_shape
    maps = np.full((len(cases), *shape), np.nan)
    for i in rows:
        maps[i] = est.invert(cases[i][1].data).map
    return maps


def subset_rows(cases: list[tuple[str, Scenario]], every: int) -> np.ndarray:
    """Every ``every``-th case of each kind."""
    rows, seen = [], dict.fromkeys(KINDS, 0)
    for i, (kind, _) in enumerate(cases):
        if seen[kind] % every == 0:
            rows.append(i)
        seen[kind] += 1
    return np.asarray(rows)


def cached_run(
    label: str, est: Any, cases: list, rows: np.ndarray, res_seeds: int, cache: Path | None
) -> tuple[np.ndarray, list[float]]:
    """Maps at ``rows`` and resolution limits of ``est`` (none for ``res_seeds = 0``), read
    from or written to ``cache/<label>.npz``."""
    file = None
    if cache is not None:
        file = cache / ("".join(c if c.isalnum() else "_" for c in label) + ".npz")
        if file.exists():
            with np.load(file) as saved:
                if saved["n_cases"] == len(cases) and np.array_equal(saved["rows"], rows):
                    return saved["maps"], list(saved["resolution"])
    t0 = time.perf_counter()
    maps = invert_all(est, cases, rows)
    resolution = (
        [smallest_resolved(est, a, s, res_seeds) for a, s in RESOLUTION] if res_seeds else []
    )
    print(f"{label}: {len(rows)} maps in {time.perf_counter() - t0:.0f} s", flush=True)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            file, n_cases=len(cases), rows=rows, maps=maps, resolution=np.asarray(resolution)
        )
    return maps, resolution


def scores(cases: list[tuple[str, Scenario]], maps: np.ndarray, rows: np.ndarray) -> dict:
    """Map L1, matched position error, missed share per kind (and over the widened kinds),
    and the broad-map peak-count agreement, over the cases at ``rows``."""
    out: dict[str, Any] = {}
    groups = {kind: [i for i in rows if cases[i][0] == kind] for kind in KINDS}
    groups["widened"] = [i for i in rows if cases[i][0] in WIDENED]
    for group, idx in groups.items():
        if not idx:
            continue
        scs = [cases[i][1] for i in idx]
        s = map_scores(scs, [maps[i] for i in idx])
        l1 = [
            2.0 * compare_to_truth(maps[i], sc.truth, sc.kernel.grid1, sc.kernel.grid2).tv_distance
            for i, sc in zip(idx, scs, strict=True)
        ]
        out[group] = {
            "l1": float(np.mean(l1)),
            "pos": s["position_matched"],
            "missed": s["missed"],
            "n": len(idx),
        }
    broad = [i for i in rows if all_broad(cases[i][1])]
    agree = [
        n_peaks(maps[i], cases[i][1]) == n_peaks(cases[i][1].truth, cases[i][1]) for i in broad
    ]
    out["broad_count"] = (float(np.mean(agree)) if agree else float("nan"), len(broad))
    return out


def dlemlr_variants(weights: list[str]) -> list[tuple[str, Any]]:
    """``(label, estimator)`` for every model, raw and refined."""
    from laplace_inv.dlemlr import DLEMLRInverter

    kernel = cement_kernel()
    out = []
    for spec in weights or ["shipped="]:
        name, _, folder = spec.partition("=")
        for refine in (False, True):
            est = DLEMLRInverter.from_pretrained(kernel, weights_dir=folder or None)
            est.set_params(refine=refine)
            out.append((f"DLEMLR {name} ({'refine=True' if refine else 'raw'})", est))
    return out


def score_table(title: str, results: dict[str, dict]) -> list[str]:
    """Markdown lines of one score table (a row per method)."""
    head = "| method | " + " | ".join(KINDS) + " | all widened | broad: count right |"
    lines = [f"### {title}", "", head, "|---" * (len(KINDS) + 3) + "|"]
    for method, r in results.items():
        cells = []
        for group in (*KINDS, "widened"):
            g = r.get(group)
            cells.append("–" if g is None else f"{g['l1']:.3f} / {g['pos']:.3f}, {g['missed']:.0%}")
        share, nb = r["broad_count"]
        cells.append(f"{share:.0%} of {nb}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def resolution_table(resolution: dict[str, list[float]]) -> list[str]:
    """Markdown lines of the resolution table."""
    lines = [
        "### Resolution: smallest separation resolved (decades; two σ = 0.04 decade peaks)",
        "",
        "| method | " + " | ".join(f"{a}, SNR {s:g}" for a, s in RESOLUTION) + " |",
        "|---" * (len(RESOLUTION) + 1) + "|",
    ]
    lines += [
        f"| {method} | " + " | ".join(f"{v:.1f}" for v in seps) + " |"
        for method, seps in resolution.items()
    ]
    return lines


FIGURES = (
    "Cells: map L1 to the truth (unit mass, 0-2) / matched position error (decades), share "
    "of true peaks missed; last column: share of the all-broad maps whose number of peaks "
    "holding ≥ 3 % equals the truth's."
)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", action="append", default=[], help="NAME=DIR (repeatable)")
    p.add_argument("--n-per-kind", type=int, default=40)
    p.add_argument("--n-standard", type=int, default=40)
    p.add_argument(
        "--classical-every",
        type=int,
        default=4,
        help="the classical methods run on every N-th map of each kind (they are slow)",
    )
    p.add_argument("--seeds", type=int, default=3, help="noise seeds per resolution point")
    p.add_argument("--cache", default=None, help="folder caching each method's maps")
    p.add_argument("--markdown", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    cases = make_cases(args.n_per_kind, args.n_standard)
    cache = Path(args.cache) if args.cache else None
    every = np.arange(len(cases))
    subset = subset_rows(cases, args.classical_every)
    on_all: dict[str, dict] = {}
    on_subset: dict[str, dict] = {}
    resolution: dict[str, list[float]] = {}
    for label, est in dlemlr_variants(args.weights):
        maps, resolution[label] = cached_run(label, est, cases, every, args.seeds, cache)
        on_all[label] = scores(cases, maps, every)
        on_subset[label] = scores(cases, maps, subset)
    kernel = cases[0][1].kernel
    for name, label in (("upen", "UPEN"), ("tikhonov", "Tikhonov (global)"), ("l1", "L1")):
        maps, _ = cached_run(label, make_inverter(name, kernel), cases, subset, 0, cache)
        on_subset[label] = scores(cases, maps, subset)
    n_widened = sum(kind in WIDENED for kind, _ in cases)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        f"Cement IR-CPMG acquisition, {n_widened} widened maps ({args.n_per_kind} per kind) and "
        f"{args.n_standard} standard maps, SNR 100-1000; command: "
        f"`python -m benchmarks.bench_dlemlr_prior {command}`",
        "",
        FIGURES,
        "",
        *score_table(f"DLEMLR on all {len(cases)} maps", on_all),
        *score_table(
            f"Every method on the same {len(subset)} maps (every {args.classical_every}th "
            "map of each kind; the classical methods are too slow for all)",
            on_subset,
        ),
        *resolution_table(resolution),
    ]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()

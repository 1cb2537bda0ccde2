"""DLEMLR weights on the widened prior against the classical methods: one printed table.

Usage::

    python -m benchmarks.bench_dlemlr_prior --weights stage4=DIR4 --weights stage5=DIR5
        [--n-per-kind 40] [--n-standard 40] [--classical-every 4] [--seeds 3]
        [--cache DIR] [--markdown benchmarks/results/dlemlr_prior.md]
    LAPLACE_INV_DATA=/work/shared/data python -m benchmarks.bench_dlemlr_prior --variants
        [--markdown benchmarks/results/dlemlr_consistency.md]

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

``--variants`` scores, instead, variants of the shipped model's data-consistency step on the
same maps and on the real datasets of `benchmarks.bench_dlemlr_real` (own grids): the
network's map blurred by a Gaussian of a given width (decades, per axis, mass kept) before
it serves as the step's prior and start, longer ``λ`` paths, a stagnation rule in
units of the χ² noise fluctuation, and a parsimony rule that runs the step from the map and
from its blur and keeps the blurred result unless the data reject it (`VARIANTS`). Each variant
runs `laplace_inv.dlemlr.inference.consistency_step` on the raw network's map; the first
reproduces the default output.

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
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.bench_dlemlr import TEST_PRIOR, map_scores, smallest_resolved
from benchmarks.markdown import emit_table
from laplace_inv.bench.cases import NONIDEAL_EFFICIENCY, NONIDEAL_OFFSET, WIDE_PRIORS
from laplace_inv.dlemlr.parsimony import grid_blurs, keep_smoother
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
#: Data-consistency variants of ``--variants``: (label, prior blur in decades, settings of
#: `laplace_inv.dlemlr.consistency.ConsistencySettings`); the first is the default output.
VARIANTS: tuple[tuple[str, float, dict[str, Any]], ...] = (
    ("default", 0.0, {"max_iter": 200}),
    ("prior blurred 0.03 dec", 0.03, {"max_iter": 200}),
    ("prior blurred 0.05 dec", 0.05, {"max_iter": 200}),
    ("prior blurred 0.10 dec", 0.10, {"max_iter": 200}),
    ("prior blurred 0.15 dec", 0.15, {"max_iter": 200}),
    # Parsimony: the step runs from the network's map and from its 0.10-decade blur, and
    # keeps the blurred result when its χ² is within k standard deviations of the other's
    # (k and the width chosen with --seed-offset 555, not on these maps).
    ("smoother if χ² within 10 s.d., blur 0.10 dec", 0.10, {"max_iter": 200, "prefer": 10.0}),
    ("smoother if χ² within 20 s.d., blur 0.10 dec", 0.10, {"max_iter": 200, "prefer": 20.0}),
    ("smoother if χ² within 20 s.d., blur 0.15 dec", 0.15, {"max_iter": 200, "prefer": 20.0}),
    (
        "no stagnation stop, 50 it./λ, λ ÷ 3, cap 300",
        0.0,
        {"max_iter": 300, "stagnation": 0.0, "stage_iterations": 50, "lambda_factor": 3.0},
    ),
    (
        "no stagnation stop, 50 it./λ, λ ÷ 3, cap 1000",
        0.0,
        {"max_iter": 1000, "stagnation": 0.0, "stage_iterations": 50, "lambda_factor": 3.0},
    ),
    (
        "stop below 1 s.d. of χ², 30 it./λ, cap 300",
        0.0,
        {"max_iter": 300, "stagnation": 0.0, "significance": 1.0, "stage_iterations": 30},
    ),
    (
        "stop below 1 s.d. of χ², 50 it./λ, λ ÷ 3, cap 1000",
        0.0,
        {
            "max_iter": 1000,
            "stagnation": 0.0,
            "significance": 1.0,
            "stage_iterations": 50,
            "lambda_factor": 3.0,
        },
    ),
)


def kind_prior(kind: str) -> PeakPrior:
    """The prior of a kind on a T1-T2 acquisition (T1 ≥ T2 for the widened kinds)."""
    if kind == "standard":
        return TEST_PRIOR
    fields = {**WIDE_PRIORS[kind].__dict__, "t1_ge_t2": True, "below_diagonal": 0.01}
    return PeakPrior(**fields)


def make_cases(
    n_per_kind: int, n_standard: int, seed_offset: int = 0
) -> list[tuple[str, Scenario]]:
    """The ``(kind, scenario)`` test maps on the cement acquisition (seeds: module docstring,
    shifted by ``seed_offset``)."""
    kernel = cement_kernel()
    cases = []
    for k, kind in enumerate(KINDS):
        rng = np.random.default_rng(SEED0 + seed_offset + 1000 * k)
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


class ConsistencyVariant:
    """The shipped network, then a variant of its data-consistency step.

    ``invert(S)`` blurs the raw network map by ``blur`` decades along each axis (mass kept)
    and runs `consistency_step` from it with ``settings`` (keyword arguments of
    `ConsistencySettings`); the result has the map (``.map``) and the step's record
    (``.info``).
    """

    def __init__(self, kernel: Any, blur: float, settings: dict[str, Any]) -> None:
        from laplace_inv.dlemlr import DLEMLRInverter
        from laplace_inv.dlemlr.compressed import problem
        from laplace_inv.dlemlr.consistency import ConsistencySettings

        settings = dict(settings)
        # prefer = k: run from the unblurred map too, keep the blurred result when its χ² is
        # within k standard deviations of χ² (√(2·r1·r2)) of the unblurred one's.
        self.prefer: float | None = settings.pop("prefer", None)
        self.kernel = kernel
        self.raw = DLEMLRInverter.from_pretrained(kernel, refine=False)
        self.settings = ConsistencySettings(**settings)
        self.problem = problem(kernel)
        self.blur = grid_blurs(kernel.grid1, kernel.grid2, blur)

    def invert(self, S: np.ndarray, noise_std: float | None = None) -> Any:
        """The variant's map of the decay ``S``."""
        from types import SimpleNamespace

        from laplace_inv.dlemlr.features import project_tensor
        from laplace_inv.dlemlr.inference import consistency_step

        with warnings.catch_warnings():  # the raw map's residual notes (e.g. baselines)
            warnings.simplefilter("ignore")
            net = self.raw.invert(S, noise_std=noise_std).map
        B1, B2 = self.blur
        St = torch.from_numpy(np.asarray(S, dtype=np.float64))[None]
        scales = St.abs().amax(dim=(1, 2))
        projected = project_tensor(self.problem, St, scales)
        priors = [B1 @ net @ B2.T] if self.prefer is None else [B1 @ net @ B2.T, net]
        runs = [
            consistency_step(
                self.problem,
                torch.from_numpy(prior)[None] / scales[:, None, None],
                St,
                scales,
                projected,
                self.settings,
            )
            for prior in priors
        ]
        keep = 0
        if self.prefer is not None:
            chi2 = [St[0].numel() * run[1]["rn_after"] ** 2 for run in runs]
            keep = 0 if bool(keep_smoother(*chi2, self.problem.rank, self.prefer)[0]) else 1
        maps, _, stop = runs[keep]
        F = maps[0].clamp_min(0.0).numpy() * float(scales[0])
        iterations = sum(int(run[1]["iterations"][0]) for run in runs)
        return SimpleNamespace(map=F, info={"iterations": iterations, "stop": stop[0]})


def real_figures(est_for: Any, sets: list, upen: dict[str, tuple[float, float]]) -> dict:
    """The largest residual/noise ÷ UPEN's over the real datasets, the iterations spent on
    the cement map, the Spinsolve export's dominant D and the Maastricht dominant peak's
    distance to its reference (decades)."""
    from benchmarks.bench_dlemlr_real import PEAK_MIN_FRACTION, rms_over

    worst = 0.0
    out = {"spinsolve_d": float("nan"), "maastricht": float("nan"), "cement_its": float("nan")}
    for name, kernel, data, noise, refs in sets:
        res = est_for(kernel).invert(data, noise_std=noise)
        F = res.map
        if name.startswith("cement"):
            out["cement_its"] = res.info["iterations"]
        rn_upen, sigma = upen[name]
        worst = max(worst, rms_over(kernel, F, data, sigma) / rn_upen)
        found = find_peaks(F, kernel.grid1, kernel.grid2, min_fraction=PEAK_MIN_FRACTION)
        top = max(found, key=lambda p: p.fraction)
        if name.startswith("Spinsolve"):
            out["spinsolve_d"] = float(top.position[0])
        if name.startswith("Maastricht"):
            ref = np.log10(np.asarray(refs[0]["position"], dtype=float))
            out["maastricht"] = float(np.hypot(*(np.array(top.log_position) - ref)))
    out["worst_rn_ratio"] = worst
    return out


def upen_residuals(sets: list) -> dict[str, tuple[float, float]]:
    """Per real dataset: UPEN's residual/noise and the noise it is measured against (the
    dataset's, else the raw DLEMLR estimate from the data outside the kernels' range)."""
    from benchmarks.bench_dlemlr_real import rms_over
    from laplace_inv.dlemlr import DLEMLRInverter

    out = {}
    for name, kernel, data, noise, _ in sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F = make_inverter("upen", kernel).invert(data, noise_std=noise).map
            raw = DLEMLRInverter.from_pretrained(kernel, refine=False).invert(data)
        sigma = float(noise) if noise else float(raw.info["noise_estimate"])
        out[name] = (rms_over(kernel, F, data, sigma), sigma)
    return out


def variant_rows(cases: list[tuple[str, Scenario]], seeds: int) -> list[str]:
    """One row per consistency variant (`VARIANTS`): simulated scores, resolution, cost,
    and the real-data figures."""
    from benchmarks.bench_dlemlr_real import datasets

    sets = datasets()
    upen = upen_residuals(sets)
    kernel = cases[0][1].kernel
    rows = [
        "| variant | map L1: widened / standard | position (dec): widened / standard "
        "| broad: count right | resolution (dec): T2 1000, T2 100, diag 1000, diag 100 "
        "| iterations per map | CPU ms per map | real: max r/n ÷ UPEN | real cement: iterations "
        "| Spinsolve D (m²/s) | Maastricht dominant (dec) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    every = np.arange(len(cases))
    for label, blur, settings in VARIANTS:
        est = ConsistencyVariant(kernel, blur, settings)
        t0 = time.process_time()
        results = [est.invert(sc.data) for _, sc in cases]
        cpu = (time.process_time() - t0) / len(cases) * 1e3
        maps = np.stack([r.map for r in results])
        its = float(np.mean([r.info["iterations"] for r in results]))
        sc = scores(cases, maps, every)
        res = [smallest_resolved(est, a, snr, seeds) for a, snr in RESOLUTION]
        real = real_figures(lambda k, b=blur, s=settings: ConsistencyVariant(k, b, s), sets, upen)
        w, st = sc["widened"], sc["standard"]
        rows.append(
            f"| {label} | {w['l1']:.3f} / {st['l1']:.3f} | {w['pos']:.3f} / {st['pos']:.3f} "
            f"| {sc['broad_count'][0]:.0%} of {sc['broad_count'][1]} "
            f"| {', '.join(f'{v:.1f}' for v in res)} | {its:.0f} | {cpu:.1f} "
            f"| {real['worst_rn_ratio']:.3f} | {real['cement_its']:.0f} "
            f"| {real['spinsolve_d']:.3g} "
            f"| {real['maastricht']:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def variants_report(cases: list[tuple[str, Scenario]], args: Any, argv: list[str] | None) -> list:
    """The ``--variants`` page: its command, what the columns mean, the table."""
    command = " ".join(argv if argv is not None else sys.argv[1:])
    n_widened = sum(kind in WIDENED for kind, _ in cases)
    return [
        "# DLEMLR data-consistency variants",
        "",
        f"Command: `LAPLACE_INV_DATA=/work/shared/data python -m benchmarks.bench_dlemlr_prior "
        f"{command}`; torch on {torch.get_num_threads()} thread(s).",
        "",
        f"Shipped model; {n_widened} widened maps ({args.n_per_kind} per kind) and "
        f"{args.n_standard} standard maps on the cement IR-CPMG acquisition (as in "
        "`dlemlr_prior.md`), then the real datasets of `dlemlr_real.md` on their own grids. "
        "Each variant runs the data-consistency step from the raw network's map: blurred by "
        "a Gaussian of the given width along both log axes (mass kept) before it is the "
        "step's prior and start, or with a longer λ path (no stagnation stop, or a stage ends the "
        "path when it lowers the in-range misfit by less than one standard deviation of χ², "
        "√(2·r1·r2)·σ²), or from both the network's map and its blur, keeping the blurred "
        "result when its χ² is within k such standard deviations of the other's (the "
        "smoother map the data do not reject). Map L1 and matched position error "
        "as in `dlemlr_prior.md` (mean over the widened kinds, and the standard maps); "
        "resolution: smallest separation resolved (two σ = 0.04 decade peaks, majority of "
        f"{args.seeds} noise seeds); iterations and CPU time per simulated map (the whole "
        "inversion); real: the largest residual/noise ÷ UPEN's over cement, Maastricht, SSE "
        "and Spinsolve, the iterations spent on the cement map, the Spinsolve export's "
        "dominant D (free water: 2.0-2.3e-9 m²/s), the Maastricht dominant peak's distance to "
        "Upen2DTool's (decades).",
        "",
        *variant_rows(cases, args.seeds),
    ]


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
    p.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="draw the maps from seeds shifted by this (to choose settings on other maps)",
    )
    p.add_argument("--cache", default=None, help="folder caching each method's maps")
    p.add_argument("--markdown", default=None)
    p.add_argument(
        "--variants", action="store_true", help="score data-consistency variants instead"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    cases = make_cases(args.n_per_kind, args.n_standard, args.seed_offset)
    if args.variants:
        emit_table(variants_report(cases, args, argv), args.markdown)
        return
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

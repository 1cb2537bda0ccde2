"""Coverage of the bootstrap intervals, uncalibrated and calibrated, on simulated maps.

Run (full table and the shipped calibration, from the repository root)::

    nice -n 10 python -m benchmarks.bench_coverage --write-calibration

``--quick`` runs a CI-sized check (a few maps, global Tikhonov only) and writes nothing
unless ``--out`` is given. ``--shard K/N`` computes every N-th chunk of maps from the K-th
(run N processes, then once without ``--shard`` to summarise from the cache).

Maps are cement-like acquisitions (the 48 x 1000 IR-CPMG layout) with 1-3 random components
from four families of the simulator, in turn: narrow Gaussians (σ 0.04-0.15 decade), broad
(FWHM 0.3-0.6 decade), skewed (skew-normal, |α| 1.5-4) and continuous (mixtures of 2-4
log-normals), tilted, T1 ≥ T2, SNR log-uniform in 50-1000, data simulated on a 4x finer
grid. Regions are boxes of ±2 standard deviations (per axis, of the true component's own
distribution, at least ±0.3 decade) around each component; the truth of a region is the
true distribution rendered on a 256 x 256 grid and integrated in its box. A calibration
set and a disjoint test set (different seeds) are drawn; per method, the bias floor and
multipliers of `laplace_inv.analysis.calibration.fit_calibration` are learned on the
calibration set and the coverage of nominal 68 % and 95 % intervals of region fractions and
log-positions is measured on the test set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.analysis.calibration import (
    GAUSSIAN,
    LEVELS,
    conformal_multipliers,
    fit_calibration,
    half_width,
)
from laplace_inv.analysis.regions import Box, integrate_regions
from laplace_inv.analysis.uncertainty import bootstrap
from laplace_inv.simulate import (
    PeakPrior,
    add_noise,
    cement_kernel,
    render_map,
    sample_components,
    simulate_decay,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("tikhonov-global", "dlemlr-refined", "dlemlr", "tikhonov-upen", "l1")
_COMMON: dict[str, Any] = {
    "n_peaks": (1, 3),
    "rho": (-0.4, 0.4),
    "t1_ge_t2": True,
    "min_separation": 0.5,
}
FAMILIES = {
    "narrow": PeakPrior(sigma=(0.04, 0.15), **_COMMON),
    "broad": PeakPrior(broad=1.0, broad_fwhm=(0.3, 0.6), **_COMMON),
    "skewed": PeakPrior(sigma=(0.08, 0.15), skew=1.0, skew_alpha=(1.5, 4.0), **_COMMON),
    "continuous": PeakPrior(sigma=(0.1, 0.2), continuous=1.0, **_COMMON),
}
QUANTITIES = ("fraction", "log_position", "log_width")
SEEDS = {"cal": 1, "test": 2}
"""Seeds of the calibration and test sets (disjoint maps and noise)."""
GRIDS = {"l1": 32, "tikhonov-upen": 32}
"""Map grid per method (others: 64 x 64): UPEN and L1 re-invert every draw, so they run on
a 32 x 32 grid to fit the benchmark on a shared 2-core machine."""
DRAWS = {
    "tikhonov-global": 200,
    "dlemlr-refined": 100,
    "dlemlr": 100,
    "tikhonov-upen": 8,
    "l1": 8,
}
"""Bootstrap draws per map (``--draws`` overrides for all)."""
KINDS = {"tikhonov-global": "linear", "dlemlr-refined": "batched", "dlemlr": "batched"}
TRUTH_GRID = 256
MIN_HALF_BOX = 0.3
"""Smallest half-width of a region box, in decades: a box narrower than the resolution
(a few pixels) measures the smoothing, not the component."""
CACHE_VERSION = "v2"
"""Part of the cache file names: bump it when the cases or the records change."""


@dataclass
class Case:
    """One simulated map: data, the boxes around its components and their true statistics."""

    data: np.ndarray
    boxes: list[Box]
    truth: tuple[np.ndarray, np.ndarray, np.ndarray]
    family: int


def _component_box(name: str, comp: list, g1: np.ndarray, g2: np.ndarray) -> Box:
    """±2 standard deviations (per axis, log10) of a component, at least ±``MIN_HALF_BOX``."""
    F = render_map(comp, g1, g2)
    F = F / F.sum()
    bounds = []
    for ax, g in enumerate((g1, g2)):
        x = np.log10(g)
        marginal = F.sum(axis=1 - ax)
        mean = float(marginal @ x)
        std = float(np.sqrt(max(marginal @ (x - mean) ** 2, 1e-12)))
        half = max(2.0 * std, MIN_HALF_BOX)
        bounds.append(tuple(10.0 ** (mean + np.array([-half, half]))))
    return Box(name, bounds[0], bounds[1])


def make_cases(kernel: Any, n: int, seed: int) -> list[Case]:
    """``n`` maps cycling through the families (seeded); truth on a fine grid."""
    rng = np.random.default_rng(seed)
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    g1 = np.logspace(l1[0], l1[-1], TRUTH_GRID)
    g2 = np.logspace(l2[0], l2[-1], TRUTH_GRID)
    names = list(FAMILIES)
    cases = []
    for i in range(n):
        family = i % len(names)
        comps = sample_components(FAMILIES[names[family]], kernel, rng)
        peaks = [p for c in comps for p in c]
        clean, _ = simulate_decay(kernel, peaks, oversample=4)
        snr = float(np.exp(rng.uniform(np.log(50.0), np.log(1000.0))))
        noisy, _ = add_noise(clean, snr, rng)
        boxes = [_component_box(f"c{k}", c, g1, g2) for k, c in enumerate(comps)]
        stats = integrate_regions(render_map(peaks, g1, g2), g1, g2, boxes)
        truth = (
            np.array([s.fraction for s in stats]),
            np.array([s.log_mean for s in stats]),
            np.array([s.log_width for s in stats]),
        )
        cases.append(Case(noisy, boxes, truth, family))
    return cases


def make_estimator(method: str, kernel: Any) -> Any:
    """The estimator of a method key."""
    if method == "tikhonov-global":
        from laplace_inv import TikhonovInverter

        return TikhonovInverter(kernel, penalty="global")
    if method == "tikhonov-upen":
        from laplace_inv import TikhonovInverter

        return TikhonovInverter(kernel)
    if method in ("dlemlr", "dlemlr-refined"):
        from laplace_inv import DLEMLRInverter

        # "dlemlr" is the raw network map, "dlemlr-refined" the default output (with the
        # data-consistency step); `calibration.method_key` tells them apart the same way.
        return DLEMLRInverter.from_pretrained(kernel, refine=method == "dlemlr-refined")
    if method == "l1":
        from laplace_inv import L1Inverter

        return L1Inverter(kernel)
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def records(estimator: Any, cases: list[Case], n_draws: int, seed: int) -> dict[str, np.ndarray]:
    """Estimate, truth, bootstrap std and family of every region (and axis) of every case."""
    out: dict[str, list[float]] = {
        f"{q}_{kind}": [] for q in QUANTITIES for kind in ("est", "true", "std", "family")
    }
    for i, case in enumerate(cases):
        res = bootstrap(
            estimator,
            case.data,
            regions=case.boxes,
            n_draws=n_draws,
            calibration=False,
            random_state=seed + i,
        )
        t_frac, t_mean, t_width = case.truth
        for r, est in enumerate(res.regions):
            out["fraction_est"].append(est.fraction)
            out["fraction_true"].append(t_frac[r])
            out["fraction_std"].append(est.fraction_std)
            out["fraction_family"].append(case.family)
            for ax in range(2):
                for q, value, std, true in (
                    ("log_position", est.log_mean, est.log_mean_std, t_mean),
                    ("log_width", est.log_width, est.log_width_std, t_width),
                ):
                    out[f"{q}_est"].append(value[ax])
                    out[f"{q}_true"].append(true[r, ax])
                    out[f"{q}_std"].append(std[ax])
                    out[f"{q}_family"].append(case.family)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def coverage(err: np.ndarray, half: np.ndarray | float) -> float:
    """Share of entries with ``|err| <= half`` (a NaN estimate counts as a miss)."""
    ok = np.isfinite(err) & np.isfinite(half) & (np.abs(err) <= half)
    return float(np.mean(ok))


CHUNK = 10
"""Maps per cache file: an interrupted run keeps every finished chunk."""


def _cached_records(
    estimator: Any, cases: list[Case], n_draws: int, seed: int, file: Path
) -> tuple[dict[str, np.ndarray], float]:
    """Records of a chunk of cases and the seconds per map it took (read back if cached)."""
    if file.exists():
        with np.load(file) as data:
            rec = {k: data[k] for k in data.files}
        return rec, float(rec.pop("seconds_per_map"))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = records(estimator, cases, n_draws, seed)
    seconds = (time.perf_counter() - t0) / len(cases)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f"{file.stem}.{os.getpid()}.tmp.npz")  # shards may race on a chunk
    np.savez(tmp, seconds_per_map=seconds, **rec)  # type: ignore[arg-type]
    tmp.replace(file)
    return rec, seconds


def method_records(
    method: str,
    kernel: Any,
    cases: dict[str, list[Case]],
    n_draws: int,
    cache: Path,
    shard: tuple[int, int] = (0, 1),
) -> tuple[dict[str, dict[str, np.ndarray]], float]:
    """Records of each set of cases for a method (cached chunk by chunk), and s/map.

    With ``shard=(k, n)`` only every n-th chunk from the k-th is computed (several processes
    can share the work) and nothing is returned.
    """
    estimator = None
    out: dict[str, dict[str, np.ndarray]] = {}
    times = []
    index = 0
    grid = kernel.map_shape[0]
    for part, part_cases in cases.items():
        chunks = []
        for start in range(0, len(part_cases), CHUNK):
            index += 1
            if shard[1] > 1 and (index - 1) % shard[1] != shard[0]:
                continue
            chunk = part_cases[start : start + CHUNK]
            name = f"{CACHE_VERSION}_{method}_g{grid}_d{n_draws}_{part}_{start}_{len(chunk)}.npz"
            if estimator is None and not (cache / name).exists():
                estimator = make_estimator(method, kernel)
            seed = SEEDS[part] * 100_000 + start
            rec, seconds = _cached_records(estimator, chunk, n_draws, seed, cache / name)
            chunks.append(rec)
            times.append(seconds)
        if shard[1] == 1:
            out[part] = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return out, float(np.mean(times)) if times else float("nan")


@dataclass
class Row:
    """Test-set coverage of one quantity at one level."""

    quantity: str
    level: str
    raw: float
    scaled: float
    scaled_half: float
    calibrated: float
    calibrated_half: float
    multiplier: float
    floor: float
    n: int
    by_family: tuple[float, ...]
    median_error: float
    mean_error: float
    median_std: float


def summarise(rec_cal: dict, rec_test: dict) -> tuple[dict, list[Row]]:
    """Calibration learned on the calibration set and the test coverage rows.

    Three intervals are compared: uncalibrated (Gaussian multipliers of the bootstrap std),
    scaled (the std times a conformal multiplier, no floor) and calibrated (bias floor and
    multiplier of `fit_calibration`, what the package ships).
    """
    fits: dict[str, dict[str, Any]] = {}
    rows = []
    for q in QUANTITIES:
        err_c = rec_cal[f"{q}_est"] - rec_cal[f"{q}_true"]
        fit = fit_calibration(err_c, rec_cal[f"{q}_std"])
        scaled = conformal_multipliers(err_c, rec_cal[f"{q}_std"])
        fits[q] = fit
        err = rec_test[f"{q}_est"] - rec_test[f"{q}_true"]
        std = rec_test[f"{q}_std"]
        fam = rec_test[f"{q}_family"]
        for lv in LEVELS:
            k = fit["multiplier"][lv]
            half = half_width(std, k, fit["floor"])
            by_family = tuple(coverage(err[fam == f], half[fam == f]) for f in range(len(FAMILIES)))
            rows.append(
                Row(
                    q,
                    lv,
                    coverage(err, GAUSSIAN[lv] * std),
                    coverage(err, scaled[lv] * std),
                    float(np.nanmedian(scaled[lv] * std)),
                    coverage(err, half),
                    float(np.nanmedian(half)),
                    k,
                    fit["floor"],
                    int(err.size),
                    by_family,
                    float(np.nanmedian(np.abs(err))),
                    float(np.nanmean(err)),
                    float(np.nanmedian(std)),
                )
            )
    return fits, rows


def _intro(n_cal: int, n_test: int, command: str) -> list[str]:
    return [
        "# Coverage of bootstrap intervals",
        "",
        f"Command: `{command}`",
        "",
        f"{n_test} test maps and {n_cal} calibration maps (disjoint seeds), cement-like "
        "IR-CPMG acquisitions (48 x 1000), 1-3 components each, the four families in turn: "
        "narrow Gaussians (σ 0.04-0.15 decade), broad (FWHM 0.3-0.6 decade), skewed "
        "(skew-normal, |α| 1.5-4) and continuous (mixtures of 2-4 log-normals); tilted, "
        "T1 ≥ T2, SNR 50-1000, data from a 4x finer grid. Regions are boxes of ±2 std "
        "(at least ±0.3 decade) around each true component; a region's truth is the true "
        "distribution integrated in its box. Coverage: share of test regions whose true "
        "fraction (or log10 position, or log10 width; both axes) lies in the interval.",
        "",
        "- **uncalibrated**: ± 1 and 1.96 bootstrap std.",
        "- **scaled**: ± k × std, k the split-conformal quantile of |error| / std on the "
        "calibration set (the previous design).",
        "- **calibrated** (shipped): ± k × √(std² + τ²), the bias floor τ and k learned "
        "on the calibration set (`fit_calibration`).",
        "- *half*: median half-width on the test set (fraction: share of the signal; "
        "positions and widths: decades).",
        "- *median std*, *median |error|*, *mean error*: the test set's bootstrap std and "
        "error (estimate − truth) of the quantity, same units.",
        "",
        "Target after calibration, for fractions and positions: 60-76 % (68 %) and 90-98 % "
        "(95 %). s/map: wall seconds per map (inversion and bootstrap) on the shared "
        "machine that ran it.",
        "",
    ]


def table(results: dict[str, tuple], n_cal: int, n_test: int, command: str) -> str:
    """The Markdown report: per method and quantity, then the calibrated coverage per family."""
    lines = _intro(n_cal, n_test, command)
    lines += [
        "| method | grid | bootstrap | draws | s/map | quantity | nominal | uncalibrated | "
        "scaled | scaled half | calibrated | calibrated half | k | τ | n | median std | "
        "median \\|error\\| | mean error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, (grid, kind, draws, seconds, _, rows) in results.items():
        for r in rows:
            lines.append(
                f"| {method} | {grid}² | {kind} | {draws} | {seconds:.1f} | {r.quantity} | "
                f"{r.level} % | {100 * r.raw:.1f} % | {100 * r.scaled:.1f} % | "
                f"{r.scaled_half:.3g} | {100 * r.calibrated:.1f} % | {r.calibrated_half:.3g} | "
                f"{r.multiplier:.2f} | {r.floor:.3g} | {r.n} | {r.median_std:.2g} | "
                f"{r.median_error:.2g} | {r.mean_error:.2g} |"
            )
    lines += [
        "",
        "## Calibrated coverage per family",
        "",
        "| method | quantity | nominal | " + " | ".join(FAMILIES) + " |",
        "|---|---|---|" + "---|" * len(FAMILIES),
    ]
    for method, (*_, rows) in results.items():
        for r in rows:
            cells = " | ".join(f"{100 * c:.1f} %" for c in r.by_family)
            lines.append(f"| {method} | {r.quantity} | {r.level} % | {cells} |")
    not_run = [m for m in METHODS if m not in results]
    if not_run:
        lines += ["", f"Not run (time): {', '.join(not_run)}."]
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_coverage", description=__doc__)
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    p.add_argument("--n-cal", type=int, default=100, help="calibration maps")
    p.add_argument("--n-test", type=int, default=200, help="test maps")
    p.add_argument("--draws", type=int, default=None, help="draws per map (default per method)")
    p.add_argument("--quick", action="store_true", help="8 + 8 maps, global Tikhonov only")
    p.add_argument("--out", type=Path, default=None, help="Markdown report")
    p.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "laplace_inv_coverage",
        help="folder of cached per-chunk records (results do not depend on it)",
    )
    p.add_argument("--write-calibration", action="store_true", help="update calibration.json")
    p.add_argument(
        "--shard", default="0/1", help="K/N: compute every N-th chunk from the K-th, then stop"
    )
    return p.parse_args(argv)


def _write_calibration(results: dict[str, tuple], command: str, n_cal: int) -> None:
    file = ROOT / "laplace_inv" / "analysis" / "calibration.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    data["command"] = command
    for method, (grid, kind, draws, _, fits, _) in results.items():
        data["methods"][method] = {
            **{q: fit["multiplier"] for q, fit in fits.items()},
            "floor": {q: fit["floor"] for q, fit in fits.items()},
            "bootstrap": kind,
            "draws": draws,
            "grid": grid,
            "n_calibration_maps": n_cal,
        }
    file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    methods = [m.strip() for m in args.methods.replace(" ", ",").split(",") if m.strip()]
    if args.quick:
        args.n_cal, args.n_test, methods = 8, 8, ["tikhonov-global"]
    data_kernel = cement_kernel()
    cases = {  # the test set first: an interrupted run can still be summarised
        "test": make_cases(data_kernel, args.n_test, seed=SEEDS["test"]),
        "cal": make_cases(data_kernel, args.n_cal, seed=SEEDS["cal"]),
    }
    k, n = (int(v) for v in args.shard.split("/"))
    results = {}
    for method in methods:
        grid = GRIDS.get(method, 64)
        kernel = data_kernel if grid == 64 else cement_kernel(grid)
        draws = int(args.draws or DRAWS[method])
        recs, seconds = method_records(method, kernel, cases, draws, args.cache, shard=(k, n))
        if n > 1:
            continue
        fits, rows = summarise(recs["cal"], recs["test"])
        results[method] = (grid, KINDS.get(method, "resampled"), draws, seconds, fits, rows)
    if n > 1:
        return 0
    words = list(argv if argv is not None else sys.argv[1:])
    if "--cache" in words:  # where records are cached does not change the results
        i = words.index("--cache")
        del words[i : i + 2]
    command = ("python -m benchmarks.bench_coverage " + " ".join(words)).strip()
    report = table(results, args.n_cal, args.n_test, command)
    print(report)
    out = args.out or (None if args.quick else RESULTS / "coverage.md")
    if out is not None:
        out.write_text(report, encoding="utf-8")
    if args.write_calibration and not args.quick:
        _write_calibration(results, command, args.n_cal)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Coverage of the bootstrap intervals, uncalibrated and calibrated, on simulated maps.

Run (full table and the shipped calibration, from the repository root)::

    python -m benchmarks.bench_coverage --write-calibration

``--quick`` runs a CI-sized check (a few maps, global Tikhonov only) and writes nothing
unless ``--out`` is given.

Maps are cement-like acquisitions (the 48 x 1000 IR-CPMG layout, 64 x 64 grid) with 1-3
random components: half narrow (σ 0.04-0.15 decade), half broad (σ 0.15-0.4 decade), tilted
(|ρ| up to 0.6), SNR log-uniform in 50-1000, data simulated on a 4x finer grid. Regions are
boxes of ±2σ around each true component; the truth of a region is the true map integrated
in its box. A calibration set and a disjoint test set (different seeds) are drawn; per
method, split-conformal multipliers of the bootstrap std are learned on the calibration set
and the coverage of nominal 68 % and 95 % intervals of region fractions and log-positions
is measured on the test set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.analysis.calibration import GAUSSIAN, LEVELS, conformal_multipliers
from laplace_inv.analysis.regions import Box, integrate_regions
from laplace_inv.analysis.uncertainty import bootstrap
from laplace_inv.simulate import (
    PeakPrior,
    add_noise,
    cement_kernel,
    sample_peaks,
    simulate_decay,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("tikhonov-global", "dlemlr", "tikhonov-upen", "l1")
FAMILIES = {
    "narrow": PeakPrior(n_peaks=(1, 3), sigma=(0.04, 0.15), t1_ge_t2=True, min_separation=0.4),
    "broad": PeakPrior(n_peaks=(1, 3), sigma=(0.15, 0.4), t1_ge_t2=True, min_separation=0.4),
}
QUANTITIES = ("fraction", "log_position", "log_width")
SEEDS = {"cal": 1, "test": 2}
"""Seeds of the calibration and test sets (disjoint maps and noise)."""


@dataclass
class Case:
    """One simulated map: data, truth and boxes around its components."""

    data: np.ndarray
    truth: np.ndarray
    boxes: list[Box]
    family: str


def make_cases(kernel: Any, n: int, seed: int) -> list[Case]:
    """``n`` maps alternating narrow and broad families (seeded)."""
    rng = np.random.default_rng(seed)
    cases = []
    names = list(FAMILIES)
    for i in range(n):
        family = names[i % len(names)]
        peaks = sample_peaks(FAMILIES[family], kernel, rng)
        clean, truth = simulate_decay(kernel, peaks, oversample=4)
        snr = float(np.exp(rng.uniform(np.log(50.0), np.log(1000.0))))
        noisy, _ = add_noise(clean, snr, rng)
        boxes = [
            Box(
                f"c{k}",
                tuple(10.0 ** (p.center[0] + np.array([-2, 2]) * p.sigma[0])),
                tuple(10.0 ** (p.center[1] + np.array([-2, 2]) * p.sigma[1])),
            )
            for k, p in enumerate(peaks)
        ]
        cases.append(Case(noisy, truth, boxes, family))
    return cases


def make_estimator(method: str, kernel: Any) -> Any:
    """The estimator of a method key."""
    if method == "tikhonov-global":
        from laplace_inv import TikhonovInverter

        return TikhonovInverter(kernel, penalty="global")
    if method == "tikhonov-upen":
        from laplace_inv import TikhonovInverter

        return TikhonovInverter(kernel)
    if method == "dlemlr":
        from laplace_inv import DLEMLRInverter

        return DLEMLRInverter.from_pretrained(kernel)
    if method == "l1":
        from laplace_inv import L1Inverter

        return L1Inverter(kernel)
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def records(estimator: Any, cases: list[Case], n_draws: int, seed: int) -> dict[str, np.ndarray]:
    """Errors (estimate − truth) and bootstrap stds of every region of every case."""
    out: dict[str, list[float]] = {f"{q}_{kind}": [] for q in QUANTITIES for kind in ("err", "std")}
    out["family"] = []
    for i, case in enumerate(cases):
        res = bootstrap(
            estimator,
            case.data,
            regions=case.boxes,
            n_draws=n_draws,
            calibration=False,
            random_state=seed + i,
        )
        g1, g2 = estimator.kernel.grid1, estimator.kernel.grid2
        truths = integrate_regions(case.truth, g1, g2, case.boxes)
        for est, true in zip(res.regions, truths, strict=True):
            out["fraction_err"].append(est.fraction - true.fraction)
            out["fraction_std"].append(est.fraction_std)
            for ax in range(2):
                out["log_position_err"].append(est.log_mean[ax] - true.log_mean[ax])
                out["log_position_std"].append(est.log_mean_std[ax])
                out["log_width_err"].append(est.log_width[ax] - true.log_width[ax])
                out["log_width_std"].append(est.log_width_std[ax])
            out["family"].append(case.family == "broad")
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def coverage(err: np.ndarray, std: np.ndarray, k: float) -> float:
    """Share of entries with ``|err| <= k·std`` (a NaN estimate counts as a miss)."""
    ok = np.isfinite(err) & np.isfinite(std) & (np.abs(err) <= k * std)
    return float(np.mean(ok))


CHUNK = 20
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
    np.savez(file, seconds_per_map=seconds, **rec)  # type: ignore[arg-type]
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
    for part, part_cases in cases.items():
        chunks = []
        for start in range(0, len(part_cases), CHUNK):
            index += 1
            if shard[1] > 1 and (index - 1) % shard[1] != shard[0]:
                continue
            chunk = part_cases[start : start + CHUNK]
            name = f"{method}_d{n_draws}_{part}_{start}_{len(chunk)}.npz"
            if estimator is None and not (cache / name).exists():
                estimator = make_estimator(method, kernel)
            seed = SEEDS[part] * 100_000 + start
            rec, seconds = _cached_records(estimator, chunk, n_draws, seed, cache / name)
            chunks.append(rec)
            times.append(seconds)
        if shard[1] == 1:
            out[part] = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return out, float(np.mean(times)) if times else float("nan")


def summarise(rec_cal: dict, rec_test: dict) -> tuple[dict, list[tuple]]:
    """Multipliers learned on the calibration set and the test coverage rows."""
    mult: dict[str, dict[str, float]] = {}
    rows = []
    for q in QUANTITIES:
        if f"{q}_err" not in rec_cal or f"{q}_err" not in rec_test:
            continue  # records cached before this quantity was recorded
        mult[q] = conformal_multipliers(rec_cal[f"{q}_err"], rec_cal[f"{q}_std"])
        err, std = rec_test[f"{q}_err"], rec_test[f"{q}_std"]
        for lv in LEVELS:
            rows.append(
                (
                    q,
                    lv,
                    coverage(err, std, GAUSSIAN[lv]),
                    coverage(err, std, mult[q][lv]),
                    mult[q][lv],
                    err.size,
                )
            )
    return mult, rows


def table(results: dict[str, tuple], n_cal: int, n_test: int, command: str) -> str:
    """The Markdown report."""
    lines = [
        "# Coverage of bootstrap intervals",
        "",
        f"Command: `{command}`",
        "",
        f"{n_test} test maps and {n_cal} calibration maps (disjoint seeds), cement-like "
        "IR-CPMG acquisitions, 1-3 components each, half narrow (σ 0.04-0.15 decade) and half "
        "broad (σ 0.15-0.4), tilted, SNR 50-1000; regions are ±2σ boxes around each true "
        "component; a region's truth is the true map integrated in its box. Coverage: share "
        "of test regions whose true fraction (or log10 position, or log10 width; both axes) "
        "lies in the interval. Uncalibrated: ± 1 and 1.96 bootstrap std; calibrated: "
        "± multiplier × std, the multiplier learned on the calibration set (split "
        "conformal). Target after calibration, for fractions and positions: 60-76 % (68 %) "
        "and 90-98 % (95 %). s/map: wall seconds per map (bootstrap included) on the machine "
        "that ran it. Rows for log_width appear only where widths were recorded.",
        "",
        "| method | bootstrap | draws | s/map | quantity | nominal | uncalibrated | "
        "calibrated | multiplier | n |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, (kind, draws, seconds, _, rows) in results.items():
        for q, lv, raw, cal, k, n in rows:
            lines.append(
                f"| {method} | {kind} | {draws} | {seconds:.1f} | {q} | {lv} % | "
                f"{100 * raw:.1f} % | {100 * cal:.1f} % | {k:.2f} | {n} |"
            )
    not_run = [m for m in METHODS if m not in results]
    if not_run:
        lines += ["", f"Not run (time): {', '.join(not_run)}."]
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_coverage", description=__doc__)
    p.add_argument("--methods", default="tikhonov-global,dlemlr", help="comma-separated")
    p.add_argument("--n-cal", type=int, default=100, help="calibration maps")
    p.add_argument("--n-test", type=int, default=200, help="test maps")
    p.add_argument("--draws", type=int, default=None, help="draws per map (default per kind)")
    p.add_argument("--dlemlr-draws", type=int, default=12, help="DLEMLR draws per map")
    p.add_argument("--quick", action="store_true", help="6 + 6 maps, global Tikhonov only")
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


def _draws(method: str, args: argparse.Namespace) -> int:
    if method == "dlemlr":
        return int(args.dlemlr_draws)
    return int(args.draws or (200 if method == "tikhonov-global" else 30))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    methods = [m.strip() for m in args.methods.replace(" ", ",").split(",") if m.strip()]
    if args.quick:
        args.n_cal, args.n_test, methods = 6, 6, ["tikhonov-global"]
    kernel = cement_kernel()
    cases = {  # the test set first: an interrupted run can still be summarised
        "test": make_cases(kernel, args.n_test, seed=SEEDS["test"]),
        "cal": make_cases(kernel, args.n_cal, seed=SEEDS["cal"]),
    }
    k, n = (int(v) for v in args.shard.split("/"))
    if n > 1:
        for method in methods:
            draws = _draws(method, args)
            method_records(method, kernel, cases, draws, args.cache, shard=(k, n))
        return 0
    results = {}
    for method in methods:
        draws = _draws(method, args)
        kind = {"tikhonov-global": "linear", "dlemlr": "batched"}.get(method, "resampled")
        recs, seconds = method_records(method, kernel, cases, draws, args.cache)
        mult, rows = summarise(recs["cal"], recs["test"])
        results[method] = (kind, draws, seconds, mult, rows)
    words = list(argv if argv is not None else sys.argv[1:])
    if "--cache" in words:  # where records are cached does not change the results
        i = words.index("--cache")
        del words[i : i + 2]
    command = "python -m benchmarks.bench_coverage " + " ".join(words)
    report = table(results, args.n_cal, args.n_test, command.strip())
    print(report)
    out = args.out or (None if args.quick else RESULTS / "coverage.md")
    if out is not None:
        out.write_text(report, encoding="utf-8")
    if args.write_calibration and not args.quick:
        file = ROOT / "laplace_inv" / "analysis" / "calibration.json"
        data = json.loads(file.read_text(encoding="utf-8"))
        data["command"] = command.strip()
        for method, (kind, draws, _, mult, _) in results.items():
            data["methods"][method] = {
                **mult,
                "bootstrap": kind,
                "draws": draws,
                "n_calibration_maps": args.n_cal,
            }
        file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

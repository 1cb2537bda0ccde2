"""DLEMLR on real data: raw network output and the default (data-consistent) output beside UPEN.

For cement IR-CPMG, Maastricht T2-T2, SSE D-T2 and the Spinsolve D-T2 export (real files
under ``LAPLACE_INV_DATA``), on each dataset's own grid and on 80 × 80 and 128 × 128 grids
over the same range: residual/noise of UPEN, raw DLEMLR (``refine=False``) and default
DLEMLR (``refine=True``), their ratio to UPEN's (target ≤ 1.1), the data-consistency record
(``λ`` reached, iterations, stop), and the distance of the found peaks (≥ 3 % of the mass) to
the published references: both cement peaks against MUpen2D, the Maastricht dominant peak
against Upen2DTool (target ≤ 0.1 decade), and for the Spinsolve export (water) the D of the
dominant peak against free water's 2.0-2.3e-9 m²/s. Then (skip with ``--no-path``) where the
data move the peaks: the consistency problem solved to convergence at fixed ``λ`` on each
dataset, the peaks around the Maastricht reference, and the Spinsolve export row by row with
mono-exponential fits of its diffusion decay. Then the speed of one cement map (warm median,
alone and beside a process running 2-thread matrix products) and of batches of simulated
cement-like maps (maps/s), raw and default; targets ≤ 30 ms and ≥ 300 maps/s.

Run ``LAPLACE_INV_DATA=/work/shared/data python -m benchmarks.bench_dlemlr_real
--markdown benchmarks/results/dlemlr_real.md`` (a few minutes).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine_speed import probe_line
from benchmarks.markdown import emit_table

GRIDS = (None, 80, 128)
PEAK_MIN_FRACTION = 0.03
#: Seeds of the simulated maps: `benchmarks.bench_dlemlr`'s validation set, not its test set.
VALIDATION_SEED = 8_000_000
#: Free water's self-diffusion coefficient at room temperature (m²/s): the reference for the
#: dominant component of the Spinsolve D-T2 export (a water sample).
FREE_WATER_D = (2.0e-9, 2.3e-9)
#: ``λ/σ²max`` at which the converged consistency path is shown (the default path's stages).
PATH_LAMBDAS = (1e-4, 2e-5, 4e-6, 8e-7, 1.6e-7, 3.2e-8)
#: ADMM iterations per ``λ`` of the converged path (cold start from the network's map).
PATH_ITERATIONS = 2000
#: Echoes summed per row in the Spinsolve row table (about 0.2 s of the CPMG train).
ROW_ECHOES = 1000
#: Radius (decades) around a reference peak within which found peaks are listed.
NEIGHBOURHOOD = 0.5
COMMAND = (
    "LAPLACE_INV_DATA=/work/shared/data python -m benchmarks.bench_dlemlr_real "
    "--markdown benchmarks/results/dlemlr_real.md"
)


def datasets() -> list[tuple[str, Any, np.ndarray, float | None, list[dict]]]:
    """``(name, kernel, data, noise_std, reference peaks)`` of each available dataset."""
    from laplace_inv import datasets as ds_module
    from laplace_inv.io import read_any

    out = []
    for name, loader in (
        ("cement IR-CPMG", "load_cement_t1t2"),
        ("Maastricht T2-T2", "load_maastricht_t2t2"),
        ("SSE D-T2", "load_sse_dt2"),
    ):
        try:
            ds = getattr(ds_module, loader)()
        except (OSError, KeyError, ValueError) as exc:
            print(f"{name}: unavailable ({exc})")
            continue
        refs = [r for r in ds.reference_peaks if r.get("published")]
        out.append((name, ds.kernel, np.asarray(ds.data, float), ds.noise_std, refs))
    root = os.environ.get("LAPLACE_INV_DATA")
    spinsolve = Path(root or ".") / "nmrinversions_examples" / "spinsolve_txt" / "PFGCPMG"
    if root and spinsolve.is_dir():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reader's note on negative rows
            acq = read_any(spinsolve)
        water = {"d_range": FREE_WATER_D, "label": "free water"}
        out.append(("Spinsolve D-T2", acq.kernel(), acq.data, acq.noise_std, [water]))
    return out


def regrid(kernel: Any, n: int | None) -> Any:
    """``kernel`` on ``n`` × ``n`` geometric grids over the same range (None: as it is)."""
    if n is None:
        return kernel
    g1, g2 = kernel.grid1, kernel.grid2
    return kernel.with_grids(np.geomspace(g1[0], g1[-1], n), np.geomspace(g2[0], g2[-1], n))


def peak_distances(res: Any, refs: list[dict]) -> tuple[list[float], list[float]]:
    """Per reference peak, the distance (decades) of the found peak scored against it, and
    of the nearest found peak. The scored peak is the nearest one, except for a single
    reference (a dominant peak): then the found peak holding the most mass."""
    found = res.peaks(min_fraction=PEAK_MIN_FRACTION)
    if not found:
        return [float("nan")] * len(refs), [float("nan")] * len(refs)
    scored, nearest = [], []
    for ref in refs:
        target = np.log10(np.asarray(ref["position"], dtype=float))
        dist = [float(np.hypot(*(np.array(p.log_position) - target))) for p in found]
        nearest.append(min(dist))
        dominant = int(np.argmax([p.fraction for p in found]))
        scored.append(dist[dominant] if len(refs) == 1 else min(dist))
    return scored, nearest


def dominant(res: Any) -> Any:
    """The found peak (≥ 3 % of the mass) holding the most mass."""
    return max(res.peaks(min_fraction=PEAK_MIN_FRACTION), key=lambda p: p.fraction)


def dominant_in_range(res: dict[str, Any], d_range: tuple[float, float]) -> tuple[str, str]:
    """The table cells for a reference range of the first axis (D): the dominant peak's
    position on that axis per method, and whether the default output's lies in the range."""
    d = {m: dominant(r).position[0] for m, r in res.items()}
    cell = " / ".join(f"{v:.3g}" for v in d.values())
    cell += f" (dominant D, m²/s; free water {d_range[0] * 1e9:.1f}-{d_range[1] * 1e9:.1f}e-9)"
    return cell, "yes" if d_range[0] <= d["default"] <= d_range[1] else "no"


def invert_all(kernel: Any, data: np.ndarray, noise: float | None) -> dict[str, Any]:
    from laplace_inv.dlemlr import DLEMLRInverter
    from laplace_inv.methods import make_inverter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "UPEN": make_inverter("upen", kernel).invert(data, noise_std=noise),
            "raw": DLEMLRInverter.from_pretrained(kernel, refine=False).invert(
                data, noise_std=noise
            ),
            "default": DLEMLRInverter.from_pretrained(kernel).invert(data, noise_std=noise),
        }


def accuracy_rows(sets: list) -> list[str]:
    rows = [
        "| dataset | grid | UPEN r/n | raw r/n (÷ UPEN) | default r/n (÷ UPEN) | ≤ 1.1 × UPEN "
        "| default: λ/σ²max, iterations, stop | peaks vs reference (dec): UPEN / raw / default "
        "| ≤ 0.1 dec |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, kernel, data, noise, refs in sets:
        for n in GRIDS:
            k = regrid(kernel, n)
            t0 = time.perf_counter()
            res = invert_all(k, data, noise)
            upen = res["UPEN"].residual_to_noise
            cells = {m: res[m].residual_to_noise for m in ("raw", "default")}
            info = res["default"].info
            record = (
                f"{info['consistency_lambda']:.1e}, {info['consistency_iterations']}, "
                f"{info['consistency_stop']}"
            )
            if refs and "d_range" in refs[0]:
                peaks, ok = dominant_in_range(res, refs[0]["d_range"])
            elif refs:
                d = {m: peak_distances(r, refs) for m, r in res.items()}
                peaks = " / ".join(",".join(f"{x:.2f}" for x in d[m][0]) for m in res)
                if len(refs) == 1:  # a dominant peak: also the nearest found peak
                    near = " / ".join(f"{d[m][1][0]:.2f}" for m in res)
                    peaks += f" (nearest: {near})"
                ok = "yes" if max(d["default"][0]) <= 0.1 else "no"
            else:
                peaks, ok = "no reference", "—"
            rows.append(
                f"| {name} | {k.map_shape[0]}×{k.map_shape[1]} | {upen:.3f} "
                f"| {cells['raw']:.3f} ({cells['raw'] / upen:.2f}) "
                f"| {cells['default']:.3f} ({cells['default'] / upen:.2f}) "
                f"| {'yes' if cells['default'] <= 1.1 * upen else 'no'} | {record} | {peaks} "
                f"| {ok} |"
            )
            print(rows[-1], f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return rows


def simulated_rows(n_maps: int) -> list[str]:
    """Raw and default output on validation maps of `benchmarks.bench_dlemlr` (cement)."""
    from benchmarks.bench_dlemlr import map_scores, random_cases
    from laplace_inv.dlemlr import DLEMLRInverter
    from laplace_inv.simulate import cement_kernel

    kernel = cement_kernel()
    cases = random_cases(kernel, n_maps, seed0=VALIDATION_SEED)
    rows = [
        "| output | residual/noise: median, max | matched position error (dec) | missed "
        "| mass-fraction error |",
        "|---|---|---|---|---|",
    ]
    for name, refine in (("raw", False), ("default", True)):
        est = DLEMLRInverter.from_pretrained(kernel, refine=refine)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = [est.invert(sc.data, noise_std=sc.noise_std) for sc in cases]
        rn = np.array([r.residual_to_noise for r in results])
        sc = map_scores(cases, [r.map for r in results])
        rows.append(
            f"| {name} | {np.median(rn):.3f}, {rn.max():.3f} | {sc['position_matched']:.3f} "
            f"| {sc['missed']:.1%} | {sc['fraction_error']:.3f} |"
        )
    return rows


def _peak_cell(F: np.ndarray, kernel: Any) -> str:
    """Position and mass share of the dominant peak (≥ 3 %) of a map."""
    from laplace_inv.metrics import find_peaks

    found = find_peaks(F, kernel.grid1, kernel.grid2, min_fraction=PEAK_MIN_FRACTION)
    return _peak_text(max(found, key=lambda q: q.fraction))


def _peak_text(p: Any) -> str:
    """``(axis 1, axis 2) share`` of a found peak, as the tables print it."""
    return f"({p.position[0]:.3g}, {p.position[1]:.3g}) {p.fraction:.0%}"


def rms_over(kernel: Any, F: np.ndarray, data: np.ndarray, sigma: float) -> float:
    """RMS residual of the map ``F`` over ``sigma``."""
    return float(np.sqrt(np.mean((kernel.forward(F) - data) ** 2)) / sigma)


def _path_row(
    case: tuple[str, Any, np.ndarray, float, np.ndarray], output: str, lam: str, its: int, F: Any
) -> str:
    """One row of the converged-path table: ``case`` is ``(name, kernel, data, σ, F_net)``."""
    name, kernel, data, sigma, net = case
    rn = rms_over(kernel, F, data, sigma)
    dist = np.linalg.norm(F - net) / np.linalg.norm(net)
    return (
        f"| {name} | {output} | {lam} | {its} | {rn:.4f} | {dist:.3f} | {_peak_cell(F, kernel)} |"
    )


def _converged_maps(kernel: Any, data: np.ndarray, net: np.ndarray) -> list[np.ndarray]:
    """The consistency solved at each of `PATH_LAMBDAS` from the network's map ``net``."""
    import torch

    from laplace_inv.dlemlr.compressed import problem
    from laplace_inv.dlemlr.consistency import ConsistencySettings
    from laplace_inv.dlemlr.features import project_tensor
    from laplace_inv.dlemlr.inference import consistency_step

    S = torch.from_numpy(np.asarray(data, dtype=np.float64))[None]
    scales = S.abs().amax(dim=(1, 2))
    prob = problem(kernel)
    projected = project_tensor(prob, S, scales)
    prior = torch.from_numpy(net)[None] / scales[:, None, None]
    out = []
    for lam in PATH_LAMBDAS:
        settings = ConsistencySettings(
            max_iter=PATH_ITERATIONS,
            lambda_start=lam,
            lambda_min=lam,
            stage_iterations=PATH_ITERATIONS,
            stagnation=0.0,
        )
        maps, _, _ = consistency_step(prob, prior, S, scales, projected, settings)
        out.append(maps[0].clamp_min(0.0).numpy() * float(scales[0]))
    return out


def converged_path_rows(sets: list) -> list[str]:
    """Per dataset (its own grid): the raw and default outputs, then the consistency solved
    to convergence at fixed ``λ`` (`PATH_LAMBDAS`, `PATH_ITERATIONS` iterations from the
    network's map): r/n, distance to the network's map, dominant peak."""
    from laplace_inv.dlemlr import DLEMLRInverter

    rows = [
        "| dataset | output | λ/σ²max | iterations | r/n | ‖F − F_net‖ / ‖F_net‖ "
        "| dominant peak (axis 1, axis 2) mass |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, kernel, data, noise, _ in sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = DLEMLRInverter.from_pretrained(kernel, refine=False).invert(data, noise_std=noise)
            default = DLEMLRInverter.from_pretrained(kernel).invert(data, noise_std=noise)
        sigma = float(noise) if noise else float(raw.info["noise_estimate"])
        case = (name, kernel, data, sigma, raw.map)
        info = default.info
        rows.append(_path_row(case, "raw", "—", 0, raw.map))
        lam = f"{info['consistency_lambda']:.1e}"
        rows.append(_path_row(case, "default", lam, info["consistency_iterations"], default.map))
        for lam_rel, F in zip(PATH_LAMBDAS, _converged_maps(kernel, data, raw.map), strict=True):
            rows.append(_path_row(case, "converged", f"{lam_rel:.1e}", PATH_ITERATIONS, F))
        print(rows[-1], flush=True)
    return rows


def _peaks_near(res: Any, target: np.ndarray) -> str:
    """The found peaks (≥ 3 %) of ``res`` within `NEIGHBOURHOOD` decade of ``target``
    (log10 position), largest first."""
    found = res.peaks(min_fraction=PEAK_MIN_FRACTION)
    near = [p for p in found if np.hypot(*(np.array(p.log_position) - target)) <= NEIGHBOURHOOD]
    near.sort(key=lambda p: -p.fraction)
    return ", ".join(_peak_text(p) for p in near)


def reference_neighbourhood_rows(sets: list) -> list[str]:
    """For each dataset with one published reference peak, per grid: the peaks (≥ 3 %)
    within `NEIGHBOURHOOD` decade of it, found by UPEN and by default DLEMLR."""
    from laplace_inv.dlemlr import DLEMLRInverter
    from laplace_inv.methods import make_inverter

    rows = [
        f"| dataset | grid | reference | UPEN: peaks within {NEIGHBOURHOOD} dec "
        "| default DLEMLR: peaks within it |",
        "|---|---|---|---|---|",
    ]
    for name, kernel, data, noise, refs in sets:
        if len(refs) != 1 or "position" not in refs[0]:
            continue
        ref = refs[0]
        target = np.log10(np.asarray(ref["position"], dtype=float))
        where = ", ".join(f"{v:.3g}" for v in ref["position"])
        share = f"{ref['fraction']:.0%}" if "fraction" in ref else ""
        for n in GRIDS:
            k = regrid(kernel, n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                upen = make_inverter("upen", k).invert(data, noise_std=noise)
                dl = DLEMLRInverter.from_pretrained(k).invert(data, noise_std=noise)
            rows.append(
                f"| {name} | {k.map_shape[0]}×{k.map_shape[1]} | ({where}) {share} "
                f"| {_peaks_near(upen, target)} | {_peaks_near(dl, target)} |"
            )
    return rows


def _mono_exponential(x: np.ndarray, a: float, d: float, c: float = 0.0) -> np.ndarray:
    """``a·exp(−x·d·10⁻⁹) + c``: a diffusion decay in b (s/m²), ``d`` in 10⁻⁹ m²/s."""
    return a * np.exp(-x * d * 1e-9) + c


def spinsolve_rows(sets: list) -> list[str]:
    """The Spinsolve D-T2 export row by row: b, signal over noise, mono-exponential fits."""
    from scipy.optimize import curve_fit

    found = [s for s in sets if s[0].startswith("Spinsolve")]
    if not found:
        return ["The Spinsolve export is not available."]
    _, kernel, data, noise, _ = found[0]
    b = np.asarray(kernel.axis1.tau, dtype=float)
    y = np.asarray(data, dtype=float)[:, :ROW_ECHOES].sum(axis=1)
    sd = float(noise) * np.sqrt(ROW_ECHOES)
    head = "| row | " + " | ".join(str(i) for i in range(len(b))) + " |"
    lines = [
        head,
        "|---" * (len(b) + 1) + "|",
        "| b (10⁹ s/m²) | " + " | ".join(f"{v / 1e9:.2f}" for v in b) + " |",
        "| signal / noise | " + " | ".join(str(round(v / sd)) for v in y) + " |",
        "",
        "| mono-exponential fit of the row sums | D (m²/s) ± 1 s.d. | offset / amplitude |",
        "|---|---|---|",
    ]
    fits = (
        ("all rows, a·exp(−bD)", slice(None), False),
        ("all rows, a·exp(−bD) + c", slice(None), True),
        ("rows 1-15, a·exp(−bD) + c", slice(1, None), True),
        ("rows 0-6, a·exp(−bD)", slice(0, 7), False),
        ("rows 1-6, a·exp(−bD)", slice(1, 7), False),
    )
    for label, rows, offset in fits:
        p0 = [y[rows][0], 2.0] + ([0.0] if offset else [])
        p, cov = curve_fit(_mono_exponential, b[rows], y[rows], p0=p0)
        off = f"{p[2] / p[0]:+.3f}" if offset else "—"
        lines.append(f"| {label} | {p[1]:.2f}e-9 ± {np.sqrt(cov[1, 1]):.2f}e-9 | {off} |")
    return lines


def single_map_ms(est: Any, S: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of one warm ``invert``."""
    est.invert(S)  # warm-up: weights, operator, caches
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        est.invert(S)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return 1e3 * float(np.median(wall)), 1e3 * float(np.median(cpu))


def batch_rate(est: Any, X: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median maps per wall second and per CPU second of ``predict`` on ``X``."""
    est.predict(X[:8])
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        est.predict(X)
        wall.append(len(X) / (time.perf_counter() - t))
        cpu.append(len(X) / (time.process_time() - c))
    return float(np.median(wall)), float(np.median(cpu))


def speed_rows(n_batch: int, repeats: int, threads: int) -> list[str]:
    from benchmarks.bench_load import load_case, start_busy, stop_busy
    from laplace_inv.dlemlr import DLEMLRInverter
    from laplace_inv.simulate import PeakPrior, make_training_set

    kernel, S, source = load_case()
    prior = PeakPrior(n_peaks=(1, 4), sigma=(0.05, 0.3), rho=(-0.3, 0.3), min_separation=0.3)
    X, _, _ = make_training_set(kernel, n_batch, prior=prior, snr=(100.0, 1000.0), random_state=5)
    X = X.reshape(n_batch, *kernel.data_shape)
    ests = {
        "raw": DLEMLRInverter.from_pretrained(kernel, refine=False),
        "default": DLEMLRInverter.from_pretrained(kernel),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = {m: single_map_ms(e, S, repeats) for m, e in ests.items()}
        rate = {m: batch_rate(e, X, 3) for m, e in ests.items()}
        iters = np.mean([ests["default"].invert(x).info["consistency_iterations"] for x in X[:32]])
        busy_proc = start_busy()
        try:
            busy = {m: single_map_ms(e, S, repeats) for m, e in ests.items()}
        finally:
            stop_busy(busy_proc)
    rows = [
        f"Single map: {source}, {kernel.map_shape[0]}×{kernel.map_shape[1]} grid (a single map "
        f"runs on one torch thread). Batches: {n_batch} simulated cement-like maps (1-4 peaks, "
        f"SNR 100-1000; the default output spends {iters:.0f} iterations per map on the first "
        f"32), "
        f"torch on {threads} thread(s). Wall times depend on the machine's load; CPU time "
        "(`time.process_time`) does much less. Two cores run two such workers "
        "(`predict(..., n_jobs=2)`), so the two-core rate is about twice the per-CPU-second "
        "rate on one thread.",
        "",
        "| output | one map, warm: wall (CPU) ms | one map beside a busy process: wall (CPU) ms "
        "| batch: maps/s wall | batch: maps per CPU second | ≤ 30 ms (CPU) | ≥ 300 maps/s "
        "on 2 cores (2 × per CPU second) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in ests:
        (w1, c1), (wb, cb), (rw, rc) = single[m], busy[m], rate[m]
        rows.append(
            f"| {m} | {w1:.1f} ({c1:.1f}) | {wb:.1f} ({cb:.1f}) | {rw:.0f} | {rc:.0f} "
            f"| {'yes' if c1 <= 30 else 'no'} | {'yes' if 2 * rc >= 300 else 'no'} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markdown", default=None, help="also write the tables here")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--batch", type=int, default=256, help="maps per timed batch")
    ap.add_argument("--repeats", type=int, default=15, help="timed single-map calls")
    ap.add_argument("--no-speed", action="store_true", help="skip the timing section")
    ap.add_argument("--no-path", action="store_true", help="skip the converged-path section")
    ap.add_argument("--simulated", type=int, default=80, help="simulated maps (0: skip)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    probe = probe_line()
    t0 = time.perf_counter()
    sets = datasets()
    lines = [
        "# DLEMLR on real data: raw and default output beside UPEN, any grid, speed",
        "",
        f"Command: `{COMMAND}`",
        "",
        f"- Machine: {os.cpu_count()} CPUs shared with other users, torch on {args.threads} "
        f"thread(s); 1-minute load average {load:.1f} at the start.",
        probe,
        "- r/n: RMS residual / noise (noise from the dataset record, else estimated from the "
        "data outside the kernels' range). raw = `refine=False`, default = `refine=True` "
        "(data consistency). λ/σ²max, iterations and stop: the default output's record "
        "(`info`).",
        "- Peaks: found peaks holding ≥ 3 %; per published reference peak the distance in "
        "decades (log10 of both axes) of the nearest one (cement: main, minor peak of "
        "MUpen2D), or for a single reference the peak holding the most mass (Maastricht: "
        "the dominant peak of Upen2DTool). SSE's indicative positions are unpublished. The "
        "Spinsolve export (water): the D of the peak holding the most mass against free "
        "water's self-diffusion coefficient at room temperature, 2.0-2.3e-9 m²/s.",
        "",
        *accuracy_rows(sets),
    ]
    if not args.no_path:
        lines += [
            "",
            "## Where the data move the peaks: the consistency solved to convergence",
            "",
            "Own grid of each dataset. raw: the network's map F_net; default: the default "
            "output (its `info`); converged: the consistency problem min ½‖K̃F − S̃‖² + "
            "½λ‖F − F_net‖², F ≥ 0, solved at fixed λ by "
            f"{PATH_ITERATIONS} ADMM iterations from F_net "
            "(`laplace_inv.dlemlr.inference.consistency_step`). r/n as in the first table "
            "(4 decimals); the dominant peak is the found peak (≥ 3 %) holding the most mass, "
            "at (axis 1, axis 2) in the kernel's units (s, m²/s).",
            "",
            *converged_path_rows(sets),
            "",
            "## Around the Maastricht reference peak",
            "",
            "The found peaks (≥ 3 %) within 0.5 decade of the Upen2DTool dominant peak, "
            "largest first, on each grid; the reference column gives its position (s) and "
            "its mass share in the published map.",
            "",
            *reference_neighbourhood_rows(sets),
            "",
            "## The Spinsolve D-T2 export row by row",
            "",
            f"Signal: the sum of the first {ROW_ECHOES} echoes of each row (b step) as the "
            "reader returns it, over its noise (noise_std × √echoes). Fits: least squares "
            "(`scipy.optimize.curve_fit`) of a·exp(−bD) (+ c) to those sums.",
            "",
            *spinsolve_rows(sets),
        ]
    if args.simulated:
        lines += [
            "",
            f"## Simulated cement maps ({args.simulated}, validation seeds)",
            "",
            "The random maps of `benchmarks.bench_dlemlr` (1-4 peaks, SNR 100-1000) from its "
            f"validation seeds ({VALIDATION_SEED} + i), scored as there (peaks paired within "
            "0.5 decade); the noise is the simulated one.",
            "",
            *simulated_rows(args.simulated),
        ]
    if not args.no_speed:
        lines += ["", "## Speed", "", *speed_rows(args.batch, args.repeats, args.threads)]
    lines += ["", f"Run took {time.perf_counter() - t0:.0f} s."]
    emit_table(lines, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

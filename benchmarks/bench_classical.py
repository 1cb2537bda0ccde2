"""Classical baselines side by side (issue 3): UPEN, global Tikhonov (GCV) and L1.

One command prints one table::

    LAPLACE_INV_DATA=../shared/data python -m benchmarks.bench_classical

Sections: the real cement IR-CPMG data against the MUpen2D reference (3 timed runs each,
median time), Maastricht T2-T2 against the Upen2DTool reference (on that tool's grid: T2a in
[1e-2, 3e3] ms, T2b in [1e-1, 3e3] ms), SSE D-T2 (residual/noise, edge mass), the simulated
scenarios (cement_like, cheese_like, resolution pairs at 0.3/0.5/0.7 decade and SNR 100/1000)
with the project's truth metrics, and the inversion-efficiency/offset experiment (e = 0.8,
2 % offset). ``--quick`` runs one timing per method and skips the slowest rows. Real-data rows
are skipped when the data cannot be found.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from laplace_inv.classical import TikhonovInverter
from laplace_inv.classical.robust import edge_mass, fit_acquisition_model, kernel_with_efficiency
from laplace_inv.methods import make_inverter
from laplace_inv.metrics import compare_to_truth, find_peaks, resolved
from laplace_inv.simulate import cement_like, cheese_like, make_scenario, resolution_pair

try:  # written in parallel by another engineer
    from laplace_inv.classical.l1 import L1Inverter
except ImportError:  # pragma: no cover
    L1Inverter = None

REF_CEMENT_MAIN = (0.1124, 0.01955)
REF_CEMENT_MINOR = (0.097, 0.00079)
REF_CEMENT_SHARE = 0.85
REF_CEMENT_RESIDUAL = 2.3e-2
REF_MAASTRICHT = (0.272, 0.303)
REF_MAASTRICHT_SHARE = 0.56

ROWS: list[tuple[str, str, str]] = []


def row(section: str, name: str, text: str) -> None:
    ROWS.append((section, name, text))
    print(f"{section:<11} {name:<34} {text}", flush=True)


def methods(kernel) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {
        "UPEN": lambda: make_inverter("upen", kernel),
        "Tikhonov-GCV": lambda: TikhonovInverter(kernel, penalty="global", alpha="gcv"),
        "Tikhonov-discrepancy (default)": lambda: make_inverter("tikhonov", kernel),
    }
    if L1Inverter is not None:
        out["L1"] = lambda: make_inverter("l1", kernel)
    return out


def run(make: Callable[[], Any], S: np.ndarray, repeats: int = 1, noise_std=None):
    """Invert ``repeats`` times; return the last result, the median time and warnings."""
    times, res, caught = [], None, []
    for _ in range(repeats):
        est = make()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            res = est.invert(S, noise_std=noise_std)
            times.append(time.perf_counter() - t0)
        caught += [str(x.message)[:60] for x in w if issubclass(x.category, ConvergenceWarning)]
    return res, statistics.median(times), caught


def nearest(peaks, target):
    lt = np.log10(target)
    return min(peaks, key=lambda p: float(np.hypot(*(np.array(p.log_position) - lt))))


def dlog(p, target) -> tuple[float, float]:
    d = np.array(p.log_position) - np.log10(target)
    return float(d[0]), float(d[1])


def cement_section(repeats: int) -> None:
    from laplace_inv.datasets import load_cement_t1t2

    try:
        ds = load_cement_t1t2()
    except OSError as exc:
        row("cement", "(skipped)", str(exc)[:80])
        return
    row(
        "cement",
        "reference MUpen2D",
        "main 112.4/19.55 ms 85 %, minor 97/0.79 ms 9 %, "
        "res 2.3e-2, Upen2DTool 26.6 s / MUpen2D 64.5 s (Octave)",
    )
    for name, make in methods(ds.kernel).items():
        res, t, warn = run(make, ds.data, repeats)
        pk = res.peaks()
        main, minor = nearest(pk, REF_CEMENT_MAIN), nearest(pk, REF_CEMENT_MINOR)
        dm, dn = dlog(main, REF_CEMENT_MAIN), dlog(minor, REF_CEMENT_MINOR)
        ok = (
            max(map(abs, dm + dn)) <= 0.05,
            abs(main.fraction - REF_CEMENT_SHARE) <= 0.05,
            abs(res.relative_residual / REF_CEMENT_RESIDUAL - 1) <= 0.1,
            t <= 1.0,
        )
        row(
            "cement",
            name,
            f"main {main.position[0] * 1e3:.1f}/{main.position[1] * 1e3:.2f} ms "
            f"({main.fraction:.1%}) d=({dm[0]:+.3f},{dm[1]:+.3f}) | minor "
            f"{minor.position[0] * 1e3:.1f}/{minor.position[1] * 1e3:.3f} ms "
            f"({minor.fraction:.1%}) "
            f"d=({dn[0]:+.3f},{dn[1]:+.3f}) | res {res.relative_residual:.3e} | "
            f"median {t:.2f} s ({repeats} runs) | pos/share/res/time ok: "
            f"{'/'.join('y' if o else 'n' for o in ok)}{' | WARN ' + warn[0] if warn else ''}",
        )
        if name == "UPEN":
            info = res.info
            row(
                "cement",
                "  UPEN iterations",
                f"outer {info['outer_iterations']}, inner exchanges {info['inner_iterations']}, "
                f"factorisations {info['factorizations']}, CG 0, start {info['start_iterations']}",
            )


def maastricht_section(repeats: int) -> None:
    from laplace_inv.datasets import load_maastricht_t2t2

    try:
        ds = load_maastricht_t2t2()
    except OSError as exc:
        row("maastricht", "(skipped)", str(exc)[:80])
        return
    kernel = ds.kernel.with_grids(np.geomspace(1e-5, 3.0, 64), np.geomspace(1e-4, 3.0, 64))
    ref_dir = Path(ds.files[next(iter(ds.files))]).parent / "reference_upen2dtool"
    if ref_dir.is_dir():
        M = np.loadtxt(ref_dir / "2D_Distribution.txt")
        g1 = np.loadtxt(ref_dir / "T1.txt") * 1e-3
        g2 = np.loadtxt(ref_dir / "T2.txt") * 1e-3
        p = find_peaks(M, g1, g2)[0]
        row(
            "maastricht",
            "reference map, same measures",
            f"max {g1[p.index[0]] * 1e3:.0f}/{g2[p.index[1]] * 1e3:.0f} ms, centroid "
            f"{p.position[0] * 1e3:.0f}/{p.position[1] * 1e3:.0f} ms, watershed share "
            f"{p.fraction:.1%} (published: 272/303 ms, 56 %)",
        )
    for name, make_ in methods(kernel).items():
        res, t, warn = run(make_, ds.data, repeats)
        p = find_peaks(res.map, kernel.grid1, kernel.grid2)[0]
        mx = (kernel.grid1[p.index[0]], kernel.grid2[p.index[1]])
        dmax = np.log10(mx) - np.log10(REF_MAASTRICHT)
        row(
            "maastricht",
            name,
            f"max {mx[0] * 1e3:.0f}/{mx[1] * 1e3:.0f} ms d=({dmax[0]:+.3f},{dmax[1]:+.3f}) | "
            f"centroid {p.position[0] * 1e3:.0f}/{p.position[1] * 1e3:.0f} ms | share "
            f"{p.fraction:.1%} | res {res.relative_residual:.2e} | {t:.2f} s"
            f"{' | WARN ' + warn[0] if warn else ''}",
        )


def sse_section() -> None:
    from laplace_inv.datasets import load_sse_dt2

    try:
        ds = load_sse_dt2()
    except OSError as exc:
        row("sse", "(skipped)", str(exc)[:80])
        return
    for name, make in methods(ds.kernel).items():
        res, t, warn = run(make, ds.data, 1)
        pk = res.peaks()[:2]
        desc = ", ".join(
            f"D {p.position[0] * 1e9:.2f} um2/ms T2 {p.position[1] * 1e3:.2f} ms ({p.fraction:.0%})"
            for p in pk
        )
        row(
            "sse",
            name,
            f"res/noise {res.residual_to_noise:.3f} | edge mass {edge_mass(res.map):.2%} | "
            f"{desc} | {t:.2f} s{' | WARN ' + warn[0] if warn else ''}",
        )


def simulated_section() -> dict[str, list[tuple[float, float]]]:
    scenarios = [cement_like(), cheese_like()] + [
        resolution_pair(sep, "T2", snr=snr) for sep in (0.3, 0.5, 0.7) for snr in (100, 1000)
    ]
    pairs: dict[str, list[tuple[float, float]]] = {}
    for sc in scenarios:
        label = sc.name if not sc.name.startswith("pair") else f"{sc.name} snr{sc.snr:g}"
        for name, make in methods(sc.kernel).items():
            res, t, warn = run(make, sc.data, 1, noise_std=sc.noise_std)
            c = compare_to_truth(res.map, sc.truth, sc.kernel.grid1, sc.kernel.grid2)
            extra = ""
            if sc.name.startswith("pair"):
                true_pos = np.array([p.center for p in sc.peaks])
                ok = resolved(res.map, sc.kernel.grid1, sc.kernel.grid2, true_pos)
                extra = f" | resolved {'yes' if ok else 'no'}"
                pairs.setdefault(name, []).append((c.width_ratio, c.position_error))
            row(
                "simulated",
                f"{label} {name}",
                f"pos err {c.position_error:.3f} dec | width ratio {c.width_ratio:.2f} | "
                f"fraction err {c.fraction_error:.3f} | peaks {c.n_found}/{c.n_true}{extra} | "
                f"res/noise {res.residual_to_noise:.2f} | {t:.2f} s"
                f"{' | WARN ' + warn[0] if warn else ''}",
            )
    for name, vals in pairs.items():
        w = np.array([v[0] for v in vals])
        p = np.array([v[1] for v in vals])
        row(
            "pairs",
            name,
            f"median width ratio {np.nanmedian(w):.2f} | median pos err "
            f"{np.median(p):.3f} dec | mean pos err {np.mean(p):.3f} dec",
        )
    return pairs


def efficiency_section() -> None:
    base = cement_like(snr=300)
    kernel = base.kernel
    sc = make_scenario(
        "imperfect_ir", kernel_with_efficiency(kernel, 0.8), base.peaks, 300, random_state=0
    )
    offset = 0.02 * float(np.abs(sc.clean).max())
    S = sc.data + offset
    est = make_inverter("upen", kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        fit = fit_acquisition_model(est, S, efficiency_xtol=0.01)
        t = time.perf_counter() - t0
        ideal = est.invert(S)
    row(
        "robust",
        "truth",
        f"e 0.800, offset {offset:.4f} (2 % of max), edge mass {edge_mass(sc.truth):.2%}",
    )
    row(
        "robust",
        "UPEN + fitted (e, offset)",
        f"e {fit.info['efficiency']:.3f} | offset {fit.info['offset']:.4f} | edge mass "
        f"{edge_mass(fit.map):.2%} | res {fit.relative_residual:.3e} | "
        f"{fit.info['n_inversions']} inversions, {t:.1f} s",
    )
    row(
        "robust",
        "UPEN, ideal kernel forced",
        f"e 1 (fixed) | offset 0 | edge mass {edge_mass(ideal.map):.2%} | "
        f"res {ideal.relative_residual:.3e}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed run, skip robust")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    t0 = time.perf_counter()
    print(f"{'section':<11} {'case / method':<34} result")
    print("-" * 120)
    cement_section(repeats)
    maastricht_section(1)
    sse_section()
    simulated_section()
    if not args.quick:
        efficiency_section()
    print("-" * 120)
    print(
        f"edge mass = fraction of the map's mass in its outer 2 rows/columns; "
        f"total {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()

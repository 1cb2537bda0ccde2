"""Foundation figures (issue #2): operator accuracy, compression, global Tikhonov on cement.

Run: ``python -m benchmarks.studies.bench_foundation`` (set ``LAPLACE_INV_DATA`` offline).
Prints one Markdown table per topic; every figure quoted in the README comes from here.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import time

import numpy as np

import laplace_inv
from laplace_inv import TikhonovInverter
from laplace_inv.metrics import compare_to_truth, find_peaks
from laplace_inv.simulate import cement_kernel, cement_like


def operator_checks() -> list[str]:
    k = cement_kernel()
    rng = np.random.default_rng(0)
    F = rng.standard_normal(k.map_shape)
    S = rng.standard_normal(k.data_shape)
    dot = abs(np.sum(k.forward(F) * S) - np.sum(F * k.adjoint(S))) / abs(np.sum(F * k.adjoint(S)))
    comp = k.compress()
    errs = []
    for _ in range(10):
        Fp = rng.random(k.map_shape)
        full = k.forward(Fp)
        errs.append(
            np.linalg.norm(full - comp.U1 @ comp.forward(Fp) @ comp.U2.T) / np.linalg.norm(full)
        )
    return [
        "| check | value |",
        "|---|---|",
        f"| dot-product test, relative | {dot:.1e} |",
        f"| compressed shape of the 48 x 1000 cement problem | {comp.shape[0]} x {comp.shape[1]} |",
        f"| compression error on 10 random maps, max relative | {max(errs):.1e} |",
    ]


def _median_time(est, S, repeats: int = 5):
    times, res = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = est.invert(S)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def cement_real() -> list[str]:
    from laplace_inv.datasets import load_cement_t1t2

    try:
        ds = load_cement_t1t2()
    except OSError as exc:
        return [f"real cement data not available: {exc}"]
    lines = [
        "| alpha rule | α | main peak T1, T2 (ms) | main peak share | T2 > 3 ms share | "
        "minor peak T1, T2 (ms) | rel. residual | residual/noise | median time (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in ("discrepancy", "gcv", "lcurve"):
        est = TikhonovInverter(ds.kernel, penalty="global", alpha=rule)
        t, res = _median_time(est, ds.data)
        peaks = find_peaks(res.map, ds.kernel.grid1, ds.kernel.grid2)
        main = peaks[0]
        minor = [p for p in peaks if p.position[1] < 3e-3]
        split = ds.kernel.grid2 > 3e-3
        share = res.map[:, split].sum() / res.map.sum()
        minor_txt = (
            f"{minor[0].position[0] * 1e3:.1f}, {minor[0].position[1] * 1e3:.2f}" if minor else "—"
        )
        lines.append(
            f"| {rule} | {res.info['alpha']:.3g} | {main.position[0] * 1e3:.1f}, "
            f"{main.position[1] * 1e3:.2f} | {100 * main.fraction:.1f} % | {100 * share:.1f} % | "
            f"{minor_txt} | {res.relative_residual:.4f} | {res.residual_to_noise:.3f} | {t:.3f} |"
        )
    lines.append("| MUpen2D reference | — | 112.4, 19.55 | 85 % | — | 97, 0.79 | 0.023 | — | — |")
    return lines


def cement_simulated() -> list[str]:
    lines = [
        "| rule | SNR | seed | position error (dec) | width ratio | fraction error | TV | α |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule, snr, seed in itertools.product(("discrepancy", "gcv"), (200, 1000), (0, 1, 2)):
        sc = cement_like(snr=snr, random_state=seed)
        res = TikhonovInverter(sc.kernel, penalty="global", alpha=rule).invert(sc.data)
        c = compare_to_truth(res.map, sc.truth, sc.kernel.grid1, sc.kernel.grid2)
        lines.append(
            f"| {rule} | {snr} | {seed} | {c.position_error:.4f} | {c.width_ratio:.2f} | "
            f"{c.fraction_error:.3f} | {c.tv_distance:.3f} | {res.info['alpha']:.3g} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print(
        f"laplace_inv {laplace_inv.__version__}, numpy {np.__version__}, "
        f"{platform.machine()} {platform.python_version()}\n"
    )
    print("## Operator\n")
    print("\n".join(operator_checks()))
    print("\n## Global Tikhonov on the real cement IR-CPMG data (64 x 64 grid)\n")
    print("\n".join(cement_real()))
    print("\n## Global Tikhonov on simulated cement_like data (truth on a 4x finer grid)\n")
    print("\n".join(cement_simulated()))


if __name__ == "__main__":
    main()

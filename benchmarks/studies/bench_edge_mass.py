"""Does the fit check's edge-mass warning fire on maps without any offset? Evidence for its rule.

For each acquisition (the tutorials' T1-T2 layout at 20 and 48 grid points, the cement
IR-CPMG layout at 64) and each acquisition error (none; a 2 % offset; efficiency 0.8 plus a
2 % offset) it inverts with global Tikhonov at the GCV α, at 1e-3·GCV (under-smoothed, as in
the regularisation tutorial) and with the default rule, and reports the share of the map on
all four grid edges, on the flat-kernel edges only (`laplace_inv.diagnostics.constant_sides`:
the only edges that can imitate an offset), at ``T1 < T2``, and whether each edge rule
(threshold `EDGE_MASS`) fires.

Usage::

    python -m benchmarks.studies.bench_edge_mass [--out benchmarks/results/edge_mass.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from benchmarks.markdown import emit_table
from laplace_inv.classical import TikhonovInverter
from laplace_inv.diagnostics import (
    EDGE_MASS,
    FORBIDDEN,
    constant_sides,
    edge_mass,
    physics_regions,
    physics_shares,
)
from laplace_inv.simulate import cement_like, cheese_like, make_scenario

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"none": (None, 0.0), "offset 2 %": (None, 0.02), "e 0.8 + offset 2 %": (0.8, 0.02)}


def _cases() -> list[tuple[str, object]]:
    sys.path.insert(0, str(ROOT / "tutorials"))
    from _common import t1t2_kernel  # the tutorials' acquisition

    quick, full = t1t2_kernel(True), t1t2_kernel(False)
    return [
        ("tutorial T1-T2 20x20, cheese", cheese_like(quick, snr=100.0, random_state=0)),
        ("tutorial T1-T2 48x48, cheese", cheese_like(full, snr=100.0, random_state=0)),
        ("cement 64x64, cement-like", cement_like(snr=200.0, random_state=0)),
    ]


def _row(label: str, error: str, rule: str, res: object) -> str:
    F, kernel = res.map, res.kernel  # type: ignore[attr-defined]
    every = edge_mass(F)
    flat = edge_mass(F, sides=constant_sides(kernel.kinds))
    regions = physics_regions(
        kernel.grid1, kernel.grid2, kernel.kinds, kernel.axis1.tau, kernel.axis2.tau
    )
    margin = physics_shares(F, regions).get(FORBIDDEN, 0.0)
    below = physics_shares(F, {"T1<T2": kernel.grid1[:, None] < kernel.grid2[None, :]})["T1<T2"]
    fires = ["yes" if v > EDGE_MASS else "no" for v in (every, flat)]
    return (
        f"| {label} | {error} | {rule} | {every:.3f} | {flat:.3f} | {below:.3f} | {margin:.3f} "
        f"| {fires[0]} | {fires[1]} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/edge_mass.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    lines = [
        f"Edge-mass rule of the fit check (threshold {EDGE_MASS:.0%}); command: "
        "`python -m benchmarks.studies.bench_edge_mass`",
        "",
        "| acquisition | error | α | all edges | flat edges | T1<T2 | T1<T2/2 | fires (all) "
        "| fires (flat) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, sc in _cases():
        kernel = sc.kernel
        for error, (efficiency, offset) in ERRORS.items():
            data = make_scenario(
                "e", kernel, sc.peaks, sc.snr, 0, efficiency=efficiency, offset=offset
            ).data
            gcv = TikhonovInverter(kernel, penalty="global", alpha="gcv").invert(data)
            a = float(gcv.info["alpha"])
            lines.append(_row(label, error, "GCV", gcv))
            under = TikhonovInverter(kernel, penalty="global", alpha=a * 1e-3, max_iter=2000)
            lines.append(_row(label, error, "1e-3·GCV", under.invert(data)))
            default = TikhonovInverter(kernel, penalty="global").invert(data)
            lines.append(_row(label, error, "default", default))
    emit_table(lines, args.out)


if __name__ == "__main__":
    main()

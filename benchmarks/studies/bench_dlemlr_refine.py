"""How ``refine=True`` should iterate: penalty and iteration count on validation maps — one table.

Usage::

    python -m benchmarks.studies.bench_dlemlr_refine [--n-random 200] [--penalties 3e7,1e8,3e8,1e9]
                                                     [--steps 25,50,100] [--markdown out.md]

For the shipped model, each refinement setting is scored on

* random maps of ``bench_dlemlr.py``'s test prior, but drawn from *validation* seeds
  (8 000 000 + i, disjoint from the benchmark's 7 000 000 + i and from training), so that the
  default chosen here is not tuned on the maps that ``benchmarks/results/dlemlr.md`` reports;
* the real datasets (residual/noise, noise from the dataset record);
* speed (one map; a 256-map batch), 2 threads.

Rows: no refinement, the projected-gradient refinement (``refine_penalty=0``) and the ADMM
refinement for each ``(refine_penalty, refine_steps)``.
"""

from __future__ import annotations

import argparse
import os

import torch

from benchmarks.studies.common import (
    REAL_DATASETS,
    VALIDATION_SEED0,
    _with_kernel,
    emit_table,
    format_scores,
    random_cases,
    random_scores,
    speed,
)
from laplace_inv import datasets
from laplace_inv.dlemlr.estimator import DLEMLRInverter
from laplace_inv.simulate import cement_kernel


def settings(penalties: list[float], steps: list[int]) -> list[tuple[str, dict]]:
    """``(label, estimator options)`` of every row."""
    rows = [("no refinement", {"refine": False})]
    # More than 50 gradient steps are not scored: 25 and 50 leave the simulated maps as they
    # are, and 200 ran at about 110 maps/s, below the speed target (docs/changelog.md).
    rows += [
        (f"gradient, {k} steps", {"refine": True, "refine_penalty": 0.0, "refine_steps": k})
        for k in steps
        if k <= 50
    ]
    rows += [
        (
            f"ADMM, penalty {p:g}, {k} steps",
            {"refine": True, "refine_penalty": p, "refine_steps": k},
        )
        for p in penalties
        for k in steps
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-random", type=int, default=200)
    ap.add_argument("--penalties", default="3e7,1e8,3e8,1e9")
    ap.add_argument("--steps", default="25,50,100")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", default=None, help="also write the table here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("LAPLACE_INV_DATA", "/work/shared/data")

    kernel = cement_kernel()
    cases = random_cases(kernel, args.n_random, seed0=VALIDATION_SEED0)
    real = {}
    for loader in REAL_DATASETS.values():
        try:
            real[loader.removeprefix("load_")] = getattr(datasets, loader)()
        except (OSError, KeyError, ValueError) as exc:
            print(f"  {loader}: unavailable ({type(exc).__name__}: {exc})")
    lines = [
        "| refinement | validation maps (cement layout) | "
        + " | ".join(f"{name} resid/noise" for name in real)
        + " | speed |",
        "|---|---|" + "---|" * len(real) + "---|",
    ]
    penalties = [float(p) for p in args.penalties.split(",")]
    steps = [int(k) for k in args.steps.split(",")]
    for label, options in settings(penalties, steps):
        est = DLEMLRInverter.from_pretrained(kernel=kernel, **options)
        cells = [label, format_scores(random_scores(est, cases))]
        for ds in real.values():
            res = _with_kernel(est, ds.kernel).invert(ds.data, noise_std=ds.noise_std)
            cells.append(f"{res.residual_to_noise:.2f}")
        ms, rate = speed(est, kernel)
        cells.append(f"{ms:.1f} ms, {rate:.0f} maps/s")
        lines.append("| " + " | ".join(cells) + " |")
        print("  " + " | ".join(cells), flush=True)
    emit_table(lines, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

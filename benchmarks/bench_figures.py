"""Method-comparison figures of the real datasets, in the figure style of the package.

The simulated cement and cheese comparisons come from the benchmark harness
(``python -m benchmarks``, `laplace_inv.bench.figures`), which writes them with its report.

Run from the repository root (real data from ``LAPLACE_INV_DATA``; absent datasets are
skipped with a message)::

    nice -n 10 python -m benchmarks.bench_figures

Writes to ``benchmarks/results/`` (``--out`` changes it):

- ``dlemlr_cement_t1t2.png``, ``dlemlr_maastricht_t2t2.png``, ``dlemlr_sse_dt2.png`` and
  ``dlemlr_spinsolve_dt2.png`` (the Spinsolve D-T2 export in ``nmrinversions_examples``): the
  real datasets by the raw DLEMLR network (``refine=False``), DLEMLR's default output (with
  its data-consistency step), UPEN and L1;
- ``docs/figures/regions_cement.png`` (with ``--docs``): UPEN on the real cement data with
  two regions and their calibrated 68 % error bars.

Every comparison is the layout of Fig. 2 of the DLEMLR paper
(`laplace_inv.plotting.plot_comparison` with ``shared_scale=True``): one colour scale and one
colour bar for all panels (3 decades deep on real data, where L1's spikes set the maximum),
filled contours on log axes, projections on the margins, the
T1 = T2 line on T1-T2 maps, peaks above `laplace_inv.plotting.PEAK_THRESHOLD` labelled.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
REAL = {
    "load_cement_t1t2": "dlemlr_cement_t1t2.png",
    "load_maastricht_t2t2": "dlemlr_maastricht_t2t2.png",
    "load_sse_dt2": "dlemlr_sse_dt2.png",
}
EXPORTS = {"nmrinversions_examples/spinsolve_txt/PFGCPMG": "dlemlr_spinsolve_dt2.png"}
"""Instrument exports under ``LAPLACE_INV_DATA`` read with `laplace_inv.io.read_any`."""


def _methods(kernel: Any, names: tuple[str, ...]) -> dict[str, Any]:
    from laplace_inv.methods import make_inverter

    out = {}
    for name in names:
        if name == "DLEMLR raw":
            out[name] = make_inverter("dlemlr", kernel, refine=False)
        else:
            key = {"Tikhonov": "tikhonov"}.get(name, name.lower())
            out[name] = make_inverter(key, kernel)
    return out


def _maps(methods: dict[str, Any], data: Any, noise_std: float | None) -> list[tuple[str, Any]]:
    out = []
    for name, est in methods.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append((name, est.invert(data, noise_std=noise_std).map))
    return out


def real(out: Path) -> None:
    """The real-data comparisons (DLEMLR raw and default, UPEN, L1)."""
    import os

    from laplace_inv import datasets
    from laplace_inv.io import read_any

    for loader, name in REAL.items():
        try:
            ds = getattr(datasets, loader)()
        except (OSError, KeyError, ValueError) as exc:
            print(f"skipped {name}: {type(exc).__name__}: {exc}", flush=True)
            continue
        _real_figure(out / name, ds.kernel, ds.data, ds.noise_std)
    root = Path(os.environ.get("LAPLACE_INV_DATA", "../shared/data"))
    for relative, name in EXPORTS.items():
        if not (root / relative).exists():
            print(f"skipped {name}: {root / relative} not found", flush=True)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acq = read_any(root / relative)
        _real_figure(out / name, acq.kernel(), acq.data, acq.noise_std)


def _real_figure(path: Path, k: Any, data: Any, noise_std: float | None) -> None:
    from laplace_inv.plotting import plot_comparison, save_figure

    methods = _methods(k, ("DLEMLR raw", "DLEMLR", "UPEN", "L1"))
    fig = plot_comparison(
        _maps(methods, data, noise_std),
        k.grid1,
        k.grid2,
        k.kinds,
        peaks="auto",
        shared_scale=True,
        decades=3.0,  # L1's spikes set the shared maximum: show 3 decades below it
        limits="auto",
    )
    save_figure(fig, path)
    print(f"wrote {path}", flush=True)


def docs_figure(path: Path) -> None:
    """UPEN on the real cement data with two regions and calibrated 68 % error bars."""
    from laplace_inv import TikhonovInverter
    from laplace_inv.analysis import Box, Cutoff
    from laplace_inv.analysis.uncertainty import bootstrap
    from laplace_inv.datasets import load_cement_t1t2
    from laplace_inv.plotting import plot_map, save_figure

    ds = load_cement_t1t2()
    regions = [
        Box("capillary water", x1=(0.03, 0.4), x2=(5e-3, 0.08)),
        Cutoff("gel water", axis=2, value=3e-3, side="below"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unc = bootstrap(TikhonovInverter(ds.kernel), ds.data, regions=regions, n_draws=30)
    k = ds.kernel
    fig = plot_map(
        unc.map, k.grid1, k.grid2, k.kinds, regions=regions, uncertainty=unc, limits="auto"
    )
    save_figure(fig, path)
    print(f"wrote {path}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_figures", description=__doc__)
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of the figures")
    p.add_argument("--only", choices=("real", "docs"), default=None)
    p.add_argument("--docs", action="store_true", help="also docs/figures/regions_cement.png")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "real"):
        real(args.out)
    if args.only == "docs" or args.docs:
        docs_figure(ROOT / "docs" / "figures" / "regions_cement.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

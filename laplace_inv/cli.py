"""The ``laplace-inv`` command line: demo, invert, train, bench."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

from laplace_inv.methods import METHODS, make_inverter

log = logging.getLogger("laplace_inv")

DEMO_EPILOG = """examples:
  laplace-inv demo                      # every method on the real cement data -> ./laplace_inv_out
  laplace-inv demo --methods upen l1    # a subset
  LAPLACE_INV_DATA=/path/to/data laplace-inv demo   # read the dataset from a local folder
"""

INVERT_EPILOG = """examples:
  laplace-inv invert path/to/Upen2DToolFolder            # .par + .dat folder
  laplace-inv invert data.npz --method tikhonov          # npz with data, tau1, tau2, kinds
  laplace-inv invert S.csv --tau1 t1.csv --tau2 t2.csv --kinds T1_IR T2 --time-unit 1e-3
"""


def _fmt_peak(peak, kinds: tuple[str, str]) -> str:
    values = []
    for kind, value in zip(kinds, peak.position, strict=True):
        values.append(f"{value:.3g} m²/s" if kind == "D" else f"{value * 1e3:.3g} ms")
    return f"({', '.join(values)}) {100 * peak.fraction:.1f}%"


def _results_table(rows: list[dict]) -> str:
    header = "| method | peaks (axis1, axis2) share | rel. residual | residual/noise | time (s) |"
    lines = [header, "|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['peaks']} | {row['residual']} | {row['rn']} "
            f"| {row['time']} |"
        )
    return "\n".join(lines)


def _invert_all(methods: list[str], kernel, data, noise_std) -> tuple[list, list[dict]]:
    from laplace_inv.base import InversionResult

    results: list[tuple[str, InversionResult]] = []
    rows: list[dict] = []
    for name in methods:
        try:
            est = make_inverter(name, kernel)
        except RuntimeError as exc:
            rows.append(
                {
                    "method": name,
                    "peaks": f"not available: {exc}",
                    "residual": "—",
                    "rn": "—",
                    "time": "—",
                }
            )
            continue
        t0 = time.perf_counter()
        res = est.invert(data, noise_std=noise_std)
        elapsed = time.perf_counter() - t0
        peaks = res.peaks(min_fraction=0.03)[:3]
        rn = res.residual_to_noise
        rows.append(
            {
                "method": name,
                "peaks": "; ".join(_fmt_peak(p, res.kinds) for p in peaks),
                "residual": f"{res.relative_residual:.4f}",
                "rn": f"{rn:.3f}" if rn is not None else "—",
                "time": f"{elapsed:.2f}",
            }
        )
        results.append((name, res))
    return results, rows


def _save_figures(results, out: Path, stem: str, reference=None) -> list[Path]:
    from laplace_inv.plotting import plot_comparison, save_figure

    if not results:
        return []
    first = results[0][1]
    fig = plot_comparison(
        [(name, res.map) for name, res in results], first.grid1, first.grid2, first.kinds
    )
    paths = [save_figure(fig, out / f"{stem}_comparison.png")]
    for name, res in results:
        paths.append(save_figure(res.plot(title=name), out / f"{stem}_{name}.png"))
    return paths


def cmd_demo(args: argparse.Namespace) -> int:
    """Invert the real cement IR-CPMG data with every method; print a table; save PNGs."""
    from laplace_inv.datasets import load_cement_t1t2

    ds = load_cement_t1t2()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"Dataset: {ds.name}, {ds.data.shape[0]} x {ds.data.shape[1]}, kinds {ds.kinds}")
    results, rows = _invert_all(args.methods, ds.kernel, ds.data, None)
    ref = "; ".join(
        f"({p['position'][0] * 1e3:.3g} ms, {p['position'][1] * 1e3:.3g} ms) "
        f"{100 * p['fraction']:.0f}%"
        for p in ds.reference_peaks
    )
    rows.append(
        {
            "method": "MUpen2D reference (published)",
            "peaks": ref,
            "residual": f"{ds.reference_residual:.4f}",
            "rn": "—",
            "time": "—",
        }
    )
    table = _results_table(rows)
    print(table)
    (out / "demo_cement.md").write_text(table + "\n")
    for path in _save_figures(results, out, "demo_cement"):
        print(f"wrote {path}")
    return 0


def cmd_invert(args: argparse.Namespace) -> int:
    """Invert one file or folder and write the map (.npz and .csv) and a PNG."""
    from laplace_inv.io import read_any, save_result_npz

    kwargs = {}
    if args.tau1:
        kwargs.update(
            tau1_path=args.tau1,
            tau2_path=args.tau2,
            kinds=tuple(args.kinds or ()),
            time_unit=args.time_unit,
        )
    acq = read_any(args.path, **kwargs)
    kernel = acq.kernel(n_grid=args.grid)
    make_inverter(args.method, kernel)  # fail early with a clear message
    results, rows = _invert_all([args.method], kernel, acq.data, acq.noise_std)
    name, res = results[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.path).stem or "result"
    meta = {
        "method": name,
        "source": str(args.path),
        "relative_residual": res.relative_residual,
        "info": {k: v for k, v in res.info.items() if np.isscalar(v)},
    }
    npz = save_result_npz(out / f"{stem}_map.npz", res.map, res.grid1, res.grid2, res.kinds, meta)
    csv = out / f"{stem}_map.csv"
    np.savetxt(csv, res.map, delimiter=",")
    from laplace_inv.plotting import save_figure

    png = save_figure(res.plot(title=f"{stem} ({name})"), out / f"{stem}_map.png")
    print(_results_table(rows))
    print(f"wrote {npz}, {csv}, {png}")
    return 0


def cmd_train(argv: list[str]) -> int:
    """Train a DLEMLR model (delegates to ``laplace_inv.dlemlr.train``)."""
    from laplace_inv.dlemlr.train import train_main

    return int(train_main(argv) or 0)


def cmd_bench(argv: list[str]) -> int:
    """Run the benchmark harness (delegates to ``laplace_inv.bench.cli``)."""
    from laplace_inv.bench.cli import bench_main

    return int(bench_main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``laplace-inv``."""
    parser = argparse.ArgumentParser(
        prog="laplace-inv",
        description="Two-dimensional Laplace NMR inversion (T1-T2, T2-T2, D-T2).",
        epilog="Run 'laplace-inv COMMAND --help' for each command's options and examples.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="invert the real cement data with every method",
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    demo.add_argument("--out", default="laplace_inv_out", help="output folder")
    demo.set_defaults(func=cmd_demo)
    inv = sub.add_parser(
        "invert",
        help="invert a data file or folder",
        epilog=INVERT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inv.add_argument("path", help="Upen2DTool/Spinsolve folder, .npz, .mat or a data table")
    inv.add_argument("--method", default="upen", choices=list(METHODS))
    inv.add_argument("--tau1", help="axis-1 values file (for plain tables)")
    inv.add_argument("--tau2", help="axis-2 values file (for plain tables)")
    inv.add_argument("--kinds", nargs=2, help="kernel kinds, e.g. T1_IR T2")
    inv.add_argument("--time-unit", type=float, default=1.0, help="seconds per file unit")
    inv.add_argument("--grid", type=int, default=None, help="grid points per axis")
    inv.add_argument("--out", default="laplace_inv_out", help="output folder")
    inv.set_defaults(func=cmd_invert)
    sub.add_parser(
        "train", help="train a DLEMLR model (see 'laplace-inv train --help')", add_help=False
    )
    sub.add_parser(
        "bench", help="run the benchmark harness (see 'laplace-inv bench --help')", add_help=False
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``laplace-inv`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # train and bench own their argument parsers.
    if argv and argv[0] in ("train", "bench"):
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        return cmd_train(argv[1:]) if argv[0] == "train" else cmd_bench(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError, RuntimeError, FloatingPointError) as exc:
        print(f"laplace-inv {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

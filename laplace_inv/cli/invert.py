"""``laplace-inv invert``: one or several inputs, a map (.npz, .csv) and a figure each."""

from __future__ import annotations

import argparse
import glob
import logging
import sys
from pathlib import Path
from typing import Any

from laplace_inv.cli import acquisition_options, invert_1d
from laplace_inv.cli._common import (
    METHOD_NAMES,
    ListAction,
    comparison_figure,
    results_table,
)
from laplace_inv.cli.dlemlr_options import add_arguments as add_dlemlr_arguments
from laplace_inv.cli.output import ResultWriter, check_absent, write_map_csv
from laplace_inv.cli.regions import add_arguments as add_region_arguments

log = logging.getLogger("laplace_inv")

EPILOG = """examples:
  laplace-inv invert scan.npz -o out            # npz with data, tau1, tau2, kinds; UPEN
  laplace-inv invert scan.npz --methods upen,tikhonov -o out --overwrite
  laplace-inv invert S.csv --tau1 t1.csv --tau2 t2.csv --kinds T1_IR T2 --time-unit 1e-3 -o out
  laplace-inv invert 'scans/*.npz' --figure-format svg -o out   # several inputs: one folder each
  laplace-inv invert upen_folder --method tikhonov --grid 32 -o out   # Upen2DTool folder
  laplace-inv invert scan.npz --regions regions.toml --uncertainty --draws 20 -o out_regions
  laplace-inv invert upen_folder --method dlemlr --no-refine -o out_raw   # raw network map

outputs (refused if present, unless --overwrite; written atomically):
  STEM_map.npz   the map, grids (SI) and kinds (laplace_inv.io.load_result_npz reads it)
  STEM_map.csv   the map with axis 1 down the first column, axis 2 along the header row
  STEM_map.png   the figure (--figure-format svg or pdf for vector output)
  STEM_regions.csv  with --regions or --uncertainty: per region (and peak) the fraction and
                 positions, with calibrated 68 % half-widths and 95 % bounds under --uncertainty
With several methods the names are STEM_METHOD_map.*, and STEM_comparison.png shows all the
maps side by side on one colour scale.
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``invert`` on the subparsers ``sub``."""
    p = sub.add_parser(
        "invert",
        help="invert data files or folders",
        description="Invert one or several acquisitions and write each map and figure.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Upen2DTool/Spinsolve folder, .npz, .mat or a data table; quoted globs expand",
    )
    p.add_argument(
        "--method",
        "--methods",
        dest="methods",
        action=ListAction,
        choices=METHOD_NAMES,
        default=["upen"],
        help="method(s), as 'a,b' or 'a b' (default: upen)",
    )
    p.add_argument("--tau1", help="axis-1 values file (text data tables only)")
    p.add_argument("--tau2", help="axis-2 values file (text data tables only)")
    p.add_argument(
        "--kinds",
        action=ListAction,
        length=2,
        help="kernel kinds of axis 1 and 2, e.g. 'T1_IR T2' or T1_IR,T2 (overrides the file)",
    )
    p.add_argument(
        "--time-unit",
        type=float,
        default=None,
        help="seconds per file unit of both axes (1e-3 for ms); default: the format's own",
    )
    p.add_argument("--tau1-unit", type=float, default=None, help="override for axis 1")
    p.add_argument("--tau2-unit", type=float, default=None, help="override for axis 2")
    p.add_argument("--grid", type=int, default=None, help="grid points per axis")
    add_region_arguments(p)
    invert_1d.add_arguments(p)
    acquisition_options.add_arguments(p)
    add_dlemlr_arguments(p)
    p.set_defaults(func=run)


def expand_paths(patterns: list[str]) -> list[str]:
    """Paths as given, with globs expanded (for shells that do not), duplicates dropped."""
    out: list[str] = []
    for pattern in patterns:
        if Path(pattern).exists() or not any(c in pattern for c in "*?["):
            matches = [pattern]
        else:
            matches = sorted(glob.glob(pattern))
            if not matches:
                raise FileNotFoundError(f"{pattern}: no file or folder matches")
        out.extend(m for m in matches if m not in out)
    return out


def _targets(
    folder: Path, stem: str, methods: list[str], fig_ext: str, regions: bool = False
) -> dict[str, list[Path]]:
    out = {}
    for name in methods:
        base = f"{stem}_{name}_map" if len(methods) > 1 else f"{stem}_map"
        out[name] = [folder / f"{base}.npz", folder / f"{base}.csv", folder / f"{base}.{fig_ext}"]
    if len(methods) > 1:
        out["comparison"] = [folder / f"{stem}_comparison.{fig_ext}"]
    if regions:
        out["regions"] = [folder / f"{stem}_regions.csv"]
    return out


def _stage(
    writer: ResultWriter,
    name: str,
    res: Any,
    paths: list[Path],
    source: str,
    region_rows: list[dict[str, Any]],
) -> None:
    """Stage the .npz, .csv and figure of one method's result."""
    import numpy as np

    from laplace_inv.io import save_result_npz
    from laplace_inv.plotting import plot_map

    npz, csv, fig_path = paths
    meta = {
        "method": name,
        "source": source,
        "relative_residual": res.relative_residual,
        "info": {k: v for k, v in res.info.items() if np.isscalar(v)},
    }
    if region_rows:
        meta["regions"] = [r for r in region_rows if r["method"] == name]
    F, g1, g2, kinds = res.map, res.grid1, res.grid2, res.kinds
    writer.add(npz, lambda t: save_result_npz(t, F, g1, g2, kinds, meta))
    comment = f"{name} inversion of {source}"
    writer.add(csv, lambda t: write_map_csv(t, F, g1, g2, kinds, comment))
    fig = plot_map(F, g1, g2, kinds, title=f"{Path(source).name} ({name})", peaks="auto")
    acquisition_options.mark_figure(fig, res)
    writer.add(fig_path, lambda t: fig.savefig(t, dpi=150, bbox_inches="tight"))


def _stage_comparison(writer: ResultWriter, results: list, path: Path, source: str) -> None:
    fig = comparison_figure(results)
    fig.suptitle(Path(source).name, fontsize=11)
    writer.add(path, lambda t: fig.savefig(t, dpi=150, bbox_inches="tight"))


def _write(
    results: list, targets: dict, source: str, overwrite: bool, region_rows: list
) -> list[Path]:
    from laplace_inv.cli.regions import write_csv

    with ResultWriter(overwrite=overwrite) as writer:
        for name, res in results:
            _stage(writer, name, res, targets[name], source, region_rows)
        if "comparison" in targets and len(results) > 1:
            _stage_comparison(writer, results, targets["comparison"][0], source)
        if "regions" in targets:
            writer.add(targets["regions"][0], lambda t: write_csv(t, region_rows))
    return writer.written


def invert_one(path: str, folder: Path, args: argparse.Namespace) -> list[dict[str, str]]:
    """Read, invert with each method and write the results of one input."""
    from laplace_inv.cli import regions as region_cli
    from laplace_inv.cli.readers import read_input, unit_warnings

    rows_1d = invert_1d.invert_if_1d_format(path, folder, args)
    if rows_1d is not None:
        return rows_1d
    stem = Path(path).stem or "result"
    regions = region_cli.load(args)
    with_regions = bool(regions) or args.uncertainty
    targets = _targets(folder, stem, args.methods, args.figure_format, with_regions)
    check_absent([p for paths in targets.values() for p in paths], args.overwrite)
    acq = read_input(path, args)
    if invert_1d.is_1d(acq, args):
        return invert_1d.invert_acquisition(acq, path, folder, args)
    for msg in unit_warnings(acq.tau1, acq.tau2, acq.kinds):
        log.warning("%s: %s", path, msg)
    kernel = acq.kernel(n_grid=args.grid)
    results, rows = acquisition_options.invert_methods(args, kernel, acq.data, acq.noise_std)
    if not results:
        raise RuntimeError(f"{path}: no method could run: {rows[0]['peaks']}")
    if not args.quiet:
        print(f"{path}: {acq.shape[0]} x {acq.shape[1]}, kinds {acq.kinds}")
        print(results_table(rows))
        print(acquisition_options.physics_report(results))
    region_rows = region_cli.region_rows(results, acq.data, acq.noise_std, regions, args)
    if region_rows and not args.quiet:
        print(region_cli.format_table(region_rows))
    for written in _write(results, targets, str(path), args.overwrite, region_rows):
        if not args.quiet:
            print(f"wrote {written}")
    return [dict(row, input=str(path)) for row in rows]


def _folders(paths: list[str], out: Path) -> list[Path]:
    """One folder per input when there are several (``out/STEM``, numbered on clashes)."""
    if len(paths) == 1:
        return [out]
    seen: dict[str, int] = {}
    folders = []
    for path in paths:
        stem = Path(path).stem or "result"
        seen[stem] = seen.get(stem, 0) + 1
        folders.append(out / (stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"))
    return folders


def run(args: argparse.Namespace) -> int:
    """Run ``invert``; exit status 2 if any input failed."""
    paths = expand_paths(args.paths)
    out = Path(args.out or "laplace_inv_out")
    summary: list[dict[str, str]] = []
    failures = 0
    for path, folder in zip(paths, _folders(paths, out), strict=True):
        try:
            summary.extend(invert_one(path, folder, args))
        except (ValueError, TypeError, OSError, RuntimeError, FloatingPointError) as exc:
            if len(paths) == 1:
                raise
            failures += 1
            print(f"laplace-inv invert: error: {exc}", file=sys.stderr)
            summary.append({"input": path, "method": "—", "peaks": f"failed: {exc}"})
    if len(paths) > 1:
        print(f"\nsummary of {len(paths)} inputs ({failures} failed):")
        print("| input | method | peaks (axis1, axis2) share | rel. residual | inversion (s) |")
        print("|---|---|---|---|---|")
        for row in summary:
            print(
                f"| {row['input']} | {row['method']} | {row['peaks']} "
                f"| {row.get('residual', '—')} | {row.get('time', '—')} |"
            )
    return 2 if failures else 0

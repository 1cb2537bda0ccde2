"""``laplace-inv demo``: every method on the cement IR-CPMG data, offline if need be."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from laplace_inv.cli._common import (
    METHOD_NAMES,
    ListAction,
    comparison_figure,
    empty_row,
    invert_all,
    results_table,
)
from laplace_inv.cli.output import ResultWriter, check_absent

log = logging.getLogger("laplace_inv")

EPILOG = """examples:
  laplace-inv demo --methods upen -o demo_out                 # one method, fast
  laplace-inv demo --methods upen,l1 -o demo_out --overwrite  # a subset ('a,b' or 'a b')
  laplace-inv demo --dataset embedded --methods upen -o demo_offline   # never downloads
  laplace-inv demo                   # every method -> ./laplace_inv_out

data: the real cement data are read from $LAPLACE_INV_DATA/cement_t1t2_ircpmg/, the cache
(~/.cache/laplace_inv) or downloaded (sha256-checked). When none of these works (no network,
LAPLACE_INV_OFFLINE=1), the demo says so and uses the simulated cement-like dataset shipped
in the package (laplace_inv/data/cement_like_demo.npz).
times: 'start-up' is import + model construction/loading, 'inversion' the inversion itself.
"""

STEM = "demo_cement"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``demo`` on the subparsers ``sub``."""
    p = sub.add_parser(
        "demo",
        help="invert the cement T1-T2 data with every method (works offline)",
        description="Invert the cement IR-CPMG data with every method; print a table; save "
        "the figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    p.add_argument(
        "--methods",
        action=ListAction,
        choices=METHOD_NAMES,
        default=list(METHOD_NAMES),
        help="methods, as 'a,b' or 'a b' (default: all)",
    )
    p.add_argument(
        "--dataset",
        choices=("auto", "real", "embedded"),
        default="auto",
        help="auto: the real cement data if available, else the embedded simulation; "
        "real: fail without the real data; embedded: the simulation (default: auto)",
    )
    p.set_defaults(func=run)


def load_demo_dataset(choice: str = "auto") -> tuple[Any, str]:
    """The dataset of the demo and a sentence saying which it is and why."""
    from laplace_inv.data import load_embedded_demo

    if choice != "embedded":
        from laplace_inv.datasets import load_cement_t1t2

        try:
            ds: Any = load_cement_t1t2()
            return ds, f"real white-cement IR-CPMG measurement ({ds.name})"
        except OSError as exc:
            if choice == "real":
                raise
            log.info("real cement data unavailable: %s", exc)
            ds = load_embedded_demo()
            return ds, (
                "EMBEDDED SIMULATED cement-like data shipped with the package: the real cement "
                "data could not be found or downloaded (run with -v for the details; set "
                "LAPLACE_INV_DATA or allow network access to use them)"
            )
    embedded = load_embedded_demo()
    return embedded, "EMBEDDED SIMULATED cement-like data (--dataset embedded)"


def _reference_row(ds: Any) -> dict[str, str]:
    ref = "; ".join(
        f"({p['position'][0] * 1e3:.3g} ms, {p['position'][1] * 1e3:.3g} ms) "
        f"{100 * p['fraction']:.0f}%"
        for p in ds.reference_peaks
        if p.get("fraction") is not None
    )
    label = (
        "MUpen2D reference (published)"
        if ds.reference_residual is not None
        else "simulated components (truth)"
    )
    row = empty_row(label, ref)
    if ds.reference_residual is not None:
        row["residual"] = f"{ds.reference_residual:.4f}"
    return row


def _saver(fig: Any) -> Callable[[Path], None]:
    def save(path: Path) -> None:
        fig.savefig(path, dpi=150, bbox_inches="tight")

    return save


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from laplace_inv.plotting import plot_map

    out = Path(args.out or "laplace_inv_out")
    ext = args.figure_format
    targets = [out / f"{STEM}.md", out / f"{STEM}_comparison.{ext}"]
    targets += [out / f"{STEM}_{name}.{ext}" for name in args.methods]
    check_absent(targets, args.overwrite)
    ds, which = load_demo_dataset(args.dataset)
    print(f"Dataset: {which}")
    print(f"  {ds.data.shape[0]} x {ds.data.shape[1]}, kinds {ds.kinds}")
    results, rows = invert_all(args.methods, ds.kernel, ds.data, None)
    rows.append(_reference_row(ds))
    table = results_table(rows)
    print(table)
    note = "start-up = import + model load; inversion = the inversion alone (seconds)"
    print(note)
    with ResultWriter(overwrite=args.overwrite) as writer:
        text = f"Dataset: {which}\n\n{table}\n\n{note}\n"
        writer.add(targets[0], lambda t: t.write_text(text, encoding="utf-8"))
        if results:
            writer.add(targets[1], _saver(comparison_figure(results)))
            for name, res in results:
                one = plot_map(res.map, res.grid1, res.grid2, res.kinds, title=name, peaks="auto")
                writer.add(out / f"{STEM}_{name}.{ext}", _saver(one))
    for path in writer.written:
        print(f"wrote {path}")
    return 0

"""Shared helpers of the tutorial scripts: command line, output folder, small acquisitions.

Every tutorial is an executable script::

    python tutorials/ill_posedness.py            # full size, figures into docs/figures/
    python tutorials/ill_posedness.py --quick    # reduced sizes (what CI runs)
    python tutorials/ill_posedness.py --out /tmp/figs

Figures are drawn with matplotlib's Agg backend and saved as PNG at about 100 dpi.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

from laplace_inv import Kernel2D, KernelAxis

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "figures"
DPI = 100


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``--quick`` and ``--out`` (plus ``--seed``) for a tutorial script.

    Parameters
    ----------
    description : str
        What the tutorial shows (the ``--help`` text).
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        With ``quick`` (bool), ``out`` (Path) and ``seed`` (int).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced sizes (seconds instead of minutes); used by the tests",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("LAPLACE_INV_FIGURES", DEFAULT_OUT)),
        help="folder for the PNG figures",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def save(fig: Figure, out: Path, name: str) -> Path:
    """Save ``fig`` as ``out/name`` (PNG, :data:`DPI` dots per inch) and report the path."""
    path = Path(out) / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    print(f"wrote {path}")
    return path


def t1t2_kernel(quick: bool, n_grid: int | None = None) -> Kernel2D:
    """A small inversion-recovery CPMG acquisition (T1_IR-T2), like a benchtop experiment.

    Full size: 32 inversion delays from 1 ms to 3 s, 400 echoes at 0.5 ms, 48-point grids.
    Quick: 12 delays, 150 echoes at 1 ms, 20-point grids.
    """
    if quick:
        tau1, tau2, n = np.geomspace(1e-3, 3.0, 12), np.arange(1, 151) * 1e-3, 20
    else:
        tau1, tau2, n = np.geomspace(1e-3, 3.0, 32), np.arange(1, 401) * 0.5e-3, 48
    n = n_grid or n
    return Kernel2D(KernelAxis("T1_IR", tau1, n_grid=n), KernelAxis("T2", tau2, n_grid=n))


METHOD_LABELS = {
    "upen": "UPEN",
    "tikhonov": "global Tikhonov (GCV)",
    "l1": "L1",
    "dlemlr": "DLEMLR",
}
"""Display names of the compared methods, keyed by their ``make_inverter`` name."""


def build_methods(kernel: Kernel2D, quick: bool) -> tuple[dict, dict[str, str]]:
    """Build every method of :data:`METHOD_LABELS` for ``kernel`` with default settings.

    Returns
    -------
    estimators : dict
        ``name → estimator`` for the methods that can run here.
    skipped : dict
        ``name → reason`` for the others (module not available yet, no pretrained weights).
    """
    from laplace_inv.methods import make_inverter

    estimators, skipped = {}, {}
    for name in METHOD_LABELS:
        if name == "dlemlr" and quick:
            # The quick run stays light: no torch import.
            skipped[name] = "left out of the --quick run (it loads torch)"
            continue
        try:
            est = make_inverter(name, kernel)
        except Exception as exc:
            skipped[name] = str(exc).splitlines()[0]
            continue
        if quick and name == "upen" and "upen_max_iter" in est.get_params():
            est.set_params(upen_max_iter=10)
        estimators[name] = est
    for name, why in skipped.items():
        print(f"{name}: skipped ({why})")
    return estimators, skipped


def skipped_note(skipped: dict[str, str], width: int = 150) -> str:
    """One wrapped line per skipped method, for a figure footnote."""
    import textwrap

    text = "; ".join(f"{METHOD_LABELS[n]} not shown: {why}" for n, why in skipped.items())
    text = text.replace(str(REPO) + "/", "")
    return "\n".join(textwrap.wrap(text, width))

"""Regions and calibrated uncertainty for ``laplace-inv invert --regions/--uncertainty``."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

REGION_COLUMNS = (
    "method",
    "kind",
    "name",
    "fraction",
    "fraction_pm68",
    "fraction_lo95",
    "fraction_hi95",
    "position1",
    "log_position1_pm68",
    "position1_lo95",
    "position1_hi95",
    "position2",
    "log_position2_pm68",
    "position2_lo95",
    "position2_hi95",
    "log_width1",
    "log_width2",
    "ratio",
    "calibrated",
    "n_draws",
)
"""Columns of ``STEM_regions.csv`` (positions in SI units, widths and ± in decades)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Register ``--regions``, ``--uncertainty`` and ``--draws`` on ``p``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The ``invert`` parser.
    """
    p.add_argument(
        "--regions",
        metavar="FILE",
        help="TOML/JSON region file (boxes, polygons, cut-offs; see the regions guide)",
    )
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="calibrated ± for regions and peaks by a parametric bootstrap",
    )
    p.add_argument(
        "--draws",
        type=int,
        default=None,
        help="bootstrap draws (default 200 for DLEMLR and global Tikhonov, 30 otherwise)",
    )


def load(args: argparse.Namespace) -> list[Any]:
    """The regions named by ``--regions`` (empty when none); checks ``--draws``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``invert`` options.

    Returns
    -------
    list
        `Box`, `Polygon` and `Cutoff` objects.
    """
    if args.draws is not None and args.draws < 2:
        raise ValueError(f"--draws must be at least 2, got {args.draws}")
    if not args.regions:
        return []
    from laplace_inv.analysis.region_files import load_regions

    return list(load_regions(args.regions))


def _plain_rows(name: str, res: Any, regions: list[Any]) -> list[dict[str, Any]]:
    from laplace_inv.analysis.regions import integrate_regions

    rows = []
    for st in integrate_regions(res.map, res.grid1, res.grid2, regions, kinds=res.kinds):
        row: dict[str, Any] = {"method": name, "kind": "region", "name": st.name}
        row["fraction"] = st.fraction
        for ax, (pos, width) in enumerate(zip(st.position, st.log_width, strict=True), 1):
            row[f"position{ax}"], row[f"log_width{ax}"] = pos, width
        row["ratio"], row["calibrated"], row["n_draws"] = st.ratio, False, 0
        rows.append(row)
    return rows


def _bootstrap_rows(
    name: str,
    res: Any,
    data: Any,
    noise_std: float | None,
    regions: list[Any],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    from laplace_inv.analysis.uncertainty import bootstrap
    from laplace_inv.cli.dlemlr_options import method_params
    from laplace_inv.methods import make_inverter

    est = make_inverter(name, res.kernel, **method_params(args).get(name, {}))
    draws = args.draws
    unc = bootstrap(est, data, regions=regions, n_draws=draws, noise_std=noise_std)
    ratios = {r.name: (r.stats.ratio if r.stats is not None else None) for r in unc.regions}
    rows = []
    for row in unc.table():
        row = {"method": name, **row, "n_draws": unc.n_draws}
        row["ratio"] = ratios.get(row["name"]) if row["kind"] == "region" else None
        rows.append(row)
    return rows


def region_rows(
    results: list[tuple[str, Any]],
    data: Any,
    noise_std: float | None,
    regions: list[Any],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """One row per region (and, with ``--uncertainty``, per peak) and method.

    Parameters
    ----------
    results : list of (str, InversionResult)
        The methods' results.
    data : numpy.ndarray
        The data they were inverted from.
    noise_std : float or None
        Known noise level (None: estimated).
    regions : list
        Regions from `load`.
    args : argparse.Namespace
        Parsed ``invert`` options (``uncertainty``, ``draws``).

    Returns
    -------
    list of dict
        Rows with the keys of `REGION_COLUMNS` (missing ones absent).
    """
    rows: list[dict[str, Any]] = []
    for name, res in results:
        if args.uncertainty:
            rows += _bootstrap_rows(name, res, data, noise_std, regions, args)
        elif regions:
            rows += _plain_rows(name, res, regions)
    return rows


def _fmt_pos(value: float, pm_decades: float | None) -> str:
    text = f"{value:.3g}"
    if pm_decades is not None:
        text += f" ×/÷ {10.0**pm_decades:.3f}"
    return text


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of region rows: fraction ± and positions ±, SI units.

    Parameters
    ----------
    rows : list of dict
        From `region_rows`.

    Returns
    -------
    str
        The table (positions with a multiplicative 68 % factor when an uncertainty exists).

    Examples
    --------
    >>> print(format_table([{"method": "upen", "kind": "region", "name": "main",
    ...     "fraction": 0.84, "position1": 0.11, "position2": 0.0195}]))
    | method | region/peak | fraction | position 1 | position 2 | calibrated ± |
    |---|---|---|---|---|---|
    | upen | main | 84.0 % | 0.11 | 0.0195 | — |
    """
    lines = [
        "| method | region/peak | fraction | position 1 | position 2 | calibrated ± |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        frac = f"{100 * r['fraction']:.1f} %"
        if "fraction_pm68" in r:
            frac += f" ± {100 * r['fraction_pm68']:.1f}"
        label = str(r["name"])
        if r["kind"] != "region" and not label.startswith("peak"):
            label = f"peak {label}"
        pos = [
            _fmt_pos(r[f"position{ax}"], r.get(f"log_position{ax}_pm68"))
            if f"position{ax}" in r
            else "—"
            for ax in (1, 2)
        ]
        calibrated = "—"
        if r.get("n_draws"):
            calibrated = "yes" if r.get("calibrated") else "no"
        lines.append(f"| {r['method']} | {label} | {frac} | {pos[0]} | {pos[1]} | {calibrated} |")
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write region rows to ``path`` with the `REGION_COLUMNS` header.

    Parameters
    ----------
    path : pathlib.Path
        Target file.
    rows : list of dict
        From `region_rows`.
    """
    with open(path, "w", newline="") as fh:
        fh.write("# positions in SI units (s, or m2/s for D); widths and pm68 in decades\n")
        writer = csv.DictWriter(fh, fieldnames=REGION_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k, "")) for k in row})

"""Files the viewer hands to the browser: figure, map, region table, reproducible code."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

AXIS_NAMES = {"T1_IR": "T1", "T1_SR": "T1", "T2": "T2", "D": "D"}


def _axis_name(kind: str) -> str:
    return AXIS_NAMES.get(kind, kind)


def _unit(kind: str) -> str:
    return "m2/s" if kind == "D" else "s"


def map_npz(label: str, res: Any, meta: dict) -> bytes:
    """The map in the package's result format (``save_result_npz``) with ``meta`` attached."""
    from laplace_inv.io import save_result_npz

    with tempfile.TemporaryDirectory(prefix="laplace_inv_view_") as tmp:
        path = save_result_npz(
            Path(tmp) / "map.npz", res.map, res.grid1, res.grid2, res.kinds, meta
        )
        return path.read_bytes()


def map_csv(label: str, res: Any) -> bytes:
    """The map as CSV with its axes: first row axis 2, first column axis 1 (SI units).

    Examples
    --------
    >>> from laplace_inv.base import InversionResult
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel(4)
    >>> text = map_csv("upen", InversionResult(np.ones((4, 4)), k, np.zeros((48, 1000))))
    >>> text.decode().splitlines()[1].split(",")[0]
    'T1 (s) \\\\ T2 (s)'
    """
    k1, k2 = res.kinds
    buf = io.StringIO()
    buf.write(
        f"# laplace_inv map, method {label}, kinds {k1}-{k2}; rows: {_axis_name(k1)} "
        f"({_unit(k1)}), columns: {_axis_name(k2)} ({_unit(k2)})\n"
    )
    writer = csv.writer(buf, lineterminator="\n")
    corner = f"{_axis_name(k1)} ({_unit(k1)}) \\ {_axis_name(k2)} ({_unit(k2)})"
    writer.writerow([corner, *(f"{v:.8g}" for v in res.grid2)])
    for g, row in zip(res.grid1, np.asarray(res.map), strict=True):
        writer.writerow([f"{g:.8g}", *(f"{v:.8g}" for v in row)])
    return buf.getvalue().encode()


UNCERTAINTY_COLUMNS = (
    "fraction_pm68",
    "fraction_lo95",
    "fraction_hi95",
    "position1_lo95",
    "position1_hi95",
    "position2_lo95",
    "position2_hi95",
)
"""Bootstrap columns added to the region CSV when the uncertainty was computed."""


def _uncertainty_row(uncertainty: dict, region: str, method: str) -> dict:
    for row in uncertainty.get(method, []):
        if row.get("kind") == "region" and row.get("name") == region:
            return row
    return {}


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.6g}"


def regions_csv(rows: list[dict], kinds: tuple[str, str], uncertainty: dict | None = None) -> bytes:
    """The region table as CSV: fraction, positions (SI), widths (decades), ratio.

    With ``uncertainty`` (method label to bootstrap rows), the 68 % half-width of the fraction
    and the 95 % bounds of fraction and positions are added.

    Examples
    --------
    >>> row = {"region": "a", "method": "upen", "fraction": 0.5, "position": [0.1, 0.01],
    ...        "log_width": [0.1, 0.2], "ratio": 10.0}
    >>> regions_csv([row], ("T1_IR", "T2")).decode().splitlines()[1]
    'a,upen,0.5,0.1,0.01,0.1,0.2,10'
    """
    if not rows:
        raise ValueError("the region table is empty: draw a region and run a method first")
    uncertainty = uncertainty or {}
    n1, n2 = (_axis_name(k) for k in kinds)
    u1, u2 = (_unit(k) for k in kinds)
    header = ["region", "method", "fraction", f"{n1} ({u1})", f"{n2} ({u2})"]
    header += [f"{n1} log width (decades)", f"{n2} log width (decades)", "T1/T2"]
    extra = bool(uncertainty)
    if extra:
        header += list(UNCERTAINTY_COLUMNS)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        pos = [*row["position"], None, None]
        width = [*row["log_width"], None, None]
        values = [row["fraction"], pos[0], pos[1], width[0], width[1], row.get("ratio")]
        line = [row["region"], row["method"], *(_number(v) for v in values)]
        if extra:
            unc = _uncertainty_row(uncertainty, row["region"], row["method"])
            line += [_number(unc.get(key)) for key in UNCERTAINTY_COLUMNS]
        writer.writerow(line)
    return buf.getvalue().encode()


def figure(results: dict, fmt: str) -> bytes:
    """The maps side by side (``plot_comparison``) as PNG or SVG.

    Maps on another grid than the first one are left out (one figure shares one grid).
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"figure format must be png or svg, got {fmt!r}")
    if not results:
        raise ValueError("there is no map to export yet: run a method first")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from laplace_inv.plotting import plot_comparison

    first = next(iter(results.values()))
    same = [
        (label, res.map)
        for label, res in results.items()
        if res.grid1.shape == first.grid1.shape
        and np.allclose(res.grid1, first.grid1)
        and np.allclose(res.grid2, first.grid2)
    ]
    fig = plot_comparison(same, first.grid1, first.grid2, first.kinds)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _source_lines(source: dict) -> tuple[list[str], list[str]]:
    """Imports and code that open the session's data."""
    if "dataset" in source:
        name = source["dataset"]
        note = "simulated with a fixed seed" if name.startswith("demo:") else "load_real_dataset"
        return (
            ["from laplace_inv.viewer.core import open_dataset"],
            [f"acq = open_dataset({name!r})  # {note}"],
        )
    args = [repr(source["path"])]
    for key in ("tau1_path", "tau2_path", "kinds", "time_unit"):
        if source.get(key):
            value = tuple(source[key]) if key == "kinds" else source[key]
            args.append(f"{key}={value!r}")
    return ["from laplace_inv.io import read_any"], [f"acq = read_any({', '.join(args)})"]


def python_snippet(source: dict, settings: Any, runs: dict, regions: list[dict]) -> str:
    """Python code that recreates every map of the session and its region table.

    Examples
    --------
    >>> from laplace_inv.viewer.state import Settings
    >>> code = python_snippet({"path": "data.npz"}, Settings(), {"upen": ("upen", {}, 64)}, [])
    >>> "make_inverter('upen', acq.kernel(n_grid=64))" in code
    True
    """
    if not source:
        raise ValueError("open a file or a dataset first")
    imports, body = _source_lines(source)
    imports.append("from laplace_inv.methods import make_inverter")
    if settings.kinds:
        imports.append("from laplace_inv.viewer.core import build_kernel")
    if settings.fit_model:
        imports.append("from laplace_inv.classical.robust import fit_acquisition_model")
    if regions:
        imports.append(
            "from laplace_inv.analysis.regions import integrate_regions, regions_from_dict"
        )
    body.append("results = {}")
    for label, (method, params, n_grid) in runs.items():
        if settings.kinds:
            kernel = f"build_kernel(acq, {tuple(settings.kinds)!r}, {n_grid})"
        else:
            kernel = f"acq.kernel(n_grid={n_grid})"
        body.append(f"est = make_inverter({method!r}, {kernel})")
        if params:
            body.append(f"est.set_params(**{params!r})")
        if settings.fit_model:
            call = "fit_acquisition_model(est, acq.data, noise_std=acq.noise_std)"
        else:
            call = "est.invert(acq.data, noise_std=acq.noise_std)"
        body.append(f"results[{label!r}] = {call}")
    body.append("")
    if regions:
        body += [
            f"regions = regions_from_dict({json.dumps({'region': regions})})",
            "for label, res in results.items():",
            "    for s in integrate_regions(res.map, res.grid1, res.grid2, regions, res.kinds):",
            "        print(label, s.name, f'{100 * s.fraction:.1f} %', s.position)",
        ]
    else:
        body += [
            "for label, res in results.items():",
            "    print(label, res.relative_residual, res.peaks(min_fraction=0.03)[:3])",
        ]
    header = ['"""Recreates the maps (and region table) of a laplace-inv viewer session."""', ""]
    return "\n".join([*header, *imports, "", *body]) + "\n"


def cli_command(source: dict, settings: Any, runs: dict, regions: list[dict]) -> str:
    """``laplace-inv invert`` commands that recreate the maps (files and folders only)."""
    if not source:
        raise ValueError("open a file or a dataset first")
    if "dataset" in source:
        if source.get("folder"):
            path = source["folder"]
        else:
            return (
                "# the simulated demo datasets have no file for the command line; "
                "use the Python snippet\n"
            )
    else:
        path = source["path"]
    base = ["laplace-inv", "invert", _quote(path)]
    for key, flag in (("tau1_path", "--tau1"), ("tau2_path", "--tau2")):
        if source.get(key):
            base += [flag, _quote(source[key])]
    if source.get("tau1_path") and source.get("kinds"):
        base += ["--kinds", *source["kinds"]]
    if source.get("time_unit"):
        base += ["--time-unit", str(source["time_unit"])]
    lines = []
    if settings.kinds and not source.get("tau1_path"):
        lines.append(f"# kinds {settings.kinds} were set in the viewer: use the Python snippet")
    for method, params, n_grid in runs.values():
        cmd = [*base, "--method", method, "--grid", str(n_grid)]
        if regions:
            cmd += ["--regions", "regions.toml"]
        note = f"  # parameters set in the viewer: {params}" if params else ""
        lines.append(" ".join(cmd) + note)
    if regions:
        lines.insert(0, "# save the regions from the viewer as regions.toml first")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(str(text))

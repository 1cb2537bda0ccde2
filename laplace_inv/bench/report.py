"""Write a benchmark's results: ``results.csv``, ``peaks.csv``, ``report.md`` and figures.

The report tables each method against the others per suite, gives the resolution limit per
method, axis and SNR, runs the harness's own known-answer checks on the same cases (the true
map must score zero error and be resolved wherever the output grid allows; a flat map must
never be resolved) and states the machine, versions, seed and command that made it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.bench.figures import (
    TRUTH_LABEL,
    plot_errors,
    plot_resolution_curve,
    plot_runtime,
)
from laplace_inv.bench.figures import write_figures as _write_figures
from laplace_inv.bench.runner import METRIC_COLUMNS, BenchmarkResults, is_number, score_map

__all__ = [
    "ROW_COLUMNS",
    "TRUTH_LABEL",
    "environment",
    "plot_errors",
    "plot_resolution_curve",
    "plot_runtime",
    "resolution_limits",
    "self_check",
    "summary_table",
    "write_csv",
    "write_report",
]

ROW_COLUMNS: tuple[str, ...] = (
    "suite",
    "case",
    "group",
    "family",
    "axis",
    "separation",
    "snr",
    "prior",
    "grid",
    "data_shape",
    "method",
    "status",
    "time_s",
    "setup_s",
    "n_repeats",
    "peak_mem_mib",
    *METRIC_COLUMNS,
    "warnings",
)
"""Columns of ``results.csv``, in order."""
PEAK_COLUMNS: tuple[str, ...] = (
    "case",
    "method",
    "peak",
    "true_pos1",
    "true_pos2",
    "est_pos1",
    "est_pos2",
    "true_fwhm1",
    "true_fwhm2",
    "est_fwhm1",
    "est_fwhm2",
    "true_fraction",
    "est_fraction",
)


def write_csv(
    rows: Sequence[dict[str, Any]], path: str | Path, columns: Sequence[str] = ROW_COLUMNS
) -> Path:
    """Write ``rows`` with ``columns`` (missing values empty, floats to 6 significant digits)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(c, "")) for c in columns])
    return path


def _csv_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(float(value)) else f"{float(value):.6g}"
    return value


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e4):
            return f"{v:.2e}"
        return f"{v:.{digits}g}"
    return str(value)


def _median(values: list[Any]) -> float:
    nums = [float(v) for v in values if is_number(v)]
    return float(np.median(nums)) if nums else float("nan")


def _mean(values: list[Any]) -> float:
    nums = [float(v) for v in values if is_number(v)]
    return float(np.mean(nums)) if nums else float("nan")


def environment() -> dict[str, str]:
    """Machine and versions for the report header."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("laplace-inv", "numpy", "scipy", "scikit-learn", "torch", "cvxpy", "matplotlib"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs ({cpu or 'unknown CPU'})",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------


def summary_table(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict[str, Any]]:
    """One summary row per method over ``rows`` (one suite).

    Columns: ``ok`` (runs that produced a map) out of ``cases``, the median position error,
    per-axis errors and width ratio, the mean fraction error, the median TV distance, the
    share of resolution cases resolved, the median residual/noise, the median time and the
    largest peak memory; ``status`` gives the first non-ok reason.
    """
    table = []
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        ok = [r for r in mine if r["status"] == "ok"]
        pairs = [r for r in ok if r["group"] == "resolution"]
        bad = [r["status"] for r in mine if r["status"] != "ok"]
        table.append(
            {
                "method": m,
                "ok": f"{len(ok)}/{len(mine)}",
                "position_error": _median([r["position_error"] for r in ok]),
                "axis1_error": _median([r["axis1_error"] for r in ok]),
                "axis2_error": _median([r["axis2_error"] for r in ok]),
                "width_ratio": _median([r["width_ratio"] for r in ok]),
                "fraction_error": _mean([r["fraction_error"] for r in ok]),
                "tv_distance": _median([r["tv_distance"] for r in ok]),
                "resolved": (
                    f"{sum(bool(r['resolved']) for r in pairs)}/{len(pairs)}" if pairs else "—"
                ),
                "residual_to_noise": _median([r["residual_to_noise"] for r in ok]),
                "time_s": _median([r["time_s"] for r in ok]),
                "peak_mem_mib": max(
                    [r["peak_mem_mib"] for r in ok if is_number(r["peak_mem_mib"])],
                    default=float("nan"),
                ),
                "status": bad[0] if bad else "ok",
            }
        )
    return table


def resolution_limits(
    rows: Sequence[dict[str, Any]], methods: Sequence[str]
) -> dict[tuple[str, str, float], float]:
    """Smallest separation resolved per (method, axis, SNR).

    The limit is the smallest swept separation from which on every larger one is resolved
    too (NaN if the largest is not). Under the name `TRUTH_LABEL` the same is given for
    the true map, i.e. the limit the output grid itself sets.
    """
    out: dict[tuple[str, str, float], float] = {}
    pairs = [r for r in rows if r["group"] == "resolution"]
    keys = sorted({(r["axis"], float(r["snr"])) for r in pairs})
    for name in [*methods, TRUTH_LABEL]:
        for axis, snr in keys:
            sel = [r for r in pairs if r["axis"] == axis and float(r["snr"]) == snr]
            if name == TRUTH_LABEL:
                seen: dict[float, bool] = {}
                for r in sel:
                    if isinstance(r["truth_resolved"], (bool, np.bool_)):
                        seen[float(r["separation"])] = bool(r["truth_resolved"])
            else:
                seen = {
                    float(r["separation"]): bool(r["resolved"])
                    for r in sel
                    if r["method"] == name and r["status"] == "ok"
                }
            if not seen:
                continue
            limit = float("nan")
            for sep in sorted(seen, reverse=True):
                if not seen[sep]:
                    break
                limit = sep
            out[(name, axis, snr)] = limit
    return out


def self_check(results: BenchmarkResults) -> dict[str, Any]:
    """Known-answer checks of the harness on the run's own simulated cases.

    The true map is scored like a method's output: its position, fraction and TV errors
    must be 0, and it must be resolved on every resolution case whose grid allows it. A flat
    map must never be resolved.
    """
    sim = [c for c in results.cases if c.truth is not None]
    pairs = [c for c in sim if c.pair is not None]
    max_pos = max_tv = 0.0
    truth_resolved = 0
    flat_resolved = 0
    for c in sim:
        assert c.truth is not None  # filtered above
        m, _ = score_map(c, c.truth)
        max_pos = max(max_pos, float(m["position_error"]))
        max_tv = max(max_tv, float(m["tv_distance"]))
        if c.pair is not None:
            truth_resolved += bool(m["resolved"])
            flat_map = np.full(tuple(c.kernel.map_shape), float(c.truth.sum()) / c.truth.size)
            flat, _ = score_map(c, flat_map)
            flat_resolved += bool(flat["resolved"])
    return {
        "n_sim": len(sim),
        "n_pairs": len(pairs),
        "truth_max_position_error": max_pos,
        "truth_max_tv": max_tv,
        "truth_resolved": truth_resolved,
        "flat_resolved": flat_resolved,
    }


def _md_table(header: Sequence[str], body: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in body:
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return lines


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def write_report(
    results: BenchmarkResults,
    out: str | Path,
    *,
    seed: int | None = None,
    command: str | None = None,
    quick: bool = False,
    elapsed_s: float | None = None,
    figures: bool = True,
) -> Path:
    """Write ``results.csv``, ``peaks.csv``, the figures and ``report.md`` into ``out``.

    Parameters
    ----------
    results : BenchmarkResults
    out : path
        Output folder (created).
    seed : int, optional
        The suite's seed, for the header.
    command : str, optional
        The command line that made the run.
    quick : bool
        Whether this is the quick suite (said in the title).
    elapsed_s : float, optional
        Total wall time of the run.
    figures : bool
        Draw the figures.

    Returns
    -------
    pathlib.Path
        The path of ``report.md``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(results.rows, out / "results.csv")
    write_csv(results.peaks, out / "peaks.csv", PEAK_COLUMNS)
    methods = results.methods
    figs: dict[str, str] = {}
    if figures:
        figs = _write_figures(results, out, methods)

    env = environment()
    title = "laplace_inv benchmark" + (" — QUICK suite" if quick else "")
    lines = [f"# {title}", ""]
    if quick:
        lines += [
            "This is the **quick** suite (`--quick`): a subset of the cases of the full "
            "benchmark, each timed once. Run without `--quick` for the full report.",
            "",
        ]
    lines += [
        f"- Command: `{command or '(Python API)'}`",
        f"- Seed: {seed if seed is not None else '—'}",
        f"- Date: {env['date']}",
        f"- Machine: {env['machine']}; {env['system']}; Python {env['python']}",
        f"- Versions: {env['versions']}",
    ]
    if elapsed_s is not None:
        lines.append(f"- Total wall time: {elapsed_s:.0f} s")
    lines += [f"- Methods: {', '.join(methods)}", ""]
    lines += [
        "Positions and widths are in decades (log10 of s, or of m²/s for D). Errors are "
        "against the true map on the output grid (simulations; the data are simulated on a "
        "4× finer grid) or against the published reference peaks (real data). Time is the "
        "median wall time per dataset over the repeats, including building the method "
        "(SVD compression, loading weights); memory is the peak traced by `tracemalloc` "
        "(Python and NumPy allocations, not PyTorch's).",
        "",
    ]
    for suite in ("sim", "real"):
        rows = [r for r in results.rows if r["suite"] == suite]
        missing = [m for m in results.missing_cases if suite == "real"]
        if not rows and not missing:
            continue
        lines += _suite_section(suite, rows, methods, missing)
    if any(c.truth is not None for c in results.cases):
        chk = self_check(results)
        lines += [
            "## Harness self-check (known answers, same cases)",
            "",
            f"- True map scored as a method on {chk['n_sim']} simulated cases: largest position "
            f"error {chk['truth_max_position_error']:.3g} decades, largest TV distance "
            f"{chk['truth_max_tv']:.3g}.",
            f"- True map resolved on {chk['truth_resolved']}/{chk['n_pairs']} resolution cases "
            "(the others are below what the output grid itself can resolve: the dashed line "
            "of the resolution curve).",
            f"- Flat map resolved on {chk['flat_resolved']}/{chk['n_pairs']} resolution cases.",
            "",
        ]
    if figs:
        lines += ["## Figures", ""]
        for label, fname in figs.items():
            lines += [f"### {label}", "", f"![{label}]({fname})", ""]
    notes = sorted({r["status"] for r in results.rows if r["status"] != "ok"})
    if notes:
        lines += ["## Methods that did not run everywhere", ""]
        for note in notes:
            who = sorted({r["method"] for r in results.rows if r["status"] == note})
            n = sum(r["status"] == note for r in results.rows)
            lines.append(f"- {', '.join(who)} ({n} runs): {note}")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _suite_section(
    suite: str, rows: list[dict[str, Any]], methods: Sequence[str], missing: list[tuple[str, str]]
) -> list[str]:
    title = "Simulated suite" if suite == "sim" else "Real suite"
    n_cases = len({r["case"] for r in rows})
    lines = [f"## {title} ({n_cases} cases)", ""]
    for name, reason in missing:
        lines.append(f"- dataset **{name}** not available: {reason}")
    if missing:
        lines.append("")
    if not rows:
        return lines
    table = summary_table(rows, methods)
    header = [
        "method",
        "ran",
        "pos. err",
        "axis-1 err",
        "axis-2 err",
        "width ratio",
        "fraction err",
        "TV",
        "resolved",
        "resid/noise",
        "time (s)",
        "peak MiB",
    ]
    body = [
        [
            t["method"],
            t["ok"],
            t["position_error"],
            t["axis1_error"],
            t["axis2_error"],
            t["width_ratio"],
            t["fraction_error"],
            t["tv_distance"],
            t["resolved"],
            t["residual_to_noise"],
            t["time_s"],
            t["peak_mem_mib"],
        ]
        for t in table
    ]
    lines += [*_md_table(header, body), ""]
    lines += [
        "Medians over the cases a method ran on (fraction error: mean; resolved: "
        "resolution cases). A true peak left without a matching estimate (e.g. two "
        "peaks merged into one) counts the grid's diagonal span (about 6 decades) as its "
        "position error, so a median above ~1 decade means peaks are being missed.",
        "",
    ]
    if suite == "sim":
        limits = resolution_limits(rows, methods)
        if limits:
            keys = sorted({(a, s) for (_, a, s) in limits}, key=lambda k: (k[0], k[1]))
            names = [m for m in [*methods, TRUTH_LABEL] if any(k[0] == m for k in limits)]
            lines += ["### Resolution limit (smallest separation resolved, decades)", ""]
            header = ["method", *[f"{a} @ SNR {s:g}" for a, s in keys]]
            body = [[m, *[limits.get((m, a, s), float("nan")) for a, s in keys]] for m in names]
            lines += [*_md_table(header, body), ""]
            lines += ["— : not resolved even at the largest separation (or not run).", ""]
        groups = sorted({r["group"] for r in rows})
        lines += ["### Per group (median position error in decades / median TV distance)", ""]
        header = ["method", *groups]
        body = []
        for m in methods:
            cells = []
            for g in groups:
                sel = [
                    r for r in rows if r["method"] == m and r["group"] == g and r["status"] == "ok"
                ]
                cells.append(
                    f"{_fmt(_median([r['position_error'] for r in sel]))} / "
                    f"{_fmt(_median([r['tv_distance'] for r in sel]))}"
                    if sel
                    else "—"
                )
            body.append([m, *cells])
        lines += [*_md_table(header, body), ""]
    else:
        lines += ["### Per dataset", ""]
        header = [
            "dataset",
            "method",
            "status",
            "pos. err vs reference",
            "fraction err",
            "rel. residual",
            "resid/noise",
            "time (s)",
        ]
        body = [
            [
                r["case"],
                r["method"],
                r["status"] if r["status"] == "ok" else r["status"][:60],
                r["position_error"],
                r["fraction_error"],
                r["relative_residual"],
                r["residual_to_noise"],
                r["time_s"],
            ]
            for r in rows
        ]
        lines += [*_md_table(header, body), ""]
    return lines

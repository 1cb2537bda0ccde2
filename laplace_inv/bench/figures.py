"""Figures of a benchmark report: resolution curve, runtime, errors, method comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.bench.runner import BenchmarkResults, is_number

#: Legend label of the true map's curve (the grid's own resolution limit).
TRUTH_LABEL = "true map (grid limit)"

__all__ = ["plot_errors", "plot_resolution_curve", "plot_runtime", "write_figures"]


def _figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def plot_resolution_curve(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> Any:
    """Share of resolution cases resolved vs separation, one panel per axis, one line per
    method (all SNRs pooled), plus the true map as the grid's limit."""
    pairs = [r for r in rows if r["group"] == "resolution"]
    axes_names = [a for a in ("T1", "T2", "diagonal") if any(r["axis"] == a for r in pairs)]
    fig = _figure(figsize=(4.2 * max(len(axes_names), 1), 3.6))
    panels = fig.subplots(1, max(len(axes_names), 1), squeeze=False)[0]
    for ax, axis in zip(panels, axes_names, strict=False):
        sel = [r for r in pairs if r["axis"] == axis]
        seps = sorted({float(r["separation"]) for r in sel})
        for name in methods:
            share = []
            for s in seps:
                runs = [
                    r
                    for r in sel
                    if r["method"] == name and float(r["separation"]) == s and r["status"] == "ok"
                ]
                share.append(
                    float(np.mean([bool(r["resolved"]) for r in runs])) if runs else np.nan
                )
            if np.any(np.isfinite(share)):
                ax.plot(seps, share, marker="o", label=name)
        truth = []
        for s in seps:
            flags = {
                r["case"]: r["truth_resolved"]
                for r in sel
                if float(r["separation"]) == s and isinstance(r["truth_resolved"], (bool, np.bool_))
            }
            truth.append(np.mean(list(flags.values())) if flags else np.nan)
        ax.plot(seps, truth, ls="--", color="0.5", label=TRUTH_LABEL)
        ax.set_xticks(seps)
        ax.set_title(f"separation along {axis}")
        ax.set_xlabel("separation (decades)")
        ax.set_ylim(-0.05, 1.05)
    panels[0].set_ylabel("share resolved (all SNRs)")
    panels[-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_runtime(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> Any:
    """Wall time per method (every case a dot, the median a bar), log scale."""
    fig = _figure(figsize=(6.0, 0.6 * max(len(methods), 1) + 1.4))
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)
    for i, name in enumerate(methods):
        t = [
            float(r["time_s"])
            for r in rows
            if r["method"] == name
            and r["status"] == "ok"
            and is_number(r["time_s"])
            and float(r["time_s"]) > 0
        ]
        if t:
            ax.scatter(t, i + rng.uniform(-0.15, 0.15, len(t)), s=10, alpha=0.6)
            ax.plot([np.median(t)] * 2, [i - 0.3, i + 0.3], color="k", lw=2)
    ax.set_yticks(range(len(methods)), list(methods))
    ax.set_xscale("log")
    ax.set_xlabel("wall time per dataset incl. preprocessing (s, median of repeats)")
    ax.set_ylim(-0.6, len(methods) - 0.4)
    fig.tight_layout()
    return fig


def plot_errors(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> Any:
    """Per-case position error, mass-fraction error and TV distance, one column per method."""
    metrics = (
        ("position_error", "position error (decades)"),
        ("fraction_error", "mass-fraction error"),
        ("tv_distance", "TV distance to truth"),
    )
    fig = _figure(figsize=(4.0 * len(metrics), 3.4))
    panels = fig.subplots(1, len(metrics), squeeze=False)[0]
    rng = np.random.default_rng(0)
    for ax, (key, label) in zip(panels, metrics, strict=True):
        for i, name in enumerate(methods):
            v = [
                float(r[key])
                for r in rows
                if r["method"] == name and r["status"] == "ok" and is_number(r[key])
            ]
            if v:
                ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=10, alpha=0.6)
                ax.plot([i - 0.3, i + 0.3], [np.median(v)] * 2, color="k", lw=2)
        ax.set_xticks(range(len(methods)), list(methods), rotation=30)
        ax.set_xlim(-0.6, len(methods) - 0.4)
        ax.set_title(label)
    fig.tight_layout()
    return fig


def _comparison(results: BenchmarkResults, case_name: str, methods: Sequence[str]) -> Any:
    from laplace_inv.plotting import plot_comparison

    case = next((c for c in results.cases if c.name == case_name), None)
    if case is None:
        return None
    maps = [(m, results.maps[(case_name, m)]) for m in methods if (case_name, m) in results.maps]
    if not maps:
        return None
    return plot_comparison(
        maps,
        case.kernel.grid1,
        case.kernel.grid2,
        case.kernel.kinds,
        truth=case.truth,
        peaks="auto",
    )


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def write_figures(results: BenchmarkResults, out: Path, methods: Sequence[str]) -> dict[str, str]:
    from laplace_inv.plotting import save_figure

    figs: dict[str, str] = {}
    rows = results.rows
    if any(r["group"] == "resolution" for r in rows):
        save_figure(plot_resolution_curve(rows, methods), out / "resolution_curve.png")
        figs["Resolution curve"] = "resolution_curve.png"
    for case, label, fname in (
        ("cement_like", "Simulated cement (DLEMLR Fig. 2 style)", "cement_comparison.png"),
        (
            "cheese_like",
            "Simulated cheese, three components (DLEMLR Fig. 3 style)",
            "cheese_comparison.png",
        ),
        ("cement_t1t2", "Real cement T1-T2", "real_cement_comparison.png"),
        ("maastricht_t2t2", "Real Maastricht stone T2-T2", "real_maastricht_comparison.png"),
        ("sse_dt2", "Real SSE D-T2", "real_sse_comparison.png"),
    ):
        fig = _comparison(results, case, methods)
        if fig is not None:
            save_figure(fig, out / fname)
            figs[label] = fname
    if any(r["status"] == "ok" and is_number(r["position_error"]) for r in rows):
        save_figure(plot_errors(rows, methods), out / "errors.png")
        figs["Errors per case"] = "errors.png"
    if any(r["status"] == "ok" for r in rows):
        save_figure(plot_runtime(rows, methods), out / "runtime.png")
        figs["Runtime per method"] = "runtime.png"
    return figs

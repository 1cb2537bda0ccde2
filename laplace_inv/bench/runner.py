"""Run methods on cases, time them and score their maps.

For every (case, method) pair the runner

1. builds the method for a fresh copy of the case's kernel (so SVD compression, weight loading
   and any other preprocessing count towards the time) and inverts the data;
2. repeats this up to ``repeats`` times (stopping early once the repeats of one pair have taken
   ``repeat_budget_s``) and keeps the median wall time; the first run is traced with
   `tracemalloc` for the peak memory of Python and NumPy allocations;
3. scores the map with `score_map`: against the true map for simulations, against the
   published reference peaks for real data, and by residual/noise everywhere.

A method that cannot be built gives a row with status ``"not available: <reason>"``, one that
raises while inverting a row with ``"failed: <reason>"``; neither stops the run, and neither
carries any metric.
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from laplace_inv.bench.cases import BenchCase
from laplace_inv.bench.registry import (
    Method,
    MethodNotAvailable,
    MethodOutput,
    available_methods,
    get_method,
)
from laplace_inv.kernels import Kernel2D
from laplace_inv.metrics import compare_to_truth, find_peaks, resolved

__all__ = ["METRIC_COLUMNS", "BenchmarkResults", "run_benchmark", "score_map"]

#: The columns `compare_to_truth` fills, in the order of `METRIC_COLUMNS`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "position_error",
    "axis1_error",
    "axis2_error",
    "width_ratio",
    "fraction_error",
    "tv_distance",
    "n_true",
    "n_found",
)

METRIC_COLUMNS: tuple[str, ...] = (
    *COMPARISON_COLUMNS,
    "resolved",
    "truth_resolved",
    "main_true_pos1",
    "main_true_pos2",
    "main_est_pos1",
    "main_est_pos2",
    "main_pos1_error",
    "main_pos2_error",
    "main_true_fwhm1",
    "main_true_fwhm2",
    "main_est_fwhm1",
    "main_est_fwhm2",
    "main_fwhm1_error",
    "main_fwhm2_error",
    "relative_residual",
    "residual_to_noise",
)
"""Metric columns of ``results.csv`` (positions and widths are log10 values / decades)."""

_NAN = float("nan")


@dataclass
class BenchmarkResults:
    """Everything one benchmark run produced.

    Attributes
    ----------
    rows : list of dict
        One row per (case, method): identification, status, timing and metrics.
    peaks : list of dict
        One row per (case, method, true or reference peak): true and estimated position
        and width per axis, and the fractions.
    maps : dict
        ``{(case name, method name): map}`` for the figures.
    cases : list of BenchCase
    methods : list of str
    missing_cases : list of (str, str)
        Cases that could not be built (e.g. real data absent), with the reason.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    peaks: list[dict[str, Any]] = field(default_factory=list)
    maps: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    cases: list[BenchCase] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    missing_cases: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: BenchmarkResults) -> None:
        """Append another run's results (e.g. the real suite after the simulated one)."""
        self.rows += other.rows
        self.peaks += other.peaks
        self.maps.update(other.maps)
        self.cases += other.cases
        self.methods += [m for m in other.methods if m not in self.methods]
        self.missing_cases += other.missing_cases


def score_map(
    case: BenchCase, F: np.ndarray, offset: float = 0.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score one map against a case.

    Parameters
    ----------
    case : BenchCase
    F : numpy.ndarray
        The map, shape ``case.kernel.map_shape``.
    offset : float
        Constant offset the method fitted with the map (added to the predicted data).

    Returns
    -------
    metrics : dict
        The `METRIC_COLUMNS`. Against the truth (simulations) or the reference peaks
        (real data): ``position_error`` (decades), per-axis errors, ``width_ratio`` (FWHM
        estimate / truth), ``fraction_error``, ``tv_distance`` (simulations only), peak counts;
        for resolution cases ``resolved`` (`laplace_inv.metrics.resolved`) and
        ``truth_resolved`` (whether the true map itself passes the same rule on this grid);
        the ``main_*`` columns describe the largest true peak; residuals use the known
        noise level (or `laplace_inv.simulate.estimate_noise` on real data).
    peaks : list of dict
        One row per true/reference peak.

    Examples
    --------
    >>> from laplace_inv.bench.cases import simulated_suite
    >>> case = simulated_suite(separations=[0.8], snrs=[1000], axes=["T2"], random_kinds=(),
    ...                        named=False)[0]
    >>> m, _ = score_map(case, case.truth)
    >>> m["position_error"], m["tv_distance"], m["resolved"]
    (0.0, 0.0, True)
    """
    kernel = case.kernel
    g1, g2 = kernel.grid1, kernel.grid2
    F = np.asarray(F, dtype=float).reshape(kernel.map_shape)
    metrics: dict[str, Any] = {c: _NAN for c in METRIC_COLUMNS}
    peak_rows: list[dict[str, Any]] = []

    fit = kernel.forward(F) + offset
    norm = float(np.linalg.norm(case.data))
    metrics["relative_residual"] = float(np.linalg.norm(case.data - fit) / norm) if norm else _NAN
    noise = case.noise_std
    if not noise:
        from laplace_inv.simulate import estimate_noise

        noise = estimate_noise(case.data, kernel)
    if noise:
        metrics["residual_to_noise"] = float(np.sqrt(np.mean((case.data - fit) ** 2)) / noise)

    truth: Any = None
    true_peaks: list = []
    if case.truth is not None:
        truth = case.truth
        true_peaks = find_peaks(truth, g1, g2)
    elif case.reference:
        truth = list(case.reference)
        true_peaks = truth
    if truth is not None and true_peaks:
        comp = compare_to_truth(F, truth, g1, g2)
        for key in COMPARISON_COLUMNS:
            metrics[key] = comp[key]
        if not any(np.isfinite(p.fraction) for p in true_peaks):
            metrics["fraction_error"] = _NAN  # the reference gives no fractions to compare
        est_peaks = find_peaks(F, g1, g2)
        matched = dict(comp.matches)
        main = int(np.argmax([p.fraction if np.isfinite(p.fraction) else -1 for p in true_peaks]))
        for t, tp in enumerate(true_peaks):
            ep = est_peaks[matched[t]] if t in matched else None
            row = {
                "peak": t,
                "true_pos1": tp.log_position[0],
                "true_pos2": tp.log_position[1],
                "true_fwhm1": tp.fwhm[0],
                "true_fwhm2": tp.fwhm[1],
                "true_fraction": tp.fraction,
                "est_pos1": ep.log_position[0] if ep else _NAN,
                "est_pos2": ep.log_position[1] if ep else _NAN,
                "est_fwhm1": ep.fwhm[0] if ep else _NAN,
                "est_fwhm2": ep.fwhm[1] if ep else _NAN,
                "est_fraction": ep.fraction if ep else _NAN,
            }
            peak_rows.append(row)
            if t == main:
                metrics.update(
                    {
                        "main_true_pos1": row["true_pos1"],
                        "main_true_pos2": row["true_pos2"],
                        "main_est_pos1": row["est_pos1"],
                        "main_est_pos2": row["est_pos2"],
                        "main_pos1_error": row["est_pos1"] - row["true_pos1"],
                        "main_pos2_error": row["est_pos2"] - row["true_pos2"],
                        "main_true_fwhm1": row["true_fwhm1"],
                        "main_true_fwhm2": row["true_fwhm2"],
                        "main_est_fwhm1": row["est_fwhm1"],
                        "main_est_fwhm2": row["est_fwhm2"],
                        "main_fwhm1_error": row["est_fwhm1"] - row["true_fwhm1"],
                        "main_fwhm2_error": row["est_fwhm2"] - row["true_fwhm2"],
                    }
                )
    if case.pair is not None:
        metrics["resolved"] = bool(resolved(F, g1, g2, case.pair))
        if case.truth is not None:
            metrics["truth_resolved"] = bool(resolved(case.truth, g1, g2, case.pair))
    return metrics, peak_rows


def _fresh_kernel(kernel: Kernel2D) -> Kernel2D:
    """The same kernel without its compression cache (preprocessing is timed every run)."""
    return Kernel2D(kernel.axis1, kernel.axis2)


def _run_once(
    method: Method, case: BenchCase, trace: bool
) -> tuple[MethodOutput, float, float, float]:
    """Build and run once; return (output, total time, build time, peak MiB or NaN)."""
    if trace:
        tracemalloc.start()
    try:
        t0 = time.perf_counter()
        run = method.build(_fresh_kernel(case.kernel))
        t1 = time.perf_counter()
        out = run(case.data.copy())
        t2 = time.perf_counter()
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else _NAN
    finally:
        if trace:
            tracemalloc.stop()
    return out, t2 - t0, t1 - t0, peak


def _case_columns(case: BenchCase) -> dict[str, Any]:
    return {
        "suite": case.suite,
        "case": case.name,
        "group": case.group,
        "family": case.family,
        "axis": case.params.get("axis", ""),
        "separation": case.params.get("separation", _NAN),
        "snr": case.snr if case.snr is not None else _NAN,
        "prior": case.params.get("prior", ""),
        "grid": f"{case.kernel.map_shape[0]}x{case.kernel.map_shape[1]}",
        "data_shape": f"{case.data.shape[0]}x{case.data.shape[1]}",
    }


def _progress(total: int, verbose: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    disable = verbose <= 0 or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=disable, unit="run", leave=False)


def run_benchmark(
    cases: Iterable[BenchCase],
    methods: Sequence[str] | None = None,
    *,
    repeats: int = 3,
    repeat_budget_s: float = 2.0,
    memory: bool = True,
    verbose: int = 1,
    desc: str = "bench",
    jobs: int = 1,
) -> BenchmarkResults:
    """Run ``methods`` on ``cases`` and score them.

    Parameters
    ----------
    cases : iterable of BenchCase
    methods : sequence of str, optional
        Registered method names (default: all registered).
    repeats : int
        Timed runs per (case, method), at most; the reported time is their median.
    repeat_budget_s : float
        No further repeat starts once a pair's runs have taken this long (slow methods are
        timed once).
    memory : bool
        Trace the first run of each pair with `tracemalloc` for its peak memory.
    verbose : int
        0 silences the progress bar (it is also silent when stderr is not a terminal); 2 also
        prints one line per run.
    desc : str
        Label of the progress bar.
    jobs : int
        Worker processes (joblib). Each run is still timed on its own, but runs in parallel
        share the machine: use ``jobs`` up to the number of idle cores. The classical solvers
        use one BLAS thread each.

    Returns
    -------
    BenchmarkResults
    """
    cases = list(cases)
    names = list(methods) if methods is not None else available_methods()
    resolved_methods = [get_method(n) for n in names]
    if int(repeats) < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    if int(jobs) < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs!r}")
    results = BenchmarkResults(cases=cases, methods=names)
    tasks = [(case, method) for case in cases for method in resolved_methods]
    args = (int(repeats), float(repeat_budget_s), memory)
    if int(jobs) == 1:
        outputs: Iterable[tuple] = (
            (case, method, _run_pair(method, case, *args)) for case, method in tasks
        )
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=int(jobs), return_as="generator")(
            delayed(_run_task)(case, method, args) for case, method in tasks
        )
    bar = _progress(len(tasks), verbose, desc)
    try:
        for case, method, (row, peak_rows, F) in outputs:
            results.rows.append(row)
            for pr in peak_rows:
                results.peaks.append({"case": case.name, "method": method.name, **pr})
            if F is not None:
                results.maps[(case.name, method.name)] = F
            if verbose >= 2:
                bar.write(
                    f"{case.name:28s} {method.name:12s} {row['time_s']:8.3g} s  {row['status']}",
                    file=sys.stderr,
                )
            bar.update(1)
    finally:
        bar.close()
    return results


def _run_task(case: BenchCase, method: Method, args: tuple) -> tuple:
    """Worker entry point for parallel runs."""
    return case, method, _run_pair(method, case, *args)


def _run_pair(
    method: Method, case: BenchCase, repeats: int, budget: float, memory: bool
) -> tuple[dict[str, Any], list[dict[str, Any]], np.ndarray | None]:
    row: dict[str, Any] = {
        **_case_columns(case),
        "method": method.name,
        "status": "ok",
        "time_s": _NAN,
        "setup_s": _NAN,
        "n_repeats": 0,
        "peak_mem_mib": _NAN,
        "warnings": "",
    }
    row.update({c: _NAN for c in METRIC_COLUMNS})
    times: list[float] = []
    setups: list[float] = []
    out: MethodOutput | None = None
    caught: list[warnings.WarningMessage] = []
    try:
        for i in range(repeats):
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                o, total, setup, peak = _run_once(method, case, trace=memory and i == 0)
            if i == 0:
                caught = list(record)
            out = out or o
            times.append(total)
            setups.append(setup)
            if i == 0:
                row["peak_mem_mib"] = peak
            if sum(times) >= budget:
                break
    except MethodNotAvailable as exc:
        row["status"] = f"not available: {_one_line(exc)}"
        return row, [], None
    except Exception as exc:  # a crashing method is a result, not a harness crash
        row["status"] = f"failed: {type(exc).__name__}: {_one_line(exc)}"
        return row, [], None
    assert out is not None
    if caught:
        texts = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        row["warnings"] = _one_line(Exception("; ".join(texts)), 300)
    row.update(
        time_s=float(np.median(times)), setup_s=float(np.median(setups)), n_repeats=len(times)
    )
    try:
        metrics, peak_rows = score_map(case, out.map, out.offset)
    except Exception as exc:
        row["status"] = f"failed: scoring: {type(exc).__name__}: {_one_line(exc)}"
        return row, [], out.map
    row.update(metrics)
    return row, peak_rows, out.map


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (bools excluded)."""
    return (
        isinstance(value, (int, float, np.floating, np.integer))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )

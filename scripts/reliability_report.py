"""Reliability report: generated inputs per entry point, the largest problem, validated errors.

Runs the hypothesis strategies of ``tests/test_properties.py`` and ``tests/test_reader_fuzz.py``
(the same ``Entry`` table the test suite uses) with a counting runner that never stops at
the first failure, then inverts the largest supported problem (a 128 × 2800 T2-T2 dataset on a
128 × 128 grid: the real Maastricht stone data when ``$LAPLACE_INV_DATA`` or the cache has it,
else a simulation with the same layout) in a fresh subprocess per method, recording wall time
and peak RSS (``resource.getrusage``). Then runs the hand-written hostile probes of
``scripts/hostile_probes.py`` (CLI outputs, weights/records/downloads, readers and ``.par``
files, determinism, load) and the regression tests of issue 26's defects (pytest). Writes
``docs/reliability.md``. Exits 1 when any input was not handled.

Usage::

    python scripts/reliability_report.py                 # about 3-10 min on 2 shared cores
    python scripts/reliability_report.py --examples 300  # more generated inputs
    python scripts/reliability_report.py --quick         # about 1 min: 10 examples, small
                                                         # probe set, no largest problem,
                                                         # no defect tests
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
DEFAULT_OUT = ROOT / "docs" / "reliability.md"
LARGEST_SHAPE = (128, 2800)
LARGEST_GRID = 128

# Issue 26's defects and the regression tests that fail on the old behaviour and pass now.
DEFECTS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "CLI ignores --time-unit/--kinds without --tau1",
        [
            "tests/test_cli_reliability.py::test_time_unit_applies_to_mat_with_kinds_in_the_file",
            "tests/test_cli_reliability.py::test_kinds_apply_to_mat_without_kinds",
            "tests/test_cli_reliability.py::test_time_unit_and_kinds_apply_to_npz",
        ],
    ),
    (
        2,
        "invert(S, noise_std=...) never reaches a solver",
        [
            "tests/test_estimator_params.py::test_noise_std_reaches_the_solvers",
            "tests/test_estimator_params.py::test_noise_std_is_reported_in_the_discrepancy_info",
        ],
    ),
    (
        3,
        "already-phased complex data gives noise_std = 0",
        [
            "tests/test_io_safety.py::test_already_phased_complex_mat_has_no_zero_noise",
            "tests/test_io_spinsolve.py::test_already_phased_export_has_a_positive_noise",
        ],
    ),
    (
        4,
        "CLI overwrites silently, writes non-atomically, leaves partial files",
        [
            "tests/test_cli_reliability.py::test_existing_results_are_not_overwritten_without_overwrite",
            "tests/test_cli_reliability.py::test_failed_write_leaves_no_partial_result",
            "tests/test_cli_reliability.py::test_killed_mid_write_leaves_no_truncated_result",
            "tests/test_cli_reliability.py::test_two_writers_into_one_folder_cannot_both_succeed",
            "tests/test_cli_reliability.py::test_concurrent_cli_runs_into_one_folder",
        ],
    ),
    (
        5,
        ".par file makes a reader open any file (path traversal)",
        [
            "tests/test_io_safety.py::test_par_file_cannot_name_a_file_outside_the_folder",
            "tests/test_io_safety.py::test_link_leaving_the_folder_is_refused",
            "tests/test_io_spinsolve.py::test_spinsolve_refuses_files_outside_the_folder",
        ],
    ),
    (
        6,
        "DLEMLR maps worse than a zero map without a warning",
        [
            "tests/test_dlemlr_robust.py::test_map_worse_than_zero_warns_and_says_so_in_the_result",
            "tests/test_dlemlr_robust.py::test_pretrained_warns_when_no_nonnegative_map_can_fit",
        ],
    ),
    (
        7,
        "DLEMLR FloatingPointError on subnormal data",
        ["tests/test_dlemlr_robust.py::test_subnormal_data_invert_like_normal_data"],
    ),
    (
        8,
        "UPEN IndexError on a one-row acquisition",
        ["tests/test_estimator_params.py::test_upen_on_a_one_row_acquisition"],
    ),
    (
        9,
        "weights record's config trusted as constructor arguments",
        [
            "tests/test_dlemlr_weights.py::test_malformed_config_is_refused_naming_file_and_key",
            "tests/test_dlemlr_weights.py::test_config_that_is_not_json_is_refused",
            "tests/test_dlemlr_weights.py::test_malformed_record_is_refused_naming_file_and_key",
        ],
    ),
    (
        10,
        "weights full of NaN load",
        ["tests/test_dlemlr_weights.py::test_weights_full_of_nan_are_refused"],
    ),
    (
        11,
        "from_pretrained hangs on a FIFO or a link to /dev/zero",
        [
            "tests/test_dlemlr_weights.py::test_fifo_as_weights_is_refused_without_blocking",
            "tests/test_dlemlr_weights.py::test_pretrained_link_to_dev_zero_is_refused",
            "tests/test_dlemlr_weights.py::test_oversized_weights_file_is_refused",
        ],
    ),
    (
        12,
        "downloads have no size cap and no deadline",
        [
            "tests/test_datasets.py::test_download_stops_at_the_registered_size",
            "tests/test_datasets.py::test_download_gives_up_on_a_trickling_server",
            "tests/test_datasets.py::test_fetch_file_passes_the_registered_size",
            "tests/test_datasets.py::test_download_retries_a_failed_connection",
        ],
    ),
    (
        13,
        "unbounded sizes in .par files (MemoryError)",
        [
            "tests/test_io_safety.py::test_grid_sizes_in_par_files_are_bounded",
            "tests/test_io_spinsolve.py::test_spinsolve_sizes_are_bounded_before_allocation",
            "tests/test_issue26_defects.py::test_non_finite_par_sizes_name_the_key",
        ],
    ),
    (
        14,
        "predict on a memmap loads the whole batch",
        ["tests/test_dlemlr_robust.py::test_memmap_batch_is_read_in_chunks"],
    ),
    (
        15,
        "one spike fools the diagnostics",
        [
            "tests/test_diagnostics.py::test_spike_is_named",
            "tests/test_diagnostics.py::test_wrong_sign_is_named",
            "tests/test_diagnostics.py::test_constant_offset_is_named",
        ],
    ),
    (
        16,
        "DLEMLRInverter.fit crashes on bad training input",
        [
            "tests/test_dlemlr_robust.py::test_target_with_nan_is_refused",
            "tests/test_dlemlr_robust.py::test_bad_training_parameters_are_refused_before_work",
            "tests/test_dlemlr_robust.py::test_too_few_pairs_for_validation_are_refused",
            "tests/test_dlemlr_robust.py::test_training_without_validation_works",
        ],
    ),
    (
        17,
        "laplace-inv train writes into the package's weights folder",
        [
            "tests/test_dlemlr_train.py::test_training_without_out_writes_a_new_folder_and_its_recipe",
            "tests/test_dlemlr_train.py::test_training_refuses_the_package_folder_and_existing_models",
            "tests/test_cli_reliability.py::test_train_is_forwarded_without_an_injected_output",
        ],
    ),
    (
        18,
        "parameter validation gaps (UPEN betas, alpha_grid, L1, DLEMLR device)",
        [
            "tests/test_estimator_params.py::test_tikhonov_bad_parameters_name_the_parameter",
            "tests/test_estimator_params.py::test_l1_bad_parameters_fail_before_any_solve",
            "tests/test_dlemlr_robust.py::test_bad_training_parameters_are_refused_before_work",
        ],
    ),
    (
        19,
        "result metadata recursion; read_npz decompresses every member",
        [
            "tests/test_io_safety.py::test_result_metadata_cannot_recurse",
            "tests/test_io_safety.py::test_npz_readers_decompress_only_what_they_need",
        ],
    ),
    (
        20,
        "grid outside the acquisition, subnormal noise_std, npz --tau1 message",
        [
            "tests/test_estimator_params.py::test_grid_outside_the_acquisition_warns",
            "tests/test_estimator_params.py::test_noise_std_must_be_a_normal_positive_float",
            "tests/test_io_safety.py::test_cli_invert_npz_with_tau1_gives_a_clear_message",
            "tests/test_cli_reliability.py::test_option_a_format_does_not_take_is_named",
        ],
    ),
]


def run_defect_tests(timeout: float) -> dict[str, str]:
    """Run every regression test of `DEFECTS` in one pytest process: node id -> outcome."""
    nodes = sorted({node for _, _, tests in DEFECTS for node in tests})
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *nodes],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seen: dict[str, set[str]] = defaultdict(set)
    for line in proc.stdout.splitlines():
        word, _, node = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR", "XFAIL", "XPASS"):
            seen[node.split(" ")[0].split("[")[0]].add(word.lower())
    outcome = {}
    for node, words in seen.items():
        bad = words & {"failed", "error", "xpass", "xfail"}
        outcome[node] = sorted(bad)[0] if bad else "passed"
    return {node: outcome.get(node, "not run") for node in nodes}


@dataclass
class Tally:
    """Counts for one entry point."""

    name: str
    tried: int = 0
    ok: int = 0
    errors: int = 0
    known_bug: int = 0
    unhandled: int = 0
    seconds: float = 0.0
    labels: Counter = field(default_factory=Counter)
    messages: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        """Inputs with a correct result or a validated ValueError/TypeError."""
        return self.ok + self.errors


def as_code(text: str) -> str:
    """Quote a message as Markdown inline code (it may contain brackets and backticks)."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def normalise_message(msg: str) -> str:
    """Strip paths and numbers so that equal messages about different inputs coincide."""
    msg = msg.strip().splitlines()[0] if msg.strip() else msg
    msg = re.sub(r"(?<![\w)\]])/[^\s:'\"]+", "<path>", msg)
    msg = re.sub(r"array\(\[.*?\]\)", "<array>", msg)
    msg = re.sub(r"(?<![A-Za-z_\d.])-?\d+(\.\d+)?(e[+-]?\d+)?(?![A-Za-z_\d])", "N", msg)
    msg = re.sub(r"(N(, |x| ?\* ?)?)+N", "N", msg)
    return msg[:180]


def run_counted(entry: Any, n: int, tally: Tally) -> None:
    """Run ``entry`` for ``n`` examples, counting outcomes instead of stopping."""
    from hypothesis import HealthCheck, given, settings
    from test_properties import Unhandled

    tally.known = dict(entry.known_bugs)

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(entry.strategy)
    def prop(case: Any) -> None:
        tally.tried += 1
        tally.labels[case.label] += 1
        try:
            kind, msg = entry.run(case)
        except Unhandled as exc:
            if case.label in entry.known_bugs:
                tally.known_bug += 1
            else:
                tally.unhandled += 1
                if len(tally.failures) < 5:
                    tally.failures.append(str(exc).splitlines()[0][:300])
            return
        if kind == "ok":
            tally.ok += 1
        else:
            tally.errors += 1
            tally.messages[normalise_message(msg)] += 1

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prop()
    tally.seconds = time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# the largest problem, one subprocess per method
# --------------------------------------------------------------------------------------------


def largest_problem(method: str) -> dict[str, Any]:
    """Invert the 128 × 2800 problem on a 128 × 128 grid (runs inside the subprocess)."""
    import numpy as np

    from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    source = "simulated (Maastricht layout)"
    try:
        from laplace_inv.datasets import load_maastricht_t2t2

        os.environ.setdefault("LAPLACE_INV_OFFLINE", "1")
        ds = load_maastricht_t2t2()
        data, tau1, tau2 = ds.data, ds.tau1, ds.tau2
        source = "real: maastricht_t2t2 (Upen2DTool, T2-T2)"
    except Exception:  # no local copy: simulate the same layout
        from laplace_inv.simulate import Peak, add_noise, simulate_decay

        tau1 = np.geomspace(0.3e-3, 0.84, LARGEST_SHAPE[0])
        tau2 = np.arange(1, LARGEST_SHAPE[1] + 1) * 0.3e-3
        k0 = Kernel2D(KernelAxis("T2", tau1, n_grid=64), KernelAxis("T2", tau2, n_grid=64))
        clean, _ = simulate_decay(
            k0,
            [Peak((-0.55, -0.5), (0.1, 0.1), 0.6, 0.5), Peak((-1.8, -1.8), (0.15, 0.15), 0.4, 0.3)],
            2,
        )
        data, _ = add_noise(clean, 500.0, 0)
    kernel = Kernel2D(
        KernelAxis("T2", tau1, n_grid=LARGEST_GRID), KernelAxis("T2", tau2, n_grid=LARGEST_GRID)
    )
    est = (
        TikhonovInverter(kernel, penalty="global", alpha="gcv")
        if method == "tikhonov_global"
        else TikhonovInverter(kernel, penalty="upen")
    )
    rss_in = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = est.invert(data)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = None
    status = Path("/proc/self/status")
    if status.is_file():  # Linux: the high-water mark of this process's own memory
        m = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        hwm = int(m.group(1)) / 1024 if m else None
    return {
        "method": method,
        "source": source,
        "data_shape": list(data.shape),
        "map_shape": list(kernel.map_shape),
        "compressed_shape": list(kernel.compress().shape),
        "time_s": elapsed,
        "peak_rss_mib": rss / 1024,
        "rss_before_mib": rss_in / 1024,
        "rss_at_start_mib": rss0 / 1024,
        "vm_hwm_mib": hwm,
        "relative_residual": res.relative_residual,
        "finite": bool(np.all(np.isfinite(res.map))),
        "min": float(res.map.min()),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:90]}" for w in caught}),
        "info": {
            k: v
            for k, v in res.info.items()
            if isinstance(v, (int, float, str, bool)) and k != "time_s"
        },
    }


def run_largest(method: str, timeout: float) -> dict[str, Any]:
    """Run :func:`largest_problem` in a fresh interpreter (its own peak RSS)."""
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--largest-child", method]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"method": method, "error": f"did not finish within {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"method": method, "error": proc.stderr.strip().splitlines()[-1:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_with_startup_s"] = time.perf_counter() - t0
    return out


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def _table(tallies: list[Tally], first: str) -> list[str]:
    lines = [
        f"| {first} | tried | correct result | validated error | known bug | not handled "
        "| time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tallies:
        lines.append(
            f"| `{t.name.removeprefix('probe: ')}` | {t.tried} | {t.ok} | {t.errors} | "
            f"{t.known_bug} | {t.unhandled} | {t.seconds:.1f} |"
        )
    lines.append(
        f"| **total** | **{sum(t.tried for t in tallies)}** | {sum(t.ok for t in tallies)} | "
        f"{sum(t.errors for t in tallies)} | {sum(t.known_bug for t in tallies)} | "
        f"{sum(t.unhandled for t in tallies)} | {sum(t.seconds for t in tallies):.1f} |"
    )
    return lines


PROBE_TEXT = (
    "Hand-written cases of `scripts/hostile_probes.py`, one category per issue-26 probe area. "
    "**cli outputs**: a second run into the same `--out` is refused and leaves the first "
    "result intact, `--overwrite` replaces it, `ResultWriter` with 1-3 files, existing "
    "targets, both overwrite policies and a write failing at each position leaves the folder "
    "as it was, two writers into one folder cannot both succeed, a CLI run killed "
    "(`SIGKILL`) mid-write leaves no visible partial file and does not block the next run, "
    "options a format does not take are named. **weights/records/downloads**: malformed "
    "stored configs (unknown keys, `refine`, huge or negative `n_iter_phys`, wrong types, NaN, "
    "not JSON, deep nesting), NaN/±Inf in single tensors, malformed records, FIFOs, "
    "directories, links to `/dev/zero` and oversized files as weights or record (each with a "
    "time limit, so a blocked read counts as not handled), a valid model still loading; "
    "downloads from a local `http.server` on 127.0.0.1 serving the right bytes, wrong bytes, "
    "4 MiB for a 944-byte file, a byte every 0.3 s and a 404, with short deadlines (the "
    "deadline must hold and nothing may be left behind). **readers and .par**: path traversal "
    "in every file key of Upen2DTool and Spinsolve `.par` files, links leaving the folder, "
    "huge, negative, fractional and non-finite sizes, deeply nested result metadata. "
    "**determinism**: global Tikhonov, UPEN and L1 give bit-identical maps for the same input "
    "twice, for `predict(n_jobs=1)` and `predict(n_jobs=2)` (joblib), and for `invert` and "
    "`predict`. **load**: the same inversion beside one or two busy processes (matrix "
    "products in a loop) gives a bit-identical map and finishes."
)


def _defect_lines(defects: dict[str, str]) -> list[str]:
    lines = [
        "",
        "## Issue 26 defects and their regression tests",
        "",
        "Each defect of issue 26 has regression tests that fail on the old behaviour and pass "
        "now. The status column is the outcome of running them with pytest in this report's "
        "run (all parametrisations of a test together)."
        if defects
        else "Each defect of issue 26 has regression tests that fail on the old behaviour (this "
        "run did not execute them: `--quick` or `--skip-defect-tests`).",
        "",
        "| # | defect | regression tests | status |",
        "|---:|---|---|---|",
    ]
    for number, text, tests in DEFECTS:
        names = "<br>".join(f"`{t.removeprefix('tests/')}`" for t in tests)
        states = {defects.get(t, "not run") for t in tests}
        status = ", ".join(sorted(states))
        lines.append(f"| {number} | {text} | {names} | {status} |")
    return lines


def _header(tallies: list[Tally], n: int, elapsed: float, command: str) -> list[str]:
    fuzz = [t for t in tallies if not t.name.startswith("probe: ")]
    probes = [t for t in tallies if t.name.startswith("probe: ")]
    total = sum(t.tried for t in tallies)
    handled = sum(t.handled for t in tallies)
    known = sum(t.known_bug for t in tallies)
    unhandled = sum(t.unhandled for t in tallies)
    return [
        "# Reliability report",
        "",
        f"Generated by `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU "
        f"cores, {n} examples requested per entry point, {elapsed:.0f} s). It runs the "
        "hypothesis strategies of `tests/test_properties.py` and `tests/test_reader_fuzz.py` "
        "(the property tests of the default suite run the same strategies with fewer examples; "
        "`HYPOTHESIS_PROFILE=thorough` or `-m slow` run more), then the hand-written hostile "
        "probes of `scripts/hostile_probes.py` (CLI outputs, weights/records/downloads, readers "
        "and `.par` files, determinism, load). `--quick` runs a smaller set in under two "
        "minutes; `tests/test_reliability_report.py` runs a few cases of every probe category "
        "in the default test suite.",
        "",
        "An input is **handled** when it gives a correct result (finite, non-negative map of "
        "the right shape whose residual is no larger than the data's; consistent acquisition; "
        "finite metrics equal to a scale-safe recomputation; for probes, the expected files, "
        "bytes or identical maps) or a `ValueError`/`TypeError`/`OSError` (`FileNotFoundError`, "
        "`FileExistsError`, `TimeoutError` and the download `ChecksumError` are `OSError`s) "
        "raised by `laplace_inv` whose message names the problem. A bare NumPy/SciPy/torch/"
        "cvxpy exception, NaN in a map, a broken input silently accepted, a call that blocks, or "
        "a partial file left behind counts as **not handled**.",
        "",
        "## Headline",
        "",
        f"- **{handled} of {total}** hostile inputs handled correctly "
        f"({100.0 * handled / max(total, 1):.1f} %): {sum(t.tried for t in fuzz)} generated "
        f"inputs across {len(fuzz)} entry points and {sum(t.tried for t in probes)} "
        f"hand-written probes across {len(probes)} categories.",
        f"- {unhandled} unhandled input(s) outside known bugs; {known} input(s) hit known bugs in "
        "modules owned by others (tracked by `xfail` tests, listed below).",
    ]


def render(
    tallies: list[Tally],
    largest: list[dict],
    n: int,
    elapsed: float,
    defects: dict[str, str] | None = None,
    command: str = "python scripts/reliability_report.py",
) -> str:
    """The Markdown report."""
    fuzz = [t for t in tallies if not t.name.startswith("probe: ")]
    probes = [t for t in tallies if t.name.startswith("probe: ")]
    lines = _header(tallies, n, elapsed, command)
    for r in largest:
        if "error" in r:
            lines.append(f"- Largest problem, {r['method']}: {r['error']}")
            continue
        lines.append(
            f"- Largest problem ({r['data_shape'][0]} × {r['data_shape'][1]} data, "
            f"{r['map_shape'][0]} × {r['map_shape'][1]} grid), **{r['method']}**: "
            f"{r['time_s']:.1f} s, peak RSS **{r['peak_rss_mib']:.0f} MiB**."
        )
    lines += ["", "## Generated inputs per entry point", "", *_table(fuzz, "entry point")]
    if probes:
        lines += ["", "## Hand-written probes per category", "", PROBE_TEXT, ""]
        lines += _table(probes, "category")
    lines += _defect_lines(defects or {})
    failures = [(t.name, f) for t in tallies for f in t.failures]
    if failures:
        lines += ["", "### Unhandled inputs (first few per entry point)", ""]
        lines += [f"- `{name}`: {f}" for name, f in failures]
    bugs = {reason for t in tallies for reason in t.known.values()}
    if bugs:
        lines += ["", "### Known bugs hit by generated inputs", ""]
        lines += [f"- {b}" for b in sorted(bugs)]
    lines += [
        "",
        "## Largest supported problem",
        "",
        "Each method runs in a fresh interpreter started before the report loads anything "
        "heavy; peak RSS is `resource.getrusage(RUSAGE_SELF).ru_maxrss` of that process "
        "(interpreter, NumPy/SciPy and the data included), cross-checked with Linux's `VmHWM`. "
        "Times are wall-clock for `invert` alone on this machine, which may be shared with "
        "other jobs.",
        "",
        "| method | data | grid | compressed | time (s) | peak RSS (MiB) | RSS before solve "
        "(MiB) | VmHWM (MiB) | relative residual | finite, ≥ 0 | warnings |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in largest:
        if "error" in r:
            lines.append(f"| {r['method']} | — | — | — | — | — | — | — | — | — | {r['error']} |")
            continue
        ok = "yes" if r["finite"] and r["min"] >= 0 else "**no**"
        warn = "; ".join(r["warnings"]) or "none"
        lines.append(
            f"| {r['method']} | {r['data_shape'][0]} × {r['data_shape'][1]} ({r['source']}) | "
            f"{r['map_shape'][0]} × {r['map_shape'][1]} | "
            f"{r['compressed_shape'][0]} × {r['compressed_shape'][1]} | {r['time_s']:.1f} | "
            f"{r['peak_rss_mib']:.0f} | {r['rss_before_mib']:.0f} | "
            f"{r['vm_hwm_mib'] or float('nan'):.0f} | {r['relative_residual']:.4g} | {ok} | "
            f"{warn} |"
        )
    lines += [
        "",
        "## Validated error messages",
        "",
        "Distinct messages (paths and numbers replaced by `<path>` and `N`) raised for "
        "generated broken inputs, with how often each was seen.",
        "",
    ]
    for t in tallies:
        if not t.messages:
            continue
        lines += [f"### `{t.name}`", ""]
        for msg, count in sorted(t.messages.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"- ({count}×) {as_code(msg)}")
        lines.append("")
    lines += ["## Input kinds generated", ""]
    for t in tallies:
        kinds = ", ".join(f"{k} ({v})" for k, v in sorted(t.labels.items()))
        lines.append(f"- `{t.name}`: {kinds}")
    return "\n".join(lines) + "\n"


def run_probe_categories(tmp: Path, quick: bool, only: list[str] | None) -> list[Tally]:
    """Run the hand-written probe categories of `hostile_probes` into one `Tally` each."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import hostile_probes as hp

    tallies = []
    with hp.local_server() as url:
        for name, probes in hp.categories(tmp / "probes", quick, url).items():
            if only and name not in only:
                continue
            print(f"{name}: {len(probes)} cases ...", file=sys.stderr, flush=True)
            tally = Tally(name)
            hp.run_probes(probes, tally, normalise_message)
            print(
                f"  tried {tally.tried}, handled {tally.handled}, unhandled {tally.unhandled} "
                f"({tally.seconds:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
            tallies.append(tally)
    return tallies


def main(argv: list[str] | None = None) -> int:
    """Command line of the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per entry point")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10 examples, the small probe set, no largest problem, no defect tests",
    )
    parser.add_argument("--skip-largest", action="store_true")
    parser.add_argument("--largest-timeout", type=float, default=900.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", help="entry point names to run")
    parser.add_argument("--skip-probes", action="store_true", help="no hand-written probes")
    parser.add_argument("--skip-defect-tests", action="store_true", help="no pytest run")
    parser.add_argument("--largest-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.largest_child:
        print(json.dumps(largest_problem(args.largest_child)))
        return 0

    n = 10 if args.quick else int(args.examples)
    t0 = time.perf_counter()
    # The largest problem first, while this process is small: on Linux a child's ru_maxrss
    # starts from its parent's resident size at fork time.
    largest: list[dict] = []
    if not (args.quick or args.skip_largest):
        for method in ("tikhonov_global", "upen"):
            print(f"largest problem, {method} ...", file=sys.stderr, flush=True)
            largest.append(run_largest(method, args.largest_timeout))
            print(f"  {largest[-1]}", file=sys.stderr, flush=True)

    sys.path.insert(0, str(TESTS))
    import test_properties as tp
    import test_reader_fuzz as tf

    tallies: list[Tally] = []
    with tempfile.TemporaryDirectory(prefix="laplace_reliability_") as tmp:
        entries = [*tp.entries(), tp.dlemlr_entry(), tp.cli_entry(Path(tmp)), *tf.reader_entries()]
        if tp.dlemlr_fixture() is None:
            entries = [e for e in entries if not e.name.startswith("dlemlr")]
        by_name: dict[str, Any] = defaultdict(list)
        for e in entries:
            by_name[e.name].append(e)
        for entry in entries:
            if args.only and entry.name not in args.only:
                continue
            tally = Tally(entry.name)
            count = max(5, round(n * min(entry.cost * 1.5, 1.0)))
            print(f"{entry.name}: {count} examples ...", file=sys.stderr, flush=True)
            run_counted(entry, count, tally)
            print(
                f"  tried {tally.tried}, handled {tally.handled}, known bug "
                f"{tally.known_bug}, unhandled {tally.unhandled} ({tally.seconds:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
            tallies.append(tally)
        if not args.skip_probes:
            tallies += run_probe_categories(Path(tmp), args.quick, args.only)
    defects = {} if args.quick or args.skip_defect_tests else run_defect_tests(1800.0)
    command = " ".join(["python scripts/reliability_report.py", *(argv or sys.argv[1:])]).strip()
    report = render(tallies, largest, n, time.perf_counter() - t0, defects, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(t.unhandled for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())

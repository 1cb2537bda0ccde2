"""Time one cement map per method in a fresh process, warm, and beside a busy process.

Methods: UPEN, global Tikhonov (with its automatic α), L1 and DLEMLR (``from_pretrained``;
its default output, and warm its raw output ``refine=False`` too), each built with
`laplace_inv.methods.make_inverter` as a user would, and FLINT (flintpy-nmr) at α = 3 when
installed (warm conditions only), with the ratio FLINT / global Tikhonov per
round and L1's objective and duality gap against a tight reference solve. The map is the real
cement IR-CPMG data (``LAPLACE_INV_DATA``) when available, else the cement-like simulation,
on the 64 × 64 grid. Three conditions, reported apart:

* **fresh process**: a new Python process imports laplace_inv and the method's module,
  builds the estimator (for DLEMLR: loads the weights) and inverts the map once; each step
  is timed inside the process, and the process's whole wall time outside it.
* **warm**: repeated calls in this process after one untimed call (median of ``--repeats``).
* **warm + busy**: the same while another process runs 2-thread matrix products
  (started before, stopped after).

Each condition runs every call twice, with default threads and inside
``laplace_inv.threads.limit_threads()`` (the policy), alternately in the same rounds.

Run ``python -m benchmarks.bench_load --out benchmarks/results/load.md`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine_speed import probe_line
from benchmarks.markdown import emit_table

METHODS = ("upen", "tikhonov", "l1", "dlemlr", "dlemlr-raw", "flint3")
LABELS = {
    "upen": "UPEN",
    "tikhonov": "global Tikhonov",
    "l1": "L1",
    "dlemlr": "DLEMLR (default output)",
    "dlemlr-raw": "DLEMLR raw (`refine=False`)",
    "flint3": "FLINT α = 3 (flintpy-nmr)",
}
#: Methods that are another method with other parameters (warm conditions only).
VARIANTS = {"dlemlr-raw": ("dlemlr", {"refine": False})}
#: Methods run in fresh processes (FLINT is a peer: warm conditions only).
FRESH_METHODS = ("upen", "tikhonov", "l1", "dlemlr")
MODES = ("default", "limit_threads")
ROOT = Path(__file__).resolve().parents[1]

BUSY_CODE = """
import os, numpy as np
a = np.random.default_rng(0).random((600, 600))
while True:
    a = np.tanh(a @ a.T / 600.0)
"""

FRESH_CODE = """
import json, sys, time
t0 = time.perf_counter()
import laplace_inv
from laplace_inv.methods import make_inverter
from laplace_inv.threads import limit_threads, resolve_threads
module = {"dlemlr": "laplace_inv.dlemlr", "l1": "laplace_inv.classical.l1"}.get(
    sys.argv[1], "laplace_inv.classical.tikhonov")
__import__(module)
t1 = time.perf_counter()
from benchmarks.bench_load import load_case
kernel, S, source = load_case()
t2 = time.perf_counter()
est = make_inverter(sys.argv[1], kernel)
t3 = time.perf_counter()
if sys.argv[2] == "limit_threads":
    # torch only for DLEMLR: limiting it would import it inside the timed call.
    with limit_threads(torch=sys.argv[1] == "dlemlr") as n:
        est.invert(S)
else:
    n = None
    est.invert(S)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t3 - t2, "first": t4 - t3, "threads": n}))
"""


def load_case() -> tuple[Any, np.ndarray, str]:
    """The cement map: real data when ``LAPLACE_INV_DATA`` has it, else the simulation."""
    try:
        from laplace_inv.datasets import load_cement_t1t2

        ds = load_cement_t1t2()
        return ds.kernel, np.asarray(ds.data, dtype=float), "real cement IR-CPMG (48 × 1000)"
    except (OSError, ValueError):
        from laplace_inv.simulate import cement_like

        sc = cement_like()
        return sc.kernel, sc.data, "cement-like simulation (48 × 1000, SNR 200)"


def start_busy() -> subprocess.Popen:
    """A process that keeps two cores busy with matrix products."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    proc = subprocess.Popen([sys.executable, "-c", BUSY_CODE], env=env)
    time.sleep(1.5)  # let it start and fill its threads
    return proc


def stop_busy(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class FlintAtThree:
    """FLINT at α = 3 with the estimators' ``invert(S)`` call."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    def invert(self, S: np.ndarray) -> np.ndarray:
        from laplace_inv.bench.peers import FLINT_ALPHA, flint_invert

        return flint_invert(S, self.kernel, FLINT_ALPHA)


def build(method: str, kernel: Any) -> Any:
    if method == "flint3":
        return FlintAtThree(kernel)
    from laplace_inv.methods import make_inverter

    name, params = VARIANTS.get(method, (method, {}))
    return make_inverter(name, kernel, **params)


def ratio_lines(warm: dict, busy: dict) -> list[str]:
    """FLINT α = 3 time / global Tikhonov time, call by call (same round and mode)."""
    if ("flint3", MODES[0]) not in warm or ("tikhonov", MODES[0]) not in warm:
        return []
    out = [
        "FLINT α = 3 / global Tikhonov (auto α), call by call in the same round (median "
        "[min-max]; above 1 means laplace_inv is faster):",
        "",
        "| threads | warm | warm + busy process |",
        "|---|---|---|",
    ]
    for mode in MODES:
        cells = []
        for cond in (warm, busy):
            r = np.asarray(cond["flint3", mode][0]) / np.asarray(cond["tikhonov", mode][0])
            cells.append(f"{np.median(r):.2g} [{r.min():.2g}-{r.max():.2g}]")
        out.append(f"| {mode} | {cells[0]} | {cells[1]} |")
    return out


def time_call(est: Any, S: np.ndarray, mode: str) -> tuple[float, int | None]:
    from laplace_inv.threads import limit_threads

    t = time.perf_counter()
    if mode == "limit_threads":
        with limit_threads() as n:
            est.invert(S)
        return time.perf_counter() - t, n
    est.invert(S)
    return time.perf_counter() - t, None


def warm_rounds(estimators: dict, S: np.ndarray, repeats: int) -> dict:
    """``{(method, mode): ([seconds], [threads])}``, modes alternating within each round."""
    out: dict = {(m, mode): ([], []) for m in estimators for mode in MODES}
    for r in range(repeats):
        for method, est in estimators.items():
            modes = MODES if r % 2 == 0 else MODES[::-1]
            for mode in modes:
                dt, n = time_call(est, S, mode)
                out[method, mode][0].append(dt)
                out[method, mode][1].append(n)
    return out


def fresh_runs(methods: list[str], runs: int) -> dict:
    """``{(method, mode): [record]}`` from new processes (import + load + first call)."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    methods = [m for m in methods if m in FRESH_METHODS]
    out: dict = {(m, mode): [] for m in methods for mode in MODES}
    for r in range(runs):
        for method in methods:
            for mode in MODES if r % 2 == 0 else MODES[::-1]:
                t = time.perf_counter()
                res = subprocess.run(
                    [sys.executable, "-c", FRESH_CODE, method, mode],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
                record = json.loads(res.stdout.strip().splitlines()[-1])
                record["process"] = time.perf_counter() - t
                out[method, mode].append(record)
    return out


def fmt(values: list[float]) -> str:
    """Median and [min-max] in ms (s above 10 s)."""
    v = np.asarray(values, dtype=float) * 1e3
    med, lo, hi = np.median(v), v.min(), v.max()
    if med >= 1e4:
        return f"{med / 1e3:.1f} s [{lo / 1e3:.1f}-{hi / 1e3:.1f}]"
    digits = 0 if med >= 100 else 1
    return f"{med:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def threads_text(counts: list) -> str:
    values = sorted({c for c in counts if c is not None})
    return "default" if not values else "/".join(str(c) for c in values)


def build_table(fresh: dict, warm: dict, busy: dict, methods: list[str]) -> list[str]:
    lines = [
        "| method | threads | fresh: import (ms) | fresh: build/load (ms) | fresh: first call "
        "(ms) | fresh: process (ms) | warm (ms) | warm + busy process (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        for mode in MODES:
            rec = fresh.get((method, mode), [])
            f = {k: [r[k] for r in rec] for k in ("import", "load", "first", "process")}
            w_t, w_n = warm[method, mode]
            b_t, b_n = busy[method, mode]
            threads = threads_text([r["threads"] for r in rec] + w_n + b_n)
            label = f"limit_threads(): {threads}" if mode == "limit_threads" else "default"
            cells = [fmt(f[k]) if f[k] else "—" for k in ("import", "load", "first", "process")]
            lines.append(
                f"| {LABELS[method]} | {label} | "
                + " | ".join(cells)
                + f" | {fmt(w_t)} | {fmt(b_t)} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset")
    p.add_argument("--repeats", type=int, default=9, help="warm calls per method and mode")
    p.add_argument("--fresh", type=int, default=2, help="fresh processes per method and mode")
    p.add_argument("--out", type=Path, help="write the markdown table here")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or args.repeats < 1 or args.fresh < 0:
        p.error(f"methods must be among {METHODS} (got {unknown}); repeats >= 1, fresh >= 0")

    from laplace_inv.bench.peers import peer_available
    from laplace_inv.threads import available_cpus, machine_load

    if "flint3" in methods and not peer_available("flint"):
        methods.remove("flint3")  # flintpy-nmr not installed: no peer row
    kernel, S, source = load_case()
    load_before = machine_load()
    probe = probe_line()
    t_start = time.perf_counter()
    fresh = fresh_runs(methods, args.fresh)
    estimators = {m: build(m, kernel) for m in methods}
    for est in estimators.values():
        for mode in MODES:  # untimed warm-up: caches, compression, lazy imports (torch too)
            time_call(est, S, mode)
    warm = warm_rounds(estimators, S, args.repeats)
    busy_proc = start_busy()
    try:
        busy = warm_rounds(estimators, S, args.repeats)
    finally:
        stop_busy(busy_proc)
    l1 = None
    if "l1" in methods:
        from benchmarks.bench_peers import l1_lines, l1_reference

        l1 = l1_lines(l1_reference(kernel, S, 0.01))
    elapsed = time.perf_counter() - t_start

    command = "python -m benchmarks.bench_load " + " ".join(argv or sys.argv[1:])
    lines = [
        "# One cement map: fresh process, warm, and beside a busy process",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"- Map: {source}, 64 × 64 grid; methods built with `make_inverter` (defaults).",
        f"- Machine: {available_cpus()} CPUs available to the process; load "
        f"{load_before:.1f} at the start (`machine_load`: the larger of the 1-minute load "
        "average and the threads running at that instant, other users included). Run took "
        f"{elapsed:.0f} s.",
        probe,
        f"- Fresh process: {args.fresh} new processes per method and mode (import = "
        "`import laplace_inv` and the method's module; build/load = `make_inverter`, for "
        "DLEMLR the weights; first call = the first `invert`; process = the whole wall "
        "time including interpreter start).",
        f"- Warm: median [min-max] of {args.repeats} calls after one untimed call per mode. "
        "Busy: the "
        "same while a second process runs 600 × 600 matrix products on 2 threads.",
        "- threads: `default` = the libraries' own thread counts; `limit_threads()` = inside "
        "`laplace_inv.threads.limit_threads()` with the count it chose (the policy: free "
        "CPUs given the load, see docs/guide/threads.md).",
        "",
        *build_table(fresh, warm, busy, methods),
        "",
        *ratio_lines(warm, busy),
        "",
        *(l1 or []),
        "",
    ]
    emit_table(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

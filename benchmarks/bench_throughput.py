"""Throughput benchmark (issue 8): maps per second per method on 1 core, 2 cores, 2 Dask workers.

Usage::

    python -m benchmarks.bench_throughput [--quick] [--n 10000]
                                          [--methods tikhonov,upen,l1,dlemlr,dlemlr-raw]
                                          [--budget 60] [--out benchmarks/results/throughput.md]

The batch is ``--n`` cement-like acquisitions (the cement IR-CPMG layout, 48 × 1000 points,
64 × 64 output grid; random 1-3 peak maps, SNR 200), written once as a float32 ``.npy`` file
and read chunk by chunk, so no mode ever holds every decay or every float64 map. Every
mode inverts into float32 maps (``output="maps32"``):

- ``1 core``: ``predict(X, n_jobs=1)``, one BLAS/torch thread, in this process;
- ``2 cores``: ``predict(X, n_jobs=2)`` (joblib, loky: two processes, one thread each);
- ``LocalCluster 2w``: :func:`laplace_inv.parallel.invert_dask` on a 2-worker, 1-thread
  ``dask.distributed.LocalCluster`` on loopback, reading the blocks from the file;
- DLEMLR also gets ``2 threads``: one process, torch with two intra-op threads (numpy's
  BLAS stays at one thread).

A mode whose full batch would take more than ``--budget`` seconds runs on a prefix of the
batch sized from a short probe (at least 4 chunks per worker) and is *extrapolated* to
``--n`` maps; the table says so. Worker start-up and warm-up (module imports, the first
compression) are excluded from the timing; they are reported in their own column.

Peak memory is the largest resident set of the whole process tree (this process, loky or
Dask workers and nannies), sampled every 50 ms, in a fresh process per row.

DLEMLR uses the shipped weights when they load, else a network of the default size
(dim 64, depth 4, 64 × 64) trained for one epoch on 32 pairs: its speed does not depend
on its weights, and the table says which one ran. ``dlemlr`` is its default output (with
the data-consistency step), ``dlemlr-raw`` the network's map alone (``refine=False``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

#: The repository root: children run ``python -m benchmarks.bench_throughput`` from there.
ROOT = Path(__file__).resolve().parents[1]

MODES = ("1 core", "2 cores", "2 threads", "LocalCluster 2w")
METHODS = ("tikhonov", "upen", "l1", "dlemlr", "dlemlr-raw")


# --------------------------------------------------------------------------------------
# data
def make_batch(path: Path, n: int, seed: int = 8) -> None:
    """Write ``n`` cement-like decays (float32, ``(n, 48*1000)``) to ``path``, in chunks."""
    from laplace_inv.simulate import cement_kernel, make_training_set

    kernel = cement_kernel()
    n1, n2 = kernel.data_shape
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, n1 * n2))
    step = 500
    for i, start in enumerate(range(0, n, step)):
        m = min(step, n - start)
        X, _, _ = make_training_set(kernel, m, snr=200.0, random_state=seed * 100_000 + i)
        out[start : start + m] = X
    out.flush()
    del out


# --------------------------------------------------------------------------------------
# memory
class PeakRSS:
    """Sample the summed memory of this process and all its descendants in a thread.

    ``peak`` is the resident set (RSS), which includes the file-backed pages of the
    memory-mapped input (reclaimable page cache); ``peak_private`` is RSS minus shared
    pages, the memory the inversion itself holds.
    """

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.peak_private = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> tuple[int, int]:
        rss = private = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                info = p.memory_info()
            except Exception:  # a process that just ended
                continue
            rss += info.rss
            private += info.rss - getattr(info, "shared", 0)
        return rss, private

    def _sample(self) -> None:
        rss, private = self.current()
        self.peak = max(self.peak, rss)
        self.peak_private = max(self.peak_private, private)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


# --------------------------------------------------------------------------------------
# one row, in a child process
def build(method: str):
    from laplace_inv.methods import make_inverter
    from laplace_inv.simulate import cement_kernel

    kernel = cement_kernel()
    if method == "tikhonov":
        from laplace_inv import TikhonovInverter

        return TikhonovInverter(kernel, penalty="global", alpha="gcv"), "GCV α"
    if method in ("upen", "l1"):
        return make_inverter(method, kernel), "defaults"
    if method == "dlemlr-raw":
        from laplace_inv.dlemlr import DLEMLRInverter

        return DLEMLRInverter.from_pretrained(kernel, refine=False), "raw network output"
    if method == "dlemlr":
        from laplace_inv.dlemlr import DLEMLRInverter

        try:
            return make_inverter("dlemlr", kernel), "shipped weights"
        except (FileNotFoundError, OSError, ValueError, RuntimeError) as error:
            exc = error.__cause__ or error  # make_inverter wraps the loader's error
            from laplace_inv.simulate import make_training_set

            Xt, Yt, _ = make_training_set(kernel, 32, random_state=0)
            est = DLEMLRInverter(
                kernel=kernel, max_epochs=1, batch_size=16, valid_fraction=0.25, random_state=0
            )
            why = type(exc).__name__
            return est.fit(Xt, Yt), f"shipped weights unusable ({why}): default-size net, 1 epoch"
    raise ValueError(method)


def run_row(method: str, mode: str, path: str, n: int, budget: float) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    threads = 2 if mode == "2 threads" else 1
    torch.set_num_threads(threads)
    warnings.simplefilter("ignore")
    X = np.load(path, mmap_mode="r")[:n]
    t0 = time.perf_counter()
    est, note = build(method)
    row: dict = {"method": method, "mode": mode, "n": n, "note": note}

    cluster = client = None
    workers = 2 if mode in ("2 cores", "LocalCluster 2w") else 1
    chunk = 128 if method.startswith("dlemlr") else 2  # classical: seconds per map

    if mode == "LocalCluster 2w":
        import logging

        from distributed import Client, LocalCluster

        from laplace_inv.parallel import from_npy, invert_dask

        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)

        def invert(m: int) -> float:
            Xd = from_npy(path, chunk_size=chunk)[:m]
            t = time.perf_counter()
            client.compute(invert_dask(est, Xd, output="maps32")).result()
            return time.perf_counter() - t
    else:
        n_jobs = 2 if mode == "2 cores" else 1

        def invert(m: int) -> float:
            t = time.perf_counter()
            # numpy's BLAS gets one thread in every mode: in "2 threads" the two cores belong
            # to torch, and two competing thread pools on two cores halve the speed.
            with threadpool_limits(1, user_api="blas"):
                est.predict(X[:m], n_jobs=n_jobs, chunk_size=chunk, output="maps32")
            return time.perf_counter() - t

    try:
        with PeakRSS() as mem:
            # warm-up: worker start, imports, compression (not timed in the throughput)
            probe_n = min(n, 2 * workers * chunk)
            probe = invert(probe_n)
            row["setup_s"] = time.perf_counter() - t0
            per_map = probe / probe_n
            # at least 4 chunks per worker, a whole number of chunks, within the budget
            m = (
                n
                if per_map * n <= budget
                else int(min(n, max(4 * workers * chunk, budget / per_map // chunk * chunk)))
            )
            elapsed = invert(m)
        row.update(
            measured_n=m,
            elapsed_s=elapsed,
            maps_per_s=m / elapsed,
            extrapolated=m < n,
            time_for_n_s=n * elapsed / m,
            peak_rss_mb=mem.peak / 2**20,
            peak_private_mb=mem.peak_private / 2**20,
        )
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return row


# --------------------------------------------------------------------------------------
# orchestration
def rows_for(methods: list[str]) -> list[tuple[str, str]]:
    out = []
    for method in methods:
        for mode in MODES:
            if mode == "2 threads" and not method.startswith("dlemlr"):
                continue
            out.append((method, mode))
    return out


def run_child(method: str, mode: str, path: Path, n: int, budget: float) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_throughput",
        "--_child",
        json.dumps([method, mode, str(path), n, budget]),
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    if mode == "2 threads":
        env["OMP_NUM_THREADS"] = "2"
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"method": method, "mode": mode, "error": tail[0][:200]}


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def table(rows: list[dict], n: int) -> list[str]:
    lines = [
        f"| method | mode | maps/s | time for {n} maps | measured on | setup (s) "
        "| peak RSS (MB) | peak private (MB) | note |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['method']} | {r['mode']} | – | – | – | – | – | – | "
                f"not available: {r['error']} |"
            )
            continue
        measured = (
            f"{r['measured_n']} maps, **extrapolated**"
            if r["extrapolated"]
            else f"all {r['measured_n']} maps"
        )
        lines.append(
            f"| {r['method']} | {r['mode']} | {r['maps_per_s']:.3g} | "
            f"{r['time_for_n_s']:.3g} s | {measured} | {r['setup_s']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['peak_private_mb']:.0f} | {r['note']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="500 maps, 10 s budget per row")
    p.add_argument("--n", type=int, default=None, help="batch size (default 10000)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds per row before extrapolating (default 60; 10 with --quick)",
    )
    p.add_argument("--out", default=None, help="write the Markdown report here")
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        method, mode, path, n, budget = json.loads(args._child)
        print(json.dumps(run_row(method, mode, path, int(n), float(budget))), flush=True)
        return 0

    n = args.n or (500 if args.quick else 10_000)
    budget = args.budget or (10.0 if args.quick else 60.0)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    load_before = load_average()
    sys.path.insert(0, str(ROOT))  # run as a file, this script sees only its own folder
    from benchmarks.machine_speed import probe_line

    probe = probe_line()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="bench_throughput_") as tmp:
        path = Path(tmp) / "decays.npy"
        t = time.perf_counter()
        make_batch(path, n)
        print(
            f"batch of {n} cement-like decays written in {time.perf_counter() - t:.1f} s "
            f"({path.stat().st_size / 2**20:.0f} MB float32)",
            flush=True,
        )
        rows = []
        for method, mode in rows_for(methods):
            row = run_child(method, mode, path, n, budget)
            rows.append(row)
            print(table([row], n)[-1], flush=True)
    import torch

    header = [
        "# Throughput (issue 8)",
        "",
        f"`python benchmarks/bench_throughput.py{' --quick' if args.quick else ''}"
        f"{'' if args.n is None else f' --n {args.n}'}"
        f"{'' if args.budget is None else f' --budget {args.budget:g}'}` "
        f"started {started}.",
        "",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical "
        f"CPUs, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"torch {torch.__version__}; no GPU.",
        f"- Load average (1, 5, 15 min) before the run: {load_before}; after: "
        f"{load_average()}. The machine is shared with other jobs, so these figures are a "
        "lower bound on what two idle cores give.",
        probe,
        f"- Batch: {n} cement-like acquisitions (48 × 1000 IR-CPMG points, 64 × 64 grid), "
        'float32 maps out (`output="maps32"`), read from a `.npy` file chunk by chunk. A row '
        f"that would take more than {budget:g} s is measured on a prefix and extrapolated.",
        "- Peak memory: largest summed RSS of the process tree (workers included), and the "
        'same without shared pages ("private": RSS counts the touched pages of the '
        "memory-mapped input file, which are reclaimable page cache).",
        "",
    ]
    report = "\n".join(header + table(rows, n)) + "\n"
    print()
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""DLEMLR on an accelerator: agreement with the CPU, throughput, latency, a short training run.

Writes one Markdown table to ``--out``. On one H200 with 16 CPU cores the full check takes
under 6 minutes; ``--device cpu --quick`` runs the same code paths in under a minute (what the
test suite does).

Rows:

* agreement: the largest relative difference (``max|P_dev − P_cpu| / max|P_cpu|`` per map)
  between maps computed on ``--device`` and on the CPU, on cement-like simulated decays;
* raw throughput: maps per second of ``predict(X, output="maps32")`` over ``--n-maps`` maps
  (the distinct decays repeated to fill the batches), from host memory and, separately, with
  the decays already on the device;
* refine throughput: the same with ``refine=True``;
* single-map latency: median of ``predict`` on one decay;
* training: ``laplace-inv train --device DEVICE`` with a small budget, ending with its record.

Examples
--------
::

    python benchmarks/gpu_check.py --device cuda --out benchmarks/results/gpu_check.md
    python benchmarks/gpu_check.py --device cpu --quick --out /tmp/gpu_check.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

from laplace_inv.dlemlr import DLEMLRInverter
from laplace_inv.dlemlr.compressed import problem
from laplace_inv.dlemlr.inference import InferenceSettings, invert_batch
from laplace_inv.simulate import cement_kernel, make_training_set


def simulate(n: int, seed: int, n_jobs: int) -> np.ndarray:
    """``n`` cement-like decays, simulated in parallel chunks."""
    k = cement_kernel()
    sizes = [len(c) for c in np.array_split(np.arange(n), max(1, min(n_jobs, n)))]
    parts = Parallel(n_jobs=n_jobs)(
        delayed(make_training_set)(k, m, random_state=seed + i) for i, m in enumerate(sizes)
    )
    return np.concatenate([p[0] for p in parts])


def agreement(X: np.ndarray, device: str) -> float:
    k = cement_kernel()
    cpu = DLEMLRInverter.from_pretrained(k).predict(X)
    dev = DLEMLRInverter.from_pretrained(k, device=device, batch_size=len(X)).predict(X)
    scale = np.abs(cpu).max(axis=1)
    return float((np.abs(dev - cpu).max(axis=1) / scale).max())


def throughput(
    X: np.ndarray, device: str, n_maps: int, batch: int, refine: bool, budget: float
) -> tuple[float, int]:
    """Maps per second from host memory, and the number of maps run (time-capped)."""
    est = DLEMLRInverter.from_pretrained(
        cement_kernel(), device=device, batch_size=batch, refine=refine
    )
    block = np.ascontiguousarray(np.resize(X, (batch, X.shape[1])))
    est.predict(block[: min(batch, 8)], output="maps32")  # warm-up
    done, t0 = 0, time.perf_counter()
    while done < n_maps and time.perf_counter() - t0 < budget:
        est.predict(block, output="maps32")
        done += len(block)
    _sync(device)
    return done / (time.perf_counter() - t0), done


def resident_throughput(
    X: np.ndarray, device: str, n_maps: int, batch: int, budget: float
) -> tuple[float, int]:
    """Maps per second with the decays already on the device (the inference layer alone)."""
    k = cement_kernel()
    est = DLEMLRInverter.from_pretrained(k, device=device, batch_size=batch)
    dev = torch.device(device)
    module = est.net_.module_.to(dev).eval()
    block = np.resize(X, (batch, X.shape[1])).reshape(batch, *k.data_shape)
    S = torch.from_numpy(block).to(dev)
    scales = S.abs().flatten(1).amax(dim=1)
    settings = InferenceSettings(device=dev, n_iter=int(est.n_iter_phys), batch_size=batch)
    invert_batch(module, problem(k), S[:8], scales[:8], settings)  # warm-up
    done, t0 = 0, time.perf_counter()
    while done < n_maps and time.perf_counter() - t0 < budget:
        invert_batch(module, problem(k), S, scales, settings)
        done += batch
    _sync(device)
    return done / (time.perf_counter() - t0), done


def latency(X: np.ndarray, device: str, repeats: int) -> float:
    est = DLEMLRInverter.from_pretrained(cement_kernel(), device=device)
    est.predict(X[:1])
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        est.predict(X[i % len(X) : i % len(X) + 1])
        _sync(device)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def training(device: str, quick: bool, sim_jobs: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="gpu_check_train_"))
    size = ["--n-train", "32", "--n-test", "8", "--epochs", "1", "--dim", "16"]
    size += ["--depth", "1", "--n-iter-phys", "5"]
    if not quick:
        size = ["--n-train", "16384", "--n-test", "512", "--epochs", "200"]
        size += ["--time-limit", "60", "--batch-size", "256"]
    cmd = [sys.executable, "-m", "laplace_inv.cli", "train", "--family", "all", *size]
    cmd += ["--device", device, "--sim-jobs", str(sim_jobs), "--verbose", "0"]
    cmd += ["--out", str(out), "--overwrite"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    record_file = out / "all.json"
    if proc.returncode != 0 or not record_file.exists():
        tail = (proc.stderr or proc.stdout)[-300:].replace("\n", " ")
        return {"ok": False, "wall_s": wall, "error": tail}
    record = json.loads(record_file.read_text())
    if quick:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "ok": True,
        "wall_s": wall,
        "training_s": record["training"]["training_s"],
        "simulation_s": record["training"]["simulation_s"],
        "epochs": record["training"]["epochs_run"],
        "device": record["training"]["device"],
        "error_net": record["validation"]["relative_map_error_net"],
        "record": str(record_file),
    }


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _describe(device: str) -> str:
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({torch.get_num_threads()} torch threads)"


def run(args: argparse.Namespace) -> list[tuple[str, str]]:
    quick = args.quick
    n_distinct = 4 if quick else 64
    n_maps = 16 if quick else args.n_maps
    batch = 16 if quick else args.batch
    budget = 10.0 if quick else 90.0
    X = simulate(n_distinct, 0, 1 if quick else args.sim_jobs)
    rows = [("device", _describe(args.device)), ("torch", torch.__version__)]
    rows.append(
        (
            f"agreement with CPU, {n_distinct} cement maps (max relative difference)",
            f"{agreement(X, args.device):.2e}",
        )
    )
    rate, done = throughput(X, args.device, n_maps, batch, False, budget)
    rows.append((f"raw throughput from host, {done} maps, batch {batch} (maps/s)", f"{rate:.0f}"))
    rate, done = resident_throughput(X, args.device, n_maps, batch, budget)
    rows.append((f"raw throughput, data on device, {done} maps (maps/s)", f"{rate:.0f}"))
    rate, done = throughput(X, args.device, max(n_maps // 5, batch), batch, True, budget)
    rows.append((f"refine throughput, {done} maps (maps/s)", f"{rate:.0f}"))
    rows.append(
        (
            "single-map latency, median (ms)",
            f"{1e3 * latency(X, args.device, 5 if quick else 50):.1f}",
        )
    )
    t = training(args.device, quick, args.sim_jobs)
    if t["ok"]:
        rows.append(
            (
                "training run (record written)",
                f"{t['epochs']} epochs, {t['training_s']:.0f} s training + "
                f"{t['simulation_s']:.0f} s simulation on {t['device']}; "
                f"map error {t['error_net']:.3f}",
            )
        )
    else:
        rows.append(("training run", f"FAILED after {t['wall_s']:.0f} s: {t['error']}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--quick", action="store_true", help="small sizes (a CPU check)")
    p.add_argument("--n-maps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--sim-jobs", type=int, default=14)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args)
    total = time.perf_counter() - t0
    command = "python benchmarks/gpu_check.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "# DLEMLR device check",
        "",
        f"`{command}` ({total:.0f} s in all)",
        "",
        "| quantity | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

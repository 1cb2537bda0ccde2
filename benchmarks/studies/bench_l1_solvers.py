"""Which cvxpy solver for the non-negative L1 problem? Time and objective, side by side.

Solves ``min_{F≥0} ½‖K̃1FK̃2ᵀ − S̃‖² + α‖F‖₁`` (α = 0.01 on data scaled to max 1) on the
cement IR-CPMG layout at 64 × 64 (simulated ``cement_like(snr=200)``, and the real cement data
when ``laplace_inv.datasets.load_cement_t1t2`` can find it, e.g. with
``LAPLACE_INV_DATA=/work/shared/data``). For each solver it prints the median wall and CPU
time over the repeats (the cvxpy problem is built and cached by a first, untimed call, whose
time is shown as ``build``), the objective on the compressed problem, the relative objective
gap to the best solver, the status and the iteration count. It then times the default
``L1Inverter`` end to end and reports the peaks it finds.

Usage::

    python -m benchmarks.studies.bench_l1_solvers [--repeats 3] [--fista] [--kron]

``--fista`` adds the FISTA cross-check (slow: ~10⁵ iterations), ``--kron`` the dense
Kronecker formulation (very slow with interior-point solvers; shown for the record).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import cvxpy as cp
import numpy as np

from laplace_inv.classical import l1 as l1_module
from laplace_inv.classical.l1 import L1Inverter, solve_l1_cvxpy
from laplace_inv.classical.l1_fista import fista_l1, l1_objective
from laplace_inv.methods import make_inverter
from laplace_inv.simulate import cement_like

ALPHA = 0.01
RTOL = 1e-4


def _datasets() -> list[tuple[str, object, np.ndarray]]:
    sc = cement_like(snr=200)
    out = [("cement_like snr=200", sc.kernel, sc.data)]
    os.environ.setdefault("LAPLACE_INV_DATA", "/work/shared/data")
    try:
        from laplace_inv.datasets import load_cement_t1t2

        ds = load_cement_t1t2()
        out.append(("real cement", ds.kernel, np.asarray(ds.data, dtype=float)))
    except Exception as exc:  # pragma: no cover - depends on the machine
        print(f"(real cement data not available: {type(exc).__name__}: {exc})")
    return out


def _time_solver(kernel, S, solver, repeats, rtol=RTOL, formulation="separable", options=None):
    S_c = kernel.compress(rtol).project(S)
    kw = {"rtol": rtol, "solver": solver, "formulation": formulation}
    saved = l1_module._solver_options

    def patched(*a, **k):
        # cold starts for a fair comparison (cvxpy warm-starts SCS/OSQP from the last
        # solution, which here is the same problem); `options` replaces the defaults
        opts = dict(options) if options is not None else saved(*a, **k)
        if solver in ("SCS", "OSQP"):
            opts["warm_start"] = False
        return opts

    patch = True
    if patch:
        l1_module._solver_options = patched
    try:
        t0 = time.perf_counter()
        try:
            F, status, n_iter = solve_l1_cvxpy(kernel, S_c, ALPHA, **kw)
        except cp.error.SolverError as exc:
            return {"status": f"error: {exc}"[:60]}
        build = time.perf_counter() - t0
        walls, cpus = [], []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            F, status, n_iter = solve_l1_cvxpy(kernel, S_c, ALPHA, **kw)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    finally:
        if patch:
            l1_module._solver_options = saved
    return {
        "F": F,
        "status": status,
        "iter": n_iter,
        "build": build,
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fista", action="store_true", help="add the FISTA cross-check")
    ap.add_argument("--fista-iter", type=int, default=100_000)
    ap.add_argument("--kron", action="store_true", help="add the dense Kronecker form")
    ap.add_argument("--solvers", nargs="*", default=["CLARABEL", "ECOS", "SCS", "OSQP"])
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)
    solvers = [s for s in args.solvers if s in cp.installed_solvers()]
    print(
        f"cvxpy {cp.__version__}; solvers {solvers}; alpha={ALPHA}, rtol={RTOL} (objectives "
        f"on the rtol=1e-8 problem), repeats={args.repeats}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    for name, kernel, S in _datasets():
        S = S / np.abs(S).max()
        ref = kernel.compress(1e-8)
        S_ref = ref.project(S)
        print(
            f"\n== {name}: data {S.shape}, map {kernel.map_shape}, compressed "
            f"{kernel.compress(RTOL).shape} (rtol={RTOL})",
            flush=True,
        )
        rows = []

        def add(label, form, r, rows=rows):
            rows.append((label, form, r))
            print(
                f"   ... {label} {form}: {r.get('wall', float('nan')):.2f} s",
                file=sys.stderr,
                flush=True,
            )

        for solver in solvers:
            add(solver, "separable", _time_solver(kernel, S, solver, args.repeats))
        if "CLARABEL" in solvers:
            add(
                "CLARABEL/qdldl",
                "separable",
                _time_solver(kernel, S, "CLARABEL", args.repeats, options={}),
            )
            add(
                "CLARABEL@1e-6",
                "separable",
                _time_solver(kernel, S, "CLARABEL", args.repeats, rtol=1e-6),
            )
        if args.kron:
            add("CLARABEL@1e-6", "kron", _time_solver(kernel, S, "CLARABEL", 1, 1e-6, "kron"))
        if args.fista:
            comp = kernel.compress(RTOL)
            w0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                F, n_iter = fista_l1(
                    comp, comp.project(S), ALPHA, max_iter=args.fista_iter, tol=1e-10
                )
            add(
                "FISTA",
                "gram",
                {
                    "F": F,
                    "status": "-",
                    "iter": n_iter,
                    "build": 0.0,
                    "wall": time.perf_counter() - w0,
                    "cpu": time.process_time() - c0,
                },
            )
        objs = {}
        for label, form, r in rows:
            if r.get("F") is not None:
                objs[(label, form)] = l1_objective(ref, S_ref, r["F"], ALPHA)
        best = min(objs.values())
        print(
            f"{'solver':15s} {'form':9s} {'build s':>8s} {'median s':>9s} {'cpu s':>7s} "
            f"{'objective':>14s} {'rel gap':>9s} {'iters':>6s}  status"
        )
        for label, form, r in rows:
            if (label, form) not in objs:
                print(
                    f"{label:15s} {form:9s} {'':>8s} {'':>9s} {'':>7s} {'':>14s} {'':>9s} "
                    f"{'':>6s}  {r['status']}"
                )
                continue
            obj = objs[(label, form)]
            print(
                f"{label:15s} {form:9s} {r['build']:8.2f} {r['wall']:9.3f} {r['cpu']:7.3f} "
                f"{obj:14.10g} {(obj - best) / best:9.1e} {r['iter']!s:>6s}  {r['status']}"
            )

        inv = make_inverter("l1", kernel)
        inv.invert(S)  # build the cached problem
        times, cpus = [], []
        for _ in range(args.repeats):
            c0 = time.process_time()
            res = inv.invert(S)
            cpus.append(time.process_time() - c0)
            times.append(res.info["time_s"])
        print(
            f"L1Inverter() end to end: median {statistics.median(times):.3f} s wall, "
            f"{statistics.median(cpus):.3f} s CPU (solver {res.info['solver']}, status "
            f"{res.info['status']}, relative residual {res.relative_residual:.2e}, "
            f"residual/noise {res.residual_to_noise:.2f})"
        )
        for p in res.peaks()[:4]:
            print(
                f"  peak T1 {p.position[0] * 1e3:8.2f} ms  T2 {p.position[1] * 1e3:7.3f} ms  "
                f"share {100 * p.fraction:5.1f} %"
            )
        t0 = time.perf_counter()
        res = L1Inverter(kernel, alpha="discrepancy").invert(S)
        print(
            f"L1Inverter(alpha='discrepancy'): alpha {res.info['alpha']:.3g}, residual/noise "
            f"{res.residual_to_noise:.3f}, {res.info['discrepancy']['n_solves']} solves, "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()

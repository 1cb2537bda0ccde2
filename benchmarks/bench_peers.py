"""laplace_inv against FLINT (flintpy-nmr) and ILTpy on one cement map: time and residual.

The map is the real cement IR-CPMG data (``LAPLACE_INV_DATA``) when available, else the
cement-like simulation, on the 64 × 64 grid. Timed, in interleaved rounds (medians):

* laplace_inv: global Tikhonov (including its automatic α choice), UPEN, L1 — default
  settings (`laplace_inv.methods.make_inverter`);
* FLINT (flintpy-nmr) at α = 3 on max-normalised data, and at the α that gives the same
  relative residual as our global Tikhonov (found before the rounds by bisection in log α,
  untimed);
* ILTpy (ilt-py-lib) at its defaults with SVD compression and ``alt_g=8``
  (`laplace_inv.bench.peers.iltpy_invert`); it is slow, so it runs in the first
  ``--iltpy-rounds`` rounds only.

Each round runs every method in three conditions: the libraries' default threads, inside
``limit_threads(1)`` (one thread each), and with default threads while a second process
keeps both cores busy with matrix products (the loaded machine); ratios are peer time /
laplace_inv time within the same round and condition, then the median over rounds. Every
call is warm (one untimed call first). ILTpy runs in the first condition only.

L1 is also checked for accuracy against a reference: Clarabel at tolerance 1e-10 on the
same loss-free compressed problem (``rtol = 1e-8``), untimed; the table gives L1's
objective, its relative duality gap and its distance to the reference objective.

Run ``python -m benchmarks.bench_peers --out benchmarks/results/peers.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.markdown import emit_table

OURS = ("tikhonov", "upen", "l1")
LABELS = {
    "tikhonov": "laplace_inv global Tikhonov (auto α)",
    "upen": "laplace_inv UPEN",
    "l1": "laplace_inv L1",
    "flint3": "FLINT α = 3",
    "flint_matched": "FLINT α matched to our Tikhonov residual",
    "iltpy": "ILTpy",
}
PEERS = ("flint3", "flint_matched", "iltpy")
CONDITIONS = ("default threads", "one thread each", "busy process beside")
#: Targets of issue 21 on the loaded machine (seconds).
TARGETS = {"tikhonov": 0.3, "upen": 0.4, "l1": 1.0}


def load_case() -> tuple[Any, np.ndarray, float, str]:
    """Kernel, data, noise level and a description of the cement map."""
    try:
        from laplace_inv.datasets import load_cement_t1t2

        ds = load_cement_t1t2()
        S = np.asarray(ds.data, dtype=float)
        sigma = ds.noise_std
        if sigma is None:
            from laplace_inv.simulate import estimate_noise

            sigma = estimate_noise(S, ds.kernel)
        return ds.kernel, S, float(sigma), "real cement IR-CPMG (48 × 1000)"
    except (OSError, ValueError):
        from laplace_inv.simulate import cement_like

        sc = cement_like()
        return sc.kernel, sc.data, sc.noise_std, "cement-like simulation (48 × 1000, SNR 200)"


def residuals(kernel: Any, S: np.ndarray, F: np.ndarray, offset: float, sigma: float) -> dict:
    r = kernel.forward(F) + offset - S
    negative = max(0.0, -float(F[F < 0].sum())) / max(float(np.abs(F).sum()), 1e-300)
    return {
        "relative": float(np.linalg.norm(r) / np.linalg.norm(S)),
        "to_noise": float(np.linalg.norm(r) / (sigma * np.sqrt(S.size))),
        "negative": negative,
    }


def make_runners(kernel: Any, sigma: float, flint_alpha: dict) -> dict:
    """``name -> run(S) -> (map, offset)``."""
    from laplace_inv.bench.peers import FLINT_ALPHA, flint_invert, iltpy_invert
    from laplace_inv.methods import make_inverter

    runners: dict = {}
    for name in OURS:
        est = make_inverter(name, kernel)

        def run(S: np.ndarray, est: Any = est) -> tuple[np.ndarray, float]:
            res = est.invert(S, noise_std=sigma)
            return res.map, float((res.info or {}).get("offset", 0.0) or 0.0)

        runners[name] = run
    runners["flint3"] = lambda S: (flint_invert(S, kernel, FLINT_ALPHA), 0.0)
    runners["flint_matched"] = lambda S: (flint_invert(S, kernel, flint_alpha["value"]), 0.0)
    runners["iltpy"] = lambda S: (iltpy_invert(S, kernel, noise_std=sigma), 0.0)
    return runners


def match_flint_alpha(kernel: Any, S: np.ndarray, target: float, steps: int = 10) -> tuple:
    """The FLINT α whose relative residual equals ``target`` (bisection in log α)."""
    from laplace_inv.bench.peers import flint_invert
    from laplace_inv.threads import limit_threads

    def residual(alpha: float) -> float:
        F = flint_invert(S, kernel, alpha)
        return float(np.linalg.norm(kernel.forward(F) - S) / np.linalg.norm(S))

    lo, hi = -4.0, 3.0  # log10 α; the residual grows with α
    best = (np.nan, np.inf)
    with limit_threads(1, torch=False):
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            r = residual(10**mid)
            if abs(r / target - 1) < abs(best[1] / target - 1):
                best = (10**mid, r)
            if abs(r / target - 1) < 0.005:
                break
            lo, hi = (mid, hi) if r < target else (lo, mid)
    return best


def l1_reference(kernel: Any, S: np.ndarray, alpha: float) -> dict:
    """L1's default solve against Clarabel at tolerance 1e-10 on the loss-free problem."""
    from laplace_inv.classical.l1 import L1Inverter
    from laplace_inv.solvers.l1_cvxpy import solve_l1_cvxpy
    from laplace_inv.solvers.l1_fista import l1_objective

    res = L1Inverter(kernel, alpha=alpha).invert(S)
    Sn = S / np.abs(S).max()
    full = kernel.compress(1e-8)
    S_c = full.project(Sn)
    t = time.perf_counter()
    ref, status, _ = solve_l1_cvxpy(kernel, S_c, alpha, rtol=1e-8, solver="CLARABEL", tol=1e-10)
    ref_time = time.perf_counter() - t
    ref_obj = l1_objective(full, S_c, ref, alpha) if ref is not None else float("nan")
    return {
        "objective": res.info["objective"],
        "relative_gap": res.info["relative_gap"],
        "reference": ref_obj,
        "reference_status": status,
        "reference_time": ref_time,
        "shape": res.info["compressed_shape"],
        "problem_shape": res.info["problem_shape"],
        "solver": res.info["solver"],
    }


def timed(run: Any, S: np.ndarray, one_thread: bool) -> tuple[float, tuple]:
    from laplace_inv.threads import limit_threads

    guard = limit_threads(1) if one_thread else contextlib.nullcontext()
    with guard, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        out = run(S)
        return time.perf_counter() - t, out


def run_rounds(runners: dict, S: np.ndarray, rounds: int, iltpy_rounds: int) -> tuple:
    """Times ``{(condition, name): [s per round]}`` and the first output of each method."""
    from benchmarks.bench_load import start_busy, stop_busy

    times: dict = {}
    outputs: dict = {}
    for r in range(rounds):
        for cond in CONDITIONS if r % 2 == 0 else CONDITIONS[::-1]:
            names = [
                n for n in runners if n != "iltpy" or (r < iltpy_rounds and cond == CONDITIONS[0])
            ]
            order = names if r % 2 == 0 else names[::-1]
            busy = start_busy() if cond == "busy process beside" else None
            try:
                for name in order:
                    dt, out = timed(runners[name], S, cond == "one thread each")
                    times.setdefault((cond, name), []).append(dt)
                    outputs.setdefault(name, out)
                    print(f"round {r + 1} {cond:20s} {name:14s} {dt:8.3f} s", file=sys.stderr)
            finally:
                if busy is not None:
                    stop_busy(busy)
    return times, outputs


def num(x: float, digits: int) -> str:
    """``digits`` significant digits, without an exponent for values up to 10⁶."""
    return f"{x:.0f}" if abs(x) >= 10 ** (digits - 1) else f"{x:.{digits}g}"


def fmt_time(values: list[float]) -> str:
    v = np.asarray(values)
    med = float(np.median(v))
    if len(v) == 1:
        return num(med, 3)
    return f"{num(med, 3)} [{num(v.min(), 3)}-{num(v.max(), 3)}]"


def ratio_cell(times: dict, cond: str, peer: str, ours: str) -> str:
    """Median over rounds of peer / ours, both timed in the same round."""
    p, o = times.get((cond, peer), []), times.get((cond, ours), [])
    ratios = [a / b for a, b in zip(p, o, strict=False)]
    if not ratios:
        return "—"
    med = float(np.median(ratios))
    if len(ratios) == 1:
        return num(med, 2)
    return f"{num(med, 2)} [{num(min(ratios), 2)}-{num(max(ratios), 2)}]"


def build_report(times: dict, outputs: dict, meta: dict) -> list[str]:
    names = [n for n in LABELS if n in outputs]
    lines = [
        "| method | time, default threads (s) | time, one thread (s) | time, busy process "
        "beside (s) | relative residual | residual / noise | negative mass |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        res = meta["residuals"][name]
        cells = [fmt_time(times[c, name]) if (c, name) in times else "—" for c in CONDITIONS]
        lines.append(
            f"| {LABELS[name]} | {' | '.join(cells)} | {res['relative']:.4f} | "
            f"{res['to_noise']:.3f} | {res['negative']:.1%} |"
        )
    lines += [
        "",
        "Ratios peer time / laplace_inv time (same round and condition; median [min-max] "
        "over rounds; above 1 means laplace_inv is faster):",
        "",
        "| peer | vs | " + " | ".join(CONDITIONS) + " |",
        "|---|---|" + "---|" * len(CONDITIONS),
    ]
    for peer in (p for p in PEERS if p in outputs):
        for ours in OURS:
            cells = [ratio_cell(times, c, peer, ours) for c in CONDITIONS]
            lines.append(f"| {LABELS[peer]} | {LABELS[ours]} | {' | '.join(cells)} |")
    lines += ["", *target_lines(times), "", *l1_lines(meta["l1"])]
    return lines


def target_lines(times: dict) -> list[str]:
    """Issue 21's targets on the loaded machine, met or not (medians)."""
    busy = CONDITIONS[2]
    out = ["Targets on the loaded machine (median, busy process beside):", ""]
    for name, limit in TARGETS.items():
        if (busy, name) not in times:
            continue
        med = float(np.median(times[busy, name]))
        out.append(
            f"- {LABELS[name]}: {num(med, 3)} s (target ≤ {limit:g} s: "
            f"{'met' if med <= limit else 'not met'})"
        )
    if (busy, "flint3") in times and (busy, "tikhonov") in times:
        ratios = [
            a / b for a, b in zip(times[busy, "flint3"], times[busy, "tikhonov"], strict=False)
        ]
        med = float(np.median(ratios))
        out.append(
            f"- FLINT α = 3 / global Tikhonov (auto α): {num(med, 2)} (target > 1: "
            f"{'met' if med > 1 else 'not met'})"
        )
    return out


def l1_lines(ref: dict) -> list[str]:
    """L1's accuracy against the tight reference solve."""
    dev = ref["objective"] / ref["reference"] - 1.0
    return [
        "L1 accuracy (α = 0.01, default settings) against the reference solve (Clarabel, "
        "tolerance 1e-10, same loss-free problem):",
        "",
        "| solver | solved on (ranks) | problem (ranks) | objective | relative duality gap | "
        "reference objective | objective / reference − 1 | reference time (s) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {ref['solver']} | {ref['shape'][0]} × {ref['shape'][1]} | "
        f"{ref['problem_shape'][0]} × {ref['problem_shape'][1]} | {ref['objective']:.6g} | "
        f"{ref['relative_gap']:.1e} | {ref['reference']:.6g} ({ref['reference_status']}) | "
        f"{dev:+.1e} | {ref['reference_time']:.2f} |",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument(
        "--iltpy-rounds", type=int, default=1, help="rounds that include ILTpy (default 1)"
    )
    p.add_argument("--no-iltpy", action="store_true", help="leave ILTpy out")
    p.add_argument("--out", type=Path, help="write the markdown report here")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.iltpy_rounds < 0:
        p.error("--rounds must be >= 1 and --iltpy-rounds >= 0")

    from laplace_inv.bench.peers import FLINT_ALPHA, peer_available
    from laplace_inv.threads import available_cpus, machine_load

    missing = [
        pkg
        for name, pkg in (("flint", "flintpy-nmr"), ("iltpy", "ilt-py-lib"))
        if not peer_available(name)
    ]
    if "flintpy-nmr" in missing or ("ilt-py-lib" in missing and not args.no_iltpy):
        p.error(f"install the peers first: pip install 'laplace-inv[peers]' (missing {missing})")

    kernel, S, sigma, source = load_case()
    load_before = machine_load()
    t_start = time.perf_counter()
    flint_alpha: dict = {}
    runners = make_runners(kernel, sigma, flint_alpha)
    if args.no_iltpy:
        del runners["iltpy"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F_tik, off_tik = runners["tikhonov"](S)
        for name in ("upen", "l1", "flint3"):  # untimed warm-up (ILTpy: too slow to repeat)
            runners[name](S)
    target = residuals(kernel, S, F_tik, off_tik, sigma)["relative"]
    flint_alpha["value"], matched_residual = match_flint_alpha(kernel, S, target)
    times, outputs = run_rounds(runners, S, args.rounds, args.iltpy_rounds)
    meta = {
        "residuals": {
            name: residuals(kernel, S, F, offset, sigma) for name, (F, offset) in outputs.items()
        },
        "l1": l1_reference(kernel, S, 0.01),
    }
    elapsed = time.perf_counter() - t_start

    command = "python -m benchmarks.bench_peers " + " ".join(argv or sys.argv[1:])
    import importlib.metadata as md

    versions = ", ".join(
        f"{pkg} {md.version(pkg)}" for pkg in ("flintpy-nmr", "ilt-py-lib") if pkg not in missing
    )
    lines = [
        "# laplace_inv against FLINT (flintpy-nmr) and ILTpy: one cement map",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"- Map: {source}, 64 × 64 grid, noise σ = {sigma:.3g} (residual / noise = "
        "‖K F − S‖ / (σ √(n1·n2))).",
        f"- Peers: {versions}, unmodified, through `laplace_inv.bench.peers`. FLINT α = "
        f"{FLINT_ALPHA:g} on data normalised to max|S| = 1; the matched α = "
        f"{flint_alpha['value']:.3g} gives relative residual {matched_residual:.4f} against "
        f"our Tikhonov's {target:.4f} (found before the rounds, untimed). ILTpy at its "
        "defaults (no non-negativity constraint, up to 100 iterations) with its SVD "
        "compression and `alt_g=8`, on data divided by σ.",
        f"- {args.rounds} interleaved rounds, every call warm (one untimed call before, "
        "ILTpy excepted); "
        f"ILTpy in the first {min(args.iltpy_rounds, args.rounds) if 'iltpy' in runners else 0}"
        ", default threads only. Times: median [min-max] over rounds, one number for a "
        "single round. `one thread each` = inside `laplace_inv.threads.limit_threads(1)` "
        "(BLAS, OpenMP and torch); `busy process beside` = default threads while a second "
        "process runs 600 × 600 matrix products on 2 threads (the loaded machine).",
        f"- Machine: {available_cpus()} CPUs available to the process; 1-minute load average "
        f"{load_before:.1f} at the start (other users included). Run took {elapsed:.0f} s.",
        "",
        *build_report(times, outputs, meta),
        "",
    ]
    emit_table(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

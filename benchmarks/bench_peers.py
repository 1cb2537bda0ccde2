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

Each round runs every method with the libraries' default threads and inside
``limit_threads(1)`` (one thread each); ratios are peer time / laplace_inv time within the
same round and thread condition, then the median over rounds.

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
CONDITIONS = ("default threads", "one thread each")


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
    times: dict = {}
    outputs: dict = {}
    for r in range(rounds):
        names = [n for n in runners if n != "iltpy" or r < iltpy_rounds]
        order = names if r % 2 == 0 else names[::-1]
        for cond in CONDITIONS if r % 2 == 0 else CONDITIONS[::-1]:
            for name in order:
                dt, out = timed(runners[name], S, cond == "one thread each")
                times.setdefault((cond, name), []).append(dt)
                outputs.setdefault(name, out)
                print(f"round {r + 1} {cond:16s} {name:14s} {dt:8.3f} s", file=sys.stderr)
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
        "| method | time, default threads (s) | time, one thread (s) | relative residual | "
        "residual / noise | negative mass |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        res = meta["residuals"][name]
        lines.append(
            f"| {LABELS[name]} | {fmt_time(times[CONDITIONS[0], name])} | "
            f"{fmt_time(times[CONDITIONS[1], name])} | {res['relative']:.4f} | "
            f"{res['to_noise']:.3f} | {res['negative']:.1%} |"
        )
    lines += [
        "",
        "Ratios peer time / laplace_inv time (same round and thread condition; median "
        "[min-max] over rounds; above 1 means laplace_inv is faster):",
        "",
        "| peer | vs | default threads | one thread each |",
        "|---|---|---|---|",
    ]
    for peer in (p for p in PEERS if p in outputs):
        for ours in OURS:
            lines.append(
                f"| {LABELS[peer]} | {LABELS[ours]} | "
                f"{ratio_cell(times, CONDITIONS[0], peer, ours)} | "
                f"{ratio_cell(times, CONDITIONS[1], peer, ours)} |"
            )
    return lines


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
    target = residuals(kernel, S, F_tik, off_tik, sigma)["relative"]
    flint_alpha["value"], matched_residual = match_flint_alpha(kernel, S, target)
    times, outputs = run_rounds(runners, S, args.rounds, args.iltpy_rounds)
    meta = {
        "residuals": {
            name: residuals(kernel, S, F, offset, sigma) for name, (F, offset) in outputs.items()
        }
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
        f"- {args.rounds} interleaved rounds; ILTpy in the first "
        f"{min(args.iltpy_rounds, args.rounds) if 'iltpy' in runners else 0}. Times: median "
        "[min-max] over rounds, one number for a single round. `one thread each` = inside "
        "`laplace_inv.threads.limit_threads(1)` (BLAS, OpenMP and torch).",
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

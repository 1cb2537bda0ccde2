"""Command line of the benchmark: ``laplace-inv bench`` and ``python -m benchmarks``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import shlex
import sys
import time
from pathlib import Path

from laplace_inv.bench.cases import real_suite, simulated_suite
from laplace_inv.bench.registry import available_methods, get_method
from laplace_inv.bench.report import write_report
from laplace_inv.bench.runner import BenchmarkResults, run_benchmark

__all__ = ["bench_main", "build_parser"]


BENCH_EPILOG = """examples:
  laplace-inv bench --quick --out bench_out            # a 2-5 minute subset of every suite
  laplace-inv bench --suite real --methods upen l1     # real datasets, two methods
  laplace-inv bench --suite all --jobs 2 --out benchmarks/results   # the committed full report
  laplace-inv bench --plugin my_method.py --quick      # add your own registered method
"""


#: Optional peer packages' methods, registered on demand (`laplace_inv.bench.peers`).
PEER_METHODS = ("flint", "iltpy")


def build_parser(prog: str = "laplace-inv bench") -> argparse.ArgumentParser:
    """The argument parser of `bench_main`."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark every inversion method on simulated and real cases and write "
        "results.csv, report.md and figures.",
        epilog=BENCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--suite",
        choices=("sim", "real", "all"),
        default="all",
        help="which cases to run (default: all)",
    )
    p.add_argument(
        "--methods",
        default=None,
        help="comma-separated method names (default: every registered method)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=(
            "the quick suite (a subset of cases, one timed run each; about 100 s of CPU "
            "time, several minutes on a busy machine)"
        ),
    )
    p.add_argument("--out", default="bench-results", help="output folder (default: %(default)s)")
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per case and method, at most (default 3; 1 with --quick)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated suite")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes; runs are timed one by one but share the machine (default 1)",
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import a module or .py file that registers extra methods with "
        "laplace_inv.bench.register_method (repeatable)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument(
        "--list-methods", action="store_true", help="list the registered methods and exit"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("-v", "--verbose", action="store_true", help="print one line per run")
    return p


def _load_plugin(spec: str) -> None:
    if spec.endswith(".py") or Path(spec).is_file():
        path = Path(spec).resolve()
        mod_spec = importlib.util.spec_from_file_location(f"_bench_plugin_{path.stem}", path)
        if mod_spec is None or mod_spec.loader is None:
            raise ImportError(f"cannot import {spec}")
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        importlib.import_module(spec)


def bench_main(argv: list[str] | None = None, prog: str = "laplace-inv bench") -> int:
    """Run the benchmark from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    prog : str
        Program name for help and for the command recorded in the report.

    Returns
    -------
    int
        0 on success, 2 on bad arguments (unknown method, failed plugin).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return int(exc.code or 0)
    for plugin in args.plugin:
        try:
            _load_plugin(plugin)
        except Exception as exc:
            print(f"{prog}: error: cannot load plugin {plugin!r}: {exc}", file=sys.stderr)
            return 2
    if args.list_methods:
        for name in available_methods():
            m = get_method(name)
            print(f"{name:12s} {m.kind:8s} {m.description}")
        return 0
    methods = (
        available_methods()
        if args.methods is None
        else [m.strip() for m in args.methods.split(",") if m.strip()]
    )
    if any(m in PEER_METHODS for m in methods):
        import laplace_inv.bench.peers  # noqa: F401  (registers the optional peers)
    unknown = [m for m in methods if m not in available_methods()]
    if unknown or not methods:
        print(
            f"{prog}: error: unknown method(s) {unknown}; registered: {available_methods()}",
            file=sys.stderr,
        )
        return 2
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1 or args.jobs < 1:
        print(f"{prog}: error: --repeats and --jobs must be >= 1", file=sys.stderr)
        return 2
    verbose = 0 if args.quiet else (2 if args.verbose else 1)
    t0 = time.perf_counter()
    results = BenchmarkResults(methods=methods)
    if args.suite in ("sim", "all"):
        cases = simulated_suite(seed=args.seed, quick=args.quick)
        results.extend(
            run_benchmark(
                cases, methods, repeats=repeats, verbose=verbose, desc="simulated", jobs=args.jobs
            )
        )
    if args.suite in ("real", "all"):
        cases, missing = real_suite()
        res = run_benchmark(
            cases, methods, repeats=repeats, verbose=verbose, desc="real", jobs=args.jobs
        )
        res.missing_cases = missing
        results.extend(res)
    elapsed = time.perf_counter() - t0
    command = " ".join([prog, *(shlex.quote(a) for a in argv)])
    report = write_report(
        results,
        args.out,
        seed=args.seed,
        command=command,
        quick=args.quick,
        elapsed_s=elapsed,
        figures=not args.no_figures,
    )
    if verbose:
        n_ok = sum(r["status"] == "ok" for r in results.rows)
        print(f"{len(results.rows)} runs ({n_ok} ok) in {elapsed:.0f} s; report: {report}")
    return 0

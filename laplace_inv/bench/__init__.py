"""Benchmark harness: every method on simulated and real cases, scored and reported.

Entry points: ``laplace-inv bench`` / ``python -m benchmarks`` (`cli.bench_main`), or
from Python::

    from laplace_inv.bench import register_method, simulated_suite, run_benchmark, write_report

    register_method("mine", my_function)          # my_function(S, kernel) -> map
    results = run_benchmark(simulated_suite(quick=True), ["tikhonov", "mine"])
    write_report(results, "out/")
"""

from laplace_inv.bench.cases import BenchCase, family_kernel, real_suite, simulated_suite
from laplace_inv.bench.registry import (
    BUILTIN_METHODS,
    Method,
    MethodNotAvailable,
    available_methods,
    get_method,
    register_method,
    unregister_method,
)
from laplace_inv.bench.report import write_report
from laplace_inv.bench.runner import BenchmarkResults, run_benchmark, score_map

__all__ = [
    "BUILTIN_METHODS",
    "BenchCase",
    "BenchmarkResults",
    "Method",
    "MethodNotAvailable",
    "available_methods",
    "family_kernel",
    "get_method",
    "real_suite",
    "register_method",
    "run_benchmark",
    "score_map",
    "simulated_suite",
    "unregister_method",
    "write_report",
]

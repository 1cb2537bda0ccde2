"""A fixed arithmetic probe printed beside timing tables, so runs on a shared machine compare.

The same code runs slower when other jobs share the machine; a table's timings alone cannot
tell a slower method from a slower machine. Each timing benchmark reports the rate of a
fixed piece of work, measured just before its own rows.
"""

from __future__ import annotations

import time

import numpy as np

#: Side of the square float64 matrices multiplied by `probe_gflops`.
PROBE_SIZE = 400


def probe_gflops(rounds: int = 5, products: int = 20) -> float:
    """The best rate, in GFLOP/s, of ``products`` matrix products on one BLAS thread.

    Parameters
    ----------
    rounds : int
        Timed rounds; the fastest counts (the least disturbed by other jobs).
    products : int
        ``PROBE_SIZE × PROBE_SIZE`` float64 products per round.

    Returns
    -------
    float
        ``2·n³·products`` over the fastest round's wall time, in 10⁹ per second.

    Examples
    --------
    >>> probe_gflops(rounds=1, products=1) > 0
    True
    """
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).random((PROBE_SIZE, PROBE_SIZE))
    best = float("inf")
    with threadpool_limits(1, user_api="blas"):
        a @ a  # warm-up: page in the library's kernels
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(products):
                a @ a
            best = min(best, time.perf_counter() - start)
    return 2.0 * PROBE_SIZE**3 * products / best / 1e9


def probe_line() -> str:
    """A Markdown bullet stating the probe's rate, for a benchmark's header.

    Examples
    --------
    >>> probe_line().startswith("- Machine speed probe:")
    True
    """
    return (
        f"- Machine speed probe: {probe_gflops():.0f} GFLOP/s in {PROBE_SIZE} × {PROBE_SIZE} "
        "float64 matrix products on one BLAS thread (`benchmarks/machine_speed.py`, best of 5 "
        "rounds), just before the timings: compare runs by it."
    )

"""``python -m benchmarks``: the same as ``laplace-inv bench``."""

from laplace_inv.bench.cli import bench_main

if __name__ == "__main__":
    raise SystemExit(bench_main(prog="python -m benchmarks"))

"""The benchmark harness as ``python -m benchmarks`` (see :mod:`laplace_inv.bench`)."""

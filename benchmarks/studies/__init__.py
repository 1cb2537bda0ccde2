"""Investigation scripts: the studies behind design choices and the research tables.

Each module prints one table and is run from the repository root as
``python -m benchmarks.studies.NAME [--help]``; the committed outputs are in
``benchmarks/results/`` and what they found is summarised in ``docs/design/research-log.md``.
The benchmarks that users run (``bench_classical``, ``bench_dlemlr``, ``bench_throughput`` and
the harness, ``python -m benchmarks``) stay in ``benchmarks/``.
"""

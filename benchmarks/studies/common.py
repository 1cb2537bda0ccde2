"""What the studies share: the DLEMLR benchmark's cases and scores, and the validation seeds.

The studies score DLEMLR on the cases of ``benchmarks/bench_dlemlr.py`` (its test prior,
matching radius, table writer, real datasets and speed probe); they import them from here so
that no study imports another script.
"""

from __future__ import annotations

from benchmarks.bench_dlemlr import (
    MATCH_RADIUS,
    REAL_DATASETS,
    _with_kernel,
    emit_table,
    format_scores,
    map_scores,
    random_cases,
    random_scores,
    smallest_resolved,
    speed,
)

__all__ = [
    "MATCH_RADIUS",
    "REAL_DATASETS",
    "VALIDATION_SEED0",
    "_with_kernel",
    "emit_table",
    "format_scores",
    "map_scores",
    "random_cases",
    "random_scores",
    "smallest_resolved",
    "speed",
]

#: Seeds of the validation maps (the benchmark's test maps use 7 000 000, training 0-10 002).
VALIDATION_SEED0 = 8_000_000

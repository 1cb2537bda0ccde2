"""Figures of merit for 2D Laplace maps: peaks, widths, fractions, resolution, residuals, scores.

A map ``F`` is a non-negative ``(N1, N2)`` array of mass per bin on log-spaced grids ``grid1``
(rows, axis 1) and ``grid2`` (columns, axis 2) in SI units. Positions and widths are reported in
log10 units (decades); `DetectedPeak.position` converts back to SI.

Negative entries (round-off of unconstrained solvers) are treated as zero everywhere in this
package; a map whose *total* is negative is rejected.

* ``peaks``: `find_peaks`, `DetectedPeak` (also reachable as ``Peak``), `projections`;
* ``comparison``: `compare_to_truth`, `TruthComparison`;
* ``resolution``: `resolved`;
* ``residuals``: `relative_residual`, `residual_to_noise`;
* ``scorers``: scikit-learn scorers, `map_similarity_scorer` (true maps known),
  `gcv_stability_scorer` (no true maps; the default `score`), `discrepancy_scorer` and
  `make_map_scorer` (a chosen peak error).
"""

from __future__ import annotations

from laplace_inv.metrics._checks import _check_map
from laplace_inv.metrics.comparison import TruthComparison, compare_to_truth
from laplace_inv.metrics.peaks import DetectedPeak, Peak, find_peaks, projections
from laplace_inv.metrics.residuals import relative_residual, residual_to_noise
from laplace_inv.metrics.resolution import resolved
from laplace_inv.metrics.scorers import (
    SCORER_METRICS,
    SCORERS,
    MapScorer,
    discrepancy_scorer,
    gcv_stability_scorer,
    make_map_scorer,
    map_similarity,
    map_similarity_scorer,
)

__all__ = [
    "SCORERS",
    "SCORER_METRICS",
    "DetectedPeak",
    "MapScorer",
    "Peak",
    "TruthComparison",
    "_check_map",
    "compare_to_truth",
    "discrepancy_scorer",
    "find_peaks",
    "gcv_stability_scorer",
    "make_map_scorer",
    "map_similarity",
    "map_similarity_scorer",
    "projections",
    "relative_residual",
    "residual_to_noise",
    "resolved",
]

"""From a map to an answer: regions to integrate and bootstrap uncertainty.

``laplace_inv.analysis.regions`` defines boxes, polygons and cut-offs and integrates a map in
them; ``laplace_inv.analysis.uncertainty`` gives calibrated intervals by a parametric
bootstrap.
"""

from __future__ import annotations

from laplace_inv.analysis.regions import (
    Box,
    Cutoff,
    Polygon,
    Region,
    RegionStats,
    integrate_regions,
    load_regions,
    region_mask,
    regions_from_dict,
    regions_to_dict,
    save_regions,
)

__all__ = [
    "Box",
    "Cutoff",
    "Polygon",
    "Region",
    "RegionStats",
    "integrate_regions",
    "load_regions",
    "region_mask",
    "regions_from_dict",
    "regions_to_dict",
    "save_regions",
]

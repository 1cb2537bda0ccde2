"""The acquisition-model fit's old home; it lives in `laplace_inv.acquisition_model`.

Kept so that ``from laplace_inv.classical.robust import fit_acquisition_model`` still works.
"""

from __future__ import annotations

from laplace_inv.acquisition_model import (
    edge_mass,
    fit_acquisition_model,
    invert_with_model,
    kernel_with_efficiency,
    window_axis,
)

__all__ = [
    "edge_mass",
    "fit_acquisition_model",
    "invert_with_model",
    "kernel_with_efficiency",
    "window_axis",
]

"""Simulation: map priors in log space, forward model, additive noise, training pairs.

Maps hold *mass per bin*: a Gaussian peak of weight ``w`` contributes
``w·pdf(log10 x1, log10 x2)·Δ1·Δ2`` to each bin, so a map's sum is the sum of its weights on
any grid, and a map on a fine grid and its counterpart on the output grid describe the same
distribution. Data are ``K1 F K2ᵀ`` (computed on a finer grid when ``oversample > 1``, to
avoid the inverse crime) plus white Gaussian noise with ``σ = max|S| / SNR``.

The prior (`PeakPrior`) draws Gaussian peaks by default and, with its shape options, broad,
skewed, ridge-like (``T1 ∝ T2``) and continuous (log-normal mixture) components, optionally
kept at ``T1 ≥ T2``; `make_training_set` and `make_scenario` can add an inversion efficiency
and a baseline offset to the acquisition.

Modules: `peaks` (components and rendering), `prior`, `sampling`, `forward` (data, noise),
`training`, `scenarios`.
"""

from __future__ import annotations

from laplace_inv.simulate.forward import (
    add_noise,
    estimate_noise,
    noise_std_for_snr,
    simulate_decay,
    with_ir_efficiency,
)
from laplace_inv.simulate.peaks import (
    FWHM_PER_SIGMA,
    Peak,
    render_map,
)
from laplace_inv.simulate.peaks import (
    _bin_widths as _bin_widths,
)
from laplace_inv.simulate.peaks import (
    _component_labels as _component_labels,
)
from laplace_inv.simulate.peaks import (
    _quadratic_form as _quadratic_form,
)
from laplace_inv.simulate.peaks import (
    _render_batch as _render_batch,
)
from laplace_inv.simulate.peaks import (
    _render_form as _render_form,
)
from laplace_inv.simulate.peaks import (
    _skew_log_factor as _skew_log_factor,
)
from laplace_inv.simulate.prior import PeakPrior
from laplace_inv.simulate.sampling import (
    _near as _near,
)
from laplace_inv.simulate.sampling import (
    mass_below_diagonal,
    sample_components,
    sample_peaks,
)
from laplace_inv.simulate.scenarios import (
    CEMENT_TAU1,
    CEMENT_TAU2,
    CHEESE_COMPONENTS,
    Scenario,
    cement_kernel,
    cement_like,
    cheese_like,
    make_scenario,
    resolution_pair,
)
from laplace_inv.simulate.training import make_training_set

__all__ = [
    "CEMENT_TAU1",
    "CEMENT_TAU2",
    "CHEESE_COMPONENTS",
    "FWHM_PER_SIGMA",
    "Peak",
    "PeakPrior",
    "Scenario",
    "add_noise",
    "cement_kernel",
    "cement_like",
    "cheese_like",
    "estimate_noise",
    "make_scenario",
    "make_training_set",
    "mass_below_diagonal",
    "noise_std_for_snr",
    "render_map",
    "resolution_pair",
    "sample_components",
    "sample_peaks",
    "simulate_decay",
    "with_ir_efficiency",
]

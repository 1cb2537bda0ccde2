"""``alpha_scale="noise"``: a log grid 1e-4..1e2 goes from under- to over-smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv import Kernel2D, KernelAxis, L1Inverter, TikhonovInverter
from laplace_inv.metrics.scorers import map_similarity
from laplace_inv.simulate import make_training_set
from laplace_inv.solvers.alpha_scale import alpha_unit

ACQUISITIONS = {
    "IR-CPMG T1-T2": Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=16),
        KernelAxis("T2", np.arange(1, 201) * 1e-3, n_grid=16),
    ),
    "T2-T2 exchange": Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 24), n_grid=20),
        KernelAxis("T2", np.arange(1, 301) * 0.5e-3, n_grid=20),
    ),
}
GRID = (1e-4, 1e-2, 1.0, 1e2)
METHODS = {
    "global": lambda k, a: TikhonovInverter(k, penalty="global", alpha=a, alpha_scale="noise"),
    "l1": lambda k, a: L1Inverter(k, alpha=a, alpha_scale="noise"),
}


def _in_range_chi2(kernel, s, F):
    """``‖U1ᵀ(S − K1FK2ᵀ)U2‖² / (σ̂² r)``: 1 when the fit leaves just the noise."""
    comp = kernel.compress()
    S = s.reshape(kernel.data_shape)
    r = comp.shape[0] * comp.shape[1]
    misfit = comp.project(S) - comp.forward(F.reshape(kernel.map_shape))
    return float(np.sum(misfit**2) / (comp.noise_std(S) ** 2 * r))


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("snr", [30, 1000])
@pytest.mark.parametrize("acquisition", sorted(ACQUISITIONS))
def test_noise_scaled_grid_spans_under_to_over_smoothing(acquisition, snr, method):
    """Asserted: the in-range misfit at α = 1e-4 is at most the noise (χ² ≤ 1.05 per
    in-range component, under-smoothed), the one at α = 1e2 well above it (χ² > 2,
    over-smoothed), and the map quality (similarity to the truth) peaks strictly inside the
    grid, above both ends."""
    kernel = ACQUISITIONS[acquisition]
    X, Y, _ = make_training_set(kernel, 4, snr=snr, random_state=1)
    quality = []
    misfit = []
    for alpha in GRID:
        est = METHODS[method](kernel, alpha)
        quality.append(map_similarity(Y, est.predict(X)))
        misfit.append(_in_range_chi2(kernel, X[0], est.predict(X[:1])[0]))
    best = max(quality[1:-1])
    assert best > quality[0] and best > quality[-1], quality
    assert misfit[0] <= 1.05 and misfit[-1] > 2.0, misfit


def test_noise_scale_is_the_wiener_alpha_of_a_flat_map():
    kernel = ACQUISITIONS["T2-T2 exchange"]
    S = np.ones(kernel.data_shape)
    assert alpha_unit("noise", kernel, S, noise_std=0.01) == pytest.approx(400 * 1e-4)
    assert alpha_unit("absolute", kernel, S) == 1.0


def test_noise_scale_multiplies_the_absolute_alpha():
    kernel = ACQUISITIONS["IR-CPMG T1-T2"]
    X, _, _ = make_training_set(kernel, 1, snr=100, random_state=0)
    S = X[0].reshape(kernel.data_shape)
    scale = float(np.abs(S).max())
    unit = alpha_unit("noise", kernel, S / scale)
    for make in (
        lambda **kw: TikhonovInverter(kernel, penalty="global", **kw),
        lambda **kw: L1Inverter(kernel, **kw),
    ):
        natural = make(alpha=0.5, alpha_scale="noise").invert(S, check_fit=False)
        absolute = make(alpha=0.5 * unit).invert(S, check_fit=False)
        assert natural.info["alpha"] == pytest.approx(0.5 * unit)
        np.testing.assert_allclose(natural.map, absolute.map, rtol=1e-6, atol=1e-12)


def test_default_scale_is_absolute_and_bad_scales_are_rejected():
    kernel = ACQUISITIONS["IR-CPMG T1-T2"]
    assert TikhonovInverter(kernel).alpha_scale == "absolute"
    assert L1Inverter(kernel).alpha_scale == "absolute"
    X = np.ones((1, *kernel.data_shape))
    with pytest.raises(ValueError, match="alpha_scale"):
        TikhonovInverter(kernel, penalty="global", alpha=1.0, alpha_scale="lipschitz").predict(X)
    with pytest.raises(ValueError, match="alpha_scale"):
        L1Inverter(kernel, alpha_scale="snr").predict(X)

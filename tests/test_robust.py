"""Inversion efficiency and constant offset fitted around any inverter."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from laplace_inv.classical import TikhonovInverter
from laplace_inv.classical.robust import (
    edge_mass,
    fit_acquisition_model,
    kernel_with_efficiency,
    window_axis,
)
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import Peak, make_scenario


@pytest.fixture(scope="module")
def imperfect():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 24), n_grid=32),
        KernelAxis("T2", np.arange(1, 251) * 0.4e-3, n_grid=32),
    )
    peaks = [
        Peak((np.log10(0.1), np.log10(0.02)), (0.08, 0.08), 0.85),
        Peak((np.log10(0.1), np.log10(0.002)), (0.08, 0.1), 0.15),
    ]
    sc = make_scenario("eff", kernel_with_efficiency(kernel, 0.8), peaks, 300, random_state=0)
    offset = 0.02 * np.abs(sc.clean).max()
    return kernel, sc.data + offset, offset


def test_edge_mass():
    F = np.zeros((8, 8))
    F[4, 4] = 1.0
    assert edge_mass(F) == 0.0
    F[0, 0] = 1.0
    assert edge_mass(F) == pytest.approx(0.5)
    assert edge_mass(np.zeros((8, 8))) == 0.0


def test_window_axis_spans_acquisition():
    ax = KernelAxis("T2", np.arange(1, 101) * 1e-3)
    w = window_axis(ax, 16)
    assert w.grid[0] == pytest.approx(1e-3) and w.grid[-1] == pytest.approx(0.1)
    assert w.grid.size == 16


def test_recovers_efficiency_and_offset(imperfect):
    kernel, S, offset = imperfect
    est = TikhonovInverter(kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_acquisition_model(est, S, search_n_grid=20, efficiency_xtol=0.01)
        ideal = est.invert(S)
    assert abs(res.info["efficiency"] - 0.8) < 0.05
    assert abs(res.info["offset"] - offset) < 0.2 * offset
    assert res.kernel.axis1.efficiency == pytest.approx(res.info["efficiency"])
    assert np.all(np.isfinite(res.map)) and res.map.min() >= 0
    # The fitted model leaves the grid edges empty; the ideal kernel piles mass there.
    assert edge_mass(res.map) < 0.02
    assert edge_mass(ideal.map) > 5 * edge_mass(res.map)
    assert edge_mass(ideal.map) > 0.05
    # result.fit includes the offset.
    assert res.relative_residual < 0.03


def test_fixed_values_and_validation(imperfect):
    kernel, S, offset = imperfect
    est = TikhonovInverter(kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_acquisition_model(est, S, efficiency=0.8, offset=offset)
    assert res.info["efficiency"] == pytest.approx(0.8)
    assert res.info["offset"] == pytest.approx(offset)
    assert res.info["n_inversions"] == 1
    with pytest.raises(ValueError, match="efficiency_bounds"):
        fit_acquisition_model(est, S, efficiency_bounds=(0.9, 0.5))
    with pytest.raises(ValueError, match="offset"):
        fit_acquisition_model(est, S, offset="yes")
    t2 = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 10), n_grid=8),
        KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=8),
    )
    with pytest.raises(ValueError, match="T1_IR"):
        fit_acquisition_model(TikhonovInverter(t2), np.ones((10, 12)), efficiency=0.9)

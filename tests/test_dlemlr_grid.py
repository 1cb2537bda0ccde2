"""DLEMLR on any output grid: the mass-conserving transfer and inference through it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from laplace_inv.dlemlr import DLEMLRInverter
from laplace_inv.dlemlr.grid_transfer import native_kernel, transfer_matrix
from laplace_inv.simulate import PeakPrior, cement_kernel, make_training_set


@pytest.mark.parametrize("n_target", [16, 50, 64, 80, 128, 256])
def test_transfer_keeps_mass_and_position(n_target):
    source = np.linspace(-5.0, 0.0, 64)
    target = np.linspace(-5.0, 0.0, n_target)
    T = transfer_matrix(source, target)
    assert T.shape == (n_target, 64)
    assert (T >= 0).all()
    np.testing.assert_allclose(T.sum(axis=0), 1.0, rtol=1e-12)
    cell = target[1] - target[0]
    # Each source bin's centre of mass moves by less than one target cell.
    assert np.abs(target @ T - source).max() < cell
    if n_target == 64:
        np.testing.assert_allclose(T, np.eye(64), atol=1e-12)


def test_transfer_of_a_source_beyond_the_target_range_keeps_its_mass():
    T = transfer_matrix(np.linspace(-6.0, 1.0, 20), np.linspace(-5.0, 0.0, 10))
    np.testing.assert_allclose(T.sum(axis=0), 1.0)
    assert T[0, 0] == 1.0 and T[-1, -1] == 1.0


def test_transfer_refuses_a_single_point():
    with pytest.raises(ValueError, match="at least two points"):
        transfer_matrix(np.array([0.0]), np.linspace(0, 1, 4))


def _grid(kernel, n1, n2, span1=None):
    g1 = span1 or (kernel.grid1[0], kernel.grid1[-1])
    return kernel.with_grids(
        np.geomspace(g1[0], g1[1], n1), np.geomspace(kernel.grid2[0], kernel.grid2[-1], n2)
    )


@pytest.fixture(scope="module")
def decays():
    k = cement_kernel()
    prior = PeakPrior(n_peaks=(1, 2), sigma=(0.1, 0.2), margin=0.5, min_separation=0.5)
    X, _, _ = make_training_set(k, 3, prior=prior, snr=300, random_state=11)
    return X.reshape(3, *k.data_shape)


@pytest.mark.parametrize(("n1", "n2"), [(40, 96), (80, 80), (16, 24)])
def test_pretrained_inverts_onto_any_grid(decays, n1, n2):
    k = _grid(cement_kernel(), n1, n2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = DLEMLRInverter.from_pretrained(k, refine=False).predict(decays)
        # The same network on its native 64 x 64 grid over the same range.
        native = DLEMLRInverter.from_pretrained(native_kernel(k, (64, 64)), refine=False)
        native_maps = native.predict(decays)
        fitted = DLEMLRInverter.from_pretrained(k).invert(decays[0])
    assert raw.shape == (3, n1 * n2)
    np.testing.assert_allclose(raw.sum(axis=1), native_maps.sum(axis=1), rtol=1e-9)
    assert fitted.map.shape == (n1, n2)
    info = fitted.info
    assert info["residual_to_noise_after"] <= info["residual_to_noise_before"]
    assert info["residual_to_noise_after"] < 1.2


def test_pretrained_on_a_narrower_range_runs_the_network_there(decays):
    k = _grid(cement_kernel(), 48, 64, span1=(1e-3, 3.0))
    net_kernel = native_kernel(k, (64, 64))
    assert net_kernel.grid1[0] == pytest.approx(1e-3) and net_kernel.grid1[-1] == pytest.approx(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = DLEMLRInverter.from_pretrained(k).invert(decays[1])
    assert res.map.shape == (48, 64) and np.isfinite(res.map).all()

"""Global Tikhonov: alpha rules, accuracy on simulated and real cement data, contract."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from laplace_inv import TikhonovInverter
from laplace_inv.metrics import compare_to_truth, find_peaks
from laplace_inv.simulate import cement_like


@pytest.fixture(scope="module")
def scenario():
    return cement_like(snr=200, random_state=0)


@pytest.mark.parametrize("rule", ["gcv", "lcurve", "discrepancy"])
def test_alpha_rules_recover_cement_like_peaks(scenario, rule):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=rule)
    res = est.invert(scenario.data)
    assert res.info["alpha_rule"] == rule and res.info["alpha"] > 0
    cmp = compare_to_truth(res.map, scenario.truth, scenario.kernel.grid1, scenario.kernel.grid2)
    assert cmp.n_found >= 2
    assert cmp.position_error <= 0.05
    assert np.all(res.map >= 0)


def test_fixed_alpha_and_fista_agree(scenario):
    brd = TikhonovInverter(scenario.kernel, penalty="global", alpha=30.0).invert(scenario.data)
    fista = TikhonovInverter(
        scenario.kernel, penalty="global", alpha=30.0, solver="fista", max_iter=50000, tol=1e-8
    ).invert(scenario.data)
    rel = np.linalg.norm(brd.map - fista.map) / np.linalg.norm(brd.map)
    assert rel < 2e-2
    assert brd.info["alpha_rule"] == "fixed"


def test_fista_cap_warns_and_never_returns_nan(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=1.0, solver="fista", max_iter=3)
    with pytest.warns(ConvergenceWarning, match="iteration cap"):
        res = est.invert(scenario.data)
    assert np.all(np.isfinite(res.map))


def test_brd_cap_warns(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=1e-3, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        est.invert(scenario.data)


def test_scaling_invariance_and_batch_consistency(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=0.5)
    one = est.predict(scenario.data[None])
    scaled = est.predict(1e6 * scenario.data[None])
    assert np.allclose(scaled, 1e6 * one, rtol=1e-6, atol=1e-12)
    batch = est.predict(np.stack([scenario.data, 2 * scenario.data]))
    assert np.allclose(batch[1], 2 * one[0], rtol=1e-6, atol=1e-12)


def test_zero_data_gives_zero_map(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=0.5)
    assert np.all(est.predict(np.zeros((1, *scenario.kernel.data_shape))) == 0)


def test_result_reports_its_own_residual(scenario):
    res = TikhonovInverter(scenario.kernel, penalty="global").invert(scenario.data)
    fit = scenario.kernel.forward(res.map)
    assert np.isclose(
        res.relative_residual, np.linalg.norm(scenario.data - fit) / np.linalg.norm(scenario.data)
    )
    assert 0.8 < res.residual_to_noise < 1.3


def test_bad_parameters(scenario):
    for params, msg in [
        ({"alpha": "magic"}, "alpha must be"),
        ({"alpha": -1.0}, "alpha must be"),
        ({"penalty": "l3"}, "penalty must be"),
        ({"solver": "x"}, "solver must be"),
        ({"max_iter": 0}, "max_iter"),
    ]:
        est = TikhonovInverter(scenario.kernel, **{"penalty": "global", **params})
        with pytest.raises(ValueError, match=msg):
            est.invert(scenario.data)


def test_clone_round_trip(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha=0.3)
    twin = clone(est).set_params(alpha=0.7)
    assert twin.get_params()["alpha"] == 0.7 and est.alpha == 0.3
    assert twin.kernel == est.kernel


def test_real_cement_global_tikhonov(cement):
    ds = cement
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = TikhonovInverter(ds.kernel, penalty="global").invert(ds.data)
    g1, g2 = np.log10(ds.kernel.grid1), np.log10(ds.kernel.grid2)
    assert res.info["alpha_rule"] == "discrepancy"
    peaks = find_peaks(res.map, ds.kernel.grid1, ds.kernel.grid2)
    main = peaks[0]
    assert 0.80 <= main.fraction <= 0.90
    assert abs(main.log_position[0] - np.log10(0.112)) <= 0.1
    assert abs(main.log_position[1] - np.log10(19.6e-3)) <= 0.1
    minor = [p for p in peaks if p.position[1] < 3e-3]
    assert minor and abs(minor[0].log_position[1] - np.log10(0.79e-3)) <= 0.1
    assert g1.size == g2.size == 64

"""DLEMLR's parsimony option: a smoother map unless the data reject it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.dlemlr import DLEMLRInverter
from laplace_inv.dlemlr.parsimony import REJECT_SIGMAS, grid_blurs, keep_smoother
from laplace_inv.metrics import find_peaks
from laplace_inv.simulate import Peak, cement_kernel, make_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kernel():
    return cement_kernel()


@pytest.fixture(scope="module")
def broad(kernel):
    return make_scenario(
        "broad", kernel, [Peak((-1.0, -2.0), (0.2, 0.2), 1.0)], 300, random_state=3
    )


def test_the_option_is_the_benchmarked_rule(kernel, broad):
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_dlemlr_prior import ConsistencyVariant

    settings = {"max_iter": 200, "prefer": REJECT_SIGMAS}
    variant = ConsistencyVariant(kernel, 0.1, settings).invert(broad.data)
    res = DLEMLRInverter.from_pretrained(kernel, smoothing=0.1).invert(broad.data)
    np.testing.assert_allclose(res.map, variant.map, rtol=0, atol=1e-6 * variant.map.max())
    assert res.info["consistency_iterations"] == variant.info["iterations"]
    assert isinstance(res.info["consistency_smoothed"], bool)


def test_a_pair_the_data_resolve_stays_two_peaks(kernel):
    pair = [Peak((-1.0, -2.2), (0.04, 0.04), 1.0), Peak((-1.0, -1.8), (0.04, 0.04), 1.0)]
    sc = make_scenario("pair", kernel, pair, 3000, random_state=4)
    res = DLEMLRInverter.from_pretrained(kernel, smoothing=0.1).invert(sc.data)
    assert len(find_peaks(res.map, kernel.grid1, kernel.grid2, min_fraction=0.1)) == 2
    assert res.info["consistency_smoothed"] is False


def test_smoothing_costs_a_second_run_and_is_off_for_the_raw_output(kernel, broad):
    plain = DLEMLRInverter.from_pretrained(kernel).invert(broad.data)
    smooth = DLEMLRInverter.from_pretrained(kernel, smoothing=0.1).invert(broad.data)
    assert smooth.info["consistency_iterations"] > plain.info["consistency_iterations"]
    assert "consistency_smoothed" not in plain.info
    raw = DLEMLRInverter.from_pretrained(kernel, refine=False, smoothing=0.1).invert(broad.data)
    ref = DLEMLRInverter.from_pretrained(kernel, refine=False).invert(broad.data)
    np.testing.assert_array_equal(raw.map, ref.map)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [(-0.1, ValueError, ">= 0"), (0.6, ValueError, "at most 0.5"), ("a", TypeError, "number")],
)
def test_bad_smoothing_is_refused_by_name(kernel, broad, value, error, match):
    est = DLEMLRInverter.from_pretrained(kernel, smoothing=value)
    with pytest.raises(error, match=f"smoothing must be .*{match}"):
        est.invert(broad.data)


def test_blurs_keep_mass_and_the_rule_rejects_a_worse_fit():
    g = np.geomspace(1e-4, 1.0, 41)
    B1, B2 = grid_blurs(g, g, 0.2)
    F = np.zeros((41, 41))
    F[20, 20] = 1.0
    blurred = B1 @ F @ B2.T
    assert blurred.sum() == pytest.approx(1.0) and blurred.max() < 0.2
    import torch

    spread = np.sqrt(2.0 * 20 * 30)
    chi2_plain = torch.tensor([1000.0, 1000.0])
    chi2_smooth = chi2_plain + torch.tensor([0.9, 1.1]) * REJECT_SIGMAS * spread
    assert keep_smoother(chi2_smooth, chi2_plain, (20, 30)).tolist() == [True, False]

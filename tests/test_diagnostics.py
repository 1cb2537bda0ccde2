"""The fit check every inversion runs (issue 26: spike, wrong sign, baseline)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from laplace_inv import TikhonovInverter
from laplace_inv.diagnostics import fit_warnings, robust_std
from laplace_inv.simulate import cement_like


@pytest.fixture(scope="module")
def scenario():
    return cement_like(snr=200, random_state=0)


def _invert(est, S):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = est.invert(S)
    return res, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_clean_fit_has_no_warnings(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global", alpha="gcv")
    res, emitted = _invert(est, scenario.data)
    assert res.warnings == [] and emitted == []


def test_spike_is_named(scenario):
    S = scenario.data.copy()
    S[3, 7] = 1e6 * np.abs(S).max()
    res, emitted = _invert(TikhonovInverter(scenario.kernel, penalty="global", alpha=1e-3), S)
    assert any("isolated spike" in w and "[3, 7]" in w for w in res.warnings), res.warnings
    assert any("isolated spike" in m for m in emitted)


def test_wrong_sign_is_named(scenario):
    S = -np.abs(scenario.data)
    res, emitted = _invert(TikhonovInverter(scenario.kernel, penalty="global", alpha=1e-3), S)
    text = " ".join(res.warnings)
    assert "no better than an all-zero map" in text or "correlated with the data" in text
    assert "phase" in text and emitted


def test_constant_offset_is_named(scenario):
    S = scenario.data + 0.2 * np.abs(scenario.data).max()
    res, _ = _invert(TikhonovInverter(scenario.kernel), S)
    assert any("baseline" in w and "offset" in w for w in res.warnings), res.warnings


def test_summary_carries_the_warnings(scenario):
    S = scenario.data.copy()
    S[3, 7] = 1e6 * np.abs(S).max()
    res, _ = _invert(TikhonovInverter(scenario.kernel, penalty="global", alpha=1e-3), S)
    assert res.summary()["warnings"] == res.warnings


def test_white_noise_residuals_pass():
    rng = np.random.default_rng(3)
    signal = np.outer(np.exp(-np.arange(16) / 4), np.exp(-np.arange(200) / 40))
    S = signal + 1e-3 * rng.standard_normal(signal.shape)
    assert fit_warnings(S, signal, 1e-3) == []
    assert robust_std(np.zeros(5)) == 0.0


def test_a_misfit_its_neighbours_share_is_not_a_spike():
    # The first echo of the last rows 10-14 noise levels off, smoothly from row to row (a
    # component the map misses), against one corrupted point of the same size.
    rng = np.random.default_rng(4)
    clean = np.outer(np.exp(-np.arange(48) / 20), np.exp(-np.arange(400) / 60))
    noisy = clean + 1e-3 * rng.standard_normal(clean.shape)
    misfit = noisy.copy()
    misfit[-3:, 0] -= 1e-3 * np.array([10.0, 12.0, 14.0])
    assert not [w for w in fit_warnings(misfit, clean, 1e-3) if "spike" in w]
    corrupted = noisy.copy()
    corrupted[-1, 0] -= 14e-3
    (message,) = fit_warnings(corrupted, clean, 1e-3)
    assert "isolated spike" in message and "[47, 0]" in message


@pytest.mark.parametrize("n", [1, 2, 3, 10, 4800, 4801])
def test_median_equals_numpys(n):
    from laplace_inv.robust_statistics import median

    x = np.random.default_rng(n).standard_normal((n, 1)) * 3 + 1
    assert median(x) == np.median(x)
    assert robust_std(x) == pytest.approx(1.4826 * np.median(np.abs(x - np.median(x))), rel=0)
    x[0, 0] = np.nan
    assert np.isnan(median(x))

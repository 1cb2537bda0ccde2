"""Tests for laplace_inv.metrics: peaks, widths, fractions, resolution, truth comparison."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.metrics import (
    SCORER_METRICS,
    Peak,
    TruthComparison,
    compare_to_truth,
    find_peaks,
    make_map_scorer,
    projections,
    relative_residual,
    residual_to_noise,
    resolved,
)

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def gaussian_map(lg1, lg2, peaks):
    """Sum of axis-aligned Gaussians in log space; peaks = [((c1, c2), (s1, s2), amplitude)]."""
    F = np.zeros((lg1.size, lg2.size))
    for (c1, c2), (s1, s2), amp in peaks:
        F += amp * np.exp(
            -0.5 * ((lg1[:, None] - c1) / s1) ** 2 - 0.5 * ((lg2[None, :] - c2) / s2) ** 2
        )
    return F


@pytest.fixture
def fine_grids():
    lg1 = np.linspace(-4.0, 0.0, 161)  # 0.025 decade per bin
    lg2 = np.linspace(-3.0, 1.0, 121)  # 0.033 decade per bin
    return lg1, lg2, 10.0**lg1, 10.0**lg2


@pytest.fixture
def small_grids():
    lg = np.linspace(-3.0, 0.0, 40)
    return lg, lg, 10.0**lg, 10.0**lg


# ----------------------------------------------------------------------------- find_peaks


@pytest.mark.parametrize("sigma", [(0.1, 0.08), (0.2, 0.15), (0.06, 0.3)])
def test_gaussian_position_and_fwhm(fine_grids, sigma):
    lg1, lg2, g1, g2 = fine_grids
    centre = (-2.0137, -0.5171)  # deliberately between bins
    F = gaussian_map(lg1, lg2, [(centre, sigma, 1.0)])
    peaks = find_peaks(F, g1, g2)
    assert len(peaks) == 1
    p = peaks[0]
    np.testing.assert_allclose(p.log_position, centre, atol=2e-3)
    np.testing.assert_allclose(p.position, 10.0 ** np.array(centre), rtol=1e-2)
    np.testing.assert_allclose(p.fwhm, FWHM_PER_SIGMA * np.array(sigma), rtol=0.05)
    assert p.fraction == pytest.approx(1.0)
    assert p.mass == pytest.approx(F.sum())
    assert p.height == pytest.approx(F.max())
    assert p.index == np.unravel_index(np.argmax(F), F.shape)


def test_two_separated_peaks_fractions(fine_grids):
    lg1, lg2, g1, g2 = fine_grids
    F = gaussian_map(
        lg1,
        lg2,
        [((-3.0, -2.0), (0.1, 0.1), 1.0), ((-1.0, 0.0), (0.1, 0.1), 0.5)],
    )
    peaks = find_peaks(F, g1, g2)
    assert len(peaks) == 2
    assert peaks[0].mass >= peaks[1].mass
    np.testing.assert_allclose([p.fraction for p in peaks], [2 / 3, 1 / 3], atol=1e-3)
    np.testing.assert_allclose(peaks[0].log_position, (-3.0, -2.0), atol=5e-3)
    np.testing.assert_allclose(peaks[1].log_position, (-1.0, 0.0), atol=5e-3)


def test_every_bin_assigned_and_small_peaks_merged(small_grids):
    lg1, lg2, g1, g2 = small_grids
    rng = np.random.default_rng(0)
    F = gaussian_map(lg1, lg2, [((-2.0, -1.0), (0.2, 0.2), 1.0)])
    F += 1e-3 * rng.random(F.shape)  # many tiny local maxima
    peaks = find_peaks(F, g1, g2, min_fraction=0.05)
    assert len(peaks) == 1
    assert peaks[0].fraction == pytest.approx(1.0)  # the tiny maxima drained into it
    all_peaks = find_peaks(F, g1, g2, min_fraction=0.0)
    assert len(all_peaks) > 1
    assert sum(p.fraction for p in all_peaks) == pytest.approx(1.0)


def test_isolated_small_peak_dropped_fraction_relative_to_total(small_grids):
    *_, g1, g2 = small_grids
    F = np.zeros((40, 40))
    F[10, 10] = 99.0
    F[30, 30] = 1.0  # separate island with 1 % of the mass
    peaks = find_peaks(F, g1, g2, min_fraction=0.05)
    assert len(peaks) == 1
    assert peaks[0].fraction == pytest.approx(0.99)


def test_plateau_counts_once(small_grids):
    *_, g1, g2 = small_grids
    F = np.zeros((40, 40))
    F[5:9, 5:9] = 1.0
    peaks = find_peaks(F, g1, g2)
    assert len(peaks) == 1
    assert peaks[0].mass == pytest.approx(16.0)


def test_all_zero_and_single_bin_maps():
    g = np.logspace(-3, 0, 8)
    assert find_peaks(np.zeros((8, 8)), g, g) == []
    (p,) = find_peaks([[2.0]], [1e-2], [1e-1])
    assert p.index == (0, 0)
    assert p.log_position == pytest.approx((-2.0, -1.0))
    assert np.isnan(p.fwhm).all()


def test_smoothing_keeps_masses_on_raw_map(small_grids):
    lg1, lg2, g1, g2 = small_grids
    F = gaussian_map(lg1, lg2, [((-2.0, -1.0), (0.15, 0.15), 1.0)])
    (p,) = find_peaks(F, g1, g2, smooth=1.5)
    assert p.mass == pytest.approx(F.sum())


def test_negative_round_off_is_ignored(small_grids):
    *_, g1, g2 = small_grids
    F = np.zeros((40, 40))
    F[20, 20] = 1.0
    F[0, 0] = -1e-9
    (p,) = find_peaks(F, g1, g2)
    assert p.fraction == pytest.approx(1.0)


def test_projections():
    F = np.arange(6.0).reshape(2, 3)
    p1, p2 = projections(F)
    np.testing.assert_array_equal(p1, [3.0, 12.0])
    np.testing.assert_array_equal(p2, [3.0, 5.0, 7.0])


# ----------------------------------------------------------------------------- input errors


def test_bad_inputs():
    g = np.logspace(-3, 0, 5)
    F = np.ones((5, 5))
    bad = F.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        find_peaks(bad, g, g)
    with pytest.raises(ValueError, match=r"shape \(5, 5\) but grid1 has 4 points"):
        find_peaks(F, g[:4], g)
    with pytest.raises(ValueError, match="transposed"):
        find_peaks(np.ones((5, 4)), g[:4], g)
    with pytest.raises(ValueError, match="negative total mass"):
        find_peaks(-F, g, g)
    with pytest.raises(ValueError, match="2D map"):
        find_peaks(np.ones(5), g, g)
    with pytest.raises(ValueError, match="grid1 must be strictly increasing"):
        find_peaks(F, g[::-1], g)
    with pytest.raises(ValueError, match="min_fraction"):
        find_peaks(F, g, g, min_fraction=1.5)
    with pytest.raises(ValueError, match="true_positions"):
        resolved(F, g, g, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="identical"):
        resolved(F, g, g, [[-1.0, -1.0], [-1.0, -1.0]])
    with pytest.raises(ValueError, match="F_est contains 1 NaN"):
        compare_to_truth(bad, F, g, g)


# ----------------------------------------------------------------------------- resolved


def test_resolved_well_separated_pair(fine_grids):
    lg1, lg2, g1, g2 = fine_grids
    truth = [(-3.0, -2.0), (-2.0, -1.0)]
    F = gaussian_map(lg1, lg2, [(truth[0], (0.1, 0.1), 1.0), (truth[1], (0.1, 0.1), 0.6)])
    assert resolved(F, g1, g2, truth)
    # SI positions are accepted too
    assert resolved(F, g1, g2, 10.0 ** np.array(truth), log10=False)


def test_not_resolved_merged_blob_or_flat(fine_grids):
    lg1, lg2, g1, g2 = fine_grids
    truth = [(-2.0, -1.0), (-1.9, -0.9)]
    blob = gaussian_map(lg1, lg2, [(truth[0], (0.15, 0.15), 1.0), (truth[1], (0.15, 0.15), 1.0)])
    assert not resolved(blob, g1, g2, truth)
    assert not resolved(np.ones_like(blob), g1, g2, truth)
    assert not resolved(np.zeros_like(blob), g1, g2, truth)


def test_not_resolved_wrong_place_or_too_small(fine_grids):
    lg1, lg2, g1, g2 = fine_grids
    truth = [(-3.0, -2.0), (-2.0, -1.0)]
    # two clear peaks, but far from where they should be
    elsewhere = gaussian_map(
        lg1, lg2, [((-1.0, 0.5), (0.1, 0.1), 1.0), ((-0.3, -0.5), (0.1, 0.1), 1.0)]
    )
    assert not resolved(elsewhere, g1, g2, truth)
    # second peak holds < 10 % of the pair's mass
    lopsided = gaussian_map(lg1, lg2, [(truth[0], (0.1, 0.1), 1.0), (truth[1], (0.1, 0.1), 0.05)])
    assert not resolved(lopsided, g1, g2, truth)
    assert resolved(lopsided, g1, g2, truth, min_share=0.01)


# ----------------------------------------------------------------------------- residuals


def test_residuals():
    rng = np.random.default_rng(1)
    S = rng.normal(size=(30, 40)) + 5.0
    noise = 0.1 * rng.normal(size=S.shape)
    assert relative_residual(S, S) == 0.0
    assert relative_residual(S, S + noise) == pytest.approx(
        np.linalg.norm(noise) / np.linalg.norm(S)
    )
    assert residual_to_noise(S, S + noise, 0.1) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="S_fit has shape"):
        relative_residual(S, S[:, :3])
    with pytest.raises(ValueError, match="noise_std"):
        residual_to_noise(S, S, 0.0)
    with pytest.raises(ValueError, match="all zero"):
        relative_residual(np.zeros((2, 2)), np.ones((2, 2)))


# ----------------------------------------------------------------------------- truth comparison


def asymmetric_truth(lg):
    return gaussian_map(
        lg, lg, [((-2.5, -1.0), (0.1, 0.1), 1.0), ((-1.0, -0.3), (0.12, 0.12), 0.4)]
    )


def test_compare_to_truth_identity(small_grids):
    lg1, _, g1, g2 = small_grids
    F = asymmetric_truth(lg1)
    r = compare_to_truth(F, F, g1, g2)
    assert isinstance(r, TruthComparison)
    assert r.position_error == 0.0
    assert r.axis1_error == 0.0 and r.axis2_error == 0.0
    assert r.fraction_error == 0.0
    assert r.tv_distance == 0.0
    assert r.width_ratio == pytest.approx(1.0)
    assert r.n_true == r.n_found == 2
    assert r["tv_distance"] == r.as_dict()["tv_distance"] == 0.0


def test_compare_to_truth_transposed_is_far(small_grids):
    lg1, _, g1, g2 = small_grids
    F = asymmetric_truth(lg1)
    r = compare_to_truth(F.T, F, g1, g2)
    assert r.position_error > 0.5
    assert r.tv_distance > 0.9


def test_compare_to_truth_with_peaks_and_missing_peak(small_grids):
    lg1, lg2, g1, g2 = small_grids
    F = gaussian_map(lg1, lg2, [((-2.5, -1.0), (0.1, 0.1), 1.0)])
    true_peaks = [
        Peak.from_log_position((-2.5, -1.0), fraction=0.7),
        Peak.from_log_position((-1.0, -0.3), fraction=0.3),
    ]
    r = compare_to_truth(F, true_peaks, g1, g2)
    diag = np.hypot(3.0, 3.0)
    assert r.n_true == 2 and r.n_found == 1
    assert r.position_error == pytest.approx(diag / 2, abs=0.01)
    assert r.fraction_error == pytest.approx((0.3 + 0.3) / 2, abs=1e-3)
    assert np.isnan(r.tv_distance)
    assert np.isnan(r.width_ratio)  # the reference peaks carry no widths
    assert r.matches == ((0, 0),)


def test_compare_to_truth_gates_matches_before_assigning(small_grids):
    # Two true peaks 0.3 decade apart merged into one estimate near A, plus a small spurious
    # estimate far away. Unconstrained, the Hungarian assignment trades A for the far estimate
    # (1.3 + 0.25 < 0.05 + 1.6); with a match radius A keeps its near estimate and B is missed.
    lg1, lg2, g1, g2 = small_grids
    est = gaussian_map(
        lg1, lg2, [((-1.55, -1.5), (0.08, 0.08), 1.0), ((-0.2, -1.5), (0.08, 0.08), 0.05)]
    )
    true_peaks = [
        Peak.from_log_position((-1.5, -1.5), fraction=0.6),
        Peak.from_log_position((-1.8, -1.5), fraction=0.4),
    ]
    free = compare_to_truth(est, true_peaks, g1, g2)
    assert free.matches == ((0, 1), (1, 0))
    gated = compare_to_truth(est, true_peaks, g1, g2, max_match_distance=0.5)
    assert gated.matches == ((0, 0),)
    assert len(gated.matched_distances) == 1
    assert gated.matched_distances[0] == pytest.approx(0.05, abs=0.04)
    diag = np.hypot(3.0, 3.0)
    assert gated.position_error == pytest.approx((gated.matched_distances[0] + diag) / 2)
    with pytest.raises(ValueError, match="max_match_distance"):
        compare_to_truth(est, true_peaks, g1, g2, max_match_distance=0.0)


def test_compare_to_truth_matched_distances_follow_matches(small_grids):
    lg1, lg2, g1, g2 = small_grids
    F = gaussian_map(lg1, lg2, [((-2.5, -1.0), (0.1, 0.1), 1.0), ((-1.0, -2.0), (0.1, 0.1), 0.5)])
    true_peaks = [Peak.from_log_position((-1.0, -2.1)), Peak.from_log_position((-2.5, -1.0))]
    r = compare_to_truth(F, true_peaks, g1, g2)
    assert len(r.matched_distances) == len(r.matches) == 2
    assert r.position_error == pytest.approx(np.mean(r.matched_distances))
    assert r.matched_distances[0] == pytest.approx(0.1, abs=0.04)


def test_compare_to_truth_broader_estimate_width_ratio(small_grids):
    lg1, lg2, g1, g2 = small_grids
    true = gaussian_map(lg1, lg2, [((-1.5, -1.5), (0.1, 0.1), 1.0)])
    est = gaussian_map(lg1, lg2, [((-1.5, -1.5), (0.2, 0.2), 1.0)])
    r = compare_to_truth(est, true, g1, g2)
    assert r.width_ratio == pytest.approx(2.0, rel=0.1)
    assert 0.0 < r.tv_distance < 1.0


# ----------------------------------------------------------------------------- scorers


class DummyEstimator:
    """sklearn-like: predict returns stored maps, flattened in C order."""

    def __init__(self, maps):
        self.maps = np.asarray(maps)

    def predict(self, X):
        return self.maps[np.asarray(X, dtype=int).ravel()].reshape(len(X), -1)


def test_scorers(small_grids):
    lg1, _, g1, g2 = small_grids
    F = asymmetric_truth(lg1)
    X = np.array([[0], [1]])
    Y_true = np.stack([F.ravel(), F.ravel()])
    perfect = DummyEstimator([F, F])
    swapped = DummyEstimator([F, F.T])
    for metric in SCORER_METRICS:
        scorer = make_map_scorer(metric, g1, g2, F.shape)
        assert scorer(perfect, X, Y_true) == 0.0
        assert scorer(swapped, X, Y_true) < 0.0
    tv = make_map_scorer("tv_distance", g1, g2, F.shape)
    expected = -np.mean([0.0, compare_to_truth(F.T, F, g1, g2).tv_distance])
    assert tv(swapped, X, Y_true) == pytest.approx(expected)
    with pytest.raises(ValueError, match="unknown metric"):
        make_map_scorer("mse", g1, g2, F.shape)
    with pytest.raises(ValueError, match="map_shape"):
        make_map_scorer("tv_distance", g1, g2, (3, 3))
    with pytest.raises(ValueError, match="flattened"):
        tv(perfect, X, Y_true[:, :5])


def test_scorer_in_grid_search(small_grids):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import GridSearchCV

    lg1, lg2, g1, g2 = small_grids
    F = asymmetric_truth(lg1)

    class Blur(BaseEstimator):
        def __init__(self, width=1.0):
            self.width = width

        def fit(self, X, Y):
            return self

        def predict(self, X):
            blurred = gaussian_map(
                lg1,
                lg2,
                [
                    ((-2.5, -1.0), (0.1 * self.width,) * 2, 1.0),
                    ((-1.0, -0.3), (0.12 * self.width,) * 2, 0.4),
                ],
            )
            return np.tile(blurred.ravel(), (len(X), 1))

    X = np.zeros((4, 1))
    Y = np.tile(F.ravel(), (4, 1))
    search = GridSearchCV(
        Blur(),
        {"width": [3.0, 1.0, 2.0]},
        scoring=make_map_scorer("tv_distance", g1, g2, F.shape),
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert sklearn is not None
    assert search.best_params_ == {"width": 1.0}

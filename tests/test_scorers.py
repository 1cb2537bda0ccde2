"""Named scorers: bounded map similarity with true maps, discrepancy score without."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv import metrics as lm
from laplace_inv.metrics import (
    SCORERS,
    DetectedPeak,
    Peak,
    discrepancy_scorer,
    map_similarity,
    map_similarity_scorer,
)
from laplace_inv.metrics.scorers import gcv_stability_scorer
from laplace_inv.simulate import PeakPrior, make_training_set


@pytest.fixture(scope="module")
def problem():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=24),
        KernelAxis("T2", np.arange(1, 301) * 1e-3, n_grid=24),
    )
    prior = PeakPrior(n_peaks=(1, 3), sigma=(0.05, 0.15), t1_ge_t2=True)
    X, Y, _ = make_training_set(kernel, 4, prior=prior, snr=20, random_state=3)
    return kernel, X, Y


def test_old_names_stay_importable():
    for name in (
        "SCORER_METRICS",
        "MapScorer",
        "Peak",
        "TruthComparison",
        "compare_to_truth",
        "find_peaks",
        "make_map_scorer",
        "projections",
        "relative_residual",
        "residual_to_noise",
        "resolved",
        "_check_map",
    ):
        assert hasattr(lm, name), name


def test_detected_peak_is_distinct_from_simulated_peak():
    from laplace_inv.simulate import Peak as SimulatedPeak

    assert Peak is DetectedPeak
    assert DetectedPeak is not SimulatedPeak
    p = Peak.from_log_position((-1.0, -2.0))
    assert isinstance(p, DetectedPeak) and type(p).__name__ == "DetectedPeak"


def test_map_similarity_bounds_and_extremes():
    rng = np.random.default_rng(0)
    a = rng.random((5, 30))
    assert map_similarity(a, a) == pytest.approx(1.0)
    assert map_similarity(a, 7.0 * a) == pytest.approx(1.0)  # scale does not matter
    one = np.zeros((1, 4))
    one[0, 0] = 1.0
    assert map_similarity(one, one[:, ::-1]) == 0.0
    for wild in (np.full((5, 30), np.nan), -a, np.full((5, 30), 1e308), np.zeros((5, 30))):
        value = map_similarity(a, wild)
        assert np.isfinite(value) and 0.0 <= value <= 1.0
    assert map_similarity(np.zeros((2, 3)), np.zeros((2, 3))) == 1.0


def test_map_similarity_rewards_closer_peaks():
    g = np.arange(40)
    true = np.exp(-0.5 * ((g - 20) / 2.0) ** 2)[None]
    scores = [map_similarity(true, np.exp(-0.5 * ((g - c) / 2.0) ** 2)[None]) for c in (20, 22, 25)]
    assert scores[0] > scores[1] > scores[2]


def test_map_similarity_smooth_gives_near_misses_credit():
    true = np.zeros((1, 10, 10))
    near = np.zeros((1, 10, 10))
    true[0, 5, 5] = near[0, 5, 6] = 1.0
    flat = (true.reshape(1, -1), near.reshape(1, -1))
    assert map_similarity(*flat) == 0.0
    assert map_similarity(*flat, map_shape=(10, 10), smooth=1.0) > 0.5
    with pytest.raises(ValueError, match="map_shape"):
        map_similarity(*flat, smooth=1.0)


def test_map_similarity_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        map_similarity(np.ones((2, 4)), np.ones((2, 5)))


def test_map_similarity_with_make_scorer(problem):
    kernel, X, Y = problem
    scorer = make_scorer(map_similarity)
    est = TikhonovInverter(kernel, penalty="global", alpha=1e-6 * kernel.compress().lipschitz)
    assert scorer(est, X, Y) == pytest.approx(map_similarity_scorer(est, X, Y))
    with pytest.raises(ValueError, match="discrepancy_scorer"):
        map_similarity_scorer(est, X, None)


def _relative_alphas(kernel):
    L = kernel.compress().lipschitz
    return [float(a * L) for a in (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)]


def test_grid_search_with_true_maps_picks_a_good_alpha(problem):
    kernel, X, Y = problem
    alphas = _relative_alphas(kernel)
    est = TikhonovInverter(kernel, penalty="global", alpha=alphas[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        quality = {a: map_similarity(Y, est.set_params(alpha=a).predict(X)) for a in alphas}
        search = GridSearchCV(est, {"alpha": alphas}, scoring=SCORERS["map_similarity"], cv=2)
        search.fit(X, Y)
    best = max(quality.values())
    assert quality[search.best_params_["alpha"]] >= 0.9 * best
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_discrepancy_scorer_does_not_favour_the_smallest_alpha(problem):
    kernel, X, Y = problem
    alphas = _relative_alphas(kernel)
    est = TikhonovInverter(kernel, penalty="global", alpha=alphas[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = np.array(
            [[discrepancy_scorer(est.set_params(alpha=a), x[None]) for x in X] for a in alphas]
        )
        quality = [map_similarity(Y, est.set_params(alpha=a).predict(X)) for a in alphas]
        search = GridSearchCV(est, {"alpha": alphas}, scoring=discrepancy_scorer, cv=2).fit(X)
    assert np.all(np.isfinite(scores)) and scores.max() <= 0
    # Over-smoothing is penalised steeply and monotonically.
    mean = scores.mean(axis=1)
    assert mean[2] > mean[3] > mean[4]
    # An over-fitted map is not the best one: most samples prefer a larger alpha.
    assert np.mean(scores.argmax(axis=0) > 0) >= 0.5
    chosen = alphas.index(search.best_params_["alpha"])
    assert quality[chosen] >= 0.75 * max(quality)


def test_discrepancy_scorer_zero_data(problem):
    kernel, X, _ = problem
    est = TikhonovInverter(kernel, penalty="global", alpha=1.0)
    assert discrepancy_scorer(est, np.zeros_like(X[:2])) == 0.0


def test_gcv_stability_scorer_is_named_and_seeded(problem):
    kernel, X, _ = problem
    est = TikhonovInverter(kernel, penalty="global", alpha=0.1, alpha_scale="noise")
    assert SCORERS["gcv_stability"] is gcv_stability_scorer
    first = gcv_stability_scorer(est, X)
    assert np.isfinite(first) and first == gcv_stability_scorer(est, X)
    assert est.score(X) == first  # the default score without true maps


def test_gcv_stability_scorer_penalises_both_ends(problem):
    """Over-smoothing raises the misfit, under-smoothing lowers the stability."""
    kernel, X, Y = problem
    alphas = [1e-4, 1e-3, 1e2]  # in units of the noise
    est = TikhonovInverter(kernel, penalty="global", alpha_scale="noise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = [gcv_stability_scorer(est.set_params(alpha=a), X) for a in alphas]
        quality = [map_similarity(Y, est.set_params(alpha=a).predict(X)) for a in alphas]
    assert quality[1] == max(quality)
    assert scores[1] > scores[0] and scores[1] > scores[2]
    assert -1.2 < scores[1] < -0.8  # about -1 + 0.1 x stability at a good fit


def test_gcv_stability_scorer_zero_data_and_no_noise_room(problem):
    kernel, X, _ = problem
    est = TikhonovInverter(kernel, penalty="global", alpha=1.0)
    assert np.isfinite(gcv_stability_scorer(est, np.zeros_like(X[:2])))
    tiny = Kernel2D(KernelAxis("T2", [1e-3, 1e-2], n_grid=4), KernelAxis("T2", [1e-3], n_grid=4))
    with pytest.raises(ValueError, match="no degrees of freedom"):
        gcv_stability_scorer(TikhonovInverter(tiny, penalty="global"), np.ones((1, 2)))

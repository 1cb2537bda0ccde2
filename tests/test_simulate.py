"""Simulation: priors, fine-grid forward model, noise, training sets, scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.simulate import (
    Peak,
    PeakPrior,
    add_noise,
    cement_kernel,
    cement_like,
    cheese_like,
    estimate_noise,
    make_training_set,
    render_map,
    resolution_pair,
    simulate_decay,
)


def test_render_map_mass_is_grid_independent():
    peaks = [Peak((-1.0, -2.0), (0.1, 0.15), 0.7, 0.5), Peak((-2.0, -1.0), (0.05, 0.05), 0.3)]
    coarse = np.logspace(-4, 1, 64)
    fine = np.logspace(-4, 1, 253)
    assert np.isclose(render_map(peaks, coarse, coarse).sum(), 1.0, atol=1e-3)
    assert np.isclose(render_map(peaks, fine, fine).sum(), 1.0, atol=1e-9)


def test_fine_grid_data_match_coarse_data_closely_but_not_exactly():
    k = cement_kernel()
    peaks = [Peak((-1.0, -2.0), (0.1, 0.1))]
    S_fine, _ = simulate_decay(k, peaks, oversample=4)
    S_crime, _ = simulate_decay(k, peaks, oversample=1)
    rel = np.linalg.norm(S_fine - S_crime) / np.linalg.norm(S_fine)
    assert 0 < rel < 1e-2


def test_noise_level_and_estimate():
    sc = cement_like(snr=200, random_state=1)
    assert np.isclose(sc.noise_std, np.abs(sc.clean).max() / 200)
    assert abs(estimate_noise(sc.data, sc.kernel) / sc.noise_std - 1) < 0.05
    noisy, sigma = add_noise(np.ones((4, 4)), 10, random_state=0)
    assert sigma == 0.1 and noisy.shape == (4, 4)
    with pytest.raises(ValueError, match="snr must be positive"):
        add_noise(np.ones((2, 2)), 0)


def test_make_training_set_shapes_and_seed():
    k = cement_kernel(n_grid=32)
    X, Y, sigma, clean = make_training_set(k, 6, random_state=3, return_clean=True)
    assert X.shape == (6, 48 * 1000) and Y.shape == (6, 32 * 32) and sigma.shape == (6,)
    assert np.all(Y >= 0)
    snr = np.abs(clean).max(axis=1) / sigma
    assert np.all((snr >= 30 - 1e-9) & (snr <= 3000 + 1e-9))
    X2, Y2, _ = make_training_set(k, 6, random_state=3)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)


def test_make_training_set_labels_partition_the_map_by_peak():
    k = cement_kernel(n_grid=32)
    prior = PeakPrior(n_peaks=(3, 3), sigma=(0.05, 0.1), min_separation=1.0)
    X, Y, _, labels = make_training_set(k, 4, prior=prior, random_state=2, return_labels=True)
    X2, Y2, _ = make_training_set(k, 4, prior=prior, random_state=2)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)  # the pairs do not change
    assert labels.shape == Y.shape and labels.dtype == np.int8
    for y, lab in zip(Y, labels, strict=True):
        assert set(np.unique(lab)) == {0, 1, 2}
        # Narrow, well-separated peaks: each region holds one whole peak, and the peak's
        # maximum lies inside its own region.
        masses = np.bincount(lab, weights=y, minlength=3)
        assert masses.min() > 0.05
        for j in range(3):
            inside = np.where(lab == j, y, 0.0)
            assert lab[np.argmax(inside)] == j and inside.max() > 0.5 * y[lab == j].max()


def test_prior_respects_separation_and_t1_ge_t2():
    k = cement_kernel(n_grid=32)
    prior = PeakPrior(n_peaks=(3, 3), min_separation=0.5, t1_ge_t2=True)
    from laplace_inv.simulate import sample_peaks

    rng = np.random.default_rng(0)
    for _ in range(20):
        peaks = sample_peaks(prior, k, rng)
        c = np.array([p.center for p in peaks])
        assert np.all(c[:, 0] >= c[:, 1])
        d = np.linalg.norm(c[:, None] - c[None], axis=-1) + np.eye(len(c)) * 9
        assert d.min() >= 0.5
        assert np.isclose(sum(p.weight for p in peaks), 1.0)


def test_clustered_prior_draws_close_pairs():
    from laplace_inv.simulate import sample_peaks

    k = cement_kernel(n_grid=32)
    prior = PeakPrior(n_peaks=(2, 2), min_separation=0.15, cluster=1.0, cluster_radius=0.4)
    rng = np.random.default_rng(0)
    for _ in range(30):
        c = np.array([p.center for p in sample_peaks(prior, k, rng)])
        assert 0.15 - 1e-12 <= np.linalg.norm(c[0] - c[1]) <= 0.4 + 1e-12
    uniform = PeakPrior(n_peaks=(2, 2), min_separation=0.15)
    far = [
        np.linalg.norm(np.subtract(*[p.center for p in sample_peaks(uniform, k, rng)]))
        for _ in range(30)
    ]
    assert np.median(far) > 0.4  # uniform placement rarely makes close pairs


def test_pair_sigma_ratio_narrows_close_peaks_only():
    from laplace_inv.simulate import sample_peaks

    k = cement_kernel(n_grid=32)
    base = PeakPrior(n_peaks=(1, 4), sigma=(0.03, 0.25), min_separation=0.12, cluster=0.5)
    capped = PeakPrior(
        n_peaks=(1, 4), sigma=(0.03, 0.25), min_separation=0.12, cluster=0.5, pair_sigma_ratio=3.0
    )
    narrowed = 0
    for seed in range(40):
        free = sample_peaks(base, k, np.random.default_rng(seed))
        peaks = sample_peaks(capped, k, np.random.default_rng(seed))
        # the same draws: centres and weights agree, widths only shrink
        assert [p.center for p in peaks] == [p.center for p in free]
        assert [p.weight for p in peaks] == [p.weight for p in free]
        c = np.array([p.center for p in peaks])
        for i, (p, q) in enumerate(zip(peaks, free, strict=True)):
            assert np.all(np.array(p.sigma) <= np.array(q.sigma))
            if len(peaks) == 1:
                assert p.sigma == q.sigma
                continue
            nearest = np.delete(np.linalg.norm(c - c[i], axis=1), i).min()
            assert max(p.sigma) <= max(nearest / 3.0, 0.03) + 1e-12
            narrowed += p.sigma != q.sigma
    assert narrowed > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cluster=1.5), "cluster must be a probability"),
        (dict(cluster=0.5, cluster_radius=0.1, min_separation=0.2), "cluster_radius"),
        (dict(pair_sigma_ratio=-1.0), "pair_sigma_ratio"),
        (dict(pair_sigma_ratio=float("nan")), "pair_sigma_ratio"),
    ],
)
def test_clustered_prior_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PeakPrior(**kwargs)


def test_scenarios():
    cement = cement_like()
    assert cement.data.shape == (48, 1000) and len(cement.peaks) == 2
    cheese = cheese_like()
    assert len(cheese.peaks) == 3
    pair = resolution_pair(0.3, "diagonal", snr=100)
    d = np.subtract(pair.peaks[1].center, pair.peaks[0].center)
    assert np.isclose(np.hypot(*d), 0.3) and np.isclose(d[0], d[1])
    with pytest.raises(ValueError, match="axis must be one of"):
        resolution_pair(0.3, "T3")
    with pytest.raises(ValueError, match="separation must be positive"):
        resolution_pair(-0.1)

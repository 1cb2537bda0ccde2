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


# --------------------------------------------------------------------------------------
# The widened prior: broad, skewed, ridge and continuous components, T1 >= T2, non-ideal IR


def _digest(*arrays):
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.round(np.asarray(a, dtype=float), 9).tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    "prior, expected",
    [
        (PeakPrior(), ("6b865731f9ebb926", "60a6584e537b6196")),
        (
            PeakPrior(
                n_peaks=(1, 4), sigma=(0.03, 0.25), cluster=0.5, pair_sigma_ratio=3.0, t1_ge_t2=True
            ),
            ("33345d7696565d34", "65645851faf42926"),
        ),
    ],
)
def test_default_draws_are_unchanged(prior, expected):
    # Digests computed before the shape options existed (main at c0fc440).
    from laplace_inv.simulate import sample_peaks

    k = cement_kernel(n_grid=32)
    rng = np.random.default_rng(7)
    peaks = [p for _ in range(20) for p in sample_peaks(prior, k, rng)]
    assert _digest([(*p.center, *p.sigma, p.weight, p.rho) for p in peaks]) == expected[0]
    X, Y, s, lab = make_training_set(k, 8, prior=prior, random_state=5, return_labels=True)
    assert _digest(X, Y, s, lab) == expected[1]


FINE = np.logspace(-6, 2, 801)  # 0.01-decade bins, equal on both axes, wider than the grid


def _marginal_fwhm(profile, log_grid):
    """FWHM (decades) of a 1D profile, from linear interpolation of the half-maximum crossings."""
    half = profile.max() / 2
    above = np.flatnonzero(profile >= half)
    i, j = above[0], above[-1]
    left = np.interp(half, [profile[i - 1], profile[i]], log_grid[i - 1 : i + 1])
    right = np.interp(half, [profile[j + 1], profile[j]], [log_grid[j + 1], log_grid[j]])
    return right - left


def _draw(prior, n=40, seed=0):
    from laplace_inv.simulate import sample_components

    k = cement_kernel()
    rng = np.random.default_rng(seed)
    return [c for _ in range(n) for c in sample_components(prior, k, rng)]


def test_broad_components_have_the_requested_fwhm_on_rendered_maps():
    prior = PeakPrior(n_peaks=(1, 3), broad=1.0, broad_fwhm=(0.3, 0.6), min_separation=0.5)
    lg = np.log10(FINE)
    widths = []
    for (p,) in _draw(prior):
        F = render_map([p], FINE, FINE)
        widths += [_marginal_fwhm(F.sum(axis=1), lg), _marginal_fwhm(F.sum(axis=0), lg)]
    widths = np.array(widths)
    assert widths.min() >= 0.3 - 0.01 and widths.max() <= 0.6 + 0.01
    assert widths.max() - widths.min() > 0.2  # the range is covered, not one width


def test_skewed_components_lean_to_the_side_of_their_shape():
    prior = PeakPrior(n_peaks=(1, 3), sigma=(0.1, 0.2), skew=1.0, skew_alpha=(2.0, 6.0))
    lg = np.log10(FINE)
    signs = []
    for (p,) in _draw(prior, n=20):
        F = render_map([p], FINE, FINE)
        assert p.skewed and np.isclose(F.sum(), p.weight, rtol=1e-6)
        for axis, (a, b) in enumerate([(p.skew[0], p.skew[1]), (p.skew[1], p.skew[0])]):
            m = F.sum(axis=1 - axis) / F.sum()
            mean = (m * lg).sum()
            third = (m * (lg - mean) ** 3).sum()
            expected = np.sign(a + p.rho * b)
            if abs(a + p.rho * b) > 0.5:
                signs.append(np.sign(third) == expected)
    assert len(signs) > 20 and all(signs)


def test_ridges_lie_along_t1_proportional_to_t2():
    prior = PeakPrior(
        n_peaks=(1, 2),
        ridge=1.0,
        ridge_ratio=(2.0, 20.0),
        ridge_length=(0.8, 1.2),
        min_separation=0.8,
    )
    L1, L2 = np.meshgrid(np.log10(FINE), np.log10(FINE), indexing="ij")
    for (p,) in _draw(prior, n=10):
        F = render_map([p], FINE, FINE)
        m = F / F.sum()
        mean = np.array([(m * L1).sum(), (m * L2).sum()])
        cov = np.cov(np.stack([L1.ravel(), L2.ravel()]), aweights=m.ravel())
        evals, evecs = np.linalg.eigh(cov)
        major = evecs[:, -1] * np.sign(evecs[0, -1])
        assert np.degrees(np.arccos(major @ np.array([1, 1]) / np.sqrt(2))) < 2.0  # diagonal
        assert 2.0 - 1e-9 <= 10 ** (mean[0] - mean[1]) <= 20.0 + 1e-9  # the T1/T2 band
        fwhm_along, fwhm_across = 2.3548 * np.sqrt(evals[::-1])
        assert 0.8 - 0.02 <= fwhm_along <= 1.2 + 0.02
        assert 0.1 - 0.02 <= fwhm_across <= 0.25 + 0.02


def test_continuous_components_are_log_normal_mixtures_with_one_label():
    prior = PeakPrior(n_peaks=(1, 2), sigma=(0.1, 0.2), continuous=1.0, continuous_parts=(2, 4))
    comps = _draw(prior, n=10)
    assert {len(c) for c in comps} <= {2, 3, 4} and len({len(c) for c in comps}) > 1
    for comp in comps:
        c = np.array([p.center for p in comp])
        assert np.ptp(c, axis=0).max() < 1.0  # the parts overlap: one distribution
    k = cement_kernel(n_grid=32)
    *_, labels = make_training_set(k, 6, prior=prior, random_state=0, return_labels=True)
    assert labels.max() <= 1  # one region per component, not per log-normal


def test_mass_below_diagonal_is_exact_for_skewed_tilted_components():
    from laplace_inv.simulate import mass_below_diagonal

    L1, L2 = np.meshgrid(np.log10(FINE), np.log10(FINE), indexing="ij")
    for p in [
        Peak((-1.5, -1.6), (0.15, 0.1), 1.0, 0.4, (3.0, -2.0)),
        Peak((-2.0, -1.9), (0.1, 0.2), 1.0, -0.3, (-4.0, 1.0)),
        Peak((-1.0, -1.3), (0.2, 0.2), 1.0, 0.0),
    ]:
        F = render_map([p], FINE, FINE)
        numeric = F[L1 < L2].sum() + 0.5 * F[L1 == L2].sum()
        assert abs(mass_below_diagonal(p.center, p.sigma, p.rho, p.skew) - numeric) < 5e-3


def test_t1_ge_t2_keeps_the_mass_above_the_diagonal():
    prior = PeakPrior(
        n_peaks=(1, 4),
        broad=0.4,
        skew=0.4,
        ridge=0.2,
        continuous=0.2,
        t1_ge_t2=True,
        below_diagonal=0.01,
    )
    L1, L2 = np.meshgrid(np.log10(FINE), np.log10(FINE), indexing="ij")
    below = []
    for comp in _draw(prior, n=30):
        F = render_map(comp, FINE, FINE)
        below.append(F[L1 < L2].sum() / F.sum())
    # Each component keeps at most 1 % below T1 = T2; the rest is rendering tails.
    assert max(below) <= 0.01 + 2e-3
    loose = PeakPrior(n_peaks=(1, 4), broad=0.4, skew=0.4, t1_ge_t2=True)
    loose_below = [render_map(c, FINE, FINE)[L1 < L2].sum() for c in _draw(loose, n=30)]
    assert max(loose_below) > 0.05  # centres alone do not keep broad components above


def test_efficiency_and_offset_go_through_the_kernel():
    from laplace_inv.kernels import Kernel2D, KernelAxis
    from laplace_inv.simulate import make_scenario, with_ir_efficiency

    k = cement_kernel(n_grid=32)
    _, Y, sigma, clean, acq = make_training_set(
        k,
        3,
        snr=100.0,
        random_state=0,
        efficiency=0.7,
        offset=0.01,
        return_clean=True,
        return_acquisition=True,
    )
    at_07 = with_ir_efficiency(k, 0.7)
    assert at_07.axis1.efficiency == 0.7
    for y, c, s, (e, off) in zip(Y, clean, sigma, acq, strict=True):
        S = at_07.forward(y.reshape(32, 32))
        assert e == 0.7 and np.isclose(off, 0.01 * np.abs(S).max())
        assert np.allclose(c.reshape(S.shape), S + off, atol=1e-12)
        assert np.isclose(s, np.abs(S).max() / 100.0)  # the noise level ignores the offset
    # drawn per map within the ranges; the default is the ideal acquisition
    *_, acq = make_training_set(
        k, 50, random_state=1, efficiency=(0.6, 1.0), offset=(-0.02, 0.02), return_acquisition=True
    )
    assert acq[:, 0].min() >= 0.6 and acq[:, 0].max() <= 1.0 and np.ptp(acq[:, 0]) > 0.2
    assert np.any(acq[:, 1] < 0) and np.any(acq[:, 1] > 0)
    *_, acq = make_training_set(k, 2, random_state=1, return_acquisition=True)
    assert np.array_equal(acq, [[1.0, 0.0], [1.0, 0.0]])
    # the fine-grid path and make_scenario use the same kernel
    peaks = [Peak((-1.0, -2.0), (0.1, 0.1))]
    sc = make_scenario(
        "ir", k, peaks, 1e6, random_state=0, oversample=1, efficiency=0.8, offset=0.02
    )
    S = with_ir_efficiency(k, 0.8).forward(render_map(peaks, k.grid1, k.grid2))
    assert np.allclose(sc.clean, S + 0.02 * np.abs(S).max())
    assert sc.params["efficiency"] == 0.8
    t2 = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 8)), KernelAxis("T2", np.arange(1, 50) * 1e-3)
    )
    with pytest.raises(ValueError, match="exactly one T1_IR axis"):
        make_training_set(t2, 2, efficiency=0.8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(broad=1.5), "broad must be a probability"),
        (dict(ridge=0.7, continuous=0.5), "ridge \\+ continuous"),
        (dict(broad_fwhm=(0.6, 0.3)), "broad_fwhm"),
        (dict(continuous_parts=(0, 2)), "continuous_parts"),
        (dict(below_diagonal=1.0), "below_diagonal"),
    ],
)
def test_widened_prior_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PeakPrior(**kwargs)

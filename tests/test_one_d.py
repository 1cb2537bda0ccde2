"""1D inversions: Kernel1D, the estimators on it, the result, peaks and default grids."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from laplace_inv import (
    DLEMLRInverter,
    InversionResult,
    Kernel1D,
    Kernel2D,
    KernelAxis,
    L1Inverter,
    TikhonovInverter,
)
from laplace_inv.io import Acquisition, resolvable_d_range
from laplace_inv.kernels import GRID_MARGINS, default_grid, grid_range
from laplace_inv.methods import make_inverter
from laplace_inv.metrics import DetectedPeak
from laplace_inv.metrics.peaks import find_peaks_1d
from laplace_inv.operator.forms import laplacian, laplacian_matrix

TAU = np.arange(1, 1001) * 2e-4


def _two_components(kernel: Kernel1D, snr: float = 1000.0, seed: int = 0):
    lg = np.log10(kernel.grid)
    f = np.exp(-0.5 * ((lg + 2.0) / 0.08) ** 2) + 0.5 * np.exp(-0.5 * ((lg + 0.8) / 0.1) ** 2)
    f /= f.sum()
    s = kernel.forward(f)
    sigma = float(s.max()) / snr
    return f, s + sigma * np.random.default_rng(seed).standard_normal(s.shape), sigma


@pytest.fixture(scope="module")
def kernel() -> Kernel1D:
    return Kernel1D(KernelAxis("T2", TAU, n_grid=80))


# ----------------------------------------------------------------------------- kernel


def test_kernel1d_shapes_and_forward(kernel):
    assert isinstance(kernel, Kernel2D) and kernel.ndim == 1
    assert kernel.kind == "T2" and kernel.kinds == ("T2",)
    assert kernel.data_shape == (1000, 1) and kernel.map_shape == (80, 1)
    assert np.array_equal(kernel.K2, [[1.0]]) and kernel.grid2.tolist() == [1.0]
    f = np.random.default_rng(1).random(80)
    s = kernel.forward(f)
    np.testing.assert_allclose(s, kernel.K @ f)
    np.testing.assert_allclose(kernel.forward(f[:, None])[:, 0], s)
    np.testing.assert_allclose(kernel.forward(np.stack([f, 2 * f])), np.stack([s, 2 * s]))
    r = np.random.default_rng(2).standard_normal(1000)
    assert np.isclose(np.dot(kernel.forward(f), r), np.dot(f, kernel.adjoint(r)))
    np.testing.assert_allclose(kernel.adjoint(r[:, None])[:, 0], kernel.adjoint(r))
    with pytest.raises(ValueError, match="distribution of 80 values"):
        kernel.forward(np.ones(79))


def test_kernel1d_compresses_like_a_one_column_kernel(kernel):
    op = kernel.compress()
    assert op.map_shape == (80, 1) and op.shape[1] == 1
    f = np.random.default_rng(3).random((80, 1))
    np.testing.assert_allclose(op.U1 @ op.forward(f) @ op.U2.T, kernel.K @ f, atol=1e-9)
    assert kernel.compress() is op


def test_kernel1d_helpers(kernel):
    assert kernel == Kernel1D(KernelAxis("T2", TAU, n_grid=80))
    assert kernel != Kernel2D(KernelAxis("T2", TAU, n_grid=80), KernelAxis("T2", TAU, n_grid=80))
    assert kernel.refined(2).map_shape == (159, 1)
    assert kernel.with_grid(np.geomspace(1e-4, 1, 10)).map_shape == (10, 1)
    with pytest.raises(ValueError, match="one grid"):
        kernel.with_grids(np.geomspace(1e-4, 1, 10), np.geomspace(1e-4, 1, 10))
    assert Kernel1D.from_arrays("D", [0.0, 1e8, 1e9]).kind == "D"
    copy = pickle.loads(pickle.dumps(kernel))
    assert copy == kernel and copy._compressed == {}
    assert "Kernel1D(KernelAxis('T2'" in repr(kernel)
    assert getattr(kernel, "axis2", None) is None
    with pytest.raises(AttributeError, match="one axis"):
        _ = kernel.axis2
    with pytest.raises(TypeError, match="must be a KernelAxis"):
        Kernel1D(TAU)


def test_kernel2d_with_one_axis_points_to_kernel1d():
    with pytest.raises(TypeError, match=r"use Kernel1D\(KernelAxis\('T2', tau\)\)"):
        Kernel2D(KernelAxis("T2", TAU))


def test_laplacian_drops_a_singleton_axis():
    f = np.array([[1.0], [3.0], [2.0], [0.0]])
    expected = np.array([[-1.0], [3.0], [1.0], [-2.0]])  # 2f_i - f_(i-1) - f_(i+1)
    np.testing.assert_allclose(laplacian(f), expected)
    np.testing.assert_allclose((laplacian_matrix((4, 1)) @ f.ravel()), expected.ravel())
    F = np.random.default_rng(0).random((5, 4))
    np.testing.assert_allclose(laplacian_matrix((5, 4)) @ F.ravel(), laplacian(F).ravel())


# ----------------------------------------------------------------------------- estimators


@pytest.mark.parametrize(
    "est_factory",
    [
        lambda k: TikhonovInverter(k),
        lambda k: TikhonovInverter(k, penalty="global"),
        lambda k: L1Inverter(k),
    ],
    ids=["upen", "global", "l1"],
)
def test_every_classical_method_inverts_a_decay(kernel, est_factory):
    _, S, sigma = _two_components(kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = est_factory(kernel).invert(S, noise_std=sigma)
    assert isinstance(res, InversionResult) and res.ndim == 1
    assert res.distribution.shape == (80,) and res.grid is res.kernel.grid1
    assert res.map.shape == (80, 1) and res.data.shape == (1000, 1)
    assert res.residual.shape == (1000, 1)
    assert 0.8 < res.residual_to_noise < 1.3
    assert np.isclose(res.distribution.sum(), 1.0, rtol=0.05)
    peaks = res.peaks(min_fraction=0.05)
    big = (
        sorted(peaks, key=lambda p: p.position[0])[:1]
        + sorted(peaks, key=lambda p: -p.position[0])[:1]
    )
    assert [len(p.position) for p in peaks] == [1] * len(peaks)
    # L1 concentrates a broad component in a few spikes, whose largest sits up to about a
    # spike spacing from the component's centre; the mass-weighted means below hold for all.
    tol = 0.15 if res.info.get("method") == "L1" else 0.1
    assert abs(big[0].log_position[0] + 2.0) < tol and abs(big[1].log_position[0] + 0.8) < tol
    g, f = np.log10(res.grid), res.distribution
    fast = g < -1.4
    assert abs(np.sum(f[fast] * g[fast]) / f[fast].sum() + 2.0) < 0.1
    assert abs(np.sum(f[~fast] * g[~fast]) / f[~fast].sum() + 0.8) < 0.1
    (proj,) = res.projections()
    np.testing.assert_array_equal(proj, res.distribution)


def test_upen_and_tikhonov_find_two_components_with_right_shares(kernel):
    _, S, sigma = _two_components(kernel, snr=3000)
    for name in ("upen", "tikhonov"):
        res = make_inverter(name, kernel).invert(S, noise_std=sigma)
        peaks = res.peaks(min_fraction=0.05)
        assert len(peaks) == 2, name
        assert [round(p.fraction, 1) for p in peaks] == [0.6, 0.4], name


def test_predict_takes_and_returns_flat_1d_shapes(kernel):
    _, S, _ = _two_components(kernel)
    X = np.stack([S, 0.5 * S, 2 * S])
    est = TikhonovInverter(kernel, penalty="global", alpha=1e-3)
    Y = est.predict(X)
    assert Y.shape == (3, 80)
    np.testing.assert_allclose(Y[1], 0.5 * Y[0], rtol=1e-6, atol=1e-12)
    P = est.predict(X, output="projections")
    np.testing.assert_allclose(P[0], Y)
    table = est.predict(X, output="peaks")
    assert set(table["sample"]) == {0, 1, 2}


def test_invert_checks_the_decay_length(kernel):
    with pytest.raises(ValueError, match="999 points but the decay has 1000"):
        TikhonovInverter(kernel).invert(np.ones(999))


def test_dlemlr_refuses_1d_with_the_methods_to_use(kernel):
    for call in (
        lambda: DLEMLRInverter.from_pretrained(kernel),
        lambda: make_inverter("dlemlr", kernel),
        lambda: DLEMLRInverter(kernel).fit(np.ones((2, 1000)), np.ones((2, 80))),
    ):
        with pytest.raises(ValueError, match=r"1D DLEMLR is not available.*'upen', 'tikhonov'"):
            call()


def test_result_plot_draws_distribution_decay_and_peaks(kernel):
    _, S, sigma = _two_components(kernel)
    res = TikhonovInverter(kernel, penalty="global").invert(S, noise_std=sigma)
    fig = res.plot(title="demo")
    assert [a.get_xlabel() for a in fig.axes] == ["T2 (ms)", "time (ms)"]
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert len(labels) == len(res.peaks()) and all(t.startswith("T2 ") for t in labels)
    with pytest.raises(AttributeError, match="1D results"):
        _ = InversionResult(np.ones((2, 2)), _kernel2d(), np.ones((2, 2))).distribution


def _kernel2d() -> Kernel2D:
    return Kernel2D.from_arrays(("T2", "T2"), [1e-3, 1e-2], [1e-3, 1e-2], n_grid=2)


# ----------------------------------------------------------------------------- peaks


def test_find_peaks_1d_positions_widths_and_input_shapes():
    g = np.logspace(-4, 0, 81)
    lg = np.log10(g)
    f = np.exp(-0.5 * ((lg + 3) / 0.1) ** 2) + 3 * np.exp(-0.5 * ((lg + 1) / 0.1) ** 2)
    peaks = find_peaks_1d(f, g)
    assert [round(p.fraction, 2) for p in peaks] == [0.75, 0.25]
    assert [round(p.log_position[0], 3) for p in peaks] == [-1.0, -3.0]
    assert abs(peaks[0].fwhm[0] - 0.2355) < 0.01
    assert find_peaks_1d(f[:, None], g) == peaks
    assert find_peaks_1d(np.zeros(81), g) == []
    with pytest.raises(ValueError, match="1D distribution"):
        find_peaks_1d(np.ones((81, 2)), g)


def test_reference_peak_in_1d():
    p = DetectedPeak.from_log_position((-2.0,), fwhm=(0.3,), fraction=0.5)
    assert p.position == (0.01,) and p.fwhm == (0.3,) and p.index == (-1,)
    with pytest.raises(ValueError, match="fwhm must have 1 entries"):
        DetectedPeak.from_log_position((-2.0,), fwhm=(0.3, 0.3))
    assert DetectedPeak.from_log_position((0.0, -3.0)).fwhm[0] != 0.3


# ----------------------------------------------------------------------------- grids


def test_grid_rule_is_one_rule_for_every_kind():
    t = np.array([1e-3, 2e-3, 0.5])
    for kind in ("T2", "T1_IR", "T1_SR"):
        fast, slow = GRID_MARGINS[kind]
        assert grid_range(kind, t) == pytest.approx((1e-3 / fast, slow * 0.5))
    b = np.array([0.0, 2e7, 1e8, 8e9])
    fast, slow = GRID_MARGINS["D"]
    assert grid_range("D", b) == pytest.approx((1 / (slow * 8e9), fast / 2e7))
    g = default_grid("D", b, 7)
    assert g.size == 7 and g[0] == pytest.approx(1 / (slow * 8e9))
    with pytest.raises(ValueError, match="no positive values"):
        grid_range("T2", np.array([0.0]))
    with pytest.raises(ValueError, match="unknown kernel kind"):
        grid_range("T3", t)


def test_d_grid_follows_the_first_b_value_not_the_smallest_step():
    # b-values without b = 0 and closely spaced at the start: D above fast/b_min has
    # vanished before the first point whatever the step.
    b = np.array([1e8, 1.05e8, 2e8, 4e8, 8e8])
    lo, hi = resolvable_d_range(b)
    assert hi == pytest.approx(GRID_MARGINS["D"][0] / 1e8)
    assert (lo, hi) == grid_range("D", b)


def test_acquisition_grids_and_kernels_share_the_rule():
    b = np.array([0.0, 1e8, 4e8, 9e8])
    t = np.arange(1, 51) * 1e-3
    acq2 = Acquisition(np.ones((4, 50)), b, t, ("D", "T2"))
    acq1 = Acquisition(np.exp(-t / 0.01), t, None, ("T2",))
    g_d, g_t = acq2.grids(16)
    np.testing.assert_allclose(g_d, KernelAxis("D", b, n_grid=16).grid)
    np.testing.assert_allclose(g_t, KernelAxis("T2", t, n_grid=16).grid)
    np.testing.assert_allclose(acq1.grids(16)[0], g_t)
    k1 = acq1.kernel(n_grid=16)
    assert isinstance(k1, Kernel1D) and k1.map_shape == (16, 1)
    res = make_inverter("upen", k1).invert(acq1.data, noise_std=1e-3)
    assert abs(res.peaks()[0].position[0] - 0.01) < 0.002


# ----------------------------------------------------------------------------- docs


def test_the_guide_example_runs_and_prints_what_it_says(capsys):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "guide" / "one-d.md"
    text = page.read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    exec(compile(code, str(page), "exec"), {})
    out = capsys.readouterr().out
    for line in re.findall(r"^# (T2 = .*|residual/noise .*)$", text, re.M):
        assert line in out
    assert "(2000, 1) (64, 1)" in out and "(2, 64)" in out


def test_the_grid_examples_of_the_kernels_guide():
    assert grid_range("T2", np.arange(1, 2001) * 2e-4) == pytest.approx((4e-5, 1.2))
    assert grid_range("T1_IR", np.geomspace(1e-4, 0.5, 32)) == pytest.approx((2e-5, 1.5))
    lo, hi = grid_range("D", np.array([0.0, 3.5468e7, 7.9803e9]))
    assert (f"{lo:.3g}", f"{hi:.2g}") == ("1.25e-11", "2.8e-07")

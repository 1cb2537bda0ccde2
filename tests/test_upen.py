"""2DUPEN: convergence, KKT exactness of the inner solver, warnings, real cement peaks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning

from laplace_inv.classical import TikhonovInverter
from laplace_inv.classical.upen import (
    _Quadratic,
    laplacian,
    laplacian_matrix,
    solve_bpp,
    upen_weights,
)
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import Peak, make_scenario


@pytest.fixture(scope="module")
def small():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 16), n_grid=32),
        KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=32),
    )
    peaks = [
        Peak((np.log10(0.1), np.log10(0.02)), (0.1, 0.1), 0.7),
        Peak((np.log10(0.3), np.log10(0.004)), (0.1, 0.1), 0.3),
    ]
    return make_scenario("small", kernel, peaks, snr=300, random_state=1)


def test_laplacian_matrix_matches_stencil():
    rng = np.random.default_rng(0)
    F = rng.random((5, 7))
    L = laplacian_matrix(F.shape)
    np.testing.assert_allclose(L @ F.ravel(), laplacian(F).ravel())
    # Dirichlet boundary: L is symmetric and non-singular.
    Ld = L.toarray()
    np.testing.assert_allclose(Ld, Ld.T)
    assert np.linalg.eigvalsh(Ld).min() > 0


def test_weights_decrease_with_curvature():
    F = np.zeros((9, 9))
    F[4, 4] = 1.0
    lam = upen_weights(F, 1.0, 1e-2, 1e-5, 0.1)
    assert lam[4, 4] < lam[0, 0]
    # 3 x 3 maximum filter: the neighbours share the peak's small weight.
    assert lam[3, 3] == pytest.approx(lam[4, 4])


def test_upen_converges_nonnegative_with_info(small):
    est = TikhonovInverter(small.kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = est.invert(small.data)
    F = res.map
    assert F.shape == (32, 32)
    assert np.all(np.isfinite(F)) and F.min() >= 0
    info = res.info
    assert info["method"] == "UPEN"
    assert info["converged"]
    assert info["lambda"].shape == (32, 32)
    assert np.all(info["lambda"] > 0)
    for key in (
        "outer_iterations",
        "inner_iterations",
        "cg_iterations",
        "beta0",
        "beta_p",
        "beta_c",
        "beta00",
        "time_s",
    ):
        assert key in info
    assert 1 <= info["outer_iterations"] <= est.upen_max_iter
    assert res.residual_to_noise < 1.3
    peaks = res.peaks()
    assert abs(peaks[0].log_position[0] - np.log10(0.1)) < 0.15
    assert abs(peaks[0].log_position[1] - np.log10(0.02)) < 0.15


def test_inner_solver_is_exact():
    """Block pivoting meets the KKT conditions and matches Lawson-Hanson NNLS."""
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 12), n_grid=16),
        KernelAxis("T2", np.arange(1, 61) * 2e-3, n_grid=16),
    )
    F_true = np.zeros((16, 16))
    F_true[6:9, 7:10] = 1.0
    rng = np.random.default_rng(3)
    S = kernel.forward(F_true) + 0.01 * rng.standard_normal(kernel.data_shape)
    comp = kernel.compress()
    S_c = comp.project(S / np.abs(S).max())
    lam = 10 ** rng.uniform(-4, -1, size=(16, 16))
    L = laplacian_matrix((16, 16))
    q = _Quadratic(comp, S_c, lam, L)
    a = solve_bpp(q, np.zeros((16, 16)))
    assert a.converged
    g = q.grad(a.F)
    scale_g = np.abs(q.B).max()
    assert a.F.min() >= 0
    assert np.all(g[a.F == 0] > -1e-6 * scale_g)
    assert np.abs(g[a.F > 0]).max() < 1e-6 * scale_g
    # Independent reference: NNLS on the stacked system [K; √λ L].
    K = np.kron(comp.K1, comp.K2)
    A = np.vstack([K, np.sqrt(lam.ravel())[:, None] * L.toarray()])
    b = np.concatenate([S_c.ravel(), np.zeros(256)])
    x, _ = nnls(A, b, maxiter=5000)
    ref = q.value(x.reshape(16, 16))
    assert q.value(a.F) <= ref * (1 + 1e-8)
    assert q.value(a.F) == pytest.approx(ref, rel=1e-6)


def test_convergence_warning_at_outer_cap(small):
    est = TikhonovInverter(small.kernel, upen_max_iter=1)
    with pytest.warns(ConvergenceWarning, match="UPEN outer loop"):
        res = est.invert(small.data)
    assert np.all(np.isfinite(res.map))
    assert res.info["outer_iterations"] == 1
    assert not res.info["converged"]


def test_zero_data_is_zero_map(small):
    est = TikhonovInverter(small.kernel)
    F = est.predict(np.zeros((1, *small.kernel.data_shape)))
    assert np.all(F == 0)


def test_real_cement_peaks_match_mupen2d(cement):
    res = TikhonovInverter(cement.kernel).invert(cement.data)
    peaks = res.peaks()
    main = np.log10([0.1124, 0.01955])
    minor = np.log10([0.097, 0.00079])
    p_main = min(peaks, key=lambda p: np.hypot(*(np.array(p.log_position) - main)))
    p_minor = min(peaks, key=lambda p: np.hypot(*(np.array(p.log_position) - minor)))
    np.testing.assert_array_less(np.abs(np.array(p_main.log_position) - main), 0.05)
    np.testing.assert_array_less(np.abs(np.array(p_minor.log_position) - minor), 0.05)
    assert abs(p_main.fraction - 0.85) < 0.05
    assert abs(res.relative_residual - 2.3e-2) < 0.1 * 2.3e-2

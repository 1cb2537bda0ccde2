"""L1Inverter (cvxpy) and its FISTA cross-check."""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from laplace_inv.classical import l1 as l1_module
from laplace_inv.classical.l1 import L1Inverter, solve_l1_cvxpy
from laplace_inv.classical.l1_fista import duality_gap, fista_l1, l1_objective
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_kernel, cement_like

RTOL = 1e-4  # a coarse compression: quick cvxpy solves
CEMENT_PEAKS = [(0.112, 19.6e-3), (0.097, 0.79e-3)]  # (T1, T2) in s: main, minor


@pytest.fixture(scope="module")
def small_cement():
    """Cement IR-CPMG acquisition on a 24 × 24 grid: same conditioning, quick to solve."""
    kernel = cement_kernel(24)
    sc = cement_like(kernel, snr=200, random_state=1)
    S = sc.data / np.abs(sc.data).max()
    return kernel, S, sc


@pytest.fixture(scope="module")
def tiny():
    kernel = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 16), n_grid=10),
        KernelAxis("T2", np.geomspace(1e-3, 1, 24), n_grid=10),
    )
    F = np.zeros(kernel.map_shape)
    F[4, 5] = 1.0
    F[6, 2] = 0.5
    S = kernel.forward(F)
    S = S + 0.003 * np.random.default_rng(0).standard_normal(S.shape)
    return kernel, S


def _peak_positions(F, kernel, n=2):
    """log10 positions of the ``n`` heaviest peaks (find_peaks; argmax of regions otherwise)."""
    try:
        from laplace_inv.metrics import find_peaks

        peaks = find_peaks(F, kernel.grid1, kernel.grid2)
        return [tuple(p.log_position) for p in peaks[:n]]
    except ImportError:  # pragma: no cover - fallback before metrics existed
        lg2 = kernel.axis2.log_grid
        out = []
        for lo, hi in ((-2.3, None), (None, -2.3)):  # T2 above / below 5 ms
            mask = np.ones_like(lg2, bool)
            if lo is not None:
                mask &= lg2 > lo
            if hi is not None:
                mask &= lg2 < hi
            sub = np.where(mask[None, :], F, -1)
            i, j = np.unravel_index(np.argmax(sub), F.shape)
            out.append((kernel.axis1.log_grid[i], lg2[j]))
        return out


def _check_cement_peaks(F, kernel, tol_decades=0.1):
    found = _peak_positions(F, kernel, n=4)
    for t1, t2 in CEMENT_PEAKS:
        target = np.log10([t1, t2])
        dist = [max(abs(p[0] - target[0]), abs(p[1] - target[1])) for p in found]
        assert min(dist) <= tol_decades, (t1, t2, found)


# ------------------------------------------------------------------------------------------
def test_cvxpy_and_fista_agree_on_cement_like(small_cement):
    kernel, S, _ = small_cement
    comp = kernel.compress(RTOL)
    S_c = comp.project(S)
    F_cvx, status, _ = solve_l1_cvxpy(kernel, S_c, 0.01, rtol=RTOL, solver="CLARABEL")
    assert status == "optimal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        F_fista, _ = fista_l1(comp, S_c, 0.01, max_iter=30_000, tol=1e-10)
    obj_cvx = l1_objective(comp, S_c, F_cvx, 0.01)
    obj_fista = l1_objective(comp, S_c, F_fista, 0.01)
    assert abs(obj_fista - obj_cvx) <= 1e-3 * obj_cvx
    # the interior-point solution is (near) optimal: its duality gap is tiny
    p, d = duality_gap(comp, S_c, F_cvx, 0.01)
    assert p - d <= 1e-4 * p


def test_inverter_on_cement_like_64(recwarn):
    sc = cement_like(snr=200)
    res = L1Inverter(sc.kernel).invert(sc.data)
    info = res.info
    assert info["method"] == "L1" and info["solver"] in ("ACTIVE_SET", "ECOS", "CLARABEL")
    assert info["status"] == "optimal" and info["alpha"] == 0.01
    for key in ("objective", "time", "iterations", "time_s", "duality_gap", "relative_gap"):
        assert key in info
    assert info["relative_gap"] <= 1e-4
    assert res.map.min() >= 0 and np.all(np.isfinite(res.map))
    _check_cement_peaks(res.map, sc.kernel)


def test_real_cement_peaks(cement):
    ds = cement
    res = L1Inverter(ds.kernel).invert(ds.data)
    assert res.info["status"] == "optimal"
    _check_cement_peaks(res.map, ds.kernel)


def test_fista_agrees_on_real_cement_24(cement):
    """Real cement data on a 24 × 24 grid over the same span (the 64 × 64 check is slow)."""
    ds = cement
    g1, g2 = ds.kernel.grid1, ds.kernel.grid2
    kernel = ds.kernel.with_grids(np.geomspace(g1[0], g1[-1], 24), np.geomspace(g2[0], g2[-1], 24))
    S = ds.data / np.abs(ds.data).max()
    comp = kernel.compress(RTOL)
    S_c = comp.project(S)
    F_cvx, _, _ = solve_l1_cvxpy(kernel, S_c, 0.01, rtol=RTOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        F_fista, _ = fista_l1(comp, S_c, 0.01, max_iter=30_000, tol=1e-10)
    obj_cvx = l1_objective(comp, S_c, F_cvx, 0.01)
    assert abs(l1_objective(comp, S_c, F_fista, 0.01) - obj_cvx) <= 1e-3 * obj_cvx


@pytest.mark.slow
def test_fista_agrees_on_real_cement_64(cement):
    ds = cement
    S = ds.data / np.abs(ds.data).max()
    comp = ds.kernel.compress(RTOL)
    S_c = comp.project(S)
    F_cvx, _, _ = solve_l1_cvxpy(ds.kernel, S_c, 0.01, rtol=RTOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        F_fista, _ = fista_l1(comp, S_c, 0.01, max_iter=400_000, tol=1e-12)
    obj_cvx = l1_objective(comp, S_c, F_cvx, 0.01)
    assert abs(l1_objective(comp, S_c, F_fista, 0.01) - obj_cvx) <= 1e-3 * obj_cvx


def test_nonnegative_and_scaled_back(tiny):
    kernel, S = tiny
    inv = L1Inverter(kernel, alpha=1e-3)
    F1 = inv.invert(S).map
    F10 = inv.invert(10 * S).map
    assert F1.min() >= 0
    # α is relative to max|S| = 1, so the map scales with the data
    np.testing.assert_allclose(F10, 10 * F1, rtol=1e-5, atol=1e-6 * F10.max())
    pred = inv.predict(np.stack([S, 2 * S]))
    assert pred.shape == (2, 100) and pred.min() >= 0


def test_elastic_net_is_smoother(tiny):
    kernel, S = tiny
    F_l1 = L1Inverter(kernel, alpha=1e-3).invert(S).map
    res = L1Inverter(kernel, alpha=1e-3, l2=0.5).invert(S)
    F_en = res.map
    assert res.info["l2"] == 0.5
    nnz = lambda F: int(np.sum(F > 1e-6 * F.max()))  # noqa: E731
    assert F_en.max() < F_l1.max()
    assert nnz(F_en) >= nnz(F_l1)
    # FISTA agrees on the elastic-net objective too
    comp = kernel.compress(RTOL)
    S_c = comp.project(S / np.abs(S).max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        F_f, _ = fista_l1(comp, S_c, 1e-3, l2=0.5, max_iter=50_000, tol=1e-10)
    o_cvx = l1_objective(comp, S_c, F_en / np.abs(S).max(), 1e-3, 0.5)
    assert abs(l1_objective(comp, S_c, F_f, 1e-3, 0.5) - o_cvx) <= 1e-4 * o_cvx


def test_discrepancy_alpha_matches_noise(tiny):
    kernel, S = tiny
    res = L1Inverter(kernel, alpha="discrepancy").invert(S)
    assert res.info["alpha_selection"] == "discrepancy"
    assert 1e-8 < res.info["alpha"] < 1
    assert res.residual_to_noise == pytest.approx(1.0, abs=0.02)
    # a bigger target residual needs a bigger α
    res2 = L1Inverter(kernel, alpha="discrepancy", discrepancy_factor=1.1).invert(S)
    assert res2.info["alpha"] > res.info["alpha"]
    assert res2.residual_to_noise == pytest.approx(1.1, abs=0.02)


def test_fallback_solver_used_when_first_fails(tiny, monkeypatch):
    kernel, S = tiny
    original = l1_module._L1Model.solve

    def failing(self, S_c, alpha, solver, options):
        if solver == "ECOS":
            raise cp.error.SolverError("simulated failure")
        return original(self, S_c, alpha, solver, options)

    monkeypatch.setattr(l1_module._L1Model, "solve", failing)
    res = L1Inverter(kernel, alpha=1e-3, solver="ECOS", fallback_solver="SCS").invert(S)
    assert res.info["solver"] == "SCS" and res.info["status"] == "optimal"
    assert "simulated failure" in res.info["fallback_from"][0]
    assert np.all(np.isfinite(res.map)) and res.map.min() >= 0

    with pytest.raises(RuntimeError, match="every solver failed"):
        L1Inverter(kernel, alpha=1e-3, solver="ECOS", fallback_solver=None).invert(S)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_non_optimal_status_falls_back(tiny, monkeypatch):
    kernel, S = tiny
    original = l1_module._L1Model.solve

    def infeasible(self, S_c, alpha, solver, options):
        if solver == "CLARABEL":
            return None, "infeasible", 3
        return original(self, S_c, alpha, solver, options)

    monkeypatch.setattr(l1_module._L1Model, "solve", infeasible)
    res = L1Inverter(kernel, alpha=1e-3, solver="CLARABEL", fallback_solver="FISTA").invert(S)
    assert res.info["solver"] == "FISTA"


def test_missing_solver_uses_fallback(tiny, monkeypatch):
    kernel, S = tiny
    monkeypatch.setattr(cp, "installed_solvers", lambda: ["CLARABEL", "SCS"])
    res = L1Inverter(kernel, alpha=1e-3, solver="ECOS").invert(S)
    assert res.info["solver"] == "CLARABEL"
    assert res.info["fallback_from"] == ["ECOS: not installed"]
    with pytest.raises(ValueError, match="not available"):
        L1Inverter(kernel, solver="ECOS", fallback_solver=None).invert(S)


def test_fista_convergence_warning(tiny):
    kernel, S = tiny
    comp = kernel.compress()
    with pytest.warns(ConvergenceWarning, match="iteration cap"):
        F, n_iter = fista_l1(comp, comp.project(S), 0.01, max_iter=2)
    assert n_iter == 2 and F.min() >= 0
    with pytest.warns(ConvergenceWarning):
        L1Inverter(kernel, solver="FISTA", max_iter=2).invert(S)


def test_sklearn_clone_and_params(tiny):
    kernel, _ = tiny
    inv = L1Inverter(kernel, alpha="discrepancy", l2=0.1, solver="SCS", fallback_solver=None)
    params = inv.get_params()
    assert params["alpha"] == "discrepancy" and params["l2"] == 0.1
    twin = clone(inv)
    assert twin is not inv and twin.get_params() == params
    twin.set_params(alpha=0.05)
    assert twin.alpha == 0.05 and inv.alpha == "discrepancy"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": -1.0},
        {"alpha": "gcv"},
        {"l2": -0.1},
        {"solver": "NOPE"},
        {"fallback_solver": "NOPE"},
        {"alpha": float("nan")},
    ],
)
def test_invalid_params(tiny, kwargs):
    kernel, S = tiny
    with pytest.raises(ValueError):
        L1Inverter(kernel, **kwargs).invert(S)


def test_problem_is_cached(tiny):
    kernel, S = tiny
    L1Inverter(kernel, alpha=1e-3).invert(S)
    model = l1_module._get_model(kernel, RTOL, 0.0)
    assert l1_module._get_model(kernel, RTOL, 0.0) is model
    assert model.problem.is_dpp()

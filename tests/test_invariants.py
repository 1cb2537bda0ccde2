"""Invariants every inverter must satisfy (issue 7, item 2), plus cross-method solver caps.

* Scaling the data by ``c > 0`` scales the map by ``c`` (inverters normalise internally).
* The same ``random_state`` gives the same result; classical methods are deterministic.
* ``predict`` on a batch equals ``predict`` on each sample.
* The residual an :class:`~laplace_inv.base.InversionResult` reports (``residual``,
  ``relative_residual`` and the solver's own figures in ``info``) equals the recomputed one.
* Every iterative solver emits a ``ConvergenceWarning`` when it stops at its cap, and still
  returns a finite, non-negative map.

The methods are ``tikhonov_global``, ``upen``, ``l1`` (when ``classical/l1.py`` is importable)
and a tiny fitted ``dlemlr`` model (when torch is).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _hypothesis_profiles import n_examples
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from test_properties import (
    METHODS,
    _l1_class,
    available_methods,
    dlemlr_fixture,
    tiny_kernels,
)

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv import simulate as sim

ALL_METHODS = [*available_methods(), "dlemlr"]


def _estimator(method: str, kernel: Kernel2D | None = None) -> tuple[Any, Kernel2D]:
    """The estimator and kernel for ``method`` (DLEMLR has its own fixed, fitted kernel)."""
    if method == "dlemlr":
        fixture = dlemlr_fixture()
        if fixture is None:
            pytest.skip("torch not available")
        return fixture
    kernel = kernel if kernel is not None else _fixed_kernel()
    return METHODS[method](kernel), kernel


def _fixed_kernel() -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 6), n_grid=6),
        KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=6),
    )


def _data(kernel: Kernel2D, seed: int, n: int | None = None, noise: float = 1e-2) -> np.ndarray:
    """Noisy data of random sparse non-negative maps (one dataset, or ``n`` stacked)."""
    rng = np.random.default_rng(seed)
    m = 1 if n is None else n
    F = rng.random((m, *kernel.map_shape)) * (rng.random((m, *kernel.map_shape)) < 0.4)
    F[:, kernel.map_shape[0] // 2, kernel.map_shape[1] // 2] += 1.0
    S = kernel.forward(F)
    S = S / np.abs(S).reshape(m, -1).max(axis=1)[:, None, None]
    S = S + noise * rng.standard_normal(S.shape)
    return S[0] if n is None else S


def _quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _kernel_strategy(method: str) -> st.SearchStrategy:
    return st.just(None) if method == "dlemlr" else tiny_kernels(max_n=8, max_grid=5)


# --------------------------------------------------------------------------------------------
# scaling
# --------------------------------------------------------------------------------------------

# Powers of two, so that ``c·S`` and the internal normalisation are exact: the property is that
# no inverter depends on the absolute data scale. Other factors round ``S/max|S|`` in the last
# bit, and on the degenerate tiny problems drawn here (2 × 2 data) GCV and UPEN have near-ties
# that such a 1-ulp change flips (seen: 2e-5 for Tikhonov-GCV, 1e-2 for UPEN at 1e-16
# relative perturbation); on a 16 × 200 acquisition the same factors agree to 1e-12.
SCALE_FACTORS = (2.0**-830, 2.0**-30, 2.0**-8, 8.0, 2.0**30, 2.0**830)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_scaling_data_scales_map(method: str) -> None:
    @settings(max_examples=n_examples(0.3))
    @given(_kernel_strategy(method), st.integers(0, 2**31), st.sampled_from(SCALE_FACTORS))
    def prop(kernel: Kernel2D | None, seed: int, c: float) -> None:
        est, kernel = _estimator(method, kernel)
        S = _data(kernel, seed)
        F = _quiet(lambda: est.invert(S, noise_std=0.01).map)
        Fc = _quiet(lambda: est.invert(c * S, noise_std=0.01 * c).map)
        assert np.all(np.isfinite(Fc))
        err = np.abs(Fc / c - F).max()
        assert err <= 1e-5 * max(np.abs(F).max(), 1e-300), (
            f"map(c·S)/c differs from map(S) by {err:g} (max {np.abs(F).max():g}) at c={c:g}"
        )

    prop()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_scaling_predict_is_per_sample(method: str) -> None:
    """Each sample is normalised on its own: scaling one sample leaves the others alone."""
    est, kernel = _estimator(method)
    X = _data(kernel, 3, n=3)
    Y = _quiet(lambda: est.predict(X))
    X2 = X.copy()
    X2[1] *= 1e6
    Y2 = _quiet(lambda: est.predict(X2))
    scale = np.abs(Y).max()
    np.testing.assert_allclose(Y2[[0, 2]], Y[[0, 2]], rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(Y2[1] / 1e6, Y[1], rtol=0, atol=1e-5 * np.abs(Y[1]).max())


# --------------------------------------------------------------------------------------------
# determinism and random_state
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", available_methods())
def test_classical_methods_are_deterministic(method: str) -> None:
    est, kernel = _estimator(method)
    S = _data(kernel, 11)
    first = _quiet(lambda: est.invert(S, noise_std=0.01))
    again = _quiet(lambda: clone(est).invert(S, noise_std=0.01))
    # Bit-identical for the direct solvers; cvxpy's warm starts agree to rounding.
    np.testing.assert_allclose(again.map, first.map, rtol=0, atol=1e-12 * np.abs(first.map).max())


def test_dlemlr_same_random_state_same_model() -> None:
    fixture = dlemlr_fixture()
    if fixture is None:
        pytest.skip("torch not available")
    est, kernel = fixture
    prior = sim.PeakPrior(n_peaks=(1, 2), sigma=(0.15, 0.3), margin=0.3, min_separation=0.3)
    X, Y, _ = sim.make_training_set(kernel, 24, prior=prior, random_state=0)
    again = _quiet(lambda: clone(est).fit(X, Y))
    Xt = _data(kernel, 5, n=2)
    np.testing.assert_array_equal(
        _quiet(lambda: again.predict(Xt)), _quiet(lambda: est.predict(Xt))
    )
    other = _quiet(lambda: clone(est).set_params(random_state=1).fit(X, Y))
    assert not np.array_equal(_quiet(lambda: other.predict(Xt)), _quiet(lambda: est.predict(Xt)))


@settings(max_examples=n_examples(0.5))
@given(tiny_kernels(), st.integers(0, 2**31), st.integers(1, 4))
def test_simulation_same_random_state_same_result(kernel: Kernel2D, seed: int, n: int) -> None:
    prior = sim.PeakPrior(n_peaks=(1, 2), margin=0.0, sigma=(0.05, 0.3))
    a = sim.make_training_set(kernel, n, prior=prior, random_state=seed)
    b = sim.make_training_set(kernel, n, prior=prior, random_state=seed)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = sim.make_training_set(kernel, n, prior=prior, random_state=seed + 1)
    assert not np.array_equal(a[0], c[0])
    S = kernel.forward(np.ones(kernel.map_shape))
    np.testing.assert_array_equal(sim.add_noise(S, 50.0, seed)[0], sim.add_noise(S, 50.0, seed)[0])
    gen = np.random.default_rng(seed)
    first = sim.add_noise(S, 50.0, gen)[0]
    assert not np.array_equal(first, sim.add_noise(S, 50.0, gen)[0])  # a Generator advances


# --------------------------------------------------------------------------------------------
# batch == per sample
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_batch_predict_equals_per_sample(method: str) -> None:
    @settings(max_examples=n_examples(0.2))
    @given(
        _kernel_strategy(method),
        st.integers(0, 2**31),
        st.integers(2, 4),
        st.sampled_from(["flat", "3D"]),
    )
    def prop(kernel: Kernel2D | None, seed: int, n: int, layout: str) -> None:
        est, kernel = _estimator(method, kernel)
        X = _data(kernel, seed, n=n)
        X[0] *= 1e-3  # different magnitudes in one batch
        X[-1] = 0.0  # and an all-zero sample
        Xin = X.reshape(n, -1) if layout == "flat" else X
        Y = _quiet(lambda: est.predict(Xin))
        assert Y.shape == (n, kernel.map_shape[0] * kernel.map_shape[1])
        rtol = 1e-5 if method == "dlemlr" else 1e-9
        for i in range(n):
            yi = _quiet(lambda i=i: est.predict(Xin[i : i + 1]))[0]
            tol = rtol * max(np.abs(yi).max(), 1e-300)
            assert np.abs(Y[i] - yi).max() <= tol, f"sample {i} differs in the batch"
        # cvxpy warm starts make repeated solves agree to rounding, not bit for bit.
        np.testing.assert_allclose(
            _quiet(lambda: est.transform(Xin)), Y, rtol=0, atol=rtol * max(np.abs(Y).max(), 1e-300)
        )
        assert not Y[-1].any()

    prop()


# --------------------------------------------------------------------------------------------
# reported residual == recomputed residual
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_reported_residual_matches_recomputed(method: str) -> None:
    @settings(max_examples=n_examples(0.25))
    @given(_kernel_strategy(method), st.integers(0, 2**31), st.sampled_from([1e-3, 1.0, 1e4]))
    def prop(kernel: Kernel2D | None, seed: int, c: float) -> None:
        est, kernel = _estimator(method, kernel)
        S = c * _data(kernel, seed)
        res = _quiet(lambda: est.invert(S, noise_std=0.01 * c))
        offset = float(res.info.get("offset", 0.0))
        fit = kernel.K1 @ res.map @ kernel.K2.T + offset
        r = S - fit
        np.testing.assert_allclose(res.fit, fit, rtol=1e-10, atol=1e-12 * c)
        np.testing.assert_allclose(res.residual, r, rtol=1e-9, atol=1e-12 * c)
        rel = np.linalg.norm(r) / np.linalg.norm(S)
        assert res.relative_residual == pytest.approx(rel, rel=1e-9, abs=1e-15)
        rms = np.sqrt(np.mean(r**2))
        assert res.residual_to_noise == pytest.approx(rms / (0.01 * c), rel=1e-9)
        summary = res.summary()
        assert summary["relative_residual"] == pytest.approx(rel, rel=1e-9, abs=1e-15)
        _check_solver_figures(method, est, kernel, S, res)

    prop()


def _check_solver_figures(method: str, est: Any, kernel: Kernel2D, S: np.ndarray, res: Any) -> None:
    """The solver's own residual figures (on data normalised to max|S| = 1) agree too."""
    scale = np.abs(S).max()
    Sn, Fn = S / scale, res.map / scale
    if method == "upen":
        # R² = ‖K1 F K2ᵀ − S‖² / (N1·N2) on normalised data (classical/upen.py).
        r2 = np.sum((kernel.K1 @ Fn @ kernel.K2.T - Sn) ** 2) / Fn.size
        assert res.info["R2"] == pytest.approx(r2, rel=1e-3, abs=1e-12)
    elif method == "l1" and "objective" in res.info:
        from laplace_inv.classical.l1_fista import l1_objective

        comp = kernel.compress(est.rtol)
        obj = l1_objective(
            comp, comp.project(Sn), Fn, float(res.info["alpha"]), float(res.info.get("l2", 0.0))
        )
        assert res.info["objective"] == pytest.approx(obj, rel=1e-4, abs=1e-10)
    elif method == "tikhonov_global" and "misfit_path" in res.info:
        alphas = np.asarray(res.info["alpha_path"])
        hit = np.flatnonzero(np.isclose(alphas, res.info["alpha"], rtol=1e-12, atol=0))
        if hit.size:  # the chosen α lies on the path: its misfit is the map's misfit
            comp = kernel.compress(est.rtol)
            r = comp.forward(Fn) - comp.project(Sn)
            misfit = res.info["misfit_path"][hit[0]]
            assert misfit == pytest.approx(float(np.sum(r * r)), rel=1e-4, abs=1e-14)


# --------------------------------------------------------------------------------------------
# iteration caps: a ConvergenceWarning from every solver
# --------------------------------------------------------------------------------------------


def _capped() -> list[tuple[str, Callable[[Kernel2D], Any], str]]:
    out: list[tuple[str, Callable[[Kernel2D], Any], str]] = [
        ("BRD", lambda k: TikhonovInverter(k, penalty="global", max_iter=1), "BRD"),
        (
            "FISTA",
            lambda k: TikhonovInverter(k, penalty="global", solver="fista", alpha=1e-6, max_iter=3),
            "FISTA",
        ),
        ("UPEN", lambda k: TikhonovInverter(k, penalty="upen", upen_max_iter=1), "UPEN"),
    ]
    L1 = _l1_class()
    if L1 is not None:
        out.append(("L1 cvxpy", lambda k: L1(k, max_iter=1), "optimal|cap|iteration"))
        out.append(("L1 FISTA", lambda k: L1(k, solver="FISTA", max_iter=2), "cap"))
    return out


@pytest.mark.parametrize("name, factory, match", _capped(), ids=[c[0] for c in _capped()])
def test_every_solver_warns_at_its_cap(name: str, factory: Callable, match: str) -> None:
    kernel = _fixed_kernel()
    S = _data(kernel, 2, noise=1e-3)
    with pytest.warns(ConvergenceWarning, match=match):
        res = factory(kernel).invert(S, noise_std=1e-3)
    assert np.all(np.isfinite(res.map)) and np.all(res.map >= 0)


@pytest.mark.parametrize("method", available_methods())
def test_no_convergence_warning_with_defaults(method: str) -> None:
    """Default caps are generous enough for an easy problem."""
    est, kernel = _estimator(method)
    S = _data(kernel, 4, noise=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.invert(S, noise_std=1e-3)


def test_tikhonov_misfit_counts_every_pair() -> None:
    kernel = Kernel2D(
        KernelAxis("D", np.geomspace(1e8, 1e9, 3), n_grid=3),
        KernelAxis("T2", np.geomspace(0.1, 1, 7), n_grid=5),
    )
    S = 1e-3 * _data(kernel, 1)
    est = TikhonovInverter(kernel, penalty="global", alpha="gcv", alpha_grid=[3e-10])
    res = _quiet(lambda: est.invert(S, noise_std=1e-5))
    scale = np.abs(S).max()
    comp = kernel.compress(est.rtol)
    r = comp.forward(res.map / scale) - comp.project(S / scale)
    assert res.info["misfit_path"][0] == pytest.approx(float(np.sum(r * r)), rel=1e-3)

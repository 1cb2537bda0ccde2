"""The fast global-Tikhonov pieces: Lawson–Hanson NNLS, the active-set Tikhonov solve,
the degrees of freedom, and the discrepancy α by root finding against the α path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls

from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_like
from laplace_inv.solvers.alpha import default_alphas
from laplace_inv.solvers.brd import degrees_of_freedom
from laplace_inv.solvers.discrepancy_root import SupportModel, best_fit
from laplace_inv.solvers.nnls import nnls_gram
from laplace_inv.solvers.tikhonov import global_tikhonov
from laplace_inv.solvers.tikhonov_active import tikhonov_active_set


def _dense(rng: np.random.Generator, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.01, 1, m)[:, None]
    A = np.exp(-t / np.geomspace(0.005, 2, n)[None, :])
    y = A @ np.maximum(rng.standard_normal(n), 0) + 0.01 * rng.standard_normal(m)
    return A, y


@pytest.mark.parametrize("max_add", [1, 8])
def test_nnls_gram_matches_scipy(max_add: int) -> None:
    rng = np.random.default_rng(1)
    A, y = _dense(rng, 40, 60)
    G, b = A.T @ A, A.T @ y
    res = nnls_gram(lambda i: G[np.ix_(i, i)], lambda x: G @ x, b, max_add=max_add)
    ref, _ = nnls(A, y)
    assert res.converged
    assert np.sum((A @ res.map - y) ** 2) == pytest.approx(np.sum((A @ ref - y) ** 2), rel=1e-8)
    assert res.map.min() >= 0


def test_nnls_gram_warm_start_and_cap() -> None:
    rng = np.random.default_rng(2)
    A, y = _dense(rng, 30, 50)
    G, b = A.T @ A, A.T @ y
    blk, app = (lambda i: G[np.ix_(i, i)]), (lambda x: G @ x)
    cold = nnls_gram(blk, app, b)
    warm = nnls_gram(blk, app, b, passive0=cold.map > 0)
    assert warm.iterations == 0 and np.allclose(warm.map, cold.map)
    # A wrong guess (every bin) is repaired by dropping bins.
    assert np.allclose(nnls_gram(blk, app, b, passive0=np.ones(50, bool)).map, cold.map, atol=1e-8)
    assert not nnls_gram(blk, app, b, max_iter=1).converged


@pytest.fixture(scope="module")
def problem():
    sc = cement_like(snr=300, random_state=3)
    S = sc.data / np.abs(sc.data).max()
    op = sc.kernel.compress()
    return sc, op, S, op.project(S)


def test_active_set_agrees_with_brd(problem) -> None:
    _, op, S, S_c = problem

    def objective(F: np.ndarray, alpha: float) -> float:
        r = op.forward(F) - S_c
        return 0.5 * float(np.sum(r * r)) + 0.5 * alpha * float(np.sum(F * F))

    for alpha in (1e-2, 1.0):
        ref = global_tikhonov(op, S, S_c, alpha)  # BRD by continuation
        fast = tikhonov_active_set(op, S_c, alpha)
        assert fast.converged
        assert objective(fast.map, alpha) <= objective(ref.map, alpha) * (1 + 1e-9)
        assert np.linalg.norm(fast.map - ref.map) <= 1e-3 * np.linalg.norm(ref.map)


def test_degrees_of_freedom_equals_trace_formula() -> None:
    rng = np.random.default_rng(4)
    for shape in ((10, 4), (4, 10)):
        Kp, alpha = rng.standard_normal(shape), 0.3
        M = Kp @ Kp.T
        trace = np.trace(M @ np.linalg.inv(M + alpha * np.eye(shape[0])))
        assert degrees_of_freedom(Kp, alpha) == pytest.approx(trace, rel=1e-10)


@pytest.mark.parametrize("n_bins", ["nnls", 1500])
def test_support_model_matches_unconstrained_tikhonov(problem, n_bins) -> None:
    """Both forms (Gram block for few bins, data side for many) give the misfit curve."""
    _, op, _, S_c = problem
    if n_bins == "nnls":
        support = best_fit(op, S_c).support
    else:
        support = np.zeros(op.map_shape, bool)
        support.ravel()[np.random.default_rng(7).choice(support.size, n_bins, False)] = True
    idx = np.flatnonzero(support.ravel())
    rows, cols = np.divmod(idx, op.map_shape[1])
    G = op.gram1[np.ix_(rows, rows)] * op.gram2[np.ix_(cols, cols)]
    b = op.adjoint(S_c).ravel()[idx]
    model = SupportModel(op, S_c, support)

    def misfit(alpha: float) -> float:
        F = np.zeros(op.map_shape)
        F.ravel()[idx] = np.linalg.solve(G + alpha * np.eye(idx.size), b)
        r = op.forward(F) - S_c
        return float(np.sum(r * r))

    a0 = 1.0  # well above the rounding of G + αI when the bins outnumber the data
    for alpha in (3.0, 30.0, 1e3):
        predicted = misfit(a0) + model.excess(alpha) - model.excess(a0)
        assert predicted == pytest.approx(misfit(alpha), rel=1e-5)


@pytest.mark.parametrize("snr", [30, 300, 3000])
def test_discrepancy_root_matches_the_path(snr: int) -> None:
    """The root search picks the α the 13-point path and bisection pick, a little closer to
    the exact root (the path's answer is the lower end of a ~5 % bracket)."""
    sc = cement_like(snr=snr, random_state=5)
    S = sc.data / np.abs(sc.data).max()
    op = sc.kernel.compress()
    S_c = op.project(S)
    sigma = sc.noise_std / np.abs(sc.data).max()
    fast = global_tikhonov(op, S, S_c, "discrepancy", noise_std=sigma)
    path = global_tikhonov(
        op, S, S_c, "discrepancy", noise_std=sigma, alpha_grid=default_alphas(op.lipschitz)
    )
    assert "best_fit_misfit" in fast.info and len(fast.info["alpha_path"]) < 13
    ratio = fast.info["alpha"] / path.info["alpha"]
    assert 0.99 <= ratio <= 1.08
    rel = np.linalg.norm(fast.map - path.map) / np.linalg.norm(path.map)
    assert rel < 0.05


def test_discrepancy_root_one_axis() -> None:
    """A 1D kernel (singleton second axis) goes through the same search."""
    tau = np.geomspace(1e-3, 3, 200)
    grid = np.geomspace(1e-4, 10, 80)
    K1 = np.exp(-tau[:, None] / grid[None, :])
    from laplace_inv.operator import CompressedOperator

    op = CompressedOperator.from_matrices(K1, np.ones((1, 1)), 1e-8)
    F = np.exp(-0.5 * ((np.log10(grid) + 1) / 0.2) ** 2)[:, None]
    rng = np.random.default_rng(6)
    S = K1 @ F + 0.01 * rng.standard_normal((200, 1))
    S = S / np.abs(S).max()
    res = global_tikhonov(op, S, op.project(S), "discrepancy")
    assert res.info["alpha"] > 0 and res.map.min() >= 0 and res.map.shape == (80, 1)


def test_zero_noise_falls_back_to_the_path() -> None:
    k = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=12),
        KernelAxis("T2", np.geomspace(1e-3, 1, 24), n_grid=12),
    )
    op = k.compress()
    S = k.forward(np.eye(12))
    S = S / np.abs(S).max()
    res = global_tikhonov(op, S, op.project(S), "discrepancy", noise_std=0.0)
    assert len(res.info["alpha_path"]) == 13 and res.info["alpha"] > 0

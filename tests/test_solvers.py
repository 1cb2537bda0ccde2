"""The solver layer: one projected-gradient loop, explicit arguments, one result type."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.solvers import SolverResult, nonneg, projected_gradient
from laplace_inv.solvers.tikhonov import global_tikhonov, tikhonov_fista
from laplace_inv.solvers.upen import upen_solve


@pytest.fixture(scope="module")
def problem():
    k = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 20), n_grid=16),
        KernelAxis("T2", np.geomspace(1e-3, 1, 30), n_grid=16),
    )
    F = np.zeros((16, 16))
    F[5, 9] = 1.0
    S = k.forward(F)
    op = k.compress()
    return k, op, S, op.project(S)


@pytest.mark.parametrize("steps", ["fista", "fista_restart", "bb"])
def test_every_step_rule_solves_a_nonneg_least_squares(steps):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = A @ np.abs(rng.standard_normal(10))
    H, c = A.T @ A, A.T @ b
    L = float(np.linalg.eigvalsh(H).max())
    res = projected_gradient(
        lambda x: H @ x - c, nonneg, np.zeros(10), L, steps=steps, max_iter=20000, tol=1e-12
    )
    assert isinstance(res, SolverResult) and res.converged
    from scipy.optimize import nnls

    np.testing.assert_allclose(res.map, nnls(A, b)[0], atol=1e-5)


def test_projected_gradient_runs_on_torch():
    torch = pytest.importorskip("torch")
    H = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    c = torch.tensor([2.0, -1.0], dtype=torch.float64)
    res = projected_gradient(
        lambda x: H @ x - c, nonneg, torch.zeros(2, dtype=torch.float64), 2.0, tol=1e-12
    )
    assert torch.allclose(res.map, torch.tensor([1.0, 0.0], dtype=torch.float64))


def test_unknown_step_rule():
    with pytest.raises(ValueError, match="steps must be one of"):
        projected_gradient(lambda x: x, nonneg, np.zeros(1), 1.0, steps="newton")


def test_global_tikhonov_rules_return_one_result_type(problem):
    _, op, S, S_c = problem
    for alpha in ("gcv", "lcurve", "discrepancy", 1e-4):
        res = global_tikhonov(op, S, S_c, alpha, noise_std=1e-4)
        assert isinstance(res, SolverResult) and res.map.shape == (16, 16)
        assert res.info["alpha"] > 0


def test_fista_and_brd_agree(problem):
    _, op, S, S_c = problem
    brd = global_tikhonov(op, S, S_c, 1e-2).map
    fista = tikhonov_fista(op, S_c, 1e-2, max_iter=50000, tol=1e-10).map
    assert np.linalg.norm(brd - fista) <= 1e-3 * np.linalg.norm(brd)


def test_upen_takes_explicit_arguments(problem):
    _, op, _, S_c = problem
    res = upen_solve(op, S_c, beta0=1e-4, upen_max_iter=50)
    assert isinstance(res, SolverResult)
    assert res.info["beta0"] == 1e-4 and res.iterations == res.info["outer_iterations"]
    assert int(np.argmax(res.map)) == 5 * 16 + 9


def test_positive_gram_tracks_a_changing_support_without_drift():
    from laplace_inv.solvers.brd import (
        PositiveGram,
        degrees_of_freedom,
        degrees_of_freedom_from_gram,
    )

    rng = np.random.default_rng(3)
    K = rng.standard_normal((30, 200))
    gram = PositiveGram(K)
    mask = rng.random(200) < 0.5
    for step in range(40):
        # Mostly small changes (the incremental path), now and then a large one (a refresh).
        flips = rng.random(200) < (0.5 if step % 13 == 0 else 0.03)
        mask = mask ^ flips
        lower = gram.update(mask)
        expected = K[:, mask] @ K[:, mask].T
        np.testing.assert_allclose(np.tril(lower), np.tril(expected), rtol=1e-10, atol=1e-9)
        assert degrees_of_freedom_from_gram(lower, 0.7) == pytest.approx(
            degrees_of_freedom(K[:, mask], 0.7), rel=1e-10
        )

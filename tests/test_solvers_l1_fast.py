"""L1 by the exact active-set method, the compression from the noise, and the certified gap."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.classical.l1 import L1Inverter
from laplace_inv.simulate import cement_kernel, cement_like
from laplace_inv.solvers.l1_active import l1_active_set
from laplace_inv.solvers.l1_cvxpy import solve_l1_cvxpy
from laplace_inv.solvers.l1_fista import duality_gap, l1_objective
from laplace_inv.solvers.l1_rank import noise_ranks, truncated


@pytest.fixture(scope="module")
def small():
    kernel = cement_kernel(24)
    sc = cement_like(kernel, snr=200, random_state=2)
    S = sc.data / np.abs(sc.data).max()
    return kernel, S, sc.noise_std / np.abs(sc.data).max()


@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_active_set_matches_a_tight_conic_solve(small, l2: float) -> None:
    kernel, S, _ = small
    comp = kernel.compress(1e-6)
    S_c = comp.project(S)
    res = l1_active_set(comp, S_c, 0.01, l2)
    ref, status, _ = solve_l1_cvxpy(kernel, S_c, 0.01, l2=l2, rtol=1e-6, tol=1e-10)
    assert res.converged and status == "optimal"
    assert res.info["relative_gap"] <= 1e-8
    obj_ref = l1_objective(comp, S_c, ref, 0.01, l2)
    assert res.info["objective"] <= obj_ref * (1 + 1e-7)
    assert res.info["objective"] == pytest.approx(obj_ref, rel=1e-5)


def test_noise_ranks_follow_the_noise_and_bound_the_error(small) -> None:
    kernel, _, _ = small
    full = kernel.compress(1e-10)
    ranks = [noise_ranks(full, s) for s in (1e-7, 1e-4, 1e-2)]
    assert ranks[0][0] >= ranks[1][0] >= ranks[2][0] and ranks[0][1] >= ranks[2][1]
    assert ranks[0] != ranks[2]
    sigma = 1e-4
    cut = truncated(full, noise_ranks(full, sigma))
    rng = np.random.default_rng(0)
    for _ in range(5):
        F = rng.random(kernel.map_shape) * (rng.random(kernel.map_shape) < 0.1)
        F /= np.linalg.norm(F)  # unit Frobenius norm
        exact = kernel.forward(F)
        approx = cut.U1 @ cut.forward(F) @ cut.U2.T
        assert np.linalg.norm(exact - approx) <= sigma


def test_truncated_is_cached_and_identity_when_full(small) -> None:
    kernel, _, _ = small
    full = kernel.compress()
    assert truncated(full, full.shape) is full
    assert truncated(full, (3, 4)) is truncated(full, (3, 4))


@pytest.mark.parametrize("noise_scale", [1.0, 30.0])
def test_inverter_certifies_the_gap_on_the_problem(small, noise_scale: float) -> None:
    """Whatever the truncation, the reported gap is on the rtol problem and within 1e-4."""
    kernel, S, sigma = small
    res = L1Inverter(kernel).invert(S, noise_std=noise_scale * sigma)
    info = res.info
    assert info["solver"] == "ACTIVE_SET"
    assert info["problem_shape"] == kernel.compress(1e-8).shape
    assert info["compressed_shape"][0] <= info["problem_shape"][0]
    assert info["relative_gap"] <= 1e-4
    full = kernel.compress(1e-8)
    primal, dual = duality_gap(full, full.project(S), res.map, 0.01)
    assert info["objective"] == pytest.approx(primal, rel=1e-9)
    assert info["duality_gap"] == pytest.approx(max(primal - dual, 0.0), rel=1e-6, abs=1e-15)


def test_noise_rank_and_full_rank_agree(small) -> None:
    kernel, S, sigma = small
    a = L1Inverter(kernel).invert(S, noise_std=sigma)
    b = L1Inverter(kernel, rank="rtol").invert(S, noise_std=sigma)
    assert a.info["compressed_shape"] != b.info["compressed_shape"]
    assert a.info["objective"] == pytest.approx(b.info["objective"], rel=1e-4)
    assert np.linalg.norm(a.map - b.map) <= 0.05 * np.linalg.norm(b.map)


def test_bad_rank_rule(small) -> None:
    kernel, S, _ = small
    with pytest.raises(ValueError, match="rank"):
        L1Inverter(kernel, rank="fixed").invert(S)


def test_real_cement_objective_within_half_a_percent_of_a_reference(cement) -> None:
    """Issue 21: gap ≤ 1e-4 relative and the objective within 0.5 % of a tightly converged
    reference solve of the same loss-free compressed problem."""
    S = np.asarray(cement.data, dtype=float)
    res = L1Inverter(cement.kernel).invert(S)
    assert res.info["relative_gap"] <= 1e-4
    Sn = S / np.abs(S).max()
    full = cement.kernel.compress(1e-8)
    S_c = full.project(Sn)
    ref, status, _ = solve_l1_cvxpy(
        cement.kernel, S_c, 0.01, rtol=1e-8, solver="CLARABEL", tol=1e-10
    )
    assert status == "optimal"
    obj_ref = l1_objective(full, S_c, ref, 0.01)
    assert abs(res.info["objective"] / obj_ref - 1) <= 5e-3

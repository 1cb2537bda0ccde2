"""UPEN's penalty acts along the map's real axes: the 2D stencil on 2D maps, the 1D second
difference on maps with a singleton axis (1D decays)."""

from __future__ import annotations

import numpy as np

from laplace_inv.operator import CompressedOperator
from laplace_inv.operator.forms import laplacian, laplacian_matrix
from laplace_inv.solvers.bpp import slope_curvature
from laplace_inv.solvers.upen import upen_solve


def test_two_axes_keep_the_five_point_stencil() -> None:
    F = np.random.default_rng(0).random((5, 7))
    P = np.pad(F, 1)
    five_point = 4 * F - P[:-2, 1:-1] - P[2:, 1:-1] - P[1:-1, :-2] - P[1:-1, 2:]
    assert np.allclose(laplacian(F), five_point)
    assert np.allclose(laplacian_matrix((5, 7)) @ F.ravel(), five_point.ravel())


def test_singleton_axis_gets_the_second_difference() -> None:
    F = np.arange(6.0)[:, None] ** 2
    second = 2 * F[1:-1, 0] - F[:-2, 0] - F[2:, 0]
    assert np.allclose(laplacian(F)[1:-1, 0], second)
    assert np.allclose(laplacian_matrix((6, 1)) @ F.ravel(), laplacian(F).ravel())
    slope, curvature = slope_curvature(np.ones((6, 1)))
    assert np.allclose(slope[:-1], 0.0) and np.allclose(curvature[1:-1], 0.0)


def test_upen_converges_on_a_1d_decay() -> None:
    tau = np.geomspace(1e-4, 3.0, 400)
    grid = np.geomspace(1e-4, 10.0, 100)
    K = np.exp(-tau[:, None] / grid[None, :])
    F = np.exp(-0.5 * ((np.log10(grid) + 1.5) / 0.15) ** 2)
    F += 0.5 * np.exp(-0.5 * ((np.log10(grid) + 0.2) / 0.3) ** 2)
    S = (K @ F)[:, None]
    S = S / np.abs(S).max() + 0.003 * np.random.default_rng(1).standard_normal(S.shape)
    op = CompressedOperator.from_matrices(K, np.ones((1, 1)), 1e-8)
    S_c = op.project(S)
    res = upen_solve(op, S_c, out_of_range2=op.out_of_range_energy(S, S_c))
    assert res.converged and res.info["outer_iterations"] < 30
    peak = grid[int(np.argmax(res.map[:, 0]))]
    assert abs(np.log10(peak) + 1.5) < 0.15

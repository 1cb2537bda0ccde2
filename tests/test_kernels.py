"""Kernel physics, forward/adjoint, compression."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv import Kernel2D, KernelAxis
from laplace_inv.kernels import KINDS, default_grid, kernel_matrix
from laplace_inv.simulate import CEMENT_TAU1, CEMENT_TAU2, cement_kernel


@pytest.fixture(scope="module")
def cement() -> Kernel2D:
    return cement_kernel()


def test_kernel_functions():
    t = np.array([0.0, 1.0])
    x = np.array([1.0])
    assert np.allclose(kernel_matrix("T2", t, x)[:, 0], [1.0, np.exp(-1)])
    assert np.allclose(kernel_matrix("T1_IR", t, x)[:, 0], [-1.0, 1 - 2 * np.exp(-1)])
    assert np.allclose(kernel_matrix("T1_IR", t, x, 0.8)[:, 0], [-0.8, 1 - 1.8 * np.exp(-1)])
    assert np.allclose(kernel_matrix("T1_SR", t, x)[:, 0], [0.0, 1 - np.exp(-1)])
    assert np.allclose(kernel_matrix("D", np.array([2e9]), np.array([1e-9])), np.exp(-2))


def test_default_grids_span_the_acquisition():
    g = default_grid("T2", CEMENT_TAU2)
    assert g.size == 64
    assert np.isclose(g[0], CEMENT_TAU2[0] / 5) and np.isclose(g[-1], 3 * CEMENT_TAU2[-1])
    b = np.array([0.0, 1e8, 1e9])
    gd = default_grid("D", b)
    assert np.isclose(gd[0], 0.1 / 1e9) and np.isclose(gd[-1], 10 / 1e8)
    assert all(KernelAxis(k, CEMENT_TAU1).decades >= 4 for k in ("T2", "T1_IR", "T1_SR"))


def test_dot_product_test(cement):
    rng = np.random.default_rng(0)
    F = rng.standard_normal((3, *cement.map_shape))
    S = rng.standard_normal((3, *cement.data_shape))
    lhs = np.sum(cement.forward(F) * S)
    rhs = np.sum(F * cement.adjoint(S))
    assert abs(lhs - rhs) <= 1e-10 * abs(rhs)


def test_batched_forward_matches_single(cement):
    F = np.random.default_rng(1).random((2, *cement.map_shape))
    batch = cement.forward(F)
    assert np.allclose(batch[1], cement.forward(F[1]))


def test_gram_matrices(cement):
    assert np.allclose(cement.gram1, cement.K1.T @ cement.K1)
    assert cement.gram2.shape == (64, 64)


def test_compression_reproduces_forward_and_shrinks(cement):
    comp = cement.compress()
    assert comp.shape[0] <= 40 and comp.shape[1] <= 40
    rng = np.random.default_rng(2)
    for _ in range(5):
        F = rng.random(cement.map_shape)
        full = cement.forward(F)
        approx = comp.U1 @ comp.forward(F) @ comp.U2.T
        assert np.linalg.norm(full - approx) <= 1e-8 * np.linalg.norm(full)
    assert cement.compress() is comp  # cached


def test_compressed_gram_form_matches_adjoint(cement):
    comp = cement.compress()
    F = np.random.default_rng(3).random(cement.map_shape)
    assert np.allclose(comp.gram_apply(F), comp.adjoint(comp.forward(F)))


def test_out_of_range_norm_of_pure_signal_is_tiny(cement):
    S = cement.forward(np.random.default_rng(4).random(cement.map_shape))
    assert cement.compress().out_of_range_norm(S) <= 1e-7 * np.linalg.norm(S)


@pytest.mark.parametrize(
    ("tau", "message"),
    [
        ([3.0, 2.0, 1.0], "strictly increasing"),
        ([1.0, 1.0, 2.0], "duplicate"),
        ([-1.0, 1.0], "non-negative"),
        ([], "empty"),
        ([np.nan, 1.0], "NaN"),
        ([[1.0, 2.0]], "1D"),
    ],
)
def test_bad_acquisition_axes(tau, message):
    with pytest.raises(ValueError, match=message):
        KernelAxis("T2", tau)


def test_complex_or_text_axis_is_a_type_error():
    with pytest.raises(TypeError, match="complex"):
        KernelAxis("T2", np.array([1.0, 2.0]) + 1j)
    with pytest.raises(TypeError, match="non-numeric"):
        KernelAxis("T2", ["a", "b"])


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown kernel kind 'T3'"):
        KernelAxis("T3", [1.0, 2.0])
    assert set(KINDS) == {"T2", "T1_IR", "T1_SR", "D"}


def test_bad_grid_and_efficiency():
    with pytest.raises(ValueError, match="positive"):
        KernelAxis("T2", [1.0, 2.0], grid=[0.0, 1.0])
    with pytest.raises(ValueError, match="efficiency only applies"):
        KernelAxis("T2", [1.0, 2.0], efficiency=0.8)
    with pytest.raises(ValueError, match="efficiency must lie"):
        KernelAxis("T1_IR", [1.0, 2.0], efficiency=-1)


def test_kernel2d_checks(cement):
    with pytest.raises(TypeError, match="axis1 must be a KernelAxis"):
        Kernel2D("T2", cement.axis2)
    with pytest.raises(ValueError, match="F must have shape"):
        cement.forward(np.ones((3, 3)))
    with pytest.raises(ValueError, match="S must have shape"):
        cement.adjoint(np.ones(cement.data_shape[::-1]))


def test_equality_and_refinement(cement):
    assert cement == cement_kernel()
    fine = cement.refined(2)
    assert fine.map_shape == (127, 127) and fine != cement

"""The compressed operator: factors kept apart, forms, noise estimate, caching, torch view."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from laplace_inv import CompressedOperator, CompressedProblem, Kernel2D, KernelAxis
from laplace_inv.kernels import CompressedProblem as KernelsCompressedProblem
from laplace_inv.operator import AxisFactor, laplacian


@pytest.fixture(scope="module")
def kernel():
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 16), n_grid=24),
        KernelAxis("T2", np.arange(1, 121) * 1e-3, n_grid=20),
    )


def test_old_name_is_the_operator(kernel):
    assert CompressedProblem is CompressedOperator is KernelsCompressedProblem
    assert isinstance(kernel.compress(), CompressedOperator)
    assert kernel.compress() is kernel.compress()


def test_factors_are_kept_apart(kernel):
    op = kernel.compress()
    for factor, K, Kc in ((op.axis1, kernel.K1, op.K1), (op.axis2, kernel.K2, op.K2)):
        assert isinstance(factor, AxisFactor)
        np.testing.assert_allclose(factor.V.T @ factor.V, np.eye(factor.rank), atol=1e-12)
        np.testing.assert_allclose(factor.s[:, None] * factor.Vt, Kc)
        np.testing.assert_allclose(factor.U @ Kc, K, atol=1e-6 * np.abs(K).max())


def test_linear_maps_and_gram(kernel):
    op = kernel.compress()
    rng = np.random.default_rng(0)
    F = rng.random(op.map_shape)
    S = kernel.forward(F)
    np.testing.assert_allclose(op.project(S), op.forward(F), atol=1e-10)
    np.testing.assert_allclose(op.gram_apply(F), op.adjoint(op.forward(F)), atol=1e-8)
    assert op.lipschitz == pytest.approx(
        np.linalg.norm(op.K1, 2) ** 2 * np.linalg.norm(op.K2, 2) ** 2
    )


def test_noise_estimate(kernel):
    op = kernel.compress()
    rng = np.random.default_rng(1)
    S = kernel.forward(rng.random(op.map_shape)) + 0.01 * rng.standard_normal(kernel.data_shape)
    assert op.noise_std(S) == pytest.approx(0.01, rel=0.1)
    assert op.noise_dof == S.size - op.shape[0] * op.shape[1]


def test_padded_and_pair_forms(kernel):
    op = kernel.compress()
    K1p, K2p = op.padded()
    assert K1p.shape == (24, 24) and K2p.shape == (20, 20)
    np.testing.assert_array_equal(K1p[: op.shape[0]], op.K1)
    S_c = op.project(np.ones(kernel.data_shape))
    np.testing.assert_array_equal(op.pad(S_c)[: op.shape[0], : op.shape[1]], S_c)
    pairs = op.pairs()
    assert pairs is op.pairs()
    F = np.random.default_rng(2).random(op.map_shape)
    np.testing.assert_allclose(pairs.K @ F.ravel(), op.forward(F)[pairs.pairs])


def test_laplacian_form(kernel):
    op = kernel.compress()
    F = np.random.default_rng(3).random(op.map_shape)
    np.testing.assert_allclose(op.laplacian() @ F.ravel(), laplacian(F).ravel())


def test_one_axis_operator():
    """A 1D kernel: the second axis is a singleton with kernel 1."""
    K = np.exp(-np.outer(np.geomspace(1e-3, 1, 50), 1 / np.geomspace(1e-3, 1, 30)))
    op = CompressedOperator.from_matrices(K, np.ones((1, 1)), 1e-8)
    f = np.random.default_rng(4).random((30, 1))
    assert op.shape[1] == 1 and op.map_shape == (30, 1)
    np.testing.assert_allclose(op.U1 @ op.forward(f) @ op.U2.T, K @ f, atol=1e-8)


def test_torch_view(kernel):
    torch = pytest.importorskip("torch")
    op = kernel.compress()
    t = op.to_torch("cpu", torch.float64)
    np.testing.assert_allclose(t.V1.numpy(), op.axis1.V)
    np.testing.assert_allclose(t.K2.numpy(), op.K2)
    F = torch.rand(op.map_shape, dtype=torch.float64)
    np.testing.assert_allclose(t.forward(F).numpy(), op.forward(F.numpy()), atol=1e-12)
    np.testing.assert_allclose(t.s2_products.numpy(), np.outer(op.s1, op.s2) ** 2, rtol=1e-12)


def test_pickle_keeps_the_operator_usable(kernel):
    op = kernel.compress()
    op.pairs()
    copy = pickle.loads(pickle.dumps(op))
    np.testing.assert_array_equal(copy.K1, op.K1)
    np.testing.assert_array_equal(copy.pairs().K, op.pairs().K)

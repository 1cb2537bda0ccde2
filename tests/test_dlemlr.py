"""Tests of the DLEMLR network, dual loss, features, estimator and shipped weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from laplace_inv.dlemlr.admm import SpectralOperator, nonneg_tikhonov_admm
from laplace_inv.dlemlr.compressed import problem
from laplace_inv.dlemlr.consistency import ConsistencySettings, data_consistency
from laplace_inv.dlemlr.dataset import FeatureSet, make_feature_set
from laplace_inv.dlemlr.estimator import (
    INPUT_VERSION,
    REFINE_STEPS,
    WEIGHTS_DIR,
    DLEMLRInverter,
    DLEMLRNeuralNet,
    WarmupCosine,
    sha256_file,
)
from laplace_inv.dlemlr.features import (
    NNT_SCALES,
    NOISE_FLOOR,
    compute_inputs,
    padded_problem,
    project_data,
    project_with_noise,
)
from laplace_inv.dlemlr.loss import dual_loss, region_mass_error
from laplace_inv.dlemlr.net import build_net
from laplace_inv.dlemlr.network import (
    DLEMLRNet,
    Projector,
    Tokenizer,
    TransformerEncoder,
    n_parameters,
)
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import PeakPrior, cement_kernel, make_training_set

torch.set_num_threads(1)  # tiny problems: one thread avoids contention

TINY_PRIOR = PeakPrior(n_peaks=(1, 2), sigma=(0.1, 0.3), margin=0.3, min_separation=0.3)
TINY = dict(dim=16, depth=1, heads=2, patch=4, n_iter_phys=20)


@pytest.fixture(scope="module")
def tiny_kernel() -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 8), n_grid=16),
        KernelAxis("T2", np.arange(1, 51) * 1e-3, n_grid=16),
    )


@pytest.fixture(scope="module")
def tiny_data(tiny_kernel):
    X, Y, _ = make_training_set(tiny_kernel, 240, prior=TINY_PRIOR, random_state=1)
    Xv, Yv, _ = make_training_set(tiny_kernel, 60, prior=TINY_PRIOR, random_state=2)
    return X, Y, Xv, Yv


@pytest.fixture(scope="module")
def tiny_fitted(tiny_kernel, tiny_data):
    X, Y, _, _ = tiny_data
    est = DLEMLRInverter(
        kernel=tiny_kernel, max_epochs=6, lr=3e-3, batch_size=8, random_state=0, **TINY
    )
    return est.fit(X, Y)


# --------------------------------------------------------------------------------------
# network parts
def test_tokenizer_shape_and_positional_encoding():
    tok = Tokenizer(4, (64, 64), 8, 128)
    out = tok(torch.zeros(3, 4, 64, 64))
    assert out.shape == (3, 64, 128)
    # Constant input: tokens differ only by the fixed positional encoding.
    assert not torch.allclose(out[0, 0], out[0, 1])
    assert tok.pos.shape == (64, 128)
    with pytest.raises(ValueError, match="divisible"):
        Tokenizer(4, (60, 64), 8, 128)


def test_tokenizer_shared_kernel_channels_equal_repeated_ones():
    tok = Tokenizer(3, (16, 16), 4, 32, kernel_channels=2)
    x, g = torch.randn(5, 3, 16, 16), torch.randn(1, 2, 16, 16)
    shared = tok(x, g)
    repeated = tok(x, g.expand(5, -1, -1, -1))
    assert shared.shape == (5, 16, 32)
    assert torch.allclose(shared, repeated, atol=1e-6)
    with pytest.raises(ValueError, match="kernel channels"):
        tok(x)


def test_encoder_and_projector_shapes():
    enc = TransformerEncoder(64, depth=2, heads=4, mlp_dim=128)
    assert enc(torch.randn(2, 16, 64)).shape == (2, 16, 64)
    proj = Projector(64, (16, 32), 4, n_candidates=2)
    with torch.no_grad():
        proj.linear.weight.normal_()
    m = proj(torch.randn(2, 32, 64), -torch.rand(2, 2, 16, 32))
    assert m.shape == (2, 16, 32)
    assert bool((m >= 0).all())
    with pytest.raises(ValueError, match="2 candidate maps"):
        proj(torch.randn(2, 32, 64), torch.rand(2, 3, 16, 32))


def test_full_network_shape_and_size():
    net = DLEMLRNet()
    z = torch.rand(2, 64, 64)
    nnt = torch.rand(2, len(NNT_SCALES), 64, 64)
    inputs = dict(nnt=nnt, bp=z, scalars=torch.zeros(2, 2), gram1=z, gram2=z)
    assert net(**inputs).shape == (2, 64, 64)
    assert n_parameters(net) < 3_000_000
    # Zero-initialised projector: the untrained network returns the channels' mean.
    assert torch.allclose(net(**inputs), nnt.mean(dim=1), atol=1e-6)


# --------------------------------------------------------------------------------------
# loss
def test_dual_loss_equals_formula():
    g = torch.Generator().manual_seed(0)
    f = torch.rand(3, 4, 5, generator=g)
    F = torch.rand(3, 4, 5, generator=g)
    K1 = torch.rand(2, 4, generator=g)
    K2 = torch.rand(3, 5, generator=g)
    S = torch.rand(3, 2, 3, generator=g)
    npts = torch.tensor([6.0, 10.0, 12.0])
    got = dual_loss(
        f, F.reshape(3, -1), K1, K2, S, npts, w_data=0.4, w_phys=1.0, scale=2.0, relative=False
    )
    want = 0.0
    for b in range(3):
        data = np.mean((f[b] - F[b]).numpy() ** 2)
        res = K1.numpy() @ f[b].numpy() @ K2.numpy().T - S[b].numpy()
        want += 0.4 * data + 1.0 * np.sum(res**2) / float(npts[b])
    want = 2.0 * want / 3
    assert float(got) == pytest.approx(want, rel=1e-5)


def test_relative_dual_loss_equals_formula():
    g = torch.Generator().manual_seed(1)
    f = torch.rand(3, 4, 5, generator=g)
    F = torch.rand(3, 4, 5, generator=g) * 1e-3  # tiny map values must not matter
    K1 = torch.rand(2, 4, generator=g)
    K2 = torch.rand(3, 5, generator=g)
    S = torch.rand(3, 2, 3, generator=g)
    got, d, p = dual_loss(f, F.reshape(3, -1), K1, K2, S, 6.0, return_terms=True)
    want_d = want_p = 0.0
    for b in range(3):
        want_d += np.sum((f[b] - F[b]).numpy() ** 2) / np.sum(F[b].numpy() ** 2) / 3
        res = K1.numpy() @ f[b].numpy() @ K2.numpy().T - S[b].numpy()
        want_p += np.sum(res**2) / np.sum(S[b].numpy() ** 2) / 3
    assert float(d) == pytest.approx(want_d, rel=1e-5)
    assert float(p) == pytest.approx(want_p, rel=1e-5)
    assert float(got) == pytest.approx(0.4 * want_d + want_p, rel=1e-5)


def test_region_mass_error_equals_formula():
    g = torch.Generator().manual_seed(2)
    f = torch.rand(3, 4, 5, generator=g)
    F = torch.rand(3, 4, 5, generator=g)
    labels = torch.randint(0, 3, (3, 20), generator=g).to(torch.float16)  # stored as floats
    got = region_mass_error(f, F.reshape(3, -1), labels).numpy()
    for b in range(3):
        lab = labels[b].numpy().astype(int)
        diff = (f[b] - F[b]).numpy().ravel()
        want = sum(diff[lab == j].sum() ** 2 for j in range(3)) / F[b].sum().item() ** 2
        assert got[b] == pytest.approx(want, rel=1e-5)
    # Moving mass inside a region costs nothing; moving it across regions does.
    F1 = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    lab = torch.tensor([[0, 0, 1, 1]])
    assert float(region_mass_error(torch.tensor([[[0.0, 1.0], [0.0, 1.0]]]), F1, lab)) == 0.0
    assert float(region_mass_error(torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]), F1, lab)) > 0.0


def test_neuralnet_get_loss_adds_region_mass_term(tiny_kernel):
    kw = dict(
        module__grid=(16, 16),
        module__patch=4,
        module__dim=16,
        module__depth=1,
        module__heads=2,
        criterion=torch.nn.MSELoss,
        w_data=0.4,
        w_phys=1.0,
    )
    plain = DLEMLRNeuralNet(DLEMLRNet, **kw).initialize()
    massy = DLEMLRNeuralNet(DLEMLRNet, w_mass=3.0, **kw).initialize()
    X, Y, _, labels = make_training_set(
        tiny_kernel, 2, prior=TINY_PRIOR, random_state=4, return_labels=True
    )
    S = X.reshape(2, *tiny_kernel.data_shape)
    data = make_feature_set(tiny_kernel, S, Y, labels=labels, n_iter=2)
    feats, F = data.batch(), torch.from_numpy(Y).float()
    f = torch.from_numpy(np.random.default_rng(0).random((2, 16, 16))).float()
    extra = 3.0 * region_mass_error(f, F, feats["labels"]).mean()
    got = massy.get_loss(f, F, X=feats) - plain.get_loss(f, F, X=feats)
    assert float(got) == pytest.approx(float(extra), rel=1e-4)
    with pytest.raises(ValueError, match="labels"):
        massy.get_loss(f, F, X=make_feature_set(tiny_kernel, S, Y, n_iter=2).batch())
    with pytest.raises(ValueError, match="labels must be"):
        make_feature_set(tiny_kernel, S, Y, labels=labels[:, :5], n_iter=2)


def test_spectral_operator_is_the_compressed_operators_svd(tiny_kernel):
    prob = problem(tiny_kernel)
    op = prob.spectral("cpu", torch.float64)
    comp = tiny_kernel.compress()
    assert prob.operator is comp
    assert prob.spectral("cpu", torch.float64) is op
    np.testing.assert_array_equal(op.V1.numpy(), comp.axis1.V)
    np.testing.assert_array_equal(op.V2.numpy(), comp.axis2.V)
    np.testing.assert_allclose(op.s2.numpy(), np.outer(comp.s1, comp.s2) ** 2, rtol=1e-14)
    # The padded kernels are diag(s) Vᵀ: rows of norm s, directions V.
    r1, r2 = op.rank
    K1 = op.V1.numpy().T * comp.s1[:, None]
    np.testing.assert_allclose(prob.K1p[:r1], K1, rtol=1e-12, atol=1e-14 * comp.s1[0])
    assert not prob.K1p[r1:].any() and not prob.K2p[r2:].any()
    assert isinstance(SpectralOperator.from_operator(comp.to_torch()), SpectralOperator)


def test_admm_converges_to_the_nonnegative_tikhonov_solution(tiny_kernel):
    from scipy.optimize import nnls

    X, _, _ = make_training_set(tiny_kernel, 2, prior=TINY_PRIOR, snr=300, random_state=3)
    S = X.reshape(2, *tiny_kernel.data_shape)
    S = S / np.abs(S).max(axis=(1, 2), keepdims=True)
    K1p, K2p = padded_problem(tiny_kernel)
    Sp = project_data(tiny_kernel, S)
    op = problem(tiny_kernel).spectral("cpu", torch.float64)
    alpha = np.array([1e-3, 1e-2])
    rho = torch.full((10_000,), 300.0, dtype=torch.float64)
    Z = nonneg_tikhonov_admm(op, torch.from_numpy(Sp), torch.from_numpy(alpha), rho).numpy()
    # Direct solution: NNLS on [K; √α I] f = [s; 0] with K = K1p ⊗ K2p (C-order vec).
    K = np.kron(K1p, K2p)
    n = K.shape[1]
    for b in range(2):
        A = np.vstack([K, np.sqrt(alpha[b]) * np.eye(n)])
        rhs = np.concatenate([Sp[b].ravel(), np.zeros(n)])
        want = nnls(A, rhs, maxiter=50 * n)[0]
        assert Z[b].min() >= 0
        got_obj = np.sum((A @ Z[b].ravel() - rhs) ** 2)
        want_obj = np.sum((A @ want - rhs) ** 2)
        assert got_obj == pytest.approx(want_obj, rel=1e-6)
        np.testing.assert_allclose(Z[b].ravel(), want, atol=1e-4 * np.abs(want).max())


def test_admm_groups_and_penalty_changes_do_not_change_the_iterates(tiny_kernel, monkeypatch):
    import laplace_inv.dlemlr.admm as admm

    X, _, _ = make_training_set(tiny_kernel, 5, prior=TINY_PRIOR, snr=300, random_state=4)
    S = X.reshape(5, *tiny_kernel.data_shape)
    Sp = torch.from_numpy(project_data(tiny_kernel, S / np.abs(S).max(axis=(1, 2))[:, None, None]))
    op = problem(tiny_kernel).spectral("cpu", torch.float64)
    alpha = torch.tensor([1e-3, 1e-2, 3e-3, 1e-4, 3e-2], dtype=torch.float64)
    # Per-sample penalties that change every iteration (the dual is rescaled each time).
    rho = torch.from_numpy(np.geomspace([1e5, 3e3, 1e4, 300, 3e3], [300, 3e3, 30, 300, 3e4], 40))
    whole = nonneg_tikhonov_admm(op, Sp, alpha, rho)
    N1, N2 = tiny_kernel.map_shape
    monkeypatch.setattr(admm, "CACHE_BLOCK", 2 * N1 * N2)  # groups of two maps, then one
    grouped = nonneg_tikhonov_admm(op, Sp, alpha, rho)
    np.testing.assert_allclose(grouped.numpy(), whole.numpy(), rtol=0, atol=1e-12)
    # The textbook iteration (Z and U apart) gives the same maps.
    Sc = Sp[:, : op.rank[0], : op.rank[1]]
    s_Sc = op.s2.sqrt() * Sc
    a = alpha.reshape(-1, 1, 1)
    rhos = rho * alpha[None, :]
    Z = torch.clamp(op.from_spectral(s_Sc / (op.s2 + a + rhos[0].reshape(-1, 1, 1))), min=0.0)
    U = torch.zeros_like(Z)
    for k, r in enumerate(rhos):
        r = r.reshape(-1, 1, 1)
        if k:
            U = U * rhos[k - 1].reshape(-1, 1, 1) / r
        c = a + r
        W = Z - U
        F = op.from_spectral(r * (1 / (op.s2 + c) - 1 / c) * op.to_spectral(W) + s_Sc / (op.s2 + c))
        F = F + r / c * W
        T = 1.6 * F + (1 - 1.6) * Z + U
        Z, U = torch.clamp(T, min=0.0), T - torch.clamp(T, min=0.0)
    np.testing.assert_allclose(whole.numpy(), Z.numpy(), rtol=0, atol=1e-9 * float(Z.abs().max()))


def test_noise_estimate_from_the_out_of_range_data():
    k = cement_kernel()
    X, _, sigma = make_training_set(k, 4, snr=(30.0, 3000.0), random_state=7)
    S = X.reshape(4, *k.data_shape)
    scales = np.abs(S).reshape(4, -1).max(axis=1)
    _, est = project_with_noise(k, S, scales=scales)
    np.testing.assert_allclose(est, sigma / scales, rtol=0.03)
    # Noise-free data: the floor keeps the Tikhonov weights positive.
    clean = k.forward(np.ones(k.map_shape))[None]
    _, est0 = project_with_noise(k, clean / np.abs(clean).max())
    assert est0[0] == NOISE_FLOOR


def test_projection_and_noise_are_the_operators():
    k = cement_kernel()
    op = k.compress()
    X, _, _ = make_training_set(k, 3, snr=(30.0, 3000.0), random_state=8)
    S = X.reshape(3, *k.data_shape)
    scales = np.abs(S).reshape(3, -1).max(axis=1)
    Sp, sigma = project_with_noise(k, S, scales=scales)
    Sn = S / scales[:, None, None]
    # Two BLAS libraries: agreement to rounding of the largest entries.
    np.testing.assert_allclose(
        Sp, op.pad(op.project(Sn)), rtol=1e-12, atol=1e-14 * np.abs(Sp).max()
    )
    want = [op.noise_std(s) for s in Sn]
    np.testing.assert_allclose(sigma, want, rtol=1e-9)
    energy = [op.out_of_range_energy(s) / op.noise_dof for s in Sn]
    np.testing.assert_allclose(sigma**2, energy, rtol=1e-9)


def test_physics_term_equals_full_in_range_residual(tiny_kernel):
    rng = np.random.default_rng(0)
    F = rng.random((2, *tiny_kernel.map_shape))
    S = rng.random((2, *tiny_kernel.data_shape))
    data = make_feature_set(tiny_kernel, S, F.reshape(2, -1), physics_target="noisy", n_iter=1)
    feats = data.batch()
    comp = tiny_kernel.compress()
    full = tiny_kernel.forward(F) - comp.U1 @ comp.U1.T @ S @ comp.U2 @ comp.U2.T
    want = np.mean(np.sum(full**2, axis=(1, 2)) / S[0].size)
    got = dual_loss(
        torch.from_numpy(F).float(),
        torch.from_numpy(F).float(),
        feats["K1"],
        feats["K2"],
        feats["S"],
        feats["npts"],
        w_data=0.0,
        w_phys=1.0,
        scale=1.0,
        relative=False,
    )
    assert float(got) == pytest.approx(want, rel=1e-4)


def test_neuralnet_get_loss_adds_physics_term(tiny_kernel):
    net = DLEMLRNeuralNet(
        DLEMLRNet,
        module__grid=(16, 16),
        module__patch=4,
        module__dim=16,
        module__depth=1,
        module__heads=2,
        criterion=torch.nn.MSELoss,
        w_data=0.0,
        w_phys=1.0,
    ).initialize()
    rng = np.random.default_rng(0)
    S = rng.random((2, *tiny_kernel.data_shape))
    F = torch.from_numpy(rng.random((2, 16, 16))).float()
    clean = make_feature_set(tiny_kernel, S, F.reshape(2, -1).numpy(), n_iter=2)
    noisy = make_feature_set(
        tiny_kernel, S, F.reshape(2, -1).numpy(), physics_target="noisy", n_iter=2
    )
    # The clean target is the decay of the true map: zero physics loss at the truth.
    assert float(net.get_loss(F, F.reshape(2, -1), X=clean.batch())) < 1e-10
    # The noisy target is the data: only the physics term is weighted, and it is positive.
    assert float(net.get_loss(F, F.reshape(2, -1), X=noisy.batch())) > 0.01


# --------------------------------------------------------------------------------------
# features
def test_features_independent_of_layout():
    k_a = cement_kernel()
    k_b = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 32)), KernelAxis("T2", np.arange(1, 4097) * 5e-5)
    )
    rng = np.random.default_rng(0)
    shapes = []
    for k in (k_a, k_b):
        S = rng.standard_normal((2, *k.data_shape))
        feats, _ = make_feature_set(k, S / np.abs(S).max(), np.ones((2, 64 * 64)), n_iter=5)[1]
        shapes.append({name: np.shape(v) for name, v in feats.items()})
        assert all(np.isfinite(v).all() for v in feats.values())
    assert shapes[0] == shapes[1]
    assert shapes[0]["nnt"] == (len(NNT_SCALES), 64, 64)


def test_feature_sets_concatenate_with_their_layouts(tiny_kernel):
    other = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 12), n_grid=16),
        KernelAxis("T2", np.arange(1, 31) * 2e-3, n_grid=16),
    )
    parts = []
    for k, seed in ((tiny_kernel, 1), (other, 2)):
        X, Y, _ = make_training_set(k, 3, prior=TINY_PRIOR, random_state=seed)
        S = X.reshape(3, *k.data_shape)
        parts.append(make_feature_set(k, S / np.abs(S).max(), Y, n_iter=2))
    both = FeatureSet.concat(parts)
    assert len(both) == 6
    np.testing.assert_array_equal(both[4][0]["K1"], parts[1][1][0]["K1"])
    np.testing.assert_array_equal(both.batch([0, 5])["K2"][1], parts[1].layouts["K2"][0])
    with pytest.raises(ValueError, match="layout"):
        FeatureSet(parts[0].samples, parts[0].layouts, np.array([0, 0, 1]), parts[0].maps)


def test_inputs_fold_the_scaling_into_the_projection(tiny_kernel):
    X, _, _ = make_training_set(tiny_kernel, 3, prior=TINY_PRIOR, random_state=4)
    S = X.reshape(3, *tiny_kernel.data_shape)
    scales = np.abs(S).reshape(3, -1).max(axis=1)
    folded = compute_inputs(tiny_kernel, S, scales=scales, n_iter=5)
    direct = compute_inputs(tiny_kernel, S / scales[:, None, None], n_iter=5)
    for key in ("nnt", "bp", "scalars", "gram1", "gram2", "sigma"):
        np.testing.assert_allclose(folded[key], direct[key], rtol=1e-4, atol=1e-6)
    # The training features share the inference channels.
    train = make_feature_set(tiny_kernel, S / scales[:, None, None], np.ones((3, 256)), n_iter=5)
    np.testing.assert_allclose(train.samples["nnt"], direct["nnt"], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(train[1][0]["gram1"], direct["gram1"][0])


def _consistency_case(kernel, n=4):
    X, _, _ = make_training_set(kernel, n, prior=TINY_PRIOR, snr=1e6, random_state=3)
    S = X.reshape(n, *kernel.data_shape)
    K1p, K2p = padded_problem(kernel)
    op = problem(kernel).spectral("cpu", torch.float64)
    Sp = torch.from_numpy(project_data(kernel, S))
    r1, r2 = op.rank
    return op, Sp[:, :r1, :r2], torch.from_numpy(K1p)[:r1], torch.from_numpy(K2p)[:r2]


def test_data_consistency_fits_the_data_and_keeps_a_fitting_prior(tiny_kernel):
    op, Sc, k1, k2 = _consistency_case(tiny_kernel)
    target = 1e-4 * (Sc**2).flatten(1).sum(dim=1)
    out = data_consistency(op, Sc, torch.zeros(4, 16, 16, dtype=torch.float64), target)
    F = out.maps
    assert bool((F >= 0).all())
    misfit = ((k1 @ F @ k2.T - Sc) ** 2).flatten(1).sum(dim=1)
    torch.testing.assert_close(misfit, out.misfit_after)
    assert bool((misfit < 0.05**2 * (Sc**2).flatten(1).sum(dim=1)).all())
    assert set(out.stop) <= {"target", "stagnation"}
    # A non-negative map that already reproduces its data is kept as it is.
    exact = k1 @ F @ k2.T
    again = data_consistency(op, exact, F, torch.full((4,), 1e-12, dtype=torch.float64))
    assert again.stop == ["prior"] * 4
    torch.testing.assert_close(again.maps, F)
    assert int(again.iterations.sum()) == 0


def test_data_consistency_stops_each_map_by_its_own_rule(tiny_kernel):
    op, Sc, _, _ = _consistency_case(tiny_kernel)
    prior = torch.zeros(4, 16, 16, dtype=torch.float64)
    energy = (Sc**2).flatten(1).sum(dim=1)
    # A loose target for the first two maps, an unreachable one for the others.
    target = torch.cat([0.5 * energy[:2], torch.zeros(2, dtype=torch.float64)])
    settings = ConsistencySettings(max_iter=60)
    out = data_consistency(op, Sc, prior, target, settings)
    assert out.stop[:2] == ["target", "target"]
    assert bool((out.misfit_after[:2] <= target[:2]).all())
    assert set(out.stop[2:]) <= {"stagnation", "cap"}
    assert bool((out.iterations <= settings.max_iter).all())
    # A loose target stops at a larger λ, i.e. nearer the prior, than a strict one.
    assert bool((out.lam[:2] > out.lam[2:]).all())
    assert bool((out.iterations[:2] < out.iterations[2:]).all())


# --------------------------------------------------------------------------------------
# estimator
def test_short_training_lowers_validation_loss(tiny_kernel, tiny_data, tiny_fitted):
    _, _, Xv, Yv = tiny_data
    est = tiny_fitted
    assert est.predict(Xv).shape == (60, 16 * 16)
    untrained = DLEMLRInverter(kernel=tiny_kernel, random_state=0, **TINY)
    torch.manual_seed(0)
    untrained.net_ = build_net(untrained.get_params(), tiny_kernel.map_shape).initialize()

    def val_loss(e):
        data = e.make_features(Xv, Yv)
        f = data.batch()
        with torch.no_grad():
            pred = e.net_.module_(**f)
        return float(e.net_.get_loss(pred, torch.from_numpy(data.maps), X=f))

    assert val_loss(est) < 0.98 * val_loss(untrained)
    assert len(est.history_) == 6


def test_warmup_schedule_trains(tiny_kernel, tiny_data):
    X, Y, _, _ = tiny_data
    est = DLEMLRInverter(
        kernel=tiny_kernel, max_epochs=2, warmup_steps=5, batch_size=40, random_state=0, **TINY
    ).fit(X[:120], Y[:120])
    assert len(est.history_) == 2
    assert np.isfinite(est.history_[-1]["valid_loss"])


def test_inference_batch_size_does_not_change_maps(tiny_data, tiny_fitted):
    _, _, Xv, _ = tiny_data
    whole = clone_fitted(tiny_fitted, batch_size=len(Xv)).predict(Xv)
    chunked = clone_fitted(tiny_fitted, batch_size=7).predict(Xv)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6 * np.abs(whole).max())


def clone_fitted(est: DLEMLRInverter, **params) -> DLEMLRInverter:
    """A copy of a fitted estimator sharing its network, with changed parameters."""
    import copy

    other = copy.copy(est)
    for name, value in params.items():
        setattr(other, name, value)
    return other


def test_warmup_cosine_anneals_over_the_time_budget(monkeypatch):
    clock = iter([0.0, 0.0, 50.0, 100.0])
    monkeypatch.setattr("laplace_inv.dlemlr.net.time.perf_counter", lambda: next(clock))
    f = WarmupCosine(1, 10_000, seconds=100.0)
    assert f(0) == 1.0  # warm-up (starts the clock)
    assert f(1) == pytest.approx(1.0)  # t = 0 s
    assert f(2) == pytest.approx(0.5)  # half the time budget
    assert f(3) == pytest.approx(0.0)  # budget spent, long before 10 000 steps


def test_save_load_round_trip(tmp_path, tiny_kernel, tiny_data, tiny_fitted):
    _, _, Xv, _ = tiny_data
    path = tiny_fitted.save(tmp_path / "m.safetensors")
    loaded = DLEMLRInverter.load(path, tiny_kernel)
    np.testing.assert_array_equal(loaded.predict(Xv[:8]), tiny_fitted.predict(Xv[:8]))
    assert loaded.get_params()["dim"] == TINY["dim"]
    # Another grid over the same range: the network runs on its own 16 x 16 grid and the
    # raw maps move to the 32 x 32 grid with their mass.
    finer = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 8), n_grid=32),
        KernelAxis("T2", np.arange(1, 51) * 1e-3, n_grid=32),
    )
    assert finer.grid1[[0, -1]].tolist() == tiny_kernel.grid1[[0, -1]].tolist()
    fine = DLEMLRInverter.load(path, finer, refine=False).predict(Xv[:8])
    coarse = loaded.set_params(refine=False).predict(Xv[:8])
    assert fine.shape == (8, 32 * 32)
    np.testing.assert_allclose(fine.sum(axis=1), coarse.sum(axis=1), rtol=1e-10)


def test_weights_for_another_input_version_are_refused_but_can_be_fine_tuned(
    tmp_path, tiny_kernel, tiny_data, tiny_fitted
):
    from safetensors.torch import load_file, save_file

    from laplace_inv.dlemlr.persistence import read_weights

    def _read_config(path):
        return dict(read_weights(path).config)

    X, Y, _, _ = tiny_data
    path = tiny_fitted.save(tmp_path / "m.safetensors")
    cfg = _read_config(path)
    del cfg["input_version"]  # as written before the version existed
    old = tmp_path / "old.safetensors"
    save_file(load_file(str(path)), str(old), metadata={"config": json.dumps(cfg)})
    with pytest.raises(ValueError, match="input version 1"):
        DLEMLRInverter.load(old, tiny_kernel)
    # Fine-tuning carries a model over to the current input.
    tuned = DLEMLRInverter(
        kernel=tiny_kernel, max_epochs=1, batch_size=40, init_weights=old, random_state=0, **TINY
    ).fit(X[:80], Y[:80])
    reloaded = DLEMLRInverter.load(tuned.save(tmp_path / "tuned.safetensors"), tiny_kernel)
    assert _read_config(tmp_path / "tuned.safetensors")["input_version"] == INPUT_VERSION
    np.testing.assert_allclose(reloaded.predict(X[:2]), tuned.predict(X[:2]), rtol=1e-6)


def test_fine_tuning_starts_from_the_given_weights(tmp_path, tiny_kernel, tiny_data, tiny_fitted):
    X, Y, Xv, _ = tiny_data
    path = tiny_fitted.save(tmp_path / "m.safetensors")
    # A learning rate of zero keeps the loaded weights: same maps as the saved model.
    tuned = DLEMLRInverter(
        kernel=tiny_kernel,
        max_epochs=1,
        lr=0.0,
        batch_size=40,
        init_weights=path,
        random_state=0,
        **TINY,
    ).fit(X[:80], Y[:80])
    np.testing.assert_allclose(
        tuned.predict(Xv[:4]), tiny_fitted.predict(Xv[:4]), rtol=1e-6, atol=1e-9
    )
    other = {**TINY, "dim": 8}
    with pytest.raises(ValueError, match=r"init_weights .* architecture"):
        DLEMLRInverter(kernel=tiny_kernel, max_epochs=1, init_weights=path, **other).fit(
            X[:80], Y[:80]
        )


@pytest.mark.parametrize("steps", [REFINE_STEPS, 15])
def test_refine_lowers_residual(tiny_kernel, tiny_data, tiny_fitted, tmp_path, steps):
    _, _, Xv, _ = tiny_data
    path = tiny_fitted.save(tmp_path / "m.safetensors")
    est = DLEMLRInverter.load(path, tiny_kernel, refine_steps=steps)
    assert est.refine is True  # data consistency is the default
    res = est.invert(Xv[0].reshape(tiny_kernel.data_shape))
    info = res.info
    assert info["refined"] is True and info["refine_steps"] == steps
    assert info["residual_to_noise_after"] <= info["residual_to_noise_before"]
    assert 0 <= info["consistency_iterations"] <= steps
    assert info["consistency_stop"] in ("prior", "target", "stagnation", "cap", "lambda_min")
    assert info["consistency_lambda"] > 0
    assert (res.map >= 0).all()
    raw = est.set_params(refine=False).invert(Xv[0].reshape(tiny_kernel.data_shape))
    assert raw.info["refined"] is False and "consistency_lambda" not in raw.info
    assert res.residual_to_noise <= raw.residual_to_noise + 1e-9


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"refine": "yes"}, TypeError, "refine must be True"),
        ({"refine_steps": -1}, ValueError, "refine_steps"),
        ({"refine_steps": 2.5}, TypeError, "refine_steps"),
    ],
)
def test_refine_parameters_are_validated(
    tiny_kernel, tiny_data, tiny_fitted, tmp_path, params, error, match
):
    _, _, Xv, _ = tiny_data
    path = tiny_fitted.save(tmp_path / "m.safetensors")
    est = DLEMLRInverter.load(path, tiny_kernel, **params)
    with pytest.raises(error, match=match):
        est.invert(Xv[0].reshape(tiny_kernel.data_shape))


def test_unfitted_raises(tiny_kernel):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DLEMLRInverter(kernel=tiny_kernel).predict(np.ones((1, 8 * 50)))


def test_sklearn_params_and_clone(tiny_kernel):
    from sklearn.base import clone

    est = DLEMLRInverter(kernel=tiny_kernel, w_data=0.2)
    assert clone(est).get_params()["w_data"] == 0.2


# --------------------------------------------------------------------------------------
# shipped weights
SHIPPED = WEIGHTS_DIR / "all.safetensors"
LAYOUTS = {
    "cement": cement_kernel,
    "IR 32x4096": lambda: Kernel2D(
        KernelAxis("T1_IR", np.geomspace(5e-4, 2, 32)), KernelAxis("T2", np.arange(1, 4097) * 5e-5)
    ),
    "SR 20x500": lambda: Kernel2D(
        KernelAxis("T1_SR", np.geomspace(1e-3, 3, 20)), KernelAxis("T2", np.arange(1, 501) * 2e-4)
    ),
    "T2-T2 40x800": lambda: Kernel2D(
        KernelAxis("T2", np.geomspace(2e-4, 0.5, 40)), KernelAxis("T2", np.arange(1, 801) * 2e-4)
    ),
    "D-T2 16x1000": lambda: Kernel2D(
        KernelAxis("D", np.linspace(1e8, 3e10, 16)), KernelAxis("T2", np.arange(1, 1001) * 1e-4)
    ),
}


@pytest.mark.skipif(not SHIPPED.exists(), reason="pretrained weights not shipped yet")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_from_pretrained_any_layout_and_family(layout):
    k = LAYOUTS[layout]()
    est = DLEMLRInverter.from_pretrained(kernel=k)
    X, _, _ = make_training_set(k, 2, random_state=123)
    P = est.predict(X)
    assert P.shape == (2, 64 * 64)
    assert np.isfinite(P).all() and (P >= 0).all()


@pytest.mark.skipif(not SHIPPED.exists(), reason="pretrained weights not shipped yet")
def test_shipped_record_matches_weights():
    record = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert record["sha256"] == sha256_file(SHIPPED)
    assert SHIPPED.stat().st_size < 20e6
    for key in ("config", "training", "validation"):
        assert key in record
    assert record["config"]["input_version"] == INPUT_VERSION


@pytest.mark.slow
def test_training_command_end_to_end(tmp_path):
    from laplace_inv.dlemlr.train import train_main

    rc = train_main(
        [
            "--n-train",
            "512",
            "--n-test",
            "64",
            "--epochs",
            "2",
            "--dim",
            "32",
            "--depth",
            "1",
            "--heads",
            "2",
            "--out",
            str(tmp_path),
            "--verbose",
            "0",
        ]
    )
    assert rc == 0
    assert (tmp_path / "all.safetensors").exists()
    k = cement_kernel()
    est = DLEMLRInverter.from_pretrained(kernel=k, weights_dir=tmp_path)
    X, _, _ = make_training_set(k, 1, random_state=5)
    assert np.isfinite(est.predict(X)).all()

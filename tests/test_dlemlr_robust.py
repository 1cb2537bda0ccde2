"""DLEMLR on bad input: training pairs, hostile data, large batches, threads, devices."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

import laplace_inv.dlemlr as dlemlr_package
from laplace_inv.dlemlr import DLEMLRInverter
from laplace_inv.dlemlr.persistence import WEIGHTS_DIR
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_kernel, make_training_set

TINY = dict(dim=16, depth=1, heads=2, patch=4, n_iter_phys=10)
SHIPPED = WEIGHTS_DIR / "all.safetensors"
needs_shipped = pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped weights")


def _kernel(n2: int = 50) -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 8), n_grid=16),
        KernelAxis("T2", np.arange(1, n2 + 1) * 1e-3, n_grid=16),
    )


@pytest.fixture(scope="module")
def pairs():
    torch.set_num_threads(1)
    X, Y, _ = make_training_set(_kernel(), 24, random_state=1)
    return X, Y


@pytest.fixture(scope="module")
def tiny_file(pairs, tmp_path_factory) -> Path:
    X, Y = pairs
    est = DLEMLRInverter(_kernel(), max_epochs=1, batch_size=8, random_state=0, **TINY)
    return est.fit(X, Y).save(tmp_path_factory.mktemp("w") / "m.safetensors")


# ------------------------------------------------------------------------------------------
# defect 16: bad training input
def test_target_with_nan_is_refused(pairs):
    X, Y = pairs
    Y = Y.copy()
    Y[3, 5] = np.nan
    with pytest.raises(ValueError, match="map 3 holds NaN"):
        DLEMLRInverter(_kernel(), max_epochs=1, **TINY).fit(X, Y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"valid_fraction": 1.5}, r"valid_fraction must lie in \[0, 1\)"),
        ({"valid_fraction": -0.1}, "valid_fraction"),
        ({"max_epochs": 0}, "max_epochs must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"n_iter_phys": -1}, "n_iter_phys must be at least 1"),
        ({"device": "bogus"}, "device must be a torch device"),
        ({"physics_target": "x"}, "physics_target"),
    ],
)
def test_bad_training_parameters_are_refused_before_work(pairs, params, match):
    X, Y = pairs
    with pytest.raises((ValueError, TypeError), match=match):
        DLEMLRInverter(_kernel(), **{**TINY, **params}).fit(X, Y)


def test_too_few_pairs_for_validation_are_refused(pairs):
    X, Y = pairs
    with pytest.raises(ValueError, match="too few"):
        DLEMLRInverter(_kernel(), max_epochs=1, valid_fraction=0.5, **TINY).fit(X[:1], Y[:1])


def test_training_without_validation_works(pairs):
    X, Y = pairs
    est = DLEMLRInverter(
        _kernel(), max_epochs=2, valid_fraction=0, batch_size=8, random_state=0, **TINY
    )
    est.fit(X, Y)
    assert len(est.history_) == 2 and "valid_loss" not in est.history_[0]
    assert np.isfinite(est.predict(X[:2])).all()


def test_training_that_never_validates_finitely_gives_a_clear_error(pairs, monkeypatch):
    import laplace_inv.dlemlr.net as net_module

    real = net_module.DLEMLRNeuralNet.get_loss

    def nan_loss(self, *args, **kwargs):
        return real(self, *args, **kwargs) * float("nan")

    monkeypatch.setattr(net_module.DLEMLRNeuralNet, "get_loss", nan_loss)
    X, Y = pairs
    with pytest.raises(ValueError, match="never reached a finite validation loss"):
        DLEMLRInverter(_kernel(), max_epochs=1, batch_size=8, **TINY).fit(X, Y)


# ------------------------------------------------------------------------------------------
# defects 6, 7: maps worse than zero warn; subnormal data invert
def test_map_worse_than_zero_warns_and_says_so_in_the_result(tiny_file):
    k = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 3, 8), n_grid=16),
        KernelAxis("T2", np.arange(1, 51) * 1e-3, n_grid=16),
    )
    X, _, _ = make_training_set(k, 1, random_state=2)
    est = DLEMLRInverter.load(tiny_file, k)
    with pytest.warns(UserWarning, match="worse than an all-zero map"):
        res = est.invert(-np.abs(X[0].reshape(k.data_shape)))
    assert "worse than an all-zero map" in res.info["warning"]
    good = est.invert(np.abs(X[0].reshape(k.data_shape)))
    assert "warning" not in good.info


@needs_shipped
def test_pretrained_warns_when_no_nonnegative_map_can_fit():
    k = Kernel2D(
        KernelAxis("T2", np.geomspace(2e-4, 0.5, 40)), KernelAxis("T2", np.arange(1, 801) * 2e-4)
    )
    X, _, _ = make_training_set(k, 1, random_state=3)
    est = DLEMLRInverter.from_pretrained(k)
    with pytest.warns(UserWarning, match="all-zero"):
        res = est.invert(-np.abs(X[0].reshape(k.data_shape)))
    assert res.relative_residual > 1.0 and "warning" in res.info
    # Data a non-negative map can explain (even negative IR data) raise no warning.
    cement = cement_kernel()
    Xc, _, _ = make_training_set(cement, 1, random_state=3)
    assert (
        "warning" not in est.set_params(kernel=cement).invert(Xc[0].reshape(cement.data_shape)).info
    )


def test_subnormal_data_invert_like_normal_data(tiny_file, pairs):
    X, _ = pairs
    est = DLEMLRInverter.load(tiny_file, _kernel(), refine=True, refine_steps=5)
    scale = np.abs(X[:2]).max(axis=1, keepdims=True)
    normal = est.predict(X[:2] / scale)
    tiny = est.predict(X[:2] / scale * 1e-310)
    assert np.isfinite(tiny).all()
    np.testing.assert_allclose(tiny / 1e-310, normal, rtol=1e-6, atol=1e-12 * normal.max())


# ------------------------------------------------------------------------------------------
# defect 14: a memmap is read chunk by chunk
def test_memmap_batch_is_read_in_chunks(tiny_file, tmp_path):
    k = _kernel(n2=500)
    n = 600
    path = tmp_path / "X.npy"
    X, _, _ = make_training_set(k, 8, random_state=4)
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, X.shape[1]))
    big[:] = np.tile(X, (n // 8, 1))
    big.flush()
    del big
    est = DLEMLRInverter.load(tiny_file, k)
    est.predict(np.load(path, mmap_mode="r")[:8])  # warm up caches
    whole = n * X.shape[1] * 8
    tracemalloc.start()
    maps = est.predict(np.load(path, mmap_mode="r"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert maps.shape == (n, 256)
    assert peak < 0.6 * whole, f"peak {peak / 1e6:.1f} MB for a {whole / 1e6:.1f} MB batch"
    np.testing.assert_allclose(maps[:8], est.predict(X), rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------------------
# threads: a scoped count, restored afterwards
def test_small_batches_run_on_one_scoped_thread(tiny_file, pairs, monkeypatch):
    X, _ = pairs
    est = DLEMLRInverter.load(tiny_file, _kernel())
    torch.set_num_threads(2)
    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: seen.append(n) or real(n))
    est.predict(X[:1])
    assert seen == [1, 2] and torch.get_num_threads() == 2
    seen.clear()
    est.set_params(n_jobs=1).predict(X[:10])  # serial chunks, each scoped
    assert seen and seen == [1, 2] * (len(seen) // 2) and torch.get_num_threads() == 2
    seen.clear()
    est.set_params(n_jobs=None).predict(X[:10])
    assert seen == []  # larger batches keep torch's threads
    real(1)


# ------------------------------------------------------------------------------------------
# device-generic by construction (issue 21 item 3)
TENSOR_FACTORIES = re.compile(
    r"torch\.(zeros|ones|empty|full|tensor|as_tensor|arange|eye|linspace|rand|randn)\("
)


def test_every_tensor_factory_names_its_device():
    """Tensors made from scratch say where (``device=``) or copy it (``*_like``)."""
    offenders = []
    for path in sorted(Path(dlemlr_package.__file__).parent.glob("*.py")):
        text = path.read_text()
        for match in TENSOR_FACTORIES.finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            line = text[line_start : text.find("\n", match.end())]
            if line.lstrip().startswith((">>>", "...")):
                continue  # doctest examples
            depth, end = 1, match.end()
            while depth and end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            call = text[match.start() : end]
            if "device" not in call:
                offenders.append(f"{path.name}: {call}")
    assert offenders == []


class _MetaCheckedNet:
    """Training steps run with "meta" as the default device: any tensor made without
    ``device=`` lands there and mixing it with the real ones fails at once."""

    @staticmethod
    def install(monkeypatch):
        import laplace_inv.dlemlr.net as net_module

        base = net_module.DLEMLRNeuralNet

        class Checked(base):
            def train_step_single(self, batch, **kwargs):
                with torch.device("meta"):
                    return super().train_step_single(batch, **kwargs)

            def validation_step(self, batch, **kwargs):
                with torch.device("meta"):
                    return super().validation_step(batch, **kwargs)

        monkeypatch.setattr(net_module, "DLEMLRNeuralNet", Checked)


def test_training_validation_and_evaluation_create_no_default_device_tensor(monkeypatch):
    from laplace_inv.dlemlr.simulation import simulate_features
    from laplace_inv.dlemlr.train import _map_errors

    _MetaCheckedNet.install(monkeypatch)
    data = simulate_features(
        "T1_IR-T2", 24, 0, n_grid=16, n_iter=5, labels=True, physics_target="noisy"
    )
    est = DLEMLRInverter(
        _kernel(),
        max_epochs=2,
        batch_size=8,
        w_mass=0.1,
        physics_target="noisy",
        warmup_steps=2,
        random_state=0,
        **{**TINY, "n_iter_phys": 5},
    ).fit(data)
    assert len(est.history_) == 2
    with torch.device("meta"):
        errors = _map_errors(est, data)
    assert all(np.isfinite(v) for v in errors.values())


@pytest.mark.parametrize("refine", [True, False], ids=["consistency", "raw"])
def test_inference_creates_no_default_device_tensor(tiny_file, pairs, refine):
    X, _ = pairs
    est = DLEMLRInverter.load(tiny_file, _kernel(), refine=refine)
    expected = est.predict(X[:3])
    with torch.device("meta"):
        maps = est.predict(X[:3])
    # A tensor left on the default (meta) device would fail or give garbage; the
    # data-consistency step's float32 iterations may differ in the last digits.
    atol = (1e-6 if refine else 1e-7) * expected.max()
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=atol)

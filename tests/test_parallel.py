"""Batch inversion at scale: chunked/joblib ``predict``, reduced outputs, Dask, worker failure.

Serial, joblib and Dask runs must agree to 1e-12 for the classical methods (they invert
each sample independently, one BLAS thread per solve) and to float32 rounding for DLEMLR.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import sys
import time
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv.base import PEAK_DTYPE, invert_chunk, peak_table
from laplace_inv.simulate import PeakPrior, make_training_set

HAS_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(
    not HAS_DASK,
    reason="dask[array,distributed] is not installed (pip install 'laplace-inv[dask]')",
)
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_L1 = importlib.util.find_spec("laplace_inv.classical.l1") is not None

PRIOR = PeakPrior(n_peaks=(1, 2), sigma=(0.1, 0.3), margin=0.3, min_separation=0.3)
KERNEL = Kernel2D(
    KernelAxis("T1_IR", np.geomspace(1e-3, 3, 8), n_grid=16),
    KernelAxis("T2", np.arange(1, 51) * 1e-3, n_grid=16),
)
CLASSICAL_TOL = 1e-12


def _data(n: int, seed: int = 0) -> np.ndarray:
    X, _, _ = make_training_set(KERNEL, n, prior=PRIOR, snr=300.0, random_state=seed)
    X[3] = 0.0  # a zero sample exercises the zero-data path in every chunking
    return X


def _classical(name: str):
    if name == "tikhonov":
        return TikhonovInverter(KERNEL, penalty="global", alpha="gcv")
    if name == "tikhonov-fixed":
        return TikhonovInverter(KERNEL, penalty="global", alpha=1e-4)
    if name == "upen":
        return TikhonovInverter(KERNEL, penalty="upen", upen_max_iter=5)
    if name == "l1":
        from laplace_inv.classical.l1 import L1Inverter

        return L1Inverter(KERNEL)
    raise AssertionError(name)


CLASSICAL = [
    "tikhonov",
    "upen",
    pytest.param("l1", marks=pytest.mark.skipif(not HAS_L1, reason="L1Inverter not built yet")),
]


def _quiet(fn, *args, **kwargs):
    """Run quietly with one BLAS thread, as joblib and Dask tasks do.

    TikhonovInverter limits itself to one thread; an inverter that leaves BLAS threaded
    (L1's cvxpy path today) is not reproducible at 1e-12 even from one serial call to
    the next, so the serial reference is taken on one thread too.
    """
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return _data(12)


@pytest.fixture(scope="module")
def serial(X) -> dict[str, np.ndarray]:
    """Reference maps: the historical one-call serial ``predict``."""
    return {}


def _reference(serial: dict, name: str, X: np.ndarray) -> np.ndarray:
    if name not in serial:
        serial[name] = _quiet(_classical(name).predict, X)
    return serial[name]


def _assert_close(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    scale = max(float(np.abs(b).max()), 1e-300)
    assert a.shape == b.shape
    assert float(np.abs(a - b).max()) <= tol * scale


# --------------------------------------------------------------------------------------
# predict: chunks, joblib, reduced outputs
@pytest.mark.parametrize("name", CLASSICAL)
def test_joblib_matches_serial(name, X, serial):
    ref = _reference(serial, name, X)
    est = _classical(name)
    chunked = _quiet(est.predict, X, chunk_size=5)
    parallel = _quiet(est.predict, X, n_jobs=2, chunk_size=3)
    _assert_close(chunked, ref, CLASSICAL_TOL)
    _assert_close(parallel, ref, CLASSICAL_TOL)
    assert np.all(ref[3] == 0)


def test_reduced_outputs_match_full_maps(X, serial):
    ref = _reference(serial, "tikhonov", X)
    est = _classical("tikhonov")
    maps32 = _quiet(est.predict, X, n_jobs=2, chunk_size=4, output="maps32")
    assert maps32.dtype == np.float32
    np.testing.assert_array_equal(maps32, ref.astype(np.float32))
    P1, P2 = _quiet(est.predict, X, chunk_size=5, output="projections")
    maps = ref.reshape(len(X), *KERNEL.map_shape)
    _assert_close(P1, maps.sum(axis=2), CLASSICAL_TOL)
    _assert_close(P2, maps.sum(axis=1), CLASSICAL_TOL)
    table = _quiet(
        est.predict, X, n_jobs=2, chunk_size=5, output="peaks", peak_kwargs={"min_fraction": 0.02}
    )
    expected = peak_table(maps, KERNEL.grid1, KERNEL.grid2, min_fraction=0.02, kernel=KERNEL)
    assert table.dtype == PEAK_DTYPE and len(table) == len(expected) > len(X) - 2
    for field in PEAK_DTYPE.names:
        np.testing.assert_allclose(table[field], expected[field], rtol=1e-9, atol=1e-12)
    assert 3 not in set(table["sample"].tolist())  # the zero sample has no peak


def test_estimator_n_jobs_attribute_and_joblib_context(X, serial):
    import joblib

    ref = _reference(serial, "tikhonov", X)
    est = _classical("tikhonov")
    est.n_jobs = 2  # an inverter with an n_jobs parameter gets parallel predict for free
    _assert_close(_quiet(est.predict, X), ref, CLASSICAL_TOL)
    est = _classical("tikhonov")
    with joblib.parallel_config(backend="loky", n_jobs=2):
        _assert_close(_quiet(est.predict, X), ref, CLASSICAL_TOL)


def test_streaming_from_memmap(tmp_path, X, serial):
    ref = _reference(serial, "tikhonov", X)
    path = tmp_path / "decays.npy"
    np.save(path, X.reshape(len(X), *KERNEL.data_shape).astype(np.float64))
    mm = np.load(path, mmap_mode="r")
    est = _classical("tikhonov")
    parts = list(_quiet(est.iter_predict, mm, chunk_size=5, output="maps32"))
    assert [start for start, _ in parts] == [0, 5, 10]
    assert [len(p) for _, p in parts] == [5, 5, 2]
    np.testing.assert_array_equal(np.concatenate([p for _, p in parts]), ref.astype(np.float32))


def test_workers_reuse_the_shipped_compression(monkeypatch, X):
    """A pickled estimator (what a worker receives) must not recompute the SVD."""
    import laplace_inv.kernels as kernels

    est = TikhonovInverter(KERNEL, penalty="global", alpha=1e-4)
    shared = est._shared_state()
    assert shared["compressed"], "the compression is computed before dispatch"
    copy = pickle.loads(pickle.dumps(est))
    assert copy.kernel._compressed == {}  # Kernel2D drops its cache when pickled

    def boom(*args, **kwargs):
        raise AssertionError("compression recomputed in a worker")

    monkeypatch.setattr(kernels, "_truncated_svd", boom)
    first = invert_chunk(copy, X[:2], shared=shared)
    second = invert_chunk(pickle.loads(pickle.dumps(est)), X[2:4], shared=shared)
    np.testing.assert_array_equal(np.vstack([first, second]), est.predict(X[:4]))


def test_argument_errors(X):
    est = _classical("tikhonov-fixed")
    with pytest.raises(ValueError, match="output must be one of"):
        est.predict(X, output="map")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        est.predict(X, chunk_size=0)
    with pytest.raises(ValueError, match="n_jobs must be"):
        est.predict(X, n_jobs=0)
    with pytest.raises(ValueError, match="features per sample"):
        est.predict(X[:, :-1], n_jobs=2)
    bad = X.copy()
    bad[7, 0] = np.nan
    with pytest.raises(ValueError):
        est.predict(bad, chunk_size=4)


# --------------------------------------------------------------------------------------
# Dask
def test_missing_dask_names_the_extra(monkeypatch):
    from laplace_inv import parallel

    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"laplace-inv\[dask\]"):
        parallel.import_dask_array()


@needs_dask
@pytest.mark.parametrize("name", ["tikhonov", "upen"])
def test_dask_map_blocks_matches_serial(name, X, serial):
    import dask
    import dask.array as da

    from laplace_inv.parallel import invert_dask

    ref = _reference(serial, name, X)
    est = _classical(name)
    Xd = da.from_array(X, chunks=(5, -1))
    with dask.config.set(scheduler="sync"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps = invert_dask(est, Xd).compute()
        P1, P2 = dask.compute(*invert_dask(est, Xd, output="projections"))
        table = invert_dask(est, Xd.reshape(len(X), *KERNEL.data_shape), output="peaks").compute()
    _assert_close(maps, ref, CLASSICAL_TOL)
    maps3 = ref.reshape(len(X), *KERNEL.map_shape)
    _assert_close(P1, maps3.sum(axis=2), CLASSICAL_TOL)
    _assert_close(P2, maps3.sum(axis=1), CLASSICAL_TOL)
    expected = peak_table(maps3, KERNEL.grid1, KERNEL.grid2)
    np.testing.assert_array_equal(table["sample"], expected["sample"])
    np.testing.assert_allclose(table["mass"], expected["mass"], rtol=1e-9)


@pytest.fixture(scope="module")
def client():
    if not HAS_DASK:
        pytest.skip("dask[array,distributed] is not installed (pip install 'laplace-inv[dask]')")
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=3,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _n_blocks_done(dask_scheduler, prefix: str) -> int:
    return sum(
        1
        for key, ts in dask_scheduler.tasks.items()
        if ts.state == "memory" and str(key).find(prefix) >= 0
    )


def _exit_soon() -> None:
    """Kill this worker process 50 ms from now (after replying), like a crash."""
    import threading

    threading.Timer(0.05, os._exit, args=(1,)).start()


@needs_dask
def test_local_cluster_survives_a_killed_worker(client):
    """Three loopback workers; one dies mid-run; the job completes with identical maps."""
    import dask.array as da

    from laplace_inv.parallel import invert_dask

    X = _data(36, seed=5)
    est = TikhonovInverter(KERNEL, penalty="global", alpha="gcv")
    ref = _quiet(est.predict, X)
    Y = invert_dask(est, da.from_array(X, chunks=(2, -1)))
    prefix = Y.name.split("-")[0]
    pids_before = client.run(os.getpid)

    future = client.compute(Y)
    deadline = time.monotonic() + 45
    victim = None
    while victim is None and time.monotonic() < deadline and not future.done():
        done = client.run_on_scheduler(_n_blocks_done, prefix=prefix)
        busy = [addr for addr, keys in client.processing().items() if keys]
        if done >= 1 and busy:
            victim = busy[0]
        else:
            time.sleep(0.02)
    assert victim is not None, "the job finished (or stalled) before a worker could be killed"
    client.run(_exit_soon, workers=[victim])  # hard kill: no cleanup, no goodbye

    result = future.result(timeout=60)
    _assert_close(result, ref, CLASSICAL_TOL)
    np.testing.assert_array_equal(result, ref)  # in fact bit-identical
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if pids_before[victim] not in client.run(os.getpid).values():
            break
        time.sleep(0.1)
    assert pids_before[victim] not in client.run(os.getpid).values()


@needs_dask
def test_joblib_dask_backend_matches_serial(client, X, serial):
    import joblib

    ref = _reference(serial, "tikhonov", X)
    est = _classical("tikhonov")
    with joblib.parallel_config(backend="dask"):
        maps = _quiet(est.predict, X, chunk_size=4)
    _assert_close(maps, ref, CLASSICAL_TOL)


# --------------------------------------------------------------------------------------
# DLEMLR: batched network, float32
@pytest.fixture(scope="module")
def dlemlr():
    if not HAS_TORCH:
        pytest.skip("torch is not installed")
    from laplace_inv.dlemlr import DLEMLRInverter

    Xt, Yt, _ = make_training_set(KERNEL, 48, prior=PRIOR, random_state=3)
    est = DLEMLRInverter(
        kernel=KERNEL,
        dim=16,
        depth=1,
        heads=2,
        patch=4,
        n_iter_phys=20,
        max_epochs=1,
        batch_size=16,
        valid_fraction=0.25,
        random_state=0,
    )
    return _quiet(est.fit, Xt, Yt)


FLOAT32_TOL = 1e-5  # float32 rounding of the network, relative to the largest map value


def test_dlemlr_chunked_and_joblib_match_serial(dlemlr, X):
    ref = dlemlr.predict(X)
    _assert_close(dlemlr.predict(X, chunk_size=5), ref, FLOAT32_TOL)
    _assert_close(dlemlr.predict(X, n_jobs=2, chunk_size=4), ref, FLOAT32_TOL)
    m32 = dlemlr.predict(X, n_jobs=2, chunk_size=6, output="maps32")
    _assert_close(m32.astype(np.float64), ref, FLOAT32_TOL)


@needs_dask
def test_dlemlr_dask_matches_serial(dlemlr, X):
    import dask
    import dask.array as da

    from laplace_inv.parallel import invert_dask

    ref = dlemlr.predict(X)
    with dask.config.set(scheduler="sync"):
        maps = invert_dask(dlemlr, da.from_array(X, chunks=(6, -1))).compute()
    _assert_close(maps, ref, FLOAT32_TOL)


def test_dlemlr_cuda_falls_back_to_cpu_with_a_warning():
    """``device="cuda"`` trains and predicts on the GPU if there is one, else warns and uses
    the CPU (this test runs on CPU-only CI)."""
    if not HAS_TORCH:
        pytest.skip("torch is not installed")
    import torch

    from laplace_inv.dlemlr import DLEMLRInverter

    Xt, Yt, _ = make_training_set(KERNEL, 16, prior=PRIOR, random_state=4)
    est = DLEMLRInverter(
        kernel=KERNEL,
        dim=16,
        depth=1,
        heads=2,
        patch=4,
        n_iter_phys=5,
        max_epochs=1,
        batch_size=8,
        valid_fraction=0.25,
        random_state=0,
        device="cuda",
    )
    if torch.cuda.is_available():
        est.fit(Xt, Yt)
        assert next(est.net_.module_.parameters()).is_cuda
    else:
        with pytest.warns(UserWarning, match="(?i)cuda"):
            est.fit(Xt, Yt)
        assert not next(est.net_.module_.parameters()).is_cuda
    assert est.predict(Xt[:2]).shape == (2, 256)

"""The thread policy: how many threads a worker gets, and limits that restore and nest."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_info

from laplace_inv.threads import (
    ENV_THREADS,
    available_cpus,
    current_limit,
    limit_threads,
    machine_load,
    resolve_threads,
    running_now,
)


@pytest.fixture(autouse=True)
def _no_env_caps(monkeypatch):
    """The environment caps of the machine running the tests must not leak in."""
    for name in (ENV_THREADS, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info()]


def test_machine_probes():
    assert available_cpus() >= 1
    assert machine_load() >= 0.0
    assert running_now() >= 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("0.10 0.20 0.30 1/250 4242\n", 0),  # only the caller runs
        ("0.10 0.20 0.30 3/250 4242\n", 2),  # a 2-thread busy process started just now
        ("garbage\n", 0),
        ("", 0),
    ],
)
def test_running_now_reads_the_instantaneous_count(tmp_path, content, expected):
    path = tmp_path / "loadavg"
    path.write_text(content)
    assert running_now(str(path)) == expected


def test_machine_load_sees_a_process_the_average_has_not_caught_up_with(monkeypatch):
    import laplace_inv.threads as threads

    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.05, 0.1, 0.2))
    monkeypatch.setattr(threads, "running_now", lambda: 2)
    assert machine_load() == 2.0
    assert resolve_threads(1, cpus=2) == 1
    monkeypatch.setattr(threads, "running_now", lambda: 0)
    assert machine_load() == pytest.approx(0.05)
    assert resolve_threads(1, cpus=2) == 2


@pytest.mark.parametrize(
    ("n_jobs", "cpus", "load", "expected"),
    [
        (1, 8, 0.0, 8),
        (None, 8, 0.0, 8),
        (2, 8, 0.0, 4),
        (3, 8, 0.0, 2),
        (8, 8, 0.0, 1),
        (16, 8, 0.0, 1),  # more workers than CPUs: one thread each
        (-1, 8, 0.0, 1),  # all CPUs as workers
        (-2, 8, 0.0, 1),  # all but one: 7 workers
        (1, 2, 1.0, 1),  # one busy process beside us on 2 cores
        (1, 2, 0.4, 2),
        (1, 16, 4.2, 12),
        (1, 2, 9.0, 1),  # heavily loaded: still one thread, never zero
        (2, 2, 0.0, 1),
    ],
)
def test_resolve_threads_never_oversubscribes(n_jobs, cpus, load, expected):
    threads = resolve_threads(n_jobs, cpus=cpus, load=load)
    assert threads == expected
    workers = cpus + 1 + n_jobs if n_jobs is not None and n_jobs < 0 else n_jobs or 1
    assert min(workers, cpus) * threads <= cpus


def test_joblib_context_on_two_cores_gives_one_thread_per_worker():
    with parallel_config(n_jobs=2):
        assert resolve_threads(cpus=2, load=0.0) == 1
    with parallel_config(backend="threading", n_jobs=2):
        assert resolve_threads(cpus=2, load=0.0) == 1
    assert resolve_threads(cpus=2, load=0.0) == 2


def test_joblib_inner_max_num_threads_caps_workers():
    with parallel_config(backend="loky", n_jobs=2, inner_max_num_threads=1):
        assert resolve_threads(cpus=16, load=0.0) == 1


def test_environment_caps(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads(1, cpus=8, load=0.0) == 3
    monkeypatch.setenv(ENV_THREADS, "5")
    assert resolve_threads(1, cpus=8, load=0.0) == 5
    monkeypatch.setenv(ENV_THREADS, "zero")
    with pytest.raises(ValueError, match=ENV_THREADS):
        resolve_threads(1)


def _worker_threads() -> int:
    return resolve_threads(load=0.0, cpus=available_cpus())


def test_inside_a_joblib_worker_the_env_cap_applies():
    # loky sets OMP_NUM_THREADS etc. in its workers to cpus // n_jobs
    counts = Parallel(n_jobs=2)(delayed(_worker_threads)() for _ in range(2))
    assert all(c <= max(1, available_cpus() // 2) for c in counts)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_jobs": 0}, ValueError),
        ({"n_jobs": 1.5}, ValueError),
        ({"cpus": 0}, ValueError),
        ({"cpus": "2"}, TypeError),
        ({"load": -1.0}, ValueError),
        ({"load": float("nan")}, ValueError),
    ],
)
def test_resolve_threads_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        resolve_threads(**kwargs)


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_limit_threads_rejects_bad_counts(value, error):
    with pytest.raises(error, match="n_threads"), limit_threads(value, torch=False):
        pass  # pragma: no cover


def test_limit_restores_previous_values():
    before = _blas_threads()
    with limit_threads(1, torch=False) as n:
        assert n == 1
        assert current_limit() == 1
        assert all(t == 1 for t in _blas_threads())
        np.linalg.svd(np.ones((50, 50)))  # still computes
    assert _blas_threads() == before
    assert current_limit() is None


def test_limit_restores_after_an_exception():
    before = _blas_threads()
    with pytest.raises(RuntimeError), limit_threads(1, torch=False):
        raise RuntimeError("boom")
    assert _blas_threads() == before
    assert current_limit() is None


def test_nesting_keeps_the_smallest_limit_and_unwinds():
    before = _blas_threads()
    with limit_threads(2, torch=False) as outer:
        assert outer == 2
        with limit_threads(1, torch=False) as inner:
            assert inner == 1
            assert all(t == 1 for t in _blas_threads())
            with limit_threads(4, torch=False) as innermost:
                assert innermost == 1  # cannot raise the enclosing cap
        assert current_limit() == 2
        assert all(t == min(2, b) or t == 2 for t, b in zip(_blas_threads(), before, strict=True))
    assert _blas_threads() == before


def test_torch_threads_are_limited_and_restored():
    torch = pytest.importorskip("torch")
    original = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with limit_threads(1) as n:
            assert n == 1
            assert torch.get_num_threads() == 1
            with limit_threads(1, torch=False):
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)


def test_concurrent_blocks_from_threads_restore_once_all_exit():
    before = _blas_threads()
    barrier = threading.Barrier(4)
    seen: list[int] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with limit_threads(n, torch=False) as in_force:
                barrier.wait(timeout=10)
                seen.append(in_force)
                np.dot(np.ones((20, 20)), np.ones((20, 20)))
                barrier.wait(timeout=10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(seen) == 4 and all(n >= 1 for n in seen)
    assert current_limit() is None
    assert _blas_threads() == before


def test_default_count_follows_the_policy(monkeypatch):
    with limit_threads(torch=False) as n:
        assert 1 <= n <= available_cpus()
    monkeypatch.setenv(ENV_THREADS, "1")
    with limit_threads(torch=False) as n:
        assert n == 1
        assert all(t == 1 for t in _blas_threads())


def test_torch_openmp_is_left_to_torch_set_num_threads():
    """threadpoolctl limits every runtime but torch's own OpenMP, which torch's count sets."""
    import os

    import torch
    from threadpoolctl import ThreadpoolController

    from laplace_inv.threads import _without_torch_openmp

    controller = ThreadpoolController()
    torch_dir = os.path.dirname(os.path.realpath(torch.__file__)) + os.sep
    kept = _without_torch_openmp(controller, torch).lib_controllers
    paths = [os.path.realpath(lib.filepath) for lib in kept]
    assert not any(p.startswith(torch_dir) for p in paths)
    others = [
        lib
        for lib in controller.lib_controllers
        if not os.path.realpath(lib.filepath).startswith(torch_dir)
    ]
    assert len(kept) == len(others)
    assert _without_torch_openmp(controller, None) is controller
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(n == 1 for n in _blas_threads())


def test_limit_blas_limits_blas_only_and_restores():
    from threadpoolctl import threadpool_info

    from laplace_inv.threads import limit_blas

    def counts(api):
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == api]

    before_blas, before_omp = counts("blas"), counts("openmp")
    with limit_blas(1) as n:
        assert n == 1
        assert all(c == 1 for c in counts("blas"))
        assert counts("openmp") == before_omp
    assert counts("blas") == before_blas
    with pytest.raises(ValueError, match="n_threads"):
        with limit_blas(0):
            pass

"""Peer packages as optional benchmark methods: lazy registration, skipped when absent."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from laplace_inv import Kernel2D, KernelAxis
from laplace_inv.bench import get_method, run_benchmark
from laplace_inv.bench.cases import BenchCase
from laplace_inv.bench.peers import (
    FLINT_ALPHA,
    PEERS,
    flint_invert,
    iltpy_invert,
    peer_available,
    register_peers,
)
from laplace_inv.bench.registry import MethodNotAvailable
from laplace_inv.simulate import cement_like
from laplace_inv.threads import limit_threads


def _small_case():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 12), n_grid=8),
        KernelAxis("T2", np.arange(1, 61) * 2e-3, n_grid=8),
    )
    return kernel, cement_like(kernel=kernel, snr=300)


def _case(kernel, sc):
    return BenchCase(
        name="small",
        suite="sim",
        group="named",
        family="T1_IR-T2",
        kernel=kernel,
        data=sc.data,
        noise_std=sc.noise_std,
        truth=sc.truth,
    )


def test_registration_does_not_import_the_peers():
    code = textwrap.dedent(
        """
        import sys
        import laplace_inv.bench
        import laplace_inv.bench.peers as peers
        names = peers.register_peers()
        from laplace_inv.bench import available_methods
        assert set(names) <= set(available_methods()), available_methods()
        loaded = [m for m in ("flintpy", "iltpy", "plotly") if m in sys.modules]
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_registered_as_functions_with_descriptions():
    assert register_peers() == ["flint", "iltpy"]
    for name in PEERS:
        method = get_method(name)
        assert method.kind == "function"
        assert not method.builtin
        assert method.description
    assert f"{FLINT_ALPHA:g}" in get_method("flint").description


def test_unknown_peer_name():
    with pytest.raises(ValueError, match="unknown peer"):
        peer_available("grin")


def test_missing_package_is_not_available(monkeypatch):
    monkeypatch.setitem(PEERS, "flint", ("no_such_module_xyz", "no-such-package"))
    kernel, sc = _small_case()
    with pytest.raises(MethodNotAvailable, match="no-such-package is not installed"):
        flint_invert(sc.data, kernel)
    assert not peer_available("flint")


def test_missing_package_gives_a_not_available_row(monkeypatch):
    monkeypatch.setitem(PEERS, "iltpy", ("no_such_module_xyz", "no-such-package"))
    register_peers()
    kernel, sc = _small_case()
    results = run_benchmark([_case(kernel, sc)], ["iltpy"], repeats=1, verbose=0)
    status = results.rows[0]["status"]
    assert status.startswith("not available") and "no-such-package" in status


def test_flint_rejects_kinds_it_has_no_kernel_for():
    kernel = Kernel2D(
        KernelAxis("D", np.geomspace(1e7, 1e10, 10), n_grid=8),
        KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=8),
    )
    with pytest.raises(MethodNotAvailable, match="no kernel for kinds"):
        flint_invert(np.ones(kernel.data_shape), kernel)


def _check_inversion(F, kernel, sc, max_relative_residual):
    assert F.shape == kernel.map_shape
    assert np.all(np.isfinite(F))
    residual = np.linalg.norm(kernel.forward(F) - sc.data) / np.linalg.norm(sc.data)
    assert residual < max_relative_residual
    # the dominant component sits near the simulated main peak (T1 112 ms, T2 19.6 ms)
    i, j = np.unravel_index(np.argmax(F), F.shape)
    assert abs(np.log10(kernel.grid1[i] / 0.112)) < 0.6
    assert abs(np.log10(kernel.grid2[j] / 19.6e-3)) < 0.6


@pytest.mark.skipif(not peer_available("flint"), reason="flintpy-nmr is not installed")
def test_flint_inverts_a_small_case():
    kernel, sc = _small_case()
    with limit_threads(1, torch=False):
        F = flint_invert(sc.data, kernel)
    assert np.all(F >= 0)  # FLINT is non-negative
    _check_inversion(F, kernel, sc, 0.1)


@pytest.mark.skipif(not peer_available("iltpy"), reason="ilt-py-lib is not installed")
def test_iltpy_inverts_a_small_case():
    kernel, sc = _small_case()
    with limit_threads(1, torch=False):
        F = iltpy_invert(sc.data, kernel, noise_std=sc.noise_std)
    _check_inversion(F, kernel, sc, 0.1)


@pytest.mark.skipif(not peer_available("flint"), reason="flintpy-nmr is not installed")
def test_flint_through_the_harness():
    register_peers()
    kernel, sc = _small_case()
    with limit_threads(1, torch=False):
        results = run_benchmark([_case(kernel, sc)], ["flint"], repeats=1, verbose=0)
    row = results.rows[0]
    assert row["status"] == "ok", row["status"]
    assert np.isfinite(row["time_s"])

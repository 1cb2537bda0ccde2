"""UPEN and global Tikhonov converge within their default caps on every real export.

Each real file or folder under ``LAPLACE_INV_DATA`` is read with `read_any` and inverted with
the default UPEN and the default global Tikhonov (discrepancy α); a ``ConvergenceWarning``
fails the test and both results must report ``converged``. Exports the data folder lacks are
skipped, and so are exports that the readers or kernels of this checkout cannot invert
(1D decays where 1D inversion is not available). A synthetic export of the held-back
Spinsolve T1IRT2 layout (16 × 1024, imperfect inversion and a baseline offset) stands in
for it. The 1D exports are also inverted at the solver level (one axis and a singleton
second axis): both converge on all of them (UPEN's penalty acts along the one real axis).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter

EXPORTS = (
    "cement_t1t2_ircpmg",
    "maastricht_t2t2",
    "sse_dt2",
    "nmrinversions_examples/spinsolve_txt/PFGCPMG",
    "nmrinversions_examples/csv/CPMG_graphene.csv",
    "nmrinversions_examples/csv/IR_sandstone.csv",
    "nmrinversions_examples/csv/PFG_water.csv",
    "nmrinversions_examples/geospec_txt/CPMG_bunter.txt",
    "nmrinversions_examples/geospec_txt/IR_bunter.txt",
    "nmrinversions_examples/tecmag_tnt/CPMG_silicon_oil.tnt",
    "nmrinversions_examples/tecmag_tnt/IR_silicon_oil.tnt",
    "nmrinversions_examples/bruker/minispec/cpmg.dps",
)


def _read(name: str):
    root = os.environ.get("LAPLACE_INV_DATA")
    if not root or not (Path(root) / name).exists():
        pytest.skip(f"{name} not in LAPLACE_INV_DATA")
    from laplace_inv.io import read_any

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reader notes (phase, noise) are not under test
        acq = read_any(Path(root) / name)
        try:
            kernel = acq.kernel()
        except (TypeError, ValueError) as exc:  # 1D where this checkout cannot invert it
            pytest.skip(f"{name}: no kernel here ({exc})")
    return acq, kernel


def _converges(est: TikhonovInverter, S: np.ndarray, noise_std: float | None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # fit-check notes are not under test
        res = est.invert(S, noise_std=noise_std)
    assert np.all(np.isfinite(res.map)) and res.map.min() >= 0
    return res.info


@pytest.mark.parametrize("name", EXPORTS)
def test_upen_converges_on_real_export(name: str) -> None:
    acq, kernel = _read(name)
    info = _converges(TikhonovInverter(kernel), acq.data, acq.noise_std)
    assert info["converged"] is True
    assert info["outer_iterations"] < 100  # the default cap


@pytest.mark.parametrize("name", EXPORTS)
def test_global_tikhonov_converges_on_real_export(name: str) -> None:
    acq, kernel = _read(name)
    info = _converges(TikhonovInverter(kernel, penalty="global"), acq.data, acq.noise_std)
    assert info["converged"] is True and info["alpha"] > 0


@pytest.mark.parametrize("penalty", ["upen", "global"])
def test_converges_on_the_t1irt2_export_layout(penalty: str) -> None:
    """16 τ1 steps (1-3000 ms, log) × 1024 echoes at 100 µs, 77 % inversion, 2 % offset."""
    tau1, tau2 = np.geomspace(1e-3, 3.0, 16), 1e-4 * np.arange(1, 1025)
    kernel = Kernel2D(KernelAxis("T1_IR", tau1, n_grid=64), KernelAxis("T2", tau2, n_grid=64))
    g1, g2 = np.log10(kernel.grid1)[:, None], np.log10(kernel.grid2)[None, :]
    F = np.exp(-((g1 + 0.7) ** 2 + (g2 + 1.0) ** 2) / 0.02)
    F += 0.5 * np.exp(-((g1 + 1.2) ** 2 + (g2 + 1.8) ** 2) / 0.02)
    decay = np.exp(-tau2[None, :] / kernel.grid2[:, None])  # (N2, n2)
    recovery = 1.0 - 1.77 * np.exp(-tau1[:, None] / kernel.grid1[None, :])  # (n1, N1)
    S = recovery @ F @ decay
    S += 0.02 * np.abs(S).max()
    S += np.abs(S).max() / 300 * np.random.default_rng(0).standard_normal(S.shape)
    info = _converges(TikhonovInverter(kernel, penalty=penalty), S, None)
    assert info["converged"] is True


ONE_D = tuple(
    name for name in EXPORTS if name.startswith("nmrinversions_examples/") and "." in name
)


def _one_d_problem(name: str):
    """A 1D export as the solvers see it: one axis and a singleton second axis."""
    root = os.environ.get("LAPLACE_INV_DATA")
    if not root or not (Path(root) / name).exists():
        pytest.skip(f"{name} not in LAPLACE_INV_DATA")
    from laplace_inv.io import read_any
    from laplace_inv.kernels import KernelAxis
    from laplace_inv.operator import CompressedOperator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = read_any(Path(root) / name)
    axis = KernelAxis(acq.kinds[0], acq.tau1, n_grid=100)
    op = CompressedOperator.from_matrices(axis.matrix, np.ones((1, 1)), 1e-8)
    scale = np.abs(acq.data).max()
    S = acq.data[:, None] / scale
    sigma = None if acq.noise_std is None else acq.noise_std / scale
    return op, S, op.project(S), sigma


@pytest.mark.parametrize("name", ONE_D)
def test_global_tikhonov_solver_converges_on_1d_export(name: str) -> None:
    from laplace_inv.solvers.tikhonov import global_tikhonov

    op, S, S_c, sigma = _one_d_problem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = global_tikhonov(op, S, S_c, "discrepancy", noise_std=sigma)
    assert res.info["converged"] is True and res.map.min() >= 0


@pytest.mark.parametrize("name", ONE_D)
def test_upen_solver_converges_on_1d_export(name: str) -> None:
    from laplace_inv.solvers.upen import upen_solve

    op, S, S_c, sigma = _one_d_problem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = upen_solve(
            op,
            S_c,
            out_of_range2=op.out_of_range_energy(S, S_c),
            noise_energy=None if sigma is None else S.size * sigma**2,
        )
    assert res.info["converged"] is True

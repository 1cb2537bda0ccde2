"""The acquisition model (inversion efficiency, offset) for every method, API and CLI."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import laplace_inv.acquisition_model as acquisition_model
from laplace_inv.acquisition_model import (
    fit_acquisition_model,
    invert_with_model,
    kernel_with_efficiency,
)
from laplace_inv.classical import TikhonovInverter
from laplace_inv.cli import main
from laplace_inv.io import load_result_npz
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.methods import make_inverter
from laplace_inv.simulate import Peak, cement_kernel, make_scenario

CEMENT_PEAKS = [
    Peak((np.log10(0.112), np.log10(19.6e-3)), (0.08, 0.08), 0.88, 0.3),
    Peak((np.log10(0.097), np.log10(0.79e-3)), (0.08, 0.10), 0.12, 0.0),
]


def _strict_t1_below_t2(F: np.ndarray, grid1: np.ndarray, grid2: np.ndarray) -> float:
    F = np.clip(F, 0, None)
    return float(F[grid1[:, None] < grid2[None, :]].sum() / F.sum())


@pytest.fixture(scope="module")
def ir_cpmg_file(tmp_path_factory):
    """IR-CPMG simulation on the cement acquisition: efficiency 0.8, offset 2 % of max|S|."""
    kernel = cement_kernel()
    sc = make_scenario("ir", kernel, CEMENT_PEAKS, 300, random_state=0, efficiency=0.8, offset=0.02)
    path = tmp_path_factory.mktemp("sim") / "ir_cpmg.npz"
    np.savez(
        path, data=sc.data, tau1=kernel.axis1.tau, tau2=kernel.axis2.tau, kinds=list(kernel.kinds)
    )
    return path, sc.params["offset"]


def test_cli_fit_acquisition_recovers_efficiency_and_empties_t1_below_t2(
    ir_cpmg_file, tmp_path, capsys
):
    path, offset = ir_cpmg_file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["invert", str(path), "--method", "tikhonov", "-o", str(tmp_path / "a")]) == 0
        plain_out = capsys.readouterr().out
        code = main(
            [
                "invert",
                str(path),
                "--method",
                "tikhonov",
                "--fit-acquisition",
                "-o",
                str(tmp_path / "b"),
            ]
        )
        assert code == 0
        fit_out = capsys.readouterr().out
    plain = load_result_npz(tmp_path / "a" / "ir_cpmg_map.npz")
    fitted = load_result_npz(tmp_path / "b" / "ir_cpmg_map.npz")
    # Without the model the map puts mass at T1 < T2 and says so, with the hint.
    assert _strict_t1_below_t2(plain["map"], plain["grid1"], plain["grid2"]) > 0.05
    assert "T1<T2/2" in plain_out and "--fit-acquisition" in plain_out
    assert plain["metadata"]["info"]["share T1<T2/2"] > 0.05
    # With it: the done-when of issue 22.
    info = fitted["metadata"]["info"]
    assert abs(info["efficiency"] - 0.8) < 0.02
    assert info["offset"] == pytest.approx(offset, rel=0.1)
    assert _strict_t1_below_t2(fitted["map"], fitted["grid1"], fitted["grid2"]) < 0.01
    assert "acquisition model: inversion efficiency 0.8" in fit_out
    assert "hint:" not in fit_out
    assert (tmp_path / "b" / "ir_cpmg_map.png").is_file()


@pytest.fixture(scope="module")
def small_imperfect():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 24), n_grid=32),
        KernelAxis("T2", np.arange(1, 251) * 0.4e-3, n_grid=32),
    )
    peaks = [
        Peak((np.log10(0.1), np.log10(0.02)), (0.08, 0.08), 0.85),
        Peak((np.log10(0.1), np.log10(0.002)), (0.08, 0.1), 0.15),
    ]
    sc = make_scenario("e", kernel, peaks, 300, random_state=0, efficiency=0.8, offset=0.02)
    return kernel, sc.data, sc.params["offset"]


@pytest.mark.parametrize("method", ["upen", "l1"])
def test_fit_works_for_each_classical_method(small_imperfect, method):
    kernel, S, offset = small_imperfect
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        res = fit_acquisition_model(
            make_inverter(method, kernel), S, search_n_grid=20, efficiency_xtol=0.01
        )
    assert abs(res.info["efficiency"] - 0.8) < 0.05
    assert res.info["offset"] == pytest.approx(offset, rel=0.2)
    assert res.kernel.axis1.efficiency == pytest.approx(res.info["efficiency"])
    assert res.map.min() >= 0 and res.relative_residual < 0.03


def test_fit_works_for_dlemlr_through_a_classical_search():
    kernel = cement_kernel()
    try:
        est = make_inverter("dlemlr", kernel)
    except RuntimeError as exc:  # pragma: no cover - torch or weights missing here
        pytest.skip(str(exc))
    sc = make_scenario("e", kernel, CEMENT_PEAKS, 300, random_state=0, efficiency=0.8, offset=0.02)
    assert not acquisition_model._has_own_grid(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_acquisition_model(est, sc.data)
    assert abs(res.info["efficiency"] - 0.8) < 0.02
    assert res.info["method"].startswith("DLEMLR") or "acquisition" in res.info["method"]
    assert res.map.shape == kernel.map_shape and np.all(np.isfinite(res.map))
    assert _strict_t1_below_t2(res.map, res.grid1, res.grid2) < 0.05


def test_invert_with_model_subtracts_the_offset_for_any_kind():
    kernel = Kernel2D(
        KernelAxis("D", np.linspace(0, 3e9, 12), n_grid=16),
        KernelAxis("T2", np.arange(1, 101) * 1e-3, n_grid=16),
    )
    F = np.zeros(kernel.map_shape)
    F[8, 8] = 1.0
    rng = np.random.default_rng(0)
    S = kernel.forward(F) + 0.05 + 1e-3 * rng.standard_normal(kernel.data_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = invert_with_model(TikhonovInverter(kernel), S, offset=0.05)
    assert res.info["offset"] == 0.05 and res.info["efficiency"] is None
    assert res.residual_to_noise is not None and res.residual_to_noise < 1.3
    with pytest.raises(ValueError, match="T1_IR"):
        invert_with_model(TikhonovInverter(kernel), S, efficiency=0.9)
    with pytest.raises(ValueError, match="finite"):
        invert_with_model(TikhonovInverter(kernel), S, offset=float("nan"))


def test_known_model_matches_the_simulation(small_imperfect):
    kernel, S, offset = small_imperfect
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = invert_with_model(TikhonovInverter(kernel), S, efficiency=0.8, offset=offset)
    assert res.kernel == kernel_with_efficiency(kernel, 0.8)
    assert _strict_t1_below_t2(res.map, res.grid1, res.grid2) < 0.01


def test_old_import_path_still_works():
    from laplace_inv.classical import robust

    assert robust.fit_acquisition_model is fit_acquisition_model
    assert robust.invert_with_model is invert_with_model
    assert robust.edge_mass(np.eye(8)) == pytest.approx(0.5)


def test_cli_fit_refuses_a_1d_decay_and_flags_only_maps():
    import argparse

    from laplace_inv.cli import acquisition_options

    args = argparse.Namespace(methods=["tikhonov"], fit_acquisition=True, quiet=True)
    with pytest.raises(ValueError, match="2D acquisition"):
        acquisition_options.invert_methods(args, None, np.ones(50), None)
    assert acquisition_options._is_map(np.ones((4, 5)))
    assert not acquisition_options._is_map(np.ones(5))
    assert not acquisition_options._is_map(np.ones((1, 5)))
    assert (
        acquisition_options.physics_report(
            [("x", type("R", (), {"map": np.ones(5), "info": {}})())]
        )
        == ""
    )

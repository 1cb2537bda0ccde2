"""``laplace-inv invert --method dlemlr``: the DLEMLR options and any grid a file asks for."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.cli import main
from laplace_inv.io import load_result_npz
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_like

TAU1 = np.geomspace(1e-3, 3.0, 12)
TAU2 = np.arange(1, 121) * 0.5e-3


def scan(path: Path, n_grid: int = 24) -> Path:
    kernel = Kernel2D(
        KernelAxis("T1_IR", TAU1, n_grid=n_grid), KernelAxis("T2", TAU2, n_grid=n_grid)
    )
    sc = cement_like(kernel, snr=300, random_state=0)
    np.savez(path, data=sc.data, tau1=TAU1, tau2=TAU2, kinds=["T1_IR", "T2"])
    return path


def info_of(npz: Path) -> dict:
    return load_result_npz(npz)["metadata"]["info"]


@pytest.mark.parametrize("grid", [24, 80])
def test_dlemlr_fits_the_data_by_default_and_raw_on_request(tmp_path, grid):
    data = scan(tmp_path / "scan.npz")
    args = ["invert", str(data), "--method", "dlemlr", "--grid", str(grid), "-q"]
    assert main([*args, "-o", str(tmp_path / "fit")]) == 0
    fitted = info_of(tmp_path / "fit" / "scan_map.npz")
    assert fitted["refined"] is True
    assert fitted["residual_to_noise_after"] <= fitted["residual_to_noise_before"]
    assert main([*args, "--no-refine", "-o", str(tmp_path / "raw")]) == 0
    raw = info_of(tmp_path / "raw" / "scan_map.npz")
    assert raw["refined"] is False
    assert load_result_npz(tmp_path / "raw" / "scan_map.npz")["map"].shape == (grid, grid)


@pytest.fixture
def built_dlemlr(monkeypatch):
    """Every DLEMLR estimator the command builds, in order (a spy on the method registry)."""
    from laplace_inv import methods

    built: list = []
    real = methods.METHODS["dlemlr"]
    monkeypatch.setitem(methods.METHODS, "dlemlr", lambda k: built.append(real(k)) or built[-1])
    return built


def test_dlemlr_options_reach_the_estimator(tmp_path, built_dlemlr):
    built = built_dlemlr
    data = scan(tmp_path / "scan.npz")
    argv = ["invert", str(data), "--method", "dlemlr", "-q", "-o", str(tmp_path / "o")]
    argv += ["--refine-steps", "7", "--device", "cpu", "--batch-size", "3", "--smoothing", "0.1"]
    assert main(argv) == 0
    params = built[0].get_params()
    assert (params["refine"], params["refine_steps"], params["batch_size"]) == (True, 7, 3)
    assert params["smoothing"] == 0.1
    assert info_of(tmp_path / "o" / "scan_map.npz")["refine_steps"] == 7
    assert len(built) == 1  # one estimator for the one inversion


def test_dlemlr_options_reach_the_bootstrap_estimator_too(tmp_path, built_dlemlr):
    built = built_dlemlr
    data = scan(tmp_path / "scan.npz")
    argv = ["invert", str(data), "--method", "dlemlr", "-q", "-o", str(tmp_path / "o")]
    argv += ["--no-refine", "--uncertainty", "--draws", "2"]
    assert main(argv) == 0
    assert len(built) == 2  # the inversion and the bootstrap
    assert [est.get_params()["refine"] for est in built] == [False, False]


@pytest.mark.parametrize(
    ("option", "match"),
    [
        (["--refine-steps", "-1"], "must be an integer >= 0"),
        (["--batch-size", "0"], ">= 1"),
        (["--smoothing", "-0.1"], "must be a number >= 0"),
    ],
)
def test_bad_dlemlr_options_are_refused_by_the_parser(tmp_path, capsys, option, match):
    data = scan(tmp_path / "scan.npz")
    with pytest.raises(SystemExit) as exc:
        main(["invert", str(data), "--method", "dlemlr", *option])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


def test_a_bad_device_is_a_clear_error(tmp_path, capsys):
    data = scan(tmp_path / "scan.npz")
    argv = ["invert", str(data), "--method", "dlemlr", "--device", "gpu0", "-q"]
    assert main([*argv, "-o", str(tmp_path / "o")]) == 2
    assert "device must be a torch device" in capsys.readouterr().err


REAL = [
    "cement_t1t2_ircpmg",
    "maastricht_t2t2",
    "sse_dt2",
    "nmrinversions_examples/spinsolve_txt/PFGCPMG",
]


@pytest.mark.slow
@pytest.mark.parametrize("folder", REAL)
def test_dlemlr_inverts_every_real_folder_on_its_own_grid(tmp_path, folder):
    root = os.environ.get("LAPLACE_INV_DATA")
    if not root or not (Path(root) / folder).is_dir():
        pytest.skip("real data not available (set LAPLACE_INV_DATA)")
    out = tmp_path / "o"
    assert (
        main(["invert", str(Path(root) / folder), "--method", "dlemlr", "-q", "-o", str(out)]) == 0
    )
    (npz,) = out.glob("*_map.npz")
    info = info_of(npz)
    assert info["residual_to_noise_after"] < 1.25

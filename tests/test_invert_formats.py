"""``laplace-inv invert`` detects each input format and round-trips it to a map.

Every test writes a small file in one of the documented layouts (see :mod:`laplace_inv.io`),
runs the command line on it, and reads the ``.npz`` result back with
:func:`laplace_inv.io.load_result_npz`. The data hold one component at T1 = 300 ms,
T2 = 30 ms, which the map must put within 0.15 decade of the truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from laplace_inv.cli import main
from laplace_inv.io import detect_format, load_result_npz, read_any

T1, T2 = 0.300, 0.030  # s
TAU1_MS = np.geomspace(1.0, 3000.0, 16)
ECHO_US = 500.0
N_ECHOES = 200
TAU2_MS = np.arange(1, N_ECHOES + 1) * ECHO_US * 1e-3
GRID = 24


def _clean() -> np.ndarray:
    """Noise-free IR-CPMG data of one component (arbitrary units, max 1000)."""
    return 1000.0 * np.outer(1 - 2 * np.exp(-TAU1_MS * 1e-3 / T1), np.exp(-TAU2_MS * 1e-3 / T2))


def _noisy(seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    return _clean() + sigma * np.random.default_rng(seed).standard_normal((16, N_ECHOES))


def write_spinsolve_folder(folder: Path, z: np.ndarray) -> Path:
    """Write complex data ``z`` (nrSteps × nrEchoes) in the documented Spinsolve layout.

    ``acqu.par`` (``key = value``), the indirect delays in ms in ``delays.txt`` and the data as
    interleaved ``re im re im ...`` columns in ``data2d.txt``
    (see :func:`laplace_inv.io.read_spinsolve_2d`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    keys = {
        "experiment": '"T1IRT2"',
        "nrScans": "8",
        "nrEchoes": str(z.shape[1]),
        "echoTime": f"{ECHO_US:g}",
        "nrSteps": str(z.shape[0]),
        "indirectFile": '"delays.txt"',
        "indirectUnit": '"ms"',
        "dataFile": '"data2d.txt"',
    }
    (folder / "acqu.par").write_text("".join(f"{k:<16}= {v}\n" for k, v in keys.items()))
    (folder / "delays.txt").write_text("".join(f"{v:.10g}\n" for v in TAU1_MS))
    inter = np.empty((z.shape[0], 2 * z.shape[1]))
    inter[:, 0::2], inter[:, 1::2] = z.real, z.imag
    np.savetxt(folder / "data2d.txt", inter, fmt="%.10g")
    return folder


def _invert(path: Path, out: Path, *extra: str) -> dict:
    code = main(
        [
            "invert",
            str(path),
            "--method",
            "tikhonov",
            "--grid",
            str(GRID),
            "--out",
            str(out),
            *extra,
        ]
    )
    assert code == 0
    results = sorted(out.glob("*_map.npz"))
    assert len(results) == 1, results
    assert results[0].with_suffix(".csv").exists()
    assert results[0].with_suffix(".png").exists()
    return load_result_npz(results[0])


def _check_map(result: dict) -> None:
    assert result["map"].shape == (GRID, GRID)
    assert result["kinds"] == ("T1_IR", "T2")
    assert np.all(result["map"] >= 0)
    assert result["metadata"]["method"] == "tikhonov"
    F = result["map"]
    i, j = np.unravel_index(np.argmax(F), F.shape)
    assert abs(np.log10(result["grid1"][i] / T1)) < 0.15
    assert abs(np.log10(result["grid2"][j] / T2)) < 0.15
    # The map's mass is the component's amplitude (1000), as K1 F K2ᵀ reproduces the data.
    assert F.sum() == pytest.approx(1000.0, rel=0.1)


def test_spinsolve_folder_round_trips_to_a_map(tmp_path, capsys):
    phase, sigma = 0.9, 2.0
    rng = np.random.default_rng(1)
    noise = sigma * (rng.standard_normal((16, N_ECHOES)) + 1j * rng.standard_normal((16, N_ECHOES)))
    z = (_clean() + noise) * np.exp(1j * phase)
    folder = write_spinsolve_folder(tmp_path / "spinsolve_t1t2", z)

    assert detect_format(folder) == "spinsolve"
    acq = read_any(folder)
    assert acq.metadata["phase"] == pytest.approx(phase, abs=0.01)  # automatic phasing
    assert acq.noise_std == pytest.approx(sigma, rel=0.1)  # from the imaginary channel

    result = _invert(folder, tmp_path / "out")
    _check_map(result)
    assert result["metadata"]["source"] == str(folder)
    assert "tikhonov" in capsys.readouterr().out
    # acqu.par itself is accepted too.
    _check_map(_invert(folder / "acqu.par", tmp_path / "out_par"))


def test_npz_round_trips_to_a_map(tmp_path):
    path = tmp_path / "scan.npz"
    np.savez(
        path,
        data=_noisy(),
        tau1=TAU1_MS * 1e-3,
        tau2=TAU2_MS * 1e-3,
        kinds=np.array(["T1_IR", "T2"]),
    )
    _check_map(_invert(path, tmp_path / "out"))


def test_mat_round_trips_to_a_map(tmp_path):
    path = tmp_path / "scan.mat"
    scipy.io.savemat(
        path,
        {
            "S": _noisy(),
            "tau1": TAU1_MS * 1e-3,
            "tau2": TAU2_MS * 1e-3,
            "kinds": np.array(["T1_IR", "T2"]),
        },
    )
    assert detect_format(path) == "mat"
    _check_map(_invert(path, tmp_path / "out"))


def test_csv_table_with_axis_files_round_trips_to_a_map(tmp_path):
    np.savetxt(tmp_path / "S.csv", _noisy(), delimiter=",")
    np.savetxt(tmp_path / "tau1.csv", TAU1_MS)
    np.savetxt(tmp_path / "tau2.csv", TAU2_MS)
    result = _invert(
        tmp_path / "S.csv",
        tmp_path / "out",
        "--tau1",
        str(tmp_path / "tau1.csv"),
        "--tau2",
        str(tmp_path / "tau2.csv"),
        "--kinds",
        "T1_IR",
        "T2",
        "--time-unit",
        "1e-3",
    )
    _check_map(result)


def test_unknown_format_is_a_clean_error(tmp_path, capsys):
    path = tmp_path / "scan.xyz"
    path.write_text("1 2 3\n")
    assert main(["invert", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "unknown format" in capsys.readouterr().err


def test_real_spinsolve_dt2_gives_free_water(tmp_path, recwarn):
    """The water D-T2 export: the dominant D is free water's, with residual/noise near 1."""
    import os

    data = Path(
        os.environ.get("LAPLACE_INV_DATA")
        or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    folder = data / "nmrinversions_examples" / "spinsolve_txt" / "PFGCPMG"
    if not (folder / "DT2.dat").is_file():
        pytest.skip(f"Spinsolve DT2 export not found at {folder}")
    result = _invert(folder, tmp_path / "out")
    assert result["kinds"] == ("D", "T2")
    marginal_d = result["map"].sum(axis=1)
    k = int(np.argmax(marginal_d))
    near = slice(max(k - 2, 0), k + 3)  # the peak and its neighbours on the 24-point grid
    log_d = np.log10(result["grid1"][near])
    d_peak = 10 ** (np.sum(marginal_d[near] * log_d) / np.sum(marginal_d[near]))
    assert 2.0e-9 <= d_peak <= 2.3e-9
    assert any("stay negative" in str(w.message) for w in recwarn)

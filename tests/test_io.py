"""Readers for instrument/tool formats, the result file format, and their error messages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from laplace_inv.io import (
    UPEN2D_KERNEL_CODES,
    Acquisition,
    detect_format,
    load_result_npz,
    read_any,
    read_mat,
    read_npz,
    read_spinsolve_2d,
    read_table,
    read_upen2d_folder,
    save_result_npz,
)
from laplace_inv.kernels import Kernel2D

SHARED_DATA = Path(
    os.environ.get("LAPLACE_INV_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "cement_t1t2_ircpmg" / "FileSetInput.par").is_file(),
    reason=f"shared real datasets not found at {SHARED_DATA} (set up by the project's CI)",
)

TAU1_MS = np.geomspace(0.8, 2800.0, 6)
TAU2_MS = np.arange(1, 11) * 0.2


def _ir_data(tau1_ms=TAU1_MS, tau2_ms=TAU2_MS, t1=100.0, t2=20.0):
    return np.outer(1 - 2 * np.exp(-tau1_ms / t1), np.exp(-tau2_ms / t2)) * 1000.0


def _write_matrix(path: Path, arr: np.ndarray, sep: str = "\t", newline: str = "\r\n") -> None:
    text = newline.join(sep.join(f"{v:.10g}" for v in row) for row in np.atleast_2d(arr))
    path.write_bytes((text + newline).encode())


def _write_column(path: Path, values, newline: str = "\r\n") -> None:
    path.write_bytes((newline.join(f"{v:.10g}" for v in values) + newline).encode())


def _upen_folder(folder: Path, kernel_code: int = 1, data=None, tau1=TAU1_MS, tau2=TAU2_MS):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "FileSetInput.par").write_bytes(
        b"%filename e parameters 26/09/2018\r\n\r\n% [File Data]\r\n"
        b"  filenamedata          =s_ircpmg.dat\r\n"
        b"  filenameTimeX         =t_X.dat\r\n"
        b"  filenameTimeY         =t_Y.dat\r\n"
        b"% [Inversion Points]\r\n  nx                    =40\r\n  ny                    =50\r\n"
        b"  T1min                 =1.0E-2\r\n  T1max                 =1.0E3\r\n"
        b"  T2min                 =1.0E-1\r\n  T2max                 =3.0E3\r\n%\r\nEND"
    )
    (folder / "FileFlag.par").write_text(
        f"Flags for a test\n%\n  FL_typeKernel         ={kernel_code}\n"
        "  FL_InversionTimeLimits=0\nEND"
    )
    (folder / "FilePar.par").write_text("%[UPEN]\n  par.upen.tol          =0.001\nEND\n")
    _write_matrix(folder / "S_IRCPMG.dat", _ir_data() if data is None else data)
    _write_column(folder / "t_Y.dat", tau1)
    _write_column(folder / "t_X.dat", tau2)
    return folder


# ----------------------------------------------------------------------------- Upen2D


def test_upen2d_folder_crlf_and_case_mismatch(tmp_path):
    folder = _upen_folder(tmp_path / "ir")
    acq = read_upen2d_folder(folder)
    assert acq.kinds == ("T1_IR", "T2")
    assert acq.shape == (6, 10)
    np.testing.assert_allclose(acq.tau1, TAU1_MS * 1e-3)
    np.testing.assert_allclose(acq.tau2, TAU2_MS * 1e-3)
    np.testing.assert_allclose(acq.data, _ir_data(), rtol=1e-9)
    np.testing.assert_allclose(acq.grid_hint, ((1e-5, 1.0, 40), (1e-4, 3.0, 50)))
    k = acq.kernel()
    assert isinstance(k, Kernel2D) and k.map_shape == (40, 50)
    assert k.grid1[0] == pytest.approx(1e-5) and k.grid2[-1] == pytest.approx(3.0)
    assert acq.kernel(n_grid=16).map_shape == (16, 16)
    assert acq.metadata["files"]["data"] == "S_IRCPMG.dat"
    assert acq.metadata["FilePar"]["par.upen.tol"] == "0.001"
    assert read_any(folder).shape == (6, 10)
    assert detect_format(folder) == "upen2d"


@pytest.mark.parametrize("code", sorted(UPEN2D_KERNEL_CODES))
def test_upen2d_kernel_codes(tmp_path, code):
    tau1 = TAU1_MS if code != 3 else np.linspace(0.02, 1.3, 6)
    acq = read_upen2d_folder(_upen_folder(tmp_path / str(code), code, tau1=tau1))
    assert acq.kinds == UPEN2D_KERNEL_CODES[code]
    if code == 3:  # b in ms/µm² -> s/m², D limits in µm²/ms -> m²/s
        np.testing.assert_allclose(acq.tau1, tau1 * 1e9)
        assert acq.grid_hint[0][:2] == pytest.approx((1e-11, 1e-6))
        assert acq.kernel().grid1[0] == pytest.approx(1e-11)


def test_upen2d_kind_mapping():
    assert UPEN2D_KERNEL_CODES[1] == ("T1_IR", "T2")
    assert UPEN2D_KERNEL_CODES[2] == ("T1_SR", "T2")
    assert UPEN2D_KERNEL_CODES[3] == ("D", "T2")
    assert UPEN2D_KERNEL_CODES[4] == ("T2", "T2")


def test_upen2d_errors(tmp_path):
    folder = _upen_folder(tmp_path / "bad")
    # truncated data: last row cut short
    text = (folder / "S_IRCPMG.dat").read_bytes().rstrip(b"\r\n")
    (folder / "S_IRCPMG.dat").write_bytes(text[: text.rfind(b"\t")])
    with pytest.raises(ValueError, match=r"S_IRCPMG\.dat: data line 6 has 9 values.*truncated"):
        read_upen2d_folder(folder)
    # a whole row missing
    _write_matrix(folder / "S_IRCPMG.dat", _ir_data()[:5])
    with pytest.raises(ValueError, match=r"S_IRCPMG\.dat: data is 5x10.*t_Y\.dat has 6"):
        read_upen2d_folder(folder)
    # unknown kernel code
    _write_matrix(folder / "S_IRCPMG.dat", _ir_data())
    (folder / "FileFlag.par").write_text("FL_typeKernel = 9\n")
    with pytest.raises(ValueError, match=r"FileFlag\.par: unknown FL_typeKernel = 9"):
        read_upen2d_folder(folder)
    # missing key
    (folder / "FileFlag.par").write_text("FL_typeKernel = 1\n")
    par = (folder / "FileSetInput.par").read_bytes().replace(b"filenameTimeX", b"filenameXX")
    (folder / "FileSetInput.par").write_bytes(par)
    with pytest.raises(ValueError, match=r"FileSetInput\.par: missing key 'filenameTimeX'"):
        read_upen2d_folder(folder)
    # named file absent
    folder2 = _upen_folder(tmp_path / "absent")
    (folder2 / "t_X.dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"column axis file 't_X\.dat'"):
        read_upen2d_folder(folder2)


@needs_shared
@pytest.mark.parametrize(
    ("key", "kinds", "shape", "tau1_range", "hint"),
    [
        (
            "cement_t1t2_ircpmg",
            ("T1_IR", "T2"),
            (48, 1000),
            (0.8e-3, 2.8),
            ((1e-5, 1.0, 80), (1e-5, 1.0, 80)),
        ),
        (
            "maastricht_t2t2",
            ("T2", "T2"),
            (128, 2800),
            (0.3e-3, 0.84),
            ((1e-5, 3.0, 64), (1e-4, 3.0, 64)),
        ),
        (
            "sse_dt2",
            ("D", "T2"),
            (48, 200),
            (0.0189559e9, 1.27716e9),
            ((1e-11, 1e-7, 80), (1e-4, 0.1, 80)),
        ),
    ],
)
def test_real_shared_folders(key, kinds, shape, tau1_range, hint):
    acq = read_any(SHARED_DATA / key)
    assert acq.kinds == kinds
    assert acq.shape == shape
    assert (acq.tau1[0], acq.tau1[-1]) == pytest.approx(tau1_range)
    np.testing.assert_allclose(acq.grid_hint, hint)
    assert acq.kernel(n_grid=32).data_shape == shape
    if key == "cement_t1t2_ircpmg":
        assert acq.data[0].mean() < 0 < acq.data[-1].mean()
        assert acq.metadata["files"]["data"] == "S_IRCPMG.dat"  # named s_ircpmg.dat in .par


# ----------------------------------------------------------------------------- Spinsolve


def _spinsolve_folder(folder: Path, z: np.ndarray, tau1_ms, echo_us: float, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    keys = {
        "experiment": '"T1IRT2"',
        "nrScans": "16",
        "nrEchoes": str(z.shape[1]),
        "echoTime": f"{echo_us:g}",
        "nrSteps": str(z.shape[0]),
        "indirectFile": '"delays.txt"',
        "indirectUnit": '"ms"',
        "dataFile": '"data2d.csv"',
    }
    keys.update(extra)
    (folder / "acqu.par").write_text(
        "".join(f"{k:<20}= {v}\n" for k, v in keys.items() if v is not None)
    )
    _write_column(folder / "delays.txt", tau1_ms, newline="\n")
    inter = np.empty((z.shape[0], 2 * z.shape[1]))
    inter[:, 0::2], inter[:, 1::2] = z.real, z.imag
    _write_matrix(folder / "data2d.csv", inter, sep=", ", newline="\n")
    return folder


def test_spinsolve_recovers_phase_and_noise(tmp_path):
    rng = np.random.default_rng(0)
    tau1_ms = np.geomspace(1.0, 3000.0, 16)
    n_echoes, echo_us, sigma, phase = 300, 200.0, 5.0, 0.6
    tau2_ms = np.arange(1, n_echoes + 1) * echo_us * 1e-3
    clean = _ir_data(tau1_ms, tau2_ms, t1=300.0, t2=30.0)
    noise = sigma * (rng.standard_normal(clean.shape) + 1j * rng.standard_normal(clean.shape))
    z = (clean + noise) * np.exp(1j * phase)
    folder = _spinsolve_folder(tmp_path / "ss", z, tau1_ms, echo_us)
    assert detect_format(folder) == "spinsolve"
    acq = read_any(folder)
    assert acq.kinds == ("T1_IR", "T2")
    assert acq.shape == (16, 300)
    np.testing.assert_allclose(acq.tau1, tau1_ms * 1e-3)
    np.testing.assert_allclose(acq.tau2, tau2_ms * 1e-3)
    assert acq.metadata["phase"] == pytest.approx(phase, abs=0.01)
    assert acq.noise_std == pytest.approx(sigma, rel=0.05)
    assert np.std(acq.data - clean) == pytest.approx(sigma, rel=0.1)
    assert acq.metadata["acqu"]["nrScans"] == "16"
    assert read_spinsolve_2d(folder / "acqu.par").shape == (16, 300)


def test_spinsolve_errors(tmp_path):
    z = np.ones((3, 4)) * (1 + 1j)
    folder = _spinsolve_folder(tmp_path / "a", z, [1.0, 2.0, 3.0], 100.0, nrEchoes=None)
    with pytest.raises(ValueError, match=r"acqu\.par: missing key 'nrEchoes'"):
        read_spinsolve_2d(folder)
    folder = _spinsolve_folder(tmp_path / "b", z, [1.0, 2.0, 3.0], 100.0, experiment="T3T3")
    with pytest.raises(ValueError, match=r"acqu\.par: unknown experiment 'T3T3'"):
        read_spinsolve_2d(folder)
    folder = _spinsolve_folder(tmp_path / "c", z, [1.0, 2.0, 3.0], 100.0, nrEchoes="5")
    with pytest.raises(ValueError, match=r"data2d\.csv: data is 3x8 .* needs 3x10"):
        read_spinsolve_2d(folder)
    folder = _spinsolve_folder(tmp_path / "d", z, [1.0, 2.0], 100.0)
    with pytest.raises(ValueError, match=r"delays\.txt: indirect axis has 2 values.*nrSteps = 3"):
        read_spinsolve_2d(folder)
    folder = _spinsolve_folder(tmp_path / "e", z, [1.0, 2.0, 3.0], 100.0)
    (folder / "data2d.csv").write_text("1, 2, 3\n4, 5, 6\n7, 8, 9\n")
    with pytest.raises(ValueError, match="odd number"):
        read_spinsolve_2d(folder)


# ----------------------------------------------------------------------------- .mat / table / npz


def test_read_mat_guessed_and_explicit_keys(tmp_path):
    path = tmp_path / "scan.mat"
    scipy.io.savemat(path, {"S": _ir_data(), "t_Y": TAU1_MS, "t_X": TAU2_MS[:, None]})
    acq = read_mat(path, kinds=("T1_IR", "T2"), time_unit=1e-3)
    assert acq.shape == (6, 10)
    np.testing.assert_allclose(acq.tau2, TAU2_MS * 1e-3)
    assert acq.metadata["keys"] == {"data": "S", "tau1": "t_Y", "tau2": "t_X"}
    assert detect_format(path) == "mat"

    path2 = tmp_path / "named.mat"
    scipy.io.savemat(
        path2,
        {
            "sig": _ir_data(),
            "a": TAU1_MS,
            "b": TAU2_MS,
            "kinds": np.array(["T1_IR", "T2"]),
            "noise_std": 2.5,
        },
    )
    acq2 = read_any(path2, data_key="sig", tau1_key="a", tau2_key="b", time_unit=1e-3)
    assert acq2.kinds == ("T1_IR", "T2") and acq2.noise_std == 2.5
    with pytest.raises(ValueError, match=r"cannot find the data matrix.*available variables"):
        read_mat(path2, kinds=("T2", "T2"))
    msg = r"named\.mat \(sig\): data is 6x10 .*variable b has 10 values .* has 6"
    with pytest.raises(ValueError, match=msg):
        read_mat(path2, "sig", "b", "a", time_unit=1e-3)
    with pytest.raises(ValueError, match=r"kinds are not stored in the file"):
        read_mat(path, time_unit=1e-3)


def test_read_mat_complex_is_phased(tmp_path):
    path = tmp_path / "c.mat"
    scipy.io.savemat(path, {"data": _ir_data() * np.exp(0.4j), "tau1": TAU1_MS, "tau2": TAU2_MS})
    acq = read_mat(path, kinds=("T1_IR", "T2"), time_unit=1e-3)
    assert acq.metadata["phase"] == pytest.approx(0.4)
    np.testing.assert_allclose(acq.data, _ir_data(), atol=1e-9)


def test_read_table_csv_and_whitespace(tmp_path):
    _write_matrix(tmp_path / "S.csv", _ir_data(), sep=",")
    (tmp_path / "t1.csv").write_text("tau1_ms\n" + "\n".join(f"{float(v)!r}" for v in TAU1_MS))
    _write_column(tmp_path / "t2.txt", TAU2_MS)
    acq = read_table(
        tmp_path / "S.csv",
        tmp_path / "t1.csv",
        tmp_path / "t2.txt",
        ("T1_IR", "T2"),
        time_unit=1e-3,
        noise_std=1.0,
    )
    np.testing.assert_allclose(acq.data, _ir_data(), rtol=1e-9)
    np.testing.assert_allclose(acq.tau1, TAU1_MS * 1e-3)
    assert acq.noise_std == 1.0
    same = read_any(
        tmp_path / "S.csv",
        tau1_path=tmp_path / "t1.csv",
        tau2_path=tmp_path / "t2.txt",
        kinds=("T1_IR", "T2"),
        time_unit=1e-3,
    )
    np.testing.assert_array_equal(same.data, acq.data)
    with pytest.raises(ValueError, match="needs its axes and kinds"):
        read_any(tmp_path / "S.csv")
    # D axis in ms/µm² via the per-axis unit
    b = np.linspace(0.02, 1.3, 6)
    _write_column(tmp_path / "b.txt", b)
    acq_d = read_table(
        tmp_path / "S.csv",
        tmp_path / "b.txt",
        tmp_path / "t2.txt",
        ("D", "T2"),
        time_unit=1e-3,
        tau1_unit=1e9,
    )
    np.testing.assert_allclose(acq_d.tau1, b * 1e9)


def test_table_errors(tmp_path):
    _write_column(tmp_path / "t1.txt", TAU1_MS)
    _write_column(tmp_path / "t2.txt", TAU2_MS)
    kinds = ("T1_IR", "T2")
    data = tmp_path / "S.txt"

    def read():
        return read_table(data, tmp_path / "t1.txt", tmp_path / "t2.txt", kinds, 1e-3)

    _write_matrix(data, _ir_data())
    rows = data.read_text().splitlines()
    cells = rows[2].split("\t")
    cells[1] = "abc"
    rows[2] = "\t".join(cells)
    data.write_text("\n".join(rows))
    with pytest.raises(ValueError, match=r"S\.txt: data line 3, column 2: cannot read 'abc'"):
        read()
    # wrong delimiter: '|' between numbers
    data.write_text("\n".join("|".join(f"{v:g}" for v in row) for row in _ir_data()))
    with pytest.raises(ValueError, match=r"S\.txt: data line 1, column 1.*wrong delimiter"):
        read()
    # axis length mismatch / transposed
    _write_matrix(data, _ir_data().T)
    with pytest.raises(ValueError, match=r"S\.txt: data is 10x6.*looks transposed"):
        read()
    _write_matrix(data, _ir_data()[:, :7])
    with pytest.raises(ValueError, match=r"data is 6x7 .* t2\.txt has 10.*truncated"):
        read()
    # NaN, empty file, non-monotonic axis
    _write_matrix(data, _ir_data())
    data.write_text(data.read_text().replace(f"{_ir_data()[1, 1]:.10g}", "nan", 1))
    with pytest.raises(ValueError, match=r"S\.txt: data contains NaN"):
        read()
    data.write_text("% only a comment\n")
    with pytest.raises(ValueError, match=r"S\.txt: data file is empty"):
        read()
    _write_matrix(data, _ir_data())
    _write_column(tmp_path / "t1.txt", TAU1_MS[::-1])
    with pytest.raises(ValueError, match=r"t1\.txt: axis 1 must be strictly increasing"):
        read()
    _write_matrix(tmp_path / "t1.txt", np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"t1\.txt: axis 1 file must hold one row or one column"):
        read()
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        read_table(tmp_path / "missing.txt", tmp_path / "t1.txt", tmp_path / "t2.txt", kinds)
    with pytest.raises(ValueError, match="unknown kernel kind 'T3'"):
        read_table(data, tmp_path / "t1.txt", tmp_path / "t2.txt", ("T3", "T2"))


def test_read_npz(tmp_path):
    path = tmp_path / "acq.npz"
    np.savez(
        path,
        data=_ir_data(),
        tau1=TAU1_MS * 1e-3,
        tau2=TAU2_MS * 1e-3,
        kinds=np.array(["T1_IR", "T2"]),
        noise_std=3.0,
    )
    acq = read_any(path)
    assert detect_format(path) == "npz"
    assert acq.kinds == ("T1_IR", "T2") and acq.noise_std == 3.0 and acq.shape == (6, 10)
    np.savez(path, data=_ir_data(), tau1=TAU1_MS * 1e-3, kinds=np.array(["T1_IR", "T2"]))
    with pytest.raises(ValueError, match=r"acq\.npz: missing key\(s\) \['tau2'\]"):
        read_npz(path)
    np.savez(
        path,
        data=_ir_data(),
        tau1=TAU1_MS[:5] * 1e-3,
        tau2=TAU2_MS * 1e-3,
        kinds=np.array(["T1_IR", "T2"]),
    )
    with pytest.raises(ValueError, match=r"acq\.npz \(data\): data is 6x10 .* has 5 values"):
        read_npz(path)
    np.savez(
        path,
        data=np.array([{"a": 1}], dtype=object),
        tau1=[1.0],
        tau2=[1.0],
        kinds=np.array(["T2", "T2"]),
    )
    with pytest.raises(ValueError, match="pickles"):
        read_npz(path)
    np.savez(
        path,
        data=_ir_data().astype(str),
        tau1=TAU1_MS,
        tau2=TAU2_MS,
        kinds=np.array(["T1_IR", "T2"]),
    )
    with pytest.raises(TypeError, match=r"acq\.npz: data has non-numeric dtype"):
        read_npz(path)


def test_detect_format_errors(tmp_path):
    with pytest.raises(ValueError, match="folder format not recognised"):
        detect_format(tmp_path)
    with pytest.raises(ValueError, match=r"unknown format \(suffix '\.xyz'\)"):
        detect_format(tmp_path / "a.xyz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_any(tmp_path / "nothing.npz")


def test_acquisition_validation():
    with pytest.raises(ValueError, match="it looks transposed"):
        Acquisition(np.ones((3, 2)), [1.0, 2.0], [1.0, 2.0, 3.0], ("T2", "T2"))
    with pytest.raises(TypeError, match="complex"):
        Acquisition(np.ones((2, 2)) * 1j, [1.0, 2.0], [1.0, 2.0], ("T2", "T2"))
    with pytest.raises(ValueError, match="unknown kernel kind"):
        Acquisition(np.ones((2, 2)), [1.0, 2.0], [1.0, 2.0], ("T2", "X"))
    with pytest.raises(ValueError, match="grid_hint"):
        Acquisition(np.ones((2, 2)), [1.0, 2.0], [1.0, 2.0], ("T2", "T2"), grid_hint=(1, 2))


# ----------------------------------------------------------------------------- result files


def test_result_npz_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    F = rng.random((5, 7))
    g1, g2 = np.geomspace(1e-4, 1, 5), np.geomspace(1e-3, 10, 7)
    meta = {
        "method": "upen",
        "alpha": np.float64(0.01),
        "residual": 0.02,
        "peaks": np.array([1.0, 2.0]),
        "shape": (5, 7),
    }
    path = save_result_npz(tmp_path / "res", F, g1, g2, ("T1_IR", "T2"), meta)
    assert path.name == "res.npz"
    loaded = load_result_npz(path)
    np.testing.assert_array_equal(loaded["map"], F)
    np.testing.assert_array_equal(loaded["grid1"], g1)
    np.testing.assert_array_equal(loaded["grid2"], g2)
    assert loaded["kinds"] == ("T1_IR", "T2")
    assert loaded["metadata"] == {
        "method": "upen",
        "alpha": 0.01,
        "residual": 0.02,
        "peaks": [1.0, 2.0],
        "shape": [5, 7],
    }
    assert loaded["format"] == "laplace_inv.result/1"
    # no pickles inside: loadable with allow_pickle=False
    with np.load(path, allow_pickle=False) as npz:
        assert {"map", "grid1", "grid2", "kinds", "metadata", "format"} <= set(npz.files)
    with pytest.raises(ValueError, match="result file"):
        read_npz(path)


def test_result_npz_errors(tmp_path):
    g = np.geomspace(1e-3, 1, 4)
    with pytest.raises(ValueError, match=r"F has shape \(4, 3\)"):
        save_result_npz(tmp_path / "r.npz", np.ones((4, 3)), g, g, ("T2", "T2"))
    with pytest.raises(TypeError, match="metadata cannot be saved"):
        save_result_npz(tmp_path / "r.npz", np.ones((4, 4)), g, g, ("T2", "T2"), {"f": object()})
    np.savez(tmp_path / "x.npz", data=np.ones(2))
    with pytest.raises(ValueError, match=r"x\.npz: missing key\(s\).*not a laplace_inv result"):
        load_result_npz(tmp_path / "x.npz")


def test_upen2d_unapplied_flags_warn(tmp_path):
    folder = _upen_folder(tmp_path / "w")
    (folder / "FileFlag.par").write_text("FL_typeKernel = 4\nFL_EraseCol = 2\nEND\n")
    with pytest.warns(UserWarning, match="FL_EraseCol = 2 is recorded in metadata but not"):
        acq = read_upen2d_folder(folder)
    assert acq.kinds == ("T2", "T2") and acq.metadata["FileFlag"]["FL_EraseCol"] == "2"

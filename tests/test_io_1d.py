"""1D acquisitions and the 1D readers: CSV, Bruker minispec .dps, GeoSpec .txt, Tecmag .tnt."""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.io import (
    Acquisition,
    detect_format,
    read_any,
    read_csv_1d,
    read_geospec_txt,
    read_minispec_dps,
    read_npz,
    read_tecmag_tnt,
)

DATA = Path(
    os.environ.get("LAPLACE_INV_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
EXAMPLES = DATA / "nmrinversions_examples"
needs_examples = pytest.mark.skipif(
    not (EXAMPLES / "README.md").is_file(), reason=f"example exports not found at {EXAMPLES}"
)

T = np.arange(1, 201) * 1e-3
DECAY = 100 * np.exp(-T / 0.05)


# ----------------------------------------------------------------------------- Acquisition


def test_one_dimensional_acquisition_api():
    acq = Acquisition(DECAY, T, None, ("T2",), noise_std=0.5)
    assert acq.ndim == 1 and acq.kind == "T2" and acq.shape == (200,)
    assert len(acq.axes) == 1 and acq.axes[0] is acq.tau1
    (grid,) = acq.grids(32)
    assert grid.size == 32 and grid[0] == pytest.approx(T[0] / 5)
    assert "tau1=[0.001..0.2]" in repr(acq) and "tau2" not in repr(acq)
    kernel = acq.kernel()  # 1D inversion: a Kernel1D on the default grid
    assert kernel.ndim == 1 and kernel.data_shape == (200, 1) and kernel.kinds == ("T2",)
    with pytest.raises(ValueError, match="kinds must be a pair"):
        Acquisition(np.ones((2, 2)), [1.0, 2.0], [1.0, 2.0], ("T2",))
    with pytest.raises(ValueError, match=r"data must be 1D \(n,\) because tau2 is None"):
        Acquisition(np.ones((2, 2)), [1.0, 2.0], None, ("T2",))
    with pytest.raises(ValueError, match="tau1 has 3 values"):
        Acquisition(np.ones(2), [1.0, 2.0, 3.0], None, ("T2",))
    with pytest.raises(ValueError, match="grid_hint must be"):
        Acquisition(DECAY, T, None, ("T2",), grid_hint=((1e-3, 1.0, 10), (1e-3, 1.0, 10)))
    hinted = Acquisition(DECAY, T, None, ("T2",), grid_hint=((1e-3, 1.0, 10),))
    assert hinted.grids()[0].size == 10


def test_default_d_grid_follows_the_b_values():
    b = np.linspace(0.0, 163.0, 16) ** 2 / 163.0**2 * 7.98e9
    acq = Acquisition(np.ones((16, 3)), b, [1e-3, 2e-3, 3e-3], ("D", "T2"))
    grid_d, _ = acq.grids()
    assert grid_d[0] == pytest.approx(0.1 / b[-1])
    assert grid_d[-1] == pytest.approx(10.0 / b[1])
    assert grid_d[-1] < 1e-6  # old rule 10/b_min put it at 2.9e-5 for b_min = 3.4e5
    assert acq.kernel(n_grid=8).map_shape == (8, 8)


def test_npz_one_dimensional(tmp_path):
    np.savez(tmp_path / "d.npz", data=DECAY, tau1=T, kinds=["T2"], noise_std=0.1)
    acq = read_npz(tmp_path / "d.npz")
    assert acq.ndim == 1 and acq.noise_std == 0.1


# ----------------------------------------------------------------------------- CSV


def test_csv_two_columns_with_unit_in_header(tmp_path):
    p = tmp_path / "cpmg.csv"
    p.write_text(
        "time (ms),amplitude\n"
        + "".join(f"{t * 1e3:g},{y:.6g}\n" for t, y in zip(T, DECAY, strict=True))
    )
    assert detect_format(p) == "csv1d"
    acq = read_any(p, kind="T2")
    np.testing.assert_allclose(acq.tau1, T)
    assert acq.metadata["kind_guessed"] is False


def test_csv_time_unit_heuristic_and_kind_guess(tmp_path):
    p = tmp_path / "cpmg.txt"
    p.write_text("".join(f"{t * 1e3:g}\t{y:.6g}\n" for t, y in zip(T, DECAY, strict=True)))
    with pytest.warns(UserWarning, match="kind not given; guessed 'T2'"):
        with pytest.warns(UserWarning, match="ms, pass time_unit=1e-3"):
            read_csv_1d(p)
    with pytest.warns(UserWarning, match="if the file's times are in s, pass time_unit=1"):
        read_csv_1d(p, "T2", time_unit=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acq = read_csv_1d(p, "T2", time_unit=1e-3)
    assert acq.noise_std is None or acq.noise_std < 1e-3
    ir = tmp_path / "ir.csv"
    tau = np.geomspace(1e-4, 0.5, 32)
    ir.write_text("".join(f"{t:g},{100 * (1 - 2 * np.exp(-t / 0.05)):.6g}\n" for t in tau))
    with pytest.warns(UserWarning, match="guessed 'T1_IR'"):
        assert read_any(ir).kinds == ("T1_IR",)


def test_csv_errors(tmp_path):
    p = tmp_path / "three.csv"
    p.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="two columns"):
        read_csv_1d(p, "T2")
    p.write_text("1,2\n2,x\n")
    with pytest.raises(ValueError, match="line 2, column 2"):
        read_csv_1d(p, "T2")
    p.write_text("1,2\n2,3\n")
    with pytest.raises(ValueError, match="unknown kernel kind 'T3'"):
        read_csv_1d(p, "T3")


# ----------------------------------------------------------------------------- minispec


def test_minispec_dps(tmp_path):
    p = tmp_path / "cpmg.dps"
    rng = np.random.default_rng(0)
    y = DECAY + rng.normal(0, 0.2, T.size)
    p.write_text(
        "".join(
            f"{i}\t{t * 1e3:.10f}\t{v:.10f}\n" for i, (t, v) in enumerate(zip(T, y, strict=True))
        )
    )
    assert detect_format(p) == "minispec"
    acq = read_any(p, kind="T2")
    np.testing.assert_allclose(acq.tau1, T)
    assert acq.noise_std == pytest.approx(0.2, rel=0.3)
    p.write_text("0\t1\t2\n5\t2\t3\n")
    with pytest.raises(ValueError, match="point index"):
        read_minispec_dps(p, "T2")


# ----------------------------------------------------------------------------- GeoSpec


def _geospec(path: Path, test_type: int, x_ms, z) -> Path:
    rows = "".join(
        f"{x:g}\t0.0\t{v.real:.3f}\t{v.imag:.3f}\n" for x, v in zip(x_ms, z, strict=True)
    )
    path.write_text(
        "[GITData]\n;* comment\nTestType=" + str(test_type) + "\n\n[Parameters]\nTau=0.05\n"
        "[Results]\nNoise=2.0\n\n[Data]\nX\tY\tReal\tImaginary\n" + rows
    )
    return path


def test_geospec_cpmg_and_ir(tmp_path):
    rng = np.random.default_rng(1)
    z = (DECAY + rng.normal(0, 1, T.size) + 1j * rng.normal(0, 1, T.size)) * np.exp(-2.9j)
    p = _geospec(tmp_path / "cpmg.txt", 3, T * 1e3, z)
    assert detect_format(p) == "geospec"
    acq = read_any(p)
    assert acq.kinds == ("T2",) and acq.data[0] > 90
    np.testing.assert_allclose(acq.tau1, T, rtol=1e-6)
    assert acq.noise_std == pytest.approx(1.0, rel=0.25)
    assert acq.metadata["vendor_results"]["Noise"] == "2.0"
    tau = np.geomspace(0.1, 5000, 32)
    ir = 100 * (1 - 2 * np.exp(-tau / 300)) * np.exp(0.3j)
    acq = read_geospec_txt(_geospec(tmp_path / "ir.txt", 7, tau, ir))
    assert acq.kinds == ("T1_IR",) and acq.data[0] < 0 < acq.data[-1]
    with pytest.raises(ValueError, match=r"TestType 106 .* is a 2D test"):
        read_geospec_txt(_geospec(tmp_path / "t1t2.txt", 106, tau, ir))


# ----------------------------------------------------------------------------- Tecmag


def _lp(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<I", len(raw)) + raw


def _tnt(path: Path, points: np.ndarray, npts: tuple, acq_points: int, pseq: list[str]) -> Path:
    tmag = bytearray(1024)
    struct.pack_into("<4i", tmag, 0, *npts)
    struct.pack_into("<4i", tmag, 16, points.size, 1, 1, 1)
    struct.pack_into("<i", tmag, 32, acq_points)
    struct.pack_into("<d", tmag, 76, 2.11)
    struct.pack_into("<4d", tmag, 272, 4e-6, 1e-4, 1e-4, 1e-4)
    data = points.astype("<c8").tobytes()
    seq = b"".join(_lp(s) for s in pseq) + b"\x00" * 7
    path.write_bytes(
        b"TNT1.008"
        + struct.pack("<4sII", b"TMAG", 1, 1024)
        + bytes(tmag)
        + struct.pack("<4sII", b"DATA", 1, len(data))
        + data
        + struct.pack("<4sII", b"PSEQ", 1, 999999999)
        + seq
    )
    return path


def test_tecmag_cpmg(tmp_path):
    rng = np.random.default_rng(2)
    echoes = (DECAY + rng.normal(0, 0.5, T.size) + 1j * rng.normal(0, 0.5, T.size)) * 1j
    window = np.repeat(echoes, 4) + np.tile([0, 0, 0, 0], T.size)
    p = _tnt(
        tmp_path / "cpmg.tnt",
        window,
        (4, 1, 1, 1),
        4,
        ["1.18 BIN", "CPMG_test", "Echo_Time", "1m", "0.1u", "Nechoes", "200"],
    )
    assert detect_format(p) == "tecmag"
    acq = read_any(p)
    assert acq.kinds == ("T2",)
    np.testing.assert_allclose(acq.tau1, T)
    assert acq.data[0] == pytest.approx(DECAY[0], abs=2)
    assert acq.noise_std == pytest.approx(0.5, rel=0.3)


def test_tecmag_inversion_recovery(tmp_path):
    tau = np.geomspace(1e-4, 5.0, 12)
    y = (1 - 2 * np.exp(-tau / 0.3)) * 1e5 * np.exp(-0.7j)
    window = np.zeros((12, 8), dtype=complex)
    window[:, :5] = y[:, None]  # the last three window points are never written
    table = "\r\n".join(f"{t * 1e3:.3f}m" for t in tau) + "\r\n1000.000m"
    p = _tnt(
        tmp_path / "ir.tnt",
        window.ravel(),
        (8, 12, 1, 1),
        8,
        ["1.18 BIN", "InvRec_test", "Delay", "de0:2", table, "Echo_Time", "400u"],
    )
    acq = read_tecmag_tnt(p)
    assert acq.kinds == ("T1_IR",) and acq.metadata["delay_table"] == "de0:2"
    np.testing.assert_allclose(acq.tau1, np.round(tau * 1e3, 3) * 1e-3)
    np.testing.assert_allclose(acq.data, (1 - 2 * np.exp(-tau / 0.3)) * 1e5, rtol=1e-5)


def test_tecmag_damaged(tmp_path):
    p = tmp_path / "bad.tnt"
    p.write_bytes(b"NOTATNT!" + b"\x00" * 64)
    with pytest.raises(ValueError, match=r"not a Tecmag \.tnt file"):
        read_tecmag_tnt(p)
    p.write_bytes(b"TNT1.008" + struct.pack("<4sII", b"TMAG", 1, 1024) + b"\x00" * 10)
    with pytest.raises(ValueError, match="runs past the end"):
        read_tecmag_tnt(p)


# ----------------------------------------------------------------------------- real exports


@needs_examples
@pytest.mark.parametrize(
    ("name", "kind", "shape", "first", "last"),
    [
        ("csv/CPMG_graphene.csv", "T2", (32,), 7e-4, 0.0224),
        ("csv/IR_sandstone.csv", "T1_IR", (32,), 1e-4, 0.5),
        ("geospec_txt/CPMG_bunter.txt", "T2", (23148,), 1.08e-4, 2.49998),
        ("geospec_txt/IR_bunter.txt", "T1_IR", (32,), None, 5.693147),
        ("tecmag_tnt/CPMG_silicon_oil.tnt", "T2", (5000,), 2e-4, 1.0),
        ("tecmag_tnt/IR_silicon_oil.tnt", "T1_IR", (16,), 9e-5, 9.99999),
        ("bruker/minispec/cpmg.dps", "T2", (10000,), 2.1508e-4, 2.1220029),
    ],
)
def test_real_one_dimensional_exports(name, kind, shape, first, last):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = (
            read_any(EXAMPLES / name, kind=kind)
            if "csv" in name or "dps" in name
            else (read_any(EXAMPLES / name))
        )
    assert acq.kinds == (kind,) and acq.shape == shape
    if first is not None:
        assert acq.tau1[0] == pytest.approx(first, rel=1e-4)
    assert acq.tau1[-1] == pytest.approx(last, rel=1e-4)
    assert acq.noise_std is not None and acq.noise_std > 0
    n = max(1, acq.data.size // 10)
    if kind == "T2":
        assert acq.data[:n].mean() > 10 * acq.noise_std  # phased positive, above the noise
    else:
        assert acq.data[:n].mean() < 0 < acq.data[-n:].mean()


@needs_examples
@pytest.mark.parametrize("name", ["CPMG_bunter.txt", "IR_bunter.txt"])
def test_real_geospec_noise_matches_the_instrument(name):
    acq = read_any(EXAMPLES / "geospec_txt" / name)
    vendor = float(acq.metadata["vendor_results"]["Noise"])
    assert abs(acq.noise_std / vendor - 1) < 0.2

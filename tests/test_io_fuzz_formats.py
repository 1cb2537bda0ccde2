"""Damaged files of the new formats give an acquisition or a clear ValueError, nothing else."""

from __future__ import annotations

import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_io_1d import _geospec, _tnt
from test_io_spinsolve import _t1irt2, _write_export

from laplace_inv.io import Acquisition, read_any

T = np.arange(1, 65) * 1e-3
DECAY = 100 * np.exp(-T / 0.02)


def _csv(folder: Path) -> Path:
    p = folder / "d.csv"
    p.write_text(
        "t_ms,amp\n" + "".join(f"{t * 1e3:g},{y:.5g}\n" for t, y in zip(T, DECAY, strict=True))
    )
    return p


def _dps(folder: Path) -> Path:
    p = folder / "d.dps"
    p.write_text(
        "".join(
            f"{i}\t{t * 1e3:.6f}\t{y:.6f}\n" for i, (t, y) in enumerate(zip(T, DECAY, strict=True))
        )
    )
    return p


def _geo(folder: Path) -> Path:
    return _geospec(folder / "g.txt", 3, T * 1e3, DECAY * np.exp(0.4j))


def _tecmag(folder: Path) -> Path:
    return _tnt(
        folder / "t.tnt",
        np.repeat(DECAY * 1j, 4),
        (4, 1, 1, 1),
        4,
        ["1.18 BIN", "CPMG", "Echo_Time", "1m"],
    )


def _spinsolve(folder: Path) -> Path:
    par, z, *_ = _t1irt2()
    _write_export(folder / "ss", par, z[:4, :32], "T1IRT2.dat")
    return _fix(folder / "ss")


def _fix(folder: Path) -> Path:
    text = (folder / "acqu.par").read_text().replace("tauSteps = 16", "tauSteps = 4")
    (folder / "acqu.par").write_text(text.replace("nrEchoes = 256", "nrEchoes = 32"))
    return folder


WRITERS = {"csv": _csv, "dps": _dps, "geospec": _geo, "tecmag": _tecmag, "spinsolve": _spinsolve}


def _damage(data: bytes, how: str, rng: np.random.Generator) -> bytes:
    if how == "empty":
        return b""
    if how == "truncate":
        return data[: len(data) // 3]
    if how == "garbage":
        return bytes(rng.integers(0, 256, 200, dtype=np.uint8))
    if how == "flip":
        arr = bytearray(data)
        for i in rng.integers(0, len(arr), 20):
            arr[i] = int(rng.integers(0, 256))
        return bytes(arr)
    if how == "nan":
        return data.replace(b"1", b"nan", 1) if b"1" in data else data
    raise AssertionError(how)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("how", ["empty", "truncate", "garbage", "flip", "nan"])
def test_damaged_files_fail_cleanly(tmp_path, fmt, how):
    path = WRITERS[fmt](tmp_path)
    target = path / ("T1IRT2.dat" if fmt == "spinsolve" else "") if path.is_dir() else path
    rng = np.random.default_rng(zlib.crc32(f"{fmt}/{how}".encode()))
    target.write_bytes(_damage(target.read_bytes(), how, rng))
    kwargs = {"kind": "T2"} if fmt in ("csv", "dps") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            acq = read_any(path, **kwargs)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            assert str(path.name) in str(exc) or str(tmp_path) in str(exc)
            return
    assert isinstance(acq, Acquisition)
    assert np.all(np.isfinite(acq.data)) and acq.data.shape == acq.shape

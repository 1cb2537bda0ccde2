"""Issue 26 defects without a regression test elsewhere.

Defect 13 (unbounded sizes in ``.par`` files) is covered for huge integers by
``tests/test_io_safety.py`` and ``tests/test_io_spinsolve.py``; the hostile-input report found
that non-finite sizes still escaped as a bare ``cannot convert float NaN to integer`` (or an
``OverflowError`` for ``inf``) that named neither the file nor the key, and Upen2DTool grid
sizes below 2 were reported as "grid size for axis 1" without naming ``nx``/``ny``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from laplace_inv.io import read_spinsolve, read_upen2d_folder
from laplace_inv.io._par import par_int

NON_FINITE = ["nan", "inf", "-inf", "NaN"]


@pytest.mark.parametrize("value", NON_FINITE)
def test_par_int_names_file_and_key_for_non_finite_values(value):
    with pytest.raises(ValueError, match=rf"a\.par: key 'nx' = '{value}' must be an integer"):
        par_int({"nx": value}, "nx", Path("a.par"), low=1, high=4096)


def _upen(folder: Path, key: str, value: str) -> Path:
    folder.mkdir()
    keys = {"filenamedata": "s.dat", "filenameTimeX": "tx.dat", "filenameTimeY": "ty.dat"}
    keys.update({"nx": "20", "ny": "20", "T1min": "0.1", "T1max": "100", "T2min": "0.1"})
    keys.update({"T2max": "100", key: value})
    text = "".join(f"{k} = {v}\n" for k, v in keys.items()) + "END\n"
    (folder / "FileSetInput.par").write_text(text)
    (folder / "FileFlag.par").write_text("FL_typeKernel = 4\nEND\n")
    (folder / "s.dat").write_text("3 2 1\n2 1 0.5\n")
    (folder / "ty.dat").write_text("1\n2\n")
    (folder / "tx.dat").write_text("1\n2\n3\n")
    return folder


@pytest.mark.parametrize("key", ["nx", "ny"])
@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_par_sizes_name_the_key(tmp_path, key, value):
    folder = _upen(tmp_path / "f", key, value)
    with pytest.raises(ValueError, match=rf"FileSetInput\.par: key '{key}' = '{value}'"):
        read_upen2d_folder(folder)


@pytest.mark.parametrize("key", ["nrEchoes", "tauSteps"])
@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_spinsolve_sizes_name_the_key(tmp_path, key, value):
    par = {"experiment": '"T1IRT2"', "tauSteps": "4", "minTau": "1", "maxTau": "3000"}
    par.update({"logspace": '"yes"', "nrEchoes": "8", "echoTime": "100", "nrScans": "4"})
    par[key] = value
    (tmp_path / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
    rows = [",".join(["5", "0.1"] * 8) for _ in range(4)]
    (tmp_path / "T1IRT2.dat").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=rf"key '{key}' = '{value}' must be an integer"):
        read_spinsolve(tmp_path)


def test_huge_size_message_quotes_the_file_text():
    with pytest.raises(ValueError, match=r"nx = 1e99 is out of range; this reader accepts 1"):
        par_int({"nx": "1e99"}, "nx", Path("a.par"), low=1, high=4096)
    assert par_int({"nx": "64"}, "nx", Path("a.par"), low=1, high=4096) == 64
    assert np.isfinite(par_int({"nx": "6.4D1"}, "nx", Path("a.par")))


@pytest.mark.parametrize("key", ["nx", "ny"])
@pytest.mark.parametrize("value", ["-3", "0", "1"])
def test_too_small_upen2d_grid_sizes_name_the_key(tmp_path, key, value):
    folder = _upen(tmp_path / "f", key, value)
    with pytest.raises(ValueError, match=rf"{key} = {value} is out of range; .* 2 to \d+"):
        read_upen2d_folder(folder)

"""Hostile reader inputs (issue 26 defects 3, 5, 13, 19, 20): paths, sizes, members, options."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from laplace_inv.io import load_result_npz, read_any, read_mat, read_npz, read_upen2d_folder


def _upen(folder: Path, data_name: str = "s.dat", **extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    keys = {"filenamedata": data_name, "filenameTimeX": "tx.dat", "filenameTimeY": "ty.dat"}
    keys.update(extra)
    (folder / "FileSetInput.par").write_text(
        "".join(f"{k} = {v}\n" for k, v in keys.items()) + "END\n"
    )
    (folder / "FileFlag.par").write_text("FL_typeKernel = 4\nEND\n")
    (folder / "s.dat").write_text("3 2 1\n2 1 0.5\n")
    (folder / "ty.dat").write_text("1\n2\n")
    (folder / "tx.dat").write_text("1\n2\n3\n")
    return folder


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../s.dat", "..\\s.dat", "C:\\Windows\\win.ini", "a/../../s.dat"]
)
def test_par_file_cannot_name_a_file_outside_the_folder(tmp_path, name):
    folder = _upen(tmp_path / "f", data_name=name)
    with pytest.raises(ValueError, match="data files must lie inside the folder") as err:
        read_upen2d_folder(folder)
    assert "root:" not in str(err.value)


def test_link_leaving_the_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = _upen(tmp_path / "f", data_name="s2.dat")
    try:
        os.symlink(secret, folder / "s2.dat")
    except OSError:
        pytest.skip("symbolic links are not available here")
    with pytest.raises(ValueError, match="a link that leaves the folder") as err:
        read_upen2d_folder(folder)
    assert "root:x" not in str(err.value)


def test_subfolder_inside_is_fine(tmp_path):
    folder = _upen(tmp_path / "f", data_name="sub/s.dat")
    (folder / "sub").mkdir()
    (folder / "sub" / "s.dat").write_text("3 2 1\n2 1 0.5\n")
    assert read_upen2d_folder(folder).shape == (2, 3)


@pytest.mark.parametrize(("key", "value"), [("nx", "50000000"), ("ny", "2000000000")])
def test_grid_sizes_in_par_files_are_bounded(tmp_path, key, value):
    extra = {"nx": "20", "ny": "20", "T1min": "0.1", "T1max": "100", "T2min": "0.1"}
    extra.update({"T2max": "100", key: value})
    folder = _upen(tmp_path / "f", **extra)
    with pytest.raises(ValueError, match=f"{key} = {value} is out of range"):
        read_upen2d_folder(folder)


def test_result_metadata_cannot_recurse(tmp_path):
    path = tmp_path / "r.npz"
    np.savez(
        path,
        map=np.eye(2),
        grid1=[1e-3, 1e-2],
        grid2=[1e-3, 1e-2],
        kinds=np.array(["T2", "T2"]),
        metadata=np.array("[" * 100000),
    )
    with pytest.raises(ValueError, match="nests deeper than"):
        load_result_npz(path)
    np.savez(
        path,
        map=np.eye(2),
        grid1=[1e-3, 1e-2],
        grid2=[1e-3, 1e-2],
        kinds=np.array(["T2", "T2"]),
        metadata=np.array(json.dumps({"a": "[[[[" * 50, "b": [[1]]})),
    )
    assert load_result_npz(path)["metadata"]["b"] == [[1]]  # brackets inside strings are text


def test_npz_readers_decompress_only_what_they_need(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    np.savez_compressed(
        path,
        data=np.ones((2, 2)),
        tau1=[0.1, 0.2],
        tau2=[0.01, 0.02],
        kinds=np.array(["T2", "T2"]),
        unused=np.zeros((4096, 4096)),  # 128 MiB once decompressed
    )
    loaded: list[str] = []
    original = np.lib.npyio.NpzFile.__getitem__

    def spy(self, key):
        loaded.append(key)
        return original(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", spy)
    assert read_npz(path).shape == (2, 2)
    assert "unused" not in loaded


def test_read_any_names_options_a_format_does_not_take(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02], kinds=["T2", "T2"])
    with pytest.raises(ValueError, match=r"option\(s\) kinds, tau1_path, tau2_path, time_unit"):
        read_any(path, tau1_path="t.csv", tau2_path="u.csv", kinds=("T2", "T2"), time_unit=1)
    with pytest.raises(ValueError, match="'npz' format"):
        read_any(path, bogus=1)


def test_cli_invert_npz_with_tau1_gives_a_clear_message(tmp_path, capsys):
    from laplace_inv.cli import main

    path = tmp_path / "a.npz"
    np.savez(path, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02], kinds=["T2", "T2"])
    (tmp_path / "t.csv").write_text("1\n2\n")
    try:
        code = main(
            ["invert", str(path), "--tau1", str(tmp_path / "t.csv"), "--out", str(tmp_path / "out")]
        )
    except ValueError as exc:  # whichever way the CLI reports it, the message is clear
        message = str(exc)
    except SystemExit as exc:
        code, message = exc.code, capsys.readouterr().err
    else:
        message = capsys.readouterr().err
        assert code != 0
    # the CLI names its own option (--tau1); read_any names the keyword (tau1_path)
    assert ("--tau1" in message or "tau1_path" in message) and "npz" in message
    assert "unexpected keyword" not in message


def test_already_phased_complex_mat_has_no_zero_noise(tmp_path):
    rng = np.random.default_rng(0)
    clean = np.outer([1.0, 0.6, 0.3], np.exp(-np.arange(1, 41) / 10.0)) * 100
    path = tmp_path / "z.mat"
    scipy.io.savemat(
        path,
        {
            "S": (clean + rng.normal(0, 1, clean.shape)).astype(complex),
            "t1": [1.0, 2.0, 3.0],
            "t2": np.arange(1, 41) * 1.0,
        },
    )
    acq = read_mat(path, kinds=("D", "T2"), time_unit=1e-3)
    assert acq.noise_std is None or acq.noise_std > 0.5
    scipy.io.savemat(
        path, {"S": clean.astype(complex), "t1": [1.0, 2.0, 3.0], "t2": np.arange(1, 41) * 1.0}
    )
    noise = read_mat(path, kinds=("D", "T2"), time_unit=1e-3).noise_std
    assert noise is None or noise > 0

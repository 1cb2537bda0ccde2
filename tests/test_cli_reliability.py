"""CLI reliability (issue 26): units and kinds for every format, no silent overwrite, atomic
writes, no package path for train, clear messages for options a format does not take."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from laplace_inv.cli import main
from laplace_inv.cli.output import ResultWriter
from laplace_inv.io import load_result_npz
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.metrics import find_peaks
from laplace_inv.simulate import cement_like

ROOT = Path(__file__).resolve().parents[1]
TAU1 = np.geomspace(1e-3, 3.0, 12)
TAU2 = np.arange(1, 201) * 0.5e-3


def scenario(seed=0):
    kernel = Kernel2D(KernelAxis("T1_IR", TAU1, n_grid=24), KernelAxis("T2", TAU2, n_grid=24))
    return cement_like(kernel, snr=300, random_state=seed)


def scan_npz(path, seed=0):
    sc = scenario(seed)
    np.savez(path, data=sc.data, tau1=TAU1, tau2=TAU2, kinds=["T1_IR", "T2"])
    return path


def main_peak_t2(result_path):
    r = load_result_npz(result_path)
    return find_peaks(r["map"], r["grid1"], r["grid2"])[0].position[1]


# ---- defect 1: --time-unit and --kinds apply to every format carrying axes/kinds -------------


def test_time_unit_applies_to_mat_with_kinds_in_the_file(tmp_path, capsys):
    sc = scenario()
    mat = tmp_path / "scan.mat"
    scipy.io.savemat(
        mat, {"S": sc.data, "t1": TAU1 * 1e3, "t2": TAU2 * 1e3, "kinds": np.array(["T1_IR", "T2"])}
    )
    out = tmp_path / "out"
    argv = ["invert", str(mat), "--method", "tikhonov", "--time-unit", "1e-3", "-q", "-o", str(out)]
    assert main(argv) == 0
    assert main_peak_t2(out / "scan_map.npz") == pytest.approx(19.6e-3, rel=0.3)


def test_kinds_apply_to_mat_without_kinds(tmp_path):
    sc = scenario()
    mat = tmp_path / "nokinds.mat"
    scipy.io.savemat(mat, {"S": sc.data, "t1": TAU1, "t2": TAU2})
    out = tmp_path / "out"
    base = ["invert", str(mat), "--method", "tikhonov", "-q", "-o", str(out)]
    assert main(base) == 2  # kinds unknown: refused with a message
    assert main([*base, "--kinds", "T1_IR", "T2"]) == 0
    assert load_result_npz(out / "nokinds_map.npz")["kinds"] == ("T1_IR", "T2")


def test_time_unit_and_kinds_apply_to_npz(tmp_path):
    sc = scenario()
    path = tmp_path / "ms.npz"
    np.savez(path, data=sc.data, tau1=TAU1 * 1e3, tau2=TAU2 * 1e3, kinds=["T1_SR", "T2"])
    out = tmp_path / "out"
    argv = ["invert", str(path), "--method", "tikhonov", "-q", "-o", str(out)]
    assert main([*argv, "--time-unit", "1e-3", "--kinds", "T1_IR,T2"]) == 0
    result = load_result_npz(out / "ms_map.npz")
    assert result["kinds"] == ("T1_IR", "T2")
    assert main_peak_t2(out / "ms_map.npz") == pytest.approx(19.6e-3, rel=0.3)


# ---- defect 20 (third point): options a format does not take -------------------------------


def test_option_a_format_does_not_take_is_named(tmp_path, capsys):
    path = scan_npz(tmp_path / "a.npz")
    assert main(["invert", str(path), "--tau1", "t.csv", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--tau1 do(es) not apply to this npz input" in err
    assert "unexpected keyword" not in err
    csv = tmp_path / "S.csv"
    np.savetxt(csv, scenario().data, delimiter=",")
    assert main(["invert", str(csv), "--kinds", "T1_IR,T2", "-o", str(tmp_path / "o")]) == 2
    assert "needs --tau1, --tau2" in capsys.readouterr().err


# ---- defect 4: no silent overwrite, atomic writes, concurrent runs ---------------------------


def test_existing_results_are_not_overwritten_without_overwrite(tmp_path, capsys):
    path = scan_npz(tmp_path / "scan.npz")
    out = tmp_path / "out"
    argv = ["invert", str(path), "--method", "tikhonov", "-q", "-o", str(out)]
    assert main(argv) == 0
    before = (out / "scan_map.npz").read_bytes()
    scan_npz(path, seed=3)  # new data, same name
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already exist" in err and "--overwrite" in err
    assert (out / "scan_map.npz").read_bytes() == before
    assert main([*argv, "--overwrite"]) == 0
    assert (out / "scan_map.npz").read_bytes() != before
    assert not list(out.glob(".*partial*"))


def test_failed_write_leaves_no_partial_result(tmp_path, monkeypatch, capsys):
    import laplace_inv.io as io_module

    real_save = io_module.save_result_npz

    def half_then_fail(path, *args, **kwargs):
        written = real_save(path, *args, **kwargs)
        data = Path(written).read_bytes()
        Path(written).write_bytes(data[: len(data) // 2])
        raise OSError("disk full (test)")

    monkeypatch.setattr(io_module, "save_result_npz", half_then_fail)
    path = scan_npz(tmp_path / "scan.npz")
    out = tmp_path / "out"
    assert main(["invert", str(path), "--method", "tikhonov", "-q", "-o", str(out)]) == 2
    assert "disk full" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == []


KILL_MID_WRITE = """
import os, signal, sys
from pathlib import Path
import laplace_inv.io as io_module
real_save = io_module.save_result_npz
def half_then_die(path, *args, **kwargs):
    written = real_save(path, *args, **kwargs)
    data = Path(written).read_bytes()
    Path(written).write_bytes(data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
io_module.save_result_npz = half_then_die
from laplace_inv.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_killed_mid_write_leaves_no_truncated_result(tmp_path):
    path = scan_npz(tmp_path / "scan.npz")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    argv = ["invert", str(path), "--method", "tikhonov", "-q", "-o", str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MID_WRITE, *argv], env=env, capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL
    names = [p.name for p in out.iterdir()]
    assert "scan_map.npz" not in names and "scan_map.csv" not in names
    assert all(name.startswith(".") and ".partial" in name for name in names)  # hidden leftovers
    # the next run is not blocked by the leftovers and writes complete files
    assert main(argv) == 0
    assert load_result_npz(out / "scan_map.npz")["map"].shape == (64, 64)


def test_two_writers_into_one_folder_cannot_both_succeed(tmp_path):
    target = [tmp_path / "r_map.npz", tmp_path / "r_map.csv"]
    first, second = ResultWriter(), ResultWriter()
    for writer, text in ((first, "first"), (second, "second")):
        for path in target:
            writer.add(path, lambda t, s=text: t.write_text(s))
    first.commit()
    with pytest.raises(FileExistsError, match="--overwrite"):
        second.commit()
    assert [p.read_text() for p in target] == ["first", "first"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_map.csv", "r_map.npz"]


def test_concurrent_cli_runs_into_one_folder(tmp_path):
    path = scan_npz(tmp_path / "scan.npz")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "laplace_inv.cli", "invert", str(path), "--method", "tikhonov"]
    cmd += ["-q", "-o", str(out)]
    codes: list[int] = []

    def run():
        codes.append(subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [0, 2]  # exactly one run owns the results, the other says so
    assert load_result_npz(out / "scan_map.npz")["map"].shape == (64, 64)


# ---- defect 17 (CLI side): train gets no package path from the CLI ---------------------------


def test_train_is_forwarded_without_an_injected_output(monkeypatch):
    import laplace_inv.dlemlr.train as train_module

    seen: list[list[str]] = []
    monkeypatch.setattr(train_module, "train_main", lambda argv: seen.append(list(argv)) or 0)
    assert main(["train", "--epochs", "1"]) == 0
    assert main(["-v", "train", "-o", "my_model", "--epochs", "1"]) == 0
    assert seen[0] == ["--epochs", "1"]
    assert seen[1] == ["--out", "my_model", "--epochs", "1"]
    assert not any("laplace_inv" in token for argv in seen for token in argv)

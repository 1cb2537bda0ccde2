"""Command-line conventions: version, -o, global options anywhere, lists, Ctrl-C, several inputs,
labelled CSV, unit warnings."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.cli import main
from laplace_inv.cli._common import split_list
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_like

TAU1 = np.geomspace(1e-3, 3.0, 12)
TAU2 = np.arange(1, 61) * 0.5e-3


def small_scan(path, scale1=1.0, scale2=1.0, seed=0):
    """A cement-like 12 x 60 IR-CPMG acquisition saved as .npz (axes times the scales)."""
    kernel = Kernel2D(KernelAxis("T1_IR", TAU1, n_grid=24), KernelAxis("T2", TAU2, n_grid=24))
    sc = cement_like(kernel, snr=300, random_state=seed)
    np.savez(path, data=sc.data, tau1=TAU1 * scale1, tau2=TAU2 * scale2, kinds=["T1_IR", "T2"])
    return path


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("laplace-inv 0.")


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "bench", "--list-methods"],
        ["bench", "-v", "--list-methods"],
        ["-q", "bench", "--list-methods"],
        ["-vv", "bench", "--list-methods"],
    ],
)
def test_global_options_before_or_after_delegated_command(argv, capsys):
    assert main(argv) == 0
    assert "tikhonov" in capsys.readouterr().out


def test_global_options_before_or_after_invert(tmp_path, capsys):
    scan = small_scan(tmp_path / "scan.npz")
    assert main(["-q", "-o", str(tmp_path / "a"), "invert", str(scan), "--method", "tikhonov"]) == 0
    assert capsys.readouterr().out == ""  # -q before the command silences the table
    assert (tmp_path / "a" / "scan_map.npz").is_file()
    assert (
        main(["invert", str(scan), "--method", "tikhonov", "-q", "--out", str(tmp_path / "b")]) == 0
    )
    assert (tmp_path / "b" / "scan_map.csv").is_file()


def test_one_list_syntax_everywhere(tmp_path):
    from laplace_inv.cli import build_parser
    from laplace_inv.cli.delegate import normalise

    parser = build_parser()
    for spelling in (["tikhonov,l1"], ["tikhonov", "l1"], ["tikhonov,", "l1"]):
        assert parser.parse_args(["demo", "--methods", *spelling]).methods == ["tikhonov", "l1"]
        args = parser.parse_args(["invert", "x.npz", "--methods", *spelling])
        assert args.methods == ["tikhonov", "l1"]
        assert normalise("bench", [], ["--methods", *spelling, "--quick"]) == [
            "--methods",
            "tikhonov,l1",
            "--quick",
        ]
    assert parser.parse_args(["invert", "x", "--kinds", "D,T2"]).kinds == ["D", "T2"]
    assert parser.parse_args(["invert", "x", "--kinds", "D", "T2"]).kinds == ["D", "T2"]
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--methods", "upen,magic"])
    with pytest.raises(SystemExit):
        parser.parse_args(["invert", "x", "--kinds", "D,T2,T2"])
    assert split_list(["a, b", "c"]) == ["a", "b", "c"]


def test_bench_accepts_space_separated_methods(capsys):
    assert main(["bench", "--methods", "upen", "l1", "--list-methods"]) == 0


def test_ctrl_c_exits_130_without_traceback(monkeypatch, tmp_path, capsys):
    import laplace_inv.cli.invert as invert_cmd

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(invert_cmd, "run", interrupted)
    assert main(["invert", str(tmp_path / "x.npz")]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_several_inputs_and_a_glob_give_one_folder_each_and_a_summary(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(2):
        small_scan(scans / f"s{i}.npz", seed=i)
    other = small_scan(tmp_path / "other.npz", seed=5)
    out = tmp_path / "out"
    code = main(
        ["invert", str(scans / "*.npz"), str(other), "--method", "tikhonov", "-o", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "summary of 3 inputs (0 failed)" in text
    for stem in ("s0", "s1", "other"):
        assert (out / stem / f"{stem}_map.npz").is_file()
        assert str(scans / f"{stem}.npz") in text or stem == "other"


def test_one_bad_input_among_several_fails_the_run_but_not_the_others(tmp_path, capsys):
    good = small_scan(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert (
        main(["invert", str(good), str(bad), "--method", "tikhonov", "-o", str(tmp_path / "o")])
        == 2
    )
    captured = capsys.readouterr()
    assert "(1 failed)" in captured.out and "bad.npz" in captured.err
    assert (tmp_path / "o" / "good" / "good_map.npz").is_file()
    with pytest.raises(FileNotFoundError):
        from laplace_inv.cli.invert import expand_paths

        expand_paths([str(tmp_path / "nothing*.npz")])


def test_csv_has_axes_and_units(tmp_path):
    scan = small_scan(tmp_path / "scan.npz")
    assert main(["invert", str(scan), "--method", "tikhonov", "-q", "-o", str(tmp_path)]) == 0
    lines = (tmp_path / "scan_map.csv").read_text().splitlines()
    assert lines[0].startswith("# laplace_inv map: tikhonov inversion of")
    assert "rows: T1 (s) = T1_IR; columns: T2 (s) = T2" in lines[1]
    header = lines[2].split(",")
    assert header[0] == "T1 (s) \\ T2 (s)"
    from laplace_inv.io import load_result_npz

    result = load_result_npz(tmp_path / "scan_map.npz")
    np.testing.assert_allclose([float(v) for v in header[1:]], result["grid2"], rtol=1e-9)
    body = np.array([[float(v) for v in line.split(",")] for line in lines[3:]])
    np.testing.assert_allclose(body[:, 0], result["grid1"], rtol=1e-9)
    np.testing.assert_allclose(body[:, 1:], result["map"], rtol=1e-9, atol=1e-300)


def test_warning_when_axes_look_like_milliseconds(tmp_path, caplog):
    scan = small_scan(tmp_path / "ms.npz", scale1=1e3, scale2=1e3)  # ms stored as if s
    with caplog.at_level("WARNING", logger="laplace_inv"):
        assert main(["invert", str(scan), "--method", "tikhonov", "-q", "-o", str(tmp_path)]) == 0
    text = caplog.text
    assert "axis 1 (T1_IR)" in text and "--time-unit 1e-3" in text
    assert "axis 2 (T2)" in text
    caplog.clear()
    out2 = tmp_path / "fixed"
    argv = [
        "invert",
        str(scan),
        "--method",
        "tikhonov",
        "--time-unit",
        "1e-3",
        "-q",
        "-o",
        str(out2),
    ]
    with caplog.at_level("WARNING", logger="laplace_inv"):
        assert main(argv) == 0
    assert "implausible" not in caplog.text


LIGHT_CHECK = """
import contextlib, io, sys
import laplace_inv
before = set(sys.modules)
from laplace_inv.cli import main
for argv in (["--help"], ["--version"], ["demo", "--help"], ["invert", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
heavy = ("torch", "cvxpy", "matplotlib", "sklearn", "scipy")
print(sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy))
"""


def test_help_and_version_import_no_heavy_library():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.run(
        [sys.executable, "-c", LIGHT_CHECK], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"  # nothing beyond what `import laplace_inv` loads


def test_several_methods_write_one_set_each_and_a_comparison(tmp_path):
    scan = small_scan(tmp_path / "scan.npz")
    out = tmp_path / "out"
    assert main(["invert", str(scan), "--methods", "upen", "tikhonov", "-q", "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"scan_{m}_map.{ext}" for m in ("upen", "tikhonov") for ext in ("npz", "csv", "png")]
        + ["scan_comparison.png"]
    )

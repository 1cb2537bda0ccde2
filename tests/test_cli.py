"""The command line."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.cli import build_parser, main
from laplace_inv.simulate import cement_like


def test_help_for_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    for cmd in ("demo", "invert"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "examples:" in capsys.readouterr().out
    assert build_parser().prog == "laplace-inv"


def test_invert_npz_writes_map_and_png(tmp_path, capsys):
    sc = cement_like(snr=300)
    path = tmp_path / "cement.npz"
    np.savez(
        path,
        data=sc.data,
        tau1=sc.kernel.axis1.tau,
        tau2=sc.kernel.axis2.tau,
        kinds=np.array(["T1_IR", "T2"]),
    )
    code = main(["invert", str(path), "--method", "tikhonov", "--out", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "tikhonov" in out
    for suffix in ("_map.npz", "_map.csv", "_map.png"):
        assert (tmp_path / "out" / f"cement{suffix}").exists()


def test_invert_bad_file_is_a_clean_error(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    assert main(["invert", str(bad), "--out", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err


def test_demo_on_real_cement(tmp_path, capsys):
    datasets = pytest.importorskip("laplace_inv.datasets")
    try:
        datasets.load_cement_t1t2()
    except OSError as exc:
        pytest.skip(f"cement data not available: {exc}")
    assert main(["demo", "--methods", "tikhonov", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "MUpen2D reference" in out and "tikhonov" in out
    assert (tmp_path / "demo_cement_comparison.png").exists()

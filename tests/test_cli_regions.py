"""`laplace-inv invert --regions FILE --uncertainty`: tables, CSV and .npz metadata."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from laplace_inv.cli import main
from laplace_inv.io import load_result_npz
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_like

TAU1 = np.geomspace(1e-3, 3.0, 12)
TAU2 = np.arange(1, 121) * 0.5e-3
REGIONS = """
[[region]]
name = "main"
type = "box"
x1 = [0.02, 0.8]
x2 = [0.005, 0.1]

[[region]]
name = "short T2"
type = "cutoff"
axis = 2
value = 0.002
side = "below"
"""


@pytest.fixture
def scan(tmp_path):
    kernel = Kernel2D(KernelAxis("T1_IR", TAU1, n_grid=24), KernelAxis("T2", TAU2, n_grid=24))
    sc = cement_like(kernel, snr=300, random_state=0)
    path = tmp_path / "scan.npz"
    np.savez(path, data=sc.data, tau1=TAU1, tau2=TAU2, kinds=["T1_IR", "T2"])
    (tmp_path / "regions.toml").write_text(REGIONS)
    return path


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_regions_without_uncertainty_write_fractions(scan, capsys):
    out = scan.parent / "out"
    regions = scan.parent / "regions.toml"
    code = main(
        ["invert", str(scan), "--method", "tikhonov", "--regions", str(regions), "-o", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| tikhonov | main |" in printed and "short T2" in printed
    rows = _rows(out / "scan_regions.csv")
    assert [r["name"] for r in rows] == ["main", "short T2"]
    total = sum(float(r["fraction"]) for r in rows)
    assert 0.5 < float(rows[0]["fraction"]) <= 1.0 and total <= 1.0 + 1e-9
    assert rows[0]["fraction_pm68"] == ""  # no uncertainty asked for
    meta = load_result_npz(out / "scan_map.npz")["metadata"]
    assert [r["name"] for r in meta["regions"]] == ["main", "short T2"]


def test_uncertainty_gives_calibrated_intervals(scan, capsys):
    out = scan.parent / "out"
    regions = scan.parent / "regions.toml"
    argv = ["invert", str(scan), "--method", "tikhonov", "--regions", str(regions)]
    assert main([*argv, "--uncertainty", "--draws", "20", "-o", str(out)]) == 0
    assert "±" in capsys.readouterr().out
    rows = _rows(out / "scan_regions.csv")
    main_row = next(r for r in rows if r["name"] == "main")
    fraction, pm = float(main_row["fraction"]), float(main_row["fraction_pm68"])
    assert pm > 0
    assert float(main_row["fraction_lo95"]) < fraction < float(main_row["fraction_hi95"])
    assert float(main_row["position1_lo95"]) < float(main_row["position1"])
    assert main_row["n_draws"] == "20"
    assert any(r["kind"] == "peak" for r in rows)


def test_malformed_region_file_fails_before_inverting(scan, capsys):
    bad = scan.parent / "bad.toml"
    bad.write_text('[[region]]\nname = "x"\ntype = "box"\nx1 = [0.5, 0.1]\n')
    code = main(["invert", str(scan), "--regions", str(bad), "-o", str(scan.parent / "o")])
    assert code == 2
    assert "x1" in capsys.readouterr().err
    assert not (scan.parent / "o").exists() or not any((scan.parent / "o").iterdir())


def test_draws_must_be_at_least_two(scan, capsys):
    code = main(
        ["invert", str(scan), "--uncertainty", "--draws", "1", "-o", str(scan.parent / "o")]
    )
    assert code == 2
    assert "--draws" in capsys.readouterr().err

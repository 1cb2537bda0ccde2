"""``laplace-inv invert`` on 1D decays: synthetic files of each 1D format and the real ones."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.cli import main

T = np.arange(1, 401) * 5e-4  # s
DECAY = 70 * np.exp(-T / 0.01) + 30 * np.exp(-T / 0.08)
NOISY = DECAY + 0.05 * np.random.default_rng(0).standard_normal(T.size)

DATA = Path(os.environ.get("LAPLACE_INV_DATA", "/nonexistent")) / "nmrinversions_examples"
REAL_1D = [
    ("csv/CPMG_graphene.csv", ["--kind", "T2"]),
    ("csv/IR_sandstone.csv", ["--kind", "T1_IR"]),
    ("csv/PFG_water.csv", ["--kind", "D", "--time-unit", "1e9"]),
    ("geospec_txt/CPMG_bunter.txt", []),
    ("geospec_txt/IR_bunter.txt", []),
    ("tecmag_tnt/CPMG_silicon_oil.tnt", []),
    ("tecmag_tnt/IR_silicon_oil.tnt", []),
    ("bruker/minispec/cpmg.dps", []),
]


def _invert(args: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(["invert", *args])


def _write_csv(path: Path) -> Path:
    rows = "".join(f"{t * 1e3:.4f},{s:.6f}\n" for t, s in zip(T, NOISY, strict=True))
    path.write_text("time_ms,amplitude\n" + rows)
    return path


def test_csv_decay_prints_peaks_and_writes_distribution(tmp_path, capsys):
    src = _write_csv(tmp_path / "cpmg.csv")
    out = tmp_path / "out"
    assert _invert([str(src), "--kind", "T2", "--method", "upen", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1D T2 decay, 400 points" in text and "| upen |" in text
    assert "T2 peaks (position, width) share" in text
    for suffix in ("npz", "csv", "png"):
        assert (out / f"cpmg_distribution.{suffix}").exists()
    with np.load(out / "cpmg_distribution.npz") as z:
        assert str(z["format"]) == "laplace_inv.distribution/1" and str(z["kind"]) == "T2"
        f, grid = z["distribution"], z["grid"]
        assert f.shape == grid.shape == (64,) and z["data"].shape == z["fit"].shape == (400,)
        meta = json.loads(str(z["metadata"]))
        assert meta["method"] == "upen" and 0.7 < meta["residual_to_noise"] < 1.5
    # the two components, 10 ms and 80 ms, hold 70 % and 30 % of the signal
    lg = np.log10(grid)
    fast = f[lg < np.log10(0.03)].sum() / f.sum()
    assert abs(fast - 0.7) < 0.05
    lines = (out / "cpmg_distribution.csv").read_text().splitlines()
    assert lines[1] == "T2 (s),signal per grid point" and len(lines) == 66


def test_every_method_and_dlemlr_says_why_not(tmp_path, capsys):
    src = _write_csv(tmp_path / "cpmg.csv")
    args = [str(src), "--kind", "T2", "--methods", "upen,tikhonov,l1,dlemlr"]
    assert _invert([*args, "--out", str(tmp_path / "o"), "--grid", "40"]) == 0
    text = capsys.readouterr().out
    assert "| dlemlr | not available: 1D DLEMLR is not available" in text
    for name in ("upen", "tikhonov", "l1"):
        assert (tmp_path / "o" / f"cpmg_{name}_distribution.png").exists()
    assert (tmp_path / "o" / "cpmg_comparison.png").exists()


def test_minispec_and_geospec_and_npz_decays(tmp_path, capsys):
    dps = tmp_path / "decay.dps"
    dps.write_text(
        "".join(
            f"{i}\t{t * 1e3:.4f}\t{s:.5f}\n" for i, (t, s) in enumerate(zip(T, NOISY, strict=True))
        )
    )
    geo = tmp_path / "geo.txt"
    rows = "".join(f"{t * 1e3:.4f}\t0.0\t{s:.5f}\t0.0\n" for t, s in zip(T, NOISY, strict=True))
    geo.write_text("[GITData]\nTestType=3\n[Data]\nX\tY\tReal\tImaginary\n" + rows)
    npz = tmp_path / "one.npz"
    np.savez(npz, data=NOISY, tau1=T, kinds=np.array(["T2"]))
    for i, src in enumerate((dps, geo, npz)):
        out = tmp_path / f"out{i}"
        assert _invert([str(src), "--method", "tikhonov", "--out", str(out)]) == 0, src
        assert (out / f"{src.stem}_distribution.npz").exists()
    assert capsys.readouterr().out.count("1D T2 decay, 400 points") == 3


def test_spinsolve_1d_export_goes_through_the_1d_path(tmp_path, capsys):
    folder = tmp_path / "t2"
    folder.mkdir()
    (folder / "acqu.par").write_text('experiment = "T2"\nnrEchoes = 400\nechoTime = 500\n')
    z = NOISY * np.exp(0.4j)
    (folder / "T2.dat").write_text(",".join(f"{v.real:.9g},{v.imag:.9g}" for v in z) + "\n")
    out = tmp_path / "out"
    assert _invert([str(folder), "--method", "upen", "--out", str(out)]) == 0
    assert "1D T2 decay, 400 points" in capsys.readouterr().out
    assert (out / "t2_distribution.npz").exists()


def test_1d_refuses_2d_options_and_2d_refuses_kind(tmp_path, capsys):
    src = _write_csv(tmp_path / "cpmg.csv")
    assert _invert([str(src), "--kind", "T2", "--uncertainty", "-o", str(tmp_path)]) == 2
    assert "--uncertainty do(es) not apply to a 1D decay" in capsys.readouterr().err
    two_d = tmp_path / "map.npz"
    np.savez(
        two_d,
        data=np.ones((3, 4)),
        tau1=[1e-3, 1e-2, 1e-1],
        tau2=[1e-3, 2e-3, 3e-3, 4e-3],
        kinds=np.array(["T2", "T2"]),
    )
    assert _invert([str(two_d), "--kind", "T2", "-o", str(tmp_path / "x")]) == 2
    assert "--kind applies to 1D decays" in capsys.readouterr().err


@pytest.mark.skipif(not DATA.is_dir(), reason="LAPLACE_INV_DATA not set")
@pytest.mark.parametrize(("rel", "options"), REAL_1D, ids=[r for r, _ in REAL_1D])
def test_every_real_1d_file_inverts(tmp_path, capsys, rel, options):
    src = DATA / rel
    out = tmp_path / "out"
    code = _invert([str(src), *options, "--methods", "upen,tikhonov", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "| upen |" in text and "| tikhonov |" in text and "not available" not in text
    for name in ("upen", "tikhonov"):
        assert (out / f"{src.stem}_{name}_distribution.npz").exists()
        assert (out / f"{src.stem}_{name}_distribution.png").exists()

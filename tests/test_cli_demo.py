"""`laplace-inv demo` runs anywhere: the embedded dataset when the real data are unreachable."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.data import DEMO_FILE, DEMO_SHA256, load_embedded_demo

ROOT = Path(__file__).resolve().parents[1]

# Runs the CLI with the download function replaced by one that fails like a machine without
# network (no LAPLACE_INV_OFFLINE: the demo must cope with a failed download too).
NO_NETWORK = """
import sys, urllib.error
import laplace_inv.datasets as datasets
def no_network(*args, **kwargs):
    raise urllib.error.URLError("network is unreachable (test)")
datasets._download = no_network
from laplace_inv.cli import main
sys.exit(main(sys.argv[1:]))
"""


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPLACE_INV_")}
    home = tmp_path / "home"
    home.mkdir()
    env.update(HOME=str(home), MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    env.pop("XDG_CACHE_HOME", None)
    return env


def test_embedded_file_matches_its_checksum_and_simulation():
    assert hashlib.sha256(DEMO_FILE.read_bytes()).hexdigest() == DEMO_SHA256
    assert DEMO_FILE.stat().st_size < 400_000
    ds = load_embedded_demo()
    assert ds.data.shape == (48, 1000) and ds.kinds == ("T1_IR", "T2")
    assert np.isfinite(ds.data).all() and ds.noise_std > 0
    assert [round(p["fraction"], 2) for p in ds.reference_peaks] == [0.88, 0.12]
    assert ds.reference_peaks[0]["position"][1] == pytest.approx(19.6e-3, rel=1e-6)


def test_regenerating_the_embedded_file_reproduces_it():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_demo_data
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    content = make_demo_data.npz_bytes(make_demo_data.demo_arrays())
    assert hashlib.sha256(content).hexdigest() == DEMO_SHA256


def test_damaged_embedded_file_is_refused(tmp_path):
    bad = tmp_path / "demo.npz"
    data = bytearray(DEMO_FILE.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(OSError, match="sha256"):
        load_embedded_demo(bad)
    with pytest.raises(OSError, match="missing"):
        load_embedded_demo(tmp_path / "absent.npz")


def test_demo_without_network_or_data_uses_the_embedded_dataset(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "demo", "--methods", "tikhonov", "-o", str(out)],
        env=offline_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "EMBEDDED SIMULATED" in proc.stdout
    assert "simulated components (truth)" in proc.stdout
    assert "| tikhonov |" in proc.stdout and "start-up (s)" in proc.stdout
    table = (out / "demo_cement.md").read_text()
    assert table.startswith("Dataset: EMBEDDED SIMULATED")
    for name in ("demo_cement_comparison.png", "demo_cement_tikhonov.png"):
        assert (out / name).stat().st_size > 10_000
    assert not list(out.glob(".*partial*"))


def test_demo_offline_switch_and_explicit_choice(tmp_path, monkeypatch, capsys):
    from laplace_inv.cli import main
    from laplace_inv.cli.demo import load_demo_dataset

    monkeypatch.delenv("LAPLACE_INV_DATA", raising=False)
    monkeypatch.setenv("LAPLACE_INV_OFFLINE", "1")
    monkeypatch.setenv("LAPLACE_INV_CACHE", str(tmp_path / "cache"))
    ds, which = load_demo_dataset("auto")
    assert ds.name == "cement_like_embedded" and "EMBEDDED" in which
    with pytest.raises(OSError, match="not available"):
        load_demo_dataset("real")
    assert main(["demo", "--dataset", "real", "--methods", "tikhonov", "-o", str(tmp_path)]) == 2
    assert "not available" in capsys.readouterr().err


def test_demo_on_real_cement_says_so(tmp_path, capsys):
    from laplace_inv.cli.demo import load_demo_dataset

    try:
        ds, which = load_demo_dataset("real")
    except OSError as exc:
        pytest.skip(f"cement data not available: {exc}")
    assert ds.name == "cement_t1t2_ircpmg" and "real" in which

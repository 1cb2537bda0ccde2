"""Every tutorial script runs in its reduced (``--quick``) mode and writes its figures.

The scripts live in ``tutorials/`` (``make docs-figures`` runs them at full size into
``docs/figures/``). Here each runs in-process into a temporary folder; one is also started as a
separate process, as a user would start it.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"

FIGURES = {
    "ill_posedness": [
        "ill_posedness_singular_values.png",
        "ill_posedness_picard.png",
        "ill_posedness_naive_ls.png",
        "ill_posedness_tsvd.png",
    ],
    "regularisation": [
        "regularisation_lcurve.png",
        "regularisation_gcv.png",
        "regularisation_maps.png",
    ],
    "method_comparison": ["method_comparison_maps.png", "method_comparison_residuals.png"],
    "resolution_snr": ["resolution_snr_grid.png", "resolution_snr_projections.png"],
    "cheese_pipeline": ["cheese_pipeline.png"],
}


@pytest.fixture(scope="module")
def tutorials_on_path():
    sys.path.insert(0, str(TUTORIALS))
    try:
        yield
    finally:
        sys.path.remove(str(TUTORIALS))


def test_every_script_is_listed():
    scripts = {p.stem for p in TUTORIALS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_tutorial_quick(name, tmp_path, tutorials_on_path):
    module = importlib.import_module(name)
    out = module.main(["--quick", "--out", str(tmp_path)])
    for figure in FIGURES[name]:
        path = tmp_path / figure
        assert path.is_file() and path.stat().st_size > 5000, figure
    assert out  # every tutorial returns its headline numbers
    if name == "ill_posedness":
        # a 1e-3 relative data change moves the naive least-squares map by far more than
        # the map itself
        assert out["data_change"] == pytest.approx(1e-3)
        assert out["map_change"] > 1e3
    if name == "regularisation":
        assert set(out) == {"gcv", "lcurve", "discrepancy"}
        assert all(a > 0 for a in out.values())
    if name == "method_comparison":
        # methods that ran explain the data down to the noise
        assert out["tikhonov"] == pytest.approx(1.0, abs=0.1)
    if name == "resolution_snr":
        assert out["truth"].all()  # the quick cases are resolvable on the grid
        assert out["tikhonov"][-1].all()  # 1 decade apart: resolved at both SNRs
    if name == "cheese_pipeline":
        assert 0.0 <= out["accuracy_maps"] <= 1.0 and 0.0 <= out["accuracy_raw"] <= 1.0


def test_script_runs_standalone(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(TUTORIALS / "ill_posedness.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "--out" in proc.stdout

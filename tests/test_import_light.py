"""``import laplace_inv`` stays light: every public name is imported on first use."""

from __future__ import annotations

import subprocess
import sys

import laplace_inv


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_pulls_no_heavy_dependency():
    loaded = _modules_after("import laplace_inv")
    for heavy in ("sklearn", "scipy", "scipy.sparse", "torch", "cvxpy", "matplotlib"):
        assert heavy not in loaded, heavy


def test_every_export_resolves_and_is_listed():
    assert set(laplace_inv.__all__) <= set(dir(laplace_inv))
    for name in laplace_inv.__all__:
        if name != "DLEMLRInverter":  # torch: covered by the DLEMLR tests
            assert getattr(laplace_inv, name) is not None
    assert laplace_inv.CompressedProblem is laplace_inv.CompressedOperator


def test_methods_module_is_light():
    loaded = _modules_after("import laplace_inv.methods")
    assert "sklearn" not in loaded and "torch" not in loaded

"""benchmarks/gpu_check.py runs on the CPU in its quick mode and writes its table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Skip rather than fail on a machine too loaded to finish the quick check.
LIMIT_S = 240


def test_gpu_check_quick_on_cpu_writes_its_table(tmp_path):
    out = tmp_path / "gpu_check.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py")]
    cmd += ["--device", "cpu", "--quick", "--out", str(out)]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=LIMIT_S, cwd=tmp_path, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"gpu_check --quick took over {LIMIT_S} s on this machine")
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = out.read_text()
    for row in ("agreement with CPU", "raw throughput", "refine throughput", "latency"):
        assert row in table
    assert "training run (record written)" in table
    assert "FAILED" not in table

"""Shared test settings: headless plotting and the local copy of the real datasets."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# CI and developers read the real datasets from ../shared/data (never committed here).
if "LAPLACE_INV_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["LAPLACE_INV_DATA"] = str(SHARED_DATA)


@pytest.fixture
def cement(monkeypatch):
    """The real cement T1-T2 dataset, read without network; the test skips when it is absent."""
    from laplace_inv.datasets import DatasetNotAvailableError, load_cement_t1t2

    monkeypatch.setenv("LAPLACE_INV_OFFLINE", "1")
    try:
        return load_cement_t1t2()
    except (DatasetNotAvailableError, OSError) as exc:  # pragma: no cover
        pytest.skip(f"cement data not available: {exc}")

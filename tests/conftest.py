"""Shared test settings: headless plotting and the local copy of the real datasets."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# CI and developers read the real datasets from ../shared/data (never committed here).
if "LAPLACE_INV_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["LAPLACE_INV_DATA"] = str(SHARED_DATA)

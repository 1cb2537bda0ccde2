"""Regions in the viewer: checked, integrated and stored through `laplace_inv.analysis.regions`.

The viewer keeps regions as the dictionaries of the region file format (the entries of
``[[region]]``), so what the page draws, what it saves and what ``laplace-inv invert
--regions`` reads are one and the same. Integration and uncertainty come from the analysis
modules; the viewer never integrates a region itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

MISSING = (
    "region integration needs laplace_inv.analysis.regions, which this installation does not have"
)
NO_UNCERTAINTY = (
    "uncertainty needs laplace_inv.analysis.uncertainty, which this installation does not have"
)
SUFFIXES = (".toml", ".json")


def regions_module() -> ModuleType | None:
    """`laplace_inv.analysis.regions`, or ``None`` when it is not installed."""
    try:
        from laplace_inv.analysis import regions
    except ImportError:
        return None
    return regions


def uncertainty_module() -> ModuleType | None:
    """`laplace_inv.analysis.uncertainty`, or ``None`` when it is not installed."""
    import importlib

    try:
        return importlib.import_module("laplace_inv.analysis.uncertainty")
    except ImportError:
        return None


def _require() -> ModuleType:
    module = regions_module()
    if module is None:
        raise RuntimeError(MISSING)
    return module


def normalise(entries: Any) -> list[dict]:
    """Check region dictionaries from the page and return them in canonical form."""
    if not isinstance(entries, list):
        raise ValueError("regions must be a list of region entries")
    if not entries:
        return []
    module = _require()
    regions = module.regions_from_dict({"region": entries})
    return list(module.regions_to_dict(regions)["region"])


def to_regions(entries: list[dict]) -> list:
    """The region objects of ``entries``."""
    if not entries:
        return []
    return list(_require().regions_from_dict({"region": entries}))


def load_text(filename: str, content: Any) -> list[dict]:
    """Parse an uploaded region file (``.toml`` or ``.json``) with ``load_regions``."""
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{filename}: a region file must end in .toml or .json")
    if not isinstance(content, str):
        raise ValueError(f"{filename}: the file content must be text")
    module = _require()
    with tempfile.TemporaryDirectory(prefix="laplace_inv_view_") as tmp:
        path = Path(tmp) / f"regions{suffix}"
        path.write_text(content, encoding="utf-8")
        try:
            regions = module.load_regions(path)
        except ValueError as exc:
            raise ValueError(str(exc).replace(str(path), Path(filename).name)) from None
    return list(module.regions_to_dict(regions)["region"])


def save_text(entries: list[dict], fmt: str) -> tuple[str, str]:
    """``(file name, text)`` of the region file written by ``save_regions``."""
    if fmt not in ("toml", "json"):
        raise ValueError(f"region files are toml or json, got {fmt!r}")
    if not entries:
        raise ValueError("there are no regions to save: draw a box, a polygon or a cut-off")
    module = _require()
    with tempfile.TemporaryDirectory(prefix="laplace_inv_view_") as tmp:
        path = module.save_regions(to_regions(entries), Path(tmp) / f"regions.{fmt}")
        return Path(path).name, Path(path).read_text(encoding="utf-8")


def _stats_row(label: str, stats: Any) -> dict:
    return {
        "region": stats.name,
        "method": label,
        "fraction": float(stats.fraction),
        "position": [float(v) for v in stats.position],
        "log_width": [float(v) for v in stats.log_width],
        "ratio": None if stats.ratio is None else float(stats.ratio),
    }


def table(entries: list[dict], results: dict) -> dict:
    """Region statistics of every result: ``{"available", "message", "rows"}``."""
    module = regions_module()
    if module is None:
        return {"available": False, "message": MISSING, "rows": []}
    if not entries or not results:
        return {"available": True, "message": "", "rows": []}
    regions = to_regions(entries)
    rows: list[dict] = []
    for label, res in results.items():
        stats = module.integrate_regions(res.map, res.grid1, res.grid2, regions, kinds=res.kinds)
        rows.extend(_stats_row(label, s) for s in stats)
    return {"available": True, "message": "", "rows": rows}


def bootstrap_rows(estimator: Any, res: Any, entries: list[dict], n_draws: int | None) -> list:
    """Rows of the bootstrap table of one result (regions and automatic peaks)."""
    module = uncertainty_module()
    if module is None:
        raise RuntimeError(NO_UNCERTAINTY)
    out = module.bootstrap(
        estimator,
        res.data,
        regions=to_regions(entries) or None,
        n_draws=n_draws,
        noise_std=res.noise_std,
    )
    return [_plain(row) for row in out.table()]


def _plain(row: dict) -> dict:
    """A table row with NumPy values turned into JSON numbers."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "tolist"):
            value = value.tolist()
        elif isinstance(value, tuple):
            value = list(value)
        out[str(key)] = value
    return out

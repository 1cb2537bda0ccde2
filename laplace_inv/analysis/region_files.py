"""Reading and writing region files (TOML or JSON, the same structure).

One ``[[region]]`` table per region (JSON: ``{"region": [{...}, ...]}``), with keys

* ``name`` (string) and ``type`` (``"box"``, ``"polygon"`` or ``"cutoff"``);
* box: ``x1 = [low, high]`` and, on a 2D map, ``x2 = [low, high]``;
* polygon: ``vertices = [[x1, x2], ...]`` (at least 3);
* cutoff: ``axis`` (1 or 2), ``value`` and ``side`` (``"below"`` or ``"above"``);
* optional ``unit``: ``"s"``, ``"ms"``, ``"us"`` or ``"m2/s"`` for every value of the region,
  or a pair ``["m2/s", "ms"]`` (axis 1, axis 2). Without it values are SI (s, m²/s).

Files are written in SI units without ``unit`` keys.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from laplace_inv.analysis.shapes import Box, Cutoff, Polygon, Region

__all__ = ["UNITS", "load_regions", "regions_from_dict", "regions_to_dict", "save_regions"]

UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "m2/s": 1.0}
"""Unit names accepted in region files and their factor to SI."""

_KEYS = {
    "box": ({"x1"}, {"x2"}),
    "polygon": ({"vertices"}, set()),
    "cutoff": ({"axis", "value", "side"}, set()),
}
_COMMON = {"name", "type", "unit"}
_SUFFIXES = (".toml", ".json")


def _unit_factors(unit: Any, where: str) -> tuple[float, float]:
    if unit is None:
        return (1.0, 1.0)
    names = [unit] if isinstance(unit, str) else unit
    if not isinstance(names, list) or len(names) not in (1, 2):
        raise ValueError(f"{where}: unit must be a string or a pair of strings, got {unit!r}")
    factors = []
    for u in names:
        if u not in UNITS:
            raise ValueError(f"{where}: unknown unit {u!r}; expected one of {sorted(UNITS)}")
        factors.append(UNITS[u])
    return (factors[0], factors[-1])


def _scaled(value: Any, factor: float, where: str) -> Any:
    """Multiply a number or a (nested) list of numbers by ``factor``."""
    if isinstance(value, list):
        return [_scaled(v, factor, where) for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected numbers, got {value!r} ({type(value).__name__})")
    return value * factor


def _region_from_entry(entry: Any, k: int) -> Region:
    where = f"region {k + 1}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a table of keys, got {type(entry).__name__}")
    if "name" in entry:
        where += f" ({entry['name']!r})"
    kind = entry.get("type")
    if kind not in _KEYS:
        raise ValueError(f"{where}: type must be one of {sorted(_KEYS)}, got {kind!r}")
    required, optional = _KEYS[kind]
    missing = sorted(({"name"} | required) - entry.keys())
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing} for a {kind}")
    unknown = sorted(entry.keys() - _COMMON - required - optional)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} for a {kind}")
    f1, f2 = _unit_factors(entry.get("unit"), where)
    try:
        if kind == "box":
            x2 = entry.get("x2")
            return Box(
                entry["name"],
                tuple(_scaled(entry["x1"], f1, where)),
                None if x2 is None else tuple(_scaled(x2, f2, where)),
            )
        if kind == "polygon":
            verts = entry["vertices"]
            if not isinstance(verts, list):
                raise ValueError(f"vertices must be a list of [x1, x2], got {verts!r}")
            scaled = [
                [_scaled(v[0], f1, where), _scaled(v[1], f2, where)]
                if isinstance(v, list) and len(v) == 2
                else v
                for v in verts
            ]
            return Polygon(entry["name"], tuple(tuple(v) for v in scaled))
        axis = entry["axis"]
        factor = f2 if axis == 2 else f1
        return Cutoff(entry["name"], axis, _scaled(entry["value"], factor, where), entry["side"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def regions_from_dict(data: Any) -> list[Region]:
    """Regions from the parsed content of a region file (``{"region": [...]}``).

    Parameters
    ----------
    data : dict
        A mapping with one key ``"region"`` holding a list of region tables.

    Returns
    -------
    list of Box, Polygon or Cutoff

    Examples
    --------
    >>> regions_from_dict({"region": [
    ...     {"name": "free", "type": "cutoff", "axis": 2, "value": 33, "side": "above",
    ...      "unit": "ms"}]})
    [Cutoff(name='free', axis=2, value=0.033, side='above')]
    """
    if not isinstance(data, dict) or "region" not in data:
        raise ValueError(
            'a region file holds a list of regions under the key "region" '
            '(TOML: [[region]] tables; JSON: {"region": [...]})'
        )
    extra = sorted(set(data) - {"region"})
    if extra:
        raise ValueError(f"unknown top-level key(s) {extra}; only 'region' is allowed")
    entries = data["region"]
    if not isinstance(entries, list) or not entries:
        raise ValueError('"region" must be a non-empty list of region tables')
    regions = [_region_from_entry(e, k) for k, e in enumerate(entries)]
    names = [r.name for r in regions]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"region names must be unique; repeated: {dupes}")
    return regions


def regions_to_dict(regions: Iterable[Region]) -> dict[str, Any]:
    """The file structure of regions, in SI units (inverse of `regions_from_dict`).

    Parameters
    ----------
    regions : iterable of Box, Polygon or Cutoff
        The regions.

    Returns
    -------
    dict

    Examples
    --------
    >>> regions_to_dict([Box("b", (1e-3, 1e-2))])
    {'region': [{'name': 'b', 'type': 'box', 'x1': [0.001, 0.01]}]}
    """
    out = []
    for r in regions:
        if isinstance(r, Box):
            entry: dict[str, Any] = {"name": r.name, "type": "box", "x1": list(r.x1)}
            if r.x2 is not None:
                entry["x2"] = list(r.x2)
        elif isinstance(r, Polygon):
            entry = {"name": r.name, "type": "polygon", "vertices": [list(v) for v in r.vertices]}
        elif isinstance(r, Cutoff):
            entry = {"name": r.name, "type": "cutoff", "axis": r.axis, "value": r.value}
            entry["side"] = r.side
        else:
            raise TypeError(f"expected Box, Polygon or Cutoff, got {type(r).__name__}")
        out.append(entry)
    return {"region": out}


def _parse_toml(text: str) -> Any:
    import importlib

    for module in ("tomllib", "tomli"):  # tomllib from Python 3.11, tomli before
        try:
            return importlib.import_module(module).loads(text)
        except ModuleNotFoundError:
            continue
    raise ImportError(
        "reading TOML region files on Python 3.10 needs tomli (pip install tomli); "
        "or write the regions as JSON"
    )


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"region file {path} must end in .toml or .json, not {suffix!r}")
    return suffix


def load_regions(path: str | os.PathLike[str]) -> list[Region]:
    """Read regions from a ``.toml`` or ``.json`` file.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    list of Box, Polygon or Cutoff

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.toml"
    >>> _ = f.write_text('[[region]]\\nname = "a"\\ntype = "box"\\nx1 = [1, 10]\\nunit = "ms"\\n')
    >>> load_regions(f)
    [Box(name='a', x1=(0.001, 0.01), x2=None)]
    """
    path = Path(path)
    suffix = _check_suffix(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = _parse_toml(text) if suffix == ".toml" else json.loads(text)
    except ValueError as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"region file {path} is not valid {suffix[1:].upper()}: {exc}") from None
    try:
        return regions_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"region file {path}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _to_toml(data: dict[str, Any]) -> str:
    blocks = []
    for entry in data["region"]:
        lines = ["[[region]]"] + [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def save_regions(
    regions: Iterable[Region], path: str | os.PathLike[str], overwrite: bool = False
) -> Path:
    """Write regions to a ``.toml`` or ``.json`` file (SI units), atomically.

    Parameters
    ----------
    regions : iterable of Box, Polygon or Cutoff
        The regions.
    path : str or path-like
        Target file; its suffix chooses the format.
    overwrite : bool
        Replace an existing file; without it an existing file raises ``FileExistsError``.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.toml"
    >>> regs = [Cutoff("bound", axis=2, value=0.033, side="below")]
    >>> load_regions(save_regions(regs, f)) == regs
    True
    """
    path = Path(path)
    suffix = _check_suffix(path)
    data = regions_to_dict(regions)
    regions_from_dict(data)  # never write a file that cannot be read back
    text = _to_toml(data) if suffix == ".toml" else json.dumps(data, indent=2) + "\n"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""The ``laplace_inv`` result format: a map, its grids, kinds and JSON metadata in an ``.npz``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.io._common import as_kinds, check_axis, numeric
from laplace_inv.io.npz import load_npz_members

PathLike = str | os.PathLike

RESULT_FORMAT = "laplace_inv.result/1"
"""Identifier stored in files written by `save_result_npz`."""

MAX_METADATA_CHARS = 16 * 1024**2
"""Longest metadata JSON string `load_result_npz` parses."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of metadata lists/objects `load_result_npz` accepts."""


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"metadata value of type {type(obj).__name__} is not JSON-serialisable")


def save_result_npz(
    path: PathLike,
    F: Any,
    grid1: Any,
    grid2: Any,
    kinds: tuple[str, ...],
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Save a map in the ``laplace_inv`` result format.

    The file is a NumPy ``.npz`` with arrays ``map`` (N1, N2) float64, ``grid1`` (N1,),
    ``grid2`` (N2,) in SI units, ``kinds`` (two strings), ``metadata`` (a JSON string) and
    ``format`` (`RESULT_FORMAT`). It holds no pickles and is readable from any language
    with an ``.npz`` reader.

    Parameters
    ----------
    path : str or os.PathLike
        Target file (``.npz`` is appended by NumPy if missing).
    F : array_like
        The map, rows along ``grid1``.
    grid1 : array_like
        Output grid of axis 1 (s, or m²/s for ``"D"``), strictly increasing and positive.
    grid2 : array_like
        Output grid of axis 2, likewise.
    kinds : tuple of str
        Kinds of the two axes.
    metadata : dict, optional
        JSON-serialisable metadata (NumPy scalars and arrays are converted).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.npz"
    >>> _ = save_result_npz(p, np.eye(2), [1e-3, 1e-2], [1e-3, 1e-2], ("T1_IR", "T2"),
    ...                     {"alpha": np.float64(0.1)})
    >>> r = load_result_npz(p)
    >>> r["kinds"], r["metadata"], r["map"].shape
    (('T1_IR', 'T2'), {'alpha': 0.1}, (2, 2))
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    kinds = as_kinds(kinds, path)
    F = as_real_array(F, "F")
    g1 = check_axis_values(grid1, "grid1", allow_zero=False)
    g2 = check_axis_values(grid2, "grid2", allow_zero=False)
    if F.shape != (g1.size, g2.size):
        raise ValueError(f"F has shape {F.shape} but the grids have {g1.size} and {g2.size} points")
    check_finite(F, "F")
    meta = dict(metadata or {})
    try:
        meta_json = json.dumps(meta, default=_json_default, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"metadata cannot be saved: {exc}") from None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(tmp, "wb") as fh:
            _write_npz(fh, F, g1, g2, kinds, meta_json)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_npz(fh: Any, F: Any, g1: Any, g2: Any, kinds: tuple, meta_json: str) -> None:
    np.savez(
        fh,
        map=F,
        grid1=np.asarray(g1),
        grid2=np.asarray(g2),
        kinds=np.array(kinds, dtype=str),
        metadata=np.array(meta_json, dtype=str),
        format=np.array(RESULT_FORMAT, dtype=str),
    )


def load_result_npz(path: PathLike) -> dict[str, Any]:
    """Load a file written by `save_result_npz` (never unpickles).

    Returns
    -------
    dict
        ``map``, ``grid1``, ``grid2`` (arrays), ``kinds`` (tuple), ``metadata`` (dict) and
        ``format`` (str).
    """
    path = Path(path)
    contents, names = load_npz_members(
        path, ("map", "grid1", "grid2", "kinds", "metadata", "format")
    )
    missing = [k for k in ("map", "grid1", "grid2", "kinds") if k not in names]
    if missing:
        raise ValueError(
            f"{path}: missing key(s) {missing}; not a laplace_inv result file "
            f"(found {sorted(names)})"
        )
    kinds = as_kinds(contents["kinds"], path)
    F = numeric(contents["map"], path, "map")
    g1 = check_axis(contents["grid1"], path, "grid1")
    g2 = check_axis(contents["grid2"], path, "grid2")
    if F.shape != (g1.size, g2.size):
        raise ValueError(f"{path}: map shape {F.shape} does not match grids ({g1.size}, {g2.size})")
    meta = _metadata(contents, path)
    fmt = str(contents["format"]) if "format" in contents else RESULT_FORMAT
    return {"map": F, "grid1": g1, "grid2": g2, "kinds": kinds, "metadata": meta, "format": fmt}


def _json_depth(text: str) -> int:
    """Deepest bracket nesting in a JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _metadata(contents: Mapping[str, Any], path: Path) -> dict[str, Any]:
    if "metadata" not in contents:
        return {}
    text = str(contents["metadata"])
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(f"{path}: metadata is longer than {MAX_METADATA_CHARS} characters")
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(
            f"{path}: metadata nests deeper than {MAX_JSON_DEPTH} levels; not a laplace_inv "
            "result file"
        )
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: metadata must be a JSON object")
    return meta

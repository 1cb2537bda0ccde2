"""Validation helpers shared by the readers: kinds, units, shapes and axis checks."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values
from laplace_inv.kernels import KINDS

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
B_UNITS = {"s/m2": 1.0, "s/m^2": 1.0, "ms/um2": 1e9, "ms/µm2": 1e9, "s/mm2": 1e6, "s/mm^2": 1e6}


def wrap(func: Any, src: str, value: Any, name: str) -> Any:
    """Call a validation helper and prefix its message with the source file."""
    try:
        return func(value, name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{src}: {exc}") from None


def as_kinds(kinds: Any, path: Any, n_axes: int | None = 2) -> tuple[str, ...]:
    """Kinds as a tuple of known kind names (``n_axes`` of them, or 1-2 when ``None``)."""
    if kinds is None:
        raise ValueError(f"{path}: kinds are not stored in the file; pass kinds=('T1_IR', 'T2')")
    if isinstance(kinds, np.ndarray):
        kinds = [str(k).strip() for k in kinds.ravel()]
    if isinstance(kinds, str):
        kinds = [k.strip() for k in re.split(r"[,;\s]+", kinds) if k.strip()]
    kinds = tuple(str(k) for k in kinds)
    allowed = (1, 2) if n_axes is None else (n_axes,)
    if len(kinds) not in allowed:
        want = "a pair" if allowed == (2,) else "one or two kinds"
        raise ValueError(f"{path}: kinds must be {want}, got {kinds!r}")
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"{path}: unknown kernel kind {k!r}; expected one of {KINDS}")
    return kinds


def units(time_unit: float, tau1_unit: float | None, tau2_unit: float | None) -> tuple:
    """Per-axis SI factors from a shared ``time_unit`` and optional per-axis overrides."""
    u1 = float(time_unit if tau1_unit is None else tau1_unit)
    u2 = float(time_unit if tau2_unit is None else tau2_unit)
    for u in (u1, u2):
        if not (math.isfinite(u) and u > 0):
            raise ValueError(f"units must be positive and finite, got {u!r}")
    return u1, u2


def numeric(value: Any, path: Any, name: str) -> np.ndarray:
    """A real float array, errors prefixed with the file."""
    try:
        return as_real_array(value, name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def check_axis(values: Any, path: Any, what: str) -> np.ndarray:
    """A valid acquisition axis (finite, non-negative, increasing), errors name the file."""
    try:
        return check_axis_values(values, what)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def check_shapes(
    data: np.ndarray, tau1: np.ndarray, tau2: np.ndarray, names: tuple, noun: str = "file"
) -> None:
    """Raise a ValueError naming the three files (or variables) when shapes disagree."""
    data_name, tau1_name, tau2_name = names
    n1, n2 = tau1.size, tau2.size
    if data.shape == (n1, n2):
        return
    hint = ""
    if data.shape == (n2, n1):
        hint = " It looks transposed: rows must follow axis 1 and columns axis 2."
    elif data.shape[0] == n1 and data.shape[1] < n2:
        hint = " Rows are shorter than the axis 2 file: truncated data file?"
    elif data.shape[1] == n2 and data.shape[0] < n1:
        hint = " Fewer rows than the axis 1 file: truncated data file?"
    raise ValueError(
        f"{data_name}: data is {data.shape[0]}x{data.shape[1]} but the axis 1 {noun} "
        f"{tau1_name} has {n1} values and the axis 2 {noun} {tau2_name} has {n2}.{hint}"
    )


def unit_from_label(label: str) -> float | None:
    """SI factor named in a column label such as ``time (ms)`` or ``t_us`` (``None`` if none)."""
    low = label.lower().replace("µ", "u").replace("μ", "u")
    for pattern, factor in (
        (r"(\b|_|\(|\[)ms(\b|\)|\])", 1e-3),
        (r"(\b|_|\(|\[)us(\b|\)|\])", 1e-6),
        (r"(\b|_|\(|\[)s(\b|\)|\])", 1.0),
    ):
        if re.search(pattern, low):
            return factor
    return None


def as_path(path: Any) -> Path:
    """``Path(path)``; a clear TypeError for anything that is not a path."""
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)

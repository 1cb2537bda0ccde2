"""``key = value`` parameter files (Upen2DTool ``.par``, Spinsolve ``acqu.par``) and bounded
numbers read from them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from laplace_inv.io._text import read_text, short

PathLike = str | os.PathLike

MAX_AXIS_POINTS = 1_000_000
"""Largest number of points a parameter file may declare for one acquisition axis."""

MAX_TOTAL_POINTS = 50_000_000
"""Largest number of data points (rows × columns) a parameter file may declare."""

MAX_GRID_POINTS = 4096
"""Largest output-grid size a parameter file may ask for."""


def parse_par_file(path: PathLike) -> dict[str, str]:
    """Parse a ``key = value`` parameter file (Upen2DTool ``.par``, Spinsolve ``acqu.par``).

    Lines starting with ``%``, ``#`` or ``;`` are comments, parsing stops at a line ``END``,
    lines without ``=`` (free-text titles) are ignored, surrounding quotes are stripped and
    trailing ``%`` comments removed. Keys keep their spelling.

    Parameters
    ----------
    path : str or os.PathLike
        The parameter file.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.par"
    >>> _ = p.write_text('Title line\\n% comment\\n  nx =80\\nname = "a.dat"\\nEND\\nny = 3\\n')
    >>> parse_par_file(p)
    {'nx': '80', 'name': 'a.dat'}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: parameter file not found")
    out: dict[str, str] = {}
    for raw in read_text(path).splitlines():
        line = raw.strip()
        if not line or line.startswith(("%", "#", ";")):
            continue
        if line.upper().startswith("END") and "=" not in line:
            break
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.split("%", 1)[0].strip() if not value.strip().startswith('"') else value
        value = value.strip().strip('"').strip("'").strip()
        out[key.strip()] = value
    return out


def lookup(par: Mapping[str, str], key: str) -> str | None:
    """Case-insensitive key lookup (``None`` when absent)."""
    if key in par:
        return par[key]
    low = key.lower()
    for k, v in par.items():
        if k.lower() == low:
            return v
    return None


def par_float(par: Mapping[str, str], key: str, path: Path) -> float:
    """``par[key]`` (case-insensitive) as a float; Fortran ``D`` exponents are accepted."""
    value = lookup(par, key)
    if value is None or value == "":
        raise ValueError(f"{path}: missing key {key!r}")
    try:
        return float(value.replace("D", "E").replace("d", "e"))
    except ValueError:
        raise ValueError(f"{path}: key {key!r} = {short(value)!r} is not a number") from None


def _bounds(low: int | None, high: int | None) -> str:
    if low is None:
        return f"at most {high}"
    return f"at least {low}" if high is None else f"{low} to {high}"


def par_int(
    par: Mapping[str, str],
    key: str,
    path: Path,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """``par[key]`` as an integer, optionally within ``[low, high]``.

    The bound is checked before anything is allocated from the value, so a damaged or hostile
    file cannot ask for billions of points.

    Examples
    --------
    >>> par_int({"nx": "2000000000"}, "nx", Path("a.par"), low=1, high=4096)
    Traceback (most recent call last):
    ...
    ValueError: a.par: nx = 2000000000 is out of range; this reader accepts 1 to 4096
    """
    value = par_float(par, key, path)
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        raise ValueError(f"{path}: key {key!r} = {lookup(par, key)!r} must be an integer")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(
            f"{path}: {key} = {short(lookup(par, key) or str(number))} is out of range; "
            f"this reader accepts {_bounds(low, high)}"
        )
    return number


def check_total(n_rows: int, n_cols: int, path: Path) -> None:
    """Refuse a declared data size over `MAX_TOTAL_POINTS` before it is allocated."""
    if n_rows * n_cols > MAX_TOTAL_POINTS:
        raise ValueError(
            f"{path}: declares {n_rows} x {n_cols} = {n_rows * n_cols} data points, more than "
            f"the {MAX_TOTAL_POINTS} a reader accepts"
        )

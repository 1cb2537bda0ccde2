"""Readers for Laplace NMR acquisitions (1D and 2D) and the result file format.

Every reader returns an `Acquisition`: the real data (``(n1, n2)`` for a map, ``(n,)`` for a
decay), the acquisition axes in SI units (seconds, or s/m² for b-values), the kernel kinds,
and whatever the file says about noise, phase and output grids.

===========================  ==============================================================
``read_upen2d_folder``       Upen2DTool / MUpen2D folders (``FileSetInput.par`` + ``.dat``)
``read_spinsolve``           Magritek Spinsolve exports (``acqu.par`` + complex text data),
                             T1IRT2, T1SRT2, T2T2, DT2 and 1D T2, T1, PGSE
``read_minispec_dps``        Bruker minispec ``.dps`` exports (1D)
``read_tecmag_tnt``          Tecmag TNMR ``.tnt`` binary files (1D CPMG, IR/SR)
``read_geospec_txt``         Oxford Instruments GeoSpec ``.txt`` exports (1D T2, T1)
``read_csv_1d``              two-column text/CSV decays (time or b, amplitude)
``read_mat``                 MATLAB ``.mat`` files (v5/v7 via ``scipy.io.loadmat``)
``read_table``               plain text / CSV: one data matrix file + two axis files
``read_npz``                 NumPy ``.npz`` with ``data``, ``tau1``, ``tau2``, ``kinds``
``read_any``                 dispatches on `detect_format`
===========================  ==============================================================

Readers never let a bare NumPy traceback through: a malformed file raises ``ValueError`` (or
``TypeError``) whose message names the file and the problem. Files named inside parameter
files must lie inside the folder being read, and sizes declared in them are bounded before
anything is allocated.

Results are stored with `save_result_npz` and read back with `load_result_npz` (plain arrays
and a JSON metadata string; no pickles).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from laplace_inv.io._par import parse_par_file
from laplace_inv.io._paths import has_file
from laplace_inv.io._text import read_numeric_text
from laplace_inv.io.acquisition import Acquisition, resolvable_d_range
from laplace_inv.io.csv1d import looks_like_two_columns, read_csv_1d
from laplace_inv.io.geospec import is_geospec, read_geospec_txt
from laplace_inv.io.mat import read_mat
from laplace_inv.io.minispec import read_minispec_dps
from laplace_inv.io.npz import read_npz
from laplace_inv.io.result import RESULT_FORMAT, load_result_npz, save_result_npz
from laplace_inv.io.spinsolve import read_spinsolve, read_spinsolve_2d
from laplace_inv.io.table import read_table
from laplace_inv.io.tecmag import read_tecmag_tnt
from laplace_inv.io.upen2d import UPEN2D_KERNEL_CODES, read_upen2d_folder

__all__ = [
    "RESULT_FORMAT",
    "UPEN2D_KERNEL_CODES",
    "Acquisition",
    "detect_format",
    "load_result_npz",
    "parse_par_file",
    "read_any",
    "read_csv_1d",
    "read_geospec_txt",
    "read_mat",
    "read_minispec_dps",
    "read_npz",
    "read_numeric_text",
    "read_spinsolve",
    "read_spinsolve_2d",
    "read_table",
    "read_tecmag_tnt",
    "read_upen2d_folder",
    "resolvable_d_range",
    "save_result_npz",
]

PathLike = str | os.PathLike

READERS: dict[str, Callable[..., Acquisition]] = {
    "upen2d": read_upen2d_folder,
    "spinsolve": read_spinsolve,
    "mat": read_mat,
    "npz": read_npz,
    "table": read_table,
    "csv1d": read_csv_1d,
    "minispec": read_minispec_dps,
    "geospec": read_geospec_txt,
    "tecmag": read_tecmag_tnt,
}
"""The reader `read_any` calls for each format `detect_format` names."""


def _detect_folder(p: Path) -> str:
    if has_file(p, "FileSetInput.par"):
        return "upen2d"
    if has_file(p, "acqu.par"):
        return "spinsolve"
    raise ValueError(
        f"{p}: folder format not recognised: expected FileSetInput.par (Upen2DTool/MUpen2D) "
        "or acqu.par (Spinsolve)"
    )


def _detect_text(p: Path) -> str:
    if p.is_file() and is_geospec(p):
        return "geospec"
    if p.is_file() and looks_like_two_columns(p):
        return "csv1d"
    return "table"


def detect_format(path: PathLike) -> str:
    """Guess the format of ``path``.

    Returns
    -------
    str
        ``"upen2d"`` (folder with ``FileSetInput.par``), ``"spinsolve"`` (folder with
        ``acqu.par``), ``"mat"``, ``"npz"``, ``"minispec"`` (``.dps``), ``"tecmag"``
        (``.tnt``), ``"geospec"`` (a ``.txt`` starting with ``[GITData]``), ``"csv1d"`` (a
        text file of two numeric columns) or ``"table"`` (other ``.csv``, ``.txt``,
        ``.dat``, ``.tsv``).

    Examples
    --------
    >>> detect_format("scan.mat"), detect_format("S.csv"), detect_format("x.tnt")
    ('mat', 'table', 'tecmag')
    """
    p = Path(path)
    if p.is_dir():
        return _detect_folder(p)
    name = p.name.lower()
    if name == "acqu.par":
        return "spinsolve"
    if name == "filesetinput.par":
        return "upen2d"
    by_suffix = {".mat": "mat", ".npz": "npz", ".dps": "minispec", ".tnt": "tecmag"}
    suffix = p.suffix.lower()
    if suffix in by_suffix:
        return by_suffix[suffix]
    if suffix in (".csv", ".txt", ".dat", ".tsv"):
        return _detect_text(p)
    raise ValueError(
        f"{p}: unknown format (suffix {suffix!r}); supported: Upen2DTool folder, Spinsolve "
        "folder, .mat, .npz, .dps, .tnt, GeoSpec .txt, .csv/.txt/.dat/.tsv"
    )


def _check_options(fmt: str, reader: Callable[..., Acquisition], kwargs: dict, p: Path) -> None:
    """Refuse keyword options the chosen reader does not take, naming option and format."""
    params = inspect.signature(reader).parameters
    accepted = [n for n, prm in params.items() if n != "path" and prm.kind != prm.VAR_KEYWORD]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"{p}: option(s) {', '.join(unknown)} do not apply to the {fmt!r} format "
            f"({reader.__name__} takes {', '.join(accepted) or 'no options'}); the file "
            "itself gives its axes and kinds"
        )


def read_any(path: PathLike, **kwargs: Any) -> Acquisition:
    """Read ``path`` with the reader `detect_format` picks.

    Keyword arguments go to that reader; one it does not take raises ``ValueError`` naming
    the option and the format. A text data matrix needs ``tau1_path=``, ``tau2_path=`` and
    ``kinds=`` (see `read_table`); with ``tau1_path`` given, a text file is always read as a
    table.

    Parameters
    ----------
    path : str or os.PathLike
        A file or folder.
    **kwargs
        Options of the chosen reader.

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(p, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02], kinds=["T2", "T2"])
    >>> read_any(p).shape
    (2, 2)
    >>> read_any(p, tau1_path="t.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...: option(s) tau1_path do not apply to the 'npz' format ...
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    fmt = detect_format(p)
    if fmt in ("csv1d", "table") and ("tau1_path" in kwargs or "tau2_path" in kwargs):
        fmt = "table"
    if fmt == "table":
        return _read_table_any(p, kwargs)
    reader = READERS[fmt]
    _check_options(fmt, reader, kwargs, p)
    if fmt == "upen2d" and not p.is_dir():
        p = p.parent
    return reader(p, **kwargs)


def _read_table_any(p: Path, kwargs: dict) -> Acquisition:
    kwargs = dict(kwargs)
    tau1_path = kwargs.pop("tau1_path", None)
    tau2_path = kwargs.pop("tau2_path", None)
    kinds = kwargs.pop("kinds", None)
    if tau1_path is None or tau2_path is None or not kinds:
        raise ValueError(
            f"{p}: a text data matrix needs its axes and kinds: read_any(path, tau1_path=..., "
            "tau2_path=..., kinds=(..., ...), time_unit=...); a two-column decay is read "
            "as 1D without them"
        )
    _check_options("table", read_table, kwargs, p)
    return read_table(p, tau1_path, tau2_path, kinds, **kwargs)

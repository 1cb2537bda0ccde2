"""Readers for 2D Laplace NMR acquisitions and the result file format.

Every reader returns an :class:`Acquisition`: the real data matrix (rows follow the indirect
axis 1, columns the direct CPMG axis 2), both acquisition axes in SI units (seconds, or s/m²
for b-values), the kernel kinds, and whatever the file says about noise and output grids.

Supported inputs
----------------
===========================  ==============================================================
``read_upen2d_folder``       Upen2DTool / MUpen2D folders (``FileSetInput.par`` + ``.dat``)
``read_spinsolve_2d``        Magritek Spinsolve-style 2D exports (``acqu.par`` + complex
                             text data, see :func:`read_spinsolve_2d` for the layout)
``read_mat``                 MATLAB ``.mat`` files (v5/v7 via :func:`scipy.io.loadmat`)
``read_table``               plain text / CSV: one data matrix file + two axis files
``read_npz``                 NumPy ``.npz`` with ``data``, ``tau1``, ``tau2``, ``kinds``
``read_any``                 dispatches on :func:`detect_format`
===========================  ==============================================================

Readers never let a bare NumPy traceback through: a malformed file raises ``ValueError`` (or
``TypeError``) whose message names the file and the problem (truncated row, text in a numeric
column, wrong delimiter, axis length mismatch, missing key).

Results are stored with :func:`save_result_npz` and read back with :func:`load_result_npz`
(plain arrays and a JSON metadata string; no pickles).
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values, check_finite
from laplace_inv.kernels import DEFAULT_GRID_SIZE, KINDS, Kernel2D, KernelAxis

__all__ = [
    "RESULT_FORMAT",
    "UPEN2D_KERNEL_CODES",
    "Acquisition",
    "detect_format",
    "load_result_npz",
    "read_any",
    "read_mat",
    "read_npz",
    "read_spinsolve_2d",
    "read_table",
    "read_upen2d_folder",
    "save_result_npz",
]

PathLike = str | os.PathLike

UPEN2D_KERNEL_CODES: dict[int, tuple[str, str]] = {
    1: ("T1_IR", "T2"),
    2: ("T1_SR", "T2"),
    3: ("D", "T2"),
    4: ("T2", "T2"),
    5: ("T1_SR", "T1_SR"),
}
"""``FL_typeKernel`` codes of Upen2DTool/MUpen2D (``FileFlag.par``) mapped to kinds.

From the tools' sources: 1 IR-CPMG ``1 − 2e^(−τ/T1)``, 2 SR-CPMG ``1 − e^(−τ/T1)``, 3 D-T2,
4 T2-T2, 5 SR-SR (MUpen2D ≥ 3.0).
"""

RESULT_FORMAT = "laplace_inv.result/1"
"""Identifier stored in files written by :func:`save_result_npz`."""

_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
_B_UNITS = {"s/m2": 1.0, "s/m^2": 1.0, "ms/um2": 1e9, "ms/µm2": 1e9, "s/mm2": 1e6, "s/mm^2": 1e6}


# --------------------------------------------------------------------------------------------
# The acquisition container
# --------------------------------------------------------------------------------------------


@dataclass
class Acquisition:
    """One 2D acquisition read from disk.

    Parameters
    ----------
    data : numpy.ndarray
        Real data, shape ``(n1, n2)``: rows follow ``tau1`` (indirect dimension), columns
        ``tau2`` (direct CPMG dimension).
    tau1, tau2 : numpy.ndarray
        Acquisition values in SI units (s, or s/m² for a ``"D"`` axis).
    kinds : tuple of str
        Kernel kinds of the two axes, e.g. ``("T1_IR", "T2")``.
    noise_std : float or None
        Noise standard deviation in data units, when the file allows an estimate.
    grid_hint : tuple or None
        Output-grid settings from the tool: ``((lo1, hi1, N1), (lo2, hi2, N2))`` in SI units
        (s, or m²/s for ``"D"``), log-spaced. ``None`` when the file has none.
    metadata : dict
        Everything else the reader found (parameters, phase, file names).
    source : str
        Path the acquisition was read from.

    Examples
    --------
    >>> acq = Acquisition(np.ones((3, 4)), np.array([1e-3, 1e-2, 1e-1]),
    ...                   np.arange(1, 5) * 1e-3, ("T1_IR", "T2"))
    >>> acq.shape
    (3, 4)
    >>> acq.kernel(n_grid=16).map_shape
    (16, 16)
    >>> Acquisition(np.ones((3, 5)), [1.0, 2.0, 3.0], [1.0, 2.0], ("T2", "T2"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: <memory>: data has shape (3, 5) but tau1 has 3 values and tau2 has 2 ...
    """

    data: np.ndarray
    tau1: np.ndarray
    tau2: np.ndarray
    kinds: tuple[str, str]
    noise_std: float | None = None
    grid_hint: tuple | None = None
    metadata: dict = field(default_factory=dict)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        src = self.source
        if not isinstance(self.kinds, (tuple, list)) or len(self.kinds) != 2:
            raise ValueError(f"{src}: kinds must be a pair of kinds, got {self.kinds!r}")
        kinds = tuple(str(k) for k in self.kinds)
        for k in kinds:
            if k not in KINDS:
                raise ValueError(f"{src}: unknown kernel kind {k!r}; expected one of {KINDS}")
        self.kinds = kinds  # type: ignore[assignment]
        data = _wrap(as_real_array, src, self.data, "data")
        if data.ndim != 2:
            raise ValueError(f"{src}: data must be 2D (n1, n2), got shape {data.shape}")
        _wrap(check_finite, src, data, "data")
        self.data = np.ascontiguousarray(data, dtype=np.float64)
        self.tau1 = _wrap(check_axis_values, src, self.tau1, "tau1")
        self.tau2 = _wrap(check_axis_values, src, self.tau2, "tau2")
        n1, n2 = self.tau1.size, self.tau2.size
        if self.data.shape != (n1, n2):
            hint = ""
            if self.data.shape == (n2, n1):
                hint = "; it looks transposed"
            raise ValueError(
                f"{src}: data has shape {self.data.shape} but tau1 has {n1} values and tau2 "
                f"has {n2} (rows must follow tau1, columns tau2){hint}"
            )
        if self.noise_std is not None:
            noise = float(self.noise_std)
            if not math.isfinite(noise) or noise < 0:
                raise ValueError(f"{src}: noise_std must be finite and >= 0, got {noise!r}")
            self.noise_std = noise
        if self.grid_hint is not None:
            self.grid_hint = _check_grid_hint(self.grid_hint, src)
        if self.metadata is None:
            self.metadata = {}

    @property
    def shape(self) -> tuple[int, int]:
        """``(n1, n2)``, the data shape."""
        return self.data.shape  # type: ignore[return-value]

    def grids(self, n_grid: int | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Output grids from :attr:`grid_hint` (``None`` where there is no hint).

        ``n_grid`` overrides the number of points but keeps the hinted ranges.
        """
        if self.grid_hint is None:
            return None, None
        out = []
        for lo, hi, n in self.grid_hint:
            out.append(np.geomspace(lo, hi, int(n_grid if n_grid is not None else n)))
        return out[0], out[1]

    def kernel(self, n_grid: int | None = None) -> Kernel2D:
        """The suggested :class:`~laplace_inv.kernels.Kernel2D` for this acquisition.

        Uses :attr:`grid_hint` when present (the tool's own ranges; ``n_grid`` then overrides
        only the number of points), otherwise the default grids of
        :class:`~laplace_inv.kernels.KernelAxis` with ``n_grid`` points (64 by default).
        """
        grid1, grid2 = self.grids(n_grid)
        n = DEFAULT_GRID_SIZE if n_grid is None else int(n_grid)
        return Kernel2D(
            KernelAxis(self.kinds[0], self.tau1, grid1, n_grid=n),
            KernelAxis(self.kinds[1], self.tau2, grid2, n_grid=n),
        )

    def __repr__(self) -> str:
        return (
            f"Acquisition(kinds={self.kinds}, shape={self.shape}, "
            f"tau1=[{self.tau1[0]:.3g}..{self.tau1[-1]:.3g}], "
            f"tau2=[{self.tau2[0]:.3g}..{self.tau2[-1]:.3g}], noise_std={self.noise_std}, "
            f"source={self.source!r})"
        )


def _wrap(func: Any, src: str, value: Any, name: str) -> Any:
    """Call a validation helper and prefix its message with the source file."""
    try:
        return func(value, name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{src}: {exc}") from None


def _check_grid_hint(hint: Any, src: str) -> tuple:
    try:
        (lo1, hi1, n1), (lo2, hi2, n2) = hint
        out = ((float(lo1), float(hi1), int(n1)), (float(lo2), float(hi2), int(n2)))
    except (TypeError, ValueError):
        raise ValueError(
            f"{src}: grid_hint must be ((lo1, hi1, N1), (lo2, hi2, N2)), got {hint!r}"
        ) from None
    for lo, hi, n in out:
        if not (0 < lo < hi and math.isfinite(hi)) or n < 2:
            raise ValueError(f"{src}: grid_hint ranges need 0 < lo < hi and N >= 2, got {out!r}")
    return out


# --------------------------------------------------------------------------------------------
# Text parsing
# --------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, a file was expected") from None
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: not a text file")  # pragma: no cover - latin-1 always decodes


def _split(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    tokens = [t.strip() for t in line.split(delim)]
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_numeric_text(path: PathLike, what: str = "data") -> np.ndarray:
    """Read a numeric matrix from a text file (whitespace, tab, comma or semicolon separated).

    Blank lines and lines starting with ``#`` or ``%`` are skipped; CRLF line ends are fine;
    a first line made only of non-numeric words is taken as a header. Every other problem
    raises ``ValueError`` naming the file, line and column.

    Parameters
    ----------
    path : str or os.PathLike
        The text file.
    what : str
        What the file holds, used in messages (``"data"``, ``"tau1 axis"``...).

    Returns
    -------
    numpy.ndarray
        A 2D float64 array (one row per line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
    >>> _ = p.write_bytes(b"1\\t2\\r\\n3\\t4\\r\\n")
    >>> read_numeric_text(p)
    array([[1., 2.],
           [3., 4.]])
    >>> _ = p.write_text("1 2\\n3 x\\n")
    >>> read_numeric_text(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...m.txt: data line 2, column 2: cannot read 'x' as a number
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: {what} file not found")
    text = _read_text(path)
    lines = [
        (i + 1, ln.strip())
        for i, ln in enumerate(text.splitlines())
        if ln.strip() and not ln.lstrip().startswith(("#", "%"))
    ]
    if not lines:
        raise ValueError(f"{path}: {what} file is empty")
    first = lines[0][1]
    delim: str | None = None
    for cand in (",", ";"):
        if cand in first:
            delim = cand
            break
    head = _split(first, delim)
    if head and all(not _is_number(t) and re.match(r"[\"']?[A-Za-z_]", t) for t in head):
        lines = lines[1:]  # a header line of column names
        if not lines:
            raise ValueError(f"{path}: {what} file has a header but no numbers")
    rows: list[np.ndarray] = []
    width = None
    for lineno, line in lines:
        tokens = _split(line, delim)
        try:
            row = np.array(tokens, dtype=np.float64)
        except ValueError:
            for col, tok in enumerate(tokens, start=1):
                if not _is_number(tok):
                    hint = ""
                    if tok == "":
                        hint = " (empty field)"
                    elif re.search(r"\d[,;|:]\d|\d[,;|:]-", tok):
                        hint = " (wrong delimiter or decimal comma?)"
                    raise ValueError(
                        f"{path}: {what} line {lineno}, column {col}: cannot read {tok!r} as "
                        f"a number{hint}"
                    ) from None
            raise  # pragma: no cover
        if width is None:
            width = row.size
        elif row.size != width:
            raise ValueError(
                f"{path}: {what} line {lineno} has {row.size} values but the first data line "
                f"has {width} (truncated file or inconsistent delimiter?)"
            )
        rows.append(row)
    arr = np.vstack(rows)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{path}: {what} contains NaN or infinite values (first at data row {bad[0] + 1}, "
            f"column {bad[1] + 1})"
        )
    return arr


def _read_axis(path: Path, what: str) -> np.ndarray:
    arr = read_numeric_text(path, what)
    if arr.shape[0] != 1 and arr.shape[1] != 1:
        raise ValueError(
            f"{path}: {what} file must hold one row or one column of values, got a "
            f"{arr.shape[0]}x{arr.shape[1]} table"
        )
    return arr.ravel()


def _check_axis(values: Any, path: Any, what: str) -> np.ndarray:
    try:
        return check_axis_values(values, what)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def _check_shapes(
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


# --------------------------------------------------------------------------------------------
# Upen2DTool / MUpen2D folders
# --------------------------------------------------------------------------------------------


def parse_par_file(path: PathLike) -> dict[str, str]:
    """Parse a ``key = value`` parameter file (Upen2DTool ``.par``, Spinsolve ``acqu.par``).

    Lines starting with ``%``, ``#`` or ``;`` are comments, parsing stops at a line ``END``,
    lines without ``=`` (free-text titles) are ignored, surrounding quotes are stripped and
    trailing ``%`` comments removed. Keys keep their spelling.

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
    for raw in _read_text(path).splitlines():
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


def _find_file(folder: Path, name: str, what: str, par_name: str) -> Path:
    """Find ``name`` in ``folder``, case-insensitively (.par files often differ in case)."""
    exact = folder / name
    if exact.is_file():
        return exact
    want = Path(name).name.lower()
    matches = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower() == want)
    if matches:
        return matches[0]
    raise FileNotFoundError(
        f"{folder}: the {what} file {name!r} named in {par_name} is not in the folder "
        f"(also looked for it case-insensitively)"
    )


def _par_float(par: Mapping[str, str], key: str, path: Path) -> float:
    if key not in par:
        raise ValueError(f"{path}: missing key {key!r}")
    try:
        return float(par[key].replace("D", "E").replace("d", "e"))
    except ValueError:
        raise ValueError(f"{path}: key {key!r} = {par[key]!r} is not a number") from None


def _par_int(par: Mapping[str, str], key: str, path: Path) -> int:
    value = _par_float(par, key, path)
    if value != int(value):
        raise ValueError(f"{path}: key {key!r} = {par[key]!r} must be an integer")
    return int(value)


def _lookup(par: Mapping[str, str], key: str) -> str | None:
    """Case-insensitive key lookup."""
    if key in par:
        return par[key]
    low = key.lower()
    for k, v in par.items():
        if k.lower() == low:
            return v
    return None


def read_upen2d_folder(
    path: PathLike,
    *,
    kinds: tuple[str, str] | None = None,
    time_unit: float = 1e-3,
    b_unit: float = 1e9,
    d_unit: float = 1e-9,
) -> Acquisition:
    """Read an Upen2DTool / MUpen2D data folder.

    The folder holds ``FileSetInput.par`` (file names and inversion grid), ``FileFlag.par``
    (kernel type) and optionally ``FilePar.par`` (solver settings, kept in metadata), plus
    the three text files it names:

    - ``filenamedata``: the data matrix, rows = indirect dimension, columns = CPMG echoes
      (tab/space separated, CRLF allowed);
    - ``filenameTimeY``: the row axis ``tau1`` (inversion/recovery delays, first-CPMG times
      or b-values);
    - ``filenameTimeX``: the column axis ``tau2`` (echo times).

    File names are matched case-insensitively (the shipped cement example names
    ``s_ircpmg.dat`` for ``S_IRCPMG.dat``). The kernel comes from ``FL_typeKernel``
    (see :data:`UPEN2D_KERNEL_CODES`: 1 IR-CPMG, 2 SR-CPMG, 3 D-T2, 4 T2-T2, 5 SR-SR).

    The grid hint follows the tools' own code (``MUpen2D.m``): ``nx`` points from ``T1min``
    to ``T1max`` for the rows, ``ny`` points from ``T2min`` to ``T2max`` for the columns,
    geometric; with ``FL_InversionTimeLimits = 1`` the range is automatic,
    ``[τ_min/4, 4·τ_max]``, for relaxation axes.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    kinds : tuple of str, optional
        Override the kinds (required if ``FileFlag.par`` is absent).
    time_unit : float
        Seconds per unit of the time axes and T limits (1e-3: the tools work in ms).
    b_unit : float
        s/m² per unit of a b-value axis (1e9: ms/µm²).
    d_unit : float
        m²/s per unit of the D limits (1e-9: µm²/ms).

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "FileSetInput.par").write_text(
    ...     "filenamedata = s.dat\\nfilenameTimeX = tx.dat\\nfilenameTimeY = ty.dat\\n"
    ...     "nx = 20\\nny = 30\\nT1min = 0.1\\nT1max = 1e3\\nT2min = 0.1\\nT2max = 1e3\\nEND\\n")
    >>> _ = (d / "FileFlag.par").write_text("FL_typeKernel = 1\\nEND\\n")
    >>> _ = (d / "S.DAT").write_text("-1 -0.5 -0.2\\n0.5 0.3 0.1\\n")
    >>> _ = (d / "ty.dat").write_text("1\\n100\\n")
    >>> _ = (d / "tx.dat").write_text("0.1\\n0.2\\n0.3\\n")
    >>> acq = read_upen2d_folder(d)
    >>> acq.kinds, acq.shape, float(acq.tau1[-1])
    (('T1_IR', 'T2'), (2, 3), 0.1)
    >>> acq.kernel().map_shape
    (20, 30)
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder (expected an Upen2DTool data folder)")
    set_path = _find_file(folder, "FileSetInput.par", "settings", "the folder")
    setinput = parse_par_file(set_path)
    names = {}
    for key in ("filenamedata", "filenameTimeX", "filenameTimeY"):
        value = _lookup(setinput, key)
        if not value:
            raise ValueError(f"{set_path}: missing key {key!r}")
        names[key] = value

    flags: dict[str, str] = {}
    try:
        flag_path: Path | None = _find_file(folder, "FileFlag.par", "flags", "the folder")
    except FileNotFoundError:
        flag_path = None
    if flag_path is not None:
        flags = parse_par_file(flag_path)
    if kinds is None:
        if flag_path is None:
            raise ValueError(
                f"{folder}: no FileFlag.par (needed for FL_typeKernel); pass kinds=(..., ...)"
            )
        code = _par_int(flags, "FL_typeKernel", flag_path)
        if code not in UPEN2D_KERNEL_CODES:
            raise ValueError(
                f"{flag_path}: unknown FL_typeKernel = {code}; known codes are "
                f"{ {k: v for k, v in UPEN2D_KERNEL_CODES.items()} }"
            )
        kinds = UPEN2D_KERNEL_CODES[code]
    kinds = (str(kinds[0]), str(kinds[1]))

    par: dict[str, str] = {}
    try:
        par = parse_par_file(_find_file(folder, "FilePar.par", "solver settings", "the folder"))
    except FileNotFoundError:
        pass

    data_path = _find_file(folder, names["filenamedata"], "data", set_path.name)
    y_path = _find_file(folder, names["filenameTimeY"], "row axis", set_path.name)
    x_path = _find_file(folder, names["filenameTimeX"], "column axis", set_path.name)
    data = read_numeric_text(data_path, "data")
    tau1_raw = _read_axis(y_path, "row axis (filenameTimeY)")
    tau2_raw = _read_axis(x_path, "column axis (filenameTimeX)")
    _check_shapes(data, tau1_raw, tau2_raw, (data_path, y_path.name, x_path.name))

    def unit(kind: str) -> float:
        return b_unit if kind == "D" else time_unit

    tau1 = _check_axis(tau1_raw * unit(kinds[0]), y_path, "row axis (filenameTimeY)")
    tau2 = _check_axis(tau2_raw * unit(kinds[1]), x_path, "column axis (filenameTimeX)")

    for flag in ("FL_EraseCol", "FL_EraseRow", "FL_Offset"):
        value = _lookup(flags, flag)
        if value is not None and value.strip() not in ("0", ""):
            warnings.warn(
                f"{flag_path}: {flag} = {value} is recorded in metadata but not applied; the "
                "data are returned as stored",
                UserWarning,
                stacklevel=2,
            )
    grid_hint = _upen2d_grid_hint(setinput, flags, set_path, kinds, tau1, tau2, time_unit, d_unit)
    noise = None
    return Acquisition(
        data=data,
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        noise_std=noise,
        grid_hint=grid_hint,
        metadata={
            "format": "upen2d",
            "files": {
                k: Path(v).name
                for k, v in (("data", data_path), ("tau1", y_path), ("tau2", x_path))
            },
            "FileSetInput": setinput,
            "FileFlag": flags,
            "FilePar": par,
            "units": {"time_unit": time_unit, "b_unit": b_unit, "d_unit": d_unit},
        },
        source=str(folder),
    )


def _upen2d_grid_hint(
    setinput: Mapping[str, str],
    flags: Mapping[str, str],
    set_path: Path,
    kinds: tuple[str, str],
    tau1: np.ndarray,
    tau2: np.ndarray,
    time_unit: float,
    d_unit: float,
) -> tuple | None:
    if _lookup(setinput, "nx") is None or _lookup(setinput, "ny") is None:
        return None
    sizes = (_par_int(setinput, "nx", set_path), _par_int(setinput, "ny", set_path))
    auto = _lookup(flags, "FL_InversionTimeLimits")
    hint = []
    for axis, (kind, tau, n, lo_key, hi_key) in enumerate(
        ((kinds[0], tau1, sizes[0], "T1min", "T1max"), (kinds[1], tau2, sizes[1], "T2min", "T2max"))
    ):
        if auto is not None and auto.strip().startswith("1"):
            if kind == "D":
                return None
            positive = tau[tau > 0]
            lo, hi = 0.25 * float(positive[0]), 4.0 * float(positive[-1])
        else:
            if _lookup(setinput, lo_key) is None or _lookup(setinput, hi_key) is None:
                return None
            scale = d_unit if kind == "D" else time_unit
            lo = _par_float(setinput, lo_key, set_path) * scale
            hi = _par_float(setinput, hi_key, set_path) * scale
        if not (0 < lo < hi):
            raise ValueError(
                f"{set_path}: grid limits for axis {axis + 1} need 0 < {lo_key} < {hi_key}"
            )
        if n < 2:
            raise ValueError(f"{set_path}: grid size for axis {axis + 1} must be >= 2, got {n}")
        hint.append((lo, hi, n))
    return tuple(hint)


# --------------------------------------------------------------------------------------------
# Spinsolve
# --------------------------------------------------------------------------------------------

_SPINSOLVE_EXPERIMENTS: dict[str, tuple[str, str]] = {
    "t1irt2": ("T1_IR", "T2"),
    "t1t2": ("T1_IR", "T2"),
    "irt2": ("T1_IR", "T2"),
    "t1srt2": ("T1_SR", "T2"),
    "srt2": ("T1_SR", "T2"),
    "t2t2": ("T2", "T2"),
    "dt2": ("D", "T2"),
}


def _normalise_experiment(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_spinsolve_2d(path: PathLike) -> Acquisition:
    """Read a Magritek Spinsolve-style 2D relaxation/diffusion export folder.

    No public sample of this export was available when this reader was written, so it reads
    the following documented layout (``acqu.par`` in the Spinsolve ``key = value`` style):

    ``acqu.par`` keys (case-insensitive; quotes around strings are optional)

    ==================  ==========  =============================================================
    ``experiment``      required    ``"T1IRT2"`` (inversion recovery, ``T1_IR``-``T2``),
                                    ``"T1SRT2"`` (saturation recovery), ``"T2T2"`` or ``"DT2"``
    ``nrEchoes``        required    echoes per CPMG train (data columns)
    ``echoTime``        required    echo spacing in µs; ``tau2 = echoTime·(1..nrEchoes)``
    ``nrSteps``         required    number of indirect increments (data rows)
    ``indirectFile``    optional    text file with the ``nrSteps`` indirect values
                                    (default ``indirect.txt``)
    ``indirectUnit``    optional    ``ms`` (default for times), ``s``, ``us``; for ``DT2``
                                    ``s/m2`` (default), ``s/mm2`` or ``ms/um2``
    ``dataFile``        optional    the data file (default ``data2d.txt``)
    ``nrScans``         optional    kept in metadata, like every other key
    ==================  ==========  =============================================================

    The data file has ``nrSteps`` rows, each with ``2·nrEchoes`` numbers: interleaved real and
    imaginary parts ``re1 im1 re2 im2 ...`` (whitespace or comma separated). The complex data
    are phased with :func:`laplace_inv.phase.phase_correct` (one zero-order phase for the whole
    matrix); the real channel becomes ``data``, the standard deviation of the phased imaginary
    channel becomes ``noise_std`` and the phase (radians) goes to ``metadata["phase"]``.

    Parameters
    ----------
    path : str or os.PathLike
        The export folder (or its ``acqu.par``).

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "acqu.par").write_text(
    ...     'experiment = "T2T2"\\nnrEchoes = 2\\nechoTime = 100\\nnrSteps = 2\\nnrScans = 4\\n')
    >>> _ = (d / "indirect.txt").write_text("0.1\\n0.2\\n")
    >>> _ = (d / "data2d.txt").write_text("0 1 0 0.5\\n0 0.5 0 0.25\\n")  # pure imaginary
    >>> acq = read_spinsolve_2d(d)
    >>> acq.data
    array([[1.  , 0.5 ],
           [0.5 , 0.25]])
    >>> round(acq.metadata["phase"], 4), round(acq.noise_std, 12)
    (1.5708, 0.0)
    """
    from laplace_inv.phase import phase_correct

    folder = Path(path)
    if folder.is_file() and folder.name.lower() == "acqu.par":
        folder = folder.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder (expected a Spinsolve export folder)")
    par_path = _find_file(folder, "acqu.par", "acquisition parameters", "the folder")
    par = parse_par_file(par_path)

    def need(key: str) -> str:
        value = _lookup(par, key)
        if value is None or value == "":
            raise ValueError(f"{par_path}: missing key {key!r} (see read_spinsolve_2d docs)")
        return value

    experiment = need("experiment")
    kinds = _SPINSOLVE_EXPERIMENTS.get(_normalise_experiment(experiment))
    if kinds is None:
        raise ValueError(
            f"{par_path}: unknown experiment {experiment!r}; expected T1IRT2, T1SRT2, T2T2 or DT2"
        )
    n_echoes = _par_int({"nrEchoes": need("nrEchoes")}, "nrEchoes", par_path)
    n_steps = _par_int({"nrSteps": need("nrSteps")}, "nrSteps", par_path)
    echo_us = _par_float({"echoTime": need("echoTime")}, "echoTime", par_path)
    if n_echoes < 1 or n_steps < 1 or echo_us <= 0:
        raise ValueError(f"{par_path}: nrEchoes, nrSteps and echoTime must be positive")
    tau2 = echo_us * 1e-6 * np.arange(1, n_echoes + 1)

    ind_name = _lookup(par, "indirectFile") or "indirect.txt"
    ind_path = _find_file(folder, ind_name, "indirect axis", par_path.name)
    ind = _read_axis(ind_path, "indirect axis")
    unit_name = (_lookup(par, "indirectUnit") or ("s/m2" if kinds[0] == "D" else "ms")).strip()
    table = _B_UNITS if kinds[0] == "D" else _TIME_UNITS
    unit_key = unit_name.lower().replace("²", "2").replace(" ", "")
    if unit_key not in {k.lower() for k in table}:
        raise ValueError(
            f"{par_path}: indirectUnit {unit_name!r} not understood for {kinds[0]}; "
            f"expected one of {sorted(table)}"
        )
    scale = {k.lower(): v for k, v in table.items()}[unit_key]
    if ind.size != n_steps:
        raise ValueError(
            f"{ind_path}: indirect axis has {ind.size} values but acqu.par says nrSteps = {n_steps}"
        )
    tau1 = _check_axis(ind * scale, ind_path, "indirect axis")

    data_name = _lookup(par, "dataFile") or "data2d.txt"
    data_path = _find_file(folder, data_name, "data", par_path.name)
    raw = read_numeric_text(data_path, "data")
    if raw.shape[1] % 2:
        raise ValueError(
            f"{data_path}: rows have {raw.shape[1]} values, an odd number; interleaved real/"
            "imaginary columns (re im re im ...) are expected"
        )
    if raw.shape != (n_steps, 2 * n_echoes):
        raise ValueError(
            f"{data_path}: data is {raw.shape[0]}x{raw.shape[1]} but acqu.par (nrSteps = "
            f"{n_steps}, nrEchoes = {n_echoes}) needs {n_steps}x{2 * n_echoes} "
            "(interleaved re/im columns); truncated file?"
        )
    z = raw[:, 0::2] + 1j * raw[:, 1::2]
    real, phase, noise = phase_correct(z)
    meta: dict[str, Any] = {"format": "spinsolve", "acqu": par, "phase": phase}
    meta["files"] = {"data": data_path.name, "tau1": ind_path.name}
    return Acquisition(
        data=real,
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        noise_std=noise,
        grid_hint=None,
        metadata=meta,
        source=str(folder),
    )


# --------------------------------------------------------------------------------------------
# .mat, tables, .npz
# --------------------------------------------------------------------------------------------

_DATA_KEYS = ("S", "data", "Data", "s", "signal", "Signal", "X")
_TAU1_KEYS = ("tau1", "t1", "t_Y", "tY", "Tau1", "t_1", "T1axis", "tau_1")
_TAU2_KEYS = ("tau2", "t2", "t_X", "tX", "Tau2", "t_2", "T2axis", "tau_2")


def _pick(contents: Mapping[str, Any], key: str | None, guesses: tuple, what: str, path: Path):
    available = sorted(k for k in contents if not k.startswith("__"))
    if key is not None:
        if key not in contents:
            raise ValueError(f"{path}: no variable {key!r} for {what}; available: {available}")
        return key
    for guess in guesses:
        if guess in contents:
            return guess
    raise ValueError(
        f"{path}: cannot find the {what} (tried {list(guesses)}); available variables: "
        f"{available}; pass the name explicitly"
    )


def _as_kinds(kinds: Any, path: Any) -> tuple[str, str]:
    if kinds is None:
        raise ValueError(f"{path}: kinds are not stored in the file; pass kinds=('T1_IR', 'T2')")
    if isinstance(kinds, np.ndarray):
        kinds = [str(k).strip() for k in kinds.ravel()]
    if isinstance(kinds, str):
        kinds = [k.strip() for k in re.split(r"[,;\s]+", kinds) if k.strip()]
    kinds = tuple(str(k) for k in kinds)
    if len(kinds) != 2:
        raise ValueError(f"{path}: kinds must be a pair, got {kinds!r}")
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"{path}: unknown kernel kind {k!r}; expected one of {KINDS}")
    return kinds  # type: ignore[return-value]


def _units(time_unit: float, tau1_unit: float | None, tau2_unit: float | None) -> tuple:
    u1 = float(time_unit if tau1_unit is None else tau1_unit)
    u2 = float(time_unit if tau2_unit is None else tau2_unit)
    for u in (u1, u2):
        if not (math.isfinite(u) and u > 0):
            raise ValueError(f"units must be positive and finite, got {u!r}")
    return u1, u2


def _numeric(value: Any, path: Path, name: str) -> np.ndarray:
    try:
        return as_real_array(value, name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def read_mat(
    path: PathLike,
    data_key: str | None = None,
    tau1_key: str | None = None,
    tau2_key: str | None = None,
    kinds: tuple[str, str] | None = None,
    *,
    time_unit: float = 1.0,
    tau1_unit: float | None = None,
    tau2_unit: float | None = None,
    noise_key: str | None = None,
) -> Acquisition:
    """Read a MATLAB ``.mat`` file (v4–v7; v7.3/HDF5 files must be re-saved with ``-v7``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.mat`` file.
    data_key, tau1_key, tau2_key : str, optional
        Variable names. When omitted, common names are tried: ``S``, ``data``, ``Data``...
        for the data; ``tau1``, ``t1``, ``t_Y``... for the rows; ``tau2``, ``t2``, ``t_X``...
        for the columns.
    kinds : tuple of str, optional
        Kernel kinds; required unless the file has a ``kinds`` variable.
    time_unit : float
        SI units per file unit, applied to both axes (1e-3 for ms).
    tau1_unit, tau2_unit : float, optional
        Per-axis overrides of ``time_unit`` (e.g. 1e9 for a b axis in ms/µm²).
    noise_key : str, optional
        Variable holding the noise standard deviation (``noise_std`` is tried by default).
        A complex data matrix is phased with :func:`laplace_inv.phase.phase_correct` and the
        imaginary channel gives the noise.

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib, scipy.io
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.mat"
    >>> scipy.io.savemat(p, {"S": np.ones((2, 3)), "t1": [1.0, 2.0], "t2": [1.0, 2.0, 3.0]})
    >>> acq = read_mat(p, kinds=("T1_SR", "T2"), time_unit=1e-3)
    >>> acq.shape, float(acq.tau2[-1])
    ((2, 3), 0.003)
    """
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: .mat file not found")
    try:
        contents = scipy.io.loadmat(path, squeeze_me=False)
    except NotImplementedError:
        raise ValueError(
            f"{path}: MATLAB v7.3 (HDF5) files are not supported; re-save with "
            "save(..., '-v7') or export the arrays to .npz/.csv"
        ) from None
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .mat file ({exc})") from None
    dk = _pick(contents, data_key, _DATA_KEYS, "data matrix", path)
    k1 = _pick(contents, tau1_key, _TAU1_KEYS, "axis 1 (rows)", path)
    k2 = _pick(contents, tau2_key, _TAU2_KEYS, "axis 2 (columns)", path)
    if kinds is None and "kinds" in contents:
        kinds = contents["kinds"]
    kinds = _as_kinds(kinds, path)
    u1, u2 = _units(time_unit, tau1_unit, tau2_unit)
    raw = np.asarray(contents[dk])
    meta: dict[str, Any] = {"format": "mat", "keys": {"data": dk, "tau1": k1, "tau2": k2}}
    noise = None
    if np.iscomplexobj(raw):
        from laplace_inv.phase import phase_correct

        if raw.ndim != 2:
            raise ValueError(f"{path}: variable {dk!r} must be 2D, got shape {raw.shape}")
        raw, phase, noise = phase_correct(raw)
        meta["phase"] = phase
    data = _numeric(raw, path, f"variable {dk!r}")
    tau1 = _numeric(contents[k1], path, f"variable {k1!r}").ravel()
    tau2 = _numeric(contents[k2], path, f"variable {k2!r}").ravel()
    if data.ndim != 2:
        raise ValueError(f"{path}: variable {dk!r} must be 2D, got shape {data.shape}")
    _check_shapes(data, tau1, tau2, (f"{path} ({dk})", k1, k2), "variable")
    nk = noise_key if noise_key is not None else ("noise_std" if "noise_std" in contents else None)
    if nk is not None:
        if nk not in contents:
            raise ValueError(f"{path}: no variable {nk!r} for the noise level")
        nv = _numeric(contents[nk], path, f"variable {nk!r}").ravel()
        if nv.size != 1:
            raise ValueError(f"{path}: variable {nk!r} must be a scalar")
        noise = float(nv[0])
    return Acquisition(
        data=data,
        tau1=_check_axis(tau1 * u1, path, f"variable {k1!r}"),
        tau2=_check_axis(tau2 * u2, path, f"variable {k2!r}"),
        kinds=kinds,
        noise_std=noise,
        metadata=meta,
        source=str(path),
    )


def read_table(
    data_path: PathLike,
    tau1_path: PathLike,
    tau2_path: PathLike,
    kinds: tuple[str, str],
    time_unit: float = 1.0,
    *,
    tau1_unit: float | None = None,
    tau2_unit: float | None = None,
    noise_std: float | None = None,
) -> Acquisition:
    """Read a data matrix and its two axes from plain text / CSV files.

    Each file may be whitespace-, tab-, comma- or semicolon-separated, with ``#``/``%``
    comments, an optional header line of names and CRLF line ends. The axis files hold one
    column (or one row) of values.

    Parameters
    ----------
    data_path : str or os.PathLike
        ``n1`` rows × ``n2`` columns.
    tau1_path, tau2_path : str or os.PathLike
        Axis 1 (rows, ``n1`` values) and axis 2 (columns, ``n2`` values).
    kinds : tuple of str
        Kernel kinds, e.g. ``("T1_IR", "T2")``.
    time_unit : float
        SI units per file unit for both axes (1e-3 when times are in ms).
    tau1_unit, tau2_unit : float, optional
        Per-axis overrides of ``time_unit`` (1e9 for b in ms/µm²).
    noise_std : float, optional
        Known noise level, stored on the acquisition.

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "S.csv").write_text("-1,-0.5\\n1,0.5\\n")
    >>> _ = (d / "t1.csv").write_text("tau1_ms\\n1\\n1000\\n")
    >>> _ = (d / "t2.csv").write_text("0.1\\n0.2\\n")
    >>> read_table(d / "S.csv", d / "t1.csv", d / "t2.csv", ("T1_IR", "T2"), 1e-3).tau1
    array([0.001, 1.   ])
    """
    data_path, tau1_path, tau2_path = Path(data_path), Path(tau1_path), Path(tau2_path)
    kinds = _as_kinds(kinds, data_path)
    u1, u2 = _units(time_unit, tau1_unit, tau2_unit)
    data = read_numeric_text(data_path, "data")
    tau1 = _read_axis(tau1_path, "axis 1")
    tau2 = _read_axis(tau2_path, "axis 2")
    _check_shapes(data, tau1, tau2, (data_path, tau1_path.name, tau2_path.name))
    return Acquisition(
        data=data,
        tau1=_check_axis(tau1 * u1, tau1_path, "axis 1"),
        tau2=_check_axis(tau2 * u2, tau2_path, "axis 2"),
        kinds=kinds,
        noise_std=noise_std,
        metadata={
            "format": "table",
            "files": {"data": data_path.name, "tau1": tau1_path.name, "tau2": tau2_path.name},
        },
        source=str(data_path),
    )


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: .npz file not found")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # np.load would call anything else "pickled data"
        raise ValueError(
            f"{path}: not a readable .npz file (not a zip archive: truncated, or another format)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                f"{path}: holds object arrays (pickles), which are refused for safety; store "
                "plain numeric/string arrays"
            ) from None
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None


def read_npz(path: PathLike) -> Acquisition:
    """Read an acquisition from a ``.npz`` file.

    Keys: ``data`` (n1, n2), ``tau1`` (n1, SI), ``tau2`` (n2, SI), ``kinds`` (two strings)
    and optionally ``noise_std`` (scalar). Pickled object arrays are refused.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(p, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02],
    ...          kinds=["T2", "T2"], noise_std=0.01)
    >>> acq = read_npz(p)
    >>> acq.kinds, acq.noise_std
    (('T2', 'T2'), 0.01)
    """
    path = Path(path)
    contents = _load_npz(path)
    if "map" in contents and "data" not in contents:
        raise ValueError(
            f"{path}: this is a result file (a map), not an acquisition; use load_result_npz"
        )
    missing = [k for k in ("data", "tau1", "tau2", "kinds") if k not in contents]
    if missing:
        raise ValueError(
            f"{path}: missing key(s) {missing}; an acquisition .npz needs data, tau1, tau2, "
            f"kinds (found {sorted(contents)})"
        )
    kinds = _as_kinds(contents["kinds"], path)
    noise = None
    if "noise_std" in contents:
        nv = _numeric(contents["noise_std"], path, "noise_std").ravel()
        if nv.size != 1:
            raise ValueError(f"{path}: noise_std must be a scalar")
        noise = float(nv[0])
    data = _numeric(contents["data"], path, "data")
    tau1 = _numeric(contents["tau1"], path, "tau1")
    tau2 = _numeric(contents["tau2"], path, "tau2")
    if data.ndim != 2:
        raise ValueError(f"{path}: data must be 2D (n1, n2), got shape {data.shape}")
    if tau1.ndim != 1 or tau2.ndim != 1:
        raise ValueError(f"{path}: tau1 and tau2 must be 1D")
    _check_shapes(data, tau1, tau2, (f"{path} (data)", "tau1", "tau2"), "array")
    return Acquisition(
        data=data,
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        noise_std=noise,
        metadata={"format": "npz"},
        source=str(path),
    )


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


def _has_file(folder: Path, name: str) -> bool:
    want = name.lower()
    return any(p.is_file() and p.name.lower() == want for p in folder.iterdir())


def detect_format(path: PathLike) -> str:
    """Guess the format of ``path``.

    Returns
    -------
    str
        ``"upen2d"`` (folder with ``FileSetInput.par``), ``"spinsolve"`` (folder with
        ``acqu.par``), ``"mat"``, ``"npz"`` or ``"table"`` (``.csv``, ``.txt``, ``.dat``,
        ``.tsv``).

    Examples
    --------
    >>> detect_format("scan.mat"), detect_format("S.csv")
    ('mat', 'table')
    """
    p = Path(path)
    if p.is_dir():
        if _has_file(p, "FileSetInput.par"):
            return "upen2d"
        if _has_file(p, "acqu.par"):
            return "spinsolve"
        raise ValueError(
            f"{p}: folder format not recognised: expected FileSetInput.par (Upen2DTool/MUpen2D) "
            "or acqu.par (Spinsolve)"
        )
    if p.name.lower() == "acqu.par":
        return "spinsolve"
    if p.name.lower() == "filesetinput.par":
        return "upen2d"
    suffix = p.suffix.lower()
    if suffix == ".mat":
        return "mat"
    if suffix == ".npz":
        return "npz"
    if suffix in (".csv", ".txt", ".dat", ".tsv"):
        return "table"
    raise ValueError(
        f"{p}: unknown format (suffix {suffix!r}); supported: Upen2DTool folder, Spinsolve "
        "folder, .mat, .npz, .csv/.txt/.dat/.tsv"
    )


def read_any(path: PathLike, **kwargs: Any) -> Acquisition:
    """Read ``path`` with the reader :func:`detect_format` picks.

    Keyword arguments go to that reader. A text data file needs ``tau1_path=``,
    ``tau2_path=`` and ``kinds=`` (see :func:`read_table`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(p, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02], kinds=["T2", "T2"])
    >>> read_any(p).shape
    (2, 2)
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    fmt = detect_format(p)
    if fmt == "upen2d":
        return read_upen2d_folder(p if p.is_dir() else p.parent, **kwargs)
    if fmt == "spinsolve":
        return read_spinsolve_2d(p, **kwargs)
    if fmt == "mat":
        return read_mat(p, **kwargs)
    if fmt == "npz":
        return read_npz(p, **kwargs)
    tau1_path = kwargs.pop("tau1_path", None)
    tau2_path = kwargs.pop("tau2_path", None)
    kinds = kwargs.pop("kinds", None)
    if tau1_path is None or tau2_path is None or kinds is None:
        raise ValueError(
            f"{p}: a text data file needs its axes and kinds: read_any(path, tau1_path=..., "
            "tau2_path=..., kinds=(..., ...), time_unit=...)"
        )
    return read_table(p, tau1_path, tau2_path, kinds, **kwargs)


# --------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------


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
    kinds: tuple[str, str],
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Save a map in the ``laplace_inv`` result format.

    The file is a NumPy ``.npz`` with arrays ``map`` (N1, N2) float64, ``grid1`` (N1,),
    ``grid2`` (N2,) in SI units, ``kinds`` (two strings), ``metadata`` (a JSON string) and
    ``format`` (:data:`RESULT_FORMAT`). It holds no pickles and is readable from any language
    with an ``.npz`` reader.

    Parameters
    ----------
    path : str or os.PathLike
        Target file (``.npz`` is appended by NumPy if missing).
    F : array_like
        The map, rows along ``grid1``.
    grid1, grid2 : array_like
        Output grids (s, or m²/s for ``"D"``), strictly increasing and positive.
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
    kinds = _as_kinds(kinds, path)
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
    np.savez(
        path,
        map=F,
        grid1=np.asarray(g1),
        grid2=np.asarray(g2),
        kinds=np.array(kinds, dtype=str),
        metadata=np.array(meta_json, dtype=str),
        format=np.array(RESULT_FORMAT, dtype=str),
    )
    return path


def load_result_npz(path: PathLike) -> dict[str, Any]:
    """Load a file written by :func:`save_result_npz` (never unpickles).

    Returns
    -------
    dict
        ``map``, ``grid1``, ``grid2`` (arrays), ``kinds`` (tuple), ``metadata`` (dict) and
        ``format`` (str).
    """
    path = Path(path)
    contents = _load_npz(path)
    missing = [k for k in ("map", "grid1", "grid2", "kinds") if k not in contents]
    if missing:
        raise ValueError(
            f"{path}: missing key(s) {missing}; not a laplace_inv result file "
            f"(found {sorted(contents)})"
        )
    kinds = _as_kinds(contents["kinds"], path)
    F = _numeric(contents["map"], path, "map")
    g1 = _check_axis(contents["grid1"], path, "grid1")
    g2 = _check_axis(contents["grid2"], path, "grid2")
    if F.shape != (g1.size, g2.size):
        raise ValueError(f"{path}: map shape {F.shape} does not match grids ({g1.size}, {g2.size})")
    meta: dict[str, Any] = {}
    if "metadata" in contents:
        try:
            meta = json.loads(str(contents["metadata"]))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: metadata is not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: metadata must be a JSON object")
    fmt = str(contents["format"]) if "format" in contents else RESULT_FORMAT
    return {"map": F, "grid1": g1, "grid2": g2, "kinds": kinds, "metadata": meta, "format": fmt}

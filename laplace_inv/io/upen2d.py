"""Upen2DTool / MUpen2D data folders (``FileSetInput.par``, ``FileFlag.par`` and text files)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from laplace_inv.io._common import check_axis, check_shapes
from laplace_inv.io._par import MAX_GRID_POINTS, lookup, par_float, par_int, parse_par_file
from laplace_inv.io._paths import find_file
from laplace_inv.io._text import read_axis, read_numeric_text
from laplace_inv.io.acquisition import Acquisition

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
    (see `UPEN2D_KERNEL_CODES`: 1 IR-CPMG, 2 SR-CPMG, 3 D-T2, 4 T2-T2, 5 SR-SR).

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
    set_path = find_file(folder, "FileSetInput.par", "settings", "the folder")
    setinput = parse_par_file(set_path)
    names = {}
    for key in ("filenamedata", "filenameTimeX", "filenameTimeY"):
        value = lookup(setinput, key)
        if not value:
            raise ValueError(f"{set_path}: missing key {key!r}")
        names[key] = value

    flags, flag_path = _optional_par(folder, "FileFlag.par", "flags")
    if kinds is None:
        kinds = _kinds_from_flags(folder, flags, flag_path)
    kinds = (str(kinds[0]), str(kinds[1]))
    par, _ = _optional_par(folder, "FilePar.par", "solver settings")

    data_path = find_file(folder, names["filenamedata"], "data", set_path.name)
    y_path = find_file(folder, names["filenameTimeY"], "row axis", set_path.name)
    x_path = find_file(folder, names["filenameTimeX"], "column axis", set_path.name)
    data = read_numeric_text(data_path, "data")
    tau1_raw = read_axis(y_path, "row axis (filenameTimeY)")
    tau2_raw = read_axis(x_path, "column axis (filenameTimeX)")
    check_shapes(data, tau1_raw, tau2_raw, (data_path, y_path.name, x_path.name))

    def unit(kind: str) -> float:
        return b_unit if kind == "D" else time_unit

    tau1 = check_axis(tau1_raw * unit(kinds[0]), y_path, "row axis (filenameTimeY)")
    tau2 = check_axis(tau2_raw * unit(kinds[1]), x_path, "column axis (filenameTimeX)")

    _warn_unapplied(flags, flag_path)
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
    if lookup(setinput, "nx") is None or lookup(setinput, "ny") is None:
        return None
    sizes = (
        par_int(setinput, "nx", set_path, low=2, high=MAX_GRID_POINTS),
        par_int(setinput, "ny", set_path, low=2, high=MAX_GRID_POINTS),
    )
    auto = lookup(flags, "FL_InversionTimeLimits")
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
            if lookup(setinput, lo_key) is None or lookup(setinput, hi_key) is None:
                return None
            scale = d_unit if kind == "D" else time_unit
            lo = par_float(setinput, lo_key, set_path) * scale
            hi = par_float(setinput, hi_key, set_path) * scale
        if not (0 < lo < hi):
            raise ValueError(
                f"{set_path}: grid limits for axis {axis + 1} need 0 < {lo_key} < {hi_key}"
            )
        if n < 2:
            raise ValueError(f"{set_path}: grid size for axis {axis + 1} must be >= 2, got {n}")
        hint.append((lo, hi, n))
    return tuple(hint)


def _optional_par(folder: Path, name: str, what: str) -> tuple[dict[str, str], Path | None]:
    """Parse ``name`` in ``folder`` when it is there (empty settings and ``None`` otherwise)."""
    try:
        path = find_file(folder, name, what, "the folder")
    except FileNotFoundError:
        return {}, None
    return parse_par_file(path), path


def _kinds_from_flags(
    folder: Path, flags: Mapping[str, str], flag_path: Path | None
) -> tuple[str, str]:
    if flag_path is None:
        raise ValueError(
            f"{folder}: no FileFlag.par (needed for FL_typeKernel); pass kinds=(..., ...)"
        )
    code = par_int(flags, "FL_typeKernel", flag_path)
    if code not in UPEN2D_KERNEL_CODES:
        raise ValueError(
            f"{flag_path}: unknown FL_typeKernel = {code}; known codes are "
            f"{ {k: v for k, v in UPEN2D_KERNEL_CODES.items()} }"
        )
    return UPEN2D_KERNEL_CODES[code]


def _warn_unapplied(flags: Mapping[str, str], flag_path: Path | None) -> None:
    for flag in ("FL_EraseCol", "FL_EraseRow", "FL_Offset"):
        value = lookup(flags, flag)
        if value is not None and value.strip() not in ("0", ""):
            warnings.warn(
                f"{flag_path}: {flag} = {value} is recorded in metadata but not applied; the "
                "data are returned as stored",
                UserWarning,
                stacklevel=3,
            )

"""Plain text / CSV tables: one data matrix file and two axis files."""

from __future__ import annotations

import os
from pathlib import Path

from laplace_inv.io._common import as_kinds, check_axis, check_shapes, units
from laplace_inv.io._text import read_axis, read_numeric_text
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike


def read_table(
    data_path: PathLike,
    tau1_path: PathLike,
    tau2_path: PathLike,
    kinds: tuple[str, ...],
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
    tau1_path : str or os.PathLike
        Axis 1 (rows, ``n1`` values).
    tau2_path : str or os.PathLike
        Axis 2 (columns, ``n2`` values).
    kinds : tuple of str
        Kernel kinds, e.g. ``("T1_IR", "T2")``.
    time_unit : float
        SI units per file unit for both axes (1e-3 when times are in ms).
    tau1_unit : float, optional
        Override of ``time_unit`` for axis 1 (1e9 for b in ms/µm²).
    tau2_unit : float, optional
        Override of ``time_unit`` for axis 2.
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
    kinds = as_kinds(kinds, data_path)
    u1, u2 = units(time_unit, tau1_unit, tau2_unit)
    data = read_numeric_text(data_path, "data")
    tau1 = read_axis(tau1_path, "axis 1")
    tau2 = read_axis(tau2_path, "axis 2")
    check_shapes(data, tau1, tau2, (data_path, tau1_path.name, tau2_path.name))
    return Acquisition(
        data=data,
        tau1=check_axis(tau1 * u1, tau1_path, "axis 1"),
        tau2=check_axis(tau2 * u2, tau2_path, "axis 2"),
        kinds=kinds,
        noise_std=noise_std,
        metadata={
            "format": "table",
            "files": {"data": data_path.name, "tau1": tau1_path.name, "tau2": tau2_path.name},
        },
        source=str(data_path),
    )

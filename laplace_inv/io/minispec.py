"""Bruker minispec ``.dps`` exports: point index, time (ms) and amplitude, tab separated."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from laplace_inv.io._decay import build_1d
from laplace_inv.io._text import read_numeric_text
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike


def read_minispec_dps(
    path: PathLike, kind: str | None = None, *, time_unit: float = 1e-3
) -> Acquisition:
    """Read a Bruker minispec ``.dps`` data-point export (1D).

    The file is a table of three columns: the point index (0, 1, 2...), the time in ms and
    the amplitude (already real: the minispec exports the phased or magnitude signal). A
    two-column file (time, amplitude) is accepted too. The file does not say which
    experiment it holds: the kind is ``kind`` or guessed from the decay (a CPMG decay is
    ``"T2"``, a curve crossing zero upwards ``"T1_IR"``), with a warning when guessed. The
    noise comes from the late points' differences.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.dps`` file.
    kind : str, optional
        ``"T2"``, ``"T1_IR"``, ``"T1_SR"`` or ``"D"``.
    time_unit : float
        SI units per file unit of the time column (1e-3: the minispec writes ms).

    Returns
    -------
    Acquisition
        A 1D acquisition.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cpmg.dps"
    >>> _ = p.write_text("0\\t0.2\\t90.1\\n1\\t0.4\\t80.3\\n2\\t0.6\\t71.9\\n3\\t0.8\\t64.2\\n")
    >>> acq = read_minispec_dps(p, "T2")
    >>> acq.shape, float(acq.tau1[-1])
    ((4,), 0.0008)
    """
    path = Path(path)
    table = read_numeric_text(path, "data")
    n_cols = table.shape[1]
    if n_cols == 3:
        index = table[:, 0]
        if not np.array_equal(index, np.arange(index.size) + index[0]):
            raise ValueError(
                f"{path}: the first of three columns must be the point index 0, 1, 2...; "
                "expected index, time (ms), amplitude"
            )
        x, y = table[:, 1], table[:, 2]
    elif n_cols == 2:
        x, y = table[:, 0], table[:, 1]
    else:
        raise ValueError(
            f"{path}: a .dps export has 3 columns (index, time in ms, amplitude), got {n_cols}"
        )
    meta = {"format": "minispec"}
    return build_1d(x, y, kind=kind, unit=float(time_unit), src=str(path), meta=meta)

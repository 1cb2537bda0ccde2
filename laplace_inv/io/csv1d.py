"""Two-column text/CSV decays: time (or b-value) and amplitude, optional header."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from laplace_inv.io._common import unit_from_label
from laplace_inv.io._decay import build_1d
from laplace_inv.io._text import (
    guess_delimiter,
    is_header,
    is_number,
    numbered_lines,
    parse_numeric_lines,
    read_text,
    split_fields,
)
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

_PEEK_BYTES = 65536


def looks_like_two_columns(path: Path) -> bool:
    """Whether the first lines of a text file are two numeric columns (after a header)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_PEEK_BYTES).decode("latin-1")
    except OSError:
        return False
    lines = numbered_lines(head)[:50]
    if len(head) == _PEEK_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return False
    delim = guess_delimiter(lines[0][1])
    if is_header(split_fields(lines[0][1], delim)):
        lines = lines[1:]
    rows = [split_fields(line, delim) for _, line in lines]
    return bool(rows) and all(len(r) == 2 and all(is_number(t) for t in r) for r in rows)


def read_csv_1d(
    path: PathLike,
    kind: str | None = None,
    *,
    time_unit: float | None = None,
    noise_std: float | None = None,
) -> Acquisition:
    """Read a 1D decay from a two-column text file: axis, amplitude.

    Comma, semicolon, tab or space separated; ``#``/``%`` comments and one header line of
    names are allowed. The first column is the acquisition axis: times for ``T2``, ``T1_IR``,
    ``T1_SR``, b-values for ``D``. Its unit is ``time_unit`` (SI units per file unit), or the
    unit named in the header (``time (ms)``, ``t_us``...), or seconds (s/m² for b). A CPMG
    whose echo spacing is longer than 50 ms or shorter than 1 µs, or recovery delays longer
    than 1000 s, raise a warning: the unit is probably wrong. The noise comes from the late
    points' differences (`laplace_inv.phase.noise_from_phased`).

    Parameters
    ----------
    path : str or os.PathLike
        The text file.
    kind : str, optional
        ``"T2"``, ``"T1_IR"``, ``"T1_SR"`` or ``"D"``. Guessed from the decay's shape (with a
        warning) when omitted.
    time_unit : float, optional
        SI units per file unit of the first column (1e-3 for ms; 1e9 for b in ms/µm²).
    noise_std : float, optional
        Known noise level; replaces the estimate.

    Returns
    -------
    Acquisition
        A 1D acquisition (``tau2`` is ``None``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cpmg.csv"
    >>> _ = p.write_text("time_ms,amp\\n0.5,100\\n1.0,60\\n1.5,36\\n2.0,22\\n")
    >>> acq = read_csv_1d(p, "T2")
    >>> acq.kinds, acq.tau1
    (('T2',), array([0.0005, 0.001 , 0.0015, 0.002 ]))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    lines = numbered_lines(read_text(path))
    if not lines:
        raise ValueError(f"{path}: data file is empty")
    delim = guess_delimiter(lines[0][1])
    header = split_fields(lines[0][1], delim)
    label_unit = None
    if is_header(header):
        label_unit = unit_from_label(header[0])
        lines = lines[1:]
        if not lines:
            raise ValueError(f"{path}: data file has a header but no numbers")
    table = parse_numeric_lines(path, lines, "data", delim)
    if table.shape[1] != 2:
        raise ValueError(
            f"{path}: a 1D decay file needs two columns (axis, amplitude), got "
            f"{table.shape[1]}; a data matrix needs tau1_path=, tau2_path= and kinds="
        )
    unit = time_unit if time_unit is not None else (label_unit or 1.0)
    if not (np.isfinite(unit) and unit > 0):
        raise ValueError(f"{path}: time_unit must be positive and finite, got {unit!r}")
    meta = {"format": "csv1d", "header": header if label_unit is not None else None}
    return build_1d(
        table[:, 0],
        table[:, 1],
        kind=kind,
        unit=float(unit),
        src=str(path),
        meta=meta,
        noise_std=noise_std,
    )

"""Oxford Instruments GeoSpec (Green Imaging) ``.txt`` exports: INI-like sections and a
tab-separated ``[Data]`` table of X, Y, Real, Imaginary."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from laplace_inv.io._decay import build_1d
from laplace_inv.io._text import parse_numeric_lines, read_text
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

GEOSPEC_TEST_TYPES: dict[int, str] = {3: "T2", 7: "T1_IR"}
"""``TestType`` codes read as 1D: 3 "T2 NMR" (CPMG), 7 "T1 NMR" (inversion recovery)."""

GEOSPEC_2D_TEST_TYPES = {106: "T1-T2", 108: "T2-D", 110: "T2-store-T2", 111: "spatial T2"}


def is_geospec(path: Path) -> bool:
    """Whether ``path`` starts with GeoSpec's ``[GITData]`` section."""
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[GITData]")
    except OSError:
        return False


def _sections(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[int, str]]]:
    """``key=value`` pairs of every section, and the numbered lines of ``[Data]``."""
    sections: dict[str, dict[str, str]] = {}
    data: list[tuple[int, str]] = []
    current = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, {})
            continue
        if current == "Data":
            data.append((lineno, line))
        elif "=" in line:
            key, _, value = line.partition("=")
            sections.setdefault(current, {})[key.strip()] = value.strip()
    return sections, data


def _test_type(sections: dict[str, dict[str, str]], path: Path) -> int:
    raw = sections.get("GITData", {}).get("TestType")
    try:
        return int(float(raw)) if raw is not None else -1
    except ValueError:
        raise ValueError(f"{path}: TestType = {raw!r} is not a number") from None


def read_geospec_txt(
    path: PathLike, kind: str | None = None, *, time_unit: float = 1e-3, phase: str = "row"
) -> Acquisition:
    """Read an Oxford Instruments GeoSpec text export (1D T2 or T1).

    The file has ``[GITData]`` (with ``TestType``), ``[Parameters]``, ``[Results]`` and other
    ``key=value`` sections, then ``[Data]``: a header ``X Y Real Imaginary`` and one
    tab-separated row per point. ``X`` is the echo time (CPMG, ``TestType = 3``) or the
    inversion delay (T1, ``TestType = 7``) in ms; ``Y`` is 0 for 1D tests. The complex
    signal is phased (one phase; the recovery curve ends positive), the noise comes from the
    phased imaginary channel, and the instrument's own ``Noise`` and ``Signal`` from
    ``[Results]`` are kept in ``metadata["vendor_results"]``. The 2D tests (``TestType`` 106,
    108, 110, 111) are refused with a clear error.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.txt`` export.
    kind : str, optional
        Overrides the kind from ``TestType``.
    time_unit : float
        SI units per file unit of ``X`` (1e-3: GeoSpec writes ms).
    phase : str
        ``"row"`` or ``"global"`` (identical for one decay).

    Returns
    -------
    Acquisition
        A 1D acquisition.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t2.txt"
    >>> rows = "".join(f"{0.1 * k:.1f}\\t0.0\\t{100 * 0.8 ** k:.4f}\\t0.0\\n" for k in range(1, 6))
    >>> _ = p.write_text("[GITData]\\nTestType=3\\n[Data]\\nX\\tY\\tReal\\tImaginary\\n" + rows)
    >>> acq = read_geospec_txt(p)
    >>> acq.kinds, acq.shape
    (('T2',), (5,))
    """
    path = Path(path)
    sections, lines = _sections(read_text(path))
    if "GITData" not in sections:
        raise ValueError(f"{path}: not a GeoSpec export (no [GITData] section)")
    test = _test_type(sections, path)
    if test in GEOSPEC_2D_TEST_TYPES:
        raise ValueError(
            f"{path}: GeoSpec TestType {test} ({GEOSPEC_2D_TEST_TYPES[test]}) is a 2D test; "
            "this reader reads the 1D tests (3: T2, 7: T1)"
        )
    if kind is None and test not in GEOSPEC_TEST_TYPES:
        raise ValueError(
            f"{path}: GeoSpec TestType {test} is not a T2 (3) or T1 (7) test; pass kind="
        )
    if lines and not lines[0][1][:1].lstrip("+-").replace(".", "").isdigit():
        lines = lines[1:]  # the X Y Real Imaginary header
    if not lines:
        raise ValueError(f"{path}: the [Data] section holds no points")
    table = parse_numeric_lines(path, lines, "data", None)
    if table.shape[1] != 4:
        raise ValueError(
            f"{path}: [Data] rows need 4 columns (X, Y, Real, Imaginary), got {table.shape[1]}"
        )
    if np.unique(table[:, 1]).size > 1:
        raise ValueError(f"{path}: [Data] has several Y values: a 2D test, not read here")
    meta = {
        "format": "geospec",
        "test_type": test,
        "parameters": sections.get("Parameters", {}),
        "vendor_results": sections.get("Results", {}),
    }
    z = table[:, 2] + 1j * table[:, 3]
    return build_1d(
        table[:, 0],
        z,
        kind=kind or GEOSPEC_TEST_TYPES[test],
        unit=float(time_unit),
        src=str(path),
        meta=meta,
        phase=phase,
    )

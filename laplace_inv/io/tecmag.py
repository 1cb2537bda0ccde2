"""Tecmag TNMR ``.tnt`` binary files (1D CPMG echo trains and inversion/saturation recovery).

A ``.tnt`` file is the 8-byte magic ``TNT1.xxx`` then tagged sections, each a 4-byte tag, a
4-byte flag and a 4-byte little-endian length: ``TMAG`` (the acquisition header: points per
dimension, scans, frequencies, dwell times), ``DATA`` (complex64 points, the first dimension
fastest), ``TMG2`` (display settings) and ``PSEQ`` (the pulse sequence with its variables and
delay tables as length-prefixed text).
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.io._decay import build_1d
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

MAX_TNT_BYTES = 1024**3
"""Largest ``.tnt`` file read (1 GiB)."""

_UNITS = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "s": 1.0, "": 1.0}
_QUANTITY = re.compile(r"^\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*([nums]?)\s*$")


def _sections(raw: bytes, path: Path) -> dict[str, bytes]:
    if not re.match(rb"^TNT1\.\d{3}$", raw[:8]):
        raise ValueError(f"{path}: not a Tecmag .tnt file (no TNT1.xxx magic)")
    out: dict[str, bytes] = {}
    pos = 8
    while pos + 12 <= len(raw):
        tag, flag, length = struct.unpack("<4sII", raw[pos : pos + 12])
        pos += 12
        if not flag:
            continue
        if pos + length > len(raw):
            if tag == b"PSEQ":
                out["PSEQ"] = raw[pos:]  # its length field is not a byte count
                break
            raise ValueError(f"{path}: section {tag!r} runs past the end of the file")
        out[tag.decode("latin-1")] = raw[pos : pos + length]
        pos += length
    for need in ("TMAG", "DATA"):
        if need not in out:
            raise ValueError(f"{path}: no {need} section; truncated or not a TNMR data file")
    return out


def _header(tmag: bytes, path: Path) -> dict[str, Any]:
    if len(tmag) < 336:
        raise ValueError(f"{path}: TMAG section is {len(tmag)} bytes, too short")
    return {
        "npts": struct.unpack("<4i", tmag[0:16]),
        "actual_npts": struct.unpack("<4i", tmag[16:32]),
        "acq_points": struct.unpack("<i", tmag[32:36])[0],
        "scans": struct.unpack("<i", tmag[56:60])[0],
        "magnet_field_T": struct.unpack("<d", tmag[76:84])[0],
        "observe_MHz": struct.unpack("<d", tmag[84:92])[0],
        "dwell_s": struct.unpack("<4d", tmag[272:304]),
        "acq_time_s": struct.unpack("<d", tmag[320:328])[0],
        "last_delay_s": struct.unpack("<d", tmag[328:336])[0],
    }


def _strings(pseq: bytes) -> list[str]:
    """Length-prefixed printable strings of the PSEQ section, in order."""
    out: list[str] = []
    pos, end = 0, len(pseq) - 4
    while pos < end:
        n = struct.unpack("<I", pseq[pos : pos + 4])[0]
        chunk = pseq[pos + 4 : pos + 4 + n]
        if (
            0 < n <= 65536
            and len(chunk) == n
            and all(32 <= c < 127 or c in (9, 10, 13) for c in chunk)
        ):
            out.append(chunk.decode("ascii"))
            pos += 4 + n
        else:
            pos += 1
    return out


def _quantity(text: str) -> float | None:
    """A TNMR quantity such as ``200u``, ``0.090m``, ``3s`` or ``5000``, in SI (s)."""
    m = _QUANTITY.match(text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def _variable(tokens: list[str], name: str) -> float | None:
    """The current value of a sequence variable: the token after its first mention."""
    for i, tok in enumerate(tokens[:-1]):
        if tok == name:
            value = _quantity(tokens[i + 1])
            if value is not None:
                return value
    return None


def _delay_table(tokens: list[str], n: int) -> tuple[str, np.ndarray] | None:
    """The first delay table (a name then CRLF-separated quantities) with >= n entries."""
    for i, tok in enumerate(tokens[1:], start=1):
        parts = [p for p in re.split(r"[\r\n]+", tok) if p.strip()]
        if len(parts) < max(n, 2):
            continue
        values = [_quantity(p) for p in parts]
        if all(v is not None for v in values):
            return tokens[i - 1], np.array(values[:n], dtype=np.float64)
    return None


def _windows(data: np.ndarray, n_windows: int, per_window: int) -> np.ndarray:
    """Mean of each acquisition window, leaving out points never written (exact zeros)."""
    block = data[: n_windows * per_window].reshape(n_windows, per_window)
    used = np.any(block != 0, axis=0)
    return block[:, used].mean(axis=1) if used.any() else block.mean(axis=1)


def read_tecmag_tnt(path: PathLike, kind: str | None = None) -> Acquisition:
    """Read a Tecmag TNMR ``.tnt`` file holding a 1D relaxation measurement.

    Two layouts are read. A CPMG: one scan of ``Nechoes`` echo windows of ``acq_points``
    points each; every window is averaged into one echo amplitude, and the echo times are
    ``Echo_Time × 1..Nechoes`` with ``Echo_Time`` from the pulse sequence variables. A
    recovery series: ``npts[1]`` rows of one acquisition window each, averaged likewise, at
    the delays of the sequence's delay table (its first ``npts[1]`` entries, as written in
    the table). Window points never written (exact zeros) are left out of the average. The
    complex amplitudes are phased (recovery curves end positive) and the noise comes from
    the phased imaginary channel. The kind of a recovery series is ``T1_IR`` unless the
    sequence name says saturation (``sat``, ``SR``) or ``kind`` is given.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tnt`` file.
    kind : str, optional
        Overrides the kind (``"T2"`` for a CPMG, ``"T1_IR"`` or ``"T1_SR"`` for a series).

    Returns
    -------
    Acquisition
        A 1D acquisition, axes in s; TMAG fields and sequence variables in metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: .tnt file not found")
    if path.stat().st_size > MAX_TNT_BYTES:
        raise ValueError(f"{path}: larger than the {MAX_TNT_BYTES} bytes a .tnt reader accepts")
    sections = _sections(path.read_bytes(), path)
    head = _header(sections["TMAG"], path)
    if len(sections["DATA"]) % 8:
        raise ValueError(f"{path}: DATA section is not a whole number of complex64 points")
    data = np.frombuffer(sections["DATA"], dtype="<c8").astype(np.complex128)
    tokens = _strings(sections.get("PSEQ", b""))
    meta: dict[str, Any] = {"format": "tecmag", "tmag": head}
    per_window = max(1, int(head["acq_points"]))
    n_rows = int(head["npts"][1])
    if n_rows > 1:
        x, y, kind = _recovery(data, tokens, n_rows, per_window, kind, path, meta)
    else:
        x, y = _cpmg(data, tokens, per_window, path, meta)
        kind = kind or "T2"
    return build_1d(x, y, kind=kind, unit=1.0, src=str(path), meta=meta)


def _cpmg(
    data: np.ndarray, tokens: list[str], per_window: int, path: Path, meta: dict
) -> tuple[np.ndarray, np.ndarray]:
    echo = _variable(tokens, "Echo_Time")
    if echo is None or echo <= 0:
        raise ValueError(f"{path}: no Echo_Time variable in the pulse sequence (PSEQ)")
    n_echoes = data.size // per_window
    y = _windows(data, n_echoes, per_window)
    meta.update({"echo_time_s": echo, "points_per_echo": per_window})
    return echo * np.arange(1, n_echoes + 1), y


def _recovery(
    data: np.ndarray,
    tokens: list[str],
    n_rows: int,
    per_window: int,
    kind: str | None,
    path: Path,
    meta: dict,
) -> tuple[np.ndarray, np.ndarray, str]:
    table = _delay_table(tokens, n_rows)
    if table is None:
        raise ValueError(
            f"{path}: {n_rows} rows but no delay table with {n_rows} entries in the sequence"
        )
    name, delays = table
    per_row = data.size // n_rows
    rows = data[: n_rows * per_row].reshape(n_rows, per_row)[:, :per_window]
    y = _windows(rows.reshape(-1), n_rows, per_window)
    sequence = " ".join(tokens[:3]).lower()
    if kind is None:
        kind = "T1_SR" if ("sat" in sequence or "_sr" in sequence) else "T1_IR"
    meta.update({"delay_table": name, "sequence": tokens[1] if len(tokens) > 1 else ""})
    return delays, y, kind

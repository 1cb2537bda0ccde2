"""The readers' noise estimates on the real exports against independent estimates.

For each export of ``$LAPLACE_INV_DATA/nmrinversions_examples`` it prints the reader's
``noise_std`` (and where it came from) beside: the standard deviation of the last quarter of
each echo train about a cubic fit (long echo trains only), the raw imaginary channel of the
late half of the echoes (Spinsolve), and the instrument's own ``Noise`` (GeoSpec). The same
comparisons are asserted (within 20 %) by ``tests/test_io_real_exports.py``.

Usage::

    LAPLACE_INV_DATA=/path/to/data python -m benchmarks.studies.bench_reader_noise \
        [--out benchmarks/results/reader_noise.md]
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

from benchmarks.markdown import emit_table
from laplace_inv.io import read_any

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = [
    "spinsolve_txt/PFGCPMG",
    "geospec_txt/CPMG_bunter.txt",
    "geospec_txt/IR_bunter.txt",
    "tecmag_tnt/CPMG_silicon_oil.tnt",
    "tecmag_tnt/IR_silicon_oil.tnt",
    "bruker/minispec/cpmg.dps",
    "csv/CPMG_graphene.csv",
    "csv/IR_sandstone.csv",
    "csv/PFG_water.csv",
]


def late_echo_noise(y: np.ndarray) -> float | None:
    """Standard deviation of the last quarter of each echo train about a cubic fit (None for
    series under 256 points, too short for it)."""
    rows = np.atleast_2d(y)
    if rows.shape[1] < 256:
        return None
    out = []
    for row in rows:
        tail = row[-(row.size // 4) :]
        t = np.arange(tail.size)
        r = tail - np.polyval(np.polyfit(t, tail, 3), t)
        out.append(np.sqrt(np.sum(r * r) / (tail.size - 4)))
    return float(np.mean(out))


def vendor_noise(path: Path) -> float | None:
    """The ``Noise=`` line of a GeoSpec export."""
    if path.is_dir():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if line.strip().lower().startswith("noise="):
            return float(line.split("=", 1)[1])
    return None


def raw_imaginary(path: Path) -> float | None:
    """Spinsolve: standard deviation of the raw imaginary channel, late half of the echoes."""
    data = path / "DT2.dat" if path.is_dir() else None
    if data is None or not data.is_file():
        return None
    raw = np.loadtxt(data)
    z = raw[:, 0::2] + 1j * raw[:, 1::2]
    return float(np.std(z[:, z.shape[1] // 2 :].imag))


def _cell(value: float | None, reader: float) -> str:
    return "—" if value is None else f"{value:.4g} ({reader / value:.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/reader_noise.md"))
    args = parser.parse_args(argv)
    data = Path(os.environ.get("LAPLACE_INV_DATA", ROOT.parent / "shared" / "data"))
    lines = [
        "Reader noise against independent estimates (in brackets: reader / estimate); "
        "command: `python -m benchmarks.studies.bench_reader_noise`",
        "",
        "| export | points | reader noise | from | late echoes | raw imaginary | instrument |",
        "|---|---|---|---|---|---|---|",
    ]
    for rel in EXPORTS:
        path = data / "nmrinversions_examples" / rel
        if not path.exists():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acq = read_any(path)
        sigma = float(acq.noise_std)
        lines.append(
            f"| {rel} | {'×'.join(map(str, acq.shape))} | {sigma:.4g} "
            f"| {acq.metadata.get('noise_source')} | {_cell(late_echo_noise(acq.data), sigma)} "
            f"| {_cell(raw_imaginary(path), sigma)} | {_cell(vendor_noise(path), sigma)} |"
        )
    lines += _dt2_rows(data / "nmrinversions_examples" / "spinsolve_txt" / "PFGCPMG")
    emit_table(lines, args.out)


def _dt2_rows(folder: Path) -> list[str]:
    """Per row of the Spinsolve water D-T2 export: the phase the reader applied and the mean
    of the first 100 phased echoes (the sign of the row)."""
    if not (folder / "DT2.dat").is_file():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = read_any(folder)
    lines = [
        "",
        "Spinsolve D-T2 export, per row: applied phase and mean of the first 100 echoes",
        "",
        "| row (1-based) | b (s/m²) | phase (rad) | mean of echoes 1-100 |",
        "|---|---|---|---|",
    ]
    for i, (b, phase) in enumerate(zip(acq.tau1, acq.metadata["row_phases"], strict=True)):
        lines.append(f"| {i + 1} | {b:.3g} | {phase:+.3f} | {acq.data[i, :100].mean():.1f} |")
    return lines


if __name__ == "__main__":
    main()

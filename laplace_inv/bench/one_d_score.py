"""Scoring and running the 1D benchmark: component errors, resolution, real 1D files.

Estimated peaks (`InversionResult.peaks` at `laplace_inv.plotting.PEAK_THRESHOLD`) are
matched to the true components, closest pairs first, within `MATCH_DECADES`. Position and
width errors are absolute differences in decades (log10 of the grid unit), the fraction
error in percentage points of the signal. A resolution pair is *resolved* when each of its
two components is matched by its own peak lying nearer to it than to the other component.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.bench.one_d import OneDCase

__all__ = [
    "MATCH_DECADES",
    "METHODS_1D",
    "REAL_1D_FILES",
    "invert_real_files",
    "match_components",
    "run_cases",
    "score_case",
]

METHODS_1D: tuple[str, ...] = ("upen", "tikhonov", "l1")
"""The methods that invert 1D decays (DLEMLR has no 1D model)."""

MATCH_DECADES = 0.5
"""Farthest an estimated peak may lie from a true component to count as finding it."""

REAL_1D_FILES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("nmrinversions_examples/csv/CPMG_graphene.csv", {"kind": "T2"}),
    ("nmrinversions_examples/csv/IR_sandstone.csv", {"kind": "T1_IR"}),
    ("nmrinversions_examples/csv/PFG_water.csv", {"kind": "D", "time_unit": 1e9}),
    ("nmrinversions_examples/geospec_txt/CPMG_bunter.txt", {}),
    ("nmrinversions_examples/geospec_txt/IR_bunter.txt", {}),
    ("nmrinversions_examples/tecmag_tnt/CPMG_silicon_oil.tnt", {}),
    ("nmrinversions_examples/tecmag_tnt/IR_silicon_oil.tnt", {}),
    ("nmrinversions_examples/bruker/minispec/cpmg.dps", {"kind": "T2"}),
)
"""The real 1D exports under ``LAPLACE_INV_DATA`` and their reader options (the PFG csv
holds b in ms/µm², i.e. units of 1e9 s/m²)."""


def match_components(
    true_centers: np.ndarray, peaks: Sequence[Any]
) -> list[tuple[int, int | None]]:
    """Pair each true component with an estimated peak, closest pairs first.

    Returns
    -------
    list of (int, int or None)
        ``(component, peak)`` per true component; ``None`` when no free peak lies within
        `MATCH_DECADES`.

    Examples
    --------
    >>> from laplace_inv.metrics import DetectedPeak
    >>> peaks = [DetectedPeak.from_log_position((x,)) for x in (-1.1, -2.05)]
    >>> match_components(np.array([-2.0, -1.0, 0.0]), peaks)
    [(0, 1), (1, 0), (2, None)]
    """
    est = np.array([p.log_position[0] for p in peaks], dtype=float)
    dist = np.abs(np.subtract.outer(np.asarray(true_centers, dtype=float), est))
    pairs: dict[int, int | None] = {i: None for i in range(len(true_centers))}
    used: set[int] = set()
    for flat in np.argsort(dist, axis=None):
        i, j = np.unravel_index(int(flat), dist.shape)
        if dist[i, j] > MATCH_DECADES:
            break
        if pairs[int(i)] is None and int(j) not in used:
            pairs[int(i)] = int(j)
            used.add(int(j))
    return sorted(pairs.items())


def score_case(case: OneDCase, peaks: Sequence[Any]) -> dict[str, Any]:
    """Position, width and fraction errors of the matched components, misses, extras.

    Parameters
    ----------
    case : OneDCase
        The case with its truth.
    peaks : sequence of DetectedPeak
        The peaks of the estimated distribution.

    Returns
    -------
    dict
        ``position_error`` and ``width_error`` (decades, mean over matched components),
        ``fraction_error`` (percentage points), ``missed``, ``spurious`` and, for a
        resolution pair, ``resolved``.
    """
    pairs = match_components(case.centers, peaks)
    found = [(i, j) for i, j in pairs if j is not None]
    pos = [abs(peaks[j].log_position[0] - case.centers[i]) for i, j in found]
    width = [abs(peaks[j].fwhm[0] - case.fwhm[i]) for i, j in found]
    frac = [100 * abs(peaks[j].fraction - case.fractions[i]) for i, j in found]
    out: dict[str, Any] = {
        "position_error": float(np.mean(pos)) if pos else float("nan"),
        "width_error": float(np.nanmean(width)) if width else float("nan"),
        "fraction_error": float(np.mean(frac)) if frac else float("nan"),
        "missed": len(pairs) - len(found),
        "spurious": len(peaks) - len(found),
    }
    if case.group == "resolution":
        mid = float(np.mean(case.centers))
        own_side = all(
            (peaks[j].log_position[0] - mid) * (case.centers[i] - mid) > 0 for i, j in found
        )
        out["resolved"] = len(found) == 2 and own_side
    return out


def run_cases(cases: Sequence[OneDCase], methods: Sequence[str]) -> list[dict[str, Any]]:
    """Invert every case with every method; one row of scores and timing per pair.

    A method that raises gets a row with ``status`` holding the reason and no numbers.
    """
    from laplace_inv.methods import make_inverter
    from laplace_inv.plotting import PEAK_THRESHOLD

    rows: list[dict[str, Any]] = []
    for case in cases:
        for method in methods:
            row: dict[str, Any] = {"case": case.name, "group": case.group, "method": method}
            row.update(snr=case.snr, **case.params)
            try:
                est = make_inverter(method, case.kernel)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = est.invert(case.data, noise_std=case.noise_std)
                row["time_s"] = time.perf_counter() - t0
            except (ValueError, RuntimeError, FloatingPointError) as exc:
                row["status"] = f"failed: {exc}"
                rows.append(row)
                continue
            row["status"] = "ok"
            row["residual_to_noise"] = res.residual_to_noise
            row.update(score_case(case, res.peaks(min_fraction=PEAK_THRESHOLD)))
            rows.append(row)
    return rows


def invert_real_files(
    methods: Sequence[str], root: str | os.PathLike | None = None
) -> list[dict[str, Any]]:
    """Invert the real 1D exports found under ``root`` (default ``LAPLACE_INV_DATA``).

    Returns
    -------
    list of dict
        One row per file and method: ``file``, ``kind``, ``points``, ``noise_std``,
        ``method``, ``peaks`` (text), ``residual_to_noise`` and ``time_s``. Files that are
        absent are skipped.
    """
    from laplace_inv.io import read_any
    from laplace_inv.methods import make_inverter
    from laplace_inv.plotting import PEAK_THRESHOLD

    base = Path(root or os.environ.get("LAPLACE_INV_DATA", ""))
    rows: list[dict[str, Any]] = []
    for rel, options in REAL_1D_FILES:
        path = base / rel
        if not str(root or os.environ.get("LAPLACE_INV_DATA", "")) or not path.exists():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acq = read_any(path, **options)
        kernel = acq.kernel()
        for method in methods:
            est = make_inverter(method, kernel)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = est.invert(acq.data, noise_std=acq.noise_std)
            elapsed = time.perf_counter() - t0
            peaks = res.peaks(min_fraction=PEAK_THRESHOLD)[:3]
            rows.append(
                {
                    "file": rel.split("/", 1)[-1],
                    "kind": acq.kind,
                    "points": acq.shape[0],
                    "noise_std": acq.noise_std,
                    "method": method,
                    "peaks": "; ".join(_fmt_peak(p, acq.kind) for p in peaks),
                    "residual_to_noise": res.residual_to_noise,
                    "time_s": elapsed,
                }
            )
    return rows


def _fmt_peak(peak: Any, kind: str) -> str:
    value = peak.position[0]
    where = f"{value:.3g} m²/s" if kind == "D" else f"{value * 1e3:.3g} ms"
    return f"{where} {100 * peak.fraction:.0f}%"

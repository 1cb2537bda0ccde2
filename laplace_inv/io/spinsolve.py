"""Magritek Spinsolve relaxation and diffusion exports (``acqu.par`` + complex text data)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.io._common import B_UNITS, TIME_UNITS, check_axis
from laplace_inv.io._par import MAX_AXIS_POINTS, check_total, lookup, par_int, parse_par_file
from laplace_inv.io._paths import find_file, has_file
from laplace_inv.io._phasing import to_real
from laplace_inv.io._spinsolve_axes import b_axis, echo_axis, echo_step_axis, tau_axis
from laplace_inv.io._text import read_axis, read_numeric_text
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

SPINSOLVE_EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "t1irt2": ("T1_IR", "T2"),
    "t1t2": ("T1_IR", "T2"),
    "irt2": ("T1_IR", "T2"),
    "t1srt2": ("T1_SR", "T2"),
    "srt2": ("T1_SR", "T2"),
    "t2t2": ("T2", "T2"),
    "dt2": ("D", "T2"),
    "t2": ("T2",),
    "cpmg": ("T2",),
    "t2bulk": ("T2",),
    "t1": ("T1_IR",),
    "t1ir": ("T1_IR",),
    "ir": ("T1_IR",),
    "t1bulk": ("T1_IR",),
    "t1sr": ("T1_SR",),
    "sr": ("T1_SR",),
    "pgse": ("D",),
    "pgste": ("D",),
    "pfg": ("D",),
    "diffusion": ("D",),
}
"""``experiment`` names of ``acqu.par`` (lower case, punctuation removed) mapped to kinds."""


def _normalise_experiment(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _open(path: PathLike) -> tuple[Path, Path, dict[str, str]]:
    folder = Path(path)
    if folder.is_file() and folder.name.lower() == "acqu.par":
        folder = folder.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder (expected a Spinsolve export folder)")
    par_path = find_file(folder, "acqu.par", "acquisition parameters", "the folder")
    return folder, par_path, parse_par_file(par_path)


def _experiment(par: Mapping[str, str], par_path: Path) -> tuple[str, tuple[str, ...]]:
    experiment = lookup(par, "experiment")
    if not experiment:
        raise ValueError(f"{par_path}: missing key 'experiment' (see read_spinsolve docs)")
    kinds = SPINSOLVE_EXPERIMENTS.get(_normalise_experiment(experiment))
    if kinds is None:
        raise ValueError(
            f"{par_path}: unknown experiment {experiment!r}; expected T1IRT2, T1SRT2, T2T2, "
            "DT2 or a 1D T2, T1, T1SR, PGSE experiment"
        )
    return experiment, kinds


def _legacy_indirect(
    folder: Path, par: Mapping[str, str], par_path: Path, kind: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """Indirect axis from a text file named by ``indirectFile`` (older export layout)."""
    n_steps = par_int(par, "nrSteps", par_path, low=1, high=MAX_AXIS_POINTS)
    ind_name = lookup(par, "indirectFile") or "indirect.txt"
    ind_path = find_file(folder, ind_name, "indirect axis", par_path.name)
    ind = read_axis(ind_path, "indirect axis")
    unit_name = (lookup(par, "indirectUnit") or ("s/m2" if kind == "D" else "ms")).strip()
    table = B_UNITS if kind == "D" else TIME_UNITS
    unit_key = unit_name.lower().replace("²", "2").replace(" ", "")
    scales = {k.lower(): v for k, v in table.items()}
    if unit_key not in scales:
        raise ValueError(
            f"{par_path}: indirectUnit {unit_name!r} not understood for {kind}; "
            f"expected one of {sorted(table)}"
        )
    if ind.size != n_steps:
        raise ValueError(
            f"{ind_path}: indirect axis has {ind.size} values but acqu.par says nrSteps = {n_steps}"
        )
    tau1 = check_axis(ind * scales[unit_key], ind_path, "indirect axis")
    return tau1, {"tau1": ind_path.name}


def _indirect_axis(
    folder: Path, par: Mapping[str, str], par_path: Path, kind: str
) -> tuple[np.ndarray, dict[str, Any]]:
    if lookup(par, "indirectFile") is not None or has_file(folder, "indirect.txt"):
        return _legacy_indirect(folder, par, par_path, kind)
    return _axis(par, par_path, kind, indirect=True)


def _axis(
    par: Mapping[str, str], par_path: Path, kind: str, *, indirect: bool
) -> tuple[np.ndarray, dict[str, Any]]:
    """An axis from the acquisition settings alone (the layout of real exports)."""
    if kind == "D":
        b, settings = b_axis(par, par_path)
        return b, {"b_values": "Stejskal-Tanner from gradient settings", "gradient": settings}
    if kind in ("T1_IR", "T1_SR"):
        return tau_axis(par, par_path), {}
    if indirect:
        return echo_step_axis(par, par_path), {}
    n = par_int(par, "nrEchoes", par_path, low=1, high=MAX_AXIS_POINTS)
    return echo_axis(par, par_path, n), {}


def _data_file(folder: Path, par: Mapping[str, str], par_path: Path, experiment: str) -> Path:
    named = lookup(par, "dataFile")
    if named:
        return find_file(folder, named, "data", par_path.name)
    for name in (f"{experiment}.dat", "data2d.txt", "data.csv", "data.dat"):
        if has_file(folder, name):
            return find_file(folder, name, "data", "the folder")
    candidates = sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".dat", ".csv")
    )
    if len(candidates) == 1:
        return find_file(folder, candidates[0], "data", "the folder")
    raise FileNotFoundError(
        f"{folder}: no data file: expected {experiment}.dat (or a dataFile key in acqu.par); "
        f"found {candidates or 'no .dat/.csv file'}"
    )


def _complex_rows(raw: np.ndarray, data_path: Path, n_rows: int, n_cols: int) -> np.ndarray:
    """Interleaved ``re im re im ...`` text rows → complex ``(n_rows, n_cols)``."""
    if raw.shape[1] % 2:
        raise ValueError(
            f"{data_path}: rows have {raw.shape[1]} values, an odd number; interleaved real/"
            "imaginary columns (re im re im ...) are expected"
        )
    if raw.size == 2 * n_rows * n_cols and (n_rows == 1 or n_cols == 1):
        flat = raw.reshape(-1)
        z = flat[0::2] + 1j * flat[1::2]
        return z.reshape(n_rows, n_cols)
    if raw.shape != (n_rows, 2 * n_cols):
        raise ValueError(
            f"{data_path}: data is {raw.shape[0]}x{raw.shape[1]} but acqu.par needs "
            f"{n_rows}x{2 * n_cols} ({n_rows} rows of {n_cols} interleaved re/im pairs); "
            "truncated file?"
        )
    return raw[:, 0::2] + 1j * raw[:, 1::2]


def read_spinsolve(path: PathLike, *, phase: str = "row") -> Acquisition:
    """Read a Magritek Spinsolve relaxation or diffusion export folder (1D or 2D).

    The folder holds ``acqu.par`` (``key = value``) and the data, a text file with the
    complex points as interleaved ``re, im`` pairs (comma or space separated). Axes are
    built from ``acqu.par`` in SI units:

    ==========  ==================  ===========================================================
    experiment  kinds               axes
    ==========  ==================  ===========================================================
    T1IRT2      T1_IR × T2          rows: ``tauSteps`` delays from ``minTau`` to ``maxTau``
                                    (ms; log-spaced when ``logspace = "yes"``); columns:
                                    ``echoTime`` (µs) × 1..``nrEchoes``
    T1SRT2      T1_SR × T2          as T1IRT2
    T2T2        T2 × T2             rows: ``echoTime`` × n echoes of the first train, n from
                                    ``nrEchoSteps`` values between ``minEcho`` and ``maxEcho``
                                    (echo counts); columns as T1IRT2
    DT2         D × T2              rows: b-values (s/m²) from ``nrSteps`` gradients linear
                                    from 0 to ``gradMax`` (mT/m), ``lDelta`` δ (ms, ramps
                                    included), ``bDelta`` Δ (ms), ``gradRamp`` (ms) and γ of
                                    ``nucleus`` (see ``stejskal_tanner_b``); columns as T1IRT2
    T2, CPMG    T2                  ``echoTime`` × 1..``nrEchoes``
    T1, T1IR    T1_IR               as the T1IRT2 rows
    T1SR        T1_SR               as the T1IRT2 rows
    PGSE, PFG   D                   as the DT2 rows
    ==========  ==================  ===========================================================

    The data file is ``<experiment>.dat`` (``T1IRT2.dat``, ``DT2.dat``), or the one
    ``.dat``/``.csv`` in the folder. The older layout with the indirect axis in a text file
    (``indirectFile``, default ``indirect.txt``, unit ``indirectUnit``), ``nrSteps`` rows and
    a ``dataFile`` key is still read. Complex data are phased row by row (see
    `laplace_inv.phase.phase_rows`; ``metadata["row_phases"]``), the noise comes from the
    late imaginary channel, and a warning names rows that stay negative.

    Parameters
    ----------
    path : str or os.PathLike
        The export folder (or its ``acqu.par``).
    phase : str
        ``"row"`` (one phase per row) or ``"global"`` (one phase for everything).

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "acqu.par").write_text('experiment = "T2"\\nnrEchoes = 4\\nechoTime = 100\\n')
    >>> _ = (d / "T2.dat").write_text("0, 8, 0, 4, 0, 2, 0, 1\\n")  # pure imaginary
    >>> acq = read_spinsolve(d)
    >>> acq.kinds, acq.data, acq.tau1 * 1e6
    (('T2',), array([8., 4., 2., 1.]), array([100., 200., 300., 400.]))
    """
    folder, par_path, par = _open(path)
    experiment, kinds = _experiment(par, par_path)
    meta: dict[str, Any] = {"format": "spinsolve", "experiment": experiment, "acqu": par}
    if len(kinds) == 2:
        tau1, axis_meta = _indirect_axis(folder, par, par_path, kinds[0])
        n_echoes = par_int(par, "nrEchoes", par_path, low=1, high=MAX_AXIS_POINTS)
        tau2: np.ndarray | None = echo_axis(par, par_path, n_echoes)
        shape = (tau1.size, n_echoes)
    else:
        tau1, axis_meta = _axis(par, par_path, kinds[0], indirect=False)
        tau2 = None
        shape = (1, tau1.size)
    check_total(shape[0], 2 * shape[1], par_path)
    data_path = _data_file(folder, par, par_path, experiment)
    z = _complex_rows(read_numeric_text(data_path, "data"), data_path, *shape)
    real, noise, report = to_real(z if tau2 is not None else z[0], kinds, str(folder), phase)
    meta.update(report)
    meta.update(axis_meta)
    meta["files"] = {"data": data_path.name, **{k: v for k, v in axis_meta.items() if k == "tau1"}}
    return Acquisition(
        data=real,
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        noise_std=noise,
        metadata=meta,
        source=str(folder),
    )


def read_spinsolve_2d(path: PathLike, *, phase: str = "row") -> Acquisition:
    """Read a Spinsolve export folder; the same as `read_spinsolve` (kept for old code).

    Parameters
    ----------
    path : str or os.PathLike
        The export folder (or its ``acqu.par``).
    phase : str
        ``"row"`` or ``"global"``.

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> read_spinsolve_2d is not read_spinsolve
    True
    """
    return read_spinsolve(path, phase=phase)

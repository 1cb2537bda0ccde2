"""MATLAB ``.mat`` files (v4-v7) holding a data matrix and its two axes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.io._common import as_kinds, check_axis, check_shapes, numeric, units
from laplace_inv.io._phasing import to_real
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

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


def read_mat(
    path: PathLike,
    data_key: str | None = None,
    tau1_key: str | None = None,
    tau2_key: str | None = None,
    kinds: Any = None,
    *,
    time_unit: float = 1.0,
    tau1_unit: float | None = None,
    tau2_unit: float | None = None,
    noise_key: str | None = None,
    phase: str = "row",
) -> Acquisition:
    """Read a MATLAB ``.mat`` file (v4–v7; v7.3/HDF5 files must be re-saved with ``-v7``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.mat`` file.
    data_key : str, optional
        Variable holding the data. When omitted, common names are tried: ``S``, ``data``,
        ``Data``...
    tau1_key : str, optional
        Variable holding the row axis. When omitted, ``tau1``, ``t1``, ``t_Y``... are tried.
    tau2_key : str, optional
        Variable holding the column axis. When omitted, ``tau2``, ``t2``, ``t_X``... are tried.
    kinds : tuple of str, optional
        Kernel kinds; required unless the file has a ``kinds`` variable.
    time_unit : float
        SI units per file unit, applied to both axes (1e-3 for ms).
    tau1_unit : float, optional
        Override of ``time_unit`` for axis 1 (e.g. 1e9 for a b axis in ms/µm²).
    tau2_unit : float, optional
        Override of ``time_unit`` for axis 2.
    noise_key : str, optional
        Variable holding the noise standard deviation (``noise_std`` is tried by default).
    phase : str
        How a complex data matrix is phased: ``"row"`` (one phase per row, see
        `laplace_inv.phase.phase_rows`) or ``"global"``; the late imaginary channel then
        gives the noise.

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
    kind_pair = as_kinds(kinds, path)
    u1, u2 = units(time_unit, tau1_unit, tau2_unit)
    raw = np.asarray(contents[dk])
    meta: dict[str, Any] = {"format": "mat", "keys": {"data": dk, "tau1": k1, "tau2": k2}}
    noise = None
    if np.iscomplexobj(raw):
        if raw.ndim != 2:
            raise ValueError(f"{path}: variable {dk!r} must be 2D, got shape {raw.shape}")
        raw, noise, report = to_real(raw, kind_pair, str(path), phase)
        meta.update(report)
    data = numeric(raw, path, f"variable {dk!r}")
    tau1 = numeric(contents[k1], path, f"variable {k1!r}").ravel()
    tau2 = numeric(contents[k2], path, f"variable {k2!r}").ravel()
    if data.ndim != 2:
        raise ValueError(f"{path}: variable {dk!r} must be 2D, got shape {data.shape}")
    check_shapes(data, tau1, tau2, (f"{path} ({dk})", k1, k2), "variable")
    nk = noise_key if noise_key is not None else ("noise_std" if "noise_std" in contents else None)
    if nk is not None:
        if nk not in contents:
            raise ValueError(f"{path}: no variable {nk!r} for the noise level")
        nv = numeric(contents[nk], path, f"variable {nk!r}").ravel()
        if nv.size != 1:
            raise ValueError(f"{path}: variable {nk!r} must be a scalar")
        noise = float(nv[0])
    return Acquisition(
        data=data,
        tau1=check_axis(tau1 * u1, path, f"variable {k1!r}"),
        tau2=check_axis(tau2 * u2, path, f"variable {k2!r}"),
        kinds=kind_pair,
        noise_std=noise,
        metadata=meta,
        source=str(path),
    )

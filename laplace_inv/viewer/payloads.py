"""What the page receives: acquisitions, maps, residuals and flags as plain JSON values."""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_CURVES = 8
MAX_RESIDUAL_COLUMNS = 200
EDGE_MASS_LIMIT = 0.05
BELOW_DIAGONAL_LIMIT = 0.05
RESIDUAL_NOISE_LIMIT = 1.5


def _floats(values: Any, digits: int = 6) -> list:
    """Nested lists of floats rounded to ``digits`` significant digits (smaller JSON)."""
    arr = np.asarray(values, dtype=float)
    rounded = np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(arr)
    return rounded.tolist()


def acquisition_payload(acq: Any, kernel: Any) -> dict:
    """The acquisition summary, a few decay curves along each axis, and the kernel grids.

    Examples
    --------
    >>> from laplace_inv.viewer.core import open_dataset, build_kernel
    >>> acq = open_dataset("demo:cement_like")
    >>> p = acquisition_payload(acq, build_kernel(acq, None, 16))
    >>> p["shape"], p["kinds"], len(p["grid1"])
    ([48, 1000], ['T1_IR', 'T2'], 16)
    """
    n1, n2 = acq.shape
    rows = np.unique(np.linspace(0, n1 - 1, min(MAX_CURVES, n1)).round().astype(int))
    cols = np.unique(np.geomspace(1, n2, min(MAX_CURVES, n2)).round().astype(int) - 1)
    return {
        "source": acq.source,
        "format": acq.metadata.get("format", ""),
        "shape": [int(n1), int(n2)],
        "kinds": list(acq.kinds),
        "file_kinds": list(acq.kinds),
        "kernel_kinds": list(kernel.kinds),
        "tau1": _floats(acq.tau1),
        "tau2": _floats(acq.tau2),
        "noise_std": acq.noise_std,
        "rows": [int(r) for r in rows],
        "row_curves": _floats(acq.data[rows, :]),
        "cols": [int(c) for c in cols],
        "col_curves": _floats(acq.data[:, cols].T),
        "grid1": _floats(kernel.grid1),
        "grid2": _floats(kernel.grid2),
        "n_grid": int(kernel.grid1.size),
    }


def map_flags(res: Any) -> list[str]:
    """Warnings about mass the physics does not allow or the fit does not support.

    Examples
    --------
    >>> from laplace_inv.base import InversionResult
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel(16)
    >>> F = np.zeros((16, 16)); F[0, 0] = 1.0
    >>> map_flags(InversionResult(F, k, k.forward(F)))[0].startswith("100.0 % of the mass")
    True
    """
    from laplace_inv.classical.robust import edge_mass

    F = np.asarray(res.map, dtype=float)
    flags = []
    edge = edge_mass(F, width=2)
    if edge > EDGE_MASS_LIMIT:
        flags.append(
            f"{100 * edge:.1f} % of the mass lies in the outer two rows/columns of the grid: "
            "widen the grid or fit the acquisition model (offset, inversion efficiency)"
        )
    if F.min() < -1e-9 * max(abs(F).max(), 1e-300):
        flags.append("the map has negative amplitudes")
    kinds = res.kinds
    if kinds[0].startswith("T1") and kinds[1] == "T2":
        positive = np.clip(F, 0.0, None)
        total = positive.sum()
        below = positive[res.grid1[:, None] < res.grid2[None, :]].sum()
        if total > 0 and below / total > BELOW_DIAGONAL_LIMIT:
            flags.append(f"{100 * below / total:.1f} % of the mass has T1 < T2 (unphysical)")
    rn = res.residual_to_noise
    if rn is not None and rn > RESIDUAL_NOISE_LIMIT:
        flags.append(
            f"residual/noise is {rn:.2f}: the map does not explain the data to the noise level"
        )
    return flags


def result_payload(label: str, res: Any, params: dict) -> dict:
    """One map with its grids, projections, fit figures and flags."""
    F = np.asarray(res.map, dtype=float)
    info = res.info
    alpha = info.get("alpha")
    return {
        "label": label,
        "method": str(info.get("method", label)),
        "params": params,
        "kinds": list(res.kinds),
        "grid1": _floats(res.grid1),
        "grid2": _floats(res.grid2),
        "map": _floats(F, 5),
        "proj1": _floats(F.sum(axis=1)),
        "proj2": _floats(F.sum(axis=0)),
        "relative_residual": float(res.relative_residual),
        "residual_to_noise": res.residual_to_noise,
        "noise_std": res.noise_std,
        "alpha": float(alpha) if isinstance(alpha, (int, float, np.floating)) else None,
        "time_s": info.get("time_s"),
        "efficiency": info.get("efficiency"),
        "offset": info.get("offset"),
        "flags": map_flags(res),
    }


def residual_payload(label: str, res: Any) -> dict:
    """Residual ``S − fit`` in noise units, columns averaged down to at most 200.

    The tau2 position of each averaged column is the geometric mean of its echo times.
    """
    residual = np.asarray(res.residual, dtype=float)
    noise = res.noise_std or float(np.std(residual)) or 1.0
    n1, n2 = residual.shape
    groups = np.array_split(np.arange(n2), min(MAX_RESIDUAL_COLUMNS, n2))
    tau2 = res.kernel.axis2.tau
    scaled = np.stack([residual[:, g].mean(axis=1) for g in groups], axis=1) / noise
    x = [float(np.exp(np.mean(np.log(np.abs(tau2[g]) + 1e-300)))) for g in groups]
    rows = np.unique(np.linspace(0, n1 - 1, 3).round().astype(int))
    return {
        "label": label,
        "tau1": _floats(res.kernel.axis1.tau),
        "tau2_binned": _floats(x),
        "residual_over_noise": _floats(scaled, 4),
        "noise_std": noise,
        "noise_estimated": res.noise_std is None,
        "rows": [int(r) for r in rows],
        "tau2": _floats(tau2),
        "data_rows": _floats(res.data[rows, :]),
        "fit_rows": _floats(res.fit[rows, :]),
        "relative_residual": float(res.relative_residual),
        "residual_to_noise": res.residual_to_noise,
        "flags": map_flags(res),
    }

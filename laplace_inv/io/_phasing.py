"""Complex → real for the readers: per-row phasing chosen from the kinds, with its report."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from laplace_inv.phase import noise_from_phased, phase_correct, phase_rows

PHASE_MODES = ("row", "global")


def to_real(
    z: np.ndarray, kinds: tuple[str, ...], src: str, mode: str = "row"
) -> tuple[np.ndarray, float | None, dict[str, Any]]:
    """Phase complex data ``z`` for the given kinds.

    Parameters
    ----------
    z : numpy.ndarray
        Complex data, ``(n_rows, n_echoes)`` for 2D kinds or ``(n,)`` for one kind.
    kinds : tuple of str
        Kinds of the axes; the first decides which end of the data must be positive.
    src : str
        Source file, for the warning.
    mode : str
        ``"row"`` (one phase per row, continuous between rows) or ``"global"`` (one phase).

    Returns
    -------
    real : numpy.ndarray
    noise_std : float or None
        ``None`` when the data do not let the noise be estimated (never 0).
    report : dict
        Phases and the noise source, for the acquisition's metadata.
    """
    if mode not in PHASE_MODES:
        raise ValueError(f"{src}: phase must be one of {PHASE_MODES}, got {mode!r}")
    recovery = kinds[0] in ("T1_IR", "T1_SR")
    if mode == "global":
        real, phase, _ = phase_correct(z)
        rotated = z * np.exp(-1j * phase)
        noise, source = noise_from_phased(rotated.real, rotated.imag)
        return real, noise, {"phase": phase, "phase_mode": "global", "noise_source": source}
    if len(kinds) == 1:
        res = phase_rows(z, sign_at="end" if recovery else "start", rows_positive=False)
    else:
        res = phase_rows(z, sign_row=-1 if recovery else 0, rows_positive=kinds[0] != "T1_IR")
    report = res.report()
    report["phase_mode"] = "row"
    if res.negative_rows:
        rows = ", ".join(str(i + 1) for i in res.negative_rows)
        warnings.warn(
            f"{src}: rows {rows} (1-based) stay negative after per-row phasing although "
            f"{kinds[0]} rows should be positive; their phase is continuous with their "
            "neighbours', so the negative signal is in the data (a baseline, an artefact or "
            "a receiver offset): check them before inverting",
            UserWarning,
            stacklevel=3,
        )
    return res.real, res.noise_std, report

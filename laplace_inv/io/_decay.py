"""Shared pieces of the 1D readers: kind guess, unit sanity checks, building the result."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from laplace_inv.io._common import as_kinds, check_axis
from laplace_inv.io._phasing import to_real
from laplace_inv.io.acquisition import Acquisition
from laplace_inv.phase import noise_from_phased

CPMG_SPACING_RANGE = (1e-6, 0.05)
"""Echo spacings (s) a CPMG can have; outside it the time unit is probably wrong."""

RECOVERY_DELAY_MAX = 1e3
"""Longest recovery delay (s) that is plausible; longer ones suggest ms read as s."""


def guess_kind(y: np.ndarray) -> str:
    """Kind of a real decay from its shape: a sign change upward is an inversion recovery,
    a rise a saturation recovery, anything else a decay (``"T2"``; a diffusion decay looks
    the same, pass ``kind="D"``)."""
    n = max(1, y.size // 10)
    start, end = float(np.mean(y[:n])), float(np.mean(y[-n:]))
    if start < 0 < end:
        return "T1_IR"
    if end > start:
        return "T1_SR"
    return "T2"


def check_time_unit(kind: str, x: np.ndarray, src: str, unit: float) -> None:
    """Warn when the axis looks like the wrong time unit (ms read as s, or s as ms)."""
    if kind == "T2" and x.size > 1:
        spacing = float(np.min(np.diff(x)))
        lo, hi = CPMG_SPACING_RANGE
        if spacing > hi:
            warnings.warn(
                f"{src}: echo spacing {spacing:.3g} s is longer than any CPMG "
                f"(> {hi:g} s) with time unit {unit:g} s; if the file's times are in ms, "
                "pass time_unit=1e-3",
                UserWarning,
                stacklevel=3,
            )
        elif spacing < lo:
            warnings.warn(
                f"{src}: echo spacing {spacing:.3g} s is shorter than any CPMG "
                f"(< {lo:g} s) with time unit {unit:g} s; if the file's times are in s, "
                "pass time_unit=1",
                UserWarning,
                stacklevel=3,
            )
    if kind in ("T1_IR", "T1_SR") and float(x[-1]) > RECOVERY_DELAY_MAX:
        warnings.warn(
            f"{src}: longest recovery delay {float(x[-1]):.3g} s is implausibly long with "
            f"time unit {unit:g} s; if the file's delays are in ms, pass time_unit=1e-3",
            UserWarning,
            stacklevel=3,
        )


def resolve_kind(kind: str | None, y: np.ndarray, src: str) -> tuple[str, bool]:
    """The given kind (validated) or a guess with a warning; returns ``(kind, guessed)``."""
    if kind is not None:
        return as_kinds((kind,), src, 1)[0], False
    guessed = guess_kind(y)
    warnings.warn(
        f"{src}: kind not given; guessed {guessed!r} from the shape of the decay (pass "
        "kind='T2', 'T1_IR', 'T1_SR' or 'D' to say it)",
        UserWarning,
        stacklevel=3,
    )
    return guessed, True


def build_1d(
    x: np.ndarray,
    y: np.ndarray,
    *,
    kind: str | None,
    unit: float,
    src: str,
    meta: dict[str, Any],
    phase: str = "row",
    noise_std: float | None = None,
) -> Acquisition:
    """An `Acquisition` from a 1D axis (file units) and real or complex values."""
    if np.iscomplexobj(y):
        rough = np.abs(y) * np.sign(np.real(y * np.exp(-1j * 0.5 * np.angle(np.sum(y * y)))))
        kind_name, guessed = resolve_kind(kind, rough, src)
        real, noise, report = to_real(y, (kind_name,), src, phase)
        meta.update(report)
    else:
        kind_name, guessed = resolve_kind(kind, y, src)
        real = np.asarray(y, dtype=np.float64)
        noise, source = noise_from_phased(real, np.zeros_like(real))
        meta["noise_source"] = source
    tau = check_axis(np.asarray(x, dtype=np.float64) * unit, src, "axis")
    if kind_name != "D":
        check_time_unit(kind_name, tau, src, unit)
    meta["kind_guessed"] = guessed
    meta["axis_unit_SI"] = unit
    return Acquisition(
        data=real,
        tau1=tau,
        tau2=None,
        kinds=(kind_name,),
        noise_std=noise if noise_std is None else noise_std,
        metadata=meta,
        source=src,
    )

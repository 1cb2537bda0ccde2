"""Reading an input for ``laplace-inv invert``: format-specific options and unit checks."""

from __future__ import annotations

import argparse
import logging
from typing import Any

log = logging.getLogger("laplace_inv")

# Options each format takes; everything else is refused with a message naming the format.
_ACCEPTS = {
    "table": {"tau1", "tau2", "kinds", "time_unit", "tau1_unit", "tau2_unit"},
    "mat": {"kinds", "time_unit", "tau1_unit", "tau2_unit"},
    "upen2d": {"kinds", "time_unit"},
    "npz": {"kinds", "time_unit", "tau1_unit", "tau2_unit"},
    "spinsolve": {"kinds"},
}
_FLAGS = {
    "tau1": "--tau1",
    "tau2": "--tau2",
    "kinds": "--kinds",
    "time_unit": "--time-unit",
    "tau1_unit": "--tau1-unit",
    "tau2_unit": "--tau2-unit",
}
_WHY = {
    "table": "",
    "mat": "a .mat file holds its own axes",
    "upen2d": "an Upen2DTool folder names its axis files in FileSetInput.par",
    "npz": "a .npz file holds its own axes",
    "spinsolve": "a Spinsolve folder states its axes and units in acqu.par",
}


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in _FLAGS if getattr(args, k, None) is not None}


def read_input(path: str, args: argparse.Namespace) -> Any:
    """Read ``path`` applying ``--kinds`` and the unit options to whatever format it is.

    Raises
    ------
    ValueError
        For an option the format does not take (named, with the reason).
    """
    from laplace_inv.io import detect_format, read_any

    fmt = detect_format(path)
    given = _given(args)
    refused = sorted(set(given) - _ACCEPTS[fmt])
    if refused:
        flags = ", ".join(_FLAGS[k] for k in refused)
        raise ValueError(
            f"{path}: {flags} do(es) not apply to this {fmt} input ({_WHY[fmt]}); "
            f"options for {fmt}: {', '.join(_FLAGS[k] for k in sorted(_ACCEPTS[fmt]))}"
        )
    kinds = tuple(given["kinds"]) if "kinds" in given else None
    if fmt == "table":
        missing = [_FLAGS[k] for k in ("tau1", "tau2", "kinds") if k not in given]
        if missing:
            raise ValueError(
                f"{path}: a text data table needs {', '.join(missing)} "
                "(e.g. --tau1 t1.csv --tau2 t2.csv --kinds T1_IR,T2 --time-unit 1e-3)"
            )
        return read_any(
            path,
            tau1_path=given["tau1"],
            tau2_path=given["tau2"],
            kinds=kinds,
            time_unit=given.get("time_unit", 1.0),
            tau1_unit=given.get("tau1_unit"),
            tau2_unit=given.get("tau2_unit"),
        )
    if fmt == "mat":
        return read_any(
            path,
            kinds=kinds,
            time_unit=given.get("time_unit", 1.0),
            tau1_unit=given.get("tau1_unit"),
            tau2_unit=given.get("tau2_unit"),
        )
    if fmt == "upen2d":
        kwargs: dict[str, Any] = {"kinds": kinds}
        if "time_unit" in given:
            kwargs["time_unit"] = given["time_unit"]
        return read_any(path, **kwargs)
    acq = read_any(path)
    return _override(acq, kinds, given)


def _override(acq: Any, kinds: tuple | None, given: dict[str, Any]) -> Any:
    """Apply ``--kinds`` and unit options to a reader without such parameters (npz, spinsolve)."""
    from laplace_inv.io import Acquisition

    unit = float(given.get("time_unit", 1.0))
    u1 = float(given.get("tau1_unit", unit))
    u2 = float(given.get("tau2_unit", unit))
    if kinds is None and u1 == 1.0 and u2 == 1.0:
        return acq
    for u in (u1, u2):
        if not (u > 0 and u < float("inf")):
            raise ValueError(f"units must be positive and finite, got {u!r}")
    return Acquisition(
        data=acq.data,
        tau1=acq.tau1 * u1,
        tau2=acq.tau2 * u2,
        kinds=kinds if kinds is not None else acq.kinds,
        noise_std=acq.noise_std,
        grid_hint=None if (u1, u2) != (1.0, 1.0) else acq.grid_hint,
        metadata=acq.metadata,
        source=acq.source,
    )


def unit_warnings(tau1: Any, tau2: Any, kinds: tuple[str, str]) -> list[str]:
    """Warnings for acquisition axes that look like the wrong unit.

    Examples
    --------
    >>> import numpy as np
    >>> unit_warnings(np.geomspace(0.8, 2800, 48), np.arange(1, 1001) * 0.1078,
    ...               ("T1_IR", "T2"))[0][:38]
    'axis 1 (T1_IR): delays up to 2.8e+03 s'
    >>> unit_warnings(np.geomspace(8e-4, 2.8, 48), np.arange(1, 1001) * 1e-4, ("T1_IR", "T2"))
    []
    """
    import numpy as np

    msgs = []
    for i, (tau, kind) in enumerate(((tau1, kinds[0]), (tau2, kinds[1])), start=1):
        tau = np.asarray(tau, dtype=float)
        hi = float(np.max(tau))
        if kind == "D":
            if hi < 1e3:
                msgs.append(
                    f"axis {i} (D): b-values up to {hi:.3g} s/m² are far below the usual "
                    "1e6-1e12 s/m²; were they in ms/µm² (use --tau{i}-unit 1e9)?"
                )
            continue
        spacing = float(np.min(np.diff(np.sort(tau)))) if tau.size > 1 else hi
        if kind == "T2" and (spacing > 0.05 or hi > 100.0):
            what = (
                f"an echo spacing of {spacing:.3g} s"
                if spacing > 1.0
                else f"echoes up to {hi:.3g} s"
            )
            msgs.append(
                f"axis {i} (T2): {what} is implausible for CPMG; "
                "if the file is in ms, pass --time-unit 1e-3"
            )
        elif kind != "T2" and hi >= 1e3:
            msgs.append(
                f"axis {i} ({kind}): delays up to {hi:.3g} s (≥ 1000 s) are implausible; if the "
                "file is in ms, pass --time-unit 1e-3 (µs: 1e-6)"
            )
    return msgs

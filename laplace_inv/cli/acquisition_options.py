"""``laplace-inv invert --fit-acquisition`` and the physics flags of every inverted map.

With ``--fit-acquisition`` the inversion efficiency of a ``T1_IR`` axis and a constant offset
are fitted once per input (`laplace_inv.acquisition_model.fit_acquisition_model`, searched
with global Tikhonov on the acquisition window), printed, and every method then inverts with
that model (`invert_with_model`); the result's ``info`` (and so the ``.npz`` metadata) keeps
both. Without it the methods invert with the ideal kernel. Either way each map is checked
against the physics (`laplace_inv.diagnostics.physics_regions`): the peak table flags peaks
at ``T1 < T2/2`` or outside what the acquisition sees, the shares of the map there are printed
and stored, and the figure shades those areas.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from laplace_inv.cli._common import fmt_peak, invert_all, invert_each
from laplace_inv.cli.dlemlr_options import method_params
from laplace_inv.plotting import PEAK_THRESHOLD

HINT = (
    "mass where the physics forbids it or the acquisition cannot see it usually comes from "
    "an imperfect inversion pulse or a baseline offset (rerun with --fit-acquisition), or "
    "from a component beyond the range of delays, echoes or b-values acquired"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``--fit-acquisition`` on the ``invert`` parser."""
    parser.add_argument(
        "--fit-acquisition",
        action="store_true",
        help="fit the inversion efficiency (T1_IR axes) and a constant baseline offset, print "
        "them and invert every method with the fitted model (recorded in the .npz)",
    )


def _is_map(array: Any) -> bool:
    """Whether ``array`` is a 2D map (or data) with two real axes; the physics flags and
    the acquisition fit handle maps only."""
    shape = getattr(array, "shape", ())
    return len(shape) == 2 and min(shape) > 1


def _fit_model(kernel: Any, data: Any, noise_std: float | None) -> tuple[Any, float, float]:
    """The fitted model ``(Tikhonov result, efficiency or nan, offset)``."""
    from laplace_inv.acquisition_model import fit_acquisition_model
    from laplace_inv.methods import make_inverter

    fit = fit_acquisition_model(make_inverter("tikhonov", kernel), data, noise_std=noise_std)
    e = fit.info["efficiency"]
    return fit, float("nan") if e is None else float(e), float(fit.info["offset"])


def model_line(efficiency: float, offset: float, data: Any) -> str:
    """One line describing a fitted acquisition model.

    Examples
    --------
    >>> import numpy as np
    >>> model_line(0.8, 0.02, np.array([1.0, 0.5]))
    'acquisition model: inversion efficiency 0.800, offset 0.02 (2.00% of max|S|)'
    """
    import numpy as np

    eff = "— (no T1_IR axis)" if np.isnan(efficiency) else f"{efficiency:.3f}"
    share = offset / (float(np.max(np.abs(data))) or 1.0)
    return (
        f"acquisition model: inversion efficiency {eff}, offset {offset:.3g} "
        f"({share:.2%} of max|S|)"
    )


def invert_methods(
    args: argparse.Namespace, kernel: Any, data: Any, noise_std: float | None
) -> tuple[list[tuple[str, Any]], list[dict[str, str]]]:
    """Invert with each method of ``args.methods``, with the fitted model under
    ``--fit-acquisition``; add the physics shares to each result's ``info``.

    Returns the ``(name, InversionResult)`` pairs and one table row per method, as
    `laplace_inv.cli._common.invert_all`, the peaks carrying their flags.
    """
    if not getattr(args, "fit_acquisition", False):
        results, rows = invert_all(args.methods, kernel, data, noise_std, method_params(args))
    elif not _is_map(data):
        raise ValueError(
            "--fit-acquisition needs a 2D acquisition (a map); for a 1D decay, invert without it"
        )
    else:
        results, rows = _invert_with_fit(args, kernel, data, noise_std)
    for name, res in results:
        if not _is_map(res.map):
            continue
        record_physics(res)
        for row in rows:
            if row["method"] == name:
                row["peaks"] = flagged_peaks_text(res)
                if "fit_acquisition_time_s" in res.info:  # the model, for the summary table
                    e = res.info["efficiency"]
                    eff = "—" if e is None else f"{e:.3f}"
                    row["method"] = f"{name} (e {eff}, offset {res.info['offset']:.3g})"
    return results, rows


def _invert_with_fit(
    args: argparse.Namespace, kernel: Any, data: Any, noise_std: float | None
) -> tuple[list[tuple[str, Any]], list[dict[str, str]]]:
    from laplace_inv.acquisition_model import invert_with_model

    t0 = time.perf_counter()
    fit, e, c = _fit_model(kernel, data, noise_std)
    fit_time = time.perf_counter() - t0
    efficiency = None if e != e else e  # nan: no T1_IR axis

    def invert(name: str, est: Any) -> tuple[Any, float]:
        if name == "tikhonov":  # the model fit's own map; its time is the fit's
            res, extra_time = fit, fit_time
        else:
            res = invert_with_model(est, data, efficiency=efficiency, offset=c, noise_std=noise_std)
            extra_time = 0.0
        res.info["fit_acquisition_time_s"] = fit_time
        return res, extra_time

    # The peaks are filled in with their physics flags once every method has run.
    return invert_each(args.methods, kernel, invert, lambda res: "", method_params(args))


def record_physics(res: Any) -> dict[str, float]:
    """Store the share of ``res.map`` in each physics region in ``res.info`` (keys
    ``"share T1<T2/2"``...), so that the ``.npz`` metadata keeps them; return the shares."""
    from laplace_inv.diagnostics import physics_shares
    from laplace_inv.peak_table import kernel_regions

    shares = physics_shares(res.map, kernel_regions(res.kernel))
    for name, share in shares.items():
        res.info[f"share {name}"] = share
    return shares


def _flagged_peaks(res: Any) -> list[tuple[Any, list[str]]]:
    from laplace_inv.peak_table import kernel_regions, peak_flags

    regions = kernel_regions(res.kernel)
    return [(p, peak_flags(p.index, regions)) for p in res.peaks(min_fraction=PEAK_THRESHOLD)]


def flagged_peaks_text(res: Any, limit: int = 3) -> str:
    """The main peaks as in the results table, each followed by its flags in brackets."""
    parts = []
    for peak, flags in _flagged_peaks(res)[:limit]:
        text = fmt_peak(peak, res.kinds)
        parts.append(f"{text} [{', '.join(flags)}]" if flags else text)
    return "; ".join(parts)


def _axis_headers(kinds: Sequence[str]) -> list[str]:
    symbols = {"T1_IR": "T1", "T1_SR": "T1", "T2": "T2", "D": "D"}
    names = [symbols[k] for k in kinds]
    if names[0] == names[1]:
        names = [f"{names[0]},1", f"{names[1]},2"]
    return [f"{n} (m²/s)" if k == "D" else f"{n} (ms)" for n, k in zip(names, kinds, strict=True)]


def physics_report(results: list[tuple[str, Any]]) -> str:
    """Per method: the peak table with a flags column, the map's shares in the flagged
    areas, and the hint to fit the acquisition model when a share is large."""
    from laplace_inv.diagnostics import PHYSICS_SHARE, physics_shares
    from laplace_inv.peak_table import kernel_regions

    lines: list[str] = []
    fitted = [res for _, res in results if "fit_acquisition_time_s" in res.info]
    if fitted:
        info = fitted[0].info
        e = float("nan") if info["efficiency"] is None else info["efficiency"]
        lines.append(
            f"{model_line(e, info['offset'], fitted[0].data)}; fitted in "
            f"{info['fit_acquisition_time_s']:.1f} s"
        )
    for name, res in results:
        if not _is_map(res.map):
            continue
        h1, h2 = _axis_headers(res.kinds)
        lines += [
            f"\npeaks of {name}:",
            f"| # | {h1} | {h2} | share | flags |",
            "|---|---|---|---|---|",
        ]
        for i, (peak, flags) in enumerate(_flagged_peaks(res), start=1):
            v = [p if k == "D" else p * 1e3 for p, k in zip(peak.position, res.kinds, strict=True)]
            lines.append(
                f"| {i} | {v[0]:.3g} | {v[1]:.3g} | {100 * peak.fraction:.1f} % "
                f"| {', '.join(flags) or '—'} |"
            )
        shares = physics_shares(res.map, kernel_regions(res.kernel))
        listed = [f"{k} {100 * v:.1f} %" for k, v in shares.items() if v >= 0.005]
        lines.append("map in flagged areas: " + (", ".join(listed) or "none"))
        if any(v >= PHYSICS_SHARE for v in shares.values()):
            lines.append(
                "note: this remains with the fitted acquisition model: a component beyond "
                "the range of delays, echoes or b-values acquired, or wrong kinds or units"
                if "offset" in res.info
                else f"hint: {HINT}"
            )
    return "\n".join(lines)


def mark_figure(fig: Any, res: Any) -> None:
    """Shade, on the map of ``fig`` (made by `plot_map`), what the acquisition cannot see
    and the forbidden ``T1 < T2/2`` area, with the shares there when they are large."""
    from laplace_inv.diagnostics import (
        FORBIDDEN,
        PHYSICS_SHARE,
        T1_T2_MARGIN,
        acquisition_window,
        physics_shares,
    )
    from laplace_inv.peak_table import kernel_regions
    from laplace_inv.plotting.flags import shade_physics_regions

    if not _is_map(res.map) or not fig.axes:
        return
    windows = [acquisition_window(ax.kind, ax.tau) for ax in (res.kernel.axis1, res.kernel.axis2)]
    shares = physics_shares(res.map, kernel_regions(res.kernel))
    large = {k: v for k, v in shares.items() if v >= PHYSICS_SHARE}
    note = None
    if large:
        listed = ", ".join(f"{k} {100 * v:.0f} %" for k, v in large.items())
        legend = "grey: outside what the acquisition sees"
        if FORBIDDEN in shares:
            legend += "; hatched: T1 < T2/2 (forbidden)"
        hint = "" if "offset" in res.info else " (try --fit-acquisition)"
        note = f"{legend}\nmap there: {listed}{hint}"
    shade_physics_regions(fig.axes[0], res.kinds, windows, note=note, margin=T1_T2_MARGIN)

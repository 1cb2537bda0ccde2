"""``laplace-inv invert`` on a 1D decay: peak table, distribution (.npz, .csv) and figure."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from laplace_inv.cli._common import empty_row
from laplace_inv.cli.flags_1d import peak_flags, regions_1d, shares_line
from laplace_inv.cli.output import ResultWriter, check_absent

ONE_D_FORMATS = ("csv1d", "minispec", "tecmag", "geospec")
"""Formats that only hold 1D decays (Spinsolve and .npz inputs may hold either)."""

DISTRIBUTION_FORMAT = "laplace_inv.distribution/1"
"""Identifier stored in the ``.npz`` of a 1D result."""

KIND_CHOICES = ("T2", "T1_IR", "T1_SR", "D")
_SYMBOL = {"T2": "T2", "T1_IR": "T1", "T1_SR": "T1", "D": "D"}
_UNIT = {"T2": "s", "T1_IR": "s", "T1_SR": "s", "D": "m2/s"}
_TWO_D_OPTIONS = ("tau1", "tau2", "kinds", "tau1_unit", "tau2_unit", "regions")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Register ``--kind`` (the kernel kind of a 1D decay) on the ``invert`` parser.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The ``invert`` parser.
    """
    p.add_argument(
        "--kind",
        choices=KIND_CHOICES,
        default=None,
        help="kernel kind of a 1D decay (T2, T1_IR, T1_SR or D; b-values in s/m² with "
        "--time-unit for other units); default: the file's, or guessed from the decay",
    )


def invert_if_1d_format(path: str, folder: Path, args: argparse.Namespace) -> list | None:
    """Invert ``path`` when its format holds only 1D decays; ``None`` otherwise.

    Parameters
    ----------
    path : str
        The input file.
    folder : Path
        Where the results go.
    args : argparse.Namespace
        Parsed ``invert`` options.

    Returns
    -------
    list of dict or None
        The summary rows (one per method), or ``None`` for a format that may be 2D.
    """
    from laplace_inv.io import detect_format, read_any

    if detect_format(path) not in ONE_D_FORMATS:
        return None
    kwargs: dict[str, Any] = {}
    if args.kind is not None:
        kwargs["kind"] = args.kind
    if args.time_unit is not None:
        kwargs["time_unit"] = args.time_unit
    return invert_acquisition(read_any(path, **kwargs), path, folder, args)


def is_1d(acq: Any, args: argparse.Namespace) -> bool:
    """Whether ``acq`` is a 1D decay (``--kind`` on a 2D input is refused)."""
    if acq.ndim == 2 and getattr(args, "kind", None) is not None:
        raise ValueError(
            f"{acq.source}: --kind applies to 1D decays; this input is 2D, use --kinds K1 K2"
        )
    return bool(acq.ndim == 1)


def _refuse_2d_options(path: str, args: argparse.Namespace) -> None:
    given = [o for o in _TWO_D_OPTIONS if getattr(args, o, None)]
    if getattr(args, "uncertainty", False):
        given.append("uncertainty")
    if given:
        flags = ", ".join("--" + o.replace("_", "-") for o in given)
        raise ValueError(
            f"{path}: {flags} do(es) not apply to a 1D decay (regions and the bootstrap are "
            "2D-only on the command line); use --kind and --time-unit"
        )


def invert_acquisition(
    acq: Any, path: str, folder: Path, args: argparse.Namespace
) -> list[dict[str, str]]:
    """Invert one 1D acquisition with each method, print the peaks and write the results.

    Parameters
    ----------
    acq : Acquisition
        A 1D acquisition.
    path : str
        The input it was read from (names the outputs).
    folder : Path
        Where the results go.
    args : argparse.Namespace
        Parsed ``invert`` options (``methods``, ``grid``, ``kind``, ``overwrite``, ...).

    Returns
    -------
    list of dict
        One summary row per method, with the input.
    """
    _refuse_2d_options(path, args)
    if args.kind is not None and args.kind != acq.kind:
        from laplace_inv.io import Acquisition

        acq = Acquisition(
            acq.data, acq.tau1, None, (args.kind,), acq.noise_std, None, acq.metadata, acq.source
        )
    stem = Path(path).stem or "result"
    targets = _targets(folder, stem, args.methods, args.figure_format)
    check_absent([p for paths in targets.values() for p in paths], args.overwrite)
    kernel = acq.kernel(n_grid=args.grid)
    results, rows = _invert_all(args.methods, kernel, acq)
    if not results:
        raise RuntimeError(f"{path}: no method could run: {rows[0]['peaks']}")
    if not args.quiet:
        noise = "unknown" if acq.noise_std is None else f"{acq.noise_std:.4g}"
        print(f"{path}: 1D {acq.kind} decay, {acq.shape[0]} points, noise {noise}")
        print(table(rows, acq.kind))
    with ResultWriter(overwrite=args.overwrite) as writer:
        for name, res in results:
            _stage(writer, name, res, targets[name], str(path))
        if "comparison" in targets and len(results) > 1:
            fig = comparison_figure(results, title=Path(path).name)
            writer.add(
                targets["comparison"][0], lambda t: fig.savefig(t, dpi=150, bbox_inches="tight")
            )
    if not args.quiet:
        for written in writer.written:
            print(f"wrote {written}")
    return [
        {k: v for k, v in dict(row, input=str(path)).items() if k != "flag_line"} for row in rows
    ]


def _targets(folder: Path, stem: str, methods: list[str], fig_ext: str) -> dict[str, list[Path]]:
    out = {}
    for name in methods:
        base = f"{stem}_{name}_distribution" if len(methods) > 1 else f"{stem}_distribution"
        out[name] = [folder / f"{base}.npz", folder / f"{base}.csv", folder / f"{base}.{fig_ext}"]
    if len(methods) > 1:
        out["comparison"] = [folder / f"{stem}_comparison.{fig_ext}"]
    return out


def _invert_all(methods: list[str], kernel: Any, acq: Any) -> tuple[list, list[dict[str, str]]]:
    from laplace_inv.methods import make_inverter
    from laplace_inv.plotting import PEAK_THRESHOLD

    results: list[tuple[str, Any]] = []
    rows: list[dict[str, str]] = []
    for name in methods:
        try:
            est = make_inverter(name, kernel)
        except (RuntimeError, ValueError) as exc:  # DLEMLR has no 1D model
            rows.append(empty_row(name, f"not available: {exc}"))
            continue
        t0 = time.perf_counter()
        res = est.invert(acq.data, noise_std=acq.noise_std)
        elapsed = time.perf_counter() - t0
        peaks = res.peaks(min_fraction=PEAK_THRESHOLD)[:4]
        rn = res.residual_to_noise
        regions = regions_1d(res)
        flags = sorted({f for p in peaks for f in peak_flags(res, p, regions)})
        line, shares = shares_line(res, regions)
        res.info.update({f"share {k}": v for k, v in shares.items()})
        rows.append(
            {
                "method": name,
                "peaks": "; ".join(fmt_peak(p, acq.kind) for p in peaks),
                "flags": ", ".join(flags) or "—",
                "flag_line": f"{name}: {line}",
                "residual": f"{res.relative_residual:.4f}",
                "rn": f"{rn:.3f}" if rn is not None else "—",
                "startup": "—",
                "time": f"{elapsed:.3f}",
            }
        )
        results.append((name, res))
    return results, rows


def fmt_peak(peak: Any, kind: str) -> str:
    """``9.98 ms (FWHM 0.30 dec) 61.9%`` for one peak of a 1D distribution.

    Examples
    --------
    >>> from laplace_inv.metrics import DetectedPeak
    >>> fmt_peak(DetectedPeak.from_log_position((-2.0,), fwhm=(0.3,), fraction=0.62), "T2")
    '10 ms (FWHM 0.30 dec) 62.0%'
    """
    value = peak.position[0]
    where = f"{value:.3g} m²/s" if kind == "D" else f"{value * 1e3:.3g} ms"
    return f"{where} (FWHM {peak.fwhm[0]:.2f} dec) {100 * peak.fraction:.1f}%"


def table(rows: list[dict[str, str]], kind: str) -> str:
    """The Markdown peak table of one 1D input."""
    lines = [
        f"| method | {_SYMBOL[kind]} peaks (position, width) share | flags | rel. residual "
        "| residual/noise | inversion (s) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['peaks']} | {row.get('flags', '—')} | {row['residual']} "
            f"| {row['rn']} | {row['time']} |"
        )
    lines += [row["flag_line"] for row in rows if "flag_line" in row]
    return "\n".join(lines)


def _stage(writer: ResultWriter, name: str, res: Any, paths: list[Path], source: str) -> None:
    npz, csv, fig_path = paths
    meta = {
        "method": name,
        "source": source,
        "relative_residual": res.relative_residual,
        "residual_to_noise": res.residual_to_noise,
        "noise_std": res.noise_std,
        "info": {k: v for k, v in res.info.items() if isinstance(v, (int, float, str, bool))},
    }
    writer.add(npz, lambda t: save_distribution_npz(t, res, meta))
    writer.add(csv, lambda t: write_distribution_csv(t, res, f"{name} inversion of {source}"))
    fig = res.plot(title=f"{Path(source).name} ({name})")
    writer.add(fig_path, lambda t: fig.savefig(t, dpi=150, bbox_inches="tight"))


def save_distribution_npz(path: Path, res: Any, metadata: dict[str, Any]) -> None:
    """A 1D result as ``.npz`` (no pickles): distribution, grid, kind, decay, fit, metadata.

    Parameters
    ----------
    path : Path
        Target file.
    res : InversionResult
        A 1D result.
    metadata : dict
        JSON-serialisable metadata.
    """
    import numpy as np

    with open(path, "wb") as fh:
        np.savez(
            fh,
            distribution=res.distribution,
            grid=res.grid,
            kind=np.array(res.kinds[0]),
            tau=res.kernel.axis1.tau,
            data=res.data[:, 0],
            fit=res.fit[:, 0],
            metadata=np.array(json.dumps(metadata, default=float)),
            format=np.array(DISTRIBUTION_FORMAT),
        )


def write_distribution_csv(path: Path, res: Any, comment: str = "") -> None:
    """A 1D distribution as CSV: grid (SI units) and signal per grid point.

    Parameters
    ----------
    path : Path
        Target file.
    res : InversionResult
        A 1D result.
    comment : str
        Text for the first comment line.
    """
    kind = res.kinds[0]
    lines = [
        f"# laplace_inv distribution{': ' + comment if comment else ''}",
        f"{_SYMBOL[kind]} ({_UNIT[kind]}),signal per grid point",
    ]
    lines += [f"{g:.10g},{v:.10g}" for g, v in zip(res.grid, res.distribution, strict=True)]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def comparison_figure(results: list[tuple[str, Any]], title: str = "") -> Any:
    """Every method's distribution on one axis (same grid), each scaled to its own peak.

    Parameters
    ----------
    results : list of (str, InversionResult)
        The 1D results on one acquisition.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    first = results[0][1]
    kind = first.kinds[0]
    scale = 1.0 if kind == "D" else 1e3
    fig = Figure(figsize=(5.2, 3.4))
    ax = fig.subplots()
    for name, res in results:
        f = res.distribution
        ax.plot(res.grid * scale, f / max(float(f.max()), 1e-300), lw=1.3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel(f"{_SYMBOL[kind]} ({'m²/s' if kind == 'D' else 'ms'})")
    ax.set_ylabel("signal / its maximum")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

"""Pieces shared by the subcommands: list options, result tables, timed inversions."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from laplace_inv.plotting import PEAK_THRESHOLD

METHOD_NAMES = ("upen", "tikhonov", "l1", "dlemlr")
"""The methods of `laplace_inv.methods.METHODS`, listed here so `--help` stays light."""


def split_list(values: Sequence[str] | str) -> list[str]:
    """Flatten ``["a,b", "c"]`` or ``"a, b c"`` into ``["a", "b", "c"]``.

    Examples
    --------
    >>> split_list(["upen,l1", "dlemlr"])
    ['upen', 'l1', 'dlemlr']
    >>> split_list("T1_IR, T2")
    ['T1_IR', 'T2']
    """
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        out.extend(part for part in value.replace(",", " ").split() if part)
    return out


class ListAction(argparse.Action):
    """An option taking ``a,b``, ``a b`` or both, checked against ``choices`` after splitting."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        self.allowed = kwargs.pop("choices", None)
        self.length = kwargs.pop("length", None)
        kwargs.setdefault("nargs", "+")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = split_list(values)
        if self.allowed is not None:
            bad = [v for v in items if v not in self.allowed]
            if bad:
                parser.error(
                    f"argument {option_string}: invalid choice: {', '.join(map(repr, bad))} "
                    f"(choose from {', '.join(self.allowed)}, as 'a,b' or 'a b')"
                )
        if self.length is not None and len(items) != self.length:
            parser.error(f"{option_string} takes {self.length} values, got {len(items)}: {items}")
        setattr(namespace, self.dest, items)


def fmt_peak(peak: Any, kinds: Sequence[str]) -> str:
    """``(T1 ms, T2 ms) share`` of one peak, D in m²/s."""
    values = []
    for kind, value in zip(kinds, peak.position, strict=True):
        values.append(f"{value:.3g} m²/s" if kind == "D" else f"{value * 1e3:.3g} ms")
    return f"({', '.join(values)}) {100 * peak.fraction:.1f}%"


TABLE_HEADER = (
    "| method | peaks (axis1, axis2) share | rel. residual | residual/noise "
    "| start-up (s) | inversion (s) |"
)


def results_table(rows: list[dict[str, str]]) -> str:
    """A Markdown table of the rows made by `invert_all`."""
    lines = [TABLE_HEADER, "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['peaks']} | {row['residual']} | {row['rn']} "
            f"| {row['startup']} | {row['time']} |"
        )
    return "\n".join(lines)


def empty_row(method: str, peaks: str) -> dict[str, str]:
    """A table row without numbers (a reference, or a method that could not run)."""
    return {
        "method": method,
        "peaks": peaks,
        "residual": "—",
        "rn": "—",
        "startup": "—",
        "time": "—",
    }


def invert_all(
    methods: Sequence[str],
    kernel: Any,
    data: Any,
    noise_std: float | None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[tuple[str, Any]], list[dict[str, str]]]:
    """Run each method; time start-up (import + model load) apart from the inversion.

    ``params`` maps a method name to its estimator parameters (`make_inverter`). Returns the
    ``(name, InversionResult)`` pairs of the methods that ran and one table row per method
    (a method that cannot be built here gets a row saying why).
    """

    def invert(name: str, est: Any) -> tuple[Any, float]:
        return est.invert(data, noise_std=noise_std), 0.0

    def top_peaks(res: Any) -> str:
        peaks = res.peaks(min_fraction=PEAK_THRESHOLD)[:3]
        return "; ".join(fmt_peak(p, res.kinds) for p in peaks)

    return invert_each(methods, kernel, invert, top_peaks, params)


def invert_each(
    methods: Sequence[str],
    kernel: Any,
    invert: Callable[[str, Any], tuple[Any, float]],
    peaks_text: Callable[[Any], str],
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[tuple[str, Any]], list[dict[str, str]]]:
    """Build each method (with ``params[name]``, if any), time its start-up apart, run
    ``invert`` and make its table row.

    ``invert(name, estimator)`` returns the result and seconds to add to its measured time
    (work done once for all methods, such as a model fit); ``peaks_text(result)`` fills the
    row's peak column. Returns the ``(name, InversionResult)`` pairs of the methods that ran
    and one row per method (a method that cannot be built here gets a row saying why).
    """
    from laplace_inv.methods import make_inverter

    results: list[tuple[str, Any]] = []
    rows: list[dict[str, str]] = []
    for name in methods:
        t0 = time.perf_counter()
        try:
            est = make_inverter(name, kernel, **(params or {}).get(name, {}))
        except RuntimeError as exc:
            rows.append(empty_row(name, f"not available: {exc}"))
            continue
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        res, extra_time = invert(name, est)
        elapsed = time.perf_counter() - t0 + extra_time
        rn = res.residual_to_noise
        rows.append(
            {
                "method": name,
                "peaks": peaks_text(res),
                "residual": f"{res.relative_residual:.4f}",
                "rn": f"{rn:.3f}" if rn is not None else "—",
                "startup": f"{startup:.2f}",
                "time": f"{elapsed:.3f}",
            }
        )
        results.append((name, res))
    return results, rows


def comparison_figure(results: list[tuple[str, Any]]) -> Any:
    """All methods' maps side by side (`plot_comparison`), peaks at the shared threshold.

    Parameters
    ----------
    results : list of (str, InversionResult)
        The methods' results on one acquisition (the first one's grids and kinds are used).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from laplace_inv.plotting import plot_comparison

    first = results[0][1]
    return plot_comparison(
        [(name, res.map) for name, res in results],
        first.grid1,
        first.grid2,
        first.kinds,
        peaks="auto",
    )

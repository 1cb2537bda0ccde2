"""Where DLEMLR's mass-fraction error comes from: split peaks, inputs and weights — one table.

Usage::

    python -m benchmarks.studies.bench_dlemlr_splits [--n-random 300] [--seeds 5]
                                                     [--weights-dir DIR ...] [--markdown out.md]

On random maps of ``bench_dlemlr.py``'s test prior drawn from the *validation* seeds of
the former ``bench_dlemlr_refine.py`` study (cement layout), every row gets

* the usual scores (matched position, missed peaks, FWHM ratio, fraction error);
* the fraction error split into its parts, per map: true peaks without an estimate
  (``unmatched``, their whole share), matched peaks whose estimate holds too little
  (``under``) or too much (``over``) of the mass; the three add up to the fraction error;
* *split-like* estimated peaks: estimates matched to no true peak but lying within
  :data:`SPLIT_RADIUS` of one (a true peak cut in two, or a side lobe), their number and the
  mass share they hold per map (mass that the matched peak then lacks: ``under``);
* the paired difference of the fraction error to the first DLEMLR row (the shipped model
  with ``refine=True`` unless ``--weights-dir`` comes first);
* the smallest resolved separation of the resolution pairs (``bench_dlemlr.py``'s cases,
  majority of ``--seeds`` noise seeds): T2 and diagonal at SNR 1000 and 100.

Rows: the network's three ``nnt`` input channels on their own (the ADMM non-negative
Tikhonov maps at the :data:`~laplace_inv.dlemlr.features.NNT_SCALES` penalties), then, for
the shipped weights and each ``--weights-dir``, DLEMLR raw and with ``refine=True``. Fine-tunes
are compared here on validation maps before ``bench_dlemlr.py`` scores them on the test maps.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.studies.common import (
    VALIDATION_SEED0,
    emit_table,
    format_scores,
    map_scores,
    random_cases,
    smallest_resolved,
)
from laplace_inv.dlemlr.estimator import DLEMLRInverter
from laplace_inv.dlemlr.features import NNT_SCALES, compute_inputs
from laplace_inv.kernels import Kernel2D
from laplace_inv.metrics import TruthComparison, find_peaks
from laplace_inv.simulate import Scenario, cement_kernel

#: Largest distance (decades) of a split-like estimate from a true peak: about half the FWHM
#: of the broadest test peak (σ = 0.25 decade) plus one grid step (0.07 decade).
SPLIT_RADIUS = 0.35


@dataclass
class _Result:
    map: np.ndarray


class InputChannel:
    """One ``nnt`` input channel of the network used as an inversion on its own.

    Has the two things the scoring functions use: ``kernel`` and ``invert(data).map``.
    """

    def __init__(self, kernel: Kernel2D, index: int) -> None:
        self.kernel, self.index = kernel, index

    def invert(self, data: np.ndarray) -> _Result:
        S = np.asarray(data, dtype=float)
        inputs = compute_inputs(self.kernel, S / np.abs(S).max())
        return _Result(np.clip(inputs["nnt"][0, self.index], 0.0, None).astype(float))


def fraction_breakdown(
    cases: list[Scenario], maps: list[np.ndarray], comparisons: list[TruthComparison]
) -> dict[str, object]:
    """Per-map means of the fraction error's parts and of the split-like estimates.

    ``comparisons`` are the maps' comparisons with the truth (``map_scores(cases,
    maps)["comparisons"]``), whose matches this splits up. Returns ``unmatched``, ``under``,
    ``over`` (their sum is the mean fraction error), ``split_count`` (total number of
    split-like estimates) and ``split_mass`` (their mass share, mean per map).
    """
    parts = np.zeros(3)
    split_count, split_mass = 0, 0.0
    for sc, F, r in zip(cases, maps, comparisons, strict=True):
        k = sc.kernel
        truth = sc.true_peaks()
        # the same detection settings as compare_to_truth's, so its match indices apply
        found = find_peaks(F, k.grid1, k.grid2)
        matched = dict(r.matches)
        for t, peak in enumerate(truth):
            if t not in matched:
                parts[0] += peak.fraction / len(truth)
                continue
            diff = found[matched[t]].fraction - peak.fraction
            parts[1 if diff < 0 else 2] += abs(diff) / len(truth)
        true_pos = np.array([p.log_position for p in truth])
        used = set(matched.values())
        for j, est in enumerate(found):
            near = np.linalg.norm(true_pos - np.array(est.log_position), axis=1).min()
            if j not in used and near <= SPLIT_RADIUS:
                split_count += 1
                split_mass += est.fraction
    n = max(len(cases), 1)
    return {
        "unmatched": parts[0] / n,
        "under": parts[1] / n,
        "over": parts[2] / n,
        "split_count": split_count,
        "split_mass": split_mass / n,
    }


def estimators(kernel: Kernel2D, weights_dirs: list[str | None]) -> list[tuple[str, object]]:
    """``(label, estimator)`` of every row (:data:`None` is the shipped weights)."""
    rows: list[tuple[str, object]] = [
        (f"input channel nnt (penalty scale {s:g})", InputChannel(kernel, i))
        for i, s in enumerate(NNT_SCALES)
    ]
    for wd in weights_dirs:
        name = "shipped" if wd is None else str(wd)
        for refine in (False, True):
            est = DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wd, refine=refine)
            rows.append((f"DLEMLR {name}, {'refined' if refine else 'raw'}", est))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-random", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=5, help="noise seeds per resolution case")
    ap.add_argument(
        "--weights-dir",
        action="append",
        default=[],
        help="another weights folder to score (repeatable); 'shipped' for the "
        "package's weights (the default when none is given)",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", default=None, help="also write the table here")
    args = ap.parse_args(argv)
    if args.n_random < 2 or args.seeds < 1:
        ap.error("--n-random must be >= 2 and --seeds >= 1")
    torch.set_num_threads(args.threads)
    dirs = [None if d == "shipped" else d for d in (args.weights_dir or ["shipped"])]

    kernel = cement_kernel()
    cases = random_cases(kernel, args.n_random, seed0=VALIDATION_SEED0)
    lines = [
        "| inversion | validation maps (cement layout) | fraction error: unmatched / "
        "under / over | split-like estimates (number, mass per map) | paired fraction "
        "vs first DLEMLR refined | resolved from (T2 1000, T2 100, diag 1000, diag 100) |",
        "|---|---|---|---|---|---|",
    ]
    rows = []
    for label, est in estimators(kernel, dirs):
        maps = [est.invert(sc.data).map for sc in cases]
        resolution = [
            smallest_resolved(est, axis, snr, args.seeds)
            for axis in ("T2", "diagonal")
            for snr in (1000.0, 100.0)
        ]
        scores = map_scores(cases, maps)
        rows.append(
            (label, scores, fraction_breakdown(cases, maps, scores["comparisons"]), resolution)
        )
        print(f"  {label}: {format_scores(rows[-1][1])}", flush=True)
    reference = next(
        scores["per_case"]["fraction_error"]
        for label, scores, _, _ in rows
        if label.endswith("refined")
    )
    for label, scores, parts, resolution in rows:
        diff = scores["per_case"]["fraction_error"] - reference
        cells = [
            label,
            format_scores(scores),
            f"{parts['unmatched']:.4f} / {parts['under']:.4f} / {parts['over']:.4f}",
            f"{parts['split_count']}, {parts['split_mass']:.4f}",
            f"{diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(diff.size):.4f}",
            " / ".join(f"{r:.1f}" for r in resolution),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    emit_table(lines, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where the mass-fraction error comes from: map mass far from every true peak — one table.

Usage::

    python -m benchmarks.studies.bench_dlemlr_artefacts [--n-random 200] [--far 1.0] [--edge 4]
                                                        [--markdown out.md]

On the random maps of ``bench_dlemlr.py`` (cement layout, same seeds), for DLEMLR,
Tikhonov-GCV and UPEN, and for the true map on the output grid as the floor:

* ``far mass``: share of the map's mass more than ``--far`` decades from every true peak
  centre (test widths are at most σ = 0.25 decade, so a true map has almost none there);
* ``T1-edge mass``: share in the ``--edge`` outermost rows at each end of the first axis, where
  the inversion-recovery kernel's columns are nearly constant and mass is poorly determined;
* ``frac``: mean mass-fraction error (``compare_to_truth``, pairs within ``MATCH_RADIUS``);
  ``frac, far mass removed``: the same after zeroing the far pixels, an oracle that uses the
  truth and so only says how much of the fraction error the far mass accounts for.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from benchmarks.studies.common import MATCH_RADIUS, emit_table, random_cases
from laplace_inv.classical import TikhonovInverter
from laplace_inv.methods import make_inverter
from laplace_inv.metrics import compare_to_truth
from laplace_inv.simulate import cement_kernel


def far_mask(kernel, true_peaks: list, far: float) -> np.ndarray:
    """Pixels of the output grid farther than ``far`` decades from every true peak centre."""
    lg1, lg2 = np.log10(kernel.grid1), np.log10(kernel.grid2)
    dist = np.full((lg1.size, lg2.size), np.inf)
    for peak in true_peaks:
        c1, c2 = peak.log_position
        dist = np.minimum(dist, np.hypot(lg1[:, None] - c1, lg2[None, :] - c2))
    return dist > far


def artefact_scores(
    maps: list[np.ndarray], cases: list, references: list[tuple[list, np.ndarray]], edge: int
) -> dict[str, float]:
    """Mean far mass, T1-edge mass, fraction error and fraction error without the far mass.

    ``references`` holds, per case, its true peaks and their :func:`far_mask`.
    """
    far_share, edge_share, frac, frac_clean = [], [], [], []
    for F, case, (true_peaks, mask) in zip(maps, cases, references, strict=True):
        total = max(float(F.sum()), 1e-300)
        far_share.append(float(F[mask].sum()) / total)
        edge_share.append(float(F[:edge].sum() + F[-edge:].sum()) / total)
        g1, g2 = case.kernel.grid1, case.kernel.grid2
        frac.append(
            compare_to_truth(F, true_peaks, g1, g2, max_match_distance=MATCH_RADIUS).fraction_error
        )
        frac_clean.append(
            compare_to_truth(
                np.where(mask, 0.0, F), true_peaks, g1, g2, max_match_distance=MATCH_RADIUS
            ).fraction_error
        )
    return {
        "far": float(np.mean(far_share)),
        "edge": float(np.mean(edge_share)),
        "frac": float(np.mean(frac)),
        "frac_clean": float(np.mean(frac_clean)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-random", type=int, default=200)
    ap.add_argument("--far", type=float, default=1.0, help="decades from every true peak")
    ap.add_argument("--edge", type=int, default=4, help="rows at each end of the first axis")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", default=None, help="also write the table here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    kernel = cement_kernel()
    cases = random_cases(kernel, args.n_random)
    references = []
    for case in cases:
        true_peaks = case.true_peaks()
        references.append((true_peaks, far_mask(case.kernel, true_peaks, args.far)))
    methods = {
        "DLEMLR": make_inverter("dlemlr", kernel),
        "Tikhonov-GCV": TikhonovInverter(kernel=kernel, penalty="global", alpha="gcv"),
        "UPEN": make_inverter("upen", kernel),
    }
    lines = [
        "| method | far mass | T1-edge mass | frac | frac, far mass removed |",
        "|---|---|---|---|---|",
    ]
    all_maps = {name: [est.invert(c.data).map for c in cases] for name, est in methods.items()}
    all_maps["true map"] = [c.truth for c in cases]
    for name, maps in all_maps.items():
        s = artefact_scores(maps, cases, references, args.edge)
        lines.append(
            f"| {name} | {s['far']:.2%} | {s['edge']:.2%} | {s['frac']:.4f} "
            f"| {s['frac_clean']:.4f} |"
        )
        print(lines[-1], flush=True)
    emit_table(lines, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

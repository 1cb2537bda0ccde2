"""Comparison of an estimated map with the ground truth (peaks matched one to one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from laplace_inv.metrics._checks import _check_map
from laplace_inv.metrics.peaks import DetectedPeak, find_peaks

__all__ = ["TruthComparison", "compare_to_truth"]


@dataclass(frozen=True)
class TruthComparison:
    """How an estimated map compares with the ground truth (see `compare_to_truth`).

    Also readable like a dict: ``result["position_error"]``; `as_dict` gives a plain
    dict for tables.
    """

    position_error: float
    axis1_error: float
    axis2_error: float
    width_ratio: float
    fraction_error: float
    tv_distance: float
    n_true: int
    n_found: int
    matches: tuple[tuple[int, int], ...]
    matched_distances: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """All fields as a dict.

        Examples
        --------
        >>> g = np.logspace(-2, 0, 5)
        >>> compare_to_truth(np.eye(5), np.eye(5), g, g).as_dict()["tv_distance"]
        0.0
        """
        return asdict(self)

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


def compare_to_truth(
    F_est: Any,
    truth: Any,
    grid1: Any,
    grid2: Any,
    *,
    min_fraction: float = 0.01,
    smooth: float | None = None,
    max_match_distance: float | None = None,
) -> TruthComparison:
    """Compare an estimated map with the ground truth.

    Estimated peaks (`find_peaks` with ``min_fraction`` and ``smooth``) are matched one
    to one to the true peaks by the Hungarian algorithm on the Euclidean distance between log
    positions (decades). With ``max_match_distance`` pairs farther apart are never matched: the
    assignment first maximises the number of pairs within that distance, then minimises their
    total distance, so a true peak merged away stays unmatched instead of being paired with a
    far-off spurious estimate.

    * ``position_error``: mean over the true peaks of the log distance to the matched estimate;
      an unmatched true peak counts the grid's diagonal span in decades
      ``√(span1² + span2²)`` (the worst possible error).
    * ``axis1_error``, ``axis2_error``: the same per axis, with absolute differences and the
      axis span as penalty.
    * ``width_ratio``: median over matched peaks and both axes of estimated FWHM / true FWHM
      (NaN when no finite ratio exists, e.g. truth given as peaks without widths).
    * ``fraction_error``: mean over the true peaks of ``|fraction_est − fraction_true|``; an
      unmatched true peak counts its whole fraction; true peaks without a fraction (NaN)
      count 0. Spurious estimated peaks are not counted
      here (they show in ``n_found`` and ``tv_distance``).
    * ``matches``, ``matched_distances``: the (true, estimated) index pairs sorted by true
      index, and their log distances.
    * ``tv_distance``: total-variation distance ``½ Σ |p − q|`` between the two maps normalised
      to unit mass (0 identical, 1 disjoint; 0 if both are empty, 1 if only one is). NaN when
      the truth is given as peaks.

    With no true peaks, ``position_error``, the axis errors and ``fraction_error`` are 0.

    Parameters
    ----------
    F_est : array_like, shape (N1, N2)
        The estimated map.
    truth : array_like of shape (N1, N2), or sequence of DetectedPeak
        The true map on the same grids (its peaks are found with ``min_fraction``, no
        smoothing), or the true peaks (e.g. `DetectedPeak.from_log_position`).
    grid1 : array_like
        The grid of axis 1 (SI units).
    grid2 : array_like
        The grid of axis 2 (SI units).
    min_fraction : float
        Smallest mass fraction a detected peak may hold (`find_peaks`).
    smooth : float or None
        Smoothing of the estimate before peak detection (`find_peaks`); the truth is not smoothed.
    max_match_distance : float or None
        Largest log distance (decades) at which a pair may be matched.

    Returns
    -------
    TruthComparison

    Examples
    --------
    >>> g = np.logspace(-3, 0, 31)
    >>> true = np.zeros((31, 31))
    >>> true[10, 20] = 1.0
    >>> est = np.zeros((31, 31))
    >>> est[11, 20] = 1.0
    >>> r = compare_to_truth(est, true, g, g)
    >>> round(r.position_error, 3), r.tv_distance, r.n_found
    (0.1, 1.0, 1)
    """
    Fe, lg1, lg2 = _check_map(F_est, grid1, grid2, "F_est")
    est_peaks = find_peaks(Fe, grid1, grid2, min_fraction=min_fraction, smooth=smooth)
    tv = float("nan")
    if isinstance(truth, DetectedPeak) or (
        isinstance(truth, Sequence)
        and len(truth) > 0
        and all(isinstance(p, DetectedPeak) for p in truth)
    ):
        true_peaks = [truth] if isinstance(truth, DetectedPeak) else list(truth)
    else:
        Ft, _, _ = _check_map(truth, grid1, grid2, "F_true")
        true_peaks = find_peaks(Ft, grid1, grid2, min_fraction=min_fraction)
        tv = _tv_distance(Fe, Ft)
    if max_match_distance is not None and not float(max_match_distance) > 0:
        raise ValueError(f"max_match_distance must be positive, got {max_match_distance!r}")

    span1 = float(lg1[-1] - lg1[0])
    span2 = float(lg2[-1] - lg2[0])
    diag = float(np.hypot(span1, span2))
    n_true, n_found = len(true_peaks), len(est_peaks)
    matches: list[tuple[int, int]] = []
    if n_true and n_found:
        t_pos = np.array([p.log_position for p in true_peaks])
        e_pos = np.array([p.log_position for p in est_peaks])
        cost = np.linalg.norm(t_pos[:, None, :] - e_pos[None, :, :], axis=2)
        allowed = np.ones_like(cost, dtype=bool)
        if max_match_distance is not None:
            allowed = cost <= float(max_match_distance)
        # Gate before assigning: a forbidden pair costs more than any set of allowed ones, so
        # the assignment first maximises the number of allowed matches, then minimises their
        # total distance (a true peak is never traded for a far-off one to free a near pair).
        gated = np.where(allowed, cost, diag * (min(n_true, n_found) + 1))
        rows, cols = linear_sum_assignment(gated)
        for r, c in zip(rows, cols, strict=True):
            if allowed[r, c]:
                matches.append((int(r), int(c)))
    matches.sort()
    matched = dict(matches)

    pos_err, ax1_err, ax2_err, frac_err, ratios = [], [], [], [], []
    distances: list[float] = []
    for t, tp in enumerate(true_peaks):
        if t in matched:
            ep = est_peaks[matched[t]]
            d1 = abs(ep.log_position[0] - tp.log_position[0])
            d2 = abs(ep.log_position[1] - tp.log_position[1])
            pos_err.append(float(np.hypot(d1, d2)))
            distances.append(pos_err[-1])
            ax1_err.append(d1)
            ax2_err.append(d2)
            frac_err.append(abs(ep.fraction - tp.fraction) if np.isfinite(tp.fraction) else 0.0)
            for we, wt in zip(ep.fwhm, tp.fwhm, strict=True):
                if np.isfinite(we) and np.isfinite(wt) and wt > 0:
                    ratios.append(we / wt)
        else:
            pos_err.append(diag)
            ax1_err.append(span1)
            ax2_err.append(span2)
            frac_err.append(float(tp.fraction) if np.isfinite(tp.fraction) else 0.0)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else 0.0

    return TruthComparison(
        position_error=mean(pos_err),
        axis1_error=mean(ax1_err),
        axis2_error=mean(ax2_err),
        width_ratio=float(np.median(ratios)) if ratios else float("nan"),
        fraction_error=mean(frac_err),
        tv_distance=tv,
        n_true=n_true,
        n_found=n_found,
        matches=tuple(matches),
        matched_distances=tuple(distances),
    )


def _tv_distance(P: np.ndarray, Q: np.ndarray) -> float:
    mp, mq = float(P.sum()), float(Q.sum())
    if mp <= 0 and mq <= 0:
        return 0.0
    if mp <= 0 or mq <= 0:
        return 1.0
    return float(0.5 * np.abs(P / mp - Q / mq).sum())

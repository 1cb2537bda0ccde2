"""A fit check every inversion runs: does the residual look like noise?

A map that explains the data leaves a residual ``S − fit`` that looks like white noise. Four
patterns say it does not, each with a likely cause:

- **worse than a zero map**: ``‖S − fit‖ ≥ ‖S‖`` while the residual is far above the noise
  (the data have a sign or phase the non-negative model cannot follow, or the kernel does
  not match the acquisition);
- **isolated spike**: a few residual points many robust standard deviations out while the
  rest is quiet (a corrupted point in the data);
- **baseline**: mass piled on the grid edges, where a non-negative map imitates a constant
  offset (the kernel columns there are nearly constant along the acquisition), or row means
  of the residual far from zero with one sign (an offset the map could not imitate);
- **phase**: the residual far above the noise and correlated with the data (a phase or sign
  error).

The scale of the residual is measured robustly (median absolute deviation), because one spike
inflates every norm-based noise estimate.

A second check looks at the map itself against the physics of the acquisition
(`physics_regions`, `physics_shares`, `physics_warnings`): mass at ``T1 < T2`` in a T1-T2
map, beyond a factor `T1_T2_MARGIN` (forbidden: a spin cannot lose transverse magnetisation
more slowly than it recovers longitudinal), and mass outside what each axis can see, below
the first delay or echo (or ``D < 1/b_max``) and beyond the last (``D > 1/b_min``), where a
kernel column hardly changes along the acquisition, so that the mass there mostly imitates
an offset or an imperfect inversion.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from laplace_inv.robust_statistics import MAD_TO_STD, median
from laplace_inv.robust_statistics import robust_std as robust_std  # part of this module's API

#: Relative residual at or above which the map explains no more than an all-zero map.
ZERO_MAP_RATIO = 0.95
#: ... counted only when the RMS residual is this many noise levels above the noise.
FAR_ABOVE_NOISE = 3.0
#: A residual point this many robust standard deviations out is a spike ...
SPIKE_SIGMAS = 12.0
#: ... when at most this many points are (more is structure, not a spike).
MAX_SPIKES = 3
#: ... or when one point holds this share of the residual energy.
SPIKE_ENERGY = 0.5
#: Row-mean t-statistic (median over rows) that flags a baseline ...
BASELINE_T = 6.0
#: ... when at least this share of the rows has the same sign.
BASELINE_SAME_SIGN = 0.9
#: Share of the map's mass in its outer two rows and columns that flags a baseline ...
EDGE_MASS = 0.15
#: ... when at least this share of that edge mass lies on one side (an offset piles up along
#: the side whose kernel columns are constant; an under-regularised map scatters spikes over
#: every side).
EDGE_ONE_SIDE = 0.6
#: ... on grids of at least this many points per axis (on smaller ones the edges are most of
#: the map).
MIN_EDGE_GRID = 16
#: Correlation of residual and data that flags a phase or sign error (with the residual
#: ``FAR_ABOVE_NOISE`` times the noise).
PHASE_CORRELATION = 0.3


def _deviations(r: np.ndarray) -> tuple[np.ndarray, float]:
    """``|r − median r|`` and `robust_std` from it (two medians: the slow part of the check)."""
    dev = np.abs(r - median(r))
    return dev, MAD_TO_STD * median(dev)


def fit_warnings(
    S: np.ndarray,
    fit: np.ndarray,
    noise_std: float | None,
    F: np.ndarray | None = None,
    kinds: Sequence[str] | None = None,
) -> list[str]:
    """What the residual ``S − fit`` shows that noise would not (empty for a clean fit).

    Parameters
    ----------
    S : numpy.ndarray
        The data, shape ``(n1, n2)``.
    fit : numpy.ndarray
        What the map predicts, same shape.
    noise_std : float or None
        The noise level (given or estimated).
    F : numpy.ndarray, optional
        The map, for the edge-mass check.
    kinds : sequence of str, optional
        The kernel kinds of the map's axes. Given, the edge-mass check counts only the sides
        whose kernel columns are nearly constant along the acquisition (`constant_sides`),
        the only ones that can imitate an offset; mass on the other sides (where the
        kernel vanishes, e.g. ``T2`` below the first echo) is reported by
        `physics_warnings` instead. Absent, all four sides count.

    Returns
    -------
    list of str
        One message per problem, naming the likely cause and the fix.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = np.outer(np.exp(-np.arange(8) / 3), np.exp(-np.arange(50) / 10))
    >>> fit_warnings(S + 1e-3 * rng.standard_normal(S.shape), S, 1e-3)
    []
    >>> S_bad = S + 1e-3 * rng.standard_normal(S.shape); S_bad[3, 7] = 1e3
    >>> [m.split(":")[0] for m in fit_warnings(S_bad, S, 1e-3)]
    ['isolated spike in the residual']
    """
    S = np.asarray(S, dtype=float)
    size = float(np.abs(S).max()) if S.size else 0.0
    if not size > 0 or not np.isfinite(size):
        return []
    # Work on S / max|S|: squares of data near the float limits neither overflow nor vanish.
    S = S / size
    r = S - np.asarray(fit, dtype=float) / size
    noise_std = None if noise_std is None else float(noise_std) / size
    norm_s = float(np.linalg.norm(S))
    if not norm_s > 0 or not np.all(np.isfinite(r)):
        return []
    dev, scale = _deviations(r)
    sigma = max(scale, float(noise_std or 0.0))
    spike = _spike(r, dev, scale)
    if spike:  # a spike distorts the whole map: the other checks would only echo it
        return spike
    return _zero_map(r, norm_s, sigma) + _baseline(r, scale, F, kinds) + _phase(r, S, sigma)


def _zero_map(r: np.ndarray, norm_s: float, sigma: float) -> list[str]:
    ratio = float(np.linalg.norm(r)) / norm_s
    rms = float(np.sqrt(np.mean(r * r)))
    if ratio >= ZERO_MAP_RATIO and rms > FAR_ABOVE_NOISE * max(sigma, 1e-300):
        return [
            f"map no better than an all-zero map: relative residual {ratio:.2f} with the "
            f"residual {rms / max(sigma, 1e-300):.3g} times the noise; check the sign and "
            "phase of the data (e.g. phase-correct it, or use the real channel) and that the "
            "kernel kinds, axes and units match the acquisition"
        ]
    return []


def _spike(r: np.ndarray, deviations: np.ndarray, scale: float) -> list[str]:
    dev = deviations.ravel()
    worst = int(np.argmax(dev))
    far = np.flatnonzero(dev > SPIKE_SIGMAS * scale) if scale > 0 else np.arange(dev.size)
    share = float(dev[worst] ** 2 / max(float(np.sum(dev * dev)), 1e-300))
    if far.size == 0 or not (far.size <= MAX_SPIKES or share > SPIKE_ENERGY):
        return []
    i, j = np.unravel_index(worst, deviations.shape)
    if share <= SPIKE_ENERGY and not _stands_out(r, (int(i), int(j)), scale):
        return []  # a misfit its neighbours share (e.g. the first echo of every row): structure
    return [
        f"isolated spike in the residual: data point [{i}, {j}] lies "
        f"{dev[worst] / max(scale, 1e-300):.3g} robust standard deviations off the fit "
        f"({share:.1%} of the residual energy); a corrupted point distorts the whole map: "
        "remove or replace it (e.g. with the mean of its neighbours) and invert again"
    ]


def _stands_out(r: np.ndarray, point: tuple[int, int], scale: float) -> bool:
    """Whether ``r`` at ``point`` differs from its neighbours along every axis that has them
    by half the spike threshold: a corrupted point does; a smooth misfit does not along the
    axis it follows."""
    i, j = point
    for line, k in ((r[:, j], i), (r[i, :], j)):
        neighbours = np.concatenate([line[max(k - 1, 0) : k], line[k + 1 : k + 2]])
        if neighbours.size and abs(line[k] - neighbours.mean()) <= SPIKE_SIGMAS / 2 * scale:
            return False
    return True


def _baseline(
    r: np.ndarray, scale: float, F: np.ndarray | None, kinds: Sequence[str] | None
) -> list[str]:
    if F is not None and F.ndim == 2 and min(F.shape) >= MIN_EDGE_GRID:
        sides = None if kinds is None else constant_sides(kinds)
        edge = edge_mass(F, sides=sides)
        if edge > EDGE_MASS:
            where = "grid edges" if sides is None else "grid edges where the kernel is flat"
            return [
                f"baseline suspected: {edge:.0%} of the map's mass lies on the {where}, "
                "where a non-negative map imitates a constant offset; subtract the offset or "
                "fit it (laplace-inv invert --fit-acquisition, or "
                "laplace_inv.acquisition_model.fit_acquisition_model(est, S)), or widen the "
                "grid if the edge mass is real signal"
            ]
    if not scale > 0 or r.shape[1] < 2:
        return []
    t = r.mean(axis=1) / (scale / np.sqrt(r.shape[1]))
    same_sign = max(float(np.mean(t > 0)), float(np.mean(t < 0)))
    typical = float(np.median(np.abs(t)))
    if same_sign >= BASELINE_SAME_SIGN and typical > BASELINE_T:
        offset = float(np.median(r.mean(axis=1)))
        return [
            f"baseline in the residual: the rows' mean residuals share one sign (median "
            f"{offset:.3g}·max|S|, {typical:.3g} standard errors from zero); the data likely "
            "carry a "
            "constant offset: subtract it, or fit it (laplace-inv invert --fit-acquisition, "
            "or laplace_inv.acquisition_model.fit_acquisition_model(est, S))"
        ]
    return []


def _phase(r: np.ndarray, S: np.ndarray, sigma: float) -> list[str]:
    rc, Sc = r - r.mean(), S - S.mean()
    denom = float(np.linalg.norm(rc)) * float(np.linalg.norm(Sc))
    if not denom > 0:
        return []
    rho = float(np.vdot(rc, Sc)) / denom
    rms = float(np.sqrt(np.mean(r * r)))
    if abs(rho) > PHASE_CORRELATION and rms > FAR_ABOVE_NOISE * sigma:
        return [
            f"residual correlated with the data (correlation {rho:.2f}) and "
            f"{rms / sigma:.3g} times the noise: the model misses part of the signal itself, "
            "typically a phase or sign error; phase-correct the data "
            "(laplace_inv.phase.phase_correct) or check the kernel kinds"
        ]
    return []


# --------------------------------------------------------------------------------------
# Edge mass and the physics of the map

#: Where a kernel column tends to a non-zero constant along the acquisition, per kind:
#: ``"low"`` (the start of the grid) and/or ``"high"`` (its end). Mass there imitates an
#: offset (``T1_IR`` at long T1 tends to ``−e``, a negative offset).
FLAT_SIDES: dict[str, tuple[str, ...]] = {
    "T2": ("high",),
    "D": ("low",),
    "T1_SR": ("low",),
    "T1_IR": ("low", "high"),
}
#: Share of a map's mass in one physics region (`physics_regions`) that `physics_warnings`
#: reports.
PHYSICS_SHARE = 0.05
#: The forbidden region of a T1-T2 map is ``T1 < T2/T1_T2_MARGIN``: a smooth map spreads a
#: component near the diagonal (fat in cheese, T1/T2 ≈ 1.4) a few tenths of a decade across
#: it, so the strict ``T1 < T2`` region holds up to 10 % of maps of correct data
#: (``benchmarks/results/edge_mass.md``), ``T1 < T2/2`` at most 4 %.
T1_T2_MARGIN = 2.0
#: The label of that region.
FORBIDDEN = "T1<T2/2"
_SYMBOL = {"T1_IR": "T1", "T1_SR": "T1", "T2": "T2", "D": "D"}


def constant_sides(kinds: Sequence[str]) -> list[tuple[int, str]]:
    """The ``(axis, side)`` pairs of a map whose kernel columns are nearly constant.

    Examples
    --------
    >>> constant_sides(("T1_IR", "T2"))
    [(0, 'low'), (0, 'high'), (1, 'high')]
    """
    return [(axis, side) for axis, kind in enumerate(kinds) for side in FLAT_SIDES[kind]]


def edge_mass(
    F: np.ndarray, width: int = 2, sides: Sequence[tuple[int, str]] | None = None
) -> float:
    """Share of a map's mass in its outer ``width`` rows and columns.

    Parameters
    ----------
    F : numpy.ndarray
        The map, shape ``(N1, N2)`` (negative entries count as zero).
    width : int
        How many rows and columns make an edge.
    sides : sequence of (int, str), optional
        Count only these edges, as ``(axis, "low" | "high")`` pairs (e.g. from
        `constant_sides`); all four by default.

    Returns
    -------
    float
        In ``[0, 1]``; 0 for an all-zero map.

    Examples
    --------
    >>> F = np.zeros((10, 10)); F[5, 5] = 3.0; F[0, 9] = 1.0
    >>> edge_mass(F)
    0.25
    >>> edge_mass(F, sides=[(1, "low")])
    0.0
    """
    F = np.clip(np.asarray(F, dtype=float), 0.0, None)
    total = float(F.sum())
    if total <= 0:
        return 0.0
    if sides is None:
        sides = [(a, s) for a in range(F.ndim) for s in ("low", "high")]
    mask = np.zeros(F.shape, dtype=bool)
    for axis, side in sides:
        index = [slice(None)] * F.ndim
        index[axis] = slice(0, width) if side == "low" else slice(-width, None)
        mask[tuple(index)] = True
    return float(F[mask].sum()) / total


def acquisition_window(kind: str, tau: np.ndarray) -> tuple[float, float]:
    """The range of relaxation times (or diffusion coefficients) one axis can see.

    Relaxation: from the first positive delay or echo time to the last. Diffusion:
    ``[1/b_max, 1/b_min]`` with ``b_min`` the smallest positive b-value. Outside it, a kernel
    column hardly changes along the acquisition.

    Examples
    --------
    >>> acquisition_window("T2", np.array([1e-3, 2e-3, 3e-3]))
    (0.001, 0.003)
    >>> acquisition_window("D", np.array([0.0, 1e8, 1e10]))
    (1e-10, 1e-08)
    """
    tau = np.asarray(tau, dtype=float)
    positive = tau[tau > 0]
    if positive.size == 0:
        raise ValueError(f"the {kind} axis has no positive acquisition value")
    lo, hi = float(positive.min()), float(positive.max())
    return (1.0 / hi, 1.0 / lo) if kind == "D" else (lo, hi)


def _axis_names(kinds: Sequence[str]) -> list[str]:
    names = [_SYMBOL[k] for k in kinds]
    if len(set(names)) < len(names):
        names = [f"{n}({i + 1})" for i, n in enumerate(names)]
    return names


def region_labels(kinds: Sequence[str]) -> dict[str, int]:
    """Every physics region a map of these kinds can have, with its bit in a flag mask.

    Bits: 1 ``T1<T2/2`` (`FORBIDDEN`, T1-T2 maps only); 2 and 4 below and beyond the window
    of axis 1;
    8 and 16 those of axis 2.

    Examples
    --------
    >>> region_labels(("D", "T2"))
    {'D<1/b_max': 2, 'D>1/b_min': 4, 'T2<first echo': 8, 'T2>last echo': 16}
    >>> region_labels(("T2", "T2"))["T2(2)>last echo"]
    16
    """
    labels: dict[str, int] = {}
    if len(kinds) == 2 and kinds[0] in ("T1_IR", "T1_SR") and kinds[1] == "T2":
        labels[FORBIDDEN] = 1
    ends = {"D": ("<1/b_max", ">1/b_min"), "T2": ("<first echo", ">last echo")}
    for axis, (name, kind) in enumerate(zip(_axis_names(kinds), kinds, strict=True)):
        below, beyond = ends.get(kind, ("<first delay", ">last delay"))
        labels[name + below] = 2 << (2 * axis)
        labels[name + beyond] = 4 << (2 * axis)
    return labels


def describe_flags(bits: int, kinds: Sequence[str]) -> str:
    """The labels of a flag mask (`region_labels`), comma separated.

    Examples
    --------
    >>> describe_flags(1 | 8, ("T1_IR", "T2"))
    'T1<T2/2,T2<first echo'
    >>> describe_flags(0, ("T1_IR", "T2"))
    ''
    """
    return ",".join(label for label, bit in region_labels(kinds).items() if int(bits) & bit)


def physics_regions(
    grid1: np.ndarray,
    grid2: np.ndarray | None,
    kinds: Sequence[str],
    tau1: np.ndarray,
    tau2: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Boolean masks of the map cells the physics forbids or the acquisition cannot see.

    Parameters
    ----------
    grid1 : numpy.ndarray
        Grid of axis 1 (s, or m²/s for ``D``).
    grid2 : numpy.ndarray or None
        Grid of axis 2; None for a 1D distribution.
    kinds : sequence of str
        Kinds of the axes.
    tau1 : numpy.ndarray
        Acquisition values of axis 1 (s, or s/m²).
    tau2 : numpy.ndarray, optional
        Acquisition values of axis 2.

    Returns
    -------
    dict of str to numpy.ndarray
        Masks of the map's shape, keyed by the labels of `region_labels`: ``"T1<T2/2"``
        (T1-T2 maps: forbidden, with the margin `T1_T2_MARGIN`), and per axis
        ``"T2<first echo"``, ``"T2>last echo"``, ``"T1<first delay"``, ``"T1>last delay"``,
        ``"D<1/b_max"``, ``"D>1/b_min"`` (axes of the same kind are numbered,
        ``"T2(1)<first echo"``). Empty regions are left out.

    Examples
    --------
    >>> g = np.logspace(-4, 0, 5)
    >>> masks = physics_regions(g, g, ("T1_IR", "T2"), np.geomspace(1e-3, 1, 8),
    ...                         np.arange(1, 11) * 1e-3)
    >>> list(masks)
    ['T1<T2/2', 'T1<first delay', 'T2<first echo', 'T2>last echo']
    >>> int(masks["T1<T2/2"].sum())
    10
    """
    grids = [np.asarray(grid1, dtype=float)]
    taus = [np.asarray(tau1, dtype=float)]
    if grid2 is not None:
        grids.append(np.asarray(grid2, dtype=float))
        taus.append(np.asarray(tau2, dtype=float))
    if len(kinds) != len(grids):
        raise ValueError(f"kinds {tuple(kinds)} do not match {len(grids)} grid(s)")
    shape = tuple(g.size for g in grids)
    mesh = np.meshgrid(*grids, indexing="ij")
    labels = iter(region_labels(kinds))
    masks: dict[str, np.ndarray] = {}
    if len(kinds) == 2 and kinds[0] in ("T1_IR", "T1_SR") and kinds[1] == "T2":
        masks[next(labels)] = mesh[0] < mesh[1] / T1_T2_MARGIN
    for kind, values, tau in zip(kinds, mesh, taus, strict=True):
        lo, hi = acquisition_window(kind, tau)
        masks[next(labels)] = values < lo
        masks[next(labels)] = values > hi
    return {k: np.broadcast_to(m, shape) for k, m in masks.items() if np.any(m)}


def physics_shares(F: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of the map's (non-negative) mass in each region of `physics_regions`.

    Examples
    --------
    >>> F = np.array([[1.0, 3.0], [0.0, 0.0]])
    >>> physics_shares(F, {"left": np.array([[True, False], [True, False]])})
    {'left': 0.25}
    """
    F = np.clip(np.asarray(F, dtype=float), 0.0, None)
    total = float(F.sum())
    if not total > 0:
        return {name: 0.0 for name in regions}
    return {name: float(F[mask].sum()) / total for name, mask in regions.items()}


def physics_warnings(shares: dict[str, float], threshold: float = PHYSICS_SHARE) -> list[str]:
    """One message per region holding at least ``threshold`` of the map, with the fix.

    Examples
    --------
    >>> physics_warnings({"T1<T2/2": 0.12, "T2<first echo": 0.01})[0][:38]
    '12% of the map lies at T1<T2/2, which '
    """
    out = []
    for name, share in shares.items():
        if share < threshold:
            continue
        why = (
            "which the physics forbids (T1 is never shorter than T2)"
            if name == FORBIDDEN
            else "where the acquisition cannot resolve it"
        )
        out.append(
            f"{share:.0%} of the map lies at {name}, {why}; such mass usually imitates an "
            "imperfect inversion or a baseline offset: fit them (laplace-inv invert "
            "--fit-acquisition, or laplace_inv.acquisition_model.fit_acquisition_model)"
        )
    return out

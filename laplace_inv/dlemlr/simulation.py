"""Simulated training pairs for DLEMLR over random acquisition layouts.

Every chunk of training pairs gets its own random acquisition layout (number of points, time
span, echo spacing) with the default 64-point output grids, so that one model serves any
layout. With the family ``"all"`` each chunk also draws its experiment family (IR and SR
T1-T2, T2-T2, D-T2). Maps come from `laplace_inv.simulate.PeakPrior`; noise is additive
Gaussian with an SNR drawn log-uniformly. The prior's ``t1_ge_t2`` and ``below_diagonal``
apply to the T1-T2 layouts only; an inversion efficiency range to the ``T1_IR`` layouts and a
baseline offset to the T1 layouts (IR and SR), as `laplace_inv.simulate.make_training_set`
draws them.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from laplace_inv.dlemlr.dataset import FeatureSet, make_feature_set
from laplace_inv.dlemlr.features import DEFAULT_N_ITER
from laplace_inv.dlemlr.record import FAMILIES, UNIVERSAL
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.scaling import sample_scales
from laplace_inv.simulate import PeakPrior, make_training_set

#: The training map prior (wider and sharper than the paper's σ = 0.02-decade peaks on one
#: decade; peaks may be tilted).
TRAIN_PRIOR = PeakPrior(
    n_peaks=(1, 5),
    sigma=(0.025, 0.25),
    rho=(-0.5, 0.5),
    weight=(0.2, 1.0),
    min_separation=0.12,
    margin=0.35,
)


def random_axis(kind: str, rng: np.random.Generator, direct: bool, n_grid: int = 64) -> KernelAxis:
    """A random acquisition axis of ``kind``.

    Direct (CPMG) axes: ``n2`` log-uniform in [200, 4096] echoes, echo spacing log-uniform in
    [30 µs, 1 ms]. Indirect relaxation axes: ``n1`` in [16, 64] log-spaced delays from
    [0.1, 5] ms spanning 2.5 to 4 decades. Diffusion: ``n1`` in [16, 64] b-values quadratic
    in the gradient, ``b_max`` log-uniform in [3e9, 3e11] s/m².
    """
    if direct:
        n = int(np.exp(rng.uniform(np.log(200), np.log(4096))))
        te = float(np.exp(rng.uniform(np.log(3e-5), np.log(1e-3))))
        return KernelAxis(kind, np.arange(1, n + 1) * te, n_grid=n_grid)
    n = int(rng.integers(16, 65))
    if kind == "D":
        bmax = float(np.exp(rng.uniform(np.log(3e9), np.log(3e11))))
        b = bmax * np.linspace(1.0 / n, 1.0, n) ** 2
        return KernelAxis(kind, b, n_grid=n_grid)
    tmin = float(np.exp(rng.uniform(np.log(1e-4), np.log(5e-3))))
    span = float(rng.uniform(2.5, 4.0))
    return KernelAxis(kind, np.geomspace(tmin, tmin * 10**span, n), n_grid=n_grid)


def random_layout(family: str, rng: np.random.Generator, n_grid: int = 64) -> Kernel2D:
    """A random acquisition layout of an experiment family (see `random_axis`).

    ``family="all"`` (`UNIVERSAL`, the universal model)
    first draws the family uniformly from `FAMILIES`.
    """
    if family == UNIVERSAL:
        family = sorted(FAMILIES)[int(rng.integers(len(FAMILIES)))]
    k1, k2 = FAMILIES[family]
    return Kernel2D(random_axis(k1, rng, False, n_grid), random_axis(k2, rng, True, n_grid))


def layout_prior(
    kernel: Kernel2D,
    prior: PeakPrior,
    efficiency: tuple[float, float] | None = None,
    offset: tuple[float, float] | None = None,
) -> tuple[PeakPrior, tuple[float, float] | None, tuple[float, float] | None]:
    """The map prior and acquisition ranges that apply to one layout.

    ``T1 ≥ T2`` (``t1_ge_t2``, ``below_diagonal``) is a constraint of T1-T2 maps only, an
    inversion efficiency exists on a ``T1_IR`` axis only, and baseline offsets are drawn for
    the T1 (IR and SR) layouts only.

    Parameters
    ----------
    kernel : Kernel2D
        The layout.
    prior : PeakPrior
        The training prior.
    efficiency : (float, float), optional
        Range of the inversion efficiency.
    offset : (float, float), optional
        Range of the baseline offset (fraction of ``max|S|``).

    Returns
    -------
    prior : PeakPrior
    efficiency : (float, float) or None
    offset : (float, float) or None

    Examples
    --------
    >>> k = random_layout("T2-T2", np.random.default_rng(0))
    >>> p, e, o = layout_prior(k, PeakPrior(t1_ge_t2=True), (0.6, 1.0), (-0.02, 0.02))
    >>> p.t1_ge_t2, e, o
    (False, None, None)
    """
    t1 = kernel.kinds[0].startswith("T1")
    if not t1:
        prior = dataclasses.replace(prior, t1_ge_t2=False, below_diagonal=None)
    return prior, (efficiency if "T1_IR" in kernel.kinds else None), (offset if t1 else None)


def simulate_features(
    family: str,
    n_samples: int,
    seed: int,
    *,
    chunk: int = 64,
    prior: PeakPrior = TRAIN_PRIOR,
    snr: tuple[float, float] = (30.0, 3000.0),
    oversample: int = 2,
    n_iter: int = DEFAULT_N_ITER,
    physics_target: str = "clean",
    n_grid: int = 64,
    labels: bool = False,
    n_jobs: int = 1,
    efficiency: tuple[float, float] | None = None,
    offset: tuple[float, float] | None = None,
) -> FeatureSet:
    """Simulated, normalised, featurised training pairs over random layouts.

    Chunk ``i`` (``chunk`` pairs on one random layout) is drawn from its own generator,
    seeded by ``(seed, i)``, so the result does not depend on ``n_jobs``. ``labels`` adds each
    bin's peak region (for the ``w_mass`` loss term); the pairs themselves do not change.
    ``efficiency`` (a range drawn per map, for example ``(0.6, 1.0)``) applies to the
    ``T1_IR`` layouts and ``offset`` (a range of constant baselines as fractions of the
    noise-free ``max|S|``) to the T1 layouts; both None keep the ideal acquisition.

    Returns
    -------
    FeatureSet
        Features and true maps, normalised with their decay (``max|S| = 1``).
    """
    sizes = [min(chunk, n_samples - start) for start in range(0, n_samples, chunk)]
    jobs = (
        delayed(_simulate_chunk)(
            family,
            m,
            (seed, i),
            prior,
            snr,
            oversample,
            n_iter,
            physics_target,
            n_grid,
            labels,
            (efficiency, offset),
        )
        for i, m in enumerate(sizes)
    )
    return FeatureSet.concat(Parallel(n_jobs=n_jobs)(jobs))


def _simulate_chunk(
    family: str,
    m: int,
    seed: tuple[int, int],
    prior: PeakPrior,
    snr: tuple[float, float],
    oversample: int,
    n_iter: int,
    physics_target: str,
    n_grid: int,
    labels: bool,
    acquisition: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None),
) -> FeatureSet:
    rng = np.random.default_rng(seed)
    kernel = random_layout(family, rng, n_grid)
    prior, efficiency, offset = layout_prior(kernel, prior, *acquisition)
    X, Y, _, *regions = make_training_set(
        kernel,
        m,
        prior=prior,
        snr=snr,
        oversample=oversample,
        random_state=rng,
        return_labels=labels,
        efficiency=efficiency,
        offset=offset,
    )
    S = X.reshape(m, *kernel.data_shape)
    scale = np.maximum(sample_scales(S), 1e-300)
    S = S / scale[:, None, None]
    return make_feature_set(
        kernel,
        S,
        Y / scale[:, None],
        physics_target=physics_target,
        labels=regions[0] if regions else None,
        n_iter=n_iter,
        dtype=np.float16,
    )


#: The widened-prior options of ``laplace-inv train``: (option, PeakPrior field, help).
SHAPE_OPTIONS = (
    ("--broad", "broad", "probability of a broad component (FWHM in PeakPrior.broad_fwhm)"),
    ("--skew", "skew", "probability of a skewed component"),
    ("--ridge", "ridge", "probability of a ridge along T1 proportional to T2"),
    ("--continuous", "continuous", "probability of a continuous log-normal mixture"),
)


def add_prior_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the widened training prior and acquisition to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``laplace-inv train``.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_prior_arguments(p)
    >>> p.parse_args(["--broad", "0.3", "--t1-ge-t2"]).t1_ge_t2
    True
    """
    for option, field, text in SHAPE_OPTIONS:
        parser.add_argument(option, type=float, default=0.0, help=f"{text} (PeakPrior.{field})")
    parser.add_argument(
        "--t1-ge-t2",
        action="store_true",
        help="T1-T2 layouts: keep components on the physical side T1 >= T2",
    )
    parser.add_argument(
        "--below-diagonal",
        type=float,
        default=None,
        help="T1-T2 layouts: largest share of a component's mass at T1 < T2 (rejection)",
    )
    parser.add_argument(
        "--ir-efficiency-min",
        type=float,
        default=None,
        help="T1_IR layouts: inversion efficiency drawn uniformly in [min, max] per map",
    )
    parser.add_argument("--ir-efficiency-max", type=float, default=None)
    parser.add_argument(
        "--offset",
        type=float,
        default=0.0,
        help="T1 layouts: constant baseline drawn uniformly in [-offset, offset] x max|S|",
    )


def prior_from_args(args: argparse.Namespace) -> PeakPrior:
    """The training prior the options ask for (`TRAIN_PRIOR` with their changes).

    Parameters
    ----------
    args : argparse.Namespace
        Options of ``laplace-inv train``.

    Returns
    -------
    PeakPrior
        The prior (``t1_ge_t2``/``below_diagonal`` are applied per layout, see `layout_prior`).

    Examples
    --------
    >>> from laplace_inv.dlemlr.train import build_parser
    >>> prior = prior_from_args(build_parser().parse_args(["--broad", "0.3", "--t1-ge-t2"]))
    >>> prior.broad, prior.t1_ge_t2, prior.widened
    (0.3, True, True)
    """
    shape = {field: getattr(args, field) for _, field, _ in SHAPE_OPTIONS}
    return dataclasses.replace(
        TRAIN_PRIOR,
        cluster=args.cluster,
        cluster_radius=args.cluster_radius,
        pair_sigma_ratio=args.pair_sigma_ratio,
        t1_ge_t2=args.t1_ge_t2,
        below_diagonal=args.below_diagonal,
        **shape,
    )


def acquisition_from_args(
    args: argparse.Namespace,
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """The inversion-efficiency and baseline-offset ranges the options ask for.

    Parameters
    ----------
    args : argparse.Namespace
        Options of ``laplace-inv train``.

    Returns
    -------
    efficiency : (float, float) or None
    offset : (float, float) or None

    Raises
    ------
    ValueError
        Only one end of the efficiency range given, a range outside (0, 1.5], or a negative
        offset.

    Examples
    --------
    >>> from laplace_inv.dlemlr.train import build_parser
    >>> argv = ["--ir-efficiency-min", "0.6", "--ir-efficiency-max", "1", "--offset", "0.02"]
    >>> acquisition_from_args(build_parser().parse_args(argv))
    ((0.6, 1.0), (-0.02, 0.02))
    """
    lo, hi = args.ir_efficiency_min, args.ir_efficiency_max
    if (lo is None) != (hi is None):
        raise ValueError("give both --ir-efficiency-min and --ir-efficiency-max, or neither")
    efficiency = None if lo is None else (float(lo), float(hi))
    if efficiency is not None and not 0 < efficiency[0] <= efficiency[1] <= 1.5:
        raise ValueError(
            f"the inversion efficiency range must satisfy 0 < min <= max <= 1.5, got {efficiency}"
        )
    if not (np.isfinite(args.offset) and args.offset >= 0):
        raise ValueError(f"--offset must be a finite fraction >= 0, got {args.offset!r}")
    offset = (-float(args.offset), float(args.offset)) if args.offset > 0 else None
    return efficiency, offset


def acquisition_record(args: argparse.Namespace) -> dict[str, Any]:
    """What the record states about the simulated acquisition's imperfections.

    Parameters
    ----------
    args : argparse.Namespace
        Options of ``laplace-inv train``.

    Returns
    -------
    dict
        Efficiency and offset ranges and the layouts they apply to.

    Examples
    --------
    >>> from laplace_inv.dlemlr.train import build_parser
    >>> acquisition_record(build_parser().parse_args([]))["ir_efficiency"] is None
    True
    """
    efficiency, offset = acquisition_from_args(args)
    return {
        "ir_efficiency": None if efficiency is None else list(efficiency),
        "ir_efficiency_applies_to": "T1_IR-T2 layouts, uniform per map",
        "offset_fraction_of_max_abs_S": None if offset is None else list(offset),
        "offset_applies_to": "T1_IR-T2 and T1_SR-T2 layouts, uniform per map",
        "t1_ge_t2_applies_to": "T1_IR-T2 and T1_SR-T2 layouts",
    }

"""Simulated training pairs for DLEMLR over random acquisition layouts.

Every chunk of training pairs gets its own random acquisition layout (number of points, time
span, echo spacing) with the default 64-point output grids, so that one model serves any
layout. With the family ``"all"`` each chunk also draws its experiment family (IR and SR
T1-T2, T2-T2, D-T2). Maps come from `laplace_inv.simulate.PeakPrior`; noise is additive
Gaussian with an SNR drawn log-uniformly.
"""

from __future__ import annotations

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
) -> FeatureSet:
    """Simulated, normalised, featurised training pairs over random layouts.

    Chunk ``i`` (``chunk`` pairs on one random layout) is drawn from its own generator,
    seeded by ``(seed, i)``, so the result does not depend on ``n_jobs``. ``labels`` adds each
    bin's peak region (for the ``w_mass`` loss term); the pairs themselves do not change.

    Returns
    -------
    FeatureSet
        Features and true maps, normalised with their decay (``max|S| = 1``).
    """
    sizes = [min(chunk, n_samples - start) for start in range(0, n_samples, chunk)]
    jobs = (
        delayed(_simulate_chunk)(
            family, m, (seed, i), prior, snr, oversample, n_iter, physics_target, n_grid, labels
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
) -> FeatureSet:
    rng = np.random.default_rng(seed)
    kernel = random_layout(family, rng, n_grid)
    X, Y, _, *regions = make_training_set(
        kernel,
        m,
        prior=prior,
        snr=snr,
        oversample=oversample,
        random_state=rng,
        return_labels=labels,
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

"""scikit-learn scorers built on the map metrics."""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv._validation import as_real_array, check_axis_values
from laplace_inv.metrics.comparison import compare_to_truth

SCORER_METRICS: tuple[str, ...] = ("tv_distance", "position_error", "fraction_error")
"""Metrics accepted by `make_map_scorer` (all lower-is-better errors)."""


class MapScorer:
    """A scikit-learn scorer comparing predicted maps with true maps (see make_map_scorer)."""

    def __init__(
        self,
        metric: str,
        grid1: Any,
        grid2: Any,
        map_shape: tuple[int, int],
        **options: Any,
    ) -> None:
        if metric not in SCORER_METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {SCORER_METRICS}")
        self.metric = metric
        self.grid1 = check_axis_values(grid1, "grid1", allow_zero=False)
        self.grid2 = check_axis_values(grid2, "grid2", allow_zero=False)
        shape = tuple(int(v) for v in map_shape)
        if shape != (self.grid1.size, self.grid2.size):
            raise ValueError(
                f"map_shape {shape} does not match the grids ({self.grid1.size}, {self.grid2.size})"
            )
        self.map_shape = shape
        self.options = dict(options)

    def _maps(self, Y: Any, name: str) -> np.ndarray:
        arr = as_real_array(Y, name)
        n1, n2 = self.map_shape
        if arr.ndim == 3 and arr.shape[1:] == (n1, n2):
            return arr
        if arr.ndim != 2 or arr.shape[1] != n1 * n2:
            raise ValueError(
                f"{name} must have shape (n_samples, {n1 * n2}) (maps flattened in C order), "
                f"got {arr.shape}"
            )
        return arr.reshape(arr.shape[0], n1, n2)

    def score_maps(self, Y_pred: Any, Y_true: Any) -> float:
        """Mean error over samples (lower is better) between predicted and true maps."""
        P = self._maps(Y_pred, "Y_pred")
        T = self._maps(Y_true, "Y_true")
        if P.shape[0] != T.shape[0]:
            raise ValueError(f"Y_pred has {P.shape[0]} samples but Y_true has {T.shape[0]}")
        errors = [
            getattr(compare_to_truth(p, t, self.grid1, self.grid2, **self.options), self.metric)
            for p, t in zip(P, T, strict=True)
        ]
        return float(np.mean(errors))

    def __call__(self, estimator: Any, X: Any, Y_true: Any) -> float:
        """Higher-is-better score: minus the mean error of ``estimator.predict(X)``."""
        return -self.score_maps(estimator.predict(X), Y_true)

    def __repr__(self) -> str:
        return f"make_map_scorer({self.metric!r}, map_shape={self.map_shape})"


def make_map_scorer(
    metric: str,
    grid1: Any,
    grid2: Any,
    map_shape: tuple[int, int],
    **options: Any,
) -> MapScorer:
    """A scorer for ``GridSearchCV(scoring=...)`` and ``cross_val_score``.

    ``scorer(estimator, X, Y_true)`` calls ``estimator.predict(X)`` (maps flattened in C order,
    shape ``(n_samples, N1*N2)``), computes ``metric`` for each sample with
    `compare_to_truth` against ``Y_true`` and returns minus the mean, so higher is
    better as scikit-learn expects.

    Parameters
    ----------
    metric : {"tv_distance", "position_error", "fraction_error"}
        Which error to use.
    grid1 : array_like
        The map grid of axis 1 (SI units).
    grid2 : array_like
        The map grid of axis 2 (SI units).
    map_shape : tuple of int
        ``(N1, N2)``; must match the grids.
    **options
        Passed to `compare_to_truth` (``min_fraction``, ``smooth``,
        ``max_match_distance``).

    Returns
    -------
    MapScorer

    Examples
    --------
    >>> g = np.logspace(-2, 0, 4)
    >>> class Identity:
    ...     def predict(self, X):
    ...         return np.asarray(X)
    >>> scorer = make_map_scorer("tv_distance", g, g, (4, 4))
    >>> Y = np.eye(4).reshape(1, 16)
    >>> scorer(Identity(), Y, Y)
    -0.0
    """
    return MapScorer(metric, grid1, grid2, map_shape, **options)


# --------------------------------------------------------------------------------------------
# named scorers for GridSearchCV(scoring=...) and make_scorer


def _as_batch(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must hold one map per row, got shape {arr.shape}")
    return arr.reshape(arr.shape[0], -1)


def _unit_mass(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maps clipped at 0 and scaled to unit mass; also whether each had positive mass."""
    clipped = np.clip(np.nan_to_num(maps, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    # Scale by the largest entry first so that sums of huge values do not overflow.
    peak = clipped.max(axis=1, keepdims=True)
    scaled = clipped / np.where(peak > 0, peak, 1.0)
    mass = scaled.sum(axis=1, keepdims=True)
    return scaled / np.where(mass > 0, mass, 1.0), mass[:, 0] > 0


def map_similarity(
    y_true: Any,
    y_pred: Any,
    *,
    map_shape: tuple[int, int] | None = None,
    smooth: float | None = None,
) -> float:
    """Mean map similarity ``1 − TV`` between predicted and true maps, in [0, 1].

    Each map is clipped at zero and scaled to unit mass; ``TV = ½ Σ |p − q|`` is the
    total-variation distance (0 for identical maps, 1 for disjoint ones). The result is finite
    for any input: non-finite entries count as zero, an empty prediction scores 0 against a
    non-empty truth and 1 against an empty one. A peak at the right place with the right
    share scores high; a spurious or missing peak costs its mass; a peak moved by more than
    its width costs its whole mass (use ``smooth`` to give near misses partial credit).

    Parameters
    ----------
    y_true : array_like, shape (n_samples, N1*N2)
        True maps, flattened (a single map is accepted too).
    y_pred : array_like, shape (n_samples, N1*N2)
        Predicted maps.
    map_shape : tuple of int, optional
        ``(N1, N2)``; needed only with ``smooth``.
    smooth : float, optional
        Width in bins of a Gaussian blur applied to both maps before comparing.

    Returns
    -------
    float
        Higher is better; use with ``sklearn.metrics.make_scorer(map_similarity)``.

    Examples
    --------
    >>> a = np.array([[1.0, 0.0, 0.0, 0.0]])
    >>> map_similarity(a, a), map_similarity(a, a[:, ::-1]), map_similarity(a, 0.5 * a + 0.5)
    (1.0, 0.0, 0.4)
    """
    T = _as_batch(y_true, "y_true")
    P = _as_batch(y_pred, "y_pred")
    if T.shape != P.shape:
        raise ValueError(f"y_true has shape {T.shape} but y_pred has shape {P.shape}")
    if smooth:
        if map_shape is None or int(np.prod(map_shape)) != T.shape[1]:
            raise ValueError(
                f"smooth needs map_shape=(N1, N2) with N1*N2 = {T.shape[1]}, got {map_shape!r}"
            )
        from scipy import ndimage

        def blur(M: np.ndarray) -> np.ndarray:
            M = np.clip(np.nan_to_num(M, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
            M = M.reshape(-1, *map_shape)
            M = ndimage.gaussian_filter(M, sigma=(0, smooth, smooth), mode="constant")
            return M.reshape(M.shape[0], -1)

        T, P = blur(T), blur(P)
    p, p_any = _unit_mass(P)
    q, q_any = _unit_mass(T)
    tv = 0.5 * np.abs(p - q).sum(axis=1)
    tv = np.where(p_any & q_any, tv, np.where(p_any == q_any, 0.0, 1.0))
    return float(np.mean(1.0 - np.clip(tv, 0.0, 1.0)))


def map_similarity_scorer(estimator: Any, X: Any, y: Any) -> float:
    """Scorer for ``GridSearchCV(scoring=...)`` when true maps are known: `map_similarity`.

    Calls ``estimator.predict(X)`` and compares with the true maps ``y``; in [0, 1], higher
    is better. Use it to choose α (or any parameter) on simulated data with known maps.

    Parameters
    ----------
    estimator : BaseInverter
        A fitted inverter.
    X : array_like, shape (n_samples, n1*n2)
        Decays.
    y : array_like, shape (n_samples, N1*N2)
        The true maps.

    Returns
    -------
    float

    Examples
    --------
    >>> class Identity:
    ...     def predict(self, X):
    ...         return np.asarray(X)
    >>> map_similarity_scorer(Identity(), np.eye(3), np.eye(3))
    1.0
    """
    if y is None:
        raise ValueError(
            "map_similarity_scorer needs the true maps y; without them use "
            "gcv_stability_scorer (or discrepancy_scorer)"
        )
    return map_similarity(y, estimator.predict(X))


def discrepancy_scorer(estimator: Any, X: Any, y: Any = None) -> float:
    """Scorer for choosing α without true maps: minus the distance to the discrepancy rule.

    For each decay ``S`` with fit ``K1 F K2ᵀ``, the noise σ is estimated from the data outside
    the kernels' range, and the in-range misfit is measured on the compressed data,
    ``χ² = ‖U1ᵀ (S − K1 F K2ᵀ) U2‖² / (σ² r1 r2)``, which is 1 when the fit leaves exactly
    the noise of the ``r1 r2`` in-range components (the discrepancy principle), about 0 when
    the map fits the noise (too small α) and large when it is over-smoothed. The score is
    ``−mean |χ² − 1|``: at most 0, finite, and it does not favour the smallest α (unlike a
    plain residual). ``y`` is ignored, so it works in ``GridSearchCV`` without true maps.

    Parameters
    ----------
    estimator : BaseInverter
        A fitted inverter (its ``kernel`` and ``predict`` are used).
    X : array_like, shape (n_samples, n1*n2)
        Decays.
    y : None
        Ignored.

    Returns
    -------
    float

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
    >>> from laplace_inv.simulate import make_training_set
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=24),
    ...              KernelAxis("T2", np.arange(1, 301) * 1e-3, n_grid=24))
    >>> X, _, _ = make_training_set(k, 3, snr=300, random_state=0)
    >>> L = k.compress().lipschitz
    >>> fits, smooth = (discrepancy_scorer(TikhonovInverter(k, penalty="global", alpha=a * L), X)
    ...                 for a in (1e-8, 1e-2))
    >>> -0.2 < fits <= 0, smooth < -100
    (True, True)
    """
    kernel = estimator.kernel
    n1, n2 = kernel.data_shape
    S = np.asarray(X, dtype=float).reshape(-1, n1, n2)
    maps = np.asarray(estimator.predict(S.reshape(len(S), -1))).reshape(-1, *kernel.map_shape)
    comp = kernel.compress(getattr(estimator, "rtol", 1e-8))
    r = comp.shape[0] * comp.shape[1]
    dof = n1 * n2 - r
    if dof <= 0:
        raise ValueError("the data have no degrees of freedom outside the kernels' range")
    gaps = []
    for s, F in zip(S, maps, strict=True):
        scale = float(np.abs(s).max())
        if not scale > 0:
            gaps.append(0.0)
            continue
        sn = s / scale
        sigma2 = (comp.out_of_range_norm(sn) ** 2) / dof
        misfit = comp.project(sn) - comp.forward(F / scale)
        chi2 = float(np.sum(misfit**2)) / (max(sigma2, 1e-300) * r)
        gaps.append(abs(chi2 - 1.0) if np.isfinite(chi2) else 1e300)
    return -float(np.mean(gaps))


#: Weight of the map's stability in `gcv_stability_scorer` (GCV is about 1 at a good fit).
STABILITY_WEIGHT = 0.1

#: Seed of the in-range noise draw: every candidate of a search sees the same draw.
PERTURBATION_SEED = 0


def gcv_stability_scorer(estimator: Any, X: Any, y: Any = None) -> float:
    """Scorer for choosing α without true maps: minus GCV, plus the map's stability.

    Each decay ``S`` (scaled to ``max|S| = 1``, noise σ estimated outside the kernels'
    range) is inverted twice: as given, giving ``F``, and with a draw of in-range noise of
    the same level added, ``S + σ·U1 Z U2ᵀ``, giving ``F'``. With the compressed misfit
    ``‖r‖² = ‖U1ᵀ S U2 − K̃1 F K̃2ᵀ‖²`` over ``n = r1·r2`` components:

    - the degrees of freedom are the Monte-Carlo divergence
      ``df = Σ Z ⊙ K̃1 (F' − F) K̃2ᵀ / σ`` (exact for a linear method, unbiased for any
      other), and ``GCV = n‖r‖² / (σ² (n − df)²)``, about 1 for a fit that leaves the noise;
      it rises when the map is over-smoothed (the misfit grows) and when it fits the noise
      (``df`` grows);
    - the stability is ``1 − TV(F, F')`` (`map_similarity`): how much of the map survives
      a second noise draw. GCV cannot see the map's components that the data do not
      constrain, so under-smoothed maps tie on GCV; the stability breaks those ties in
      favour of the map that the noise does not move.

    The score is ``−mean GCV + 0.1 · mean stability`` (`STABILITY_WEIGHT`): finite, higher
    is better, about −0.9 at a good α. The noise draw is seeded, so every candidate of a
    search sees the same one. ``y`` is ignored, so it works in ``GridSearchCV`` without true
    maps; it costs two ``predict`` calls.

    Parameters
    ----------
    estimator : BaseInverter
        A fitted inverter (its ``kernel`` and ``predict`` are used).
    X : array_like, shape (n_samples, n1*n2)
        Decays; they need more points than the kernels' rank (``n1*n2 > r1*r2``).
    y : None
        Ignored.

    Returns
    -------
    float

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
    >>> from laplace_inv.simulate import make_training_set
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=16),
    ...              KernelAxis("T2", np.arange(1, 201) * 1e-3, n_grid=16))
    >>> X, _, _ = make_training_set(k, 3, snr=30, random_state=0)
    >>> est = TikhonovInverter(k, penalty="global", alpha_scale="noise")
    >>> good, smooth = (gcv_stability_scorer(est.set_params(alpha=a), X) for a in (0.1, 100))
    >>> -1.2 < good < -0.8, smooth < good
    (True, True)
    """
    kernel = estimator.kernel
    n1, n2 = kernel.data_shape
    S = np.asarray(X, dtype=float).reshape(-1, n1, n2)
    comp = kernel.compress(getattr(estimator, "rtol", 1e-8))
    n = comp.shape[0] * comp.shape[1]
    if n1 * n2 - n <= 0:
        raise ValueError("the data have no degrees of freedom outside the kernels' range")
    scales = np.abs(S).reshape(len(S), -1).max(axis=1)
    scales = np.where(scales > 0, scales, 1.0)
    dof = n1 * n2 - n
    sigmas = np.array([_noise_level(comp, s / c, dof) for s, c in zip(S, scales, strict=True)])
    Z = np.random.default_rng(PERTURBATION_SEED).standard_normal((len(S), *comp.shape))
    kicks = (scales * sigmas)[:, None, None] * (comp.U1 @ Z @ comp.U2.T)
    both = np.concatenate([S, S + kicks]).reshape(2 * len(S), -1)
    maps = np.asarray(estimator.predict(both), dtype=float).reshape(2, len(S), *kernel.map_shape)
    F = maps[0] / scales[:, None, None]
    F_kicked = maps[1] / scales[:, None, None]
    misfit = np.sum((comp.project(S / scales[:, None, None]) - comp.forward(F)) ** 2, axis=(1, 2))
    df = np.sum(Z * comp.forward(F_kicked - F), axis=(1, 2)) / sigmas
    gcv = n * misfit / (sigmas**2 * np.maximum(n - df, 1.0) ** 2)
    gcv = np.where(np.isfinite(gcv), np.minimum(gcv, 1e300), 1e300)
    stability = map_similarity(maps[0].reshape(len(S), -1), maps[1].reshape(len(S), -1))
    return float(-np.mean(gcv) + STABILITY_WEIGHT * stability)


def _noise_level(comp: Any, s: np.ndarray, dof: int) -> float:
    """σ of one scaled dataset from its out-of-range part (floored so that it stays > 0)."""
    return max(float(comp.out_of_range_norm(s)) / np.sqrt(dof), 1e-12)


SCORERS: dict[str, Any] = {
    "map_similarity": map_similarity_scorer,
    "discrepancy": discrepancy_scorer,
    "gcv_stability": gcv_stability_scorer,
}
"""Named scorers: ``GridSearchCV(est, grid, scoring=SCORERS["gcv_stability"])``."""

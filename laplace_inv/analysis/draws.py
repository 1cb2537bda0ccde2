"""Bootstrap draws of a fitted map: re-inversion of noisy copies, or a linear response.

Two ways to draw maps ``F_b`` that vary as the estimate would under fresh noise:

* `resampled_maps`: the parametric bootstrap proper. The fitted decay ``K1 F K2ᵀ`` plus
  white Gaussian noise at the estimated level is inverted again, all draws in one call to the
  estimator's ``predict`` (one batch for DLEMLR). Exact for any estimator, and it costs one
  inversion per draw.
* `linear_response_maps`: for global Tikhonov with the α it chose. On the positive bins ``P``
  of the map (the active set of the non-negativity constraint) the solution is linear in the
  compressed data, ``δF_P = K_Pᵀ (K_P K_Pᵀ + αI)⁻¹ δs``, so draws cost one small solve for
  any number of draws. Drawn maps are clipped at zero. It holds α and the active set fixed:
  the variability of the α choice itself and of bins entering the active set is left out
  (the calibration absorbs what that misses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve

__all__ = ["linear_response_maps", "resampled_maps", "supports_linear_response"]


def supports_linear_response(estimator: Any, info: dict) -> bool:
    """Whether `linear_response_maps` applies: global Tikhonov that reports its α.

    Examples
    --------
    >>> supports_linear_response(object(), {})
    False
    """
    return (
        type(estimator).__name__ == "TikhonovInverter"
        and getattr(estimator, "penalty", None) == "global"
        and "alpha" in info
    )


def resampled_maps(
    estimator: Any,
    fit: np.ndarray,
    noise_std: float,
    n_draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Maps of ``n_draws`` noisy copies of ``fit``, inverted in one ``predict`` call.

    Parameters
    ----------
    estimator : BaseInverter
        The fitted estimator.
    fit : numpy.ndarray, shape (n1, n2)
        The decay the fitted map predicts.
    noise_std : float
        Standard deviation of the white Gaussian noise added to each copy (data units).
    n_draws : int
        Number of copies.
    rng : numpy.random.Generator
        Source of the noise.

    Returns
    -------
    numpy.ndarray, shape (n_draws, N1, N2)

    Examples
    --------
    >>> from laplace_inv import TikhonovInverter
    >>> from laplace_inv.simulate import cement_like
    >>> sc = cement_like(snr=100)
    >>> est = TikhonovInverter(sc.kernel, penalty="global", alpha=10.0)
    >>> resampled_maps(est, sc.clean, sc.noise_std, 2, np.random.default_rng(0)).shape
    (2, 64, 64)
    """
    noisy = fit[None] + noise_std * rng.standard_normal((n_draws, *fit.shape))
    maps = np.asarray(estimator.predict(noisy.reshape(n_draws, -1)), dtype=float)
    return maps.reshape(n_draws, *estimator.kernel.map_shape)


def linear_response_maps(
    kernel: Any,
    F: np.ndarray,
    alpha: float,
    noise_std: float,
    n_draws: int,
    rng: np.random.Generator,
    rtol: float = 1e-8,
) -> np.ndarray:
    """Draws of a global-Tikhonov map by its linear response to compressed noise.

    Parameters
    ----------
    kernel : Kernel2D
        The kernel of the inversion.
    F : numpy.ndarray, shape (N1, N2)
        The fitted map.
    alpha : float
        The α of the fit, for data normalised to ``max|S| = 1`` (``info["alpha"]``); the
        response is the same in any data scale.
    noise_std : float
        Noise standard deviation in data units.
    n_draws : int
        Number of draws.
    rng : numpy.random.Generator
        Source of the noise.
    rtol : float
        Singular-value threshold of the compression (the estimator's ``rtol``).

    Returns
    -------
    numpy.ndarray, shape (n_draws, N1, N2)
        Non-negative maps.

    Examples
    --------
    >>> from laplace_inv import TikhonovInverter
    >>> from laplace_inv.simulate import cement_like
    >>> sc = cement_like(snr=100)
    >>> res = TikhonovInverter(sc.kernel, penalty="global", alpha=10.0).invert(sc.data)
    >>> draws = linear_response_maps(sc.kernel, res.map, res.info["alpha"], sc.noise_std, 50,
    ...                              np.random.default_rng(0))
    >>> draws.shape, bool(draws.min() >= 0)
    ((50, 64, 64), True)
    """
    comp = kernel.compress(rtol)
    active = np.flatnonzero(F.ravel() > 0)
    out = np.repeat(F[None], n_draws, axis=0)
    if active.size == 0:
        return out
    # Rows of K̃1 ⊗ K̃2 restricted to the active bins: K_P[(i, j), (k, l)] = K1[i, k] K2[j, l].
    rows1, cols1 = np.divmod(active, F.shape[1])
    K_P = (comp.K1[:, rows1][:, None, :] * comp.K2[:, cols1][None, :, :]).reshape(-1, active.size)
    gram = K_P @ K_P.T
    gram[np.diag_indices_from(gram)] += float(alpha)
    factor = cho_factor(gram, lower=True, check_finite=False)
    noise = noise_std * rng.standard_normal((K_P.shape[0], n_draws))
    delta = K_P.T @ cho_solve(factor, noise, check_finite=False)  # (n_active, n_draws)
    flat = out.reshape(n_draws, -1)
    flat[:, active] += delta.T
    np.clip(out, 0.0, None, out=out)
    return out

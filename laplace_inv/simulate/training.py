"""Vectorised training pairs: random maps, their data through a kernel, and noise."""

from __future__ import annotations

import numpy as np

from laplace_inv._validation import as_real_array
from laplace_inv.kernels import Kernel2D
from laplace_inv.simulate.forward import _ir_axis_index, with_ir_efficiency
from laplace_inv.simulate.peaks import (
    _component_labels,
    _quadratic_form,
    _render_batch,
    _render_form,
    _skew_log_factor,
)
from laplace_inv.simulate.prior import PeakPrior
from laplace_inv.simulate.sampling import sample_components

__all__ = ["make_training_set"]


def make_training_set(
    kernel: Kernel2D,
    n_samples: int,
    *,
    prior: PeakPrior | None = None,
    snr: tuple[float, float] | float = (30.0, 3000.0),
    oversample: int = 1,
    random_state: int | np.random.Generator | None = None,
    return_clean: bool = False,
    return_labels: bool = False,
    chunk_size: int = 512,
    efficiency: tuple[float, float] | float | None = None,
    offset: tuple[float, float] | float | None = None,
    return_acquisition: bool = False,
) -> tuple[np.ndarray, ...]:
    """Vectorised (decay, map) training pairs.

    Parameters
    ----------
    kernel : Kernel2D
        Acquisition and output grids.
    n_samples : int
        Number of pairs.
    prior : PeakPrior, optional
        Distribution of maps (default ``PeakPrior()``).
    snr : float or (low, high)
        Fixed SNR, or a range sampled log-uniformly per sample.
    oversample : int
        Fine-grid factor for the data (1 is fastest).
    random_state : int or Generator, optional
        Seed.
    return_clean : bool
        Also return the noise-free data.
    return_labels : bool
        Also return, for every output bin, the index of the component whose weighted density
        is largest there (a partition of the map into one region per component; the
        log-normals of a continuous component share one region).
    chunk_size : int
        Maps rendered at once (memory: ``chunk_size·P·N1·N2`` floats).
    efficiency : float or (low, high), optional
        Inversion efficiency of the kernel's ``T1_IR`` axis, fixed or drawn uniformly per map
        (for example ``(0.6, 1.0)``); the data come from `KernelAxis.with_efficiency`. None
        (the default) keeps the kernel's own. Kernels without a ``T1_IR`` axis reject it.
    offset : float or (low, high), optional
        Constant baseline added to each map's data, as a fraction of its noise-free
        ``max|S|``, fixed or drawn uniformly per map (for example ``(-0.02, 0.02)``). The
        noise level is set from the data before the offset. None (the default) adds none.
    return_acquisition : bool
        Also return each map's efficiency and offset (in data units), shape
        ``(n_samples, 2)``, last.

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n1*n2)
        Noisy decays.
    Y : numpy.ndarray, shape (n_samples, N1*N2)
        True maps (weights sum to 1).
    sigma : numpy.ndarray, shape (n_samples,)
        Noise standard deviations.
    X_clean : numpy.ndarray, optional
        Noise-free decays (offset included), when ``return_clean``.
    labels : numpy.ndarray of int8, shape (n_samples, N1*N2), optional
        The component regions, when ``return_labels`` (after ``X_clean`` if both are asked).
    acquisition : numpy.ndarray, shape (n_samples, 2), optional
        ``(efficiency, offset)`` per map, when ``return_acquisition``.

    Examples
    --------
    >>> from laplace_inv.kernels import KernelAxis
    >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 12)),
    ...              KernelAxis("T2", np.arange(1, 101) * 1e-3))
    >>> X, Y, sigma = make_training_set(k, 4, random_state=0)
    >>> X.shape, Y.shape, sigma.shape
    ((4, 1200), (4, 4096), (4,))
    >>> *_, acq = make_training_set(k, 3, efficiency=(0.6, 1.0), offset=(-0.02, 0.02),
    ...                             random_state=0, return_acquisition=True)
    >>> bool(np.all((acq[:, 0] >= 0.6) & (acq[:, 0] <= 1.0)))
    True
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    prior = prior or PeakPrior()
    if efficiency is not None:
        _ir_axis_index(kernel)
    rng = np.random.default_rng(random_state)
    comps = _draw_maps(prior, kernel, n_samples, rng)
    snrs = _draw_snrs(snr, n_samples, rng)
    eff = None if efficiency is None else _draw_range(efficiency, "efficiency", n_samples, rng)
    if eff is not None and not np.all((eff > 0) & (eff <= 1.5)):
        raise ValueError(f"efficiency must lie in (0, 1.5], got {efficiency!r}")
    off = None if offset is None else _draw_range(offset, "offset", n_samples, rng)
    X, Y, labels = _render_and_forward(
        kernel, comps, oversample, chunk_size, return_labels, eff, prior.widened
    )
    peak = np.abs(X).reshape(n_samples, -1).max(axis=1)
    sigma = peak / snrs
    if off is not None:
        X += (off * peak)[:, None, None]
    clean = X.copy() if return_clean else None
    X += sigma[:, None, None] * rng.standard_normal(X.shape)
    out: tuple[np.ndarray, ...] = (X.reshape(n_samples, -1), Y.reshape(n_samples, -1), sigma)
    if clean is not None:
        out = (*out, clean.reshape(n_samples, -1))
    if labels is not None:
        out = (*out, labels.reshape(n_samples, -1))
    if return_acquisition:
        acq = np.column_stack(
            [
                np.ones(n_samples) if eff is None else eff,
                np.zeros(n_samples) if off is None else off * peak,
            ]
        )
        out = (*out, acq)
    return out


def _draw_maps(
    prior: PeakPrior, kernel: Kernel2D, n_samples: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Component parameters of ``n_samples`` maps, padded with weight-0 components."""
    drawn = [sample_components(prior, kernel, rng) for _ in range(n_samples)]
    P = max([prior.n_peaks[1], *(sum(len(c) for c in comps) for comps in drawn)])
    arrays: dict[str, np.ndarray] = {
        "centers": np.zeros((n_samples, P, 2)),
        "sigmas": np.ones((n_samples, P, 2)),
        "weights": np.zeros((n_samples, P)),
        "rhos": np.zeros((n_samples, P)),
        "skews": np.zeros((n_samples, P, 2)),
        "groups": np.zeros((n_samples, P), dtype=np.int8),
    }
    for i, comps in enumerate(drawn):
        j = 0
        for g, comp in enumerate(comps):
            for p in comp:
                arrays["centers"][i, j], arrays["sigmas"][i, j] = p.center, p.sigma
                arrays["weights"][i, j], arrays["rhos"][i, j] = p.weight, p.rho
                arrays["skews"][i, j], arrays["groups"][i, j] = p.skew, g
                j += 1
    return arrays


def _draw_snrs(snr: tuple[float, float] | float, n: int, rng: np.random.Generator) -> np.ndarray:
    snr_arr = as_real_array(snr, "snr")
    if (
        snr_arr.shape not in ((), (2,))
        or not np.all(np.isfinite(snr_arr))
        or not np.all(snr_arr > 0)
        or (snr_arr.ndim == 1 and snr_arr[0] > snr_arr[1])
    ):
        raise ValueError(
            f"snr must be a positive number or a range (low, high) with "
            f"0 < low <= high, got {snr!r}"
        )
    if snr_arr.ndim == 0:
        return np.full(n, float(snr_arr))
    lo, hi = np.log(snr_arr[0]), np.log(snr_arr[1])
    return np.exp(rng.uniform(lo, hi, n))


def _draw_range(
    value: tuple[float, float] | float, name: str, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``value`` for every map, or a uniform draw per map in the range ``(low, high)``."""
    arr = as_real_array(value, name)
    if (
        arr.shape not in ((), (2,))
        or not np.all(np.isfinite(arr))
        or (arr.ndim and arr[0] > arr[1])
    ):
        raise ValueError(f"{name} must be a number or a range (low, high), got {value!r}")
    if arr.ndim == 0:
        return np.full(n, float(arr))
    return rng.uniform(arr[0], arr[1], n)


def _render_and_forward(
    kernel: Kernel2D,
    comps: dict[str, np.ndarray],
    oversample: int,
    chunk_size: int,
    return_labels: bool,
    efficiency: np.ndarray | None,
    grouped: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Maps on the output grid, their data (fine grid when ``oversample > 1``), labels."""
    n_samples = comps["weights"].shape[0]
    sim_kernel = kernel.refined(oversample) if oversample > 1 else kernel
    l1, l2 = kernel.axis1.log_grid, kernel.axis2.log_grid
    lf1, lf2 = sim_kernel.axis1.log_grid, sim_kernel.axis2.log_grid
    X = np.empty((n_samples, *kernel.data_shape))
    Y = np.empty((n_samples, *kernel.map_shape))
    labels = np.empty((n_samples, *kernel.map_shape), dtype=np.int8) if return_labels else None
    for start in range(0, n_samples, chunk_size):
        sl = slice(start, start + chunk_size)
        c, s, w, r, a = (comps[k][sl] for k in ("centers", "sigmas", "weights", "rhos", "skews"))
        # The quadratic form is the costly part of rendering: the labels reuse it.
        q, norm = _quadratic_form(c, s, r, l1, l2)
        log_skew = _skew_log_factor(c, s, a, l1, l2)
        Y[sl] = _render_form(q, norm, w, l1, l2, log_skew)
        if labels is not None:
            lab = _component_labels(q, norm, w, log_skew)
            if grouped:
                lab = np.take_along_axis(comps["groups"][sl], lab.reshape(len(lab), -1), axis=1)
            labels[sl] = lab.reshape(labels[sl].shape)
        F_sim = Y[sl] if oversample <= 1 else _render_batch(c, s, w, r, lf1, lf2, a)
        if efficiency is None:
            X[sl] = sim_kernel.K1 @ F_sim @ sim_kernel.K2.T
        else:
            X[sl] = _forward_at_efficiency(sim_kernel, F_sim, efficiency[sl])
    return X, Y, labels


def _forward_at_efficiency(kernel: Kernel2D, F: np.ndarray, efficiency: np.ndarray) -> np.ndarray:
    """``K1(e) F K2(e)ᵀ`` for one efficiency per map.

    The ``T1_IR`` kernel is affine in ``e``, so two kernels built by `with_ir_efficiency`
    (at ``e = 1/2`` and ``1``) give it at any ``e`` with two products per map.
    """
    ir = _ir_axis_index(kernel)
    at_half, at_one = with_ir_efficiency(kernel, 0.5), with_ir_efficiency(kernel, 1.0)
    t = ((efficiency - 0.5) / 0.5)[:, None, None]
    if ir == 0:  # mix the small products K1(e) F first, then one product with K2
        H = at_half.K1 @ F + t * ((at_one.K1 - at_half.K1) @ F)
        return H @ kernel.K2.T
    G = kernel.K1 @ F
    return G @ at_half.K2.T + t * (G @ (at_one.K2 - at_half.K2).T)

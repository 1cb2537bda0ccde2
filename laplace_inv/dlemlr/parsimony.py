"""The parsimony option of DLEMLR's data-consistency step: a smoother map, unless the data object.

With ``smoothing = w`` (decades), the data-consistency step runs twice per map: from the
network's map and from that map blurred by a Gaussian of standard deviation ``w`` along both
log axes (mass kept). The blurred run's result is kept unless its misfit exceeds the other's
by more than `REJECT_SIGMAS` standard deviations of χ² over the kernels' range,
``√(2·r1·r2)``: a split, a spike or a sharp edge of the network's map that the data do not
require is then merged or smoothed, and one the data require stays.
"""

from __future__ import annotations

import numpy as np
import torch

#: A blurred run is rejected when its χ² exceeds the unblurred run's by more than this many
#: standard deviations of χ² (chosen on simulated maps from seeds apart from the benchmarks':
#: ``bench_dlemlr_prior --variants --seed-offset 555``).
REJECT_SIGMAS = 20.0

#: Largest accepted ``smoothing`` (decades): wider blurs merge what the data resolve.
MAX_SMOOTHING = 0.5


def log_blur(n: int, sigma: float) -> np.ndarray:
    """``(n, n)`` Gaussian blur of width ``sigma`` (grid steps) whose columns sum to one, so
    that ``B @ x`` keeps the mass of ``x``; the identity for ``sigma = 0``.

    Parameters
    ----------
    n : int
        Grid points.
    sigma : float
        Standard deviation in grid steps.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The blur.

    Examples
    --------
    >>> B = log_blur(5, 1.0)
    >>> bool(np.allclose(B.sum(axis=0), 1.0)), log_blur(3, 0.0).tolist()[0]
    (True, [1.0, 0.0, 0.0])
    """
    if sigma <= 0:
        return np.eye(n)
    x = np.arange(n)
    B = np.exp(-0.5 * ((x[:, None] - x[None, :]) / sigma) ** 2)
    return B / B.sum(axis=0, keepdims=True)


def grid_blurs(grid1: np.ndarray, grid2: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The per-axis blurs of `log_blur` for ``width`` decades on geometric grids.

    Parameters
    ----------
    grid1 : numpy.ndarray
        Axis-1 grid (geometric).
    grid2 : numpy.ndarray
        Axis-2 grid (geometric).
    width : float
        Standard deviation of the blur in decades.

    Returns
    -------
    tuple of numpy.ndarray
        ``(B1, B2)``: a map ``F`` blurs to ``B1 F B2ᵀ``.

    Examples
    --------
    >>> g = np.geomspace(1e-3, 1.0, 31)  # 0.1 decade per step
    >>> B1, B2 = grid_blurs(g, g, 0.1)
    >>> np.allclose(B1, log_blur(31, 1.0))
    True
    """
    blurs = []
    for grid in (np.asarray(grid1, float), np.asarray(grid2, float)):
        n = len(grid)
        step = np.log10(grid[-1] / grid[0]) / (n - 1) if n > 1 else 1.0
        blurs.append(log_blur(n, width / step if step > 0 else 0.0))
    return blurs[0], blurs[1]


def keep_smoother(
    chi2_smooth: torch.Tensor,
    chi2_plain: torch.Tensor,
    rank: tuple[int, int],
    sigmas: float = REJECT_SIGMAS,
) -> torch.Tensor:
    """Per map, whether the blurred run's result stands (its χ² not rejected).

    Parameters
    ----------
    chi2_smooth : torch.Tensor, shape (n,)
        χ² (in noise units) of the run from the blurred map.
    chi2_plain : torch.Tensor, shape (n,)
        χ² of the run from the network's map.
    rank : tuple of int
        ``(r1, r2)`` of the compressed kernel.
    sigmas : float
        The rejection threshold in standard deviations of χ² (default `REJECT_SIGMAS`).

    Returns
    -------
    torch.Tensor of bool, shape (n,)

    Examples
    --------
    >>> keep_smoother(torch.tensor([1010.0, 3000.0]), torch.tensor([1000.0, 1000.0]), (20, 20))
    tensor([ True, False])
    """
    spread = float(np.sqrt(2.0 * rank[0] * rank[1]))
    return chi2_smooth - chi2_plain <= sigmas * spread

"""Default output grids: the span an acquisition axis can resolve, one rule for 1D and 2D.

Every kind decays with a dimensionless exponent: ``t/T`` for relaxation (``T2``, ``T1_IR``,
``T1_SR``) and ``b·D`` for diffusion, so ``1/D`` plays the part of a relaxation time with
the b-value as its "time". A component is seen by the data only when

- it has not vanished by the first positive acquisition point ``t_min`` (fast end), and
- it has changed measurably by the last point ``t_max`` (slow end); slower components are a
  constant the data cannot tell from a baseline.

So the grid spans ``[t_min/fast, slow·t_max]`` in relaxation time, i.e.
``[1/(slow·b_max), fast/b_min]`` in D, with the margins of `GRID_MARGINS`.
`laplace_inv.kernels.default_grid` lays a log-spaced grid over that span.
"""

from __future__ import annotations

import numpy as np

DEFAULT_GRID_SIZE = 64
"""Grid points per axis when none is given."""

GRID_MARGINS: dict[str, tuple[float, float]] = {
    "T2": (5.0, 3.0),
    "T1_IR": (5.0, 3.0),
    "T1_SR": (5.0, 3.0),
    "D": (10.0, 10.0),
}
"""``(fast, slow)`` margin of each kind beyond the acquisition window.

Relaxation: ``exp(−5)`` (0.7 %) of a component with ``T = t_min/5`` is left at the first
point, and one with ``T = 3·t_max`` has decayed by 28 % at the last. Diffusion keeps the
package's earlier, wider tenfold margin on both ends (``exp(−10)`` at the first b, 10 %
attenuation at the last), so that existing D grids do not move.
"""


def grid_range(kind: str, tau: np.ndarray) -> tuple[float, float]:
    """The ``(lo, hi)`` span of the default grid of one axis (s, or m²/s for ``D``).

    Parameters
    ----------
    kind : {"T2", "T1_IR", "T1_SR", "D"}
        The kernel kind.
    tau : numpy.ndarray
        Acquisition values (s, or s/m² for ``D``); zeros (b = 0, t = 0) are ignored.

    Returns
    -------
    tuple of float
        Relaxation: ``(t_min/fast, slow·t_max)``; diffusion: ``(1/(slow·b_max),
        fast/b_min)``, with ``t_min``/``b_min`` the smallest positive value and the margins
        of `GRID_MARGINS`.

    Examples
    --------
    >>> [float(v) for v in grid_range("T2", np.array([1e-3, 0.5]))]
    [0.0002, 1.5]
    >>> [f"{v:.3g}" for v in grid_range("D", np.array([0.0, 1e8, 4e8, 9e8]))]
    ['1.11e-10', '1e-07']
    """
    if kind not in GRID_MARGINS:
        raise ValueError(f"unknown kernel kind {kind!r}; expected one of {tuple(GRID_MARGINS)}")
    tau = np.asarray(tau, dtype=float)
    positive = tau[tau > 0]
    if positive.size == 0:
        raise ValueError("tau has no positive values; cannot choose a default grid")
    t_min, t_max = float(positive.min()), float(positive.max())
    fast, slow = GRID_MARGINS[kind]
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        if kind == "D":
            lo, hi = 1.0 / (slow * t_max), fast / t_min
        else:
            lo, hi = t_min / fast, slow * t_max
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(
            f"cannot choose a default {kind} grid for acquisition values in "
            f"[{t_min:g}, {t_max:g}] (the grid bounds over- or underflow); give the grid "
            "explicitly"
        )
    return float(lo), float(hi)

"""Zooming figures on the part of the grid that holds signal (``limits``)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from laplace_inv.plotting import plot_comparison, plot_map
from laplace_inv.plotting.extent import auto_limits, resolve_limits

LG = np.linspace(-4.0, 0.0, 41)
G = 10.0**LG


def one_spot(row: int, col: int) -> np.ndarray:
    F = np.zeros((LG.size, LG.size))
    F[row, col] = 1.0
    F[row + 1, col] = 0.5
    return F


def test_auto_limits_cover_every_map_with_a_margin():
    (lo1, hi1), (lo2, hi2) = auto_limits([one_spot(20, 10), one_spot(5, 30)], G, G, margin=0.3)
    assert np.log10([lo1, hi1]) == pytest.approx([LG[5] - 0.3, LG[21] + 0.3])
    assert np.log10([lo2, hi2]) == pytest.approx([LG[10] - 0.3, LG[30] + 0.3])
    # A pixel below the depth does not widen the view; the grid bounds the margin.
    F = one_spot(20, 10)
    F[0, 0] = 1e-4
    (lo1, _), _ = auto_limits([F], G, G, depth=2.0, margin=10.0)
    assert np.log10(lo1) == pytest.approx(LG[0] - 0.05)
    empty = auto_limits([np.zeros((41, 41))], G, G)
    assert empty == ((G[0], G[-1]), (G[0], G[-1]))


def test_resolve_limits_checks_its_input():
    assert resolve_limits(None, [], G, G) is None
    with pytest.raises(ValueError, match="'auto'"):
        resolve_limits("tight", [], G, G)
    with pytest.raises(ValueError, match="low1, high1"):
        resolve_limits((1e-3, 1e-1), [], G, G)
    with pytest.raises(ValueError, match="low < high"):
        resolve_limits(((1e-1, 1e-3), (1e-4, 1e-2)), [], G, G)


def test_plots_zoom_to_the_signal():
    F = one_spot(20, 10)
    fig = plot_map(F, G, G, ("T1_IR", "T2"), limits="auto", peaks="auto")
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()  # ms
    assert np.log10(x0 / 1e3) == pytest.approx(LG[10] - 0.4)
    assert np.log10(x1 / 1e3) == pytest.approx(LG[10] + 0.4)
    fig = plot_comparison(
        [("A", F), ("B", one_spot(30, 30))], G, G, ("T2", "T2"), limits=((1e-3, 1e-1), (1e-3, 1e-1))
    )
    mains = [a for a in fig.axes if a.get_xlabel()]
    assert len(mains) == 2
    for ax in mains:
        assert ax.get_ylim() == pytest.approx((1.0, 100.0))  # ms

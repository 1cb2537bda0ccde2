"""Tests for laplace_inv.plotting: figures are built, labelled, saved and closed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from laplace_inv.metrics import Peak, find_peaks
from laplace_inv.plotting import plot_comparison, plot_map, save_figure

LG1 = np.linspace(-3.0, 0.5, 18)
LG2 = np.linspace(-3.5, 0.0, 14)
G1, G2 = 10.0**LG1, 10.0**LG2


def two_peak_map(shift=0.0):
    F = np.zeros((LG1.size, LG2.size))
    for (c1, c2), amp in (((-0.5 + shift, -1.4), 1.0), ((-1.8, -2.6 + shift), 0.5)):
        row = np.exp(-0.5 * ((LG1 - c1) / 0.2) ** 2)
        col = np.exp(-0.5 * ((LG2 - c2) / 0.2) ** 2)
        F += amp * np.outer(row, col)
    return F


@pytest.fixture
def close_figures():
    figs: list[Figure] = []
    yield figs
    for fig in figs:
        plt.close(fig)


def labels(fig):
    return {a.get_xlabel() for a in fig.axes} | {a.get_ylabel() for a in fig.axes}


def test_plot_map_t1_t2(tmp_path, close_figures):
    F = two_peak_map()
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), title="map", peaks="auto", reference=F)
    close_figures.append(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4  # the map, its two projections and the colour bar
    main = fig.axes[0]
    assert main.get_xlabel() == "T2 (ms)"
    assert main.get_ylabel() == "T1 (ms)"
    assert main.get_xscale() == main.get_yscale() == "log"
    # relaxation times shown in ms: the x range covers the grid times 1e3
    lo, hi = main.get_xlim()
    assert lo < G2[0] * 1e3 < G2[-1] * 1e3 < hi
    # the T1 = T2 diagonal is drawn
    assert any(line.get_label() == "T1 = T2" for line in main.get_lines())
    # peaks are annotated with their positions
    assert len(main.texts) == len(find_peaks(F, G1, G2)) == 2
    assert "ms" in main.texts[0].get_text()
    assert any(a.get_title() == "map" for a in fig.axes)
    out = save_figure(fig, tmp_path / "nested" / "dir" / "map.png")
    assert out.exists() and out.stat().st_size > 1000


def test_plot_map_d_t2_and_units(close_figures):
    F = two_peak_map()
    g1 = np.logspace(-11, -8, LG1.size)
    fig = plot_map(F, g1, G2, ("D", "T2"), log_scale_units="s")
    close_figures.append(fig)
    main = fig.axes[0]
    assert main.get_ylabel() == "D (m²/s)"
    assert main.get_xlabel() == "T2 (s)"
    assert not any("=" in str(line.get_label()) for line in main.get_lines())  # no diagonal
    lo, hi = main.get_ylim()
    assert lo < 1e-11 and hi > 1e-8  # D kept in SI


def test_plot_map_t2_t2_with_given_peaks_on_existing_axes(close_figures):
    fig = Figure()
    close_figures.append(fig)
    ax = fig.add_subplot()
    peak = Peak.from_log_position((-1.0, -2.0), fraction=0.25)
    out = plot_map(two_peak_map(), G1, G2, ("T2", "T2"), ax=ax, peaks=[peak])
    assert out is fig
    assert labels(fig) >= {"T2,1 (ms)", "T2,2 (ms)"}
    assert "25%" in ax.texts[0].get_text()


def test_plot_comparison(tmp_path, close_figures):
    truth = two_peak_map()
    results = [("Tikhonov", two_peak_map(0.1)), ("L1", two_peak_map(-0.1))]
    fig = plot_comparison(results, G1, G2, ("T1_SR", "T2"), truth=truth, peaks="auto")
    close_figures.append(fig)
    titles = [a.get_title() for a in fig.axes if a.get_title()]
    assert titles == ["Truth", "Tikhonov", "L1"]
    assert len(fig.axes) == 10  # 3 x (map + 2 projections) + one shared colour bar
    assert sum(a.get_xlabel() == "T2 (ms)" for a in fig.axes) == 3
    path = save_figure(fig, tmp_path / "cmp.png")
    assert path.exists() and path.stat().st_size > 0
    fig2 = plot_comparison(results, G1, G2, ("T1_SR", "T2"))
    close_figures.append(fig2)
    assert len(fig2.axes) == 7


def test_all_zero_and_tiny_maps(close_figures):
    fig = plot_map(np.zeros((LG1.size, LG2.size)), G1, G2, ("T1_IR", "T2"), peaks="auto")
    close_figures.append(fig)
    fig = plot_map([[1.0]], [1e-2], [1e-1], ("T1_IR", "T2"), peaks="auto")
    close_figures.append(fig)
    assert fig.axes[0].get_xlabel() == "T2 (ms)"


def test_plotting_errors(close_figures):
    F = two_peak_map()
    with pytest.raises(ValueError, match="unknown kernel kind"):
        plot_map(F, G1, G2, ("T1", "T2"))
    with pytest.raises(ValueError, match="kinds must be a pair"):
        plot_map(F, G1, G2, "T2")
    with pytest.raises(ValueError, match="expected shape"):
        plot_map(F.T, G1, G2, ("T1_IR", "T2"))
    with pytest.raises(ValueError, match="log_scale_units"):
        plot_map(F, G1, G2, ("T1_IR", "T2"), log_scale_units="min")
    with pytest.raises(ValueError, match="peaks"):
        plot_map(F, G1, G2, ("T1_IR", "T2"), peaks="all")
    with pytest.raises(ValueError, match="reference"):
        plot_map(F, G1, G2, ("T1_IR", "T2"), reference=F[:3])
    with pytest.raises(ValueError, match="results is empty"):
        plot_comparison([], G1, G2, ("T1_IR", "T2"))
    with pytest.raises(TypeError, match="Figure"):
        save_figure("not a figure", "x.png")

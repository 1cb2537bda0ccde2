"""Tests for laplace_inv.plotting: figures are built, labelled, saved and closed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from dataclasses import dataclass
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from matplotlib.text import Text

from laplace_inv.metrics import Peak, find_peaks
from laplace_inv.plotting import (
    PEAK_THRESHOLD,
    plot_comparison,
    plot_distribution,
    plot_map,
    save_figure,
)

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


# ---- journal figures: intensity scales, regions, error bars, labels, layouts, formats -------


@dataclass(frozen=True)
class Box:
    name: str
    x1: tuple
    x2: tuple | None = None


@dataclass(frozen=True)
class Polygon:
    name: str
    vertices: tuple


@dataclass(frozen=True)
class Cutoff:
    name: str
    axis: int
    value: float
    side: str


def contour_sets(ax):
    """The filled map (cells coloured by contour band) of a panel."""
    return [c for c in ax.collections if isinstance(c, QuadMesh)]


def test_log_and_linear_intensity(close_figures):
    F = two_peak_map()
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), intensity="log", decades=3)
    close_figures.append(fig)
    (cs,) = contour_sets(fig.axes[0])
    assert cs.norm.boundaries[0] == pytest.approx(1e-3)
    assert np.diff(np.log10(cs.norm.boundaries)) == pytest.approx(0.25)  # log-spaced levels
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), intensity="linear", levels=5)
    close_figures.append(fig)
    (cs,) = contour_sets(fig.axes[0])
    assert len(cs.norm.boundaries) == 6
    assert np.diff(cs.norm.boundaries)[1:] == pytest.approx(0.2)  # linear levels
    assert any(a.get_title() == "intensity / max" for a in fig.axes)  # the colour bar
    with pytest.raises(ValueError, match="intensity"):
        plot_map(F, G1, G2, ("T1_IR", "T2"), intensity="cubic")


def test_regions_are_outlined_tagged_and_named(close_figures):
    regions = [
        Box("main", (0.1, 1.0), (0.01, 0.1)),
        Polygon("minor", ((1e-2, 1e-3), (5e-2, 1e-3), (5e-2, 5e-3))),
        Cutoff("bound", 2, 3.3e-3, "below"),
        Box("band", (1e-3, 1e-2)),
    ]
    fig = plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), regions=regions)
    close_figures.append(fig)
    main = fig.axes[0]
    legend = [t.get_text() for t in main.get_legend().get_texts()]
    assert legend[:1] == ["T1 = T2"]
    assert legend[1:] == ["A: main", "B: minor", "C: bound", "D: band"]
    assert len(main.patches) == 4  # box, polygon and band outlines, the cut-off's shading
    assert {t.get_text() for t in main.texts} >= {"A", "B", "C", "D"}
    with pytest.raises(TypeError, match="Box"):
        plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), regions=[SimpleNamespace(name="odd")])
    with pytest.raises(ValueError, match="cutoff"):
        plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), regions=[Cutoff("x", 3, 1.0, "below")])


def test_error_bars_from_an_uncertainty_table(close_figures):
    rows = [
        {
            "name": "main",
            "position": (0.3, 0.04),
            "position_lo": (0.25, 0.035),
            "position_hi": (0.36, 0.045),
        },
        {"name": "minor", "position": (0.016, 0.0025), "position_err": (0.002, 0.0003)},
        {"name": "no interval", "position": (0.1, 0.01)},
    ]

    class Table:
        def table(self):
            return rows

    for uncertainty in (rows, Table()):
        fig = plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), uncertainty=uncertainty)
        close_figures.append(fig)
        bars = fig.axes[0].containers
        assert len(bars) == 2
    with pytest.raises(TypeError, match="uncertainty"):
        plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), uncertainty=3.0)


def small_peak_map():
    F = two_peak_map()
    row = np.exp(-0.5 * ((LG1 - 0.2) / 0.15) ** 2)
    col = np.exp(-0.5 * ((LG2 + 0.5) / 0.15) ** 2)
    return F + 0.02 * F.sum() / np.outer(row, col).sum() * np.outer(row, col)  # ~1.3 % peak


def test_peaks_below_the_shared_threshold_are_not_labelled(close_figures):
    F = small_peak_map()
    assert min(p.fraction for p in find_peaks(F, G1, G2, min_fraction=0.0)) < PEAK_THRESHOLD
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), peaks="auto")
    close_figures.append(fig)
    assert len(fig.axes[0].texts) == len(find_peaks(F, G1, G2, min_fraction=PEAK_THRESHOLD)) == 2
    small = Peak.from_log_position((0.2, -0.5), fraction=0.013)
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), peaks=[small])
    close_figures.append(fig)
    assert len(fig.axes[0].texts) == 0


def crowded_map(n=7):
    F = np.zeros((LG1.size, LG2.size))
    for k in range(n):
        c1, c2 = -2.5 + 0.45 * k, -3.0 + 0.45 * k
        F += np.outer(
            np.exp(-0.5 * ((LG1 - c1) / 0.1) ** 2), np.exp(-0.5 * ((LG2 - c2) / 0.1) ** 2)
        )
    return F


def inside(child, parent, tol=1.0):
    return (
        child.x0 >= parent.x0 - tol
        and child.y0 >= parent.y0 - tol
        and child.x1 <= parent.x1 + tol
        and child.y1 <= parent.y1 + tol
    )


def overlapping(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("n_peaks", [1, 2, 3, 7])
def test_peak_labels_never_overlap_or_leave_the_map(n_peaks, close_figures):
    F = crowded_map(n_peaks)
    fig = plot_map(F, G1, G2, ("T1_IR", "T2"), peaks="auto", title="crowded")
    close_figures.append(fig)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    main = fig.axes[0]
    frame = main.get_window_extent(renderer)
    boxes = [Text.get_window_extent(t, renderer) for t in main.texts]  # label, not leader
    assert boxes, "peaks should be labelled or numbered"
    for i, box in enumerate(boxes):
        assert inside(box, frame, tol=12.0)  # numbers may sit just beside an edge peak
        assert not any(overlapping(box, other) for other in boxes[i + 1 :])
    legend = main.get_legend()
    if n_peaks > 4:  # crowded: numbered on the map, listed under it
        assert [t.get_text() for t in main.texts] == [str(k) for k in range(1, n_peaks + 1)]
        listed = [t.get_text() for t in legend.get_texts()]
        assert any(s.startswith("1: T1") for s in listed)
        assert legend.get_window_extent(renderer).y1 <= frame.y0  # under the map


def test_comparison_shares_one_colour_scale(close_figures):
    results = [("strong", two_peak_map()), ("weak", 0.5 * two_peak_map())]
    fig = plot_comparison(results, G1, G2, ("T1_IR", "T2"), peaks="auto")
    close_figures.append(fig)
    sets = [cs for ax in fig.axes if ax.get_xlabel() == "T2 (ms)" for cs in contour_sets(ax)]
    assert len(sets) == 2
    # own scales by default: both maps reach the top band
    assert np.nanmax(sets[0].get_array()) == np.nanmax(sets[1].get_array()) == 1.0
    assert sum("intensity / max of each map" in a.get_ylabel() for a in fig.axes) == 1
    fig = plot_comparison(results, G1, G2, ("T1_IR", "T2"), shared_scale=True)
    close_figures.append(fig)
    sets = [cs for ax in fig.axes if ax.get_xlabel() == "T2 (ms)" for cs in contour_sets(ax)]
    # Fig. 2 layout: the weak map is drawn on the strong map's scale
    assert np.nanmax(sets[1].get_array()) == pytest.approx(0.5)
    assert sum("intensity / max of all panels" in a.get_ylabel() for a in fig.axes) == 1


@pytest.mark.parametrize(
    "suffix,magic", [(".svg", b"<?xml"), (".pdf", b"%PDF"), (".png", b"\x89PNG")]
)
def test_vector_and_raster_output(tmp_path, suffix, magic, close_figures):
    fig = plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), peaks="auto")
    close_figures.append(fig)
    path = save_figure(fig, tmp_path / f"map{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"map{suffix}"]
    with pytest.raises(ValueError, match="figure format"):
        save_figure(fig, tmp_path / "map.xyz")


def test_distribution_1d_with_decay_fit_and_regions(close_figures):
    g = np.logspace(-4, 1, 60)
    f = np.exp(-0.5 * ((np.log10(g) + 1.7) / 0.2) ** 2) + 0.3 * np.exp(
        -0.5 * ((np.log10(g) + 3.0) / 0.2) ** 2
    )
    tau = np.arange(1, 301) * 2e-4
    S = np.exp(-tau[:, None] / g) @ f
    fig = plot_distribution(
        f,
        g,
        "T2",
        tau=tau,
        data=S + 0.001,
        fit=S,
        regions=[Cutoff("bound", 1, 3.3e-3, "below"), Box("free", (3.3e-3, 10.0))],
        uncertainty=[{"position": (0.02,), "position_err": (0.002,)}],
        title="1D",
    )
    close_figures.append(fig)
    dist, decay = fig.axes
    assert dist.get_xscale() == "log" and dist.get_xlabel() == "T2 (ms)"
    assert [t.get_text() for t in dist.get_legend().get_texts()] == ["bound", "free"]
    assert len(dist.containers) == 1
    assert [t.get_text() for t in decay.get_legend().get_texts()] == ["data", "fit", "residual"]
    fig = plot_distribution(f, g, "D")
    close_figures.append(fig)
    assert fig.axes[0].get_xlabel() == "D (m²/s)"
    with pytest.raises(ValueError, match="polygon"):
        plot_distribution(f, g, "T2", regions=[Polygon("p", ((1.0, 1.0),))])
    with pytest.raises(ValueError, match="same length"):
        plot_distribution(f[:-1], g)
    with pytest.raises(ValueError, match="tau is required"):
        plot_distribution(f, g, data=S)


def test_error_bars_from_bootstrap_rows(close_figures):
    row = {
        "name": "main",
        "position1": 10**-0.5,
        "log_position1": -0.5,
        "log_position1_pm68": 0.1,
        "position2": 10**-1.4,
        "log_position2": -1.4,
        "log_position2_pm68": 0.05,
    }
    fig = plot_map(two_peak_map(), G1, G2, ("T1_IR", "T2"), uncertainty=[row, {"name": "x"}])
    close_figures.append(fig)
    (bars,) = fig.axes[0].containers
    _, _, (xbar, ybar) = bars.lines
    (y0, y1) = sorted(ybar.get_segments()[0][:, 1])
    assert np.log10([y0 / 1e3, y1 / 1e3]) == pytest.approx([-0.6, -0.4])  # ms on the axis
    (x0, x1) = sorted(xbar.get_segments()[0][:, 0])
    assert np.log10([x0 / 1e3, x1 / 1e3]) == pytest.approx([-1.45, -1.35])

"""Physics flags of a map: T1 < T2, outside the acquisition window; edge mass by side."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.diagnostics import (
    EDGE_MASS,
    FORBIDDEN,
    PHYSICS_SHARE,
    T1_T2_MARGIN,
    acquisition_window,
    constant_sides,
    describe_flags,
    edge_mass,
    fit_warnings,
    physics_regions,
    physics_shares,
    physics_warnings,
    region_labels,
)
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.peak_table import PEAK_DTYPE, kernel_regions, peak_table

TAU1 = np.geomspace(1e-3, 3.0, 16)
TAU2 = np.arange(1, 201) * 0.5e-3
GRID = np.logspace(-5, 1, 25)


def test_windows_are_the_acquisition_ranges():
    assert acquisition_window("T1_IR", np.r_[0.0, TAU1]) == (1e-3, 3.0)
    lo, hi = acquisition_window("D", np.array([0.0, 2e8, 4e9]))
    assert lo == pytest.approx(1 / 4e9) and hi == pytest.approx(1 / 2e8)
    with pytest.raises(ValueError, match="no positive"):
        acquisition_window("T2", np.zeros(3))


def test_region_masks_follow_the_grids():
    regions = physics_regions(GRID, GRID, ("T1_IR", "T2"), TAU1, TAU2)
    g1, g2 = GRID[:, None], GRID[None, :]
    np.testing.assert_array_equal(
        regions[FORBIDDEN], np.broadcast_to(g1 < g2 / T1_T2_MARGIN, regions[FORBIDDEN].shape)
    )
    np.testing.assert_array_equal(regions["T1<first delay"][:, 0], GRID < 1e-3)
    np.testing.assert_array_equal(regions["T2>last echo"][0], GRID > 0.1)
    # T2-T2 and D-T2 maps have no forbidden triangle; axes of one kind are numbered.
    assert FORBIDDEN not in physics_regions(GRID, GRID, ("T2", "T2"), TAU2, TAU2)
    assert "T2(1)<first echo" in physics_regions(GRID, GRID, ("T2", "T2"), TAU2, TAU2)
    d = physics_regions(np.logspace(-12, -6, 7), GRID, ("D", "T2"), np.linspace(0, 4e9, 8), TAU2)
    assert set(d) >= {"D<1/b_max", "D>1/b_min"}
    with pytest.raises(ValueError, match="do not match"):
        physics_regions(GRID, GRID, ("T2",), TAU2, TAU2)


def test_bits_are_fixed_per_axis_and_decode():
    labels = region_labels(("T1_IR", "T2"))
    assert labels == {
        FORBIDDEN: 1,
        "T1<first delay": 2,
        "T1>last delay": 4,
        "T2<first echo": 8,
        "T2>last echo": 16,
    }
    assert describe_flags(1 | 16, ("T1_IR", "T2")) == f"{FORBIDDEN},T2>last echo"
    assert region_labels(("D", "T2"))["T2<first echo"] == 8


def test_shares_and_warnings():
    regions = physics_regions(GRID, GRID, ("T1_IR", "T2"), TAU1, TAU2)
    F = np.zeros((25, 25))
    F[15, 10] = 9.0  # T1 = 0.1 s, T2 = 1 ms: inside everything
    F[2, 20] = 1.0  # T1 = 3e-5 s, T2 = 1 s: forbidden, and unseen on both axes
    shares = physics_shares(F, regions)
    assert shares[FORBIDDEN] == pytest.approx(0.1)
    assert shares["T1<first delay"] == pytest.approx(0.1)
    assert shares["T2<first echo"] == 0.0
    messages = physics_warnings(shares)
    assert len(messages) == 3 and all("--fit-acquisition" in m for m in messages)
    assert "forbids" in messages[0]
    assert physics_warnings(shares, threshold=0.5) == []
    assert physics_shares(np.zeros((25, 25)), regions)[FORBIDDEN] == 0.0
    assert PHYSICS_SHARE == 0.05


def test_edge_mass_counts_the_chosen_sides():
    F = np.zeros((20, 20))
    F[10, 10] = 1.0
    F[0, 10] = 1.0  # low side of axis 1
    assert edge_mass(F) == pytest.approx(0.5)
    assert edge_mass(F, sides=[(0, "high")]) == 0.0
    assert edge_mass(F, sides=constant_sides(("T1_IR", "T2"))) == pytest.approx(0.5)
    assert edge_mass(F, sides=constant_sides(("D", "T2"))) == pytest.approx(0.5)
    assert edge_mass(F, sides=constant_sides(("T2", "T2"))) == 0.0


def test_edge_check_with_kinds_ignores_mass_the_kernel_cannot_see():
    """Mass at T2 below the first echo cannot imitate an offset (the kernel vanishes there):
    with the kinds the fit check leaves it to the physics check; without them it still warns
    (the behaviour of callers that do not pass the kinds)."""
    rng = np.random.default_rng(0)
    S = rng.standard_normal((16, 100)) * 1e-3 + 1.0
    fit = S.copy()
    F = np.zeros((32, 32))
    F[16, 16] = 1.0
    F[16, 0] = 1.0  # the first T2 column
    assert any("baseline" in m for m in fit_warnings(S, fit, 1e-3, F))
    assert not fit_warnings(S, fit, 1e-3, F, kinds=("T1_IR", "T2"))
    F[16, 0], F[16, -1] = 0.0, 1.0  # the last T2 column: flat kernel, imitates an offset
    assert any("baseline" in m for m in fit_warnings(S, fit, 1e-3, F, kinds=("T1_IR", "T2")))
    assert EDGE_MASS == 0.15


def test_peak_table_flags_column():
    kernel = Kernel2D(KernelAxis("T1_IR", TAU1, GRID), KernelAxis("T2", TAU2, GRID))
    maps = np.zeros((1, 25, 25))
    maps[0, 15, 10] = 9.0
    maps[0, 2, 20] = 1.0
    table = peak_table(maps, GRID, GRID, kernel=kernel)
    assert table.dtype == PEAK_DTYPE
    flags = {int(r["row"]): describe_flags(r["flags"], kernel.kinds) for r in table}
    assert flags[15] == ""
    assert flags[2] == f"{FORBIDDEN},T1<first delay,T2>last echo"
    assert set(peak_table(maps, GRID, GRID)["flags"]) == {0}
    assert set(kernel_regions(kernel)) == set(region_labels(kernel.kinds))


def test_figure_marks_the_regions():
    pytest.importorskip("matplotlib")
    from laplace_inv.plotting import plot_map
    from laplace_inv.plotting.flags import shade_physics_regions

    F = np.zeros((25, 25))
    F[15, 10] = 1.0
    fig = plot_map(F, GRID, GRID, ("T1_IR", "T2"))
    ax = fig.axes[0]
    limits = ax.get_xlim(), ax.get_ylim()
    added = shade_physics_regions(
        ax, ("T1_IR", "T2"), [(1e-3, 3.0), (5e-4, 0.1)], note="map there: 12 %", margin=2.0
    )
    assert len(added) == 6  # four shaded bands, the hatched triangle, the note
    assert any(getattr(a, "get_hatch", lambda: None)() == "////" for a in added)
    assert (ax.get_xlim(), ax.get_ylim()) == limits
    fig_d = plot_map(F, GRID * 1e-8, GRID, ("D", "T2"))
    added = shade_physics_regions(fig_d.axes[0], ("D", "T2"), [(1e-12, 1e-9), (5e-4, 0.1)])
    assert not any(getattr(a, "get_hatch", lambda: None)() == "////" for a in added)

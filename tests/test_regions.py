"""Regions: shapes, masks, integration on synthetic and real maps, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from laplace_inv.analysis.regions import (
    Box,
    Cutoff,
    Polygon,
    RegionStats,
    integrate_regions,
    load_regions,
    region_mask,
    regions_from_dict,
    regions_to_dict,
    save_regions,
)
from laplace_inv.metrics import find_peaks
from laplace_inv.simulate import Peak, render_map

GRID = np.logspace(-4, 1, 51)  # 0.1 decade per bin


@pytest.fixture(scope="module")
def two_peaks():
    peaks = [Peak((-1.0, -2.0), (0.1, 0.1), 0.75), Peak((-1.0, -3.5), (0.1, 0.1), 0.25)]
    return render_map(peaks, GRID, GRID)


# --------------------------------------------------------------------------------------
# shapes and masks


def test_box_mask_pixel_centres_inclusive():
    m = region_mask(Box("b", (1e-3, 1e-2), (1e-2, 1e-1)), GRID, GRID)
    rows, cols = np.nonzero(m)
    assert set(rows) == set(range(10, 21)) and set(cols) == set(range(20, 31))
    assert m.sum() == 11 * 11


def test_box_without_x2_is_a_band_on_2d_maps():
    m = region_mask(Box("band", (1e-3, 1e-2)), GRID, GRID)
    assert m[10:21].all() and not m[:10].any() and not m[21:].any()


def test_polygon_in_log_space_triangle():
    # Right triangle with legs along the axes in log space: log x1 + log x2 <= -4 half-plane.
    tri = Polygon("t", [(1e-3, 1e-3), (1e-1, 1e-3), (1e-3, 1e-1)])
    m = region_mask(tri, GRID, GRID)
    lx1, lx2 = np.meshgrid(np.log10(GRID), np.log10(GRID), indexing="ij")
    expected = (lx1 >= -3 - 1e-9) & (lx2 >= -3 - 1e-9) & (lx1 + lx2 <= -4 + 1e-9)
    np.testing.assert_array_equal(m, expected)


def test_polygon_square_equals_box():
    square = Polygon("s", [(1e-3, 1e-2), (1e-2, 1e-2), (1e-2, 1e-1), (1e-3, 1e-1)])
    box = Box("b", (1e-3, 1e-2), (1e-2, 1e-1))
    np.testing.assert_array_equal(region_mask(square, GRID, GRID), region_mask(box, GRID, GRID))


def test_concave_polygon():
    # An L shape: the notch must stay outside.
    verts = [(1e-3, 1e-3), (1e-1, 1e-3), (1e-1, 1e-2), (1e-2, 1e-2), (1e-2, 1e-1), (1e-3, 1e-1)]
    m = region_mask(Polygon("L", verts), GRID, GRID)
    i = lambda v: round((np.log10(v) + 4) * 10)  # noqa: E731
    assert m[i(5e-3), i(5e-2)] and m[i(5e-2), i(5e-3)]
    assert not m[i(5e-2), i(5e-2)]


def test_cutoff_masks_and_sides():
    below = region_mask(Cutoff("c", 2, 1e-2, "below"), GRID, GRID)
    above = region_mask(Cutoff("c", 2, 1e-2, "above"), GRID, GRID)
    assert not (below & above).any() and (below | above).all()
    assert below[:, 20].all() and not below[:, 21].any()


def test_1d_regions():
    band = region_mask(Box("b", (1e-3, 1e-2)), GRID)
    assert band.shape == (51,) and band.sum() == 11
    cut = region_mask(Cutoff("c", 1, 1e-2, "below"), GRID)
    assert cut.sum() == 21
    with pytest.raises(ValueError, match="2D map"):
        region_mask(Polygon("p", [(1, 1), (2, 1), (2, 2)]), GRID)
    with pytest.raises(ValueError, match="axis 2"):
        region_mask(Cutoff("c", 2, 1e-2, "below"), GRID)
    with pytest.raises(ValueError, match="1D"):
        region_mask(Box("b", (1e-3, 1e-2), (1e-3, 1e-2)), GRID)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Box("b", (1e-2, 1e-3)), "low < high"),
        (lambda: Box("b", (1e-2, 1e-2)), "low < high"),
        (lambda: Box("b", (-1.0, 1e-3)), "positive"),
        (lambda: Box("b", (0.0, 1e-3)), "positive"),
        (lambda: Box("b", (1e-3,)), "pair"),
        (lambda: Box("", (1e-3, 1e-2)), "name"),
        (lambda: Polygon("p", [(1, 1), (2, 2)]), "at least 3"),
        (lambda: Polygon("p", [(1, 1), (2, 2), (3,)]), "vertex 2"),
        (lambda: Cutoff("c", 3, 1.0, "below"), "axis must be 1 or 2"),
        (lambda: Cutoff("c", 1, 1.0, "under"), "side"),
        (lambda: Cutoff("c", 1, float("nan"), "below"), "positive"),
    ],
)
def test_shapes_reject_bad_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mask_rejects_non_region():
    with pytest.raises(TypeError, match="Box, Polygon or Cutoff"):
        region_mask("box", GRID, GRID)


# --------------------------------------------------------------------------------------
# integration


def test_whole_grid_box_gives_fraction_one(two_peaks):
    (s,) = integrate_regions(two_peaks, GRID, GRID, [Box("all", (GRID[0], GRID[-1]), (1e-9, 1e9))])
    assert s.fraction == pytest.approx(1.0)
    p1, p2 = two_peaks.sum(axis=1), two_peaks.sum(axis=0)
    lg = np.log10(GRID)
    assert s.log_mean[0] == pytest.approx(p1 @ lg / p1.sum())
    assert s.log_mean[1] == pytest.approx(p2 @ lg / p2.sum())


def test_cutoff_and_complement_sum_to_one(two_peaks):
    below, above = integrate_regions(
        two_peaks, GRID, GRID, [Cutoff("b", 2, 1e-3, "below"), Cutoff("a", 2, 1e-3, "above")]
    )
    assert below.fraction + above.fraction == pytest.approx(1.0)
    assert below.fraction == pytest.approx(0.25, abs=1e-3)
    assert below.log_mean[1] == pytest.approx(-3.5, abs=1e-3)
    assert below.log_width[1] == pytest.approx(0.1, rel=0.05)


def test_box_fraction_matches_peak_fraction(two_peaks):
    peaks = find_peaks(two_peaks, GRID, GRID)
    (s,) = integrate_regions(two_peaks, GRID, GRID, [Box("main", (1e-2, 1.0), (1e-3, 1e-1))])
    assert s.fraction == pytest.approx(peaks[0].fraction, abs=1e-3)
    np.testing.assert_allclose(s.log_mean, peaks[0].log_position, atol=1e-3)


def test_ratio_only_for_t1_t2(two_peaks):
    box = [Box("main", (1e-2, 1.0), (1e-3, 1e-1))]
    (t1t2,) = integrate_regions(two_peaks, GRID, GRID, box, kinds=("T1_IR", "T2"))
    (t2t2,) = integrate_regions(two_peaks, GRID, GRID, box, kinds=("T2", "T2"))
    assert t1t2.ratio == pytest.approx(10.0, rel=1e-3)
    assert t2t2.ratio is None


def test_empty_region_and_negative_pixels():
    F = np.zeros((51, 51))
    F[10, 10] = 1.0
    F[40, 40] = -0.5  # round-off of an unconstrained solver: ignored
    empty, one = integrate_regions(
        F, GRID, GRID, [Box("e", (1.0, 10.0), (1e-4, 1e-3)), Box("one", (1e-4, 1e-2))]
    )
    assert empty.fraction == 0.0 and np.isnan(empty.log_mean).all()
    assert one.fraction == 1.0 and one.log_width == (0.0, 0.0)


def test_integrate_1d():
    f = render_map([Peak((-2.0, -2.0), (0.1, 0.1))], GRID, GRID).sum(axis=1)
    s, rest = integrate_regions(
        f, GRID, None, [Box("b", (10**-2.5, 10**-1.5)), Cutoff("c", 1, 10**-2.5, "below")]
    )
    assert isinstance(s, RegionStats) and len(s.log_mean) == 1
    assert s.fraction == pytest.approx(1.0, abs=1e-3) and rest.fraction < 1e-3
    assert s.position[0] == pytest.approx(1e-2, rel=1e-3)
    assert s.as_dict()["log_width1"] == pytest.approx(0.1, rel=0.05)


def test_integrate_rejects_bad_shapes(two_peaks):
    with pytest.raises(ValueError, match="shape"):
        integrate_regions(two_peaks.T[:-1], GRID, GRID, [Box("b", (1, 2))])
    with pytest.raises(ValueError, match="NaN"):
        integrate_regions(np.full((51, 51), np.nan), GRID, GRID, [Box("b", (1, 2))])


def test_real_cement_main_peak_box(cement):
    from laplace_inv.classical import TikhonovInverter

    res = TikhonovInverter(cement.kernel).invert(cement.data)
    main = max(res.peaks(), key=lambda p: p.fraction)
    box = Box("capillary water", (0.03, 0.4), (5e-3, 0.08))
    (s,) = integrate_regions(res.map, res.grid1, res.grid2, [box], kinds=res.kinds)
    assert s.fraction == pytest.approx(main.fraction, abs=0.03)
    assert s.fraction == pytest.approx(0.85, abs=0.05)
    np.testing.assert_allclose(s.log_mean, np.log10([0.1124, 0.01955]), atol=0.05)
    assert s.ratio == pytest.approx(0.1124 / 0.01955, rel=0.15)


# --------------------------------------------------------------------------------------
# files

REGIONS = [
    Box("capillary water", (0.05, 0.3), (0.005, 0.05)),
    Box("band", (1e-3, 1e-2)),
    Polygon("gel", ((1e-3, 1e-4), (1e-2, 1e-4), (1e-2, 1e-3))),
    Cutoff('bound "fluid"', axis=2, value=0.033, side="below"),
]


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_round_trip(tmp_path, suffix):
    path = save_regions(REGIONS, tmp_path / f"regions{suffix}")
    assert load_regions(path) == REGIONS
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_refuses_overwrite(tmp_path):
    path = save_regions(REGIONS[:1], tmp_path / "r.toml")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_regions(REGIONS, path)
    assert load_regions(path) == REGIONS[:1]
    save_regions(REGIONS, path, overwrite=True)
    assert load_regions(path) == REGIONS


def test_reads_the_documented_example_with_units(tmp_path):
    text = """
[[region]]
name = "capillary water"
type = "box"
x1 = [50, 300]
x2 = [5, 50]
unit = "ms"

[[region]]
name = "diffusing"
type = "box"
x1 = [1e-10, 1e-9]
x2 = [10, 100]
unit = ["m2/s", "ms"]

[[region]]
name = "bound fluid"
type = "cutoff"
axis = 2
value = 33
side = "below"
unit = "ms"
"""
    f = tmp_path / "r.toml"
    f.write_text(text)
    regions = load_regions(f)
    assert regions[0] == Box("capillary water", (0.05, 0.3), (0.005, 0.05))
    assert regions[1].x1 == (1e-10, 1e-9) and regions[1].x2 == pytest.approx((0.01, 0.1))
    assert regions[2] == Cutoff("bound fluid", 2, 0.033, "below")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"regions": []}, 'key "region"'),
        ({"region": []}, "non-empty"),
        ({"region": [{"name": "a", "type": "circle"}]}, "type must be one of"),
        ({"region": [{"name": "a", "type": "box"}]}, r"missing key\(s\) \['x1'\]"),
        ({"region": [{"type": "box", "x1": [1, 2]}]}, "missing key"),
        ({"region": [{"name": "a", "type": "box", "x1": [2, 1]}]}, "low < high"),
        ({"region": [{"name": "a", "type": "box", "x1": [0, 1]}]}, "positive"),
        ({"region": [{"name": "a", "type": "box", "x1": ["1", 2]}]}, "expected numbers"),
        ({"region": [{"name": "a", "type": "box", "x1": [1, 2], "unit": "h"}]}, "unknown unit"),
        ({"region": [{"name": "a", "type": "box", "x_1": [1, 2], "x1": [1, 2]}]}, "unknown key"),
        ({"region": [{"name": "a", "type": "polygon", "vertices": [[1, 1], [2, 2]]}]}, "3"),
        ({"region": [{"name": "a", "type": "cutoff", "axis": 1, "value": 1}]}, "side"),
        ({"region": ["box"]}, "table"),
        (
            {"region": [{"name": "a", "type": "box", "x1": [1, 2]}] * 2},
            "unique",
        ),
    ],
)
def test_malformed_dicts(data, match):
    with pytest.raises(ValueError, match=match):
        regions_from_dict(data)


def test_malformed_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[region]\nname = 'a'")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_regions(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps({"region": [{"name": "a", "type": "box", "x1": [3, 1]}]}))
    with pytest.raises(ValueError, match=r"bad.json.*region 1 \('a'\).*low < high"):
        load_regions(bad_json)
    with pytest.raises(ValueError, match=r"\.toml or \.json"):
        load_regions(tmp_path / "regions.yaml")
    with pytest.raises(ValueError, match=r"\.toml or \.json"):
        save_regions(REGIONS, tmp_path / "regions.txt")


def test_to_dict_is_si_and_json_serialisable():
    data = regions_to_dict(REGIONS)
    assert json.loads(json.dumps(data)) == data
    assert regions_from_dict(data) == REGIONS


def test_the_guide_example_file_loads(tmp_path):
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "guide" / "regions.md"
    text = guide.read_text(encoding="utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "regions.toml"
    f.write_text(block)
    names = [r.name for r in load_regions(f)]
    assert names == ["capillary water", "gel", "bound fluid"]

"""Bootstrap uncertainty: draws, region and peak intervals, calibration, coverage benchmark."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv.analysis.calibration import (
    GAUSSIAN,
    conformal_multipliers,
    fit_calibration,
    floors_for,
    half_width,
    load_calibration,
    method_key,
    multipliers_for,
)
from laplace_inv.analysis.draws import linear_response_maps, resampled_maps
from laplace_inv.analysis.regions import Box, Cutoff
from laplace_inv.analysis.uncertainty import bootstrap, mask_stats
from laplace_inv.simulate import Peak, make_scenario


@pytest.fixture(scope="module")
def scenario():
    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 16), n_grid=24),
        KernelAxis("T2", np.arange(1, 301) * 1e-3, n_grid=24),
    )
    peaks = [
        Peak((np.log10(0.1), np.log10(0.02)), (0.1, 0.1), 0.7),
        Peak((np.log10(0.3), np.log10(0.003)), (0.1, 0.1), 0.3),
    ]
    return make_scenario("two", kernel, peaks, snr=100, random_state=1)


REGIONS = [
    Box("main", (10**-1.5, 10**-0.5), (10**-2.2, 10**-1.2)),
    Cutoff("short T2", axis=2, value=10**-2.0, side="below"),
]


@pytest.fixture(scope="module")
def global_fit(scenario):
    est = TikhonovInverter(scenario.kernel, penalty="global")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est, est.invert(scenario.data)


def test_linear_response_matches_reinversion(scenario, global_fit):
    _, res = global_fit
    rng = np.random.default_rng(0)
    alpha = res.info["alpha"]
    lin = linear_response_maps(scenario.kernel, res.map, alpha, res.noise_std, 200, rng)
    fixed = TikhonovInverter(scenario.kernel, penalty="global", alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = resampled_maps(fixed, res.fit, res.noise_std, 20, rng)
    # Same centre and a spread of the same order as the true re-inversion bootstrap.
    assert np.abs(lin.mean(0) - res.map).max() < 0.2 * res.map.max()
    ratio = lin.std(0).sum() / full.std(0).sum()
    assert 0.5 < ratio < 2.0


def test_bootstrap_regions_and_peaks(scenario, global_fit):
    est, _ = global_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = bootstrap(
            est,
            scenario.data,
            regions=REGIONS,
            calibration=False,
            random_state=1,
            min_fraction=0.05,
        )
    assert res.kind == "linear" and res.n_draws == 200 and not res.calibrated
    assert res.method == "tikhonov-global"
    assert res.spread.shape == scenario.kernel.map_shape and np.all(res.spread >= 0)
    main, short = res.regions
    assert main.fraction == pytest.approx(0.7, abs=0.1)
    assert short.fraction == pytest.approx(0.3, abs=0.1)
    assert main.fraction_std > 0 and all(s > 0 for s in main.log_mean_std)
    lo, hi = main.fraction_interval("95")
    assert lo < main.fraction < hi
    assert hi - lo == pytest.approx(2 * GAUSSIAN["95"] * main.fraction_std)
    assert main.fraction_pm == pytest.approx(main.fraction_std)
    (p_lo, p_hi), _ = main.position_interval("68")
    assert p_lo < 10 ** main.log_mean[0] < p_hi
    assert main.stats is not None and main.stats.ratio is not None
    assert len(res.peaks) == 2
    np.testing.assert_allclose(res.peaks[0].log_mean, res.peaks[0].peak.log_position, atol=1e-9)
    rows = res.table()
    assert [r["kind"] for r in rows] == ["region", "region", "peak", "peak"]
    assert {"fraction_pm68", "position1_lo95", "log_width2_pm68"} <= rows[0].keys()
    with pytest.raises(ValueError, match="level"):
        main.fraction_interval("90")
    from laplace_inv.plotting import plot_map

    k = scenario.kernel
    fig = plot_map(res.map, k.grid1, k.grid2, k.kinds, regions=REGIONS, uncertainty=res)
    assert len(fig.axes[0].containers) == len(res.regions) + len(res.peaks)


def test_bootstrap_resampled_for_other_methods(scenario):
    est = TikhonovInverter(scenario.kernel)  # UPEN: draws are re-inverted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = bootstrap(est, scenario.data, regions=REGIONS[:1], n_draws=2, noise_std=0.01)
    assert res.kind == "resampled" and res.n_draws == 2 and res.noise_std == 0.01
    assert res.method == "tikhonov-upen" and res.regions[0].fraction_std > 0
    with pytest.raises(ValueError, match="n_draws"):
        bootstrap(est, scenario.data, n_draws=1)


def test_calibrated_multipliers_scale_the_intervals(scenario, global_fit):
    est, _ = global_fit
    table = {
        "methods": {
            "tikhonov-global": {
                "fraction": {"68": 3.0, "95": 7.0},
                "log_position": {"68": 2.0, "95": 4.0},
            }
        }
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = bootstrap(est, scenario.data, regions=REGIONS, calibration=table)
    main = res.regions[0]
    assert res.calibrated
    assert main.fraction_pm == pytest.approx(3.0 * main.fraction_std)
    lo, hi = main.log_mean_interval("95")[1]
    assert hi - lo == pytest.approx(8.0 * main.log_mean_std[1])
    with pytest.raises(ValueError, match="no entry"):
        bootstrap(est, scenario.data, calibration={"methods": {}})


def test_mask_stats_matches_integrate_regions(scenario):
    from laplace_inv.analysis.regions import integrate_regions, region_mask

    k = scenario.kernel
    g1, g2 = k.grid1, k.grid2
    masks = np.stack([region_mask(r, g1, g2) for r in REGIONS])
    logs = list(np.meshgrid(np.log10(g1), np.log10(g2), indexing="ij"))
    f, m, w = mask_stats(scenario.truth[None], masks, logs)
    for r, s in enumerate(integrate_regions(scenario.truth, g1, g2, REGIONS)):
        assert f[0, r] == pytest.approx(s.fraction)
        np.testing.assert_allclose(m[0, r], s.log_mean)
        np.testing.assert_allclose(w[0, r], s.log_width, atol=1e-7)


def test_conformal_multipliers():
    k = conformal_multipliers([0.0, 1.0, 2.0, 3.0, np.nan], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert k == {"68": 3.0, "95": 3.0}
    assert conformal_multipliers([0.0, 0.0], [0.0, 0.0])["95"] == 0.0
    with pytest.raises(ValueError, match="no finite"):
        conformal_multipliers([np.nan], [1.0])


def test_shipped_calibration_and_keys(tmp_path, scenario):
    data = load_calibration()
    assert "command" in data and isinstance(data["methods"], dict)
    assert {"tikhonov-global", "tikhonov-upen", "l1", "dlemlr"} <= data["methods"].keys()
    for entry in data["methods"].values():
        assert entry["fraction"]["95"] >= entry["fraction"]["68"] > 0
        assert entry["log_position"]["95"] >= entry["log_position"]["68"] > 0
        assert all(v >= 0 for v in entry["floor"].values())
    assert method_key(TikhonovInverter(scenario.kernel)) == "tikhonov-upen"
    raw, calibrated = multipliers_for("no-such-method", None)
    assert not calibrated and raw["fraction"] == GAUSSIAN
    assert floors_for("no-such-method", None) == {q: 0.0 for q in raw}
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"nothing": 1}))
    with pytest.raises(ValueError, match="methods"):
        multipliers_for("x", bad)


def test_fit_calibration_learns_a_floor_when_bias_dominates():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.001, 0.002, 3000)
    biased = fit_calibration(0.05 * rng.standard_normal(3000), std)
    assert biased["floor"] > 0.01
    half = half_width(std, biased["multiplier"]["68"], biased["floor"])
    assert np.median(half) == pytest.approx(0.05, rel=0.15)
    assert biased["multiplier"]["95"] > biased["multiplier"]["68"]
    # Errors in proportion to the std: no floor is needed, the multiplier does the work.
    wide = rng.uniform(0.001, 0.1, 3000)
    plain = fit_calibration(2.0 * wide * rng.standard_normal(3000), wide)
    assert plain["floor"] < np.median(wide)
    lo, hi = np.quantile(wide, [0.1, 0.9])
    k68 = plain["multiplier"]["68"]
    assert half_width(hi, k68, plain["floor"]) > 2.0 * half_width(lo, k68, plain["floor"])
    covered = np.abs(2.0 * wide * rng.standard_normal(3000)) <= half_width(
        wide, k68, plain["floor"]
    )
    assert covered.mean() == pytest.approx(0.68, abs=0.04)
    with pytest.raises(ValueError, match="no finite"):
        fit_calibration([np.nan], [1.0])
    assert half_width(np.array([3.0, 0.0]), 2.0, 4.0).tolist() == [10.0, 8.0]


def test_floor_widens_calibrated_intervals(scenario, global_fit):
    est, _ = global_fit
    table = {
        "methods": {
            "tikhonov-global": {
                "fraction": {"68": 1.5, "95": 3.0},
                "log_position": {"68": 2.0, "95": 4.0},
                "floor": {"fraction": 0.02, "log_position": 0.01},
            }
        }
    }
    assert floors_for("tikhonov-global", table)["log_width"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = bootstrap(est, scenario.data, regions=REGIONS, calibration=table)
    main = res.regions[0]
    assert main.fraction_pm == pytest.approx(1.5 * np.hypot(main.fraction_std, 0.02))
    lo, hi = main.log_mean_interval("95")[0]
    assert hi - lo == pytest.approx(8.0 * np.hypot(main.log_mean_std[0], 0.01))
    assert res.table()[0]["fraction_pm68"] == pytest.approx(main.fraction_pm)


def test_coverage_benchmark_pipeline(tmp_path, scenario):
    from benchmarks.bench_coverage import FAMILIES, make_cases, method_records, summarise, table

    kernel = scenario.kernel
    cases = {"test": make_cases(kernel, 4, seed=2), "cal": make_cases(kernel, 4, seed=1)}
    assert [c.family for c in cases["test"]] == list(range(len(FAMILIES)))
    for case in cases["test"]:
        frac, mean, _ = case.truth
        assert len(case.boxes) == frac.size == mean.shape[0]
        assert np.all((frac > 0.5 / len(case.boxes)) & (frac <= 1.0 + 1e-9))
    recs, seconds = method_records("tikhonov-global", kernel, cases, 30, tmp_path)
    again, _ = method_records("tikhonov-global", kernel, cases, 30, tmp_path)  # from cache
    np.testing.assert_array_equal(recs["test"]["fraction_est"], again["test"]["fraction_est"])
    fits, rows = summarise(recs["cal"], recs["test"])
    assert {r.quantity for r in rows} == {"fraction", "log_position", "log_width"}
    assert all(0.0 <= r.raw <= 1.0 and 0.0 <= r.calibrated <= 1.0 for r in rows)
    assert all(len(r.by_family) == len(FAMILIES) for r in rows)
    assert all(fit["floor"] >= 0 for fit in fits.values())
    results = {"tikhonov-global": (24, "linear", 30, seconds, fits, rows)}
    report = table(results, 4, 4, "cmd")
    assert "| tikhonov-global | 24² | linear | 30 |" in report and "Not run" in report
    assert "per family" in report

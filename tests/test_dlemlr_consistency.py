"""The data-consistency step as a function of its settings, and the benchmark that shows
where it moves the peaks of real data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from laplace_inv.dlemlr.compressed import problem
from laplace_inv.dlemlr.consistency import ConsistencySettings, data_consistency
from laplace_inv.dlemlr.features import project_tensor
from laplace_inv.dlemlr.inference import _consistency, consistency_step
from laplace_inv.dlemlr.parsimony import log_blur
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.metrics import find_peaks
from laplace_inv.simulate import Peak, cement_kernel, make_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT))  # the repository root, where `benchmarks` lives
    from benchmarks import bench_dlemlr_real

    return bench_dlemlr_real


@pytest.fixture(scope="module")
def shifted_prior():
    """Noise-free cement data of one narrow peak, and that peak two pixels off as prior."""
    k = cement_kernel()
    peaks = [Peak((-1.0, -2.0), (0.06, 0.06), 1.0)]
    sc = make_scenario("one", k, peaks, snr=1e12, random_state=0)
    S = torch.from_numpy(np.asarray(sc.data, dtype=np.float64))[None]
    scales = S.abs().amax(dim=(1, 2))
    truth = torch.from_numpy(sc.truth)[None]
    prior = torch.roll(truth, 2, dims=2) / scales[:, None, None]
    prob = problem(k)
    return k, prob, S, scales, project_tensor(prob, S, scales), prior, truth


def _at(lam: float, iterations: int = 1500) -> ConsistencySettings:
    return ConsistencySettings(
        max_iter=iterations,
        lambda_start=lam,
        lambda_min=lam,
        stage_iterations=iterations,
        stagnation=0.0,
    )


def test_default_step_is_consistency_step_with_its_cap(shifted_prior):
    _, prob, S, scales, projected, prior, _ = shifted_prior
    maps, stats, stop = _consistency(prob, prior, S, scales, projected, 60)
    again, stats2, stop2 = consistency_step(
        prob, prior, S, scales, projected, ConsistencySettings(max_iter=60)
    )
    torch.testing.assert_close(maps, again)
    assert stop == stop2
    for key in ("lam", "iterations", "rn_before", "rn_after"):
        torch.testing.assert_close(stats[key], stats2[key])
    assert int(stats["iterations"][0]) <= 60


def test_smaller_lambda_moves_the_prior_towards_the_data(shifted_prior):
    k, prob, S, scales, projected, prior, truth = shifted_prior
    t2 = np.log10(k.grid2)

    def t2_centre(F: torch.Tensor) -> float:
        w = F[0].sum(dim=0).numpy()
        return float((w * t2).sum() / w.sum())

    moved, residual = [], []
    for lam in (1e-4, 1e-6, 1e-8):
        maps, stats, stop = consistency_step(prob, prior, S, scales, projected, _at(lam))
        # One stage at λ: the stage spends the whole cap.
        assert stop == ["cap"] and float(stats["lam"][0]) == pytest.approx(lam)
        moved.append(abs(t2_centre(maps) - t2_centre(truth)))
        residual.append(float(stats["rn_after"][0]))
    # Weaker priors let the data pull the peak back and lower the residual.
    assert moved[0] > moved[1] > moved[2]
    assert residual[0] > residual[1] > residual[2]
    assert moved[2] < 0.5 * abs(t2_centre(prior) - t2_centre(truth))


def test_dominant_in_range_reads_the_first_axis(bench):
    class Peak1:
        def __init__(self, d: float, fraction: float) -> None:
            self.position, self.fraction = (d, 0.1), fraction

    class Result:
        def __init__(self, *peaks: Peak1) -> None:
            self._peaks = peaks

        def peaks(self, min_fraction: float) -> list[Peak1]:
            return [p for p in self._peaks if p.fraction >= min_fraction]

    res = {
        "UPEN": Result(Peak1(2.1e-9, 0.9)),
        "raw": Result(Peak1(1.8e-9, 0.6), Peak1(2.2e-9, 0.4)),
        "default": Result(Peak1(2.05e-9, 0.97), Peak1(1e-10, 0.02)),
    }
    cell, ok = bench.dominant_in_range(res, (2.0e-9, 2.3e-9))
    assert cell.startswith("2.1e-09 / 1.8e-09 / 2.05e-09") and ok == "yes"
    res["default"] = Result(Peak1(1.82e-9, 1.0))
    assert bench.dominant_in_range(res, (2.0e-9, 2.3e-9))[1] == "no"


def test_spinsolve_rows_recovers_a_mono_exponential_decay(bench):
    b = np.concatenate([[0.0], np.geomspace(3e7, 8e9, 15)])
    echoes = 1e-3 * np.arange(1, bench.ROW_ECHOES + 1)
    k = Kernel2D(KernelAxis("D", b, n_grid=16), KernelAxis("T2", echoes, n_grid=16))
    data = 100.0 * np.exp(-b * 2.1e-9)[:, None] * np.exp(-echoes / 0.13)[None, :]
    rng = np.random.default_rng(0)
    data = data + rng.normal(0.0, 1.0, data.shape)
    lines = bench.spinsolve_rows([("Spinsolve D-T2", k, data, 1.0, [])])
    assert lines[2].startswith("| b (10⁹ s/m²) | 0.00 |")
    fits = [line for line in lines if line.startswith("| all rows") or line.startswith("| rows")]
    assert len(fits) == 5
    for line in fits:
        d = float(line.split("|")[2].split("e-9")[0])
        assert abs(d - 2.1) < 0.1, line
    assert bench.spinsolve_rows([]) == ["The Spinsolve export is not available."]


def test_reference_neighbourhood_lists_only_single_reference_datasets(bench):
    k = cement_kernel()
    two = [{"position": (0.1, 0.02)}, {"position": (0.1, 0.001)}]
    rows = bench.reference_neighbourhood_rows([("cement", k, np.zeros(k.data_shape), 1.0, two)])
    assert len(rows) == 2  # the header only


def test_converged_path_rows_walk_away_from_the_network(bench, monkeypatch):
    monkeypatch.setattr(bench, "PATH_LAMBDAS", (1e-4, 1e-7))
    monkeypatch.setattr(bench, "PATH_ITERATIONS", 300)
    k = cement_kernel()
    sc = make_scenario("two", k, [Peak((-1.0, -2.0), (0.1, 0.1), 1.0)], 300, random_state=1)
    rows = bench.converged_path_rows([("sim", k, sc.data, sc.noise_std, [])])
    body = [r.split("|")[1:-1] for r in rows[2:]]
    assert [c[1].strip() for c in body] == ["raw", "default", "converged", "converged"]
    dist = [float(c[5]) for c in body]
    assert dist[0] == 0.0 and dist[2] < dist[3]
    rn = [float(c[4]) for c in body]
    assert rn[3] <= rn[2] < rn[0]


@pytest.fixture(scope="module")
def prior_bench():
    sys.path.insert(0, str(ROOT))
    from benchmarks import bench_dlemlr_prior

    return bench_dlemlr_prior


def test_unblurred_default_variant_is_the_default_output(prior_bench):
    from laplace_inv.dlemlr import DLEMLRInverter

    k = cement_kernel()
    sc = make_scenario("two", k, [Peak((-1.0, -2.0), (0.1, 0.1), 1.0)], 300, random_state=2)
    label, blur, settings = prior_bench.VARIANTS[0]
    assert label == "default" and blur == 0.0
    variant = prior_bench.ConsistencyVariant(k, blur, settings).invert(sc.data)
    default = DLEMLRInverter.from_pretrained(k).invert(sc.data)
    assert variant.info["iterations"] == default.info["consistency_iterations"]
    np.testing.assert_allclose(variant.map, default.map, rtol=0, atol=1e-6 * default.map.max())


def test_blurred_variant_keeps_the_mass_and_widens_the_prior(prior_bench):
    B = log_blur(64, 2.0)
    x = np.zeros(64)
    x[30] = 1.0
    y = B @ x
    assert y.sum() == pytest.approx(1.0) and y.max() < 0.25
    k = cement_kernel()
    blurred = prior_bench.ConsistencyVariant(k, 0.1, {"max_iter": 0})
    steps = np.log10(k.grid2[-1] / k.grid2[0]) / 63
    np.testing.assert_allclose(blurred.blur[1], log_blur(64, 0.1 / steps))


def test_significance_needs_the_noise_and_stops_insignificant_stages(shifted_prior):
    prob, projected, prior = shifted_prior[1], shifted_prior[4], shifted_prior[5]
    Sp, sigma = projected
    op = prob.spectral("cpu", torch.float64)
    r1, r2 = op.rank
    Sc = Sp[:, :r1, :r2]
    target = torch.zeros(1, dtype=torch.float64)  # unreachable: only the other rules stop
    with pytest.raises(ValueError, match="noise_var"):
        data_consistency(op, Sc, prior, target, ConsistencySettings(significance=1.0))
    base = {"max_iter": 600, "stagnation": 0.0}
    loose = data_consistency(op, Sc, prior, target, ConsistencySettings(**base))
    # A decrease worth less than 1e12 χ² standard deviations is no progress: one stage.
    strict = ConsistencySettings(**base, significance=1e12)
    one = data_consistency(op, Sc, prior, target, strict, sigma**2)
    assert one.stop == ["stagnation"]
    assert int(one.iterations[0]) == ConsistencySettings().stage_iterations
    assert int(loose.iterations[0]) > int(one.iterations[0])
    # The default rule ignores the noise level.
    plain = data_consistency(op, Sc, prior, target, ConsistencySettings())
    again = data_consistency(op, Sc, prior, target, ConsistencySettings(), sigma**2)
    torch.testing.assert_close(plain.maps, again.maps)
    assert plain.stop == again.stop


def test_parsimony_variant_keeps_the_smoother_map_only_when_the_data_allow_it(prior_bench):
    k = cement_kernel()
    broad = make_scenario("broad", k, [Peak((-1.0, -2.0), (0.2, 0.2), 1.0)], 300, random_state=3)
    pair = [Peak((-1.0, -2.2), (0.04, 0.04), 1.0), Peak((-1.0, -1.8), (0.04, 0.04), 1.0)]
    sharp = make_scenario("pair", k, pair, 3000, random_state=4)
    strict = prior_bench.ConsistencyVariant(k, 0.1, {"max_iter": 200, "prefer": -1e9})
    loose = prior_bench.ConsistencyVariant(k, 0.1, {"max_iter": 200, "prefer": 1e9})
    both = (strict.invert(broad.data), loose.invert(broad.data))
    # Both runs are counted, whichever map is kept.
    assert all(r.info["iterations"] > 0 for r in both)
    # A threshold nothing passes keeps the unblurred run; one everything passes the blurred.
    unblurred = prior_bench.ConsistencyVariant(k, 0.0, {"max_iter": 200}).invert(broad.data)
    blurred = prior_bench.ConsistencyVariant(k, 0.1, {"max_iter": 200}).invert(broad.data)
    np.testing.assert_allclose(both[0].map, unblurred.map, rtol=0, atol=1e-9)
    np.testing.assert_allclose(both[1].map, blurred.map, rtol=0, atol=1e-9)
    # At 20 standard deviations, a well-resolved pair at SNR 3000 keeps its two peaks.
    chosen = prior_bench.ConsistencyVariant(k, 0.1, {"max_iter": 200, "prefer": 20.0})
    found = find_peaks(chosen.invert(sharp.data).map, k.grid1, k.grid2, min_fraction=0.1)
    assert len(found) == 2

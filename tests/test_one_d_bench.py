"""The 1D benchmark harness: cases with known truth, scoring and the benchmark script."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.bench.one_d import make_case, one_d_kernel, one_d_suite
from laplace_inv.bench.one_d_score import match_components, run_cases, score_case
from laplace_inv.metrics import DetectedPeak
from laplace_inv.metrics.peaks import find_peaks_1d


def test_cases_have_truth_on_the_output_grid_and_seeded_noise():
    cases = one_d_suite(quick=True)
    again = one_d_suite(quick=True)
    assert [c.name for c in cases] == [c.name for c in again]
    for case, twin in zip(cases, again, strict=True):
        np.testing.assert_array_equal(case.data, twin.data)
        assert case.truth.shape == (case.kernel.map_shape[0],)
        assert np.isclose(case.fractions.sum(), 1.0) and case.noise_std > 0
        assert case.data.shape == (case.kernel.data_shape[0],)
    assert {c.params["kind"] for c in cases} == {"T2", "T1_IR", "D"}
    assert len(one_d_suite()) > len(cases)
    other = one_d_suite(seed=1, quick=True)
    assert not np.array_equal(other[0].data, cases[0].data)


def test_the_true_distribution_scores_perfectly():
    case = make_case("t", "components", "T2", [-2.5, -1.2], [0.08, 0.12], [1, 2], snr=1e9)
    score = score_case(case, find_peaks_1d(case.truth, case.kernel.grid))
    assert score["missed"] == 0 and score["spurious"] == 0
    assert score["position_error"] < 0.01 and score["width_error"] < 0.03
    assert score["fraction_error"] < 0.5
    np.testing.assert_allclose(case.kernel.forward(case.truth), case.data, rtol=1e-2, atol=1e-4)


def test_matching_and_resolution_rule():
    peaks = [DetectedPeak.from_log_position((x,), fwhm=(0.1,), fraction=0.5) for x in (-2.2, -1.8)]
    assert match_components(np.array([-2.2, -1.8]), peaks) == [(0, 0), (1, 1)]
    assert match_components(np.array([-2.2]), []) == [(0, None)]
    pair = make_case("p", "resolution", "T2", [-2.2, -1.8], [0.05, 0.05], [1, 1], 1e3, sep=0.4)
    assert score_case(pair, peaks)["resolved"] is True
    merged = [DetectedPeak.from_log_position((-2.0,), fwhm=(0.5,), fraction=1.0)]
    assert score_case(pair, merged)["resolved"] is False


def test_run_cases_scores_each_method_and_reports_dlemlr_failure():
    case = make_case("r", "components", "T2", [-2.0], [0.1], [1.0], snr=1000)
    rows = run_cases([case], ["tikhonov", "dlemlr"])
    ok, failed = rows
    assert ok["status"] == "ok" and ok["missed"] == 0 and ok["position_error"] < 0.05
    assert failed["status"].startswith("failed: 1D DLEMLR is not available")
    assert one_d_kernel("D").kinds == ("D",)


def test_benchmark_script_writes_its_tables(tmp_path, monkeypatch, capsys):
    bench = pytest.importorskip("benchmarks.bench_1d")
    monkeypatch.delenv("LAPLACE_INV_DATA", raising=False)
    out = tmp_path / "one_d.md"
    assert bench.main(["--quick", "--methods", "tikhonov", "--out", str(out)]) == 0
    text = out.read_text()
    assert "## 1-3 components" in text and "| tikhonov | 100 | 3 |" in text
    assert "## Resolution" in text and "no real files inverted" in text

"""The fraction-error breakdown of ``benchmarks/studies/bench_dlemlr_splits.py``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.metrics import compare_to_truth
from laplace_inv.simulate import Peak, cement_kernel, make_scenario, render_map

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def splits():
    sys.path.insert(0, str(ROOT))  # the repository root, where `benchmarks` lives
    return importlib.import_module("benchmarks.studies.bench_dlemlr_splits")


def test_breakdown_adds_up_and_finds_a_split_peak(splits):
    from benchmarks.studies.common import MATCH_RADIUS  # importable once `splits` is loaded

    k = cement_kernel()
    peaks = [Peak((-1.0, -2.5), (0.08, 0.2), 0.6), Peak((0.0, -1.0), (0.06, 0.06), 0.4)]
    sc = make_scenario("two", k, peaks, snr=300, random_state=0)
    g1, g2 = k.grid1, k.grid2
    exact = sc.truth
    # the broad peak cut in two: a third of its mass moved 0.25 decade along T2
    lobe = render_map([Peak((-1.0, -2.25), (0.05, 0.05), 0.2)], g1, g2)
    split = render_map([Peak((-1.0, -2.55), (0.08, 0.12), 0.4), peaks[1]], g1, g2) + lobe
    scores = splits.map_scores([sc, sc], [exact, split])
    parts = splits.fraction_breakdown([sc, sc], [exact, split], scores["comparisons"])
    expected = [
        compare_to_truth(F, sc.true_peaks(), g1, g2, max_match_distance=MATCH_RADIUS).fraction_error
        for F in (exact, split)
    ]
    np.testing.assert_allclose(scores["per_case"]["fraction_error"], expected)
    total = parts["unmatched"] + parts["under"] + parts["over"]
    assert total == pytest.approx(np.mean(expected))
    assert parts["split_count"] == 1
    assert parts["split_mass"] == pytest.approx(0.2 / 2, abs=0.03)  # one map of two
    assert parts["under"] > 0.05


def test_input_channel_is_an_inversion(splits):
    k = cement_kernel()
    sc = make_scenario("one", k, [Peak((-1.0, -2.0), (0.1, 0.1), 1.0)], snr=1000, random_state=1)
    F = splits.InputChannel(k, 1).invert(sc.data).map
    assert F.shape == k.map_shape and F.min() >= 0
    r = compare_to_truth(F, sc.true_peaks(), k.grid1, k.grid2)
    assert r.n_found >= 1 and r.position_error < 0.1


def test_shipped_weights_load_from_their_folder_and_invert():
    """What bench_dlemlr_splits.py --weights-dir does, on the shipped weights (candidate
    weights are not kept in the repository)."""
    from laplace_inv.dlemlr.estimator import WEIGHTS_DIR, DLEMLRInverter

    k = cement_kernel()
    est = DLEMLRInverter.from_pretrained(kernel=k, weights_dir=WEIGHTS_DIR)  # checks SHA-256
    sc = make_scenario("one", k, [Peak((-1.0, -2.0), (0.1, 0.1), 1.0)], snr=1000, random_state=2)
    r = compare_to_truth(est.invert(sc.data).map, sc.true_peaks(), k.grid1, k.grid2)
    assert r.position_error < 0.1

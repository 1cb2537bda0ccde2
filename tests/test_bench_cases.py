"""The widened benchmark cases: broad, skewed, ridge, continuous and non-ideal IR maps."""

from __future__ import annotations

import numpy as np
import pytest

from laplace_inv.bench.cases import (
    NONIDEAL_EFFICIENCY,
    NONIDEAL_OFFSET,
    RANDOM_PRIORS,
    WIDE_PRIORS,
    family_kernel,
    simulated_suite,
)
from laplace_inv.bench.runner import score_map
from laplace_inv.metrics import find_peaks
from laplace_inv.simulate import with_ir_efficiency


def small_kernel(family):
    return family_kernel(family, n_grid=32)


@pytest.fixture(scope="module")
def wide():
    return simulated_suite(
        0,
        separations=(),
        named=False,
        random_kinds=tuple(WIDE_PRIORS),
        kernel_for=small_kernel,
    )


def test_every_widened_kind_is_its_own_group(wide):
    groups = {c.group for c in wide}
    assert groups == set(WIDE_PRIORS)
    names = [c.name for c in wide]
    assert len(names) == len(set(names)) == 4 + 4 + 2 + 4 + 1
    assert "random-ridge_D-T2" not in names  # ridges along T1 ∝ T2 only on T1 families
    assert [c.family for c in wide if c.group == "random-nonideal-ir"] == ["T1_IR-T2"]


def test_widened_cases_have_a_map_truth_that_scores(wide):
    for case in wide:
        assert case.params["truth_from_map"] and case.params["prior"] == case.group
        assert abs(case.truth.sum() - 1.0) < 0.15  # point-sampled on a coarse 32 x 32 grid
        assert find_peaks(case.truth, case.kernel.grid1, case.kernel.grid2)
        metrics, rows = score_map(case, case.truth)
        assert metrics["position_error"] == 0.0 and metrics["tv_distance"] == 0.0
        assert len(rows) == metrics["n_true"] >= 1


def test_t1_families_keep_their_mass_at_t1_ge_t2(wide):
    for case in (c for c in wide if c.family.startswith("T1")):
        L1, L2 = np.meshgrid(case.kernel.axis1.log_grid, case.kernel.axis2.log_grid, indexing="ij")
        assert case.truth[L1 < L2].sum() < 0.02


def test_nonideal_ir_data_come_from_the_imperfect_acquisition(wide):
    (case,) = [c for c in wide if c.group == "random-nonideal-ir"]
    e, off = case.params["efficiency"], case.params["offset"]
    assert NONIDEAL_EFFICIENCY[0] <= e <= NONIDEAL_EFFICIENCY[1]
    # the data are the imperfect acquisition's plus the offset, plus noise
    S = with_ir_efficiency(case.kernel, e).forward(case.truth)
    clean_level = np.abs(S).max()
    assert NONIDEAL_OFFSET[0] * clean_level - 1e-3 <= off <= NONIDEAL_OFFSET[1] * clean_level + 1e-3
    residual = case.data - S - off
    assert np.std(residual) < 1.5 * case.noise_std  # explained up to noise and discretisation
    ideal = case.kernel.forward(case.truth)
    assert np.std(case.data - ideal) > 3 * case.noise_std  # the ideal model does not explain it


def test_existing_cases_are_unchanged_and_the_quick_suite_has_no_widened_case():
    full = simulated_suite(0, separations=(), named=False, kernel_for=small_kernel)
    old = simulated_suite(
        0, separations=(), named=False, random_kinds=tuple(RANDOM_PRIORS), kernel_for=small_kernel
    )
    assert [c.name for c in full[: len(old)]] == [c.name for c in old]
    for a, b in zip(full, old, strict=False):
        assert np.array_equal(a.data, b.data) and np.array_equal(a.truth, b.truth)
    assert len(full) == len(old) + 15
    quick = simulated_suite(0, quick=True, named=False, separations=(), kernel_for=small_kernel)
    assert not any(c.group in WIDE_PRIORS for c in quick)
    with pytest.raises(ValueError, match="unknown random kinds"):
        simulated_suite(0, separations=(), named=False, random_kinds=("random-wavy",))

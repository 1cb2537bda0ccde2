"""The estimator contract: input validation, shapes, scikit-learn checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter

SMALL = Kernel2D(
    KernelAxis("T2", np.geomspace(1e-3, 1.0, 4), n_grid=6),
    KernelAxis("T2", np.geomspace(1e-3, 1.0, 5), n_grid=6),
)

# scikit-learn's generic checks feed random matrices whose feature count differs from the
# kernel's n1*n2, or expect learning from y; a fixed-kernel inverter cannot apply there.
SHAPE_REASON = "inputs must have n1*n2 features fixed by the kernel"
EXPECTED_FAILURES = {
    "check_estimators_dtypes": SHAPE_REASON,
    "check_fit_score_takes_y": SHAPE_REASON,
    "check_estimators_fit_returns_self": SHAPE_REASON,
    "check_pipeline_consistency": SHAPE_REASON,
    "check_estimators_overwrite_params": SHAPE_REASON,
    "check_estimators_pickle": SHAPE_REASON,
    "check_f_contiguous_array_estimator": SHAPE_REASON,
    "check_transformer_data_not_an_array": SHAPE_REASON,
    "check_transformer_general": SHAPE_REASON,
    "check_transformer_preserve_dtypes": SHAPE_REASON,
    "check_methods_sample_order_invariance": SHAPE_REASON,
    "check_methods_subset_invariance": SHAPE_REASON,
    "check_fit2d_1sample": SHAPE_REASON,
    "check_fit2d_1feature": SHAPE_REASON,
    "check_dict_unchanged": SHAPE_REASON,
    "check_dont_overwrite_parameters": SHAPE_REASON,
    "check_fit_idempotent": SHAPE_REASON,
    "check_fit_check_is_fitted": SHAPE_REASON,
    "check_n_features_in": SHAPE_REASON,
    "check_positive_only_tag_during_fit": SHAPE_REASON,
    "check_estimators_nan_inf": SHAPE_REASON,
    "check_estimators_empty_data_messages": SHAPE_REASON,
    "check_fit2d_predict1d": SHAPE_REASON,
    "check_readonly_memmap_input": SHAPE_REASON,
    "check_n_features_in_after_fitting": SHAPE_REASON,
    "check_transformer_n_iter": SHAPE_REASON,
    "check_set_output_transform": SHAPE_REASON,
    "check_global_output_transform_pandas": SHAPE_REASON,
    "check_global_set_output_transform_polars": SHAPE_REASON,
    "check_set_output_transform_pandas": SHAPE_REASON,
    "check_set_output_transform_polars": SHAPE_REASON,
    "check_transformers_unfitted": SHAPE_REASON,
    "check_requires_y_none": SHAPE_REASON,
    "check_transformers_unfitted_stateless": SHAPE_REASON,
    "check_complex_data": "complex data raises TypeError with a phase-correction hint",
    "check_dtype_object": "object arrays are rejected with a TypeError naming the dtype",
    "check_estimator_sparse_tag": "decay matrices are dense; sparse input is rejected",
    "check_estimator_sparse_array": "decay matrices are dense; sparse input is rejected",
    "check_estimator_sparse_matrix": "decay matrices are dense; sparse input is rejected",
}


def _expected(est):
    return EXPECTED_FAILURES


@parametrize_with_checks(
    [TikhonovInverter(SMALL, penalty="global", alpha=0.1)],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def est():
    return TikhonovInverter(SMALL, penalty="global", alpha=0.1)


def test_predict_shapes(est):
    X = np.abs(np.random.default_rng(0).random((3, 4, 5)))
    assert est.predict(X).shape == (3, 36)
    assert est.predict(X.reshape(3, 20)).shape == (3, 36)
    assert np.array_equal(est.transform(X), est.predict(X))
    assert est.fit(X).n_features_in_ == 20


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (np.full((2, 20), np.nan), ValueError, "NaN"),
        (np.full((2, 20), np.inf), ValueError, "infinite"),
        (np.ones((2, 21)), ValueError, "21 features per sample but the kernel expects"),
        (np.ones(20), ValueError, "1D"),
        (np.ones((0, 20)), ValueError, "empty"),
        (np.ones((2, 20)) * (1 + 1j), TypeError, "complex.*phase_correct"),
        (np.ones((2, 5, 4)), ValueError, r"shape \(5, 4\)"),
        ([["a"] * 20], TypeError, "non-numeric"),
    ],
)
def test_bad_batches(est, X, error, message):
    with pytest.raises(error, match=message):
        est.predict(X)


def test_bad_single_dataset(est):
    with pytest.raises(ValueError, match="looks transposed"):
        est.invert(np.ones((5, 4)))
    with pytest.raises(ValueError, match="this looks like one dataset"):
        Kernel2D(KernelAxis("T2", [1e-3, 1e-2]), KernelAxis("T2", [1e-3, 1e-2]))
        TikhonovInverter(
            Kernel2D(KernelAxis("T2", [1e-3, 2e-3, 3e-3, 4e-3]), KernelAxis("T2", [1e-3])),
            penalty="global",
        ).predict(np.ones((4, 1)))
    with pytest.raises(TypeError, match=r"kernel must be a laplace_inv\.Kernel2D"):
        TikhonovInverter("T2").predict(np.ones((1, 20)))


def test_invert_result_object(est):
    S = SMALL.forward(np.eye(6)) + 1e-3
    res = est.invert(S, noise_std=1e-3)
    assert res.map.shape == (6, 6)
    assert res.kinds == ("T2", "T2")
    p1, p2 = res.projections()
    assert np.isclose(p1.sum(), res.map.sum()) and np.isclose(p2.sum(), res.map.sum())
    assert isinstance(res.peaks(), list)
    assert res.summary()["method"] == "Tikhonov"
    fig = res.plot()
    assert fig is not None


def test_progress_bar_only_when_asked_or_on_a_terminal(est, capsys):
    X = np.abs(np.random.default_rng(1).random((40, 20)))
    quiet = est.predict(X)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal
    shown = est.predict(X, progress=True)
    assert "40/40" in capsys.readouterr().err
    assert np.array_equal(quiet, shown)
    est.predict(X, progress=False, chunk_size=8)
    assert capsys.readouterr().err == ""

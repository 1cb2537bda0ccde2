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

# scikit-learn's checks generate data with 1 to 10 features; each check gets a kernel with one
# inversion delay and as many echoes as its data has features (an IR-CPMG layout, so the
# pretrained DLEMLR model of that family applies). Checks not listed use 3 features.
CHECK_FEATURES = {
    "check_estimators_dtypes": 5,
    "check_transformers_unfitted_stateless": 5,
    "check_positive_only_tag_during_fit": 4,
    "check_n_features_in_after_fitting": 4,
    "check_estimators_fit_returns_self": 2,
    "check_estimators_overwrite_params": 2,
    "check_readonly_memmap_input": 2,
    "check_fit_idempotent": 2,
    "check_fit_check_is_fitted": 2,
    "check_n_features_in": 2,
    "check_fit2d_1feature": 1,
    "check_fit2d_1sample": 10,
    "check_dtype_object": 10,
    "check_estimators_unfitted": 10,
}


def check_kernel(n_features: int, n_grid: int) -> Kernel2D:
    """A kernel whose data have ``n_features`` values: 1 delay × ``n_features`` echoes."""
    return Kernel2D(
        KernelAxis("T1_IR", [1e-2], n_grid=n_grid),
        KernelAxis("T2", np.geomspace(1e-3, 1.0, n_features), n_grid=n_grid),
    )


def _classical_estimators():
    from laplace_inv import L1Inverter

    kernel = check_kernel(3, 4)
    return [
        TikhonovInverter(kernel, upen_max_iter=5),
        TikhonovInverter(kernel, penalty="global", alpha=0.1),
        L1Inverter(kernel),
    ]


def _learned_estimators():
    from laplace_inv import DLEMLRInverter

    # The shipped models invert onto a 64 x 64 grid.
    return [DLEMLRInverter(check_kernel(3, 64), weights="pretrained")]


# The checks that cannot apply to an inverse problem as this package defines it.
Y_IS_MAPS = (
    "score(X, y) compares with the true maps (n_samples, N1*N2); a 1-D class or regression "
    "target means nothing to an inversion and is rejected"
)
EXPECTED_FAILURES = {
    "check_fit_score_takes_y": Y_IS_MAPS,
    "check_pipeline_consistency": Y_IS_MAPS,
    "check_transformer_n_iter": "fit learns nothing: iterations happen per sample in predict",
}


# Only the learned model: it runs in float32 on whole batches.
DLEMLR_FAILURES = {
    "check_methods_subset_invariance": "float32 network: batches differ by rounding (1e-7)",
}
NO_MAX_ITER = ("check_transformer_n_iter",)


def _expected(est):
    if type(est).__name__ == "DLEMLRInverter":
        kept = {k: v for k, v in EXPECTED_FAILURES.items() if k not in NO_MAX_ITER}
        return {**kept, **DLEMLR_FAILURES}
    return EXPECTED_FAILURES


def _check_name(check) -> str:
    func = getattr(check, "func", check)
    return func.__name__


def _run_check(estimator, check):
    n_grid = estimator.kernel.map_shape[0]
    n_features = CHECK_FEATURES.get(_check_name(check), 3)
    check(estimator.set_params(kernel=check_kernel(n_features, n_grid)))


@parametrize_with_checks(_classical_estimators(), expected_failed_checks=_expected)
def test_sklearn_compatible(estimator, check):
    _run_check(estimator, check)


# About 2 minutes on one CPU core (each check inverts onto 64 x 64 maps): run with -m slow.
@pytest.mark.slow
@parametrize_with_checks(_learned_estimators(), expected_failed_checks=_expected)
def test_sklearn_compatible_dlemlr(estimator, check):
    _run_check(estimator, check)


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
        (np.ones((2, 21)), ValueError, "X has 21 features, but TikhonovInverter is expecting 20"),
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


def test_input_errors_use_scikit_learns_phrases(est):
    """The phrases scikit-learn's checks look for, after the package's own words."""
    from scipy import sparse

    from laplace_inv._validation import ComplexDataError

    with pytest.raises(TypeError, match=r"sparse input is not supported.*toarray"):
        est.predict(sparse.csr_matrix(np.ones((2, 20))))
    with pytest.raises(ValueError, match="Complex data not supported") as info:
        est.predict(np.ones((2, 20)) * (1 + 1j))
    assert isinstance(info.value, ComplexDataError) and isinstance(info.value, TypeError)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(3, 0\)\)"):
        est.fit(np.ones((3, 0)))
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        est.fit(np.ones((0, 20)))
    with pytest.raises(ValueError, match="Reshape your data"):
        est.predict(np.ones(20))


def test_numeric_object_arrays_are_converted(est):
    X = np.abs(np.random.default_rng(2).random((3, 20)))
    np.testing.assert_array_equal(est.predict(X.astype(object)), est.predict(X))
    bad = X.astype(object)
    bad[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match=r"non-numeric entries.*dict"):
        est.predict(bad)
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.predict(np.array([[1j] * 20], dtype=object))


def test_pretrained_dlemlr_needs_no_fit():
    pytest.importorskip("torch")
    from sklearn.utils import get_tags

    from laplace_inv import DLEMLRInverter

    kernel = check_kernel(3, 64)
    assert get_tags(DLEMLRInverter(kernel)).requires_fit
    assert not get_tags(DLEMLRInverter(kernel, weights="pretrained")).requires_fit

"""scikit-learn recipes, as documented in ``docs/recipes.md``.

1. ``GridSearchCV`` over a classical inverter's α, scored by a
   :func:`laplace_inv.metrics.make_map_scorer` scorer against the true maps of simulated data.
2. The cheese-ripening ``Pipeline`` (``tutorials/cheese_pipeline.py``): simulated cheese
   decays at ripening days 10/15/20 → ``TikhonovInverter`` (as a transformer) → map features →
   ``LogisticRegression`` predicting the day, against the same classifier on the raw decays.
   Both accuracies are printed and recorded (``record_property``).
3. ``clone`` and ``set_params`` round trips, alone and inside a pipeline.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
from laplace_inv.metrics import make_map_scorer
from laplace_inv.simulate import PeakPrior, make_training_set

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"


def _small_kernel(n_grid: int = 20) -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 12), n_grid=n_grid),
        KernelAxis("T2", np.arange(1, 151) * 1e-3, n_grid=n_grid),
    )


@pytest.fixture(scope="module")
def cheese():
    """The cheese-pipeline tutorial module (one definition of the day → shift mapping)."""
    sys.path.insert(0, str(TUTORIALS))
    try:
        spec = importlib.util.spec_from_file_location(
            "cheese_pipeline", TUTORIALS / "cheese_pipeline.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(TUTORIALS))


# ------------------------------------------------------------------------ GridSearchCV over α


def test_grid_search_over_alpha_with_a_map_scorer():
    kernel = _small_kernel()
    prior = PeakPrior(n_peaks=(1, 2), sigma=(0.08, 0.15), margin=0.6)
    X, Y, _ = make_training_set(kernel, 8, prior=prior, snr=300.0, oversample=2, random_state=0)
    L = kernel.compress().lipschitz
    alphas = [1e-1 * L, 1e-6 * L, 1e-9 * L]  # data are normalised to max|S| = 1
    scorer = make_map_scorer("tv_distance", kernel.grid1, kernel.grid2, kernel.map_shape)
    search = GridSearchCV(
        TikhonovInverter(kernel, penalty="global", alpha=1.0, max_iter=500),
        {"alpha": alphas},
        scoring=scorer,
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 3 and np.all(scores <= 0) and np.all(scores >= -1)
    # the heavily over-smoothed α loses
    assert search.best_params_["alpha"] != alphas[0]
    assert scores[0] < scores.max()
    assert isinstance(search.best_estimator_, TikhonovInverter)
    assert search.best_estimator_.alpha == search.best_params_["alpha"]
    assert search.best_estimator_.predict(X[:1]).shape == (1, kernel.map_shape[0] ** 2)


# ------------------------------------------------------------------ cheese-ripening pipeline


def test_cheese_ripening_pipeline_maps_vs_raw_decays(cheese, record_property):
    assert cheese.DAY_TO_SHIFT == {10: 0.0, 15: 0.05, 20: 0.10}
    kernel = _small_kernel()
    out = cheese.run(kernel, n_per_day=10, random_state=0)
    acc_maps, acc_raw = out["accuracy_maps"], out["accuracy_raw"]
    print(f"cheese pipeline accuracy: maps {acc_maps:.3f}, raw decays {acc_raw:.3f}")
    record_property("accuracy_maps", acc_maps)
    record_property("accuracy_raw", acc_raw)
    maps_pipe, raw_pipe = out["pipelines"]
    assert [name for name, _ in maps_pipe.steps] == ["invert", "features", "scale", "clf"]
    assert [name for name, _ in raw_pipe.steps] == ["scale", "clf"]
    assert set(maps_pipe.classes_) == {10, 15, 20}
    assert 0.0 <= acc_raw <= 1.0
    assert acc_maps > 1 / 3  # better than chance on 15 test samples


def test_map_features_shape_and_normalisation(cheese):
    feats = cheese.MapFeatures((4, 6), pool=4)
    X = np.arange(2 * 24, dtype=float).reshape(2, 24)
    Z = feats.fit_transform(X)
    assert Z.shape == (2, 1 + 2)  # ⌈4/4⌉ + ⌈6/4⌉
    np.testing.assert_allclose(Z[:, :1].sum(axis=1), 1.0)
    np.testing.assert_allclose(Z[:, 1:].sum(axis=1), 1.0)
    np.testing.assert_allclose(feats.transform(3.0 * X), Z)  # amplitude-invariant


# ------------------------------------------------------------------------ clone / set_params


def _same_params(a, b) -> None:
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for key in pa:
        va, vb = pa[key], pb[key]
        if isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb)
        else:
            assert va == vb, key


def test_clone_and_set_params_round_trip():
    kernel = _small_kernel()
    est = TikhonovInverter(kernel, penalty="global", alpha=0.01, max_iter=50)
    twin = clone(est)
    assert twin is not est
    _same_params(est, twin)
    assert twin.kernel == kernel  # a copy of the kernel, equal by fingerprint

    assert est.set_params(alpha="lcurve", penalty="upen") is est
    assert est.get_params()["alpha"] == "lcurve" and est.penalty == "upen"
    est.set_params(**twin.get_params())
    _same_params(est, twin)
    with pytest.raises(ValueError):
        est.set_params(not_a_parameter=1)

    fitted = TikhonovInverter(kernel).fit(np.zeros((2, 12 * 150)))
    assert hasattr(fitted, "n_features_in_")
    assert not hasattr(clone(fitted), "n_features_in_")  # clones are unfitted


def test_pipeline_set_params_and_clone(cheese):
    kernel = _small_kernel()
    maps, _ = cheese.make_pipelines(kernel)
    assert isinstance(maps, Pipeline)
    maps.set_params(invert__alpha=0.5, features__pool=4, clf__C=0.1)
    twin = clone(maps)
    params = twin.get_params()
    assert params["invert__alpha"] == 0.5
    assert params["features__pool"] == 4
    assert params["clf__C"] == 0.1
    assert params["invert__kernel"] == kernel


@pytest.mark.parametrize("name", ["L1Inverter", "DLEMLRInverter"])
def test_clone_other_inverters(name):
    import laplace_inv

    try:
        cls = getattr(laplace_inv, name)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{name} not available yet: {exc}")
    kernel = _small_kernel()
    est = cls(kernel=kernel)
    twin = clone(est)
    _same_params(est, twin)
    key = "alpha" if "alpha" in est.get_params() else "w_data"
    value = 0.123
    assert est.set_params(**{key: value}) is est
    assert clone(est).get_params()[key] == value

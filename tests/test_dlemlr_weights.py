"""DLEMLR weights as a parameter and their safety: clone, caching, records, hostile files."""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from laplace_inv.dlemlr import DLEMLRInverter, persistence
from laplace_inv.dlemlr.persistence import WEIGHTS_DIR, read_weights
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_kernel, make_training_set

TINY = dict(dim=16, depth=1, heads=2, patch=4, n_iter_phys=20)
SHIPPED = WEIGHTS_DIR / "all.safetensors"
needs_shipped = pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped weights")


@pytest.fixture(scope="module")
def tiny_kernel() -> Kernel2D:
    return Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3, 8), n_grid=16),
        KernelAxis("T2", np.arange(1, 51) * 1e-3, n_grid=16),
    )


@pytest.fixture(scope="module")
def tiny_file(tiny_kernel, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    X, Y, _ = make_training_set(tiny_kernel, 48, random_state=1)
    est = DLEMLRInverter(tiny_kernel, max_epochs=1, batch_size=16, random_state=0, **TINY)
    return est.fit(X, Y).save(tmp_path_factory.mktemp("w") / "m.safetensors")


def _rewrite_config(src: Path, dst: Path, edit) -> Path:
    """Copy a weights file with its stored config changed by ``edit(cfg)``."""
    from safetensors.torch import load_file, save_file

    cfg = dict(read_weights(src).config)
    edit(cfg)
    text = cfg if isinstance(cfg, str) else json.dumps(cfg)
    save_file(load_file(str(src)), str(dst), metadata={"config": text})
    return dst


# ------------------------------------------------------------------------------------------
# weights="pretrained": clone, GridSearchCV, cache
@needs_shipped
def test_clone_of_pretrained_estimator_predicts_without_fit():
    from sklearn.base import clone

    k = cement_kernel()
    X, _, _ = make_training_set(k, 2, random_state=4)
    est = DLEMLRInverter.from_pretrained(k)
    assert est.get_params()["weights"] == "pretrained"
    twin = clone(est)
    assert not hasattr(twin, "net_")
    np.testing.assert_array_equal(twin.predict(X), est.predict(X))
    direct = DLEMLRInverter(k, weights="pretrained")
    np.testing.assert_array_equal(direct.predict(X), est.predict(X))


@needs_shipped
def test_grid_search_over_refine_runs_without_training(monkeypatch):
    from sklearn.model_selection import GridSearchCV

    import laplace_inv.dlemlr.estimator as estimator_module

    def refuse(*args, **kwargs):
        raise AssertionError("GridSearchCV retrained a pretrained model")

    monkeypatch.setattr(estimator_module, "train_net", refuse)
    k = cement_kernel()
    X, Y, _ = make_training_set(k, 4, random_state=7)

    def map_error(est, X, Y):  # the default score is another issue's business
        return -float(np.linalg.norm(est.predict(X) - Y) / np.linalg.norm(Y))

    search = GridSearchCV(
        DLEMLRInverter(k, weights="pretrained"), {"refine": [False, True]}, cv=2, scoring=map_error
    ).fit(X, Y)
    assert search.best_estimator_.weights == "pretrained"
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@needs_shipped
def test_second_from_pretrained_is_served_from_the_cache(monkeypatch):
    k = cement_kernel()
    DLEMLRInverter.from_pretrained(k)
    reads = []
    real = persistence.read_weights
    monkeypatch.setattr(persistence, "read_weights", lambda *a, **kw: reads.append(a) or real(*a))
    t0 = time.perf_counter()
    DLEMLRInverter.from_pretrained(k)
    elapsed = time.perf_counter() - t0
    assert reads == []  # no file read the second time
    assert elapsed < 1.0


def test_caller_inference_parameters_win_over_the_file(tiny_kernel, tiny_file):
    with pytest.warns(UserWarning, match="n_iter_phys=20"):
        est = DLEMLRInverter.load(tiny_file, tiny_kernel, n_iter_phys=5, refine=False)
    assert est.n_iter_phys == 5 and est.refine is False
    plain = DLEMLRInverter.load(tiny_file, tiny_kernel)  # refine=True is the default
    assert plain.n_iter_phys == 20 and plain.refine is True


def test_user_weights_by_path_and_architecture_mismatch(tiny_kernel, tiny_file):
    X, _, _ = make_training_set(tiny_kernel, 2, random_state=3)
    loaded = DLEMLRInverter.load(tiny_file, tiny_kernel)
    direct = DLEMLRInverter(tiny_kernel, weights=tiny_file, **TINY)
    np.testing.assert_array_equal(direct.predict(X), loaded.predict(X))
    with pytest.raises(ValueError, match="architecture"):
        DLEMLRInverter(tiny_kernel, weights=tiny_file).predict(X)
    with pytest.raises(TypeError, match="weights must be"):
        DLEMLRInverter(tiny_kernel, weights=3).predict(X)


# ------------------------------------------------------------------------------------------
# defect 9: the stored config is validated before it reaches a constructor
@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda c: c.update(refine=True), "unknown config key 'refine'"),
        (lambda c: c.update(n_iter_phys=1e6), "'n_iter_phys' must be an integer"),
        (lambda c: c.update(n_iter_phys=10**6), r"'n_iter_phys' must lie in \[1, 1000\]"),
        (lambda c: c.pop("dim"), "lacks the key 'dim'"),
        (lambda c: c.update(heads="2"), "'heads' must be an integer"),
        (lambda c: c.update(grid=[16]), "'grid' must be a list of two integers"),
        (lambda c: c.update(w_phys=float("nan")), "'w_phys' must lie in"),
    ],
    ids=["refine", "float-iter", "huge-iter", "missing", "string", "grid", "nan-weight"],
)
def test_malformed_config_is_refused_naming_file_and_key(
    tiny_kernel, tiny_file, tmp_path, edit, match
):
    bad = _rewrite_config(tiny_file, tmp_path / "bad.safetensors", edit)
    with pytest.raises(ValueError, match=match) as info:
        DLEMLRInverter.load(bad, tiny_kernel)
    assert "bad.safetensors" in str(info.value)


def test_config_that_is_not_json_is_refused(tiny_kernel, tiny_file, tmp_path):
    from safetensors.torch import load_file, save_file

    bad = tmp_path / "bad.safetensors"
    save_file(load_file(str(tiny_file)), str(bad), metadata={"config": "{not json"})
    with pytest.raises(ValueError, match=r"bad\.safetensors \(config\): not valid JSON"):
        DLEMLRInverter.load(bad, tiny_kernel)


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ("{oops", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"sha256": "%s", "refine": true}', "unknown record key 'refine'"),
        ('{"sha256": "%s", "families": ["T9-T9"]}', "unknown families"),
        ('{"sha256": "%s", "config": {"dim": 8}}', "lacks the key"),
        ('{"sha256": "%s", "recipe": "../../etc/passwd"}', "bare"),
        ('{"sha256": "%s", "status": 3}', "must be of type str"),
    ],
)
def test_malformed_record_is_refused_naming_file_and_key(
    tiny_kernel, tiny_file, tmp_path, record, match
):
    folder = tmp_path / "w"
    folder.mkdir()
    wfile = folder / "T1_IR-T2.safetensors"
    wfile.write_bytes(tiny_file.read_bytes())
    digest = persistence.sha256_file(wfile)
    jfile = folder / "T1_IR-T2.json"
    jfile.write_text(record.replace("%s", digest))
    with pytest.raises(ValueError, match=match) as info:
        DLEMLRInverter.from_pretrained(tiny_kernel, weights_dir=folder, **TINY)
    assert "T1_IR-T2.json" in str(info.value)


# ------------------------------------------------------------------------------------------
# defect 10: non-finite weights
def test_weights_full_of_nan_are_refused(tiny_kernel, tiny_file, tmp_path):
    from safetensors.torch import load_file, save_file

    state = load_file(str(tiny_file))
    name = sorted(state)[0]
    state[name] = torch.full_like(state[name], float("nan"))
    bad = tmp_path / "nan.safetensors"
    meta = {"config": json.dumps(read_weights(tiny_file).config)}
    save_file(state, str(bad), metadata=meta)
    with pytest.raises(ValueError, match=f"weight '{name}' is not finite"):
        DLEMLRInverter.load(bad, tiny_kernel)


# ------------------------------------------------------------------------------------------
# defect 11: FIFOs, devices, links to /dev/zero and oversized files are refused at once
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_as_weights_is_refused_without_blocking(tiny_kernel, tmp_path):
    fifo = tmp_path / "w.safetensors"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="not a regular file"):
        DLEMLRInverter.load(fifo, tiny_kernel)
    assert time.perf_counter() - t0 < 5


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_pretrained_link_to_dev_zero_is_refused(tiny_kernel, tiny_file, tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "all.safetensors").symlink_to("/dev/zero")
    (folder / "all.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(ValueError, match="not a regular file"):
        DLEMLRInverter.from_pretrained(tiny_kernel, weights_dir=folder, **TINY)
    (folder / "all.json").unlink()
    (folder / "all.json").symlink_to("/dev/zero")
    (folder / "all.safetensors").unlink()
    (folder / "all.safetensors").write_bytes(tiny_file.read_bytes())
    with pytest.raises(ValueError, match="not a regular file"):
        DLEMLRInverter.from_pretrained(tiny_kernel, weights_dir=folder, **TINY)


def test_oversized_weights_file_is_refused(tiny_kernel, tiny_file, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_WEIGHTS_BYTES", 1000)
    persistence.clear_cache()
    with pytest.raises(ValueError, match="more than the 1000 allowed"):
        DLEMLRInverter.load(tiny_file, tiny_kernel)


def test_saving_never_leaves_a_partial_file(tiny_kernel, tiny_file, tmp_path):
    est = DLEMLRInverter.load(tiny_file, tiny_kernel)
    out = est.save(tmp_path / "copy.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.safetensors"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = DLEMLRInverter.load(out, tiny_kernel)
    assert again.weights_sha256_ == persistence.sha256_file(out)


def test_weights_sha256_is_the_package_hash_after_the_file_checks(tmp_path, monkeypatch):
    from laplace_inv.datasets import sha256_file as package_sha256

    path = tmp_path / "w.safetensors"
    path.write_bytes(b"0123456789" * 1000)
    assert persistence.sha256_file(path) == package_sha256(path)
    assert persistence.sha256_file(str(path)) == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="not a regular file"):
        persistence.sha256_file("/dev/zero")
    with pytest.raises(FileNotFoundError, match="no such file"):
        persistence.sha256_file(tmp_path / "missing")
    monkeypatch.setattr(persistence, "MAX_WEIGHTS_BYTES", 100)
    with pytest.raises(ValueError, match="more than the 100 allowed"):
        persistence.sha256_file(path)


def test_loading_for_inference_builds_no_torch_optimizer():
    """A fresh process loads the weights without importing torch._dynamo (about a second)."""
    import subprocess
    import sys

    code = (
        "import sys; from laplace_inv.dlemlr import DLEMLRInverter; "
        "from laplace_inv.simulate import cement_kernel; "
        "est = DLEMLRInverter.from_pretrained(cement_kernel()); "
        "print(type(est.net_.optimizer_).__name__, 'torch._dynamo' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["InferenceOnlyOptimizer", "False"]


def test_a_net_loaded_for_inference_refuses_to_step():
    est = DLEMLRInverter.from_pretrained(cement_kernel())
    with pytest.raises(RuntimeError, match="loaded for inference"):
        est.net_.optimizer_.step()

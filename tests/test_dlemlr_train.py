"""``laplace-inv train``: recipes, output folders, and the record of the shipped model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import laplace_inv.dlemlr.train as train_module
from laplace_inv.dlemlr import DLEMLRInverter
from laplace_inv.dlemlr.persistence import WEIGHTS_DIR, read_record
from laplace_inv.dlemlr.recipe import RECIPES_DIR, read_recipe
from laplace_inv.dlemlr.record import FAMILIES
from laplace_inv.dlemlr.train import PACKAGE_DIR, build_parser, parse_args, train_main
from laplace_inv.kernels import Kernel2D, KernelAxis

QUICK = [
    "--family",
    "T2-T2",
    "--n-train",
    "48",
    "--n-test",
    "16",
    "--epochs",
    "1",
    "--dim",
    "16",
    "--depth",
    "1",
    "--n-iter-phys",
    "5",
    "--sim-jobs",
    "1",
    "--threads",
    "1",
    "--verbose",
    "0",
]


def _package_files() -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in PACKAGE_DIR.rglob("*") if p.is_file()}


def test_training_without_out_writes_a_new_folder_and_its_recipe(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = _package_files()
    assert train_main([*QUICK, "--verbose", "1"]) == 0
    assert _package_files() == before  # nothing written into the installed package
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("dlemlr-T2-T2-")]
    assert f"writing to {folder}" in capsys.readouterr().out
    record = read_record(folder / "T2-T2.json")  # validates against the schema
    assert record["recipe"] == "T2-T2.toml"
    again = read_recipe(folder / record["recipe"], build_parser())
    assert again["n_train"] == 48 and again["dim"] == 16 and again["family"] == "T2-T2"
    kernel = Kernel2D(
        KernelAxis("T2", np.geomspace(1e-3, 1, 16)), KernelAxis("T2", np.arange(1, 101) * 1e-3)
    )
    est = DLEMLRInverter.from_pretrained(kernel, weights_dir=folder)
    assert est.weights == folder / "T2-T2.safetensors"
    assert np.isfinite(est.predict(kernel.forward(np.ones((1, 64, 64))))).all()


def test_training_refuses_the_package_folder_and_existing_models(tmp_path):
    with pytest.raises(SystemExit) as info:
        train_main([*QUICK, "--out", str(WEIGHTS_DIR)])
    assert info.value.code == 2
    (tmp_path / "T2-T2.json").write_text("{}")
    with pytest.raises(SystemExit):
        train_main([*QUICK, "--out", str(tmp_path)])
    assert (tmp_path / "T2-T2.json").read_text() == "{}"


def test_recipe_sets_options_and_the_command_line_wins(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('[train]\nn_train = 123\nlr = 2e-4\nfamily = "D-T2"\n[provenance]\nx = "y"\n')
    args = parse_args(["--recipe", str(recipe), "--lr", "1e-3"])
    assert (args.n_train, args.lr, args.family) == (123, 1e-3, "D-T2")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[train]\nn_trian = 5\n", "unknown \\[train\\] option 'n_trian'"),
        ("[train]\nn_train = 5.5\n", "n_train must be a int"),
        ("[train]\nfamily = 'X'\n", "family must be one of"),
        ("[train]\nout = 'somewhere'\n", "unknown \\[train\\] option 'out'"),
        ("[train\n", "not valid TOML"),
        ("[other]\n", "unknown tables"),
    ],
)
def test_bad_recipes_are_refused_naming_file_and_key(tmp_path, capsys, text, match):
    recipe = tmp_path / "bad.toml"
    recipe.write_text(text)
    with pytest.raises(SystemExit):
        parse_args(["--recipe", str(recipe)])
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert re.search(match, err)


def test_shipped_record_points_to_the_shipped_recipe():
    record = read_record(WEIGHTS_DIR / "all.json")
    recipe = read_recipe(RECIPES_DIR / record["recipe"], build_parser())
    training = record["training"]
    assert recipe["n_train"] == training["n_train"]
    assert recipe["seed"] == training["seed"]
    assert recipe["lr"] == training["lr"]
    assert recipe["warmup_steps"] == training["warmup_steps"]
    assert recipe["cluster"] == training["prior"]["cluster"]
    assert recipe["w_phys"] == record["config"]["w_phys"]
    for stage in range(1, 5):
        assert (RECIPES_DIR / f"all-stage{stage}.toml").is_file()
    assert "54a8828" not in Path(train_module.__file__).read_text()  # history lives in docs
    assert json.loads((WEIGHTS_DIR / "all.json").read_text())["recipe"] == "all-stage4.toml"


WIDENED = [
    "--broad",
    "0.3",
    "--skew",
    "0.3",
    "--ridge",
    "0.1",
    "--continuous",
    "0.15",
    "--t1-ge-t2",
    "--below-diagonal",
    "0.01",
    "--ir-efficiency-min",
    "0.6",
    "--ir-efficiency-max",
    "1.0",
    "--offset",
    "0.02",
]


def test_widened_prior_options_reach_the_record_and_the_run_recipe(tmp_path):
    argv = [*QUICK, *WIDENED, "--family", "T1_IR-T2", "--out", str(tmp_path)]
    assert train_main(argv) == 0
    record = read_record(tmp_path / "T1_IR-T2.json")
    prior = record["training"]["prior"]
    assert (prior["broad"], prior["skew"], prior["ridge"], prior["continuous"]) == (
        0.3,
        0.3,
        0.1,
        0.15,
    )
    assert prior["t1_ge_t2"] is True and prior["below_diagonal"] == 0.01
    acquisition = record["training"]["acquisition"]
    assert acquisition["ir_efficiency"] == [0.6, 1.0]
    assert acquisition["offset_fraction_of_max_abs_S"] == [-0.02, 0.02]
    again = read_recipe(tmp_path / "T1_IR-T2.toml", build_parser())
    assert again["t1_ge_t2"] is True and again["ir_efficiency_max"] == 1.0
    assert again["offset"] == 0.02


def test_default_options_keep_the_ideal_acquisition_and_the_plain_prior():
    from laplace_inv.dlemlr.simulation import (
        TRAIN_PRIOR,
        acquisition_from_args,
        prior_from_args,
    )

    args = parse_args([])
    assert acquisition_from_args(args) == (None, None)
    assert prior_from_args(args) == TRAIN_PRIOR
    assert not prior_from_args(args).widened


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--ir-efficiency-min", "0.6"], "give both --ir-efficiency-min"),
        (["--ir-efficiency-min", "0.9", "--ir-efficiency-max", "0.6"], "0 < min <= max"),
        (["--offset", "-0.1"], "--offset must be a finite fraction"),
        (["--broad", "1.5"], "broad must be a probability"),
    ],
)
def test_bad_widened_options_are_refused_before_simulating(tmp_path, capsys, extra, match):
    with pytest.raises(SystemExit) as info:
        train_main([*QUICK, *extra, "--out", str(tmp_path)])
    assert info.value.code == 2
    assert re.search(match, capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_layout_prior_applies_each_option_to_its_families():
    from laplace_inv.dlemlr.simulation import layout_prior, random_layout
    from laplace_inv.simulate import PeakPrior

    prior = PeakPrior(t1_ge_t2=True, below_diagonal=0.01, broad=0.3)
    eff, off = (0.6, 1.0), (-0.02, 0.02)
    rng = np.random.default_rng(0)
    got = {f: layout_prior(random_layout(f, rng), prior, eff, off) for f in sorted(FAMILIES)}
    assert got["T1_IR-T2"] == (prior, eff, off)
    assert got["T1_SR-T2"] == (prior, None, off)
    for family in ("T2-T2", "D-T2"):
        p, e, o = got[family]
        assert (p.t1_ge_t2, p.below_diagonal, p.broad, e, o) == (False, None, 0.3, None, None)


def test_simulated_pairs_follow_the_acquisition_options():
    from laplace_inv.dlemlr.simulation import simulate_features
    from laplace_inv.simulate import PeakPrior

    prior = PeakPrior(n_peaks=(1, 2), sigma=(0.05, 0.1), t1_ge_t2=True, below_diagonal=0.01)
    kw = {"chunk": 4, "prior": prior, "n_iter": 3}
    ideal = simulate_features("T1_IR-T2", 4, 3, **kw)
    nonideal = simulate_features("T1_IR-T2", 4, 3, efficiency=(0.6, 0.6), offset=(0.02, 0.02), **kw)
    # same maps (drawn first; normalised by a different max|S|), different data and so
    # different network inputs
    a, b = (
        m.astype(float) / m.astype(float).sum(1, keepdims=True) for m in (ideal.maps, nonideal.maps)
    )
    np.testing.assert_allclose(a, b, atol=1e-3)
    assert not np.allclose(ideal.samples["bp"], nonideal.samples["bp"])
    # families without a T1_IR axis accept the options (they apply per layout)
    other = simulate_features("T2-T2", 4, 3, efficiency=(0.6, 1.0), offset=(0.0, 0.0), **kw)
    assert len(other) == 4


def test_stage5_recipe_asks_for_the_widened_prior():
    recipe = read_recipe(RECIPES_DIR / "all-stage5.toml", build_parser())
    assert recipe["broad"] == 0.3 and recipe["continuous"] == 0.15
    assert recipe["t1_ge_t2"] is True and recipe["below_diagonal"] == 0.01
    assert (recipe["ir_efficiency_min"], recipe["ir_efficiency_max"]) == (0.6, 1.0)
    assert recipe["offset"] == 0.02
    text = (RECIPES_DIR / "all-stage5.toml").read_text()
    assert "git show" in text and recipe["init"] in text  # how to get the init weights

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

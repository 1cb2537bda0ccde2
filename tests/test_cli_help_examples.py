"""Every example printed by every `laplace-inv ... --help` runs.

The examples are read from the help texts themselves (the lines under "examples:"), so a help
text cannot drift from what the command accepts. They run in a temporary folder holding
small inputs with the names the examples use (scan.npz, S.csv, t1.csv, t2.csv, scans/*.npz,
upen_folder/, my_method.py, regions.toml), with the demo on its embedded dataset. Two kinds of
example are checked by parsing only: `bench` examples get `--list-methods` appended (a
benchmark run takes minutes), `train` and `view` examples `--help` (training takes hours; the
viewer serves until stopped). The bare `laplace-inv demo` (every method) runs only with
`-m slow`.
"""

from __future__ import annotations

import contextlib
import io
import shlex

import numpy as np
import pytest

from laplace_inv.cli import main
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import cement_like

PAGES = [[], ["demo"], ["invert"], ["bench"], ["train"], ["view"]]
TAU1 = np.geomspace(1e-3, 3.0, 12)
TAU2 = np.arange(1, 121) * 0.5e-3


def help_text(page: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        assert main([*page, "--help"]) == 0  # bench returns 0 where argparse exits
    return out.getvalue()


def examples(page: list[str]) -> list[str]:
    """The example command lines of one help page, comments stripped."""
    lines, inside = [], False
    for line in help_text(page).splitlines():
        if line.strip().lower() == "examples:":
            inside = True
            continue
        if inside and not line.strip():
            inside = False
        if inside and line.strip().startswith("laplace-inv"):
            command = line.split("  #")[0].strip()
            lines.append(command)
    return lines


def is_slow(command: str) -> bool:
    return " demo" in command and "--methods" not in command and "--dataset" not in command


def make_inputs(folder) -> None:
    kernel = Kernel2D(KernelAxis("T1_IR", TAU1, n_grid=24), KernelAxis("T2", TAU2, n_grid=24))
    sc = cement_like(kernel, snr=300, random_state=0)
    np.savez(folder / "scan.npz", data=sc.data, tau1=TAU1, tau2=TAU2, kinds=["T1_IR", "T2"])
    (folder / "scans").mkdir()
    for i in range(2):
        np.savez(
            folder / "scans" / f"s{i}.npz",
            data=sc.data,
            tau1=TAU1,
            tau2=TAU2,
            kinds=["T1_IR", "T2"],
        )
    np.savetxt(folder / "S.csv", sc.data, delimiter=",")
    (folder / "my_method.py").write_text("# a user's plugin module (registers nothing)\n")
    (folder / "regions.toml").write_text(
        '[[region]]\nname = "main"\ntype = "box"\nx1 = [0.02, 0.8]\nx2 = [0.005, 0.1]\n'
    )
    np.savetxt(folder / "t1.csv", TAU1 * 1e3)
    np.savetxt(folder / "t2.csv", TAU2 * 1e3)
    upen = folder / "upen_folder"
    upen.mkdir()
    (upen / "FileSetInput.par").write_text(
        "filenamedata = s.dat\nfilenameTimeX = tx.dat\nfilenameTimeY = ty.dat\n"
        "nx = 24\nny = 24\nT1min = 0.1\nT1max = 1e4\nT2min = 0.05\nT2max = 1e3\nEND\n"
    )
    (upen / "FileFlag.par").write_text("FL_typeKernel = 1\nEND\n")
    np.savetxt(upen / "s.dat", sc.data, delimiter="\t")
    np.savetxt(upen / "ty.dat", TAU1 * 1e3)
    np.savetxt(upen / "tx.dat", TAU2 * 1e3)


def run_example(command: str) -> None:
    argv = shlex.split(command)[1:]
    if "bench" in argv:
        argv.append("--list-methods")
    if "train" in argv or "view" in argv:
        argv.append("--help")  # training takes hours; the viewer serves until stopped
    try:
        code = main(argv)
    except SystemExit as exc:  # --version, --help
        code = int(exc.code or 0)
    assert code == 0, f"example failed: {command}"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAPLACE_INV_DATA", raising=False)
    monkeypatch.setenv("LAPLACE_INV_OFFLINE", "1")
    monkeypatch.setenv("LAPLACE_INV_CACHE", str(tmp_path / "cache"))
    make_inputs(tmp_path)
    return tmp_path


def test_every_help_page_has_examples():
    for page in ([], ["demo"], ["invert"], ["bench"]):
        assert examples(page), f"no examples in laplace-inv {' '.join(page)} --help"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: " ".join(p) or "top")
def test_help_examples_run(page, sandbox, capsys):
    for command in examples(page):
        if not is_slow(command):
            run_example(command)
    capsys.readouterr()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: " ".join(p) or "top")
def test_slow_help_examples_run(page, sandbox):
    for command in examples(page):
        if is_slow(command):
            run_example(command)

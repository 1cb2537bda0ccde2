"""Fuzz every reader in :mod:`laplace_inv.io` (issue 7, item 5).

Hypothesis writes a small valid acquisition in one of the supported formats (text tables,
Upen2DTool folders, Spinsolve exports, ``.mat``, ``.npz``, result ``.npz``), then damages it:
truncated files, wrong delimiters, text in numeric columns, mismatched axis lengths, missing or
malformed ``.par``/``acqu.par`` keys, NaN, unsorted axes, binary garbage, pickled arrays. Every
reader, called directly and through :func:`~laplace_inv.io.read_any`, must return a consistent
:class:`~laplace_inv.io.Acquisition` or raise ``ValueError``/``TypeError`` (or
``FileNotFoundError`` for a file that is not there) whose message names the problem, never a
bare exception. The entries are shared with ``scripts/reliability_report.py``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io
from _hypothesis_profiles import THOROUGH_EXAMPLES
from hypothesis import strategies as st
from test_properties import Case, Entry, outcome, run_entry

from laplace_inv import io as lio

CLEAN = (ValueError, TypeError, FileNotFoundError)
FORMATS = ("table", "upen2d", "spinsolve", "mat", "npz", "result")

# Damage common to every text file, with the message it must produce.
TEXT_DAMAGE = {
    "truncate": r"truncated|values but|data is \d+x\d+|empty|has \d+ values",
    "wrong delimiter": r"cannot read .* as a number|delimiter|values but",
    "decimal comma": r"cannot read .* as a number|delimiter|values but|data is",
    # In a one-column axis file, a first line of words reads as a header: one value short.
    "text in numeric column": r"line \d+, column \d+: cannot read|has \d+ values|data is",
    "nan value": r"NaN|infinite",
    "empty file": r"empty",
    "binary garbage": r"cannot read|not a text|values but|header|empty|line \d+",
}


def _fmt(values: np.ndarray) -> list[str]:
    return [f"{v:.6g}" for v in values]


def _write_matrix(path: Path, M: np.ndarray, delim: str, header: bool, crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    lines = []
    if header:
        lines.append(delim.join(f"c{j}" for j in range(M.shape[1])))
    lines += [delim.join(_fmt(row)) for row in M]
    path.write_text(end.join(lines) + end)


def _damage_text(path: Path, damage: str, rng: np.random.Generator, delim: str) -> None:
    text = path.read_text()
    lines = text.splitlines()
    # Damage a data line, not the header (a header of words is legitimately skipped).
    first = 1 if lines and re.search(r"[A-Za-z]", lines[0]) and len(lines) > 1 else 0

    def pick() -> int:
        return int(rng.integers(first, len(lines)))

    if damage == "truncate":
        cut = int(rng.integers(1, max(len(text) - 1, 2)))
        path.write_text(text[:cut])
    elif damage == "wrong delimiter":
        i = pick()
        bad = "|" if delim != "|" else ":"
        lines[i] = lines[i].replace(delim if delim != " " else " ", bad)
        if bad not in lines[i]:
            lines[i] = lines[i] + bad + "1"
        path.write_text("\n".join(lines) + "\n")
    elif damage == "decimal comma":
        i = pick()
        lines[i] = lines[i].replace(".", ",")
        if "," not in lines[i]:
            lines[i] = lines[i] + " 1,5"
        path.write_text("\n".join(lines) + "\n")
    elif damage == "text in numeric column":
        i = pick()
        tokens = lines[i].split(delim) if delim != " " else lines[i].split()
        j = int(rng.integers(len(tokens)))
        tokens[j] = str(rng.choice(["abc", "1.2.3", "--", "n/a", "1e", "0x1F"]))
        lines[i] = (delim if delim != " " else " ").join(tokens)
        path.write_text("\n".join(lines) + "\n")
    elif damage == "nan value":
        i = pick()
        tokens = lines[i].split(delim) if delim != " " else lines[i].split()
        tokens[0] = str(rng.choice(["nan", "inf", "-inf", "NaN"]))
        lines[i] = (delim if delim != " " else " ").join(tokens)
        path.write_text("\n".join(lines) + "\n")
    elif damage == "empty file":
        path.write_text(str(rng.choice(["", "\n\n", "# only a comment\n"])))
    elif damage == "binary garbage":
        path.write_bytes(bytes(rng.integers(0, 256, 64, dtype=np.uint8)))


@st.composite
def reader_cases(draw: Callable, formats: tuple[str, ...] = FORMATS) -> Case:
    """A valid acquisition in some format plus one kind of damage (or none)."""
    fmt = draw(st.sampled_from(formats))
    n1, n2 = draw(st.integers(2, 6)), draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    common = ["valid", "valid", "mismatched axis length", "unsorted axis", "duplicate axis"]
    if fmt in ("table", "upen2d", "spinsolve"):
        damages = [*common, *TEXT_DAMAGE]
    elif fmt == "mat":
        damages = [
            *common,
            "truncate",
            "binary garbage",
            "missing variable",
            "text data",
            "3D data",
            "complex 3D",
        ]
    else:
        damages = [
            *common,
            "truncate",
            "binary garbage",
            "missing key",
            "pickled array",
            "3D data",
            "bad kinds",
        ]
    if fmt == "upen2d":
        damages += [
            "par missing filenamedata",
            "par missing FL_typeKernel",
            "par unknown FL_typeKernel",
            "par non-integer nx",
            "par T1min > T1max",
            "par names a missing file",
            "no FileFlag.par",
        ]
    if fmt == "spinsolve":
        damages += [
            "acqu missing experiment",
            "acqu missing nrEchoes",
            "acqu missing echoTime",
            "acqu missing nrSteps",
            "acqu non-numeric nrSteps",
            "acqu unknown experiment",
            "acqu bad indirectUnit",
            "acqu nrSteps mismatch",
            "odd column count",
        ]
    damage = draw(st.sampled_from(damages))
    args = {
        "format": fmt,
        "damage": damage,
        "n1": n1,
        "n2": n2,
        "seed": seed,
        "delim": draw(st.sampled_from([" ", "\t", ",", ";"])),
        "header": draw(st.booleans()),
        "crlf": draw(st.booleans()),
        "target": draw(st.sampled_from(["data", "tau1", "tau2"])),
        "via_any": draw(st.booleans()),
    }
    expect, allow = _expectation(fmt, damage, args["target"])
    return Case(f"{fmt}: {damage}", args, expect, allow)


def _expectation(fmt: str, damage: str, target: str) -> tuple[str | None, str | None]:
    """(expect, allow) patterns for one damage."""
    axis = r"increasing|duplicate"
    if damage == "valid":
        return None, None
    if damage == "mismatched axis length":
        return r"has \d+ values|nrSteps|data is \d+x\d+|shape|needs", None
    if damage == "unsorted axis":
        return axis, None
    if damage == "duplicate axis":
        return r"duplicate|increasing", None
    if damage == "truncate":
        # Cutting inside the last number leaves a shorter but well-formed file: accepted.
        # ... or a last axis value cut short, out of order.
        return None, (
            r"truncated|values but|data is|empty|has \d+ values|needs|not a readable|"
            r"shape|\.mat|nrSteps|cannot read|odd number|header|missing|duplicate|"
            r"increasing"
        )
    if damage == "binary garbage":
        return (
            r"cannot read|not a text|values but|empty|line \d+|not a readable|header|"
            r"odd number|needs|missing|data is|has \d+ values|shape|NaN"
        ), None
    if damage in TEXT_DAMAGE:
        pattern = TEXT_DAMAGE[damage]
        if damage in ("wrong delimiter", "decimal comma"):
            pattern += r"|has \d+ values|data is|needs|shape|odd number"
        if fmt == "spinsolve" and damage == "nan value" and target != "tau1":
            pattern += "|phase"
        return pattern, None
    table = {
        "missing variable": r"cannot find|no variable",
        "text data": r"non-numeric|numeric|cannot|must be",
        "3D data": r"2D|shape",
        "complex 3D": r"2D|shape",
        "missing key": r"missing key",
        "pickled array": r"pickle",
        "bad kinds": r"kind",
        "par missing filenamedata": r"missing key 'filenamedata'",
        "par missing FL_typeKernel": r"missing key 'FL_typeKernel'",
        "par unknown FL_typeKernel": r"unknown FL_typeKernel",
        "par non-integer nx": r"'nx'.*(integer|number)",
        "par T1min > T1max": r"T1min < T1max|0 < T1min",
        "par names a missing file": r"not in the folder",
        "no FileFlag.par": r"FileFlag\.par",
        "acqu missing experiment": r"missing key 'experiment'",
        "acqu missing nrEchoes": r"missing key 'nrEchoes'",
        "acqu missing echoTime": r"missing key 'echoTime'",
        "acqu missing nrSteps": r"missing key 'nrSteps'",
        "acqu non-numeric nrSteps": r"nrSteps.*(number|integer)",
        "acqu unknown experiment": r"unknown experiment",
        "acqu bad indirectUnit": r"indirectUnit",
        "acqu nrSteps mismatch": r"nrSteps",
        "odd column count": r"odd number|needs",
    }
    return table[damage], None


def _axes(n1: int, n2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tau1 = np.round(np.geomspace(1.0, 1000.0, n1), 6)
    tau2 = np.round(np.arange(1, n2 + 1) * 0.5, 6)
    data = np.round(np.outer(1 - 2 * np.exp(-tau1 / 100), np.exp(-tau2 / 2)), 6)
    return data, tau1, tau2


def _bad_axis(tau: np.ndarray, damage: str) -> np.ndarray:
    if damage == "unsorted axis":
        return tau[::-1].copy() if tau.size > 1 else tau
    if damage == "duplicate axis":
        out = tau.copy()
        out[-1] = out[0]
        return out
    if damage == "mismatched axis length":
        return np.append(tau, tau[-1] * 2)
    return tau


def _build(folder: Path, a: dict) -> tuple[Callable[[], Any], Path, dict]:
    """Write the (damaged) files; return the reader call, and the path and keyword arguments
    for :func:`~laplace_inv.io.read_any`."""
    fmt, damage, target = a["format"], a["damage"], a["target"]
    rng = np.random.default_rng(a["seed"])
    data, tau1, tau2 = _axes(a["n1"], a["n2"])
    if damage in ("unsorted axis", "duplicate axis", "mismatched axis length"):
        if target == "tau2" and fmt != "spinsolve":
            tau2 = _bad_axis(tau2, damage)
        else:
            tau1 = _bad_axis(tau1, damage)
    delim, header, crlf = a["delim"], a["header"], a["crlf"]

    if fmt == "table":
        files = {"data": folder / "S.csv", "tau1": folder / "t1.csv", "tau2": folder / "t2.csv"}
        _write_matrix(files["data"], data, delim, header, crlf)
        _write_matrix(files["tau1"], tau1[:, None], delim, header, crlf)
        _write_matrix(files["tau2"], tau2[None, :], delim, False, crlf)
        if damage in TEXT_DAMAGE:
            _damage_text(files[target], damage, rng, delim)
        kw = {
            "tau1_path": files["tau1"],
            "tau2_path": files["tau2"],
            "kinds": ("T1_IR", "T2"),
            "time_unit": 1e-3,
        }
        return (
            (
                lambda: lio.read_table(
                    files["data"], files["tau1"], files["tau2"], ("T1_IR", "T2"), 1e-3
                )
            ),
            files["data"],
            kw,
        )

    if fmt == "upen2d":
        set_lines = {
            "filenamedata": "S.dat",
            "filenameTimeX": "tx.dat",
            "filenameTimeY": "ty.dat",
            "nx": "8",
            "ny": "8",
            "T1min": "0.1",
            "T1max": "1e4",
            "T2min": "0.01",
            "T2max": "1e3",
        }
        flag_lines = {"FL_typeKernel": "1"}
        if damage == "par missing filenamedata":
            del set_lines["filenamedata"]
        elif damage == "par missing FL_typeKernel":
            del flag_lines["FL_typeKernel"]
        elif damage == "par unknown FL_typeKernel":
            flag_lines["FL_typeKernel"] = str(rng.choice(["9", "0", "-1"]))
        elif damage == "par non-integer nx":
            set_lines["nx"] = str(rng.choice(["8.5", "eight", ""]))
            if set_lines["nx"] == "":
                set_lines["nx"] = "x"
        elif damage == "par T1min > T1max":
            set_lines["T1min"], set_lines["T1max"] = "1e4", "0.1"
        elif damage == "par names a missing file":
            set_lines["filenameTimeX"] = "nothere.dat"
        (folder / "FileSetInput.par").write_text(
            "".join(f"{k} = {v}\n" for k, v in set_lines.items()) + "END\n"
        )
        if damage != "no FileFlag.par":
            (folder / "FileFlag.par").write_text(
                "".join(f"{k} = {v}\n" for k, v in flag_lines.items()) + "END\n"
            )
        d = " " if delim in (",", ";") else delim  # the tools write whitespace
        files = {"data": folder / "S.dat", "tau1": folder / "ty.dat", "tau2": folder / "tx.dat"}
        _write_matrix(files["data"], data, d, False, crlf)
        _write_matrix(files["tau1"], tau1[:, None], d, False, crlf)
        _write_matrix(files["tau2"], tau2[:, None], d, False, crlf)
        if damage in TEXT_DAMAGE:
            _damage_text(files[target], damage, rng, d)
        return (lambda: lio.read_upen2d_folder(folder)), folder, {}

    if fmt == "spinsolve":
        par = {
            "experiment": '"T1IRT2"',
            "nrEchoes": str(a["n2"]),
            "echoTime": "500",
            "nrSteps": str(a["n1"]),
            "nrScans": "4",
            "indirectUnit": "ms",
        }
        if damage.startswith("acqu missing "):
            del par[damage.removeprefix("acqu missing ")]
        elif damage == "acqu non-numeric nrSteps":
            par["nrSteps"] = str(rng.choice(["abc", "2.5", "1,5"]))
        elif damage == "acqu unknown experiment":
            par["experiment"] = '"COSY"'
        elif damage == "acqu bad indirectUnit":
            par["indirectUnit"] = "furlongs"
        elif damage == "acqu nrSteps mismatch":
            par["nrSteps"] = str(a["n1"] + 1)
        (folder / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
        z = data * np.exp(1j * 0.4)
        inter = np.empty((a["n1"], 2 * a["n2"]))
        inter[:, 0::2], inter[:, 1::2] = z.real, z.imag
        if damage == "odd column count":
            inter = inter[:, :-1]
        d = " " if delim in (";",) else delim
        files = {
            "data": folder / "data2d.txt",
            "tau1": folder / "indirect.txt",
            "tau2": folder / "data2d.txt",
        }
        _write_matrix(files["data"], np.round(inter, 6), d, False, crlf)
        _write_matrix(files["tau1"], tau1[:, None], d, False, crlf)
        if damage in TEXT_DAMAGE:
            _damage_text(files[target], damage, rng, d)
        return (lambda: lio.read_spinsolve_2d(folder)), folder, {}

    if fmt == "mat":
        path = folder / "acq.mat"
        contents: dict[str, Any] = {"S": data, "tau1": tau1, "tau2": tau2}
        if damage == "missing variable":
            del contents[str(rng.choice(["S", "tau1", "tau2"]))]
        elif damage == "text data":
            contents["S"] = np.array(["a", "b"])
        elif damage == "3D data":
            contents["S"] = np.ones((2, 2, 2))
        elif damage == "complex 3D":
            contents["S"] = np.ones((2, 2, 2)) * (1 + 1j)
        scipy.io.savemat(path, contents)
        _damage_binary(path, damage, rng)
        kw = {"kinds": ("T1_IR", "T2"), "time_unit": 1e-3}
        return (lambda: lio.read_mat(path, **kw)), path, kw

    path = folder / ("acq.npz" if fmt == "npz" else "result.npz")
    if fmt == "npz":
        contents = {
            "data": data,
            "tau1": tau1 * 1e-3,
            "tau2": tau2 * 1e-3,
            "kinds": np.array(["T1_IR", "T2"]),
        }
        keys = ("data", "tau1", "tau2", "kinds")
    else:
        contents = {
            "map": np.abs(data),
            "grid1": tau1,
            "grid2": tau2,
            "kinds": np.array(["T1_IR", "T2"]),
            "metadata": np.array("{}"),
            "format": np.array(lio.RESULT_FORMAT),
        }
        if damage in ("unsorted axis", "duplicate axis", "mismatched axis length"):
            contents["grid1" if target != "tau2" else "grid2"] = tau1 if target != "tau2" else tau2
        keys = ("map", "grid1", "grid2", "kinds")
    first = keys[0]
    if damage == "missing key":
        del contents[str(rng.choice(keys))]
    elif damage == "pickled array":
        contents[first] = np.array([{"evil": 1}, None], dtype=object)
    elif damage == "3D data":
        contents[first] = np.ones((2, 2, 2))
    elif damage == "bad kinds":
        contents["kinds"] = np.array(str(rng.choice(["T1", "T2 T2 T2", "D"])))
    np.savez(path, **contents)
    _damage_binary(path, damage, rng)
    reader = lio.read_npz if fmt == "npz" else lio.load_result_npz
    return (lambda: reader(path)), path, {}


def _damage_binary(path: Path, damage: str, rng: np.random.Generator) -> None:
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: int(rng.integers(1, len(raw)))])
    elif damage == "binary garbage":
        path.write_bytes(bytes(rng.integers(0, 256, 200, dtype=np.uint8)))


def _check_acquisition(res: Any) -> None:
    if isinstance(res, dict):  # load_result_npz
        F = res["map"]
        assert F.shape == (res["grid1"].size, res["grid2"].size)
        assert np.all(np.isfinite(F))
        return
    assert isinstance(res, lio.Acquisition)
    assert res.data.shape == (res.tau1.size, res.tau2.size)
    assert np.all(np.isfinite(res.data)) and res.data.dtype == np.float64
    assert np.all(np.diff(res.tau1) > 0) and np.all(np.diff(res.tau2) > 0)
    assert res.kernel(n_grid=4).data_shape == res.data.shape


def run_reader(case: Case) -> tuple[str, str]:
    """Write the files in a fresh folder and read them (directly or via ``read_any``)."""
    with tempfile.TemporaryDirectory(prefix="laplace_fuzz_") as tmp:
        direct, path, kw = _build(Path(tmp), case.args)
        if case.args["via_any"]:

            def call() -> Any:
                return lio.read_any(path, **kw) if case.args["format"] != "result" else direct()
        else:
            call = direct
        return outcome(case, call, _check_acquisition, clean=CLEAN)


def reader_entries() -> list[Entry]:
    """One entry per reader format (shared with the reliability report)."""
    return [Entry(f"io.{fmt}", reader_cases((fmt,)), run_reader, cost=1.0) for fmt in FORMATS]


# --------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_reader_fuzz(fmt: str) -> None:
    entry = next(e for e in reader_entries() if e.name == f"io.{fmt}")
    run_entry(entry)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_reader_fuzz_thorough(fmt: str) -> None:
    entry = next(e for e in reader_entries() if e.name == f"io.{fmt}")
    run_entry(entry, THOROUGH_EXAMPLES)


@pytest.mark.parametrize(
    "damage",
    ["truncate", "wrong delimiter", "text in numeric column", "decimal comma", "nan value"],
)
def test_damage_examples_name_file_and_problem(tmp_path: Path, damage: str) -> None:
    """Fixed examples of each damage: the message names the file and the line."""
    data, tau1, tau2 = _axes(4, 6)
    S = tmp_path / "S.txt"
    _write_matrix(S, data, ",", False, False)
    rng = np.random.default_rng(3)
    if damage == "truncate":
        text = S.read_text()
        S.write_text(text[: text.rstrip().rfind(",")])  # the last value is cut off
    else:
        _damage_text(S, damage, rng, ",")
    (tmp_path / "t1.txt").write_text("\n".join(_fmt(tau1)))
    (tmp_path / "t2.txt").write_text("\n".join(_fmt(tau2)))
    with pytest.raises(ValueError) as info:
        lio.read_table(S, tmp_path / "t1.txt", tmp_path / "t2.txt", ("T1_IR", "T2"))
    msg = str(info.value)
    assert "S.txt" in msg
    assert re.search(r"line \d+|row \d+|data is", msg), msg


@pytest.mark.parametrize("key", ["experiment", "nrEchoes", "echoTime", "nrSteps"])
def test_missing_acqu_par_key_is_named(tmp_path: Path, key: str) -> None:
    par = {"experiment": "T2T2", "nrEchoes": "3", "echoTime": "100", "nrSteps": "2"}
    del par[key]
    (tmp_path / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
    (tmp_path / "indirect.txt").write_text("1\n2\n")
    (tmp_path / "data2d.txt").write_text("1 0 1 0 1 0\n1 0 1 0 1 0\n")
    with pytest.raises(ValueError, match=rf"acqu\.par: missing key '{key}'"):
        lio.read_spinsolve_2d(tmp_path)
    with pytest.raises(ValueError, match=rf"missing key '{key}'"):
        lio.read_any(tmp_path)

"""Every real export and every synthetic 2D format through ``laplace-inv invert`` (issue 22).

The real files come from ``LAPLACE_INV_DATA`` (tests skip when it is absent). Each input must
be read, inverted with a classical method, printed with its peak table and flags, and
written as ``.npz`` and figure, with exit code 0. The Spinsolve water D-T2 export must give
free water's D with every classical method, and the readers' noise estimates must agree with
an independent one (late echoes, or the instrument's own value) within 20 %.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from benchmarks.studies.bench_reader_noise import late_echo_noise, raw_imaginary, vendor_noise
from laplace_inv.cli import main
from laplace_inv.io import load_result_npz, read_any
from laplace_inv.methods import make_inverter

DATA = Path(
    os.environ.get("LAPLACE_INV_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
EXAMPLES = DATA / "nmrinversions_examples"
SUFFIXES = (".dps", ".tnt", ".txt", ".csv", ".dat")


def _real_inputs() -> list[Path]:
    """Every export folder and data file under the data folder (licences and notes aside)."""
    if not DATA.is_dir():
        return []
    found = []
    for marker in ("FileSetInput.par", "acqu.par"):
        found += [p.parent for p in DATA.rglob(marker)]
    for p in DATA.rglob("*"):
        in_folder = any(p.parent == f for f in found)
        if p.is_file() and p.suffix.lower() in SUFFIXES and not in_folder:
            if not p.name.upper().startswith(("LICENSE", "README")) and "reference" not in str(p):
                found.append(p)
    return sorted(set(found))


REAL = _real_inputs()


def _invert_cli(path: Path, out: Path, capsys, *extra: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["invert", str(path), "--method", "tikhonov", "-o", str(out), *extra])
    assert code == 0
    return capsys.readouterr().out


def _check_outputs(out: Path, text: str) -> dict:
    assert "| flags |" in text and "map in flagged areas" in text
    results = sorted(out.glob("*_map.npz"))
    assert len(results) == 1, results
    assert results[0].with_suffix(".png").stat().st_size > 5000
    result = load_result_npz(results[0])
    assert any(k.startswith("share ") for k in result["metadata"]["info"])
    return result


@pytest.mark.skipif(not REAL, reason=f"no real data at {DATA}")
@pytest.mark.parametrize("path", REAL, ids=[str(p.relative_to(DATA)) for p in REAL])
def test_every_real_input_inverts(path, tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = read_any(path)
    text = _invert_cli(path, tmp_path, capsys)
    if acq.ndim == 1:
        assert "| flags |" in text and "map in flagged areas" in text
        (npz,) = tmp_path.glob("*_distribution.npz")
        assert npz.with_suffix(".png").stat().st_size > 5000
        info = json.loads(str(np.load(npz)["metadata"]))["info"]
        assert any(k.startswith("share ") for k in info)
        return
    _check_outputs(tmp_path, text)


def test_the_data_folder_holds_every_format():
    if not REAL:
        pytest.skip(f"no real data at {DATA}")
    from laplace_inv.io import detect_format

    formats = {detect_format(p) for p in REAL}
    assert formats >= {"upen2d", "spinsolve", "minispec", "tecmag", "geospec", "csv1d"}


# --------------------------------------------------------------------------- synthetic

T1, T2 = 0.3, 0.03
TAU1_MS = np.geomspace(1.0, 3000.0, 16)
TAU2_MS = np.arange(1, 201) * 0.5


def _ir_data() -> np.ndarray:
    clean = np.outer(1 - 2 * np.exp(-TAU1_MS * 1e-3 / T1), np.exp(-TAU2_MS * 1e-3 / T2))
    return 1000 * clean + 2 * np.random.default_rng(0).standard_normal(clean.shape)


def _spinsolve(folder: Path, par: dict, z: np.ndarray, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
    inter = np.empty((z.shape[0], 2 * z.shape[1]))
    inter[:, 0::2], inter[:, 1::2] = z.real, z.imag
    np.savetxt(folder / name, inter, fmt="%.9g", delimiter=", ")
    return folder


def _write_npz(tmp: Path) -> Path:
    path = tmp / "scan.npz"
    np.savez(path, data=_ir_data(), tau1=TAU1_MS * 1e-3, tau2=TAU2_MS * 1e-3, kinds=["T1_IR", "T2"])
    return path


def _write_mat(tmp: Path) -> Path:
    path = tmp / "scan.mat"
    scipy.io.savemat(
        path, {"S": _ir_data(), "tau1": TAU1_MS * 1e-3, "tau2": TAU2_MS * 1e-3, "kinds": "T1_IR T2"}
    )
    return path


def _write_upen2d(tmp: Path) -> Path:
    folder = tmp / "upen"
    folder.mkdir()
    (folder / "FileSetInput.par").write_text(
        "filenamedata = S.dat\nfilenameTimeX = tx.dat\nfilenameTimeY = ty.dat\n"
        "nx = 24\nny = 24\nT1min = 1e-1\nT1max = 1e4\nT2min = 1e-1\nT2max = 1e3\nEND\n"
    )
    (folder / "FileFlag.par").write_text("FL_typeKernel = 1\nEND\n")
    np.savetxt(folder / "S.dat", _ir_data(), delimiter="\t")
    np.savetxt(folder / "tx.dat", TAU2_MS)
    np.savetxt(folder / "ty.dat", TAU1_MS)
    return folder


def _write_spinsolve_t1irt2(tmp: Path) -> Path:
    z = _ir_data() * np.exp(1j * np.linspace(0.2, 0.4, 16))[:, None]
    par = {
        "experiment": '"T1IRT2"',
        "tauSteps": 16,
        "minTau": 1,
        "maxTau": 3000,
        "logspace": '"yes"',
        "nrEchoes": 200,
        "echoTime": 500,
    }
    return _spinsolve(tmp / "T1IRT2", par, z, "T1IRT2.dat")


def _write_spinsolve_dt2(tmp: Path) -> Path:
    from laplace_inv.io._spinsolve_axes import GYROMAGNETIC_RATIOS, stejskal_tanner_b

    g = np.linspace(0, 0.163, 16)  # T/m
    b = stejskal_tanner_b(GYROMAGNETIC_RATIOS["1H"], g, 3e-3, 0.5, 1e-4)
    clean = 500 * np.outer(np.exp(-b * 2.1e-9), np.exp(-TAU2_MS * 1e-3 / 0.1))
    noise = np.random.default_rng(1).standard_normal((2, *clean.shape))
    z = (clean + noise[0] + 1j * noise[1]) * np.exp(0.7j)
    par = {
        "experiment": '"DT2"',
        "nrSteps": 16,
        "gradMax": 163,
        "gradRamp": 0.1,
        "lDelta": 3,
        "bDelta": 500,
        "nucleus": '"1H-1H"',
        "nrEchoes": 200,
        "echoTime": 500,
    }
    return _spinsolve(tmp / "DT2", par, z, "DT2.dat")


def _write_spinsolve_t2t2(tmp: Path) -> Path:
    counts = np.round(np.geomspace(1, 200, 12))
    clean = 500 * np.outer(np.exp(-counts * 5e-4 / 0.03), np.exp(-TAU2_MS * 1e-3 / 0.03))
    z = (clean + np.random.default_rng(2).standard_normal(clean.shape)) * 1j
    par = {
        "experiment": '"T2T2"',
        "nrEchoSteps": 12,
        "minEcho": 1,
        "maxEcho": 200,
        "logspace": '"yes"',
        "nrEchoes": 200,
        "echoTime": 500,
    }
    return _spinsolve(tmp / "T2T2", par, z, "T2T2.dat")


SYNTHETIC = {
    "npz": (_write_npz, ()),
    "mat": (_write_mat, ("--kinds", "T1_IR,T2")),
    "upen2d": (_write_upen2d, ()),
    "spinsolve T1IRT2": (_write_spinsolve_t1irt2, ()),
    "spinsolve DT2": (_write_spinsolve_dt2, ()),
    "spinsolve T2T2": (_write_spinsolve_t2t2, ()),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_file_of_each_format_inverts_with_flags(name, tmp_path, capsys):
    write, extra = SYNTHETIC[name]
    path = write(tmp_path)
    text = _invert_cli(path, tmp_path / "out", capsys, "--grid", "24", *extra)
    result = _check_outputs(tmp_path / "out", text)
    F = result["map"]
    i, j = np.unravel_index(np.argmax(F), F.shape)
    if name == "spinsolve DT2":
        assert 1.5e-9 < result["grid1"][i] < 3e-9
    elif name == "spinsolve T2T2":
        assert abs(np.log10(result["grid1"][i] / 0.03)) < 0.2
    else:
        assert abs(np.log10(result["grid1"][i] / T1)) < 0.2
        assert abs(np.log10(result["grid2"][j] / T2)) < 0.2


def test_fit_acquisition_on_a_synthetic_export(tmp_path, capsys):
    text = _invert_cli(_write_upen2d(tmp_path), tmp_path / "out", capsys, "--fit-acquisition")
    assert "acquisition model: inversion efficiency" in text
    info = load_result_npz(next((tmp_path / "out").glob("*_map.npz")))["metadata"]["info"]
    assert abs(info["efficiency"] - 1.0) < 0.05
    assert abs(info["offset"]) < 5.0  # data max 1000, noise 2


# ----------------------------------------------------------------------- Spinsolve DT2

PFGCPMG = EXAMPLES / "spinsolve_txt" / "PFGCPMG"
needs_dt2 = pytest.mark.skipif(
    not (PFGCPMG / "DT2.dat").is_file(), reason=f"Spinsolve DT2 export not found at {PFGCPMG}"
)


@needs_dt2
@pytest.mark.parametrize("method", ["tikhonov", "upen", "l1"])
def test_dt2_export_gives_free_water_with_every_classical_method(method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = read_any(PFGCPMG)
        res = make_inverter(method, acq.kernel()).invert(acq.data, noise_std=acq.noise_std)
    marginal = res.map.sum(axis=1)
    k = int(np.argmax(marginal))
    near = slice(max(k - 2, 0), k + 3)
    d_peak = 10 ** np.average(np.log10(res.grid1[near]), weights=marginal[near])
    assert 2.0e-9 <= d_peak <= 2.3e-9
    assert marginal[near].sum() > 0.8 * marginal.sum()  # the dominant component
    assert res.residual_to_noise == pytest.approx(1.0, abs=0.1)


# ------------------------------------------------------------------------------- noise
# The references are those of benchmarks/studies/bench_reader_noise.py (its table:
# benchmarks/results/reader_noise.md). The 16-32-point recovery curves and CSV decays have
# no independent reference: no late echoes, no instrument value.

NOISE_REFERENCES = {
    "spinsolve_txt/PFGCPMG (raw late imaginary)": ("spinsolve_txt/PFGCPMG", "raw"),
    "spinsolve_txt/PFGCPMG (late echoes)": ("spinsolve_txt/PFGCPMG", "late"),
    "geospec_txt/CPMG_bunter.txt (late echoes)": ("geospec_txt/CPMG_bunter.txt", "late"),
    "geospec_txt/CPMG_bunter.txt (instrument)": ("geospec_txt/CPMG_bunter.txt", "vendor"),
    "geospec_txt/IR_bunter.txt (instrument)": ("geospec_txt/IR_bunter.txt", "vendor"),
    "tecmag_tnt/CPMG_silicon_oil.tnt (late echoes)": ("tecmag_tnt/CPMG_silicon_oil.tnt", "late"),
    "bruker/minispec/cpmg.dps (late echoes)": ("bruker/minispec/cpmg.dps", "late"),
}


@pytest.mark.parametrize("case", sorted(NOISE_REFERENCES))
def test_reader_noise_matches_an_independent_estimate(case):
    rel, how = NOISE_REFERENCES[case]
    path = EXAMPLES / rel
    if not path.exists():
        pytest.skip(f"{path} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acq = read_any(path)
    if how == "raw":
        reference = raw_imaginary(path)
    elif how == "vendor":
        reference = vendor_noise(path)
    else:
        reference = late_echo_noise(acq.data)
    assert reference is not None
    assert acq.noise_std == pytest.approx(reference, rel=0.2)

"""Spinsolve exports as the instrument writes them: T1IRT2, T2T2, DT2 and 1D experiments."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.io import read_any, read_spinsolve, read_spinsolve_2d
from laplace_inv.io._spinsolve_axes import GYROMAGNETIC_RATIOS, stejskal_tanner_b

DATA = Path(
    os.environ.get("LAPLACE_INV_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
PFGCPMG = DATA / "nmrinversions_examples" / "spinsolve_txt" / "PFGCPMG"
needs_pfgcpmg = pytest.mark.skipif(
    not (PFGCPMG / "DT2.dat").is_file(), reason=f"Spinsolve DT2 export not found at {PFGCPMG}"
)


def _write_export(folder: Path, par: dict, z: np.ndarray, name: str, sep: str = ",") -> Path:
    """An export folder: ``acqu.par`` and ``name`` with interleaved re, im pairs per row."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
    z2 = np.atleast_2d(z)
    inter = np.empty((z2.shape[0], 2 * z2.shape[1]))
    inter[:, 0::2], inter[:, 1::2] = z2.real, z2.imag
    lines = [sep.join(f"{v:.9g}" for v in row) for row in inter]
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def _t1irt2(seed: int = 0, sigma: float = 2.0):
    rng = np.random.default_rng(seed)
    tau1 = np.geomspace(1.0, 3000.0, 16) * 1e-3
    tau2 = np.arange(1, 257) * 100e-6
    clean = 1000 * np.outer(1 - 2 * np.exp(-tau1 / 0.3), np.exp(-tau2 / 0.01))
    phases = np.linspace(0.2, 0.5, 16)  # drifts from row to row
    noise = sigma * (rng.standard_normal(clean.shape) + 1j * rng.standard_normal(clean.shape))
    z = (clean + noise) * np.exp(1j * phases)[:, None]
    par = {
        "experiment": '"T1IRT2"',
        "tauSteps": 16,
        "minTau": 1,
        "maxTau": 3000,
        "logspace": '"yes"',
        "nrEchoes": 256,
        "echoTime": 100,
        "nrScans": 4,
    }
    return par, z, clean, tau1, tau2, phases


def test_t1irt2_export_reads_axes_phases_and_noise(tmp_path):
    par, z, clean, tau1, tau2, phases = _t1irt2()
    folder = _write_export(tmp_path / "T1IRT2", par, z, "T1IRT2.dat")
    acq = read_any(folder)
    assert acq.kinds == ("T1_IR", "T2") and acq.shape == (16, 256)
    np.testing.assert_allclose(acq.tau1, tau1)
    np.testing.assert_allclose(acq.tau2, tau2)
    reliable = np.array(acq.metadata["phase_reliable_rows"])
    np.testing.assert_allclose(
        np.array(acq.metadata["row_phases"])[reliable], phases[reliable], atol=0.02
    )
    assert acq.noise_std == pytest.approx(2.0, rel=0.1)
    assert np.std(acq.data - clean) == pytest.approx(2.0, rel=0.15)
    assert acq.data[0, 0] < 0 < acq.data[-1, 0]  # inversion-recovery rows keep their sign
    assert acq.metadata["negative_rows"] == []


def test_t1irt2_linear_delays_and_space_separated(tmp_path):
    par, z, *_ = _t1irt2()
    par.update(logspace='"no"', tauSteps=16)
    folder = _write_export(tmp_path / "x", par, z, "T1IRT2.dat", sep=" ")
    acq = read_spinsolve(folder)
    np.testing.assert_allclose(acq.tau1, np.linspace(1.0, 3000.0, 16) * 1e-3)


def test_t2t2_export_counts_echoes_of_the_first_train(tmp_path):
    rng = np.random.default_rng(1)
    n_steps, n_echoes, echo_us = 8, 64, 200.0
    counts = np.round(np.geomspace(1, 500, n_steps))
    tau1 = counts * echo_us * 1e-6
    tau2 = np.arange(1, n_echoes + 1) * echo_us * 1e-6
    clean = 500 * np.outer(np.exp(-tau1 / 0.02), np.exp(-tau2 / 0.02))
    z = (clean + rng.normal(0, 1, clean.shape) + 1j * rng.normal(0, 1, clean.shape)) * 1j
    par = {
        "experiment": '"T2T2"',
        "nrEchoSteps": n_steps,
        "minEcho": 1,
        "maxEcho": 500,
        "logspace": '"yes"',
        "nrEchoes": n_echoes,
        "echoTime": echo_us,
    }
    acq = read_any(_write_export(tmp_path / "T2T2", par, z, "T2T2.dat"))
    assert acq.kinds == ("T2", "T2")
    np.testing.assert_allclose(acq.tau1, tau1)
    np.testing.assert_allclose(acq.tau2, tau2)
    assert acq.data[0, 0] > 0 and acq.noise_std == pytest.approx(1.0, rel=0.15)


def test_one_dimensional_experiments(tmp_path):
    t = np.arange(1, 401) * 300e-6
    z = 100 * np.exp(-t / 0.03) * np.exp(0.4j)
    acq = read_any(
        _write_export(
            tmp_path / "t2", {"experiment": '"T2"', "nrEchoes": 400, "echoTime": 300}, z, "T2.dat"
        )
    )
    assert acq.ndim == 1 and acq.kinds == ("T2",) and acq.shape == (400,)
    np.testing.assert_allclose(acq.data, 100 * np.exp(-t / 0.03), atol=1e-6)
    tau = np.geomspace(1, 5000, 20) * 1e-3
    ir = 50 * (1 - 2 * np.exp(-tau / 0.5)) * np.exp(-1.1j)
    par = {"experiment": '"T1"', "tauSteps": 20, "minTau": 1, "maxTau": 5000, "logspace": "yes"}
    one = _write_export(tmp_path / "t1", par, ir[:, None], "T1.dat")  # one pair per line
    acq = read_spinsolve(one)
    assert acq.kinds == ("T1_IR",)
    np.testing.assert_allclose(acq.tau1, tau)
    assert acq.data[0] < 0 < acq.data[-1]
    np.testing.assert_allclose(acq.data, 50 * (1 - 2 * np.exp(-tau / 0.5)), atol=1e-6)
    kernel = acq.kernel()  # 1D inversion: a Kernel1D
    assert kernel.ndim == 1 and kernel.kinds == ("T1_IR",) and kernel.data_shape == (20, 1)


def test_stejskal_tanner_against_hand_and_numerical_integration():
    gamma = GYROMAGNETIC_RATIOS["1H"]
    # hand computation, rectangular pulses: g = 0.1 T/m, δ = 2 ms, Δ = 20 ms
    # (γ g δ)² (Δ − δ/3) = (2.6752e8 · 0.1 · 2e-3)² · (0.02 − 0.000667) = 5.5346e7 s/m²
    b = stejskal_tanner_b(gamma, np.array([0.1]), 2e-3, 20e-3)
    assert b[0] == pytest.approx(5.5346e7, rel=1e-4)
    # trapezoids: the closed form equals ∫ q(t)² dt computed numerically
    g, delta, big_delta, ramp = 0.163, 3e-3, 0.5, 0.1e-3
    dt = 2e-7
    t = np.arange(0.0, big_delta + delta + 1e-3, dt)

    def pulse(t0):
        x = t - t0
        return np.clip(np.minimum(x / ramp, (delta - x) / ramp), 0.0, 1.0) * g

    q = gamma * np.cumsum(pulse(0.0) - pulse(big_delta)) * dt
    numeric = float(np.sum(q**2) * dt)
    closed = stejskal_tanner_b(gamma, np.array([g]), delta, big_delta, ramp)[0]
    assert closed == pytest.approx(numeric, rel=1e-4)


def test_spinsolve_refuses_files_outside_the_folder(tmp_path):
    par, z, *_ = _t1irt2()
    folder = _write_export(tmp_path / "a", par, z, "T1IRT2.dat")
    for name in ("/etc/passwd", "../T1IRT2.dat", "..\\x.dat", "sub/../../x"):
        text = (folder / "acqu.par").read_text()
        (folder / "acqu.par").write_text(text + f'dataFile = "{name}"\n')
        with pytest.raises(ValueError, match="data files must lie inside the folder") as err:
            read_spinsolve(folder)
        assert "root:" not in str(err.value)
        (folder / "acqu.par").write_text(text)


@pytest.mark.parametrize(
    ("key", "value"), [("nrEchoes", "2000000000"), ("tauSteps", "50000000"), ("nrEchoes", "-3")]
)
def test_spinsolve_sizes_are_bounded_before_allocation(tmp_path, key, value):
    par, z, *_ = _t1irt2()
    par[key] = value
    folder = _write_export(tmp_path / "a", par, z, "T1IRT2.dat")
    with pytest.raises(ValueError, match=f"{key} = {value} is out of range"):
        read_spinsolve(folder)


def test_already_phased_export_has_a_positive_noise(tmp_path):
    par, _z, clean, *_ = _t1irt2()
    rng = np.random.default_rng(3)
    folder = _write_export(
        tmp_path / "p", par, clean + rng.normal(0, 2, clean.shape) + 0j, "T1IRT2.dat"
    )
    acq = read_spinsolve(folder)
    assert acq.metadata["noise_source"] == "late real second differences"
    assert acq.noise_std == pytest.approx(2.0, rel=0.2)
    exact = _write_export(tmp_path / "q", par, clean + 0j, "T1IRT2.dat")
    noise = read_spinsolve(exact).noise_std
    assert noise is None or noise > 0


def test_global_phase_mode_and_alias(tmp_path):
    par, z, *_ = _t1irt2()
    folder = _write_export(tmp_path / "g", par, z, "T1IRT2.dat")
    acq = read_spinsolve_2d(folder, phase="global")
    assert acq.metadata["phase_mode"] == "global" and "row_phases" not in acq.metadata
    with pytest.raises(ValueError, match="phase must be one of"):
        read_spinsolve(folder, phase="magic")


@needs_pfgcpmg
def test_real_dt2_export():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        acq = read_any(PFGCPMG)
    assert acq.kinds == ("D", "T2") and acq.shape == (16, 8000)
    np.testing.assert_allclose(acq.tau2[[0, -1]], [250e-6, 2.0])
    assert acq.tau1[0] == 0.0 and acq.tau1[-1] == pytest.approx(7.98e9, rel=0.01)
    # rows 8-14 and 16 (1-based) hold a small negative offset that no phase makes positive
    assert acq.metadata["negative_rows"] == [7, 8, 9, 10, 11, 12, 13, 15]
    assert any("stay negative" in str(w.message) for w in caught)
    # the noise matches the late imaginary echoes of the raw export, phased row by row
    raw = np.loadtxt(PFGCPMG / "DT2.dat")
    z = (raw[:, 0::2] + 1j * raw[:, 1::2]) * np.exp(-1j * np.array(acq.metadata["row_phases"]))[
        :, None
    ]
    late_imag = float(np.std(z.imag[:, 4000:]))
    assert abs(acq.noise_std / late_imag - 1) < 0.2
    # free water: a mono-exponential fit of the early-echo amplitudes of the rows with signal
    # (row 1, at zero gradient, is 16 % below row 2 and left out)
    from scipy.optimize import curve_fit

    amp = acq.data[:, 10:300].mean(axis=1)
    rows = slice(1, 7)
    (_a0, d), _ = curve_fit(
        lambda b, a, d: a * np.exp(-b * d), acq.tau1[rows], amp[rows], p0=(amp[1], 2e-9)
    )
    assert 2.0e-9 <= d <= 2.3e-9

"""Known-answer checks of the benchmark harness, on tiny kernels (12 × 100 data, 24 × 24 maps)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from laplace_inv.bench import (
    BenchCase,
    MethodNotAvailable,
    available_methods,
    register_method,
    run_benchmark,
    simulated_suite,
    unregister_method,
)
from laplace_inv.bench import cli as bench_cli
from laplace_inv.bench.cases import AXES
from laplace_inv.bench.report import resolution_limits, write_report
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import Peak, make_scenario

GRID = np.logspace(-3.5, -0.5, 24)


def tiny_kernel(family: str) -> Kernel2D:
    """12 × 100 acquisitions with 24 × 24 grids (equal grids for T2-T2)."""
    tau2 = np.arange(1, 101) * 1e-3
    if family == "T2-T2":
        return Kernel2D(
            KernelAxis("T2", np.geomspace(1e-3, 0.3, 12), GRID), KernelAxis("T2", tau2, GRID)
        )
    kind1 = {"T1_IR-T2": "T1_IR", "T1_SR-T2": "T1_SR", "D-T2": "D"}[family]
    tau1 = np.linspace(0.0, 3e9, 12) if kind1 == "D" else np.geomspace(1e-3, 3.0, 12)
    return Kernel2D(KernelAxis(kind1, tau1, n_grid=24), KernelAxis("T2", tau2, n_grid=24))


def tiny_suite(seed: int = 0, quick: bool = False) -> list[BenchCase]:
    return simulated_suite(
        seed,
        quick,
        separations=[0.6, 0.9],
        snrs=[100],
        axes=AXES,
        random_kinds=("multi",),
        families=("T1_IR-T2", "T2-T2"),
        named=False,
        kernel_for=tiny_kernel,
    )


@pytest.fixture(scope="module")
def cases() -> list[BenchCase]:
    return tiny_suite()


@pytest.fixture
def registered():
    """Register test methods and remove them afterwards."""
    names: list[str] = []

    def add(name, obj, **kw):
        register_method(name, obj, overwrite=True, **kw)
        names.append(name)
        return name

    yield add
    for n in names:
        unregister_method(n)


def oracle_for(cases: list[BenchCase], transform=lambda F: F):
    """A method that looks up each case's true map by its data."""
    table = {c.data.tobytes(): c.truth for c in cases}

    def oracle(S, kernel):
        return transform(table[np.asarray(S).tobytes()])

    return oracle


def test_true_map_scores_zero_and_is_resolved(cases, registered):
    name = registered("oracle", oracle_for(cases))
    res = run_benchmark(cases, [name], repeats=1, verbose=0)
    assert len(res.rows) == len(cases)
    for row in res.rows:
        assert row["status"] == "ok"
        assert row["position_error"] == 0.0
        assert row["fraction_error"] == 0.0
        assert row["tv_distance"] == 0.0
        assert row["axis1_error"] == row["axis2_error"] == 0.0
        if row["group"] == "resolution":
            assert row["resolved"] is True and row["truth_resolved"] is True
    limits = resolution_limits(res.rows, [name])
    assert all(v == 0.6 for (m, _, _), v in limits.items() if m == name)


def test_flat_map_is_never_resolved(cases, registered):
    name = registered("flat", lambda S, kernel: np.ones(kernel.map_shape))
    res = run_benchmark(cases, [name], repeats=1, verbose=0)
    pairs = [r for r in res.rows if r["group"] == "resolution"]
    assert pairs and not any(r["resolved"] for r in pairs)
    assert all(r["position_error"] > 0 for r in res.rows)


def test_swapped_axes_give_a_large_position_error(registered):
    k = tiny_kernel("T2-T2")
    assert np.array_equal(k.grid1, k.grid2)
    sc = make_scenario(
        "offdiag",
        k,
        [Peak((-1.0, -2.8), (0.1, 0.12), 0.7), Peak((-1.5, -2.0), (0.1, 0.1), 0.3, 0.4)],
        300.0,
        0,
    )
    case = BenchCase.from_scenario(sc, "random", "T2-T2")
    name = registered("swapped", oracle_for([case], transform=lambda F: F.T))
    row = run_benchmark([case], [name], repeats=1, verbose=0).rows[0]
    assert row["status"] == "ok"
    assert row["position_error"] > 1.0
    assert row["tv_distance"] > 0.5


def test_outside_function_and_factory_plug_in(cases, registered):
    def my_method(S, kernel):
        """A user's method: flat map with the right total."""
        return np.full(kernel.map_shape, float(np.abs(S).max()) / np.prod(kernel.map_shape))

    class MyInverter:
        def __init__(self, kernel):
            self.kernel = kernel

        def invert(self, S):
            return np.ones(self.kernel.map_shape).ravel()  # a flat array is accepted too

    fn = registered("mine", my_method)
    fac = registered("my-inverter", MyInverter)
    assert fn in available_methods() and fac in available_methods()
    res = run_benchmark(cases[:2], [fn, fac], repeats=2, verbose=0)
    assert [r["status"] for r in res.rows] == ["ok"] * 4
    assert all(r["n_repeats"] >= 1 and r["time_s"] > 0 for r in res.rows)
    assert all(r["peak_mem_mib"] >= 0 for r in res.rows)


def test_unavailable_and_failing_methods_give_rows_not_crashes(cases, registered):
    def missing(kernel):
        raise ImportError("No module named 'laplace_inv.classical.nothing'")

    def broken(S, kernel):
        raise RuntimeError("boom")

    def refuses(kernel):
        raise MethodNotAvailable("no weights for this grid")

    names = [
        registered("missing", missing, kind="factory"),
        registered("broken", broken),
        registered("refuses", refuses, kind="factory"),
    ]
    res = run_benchmark(cases[:1], names, repeats=1, verbose=0)
    status = {r["method"]: r["status"] for r in res.rows}
    assert status["missing"].startswith("not available: ImportError")
    assert status["refuses"] == "not available: no weights for this grid"
    assert status["broken"] == "failed: RuntimeError: boom"
    for row in res.rows:
        assert np.isnan(row["position_error"]) and np.isnan(row["time_s"])
    assert not res.maps


def test_quick_bench_main_writes_report(tmp_path, monkeypatch, registered, capsys):
    registered(
        "unavailable", lambda kernel: (_ for _ in ()).throw(OSError("no weights")), kind="factory"
    )

    def small_suite(seed: int = 0, quick: bool = False) -> list[BenchCase]:
        return tiny_suite(seed, quick)[::3]  # two resolution pairs and one random case

    monkeypatch.setattr(bench_cli, "simulated_suite", small_suite)
    monkeypatch.setattr(bench_cli, "real_suite", lambda: ([], [("cement_t1t2", "no data")]))
    out = tmp_path / "out"
    code = bench_cli.bench_main(
        [
            "--suite",
            "all",
            "--quick",
            "--out",
            str(out),
            "--methods",
            "tikhonov,unavailable",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    for name in (
        "results.csv",
        "peaks.csv",
        "report.md",
        "resolution_curve.png",
        "runtime.png",
        "errors.png",
    ):
        assert (out / name).stat().st_size > 0, name
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * len(small_suite())
    assert {r["method"] for r in rows} == {"tikhonov", "unavailable"}
    assert all(
        r["status"] == "not available: OSError: no weights"
        for r in rows
        if r["method"] == "unavailable"
    )
    report = (out / "report.md").read_text()
    assert "QUICK" in report and "--seed 3" in report and "Seed: 3" in report
    assert "cement_t1t2** not available" in report
    assert "Harness self-check" in report


def test_cli_errors_and_listing(capsys):
    assert bench_cli.bench_main(["--methods", "no-such-method"]) == 2
    assert bench_cli.bench_main(["--list-methods"]) == 0
    listed = capsys.readouterr().out
    for name in ("dlemlr", "upen", "tikhonov", "l1"):
        assert name in listed
    assert bench_cli.bench_main(["--suite", "nonsense"]) == 2


def test_suite_is_seeded_and_quick_cases_match_full():
    a = {c.name: c for c in simulated_suite(seed=5, quick=True, kernel_for=tiny_kernel)}
    b = {
        c.name: c
        for c in simulated_suite(seed=5, separations=[0.2], snrs=[100], kernel_for=tiny_kernel)
    }
    shared = set(a) & set(b)
    assert "pair_T2_0.2_snr100" in shared and "cement_like" in shared
    for n in shared:
        np.testing.assert_array_equal(a[n].data, b[n].data)
    c = simulated_suite(seed=6, quick=True, kernel_for=tiny_kernel)
    assert not np.array_equal(c[0].data, a[c[0].name].data)


def test_write_report_without_figures(cases, registered, tmp_path):
    name = registered("oracle2", oracle_for(cases))
    res = run_benchmark(cases, [name], repeats=1, verbose=0)
    path = write_report(res, tmp_path, seed=0, command="test", figures=False)
    text = path.read_text()
    assert "Resolution limit" in text and "oracle2" in text
    assert "Flat map resolved on 0/" in text


def test_real_case_is_scored_against_reference_peaks(registered):
    from laplace_inv.metrics import Peak as RefPeak
    from laplace_inv.simulate import add_noise, render_map

    k = tiny_kernel("T1_IR-T2")
    F = render_map(
        [Peak((-1.0, -1.7), (0.15, 0.15), 0.8), Peak((-1.0, -3.0), (0.15, 0.15), 0.2)],
        k.grid1,
        k.grid2,
    )
    data, sigma = add_noise(k.forward(F), 200.0, 0)
    refs = [
        RefPeak.from_log_position((-1.0, -1.7), fraction=0.8),
        RefPeak.from_log_position((-1.0, -3.0), fraction=0.2),
    ]
    case = BenchCase(
        "real_like", "real", "real", "T1_IR-T2", k, data, noise_std=sigma, reference=refs
    )
    name = registered("exact", lambda S, kernel: F)
    row = run_benchmark([case], [name], repeats=1, verbose=0).rows[0]
    assert row["n_true"] == 2 and row["n_found"] == 2
    assert row["position_error"] < 0.05 and row["fraction_error"] < 0.02
    assert np.isnan(row["tv_distance"])
    assert 0.8 < row["residual_to_noise"] < 1.2
    case.reference = [RefPeak.from_log_position((-1.0, -1.7))]  # no published fraction
    row = run_benchmark([case], [name], repeats=1, verbose=0).rows[0]
    assert np.isnan(row["fraction_error"]) and row["position_error"] < 0.05


def test_parallel_jobs_give_the_same_scores(cases, registered):
    name = registered("oracle-par", oracle_for(cases))
    serial = run_benchmark(cases[:3], [name], repeats=1, verbose=0)
    parallel = run_benchmark(cases[:3], [name], repeats=1, verbose=0, jobs=2)
    for a, b in zip(serial.rows, parallel.rows, strict=True):
        assert a["case"] == b["case"] and a["status"] == b["status"] == "ok"
        assert a["position_error"] == b["position_error"] and a["resolved"] == b["resolved"]
    assert set(parallel.maps) == set(serial.maps)


def test_machine_speed_probe_reports_a_rate():
    from benchmarks.machine_speed import probe_gflops, probe_line

    assert probe_gflops(rounds=1, products=1) > 0
    assert "GFLOP/s" in probe_line()

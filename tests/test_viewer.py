"""The viewer's server and endpoints without a browser (the page itself: test_viewer_browser)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("plotly", reason="the viewer needs plotly (pip install 'laplace-inv[viewer]')")

from laplace_inv.viewer import core, payloads
from laplace_inv.viewer.server import STATIC_DIR, ViewerServer
from laplace_inv.viewer.state import JobRunner

ROOT = Path(__file__).resolve().parents[1]


class Client:
    """One browser tab talking to the server."""

    def __init__(self, server: ViewerServer, host: str | None = None) -> None:
        self.base = server.url.rstrip("/")
        self.host = host
        self.sid = ""

    def request(self, path: str, payload=None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(payload or {}).encode()
        headers = {"Content-Type": "application/json", "X-Session": self.sid}
        if self.host:
            headers["Host"] = self.host
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as reply:
                data = reply.read()
                disposition = reply.headers.get("Content-Disposition")
                if disposition:
                    return reply.status, (disposition, data)
                return reply.status, json.loads(data)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def post(self, path: str, payload=None):
        status, data = self.request(path, payload)
        assert status == 200, data
        return data

    def start(self) -> dict:
        info = self.post("/api/session")
        self.sid = info["session"]
        return info

    def run(self, method: str, params=None) -> dict:
        job = self.post("/api/run", {"method": method, "params": params or {}})
        deadline = time.time() + 120
        while job["status"] in ("queued", "running"):
            assert time.time() < deadline, job
            time.sleep(0.05)
            job = self.post("/api/job", {"id": job["id"]})
        return job


@pytest.fixture
def server():
    srv = ViewerServer(0)
    srv.start_background()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def demo(server):
    """A tab with the simulated cement demo open on a 32 × 32 grid."""
    client = Client(server)
    client.start()
    client.post("/api/dataset", {"name": "demo:cement_like"})
    client.post("/api/settings", {"n_grid": 32})
    return client


BOX = {"name": "main", "type": "box", "x1": [0.02, 0.8], "x2": [0.005, 0.1]}


def test_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", server.port), timeout=2):
        pass


def test_refuses_foreign_host_header_and_unknown_sessions(server):
    status, data = Client(server, host=f"evil.example:{server.port}").request("/api/session")
    assert status == 403 and "Host" in data["error"]
    status, data = Client(server).request("/api/results")
    assert status == 401 and "reload" in data["error"]


def test_page_assets_are_all_local(server):
    html = (STATIC_DIR / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith(("/static/", "data:")) for r in refs), refs
    for ref in refs:
        if ref.startswith("/static/"):
            with urllib.request.urlopen(server.url.rstrip("/") + ref, timeout=10) as reply:
                assert reply.status == 200 and len(reply.read()) > 100
    for path in STATIC_DIR.iterdir():
        text = path.read_text()
        assert "http://" not in text.replace("http://127.0.0.1", "") and "https://" not in text


def test_sessions_do_not_mix(server, demo):
    other = Client(server)
    other.start()
    job = demo.run("tikhonov")
    assert job["status"] == "done", job
    assert [r["label"] for r in demo.post("/api/results")["results"]] == ["tikhonov"]
    assert other.post("/api/results")["results"] == []
    status, data = other.request("/api/job", {"id": job["id"]})
    assert status == 400 and "another tab" in data["error"]
    status, data = other.request("/api/run", {"method": "upen"})
    assert status == 400 and "open a data file" in data["error"]


def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(server, demo):
    status, data = demo.request("/api/results", raw=b"{not json")
    assert status == 400 and "not valid JSON" in data["error"]
    status, data = demo.request("/api/open", {"path": "/no/such/folder"})
    assert status == 400 and "no such file" in data["error"]
    status, data = demo.request("/api/run", {"method": "magic"})
    assert status == 400 and "unknown method" in data["error"]
    status, data = demo.request("/api/run", {"method": "l1", "params": {"alpha": -1}})
    assert status == 400 and "positive" in data["error"]
    status, data = demo.request("/api/settings", {"n_grid": 3})
    assert status == 400 and "between 8 and 256" in data["error"]
    status, data = demo.request("/api/export", {"what": "figure-png"})
    assert status == 400 and "run a method" in data["error"]
    assert demo.post("/api/results")["results"] == []


def test_run_compare_regions_and_exports(server, demo, tmp_path):
    from laplace_inv.io import load_result_npz

    for method in ("upen", "tikhonov"):
        assert demo.run(method)["status"] == "done"
    data = demo.post("/api/results")
    labels = [r["label"] for r in data["results"]]
    assert labels == ["upen", "tikhonov"]
    assert data["zmax"] == pytest.approx(max(np.max(r["map"]) for r in data["results"]), rel=1e-4)
    first = data["results"][0]
    assert np.array(first["map"]).shape == (32, 32) and first["flags"] == []

    table = demo.post("/api/regions", {"regions": [BOX]})["table"]
    rows = {(r["region"], r["method"]): r for r in table["rows"]}
    assert 0.8 < rows[("main", "upen")]["fraction"] < 0.95  # the simulated main peak holds 88 %
    assert rows[("main", "upen")]["ratio"] == pytest.approx(
        rows[("main", "upen")]["position"][0] / rows[("main", "upen")]["position"][1]
    )

    _, (disposition, body) = demo.request("/api/export", {"what": "map-csv", "label": "upen"})
    assert "upen_map.csv" in disposition
    lines = body.decode().splitlines()
    assert lines[0].startswith("# laplace_inv map, method upen, kinds T1_IR-T2")
    grid = np.loadtxt(io.StringIO("\n".join(lines[2:])), delimiter=",")
    header = np.array(lines[1].split(",")[1:], dtype=float)
    _, (_, npz) = demo.request("/api/export", {"what": "map-npz", "label": "upen"})
    (tmp_path / "m.npz").write_bytes(npz)
    saved = load_result_npz(tmp_path / "m.npz")
    np.testing.assert_allclose(grid[:, 0], saved["grid1"], rtol=1e-7)
    np.testing.assert_allclose(header, saved["grid2"], rtol=1e-7)
    np.testing.assert_allclose(grid[:, 1:], saved["map"], rtol=1e-7, atol=1e-12)
    assert saved["metadata"]["regions"][0]["name"] == "main"
    assert saved["metadata"]["region_table"][0]["fraction"] == pytest.approx(
        rows[("main", "upen")]["fraction"]
    )

    _, (_, csv) = demo.request("/api/export", {"what": "regions-csv"})
    assert csv.decode().splitlines()[0].startswith("region,method,fraction,T1 (s),T2 (s)")
    for what, magic in (("figure-png", b"\x89PNG"), ("figure-svg", b"<?xml")):
        _, (_, image) = demo.request("/api/export", {"what": what})
        assert image.startswith(magic)

    # The Python snippet recreates the maps and the region table.
    _, (_, code) = demo.request("/api/export", {"what": "snippet-python"})
    namespace: dict = {}
    exec(compile(code.decode(), "snippet", "exec"), namespace)
    np.testing.assert_allclose(namespace["results"]["upen"].map, saved["map"], rtol=1e-6)
    _, (_, cli) = demo.request("/api/export", {"what": "snippet-cli"})
    assert "use the Python snippet" in cli.decode()


def test_region_files_round_trip_and_bad_files(server, demo):
    cutoff = {"name": "bound", "type": "cutoff", "axis": 2, "value": 0.002, "side": "below"}
    demo.post("/api/regions", {"regions": [BOX, cutoff]})
    for fmt in ("toml", "json"):
        _, (disposition, text) = demo.request("/api/regions/save", {"format": fmt})
        assert f"regions.{fmt}" in disposition
        demo.post("/api/regions", {"regions": []})
        loaded = demo.post("/api/regions/load", {"filename": f"r.{fmt}", "content": text.decode()})
        assert [r["name"] for r in loaded["regions"]] == ["main", "bound"]
    status, data = demo.request(
        "/api/regions/load", {"filename": "bad.json", "content": '{"region": [{"name": 1}]}'}
    )
    assert status == 400 and "bad.json" in data["error"]
    status, data = demo.request("/api/regions/load", {"filename": "r.txt", "content": ""})
    assert status == 400 and ".toml or .json" in data["error"]
    assert [r["name"] for r in demo.post("/api/results")["regions"]] == ["main", "bound"]


def test_residual_payload(server, demo):
    assert demo.run("tikhonov")["status"] == "done"
    res = demo.post("/api/residual", {"label": "tikhonov"})
    assert np.array(res["residual_over_noise"]).shape == (48, 200)
    assert 0.8 < res["residual_to_noise"] < 1.3  # simulated data: fit to the noise level
    assert len(res["data_rows"]) == len(res["fit_rows"]) == 3


def test_new_acquisition_drops_results_of_the_old_one(server, demo):
    assert demo.run("tikhonov")["status"] == "done"
    acq = demo.post("/api/dataset", {"name": "demo:cheese_like"})
    assert acq["shape"] == [48, 1000]
    assert demo.post("/api/results")["results"] == []


def test_uncertainty_runs_in_the_background(server, demo):
    pytest.importorskip("laplace_inv.analysis.uncertainty")
    status, data = demo.request("/api/uncertainty", {"label": "tikhonov"})
    assert status == 400 and "run a method" in data["error"]
    assert demo.run("tikhonov")["status"] == "done"
    demo.post("/api/regions", {"regions": [BOX]})
    job = demo.post("/api/uncertainty", {"label": "tikhonov", "n_draws": 50})
    deadline = time.time() + 120
    while job["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.1)
        job = demo.post("/api/job", {"id": job["id"]})
    assert job["status"] == "done", job
    data = demo.post("/api/results")
    rows = data["table"]["uncertainty"]["tikhonov"]
    main = next(r for r in rows if r["kind"] == "region")
    stats = data["table"]["rows"][0]
    assert main["name"] == "main" and main["fraction"] == pytest.approx(stats["fraction"])
    # the 68 % half-width is positive and narrower than the 95 % one (the calibrated
    # multipliers of global Tikhonov are large: its bias dominates its noise)
    assert 0 < main["fraction_pm68"] < main["fraction_hi95"] - main["fraction"]
    assert main["fraction_lo95"] < main["fraction"] < main["fraction_hi95"]
    _, (_, csv) = demo.request("/api/export", {"what": "regions-csv"})
    header, line = csv.decode().splitlines()[:2]
    assert header.endswith("position2_lo95,position2_hi95")
    pm = float(line.split(",")[header.split(",").index("fraction_pm68")])
    assert pm == pytest.approx(main["fraction_pm68"], rel=1e-5)
    # New regions make the old intervals stale.
    demo.post("/api/regions", {"regions": []})
    assert demo.post("/api/results")["table"]["uncertainty"] == {}


def test_embedded_demo_is_offered_when_the_package_ships_it(monkeypatch):
    from types import SimpleNamespace

    from laplace_inv.simulate import cement_like

    sc = cement_like(snr=100)
    ds = SimpleNamespace(
        data=sc.data,
        tau1=sc.kernel.axis1.tau,
        tau2=sc.kernel.axis2.tau,
        kinds=sc.kernel.kinds,
        noise_std=sc.noise_std,
        kernel=sc.kernel,
        files={"demo.npz": Path("/pkg/demo.npz")},
    )
    monkeypatch.setattr(core, "_embedded_loader", lambda: lambda: ds)
    assert core.EMBEDDED in core.dataset_names()
    acq = core.open_dataset(core.EMBEDDED)
    assert acq.source == "/pkg/demo.npz" and acq.noise_std == sc.noise_std
    assert core.build_kernel(acq, None, 64) == sc.kernel


def test_core_checks():
    assert core.check_params("tikhonov", {"alpha": "gcv"}) == {"alpha": "gcv"}
    assert core.check_params("tikhonov", {"alpha": "0.5"}) == {"alpha": 0.5}
    with pytest.raises(ValueError, match="one of"):
        core.check_params("tikhonov", {"alpha": "auto"})
    with pytest.raises(ValueError, match="no parameter"):
        core.check_params("upen", {"alpha": 1})
    with pytest.raises(ValueError, match="kinds must be two of"):
        core.check_settings(["T1", "T2"], 64)
    with pytest.raises(ValueError, match="axis files"):
        core.open_path("S.csv", tau1_path="t1.csv")
    with pytest.raises(ValueError, match="unknown demo"):
        core.open_dataset("demo:nothing")
    acq = core.open_dataset("demo:cement_like")
    kernel = core.build_kernel(acq, ("T2", "T2"), 16)
    assert kernel.kinds == ("T2", "T2") and kernel.map_shape == (16, 16)
    assert core.method_kernel(acq, "dlemlr", None, 16).map_shape == (16, 16)


def test_flags_name_unphysical_mass():
    from laplace_inv.base import InversionResult
    from laplace_inv.simulate import cement_kernel

    kernel = cement_kernel(16)
    F = np.zeros((16, 16))
    F[np.argmin(abs(kernel.grid1 - 2e-3)), np.argmin(abs(kernel.grid2 - 0.05))] = 1.0  # T1 < T2
    flags = payloads.map_flags(InversionResult(F, kernel, kernel.forward(F), noise_std=1e-9))
    assert any("T1 < T2" in f for f in flags)
    assert any("residual/noise" in f for f in flags) is False


def test_job_errors_are_reported():
    runner = JobRunner()
    job = runner.submit("s", "fails", lambda job: 1 / 0)
    done = runner.wait(job.jid, timeout=5)
    assert done.status == "error" and "ZeroDivisionError" in done.message
    assert runner.get(job.jid, "other") is None
    runner.shutdown()


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_import_stays_light():
    code = (
        "import sys, laplace_inv, laplace_inv.viewer; "
        "print(sorted(m for m in ('plotly', 'torch', 'http.server', 'laplace_inv.viewer.server') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True
    )
    assert out.stdout.strip() == "[]"


def _default_sigint() -> None:
    # A child inherits an ignored or blocked SIGINT from its parent (a background job, or a
    # library that masked it in the test process); the viewer must see Ctrl-C as a user does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_module_entry_point_serves_until_interrupted(tmp_path):
    help_out = subprocess.run(
        [sys.executable, "-m", "laplace_inv.viewer", "--help"],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    assert "--no-browser" in help_out.stdout and "127.0.0.1" in help_out.stdout
    stderr = (tmp_path / "stderr.txt").open("w")  # a file: an unread pipe could fill and block
    proc = subprocess.Popen(
        [sys.executable, "-m", "laplace_inv.viewer", "/no/such/data.npz", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=_env(),
        preexec_fn=_default_sigint,
    )
    try:
        line = proc.stdout.readline()
        assert line.rstrip().endswith("?open=/no/such/data.npz  (Ctrl-C stops it)"), line
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert b"laplace-inv viewer" in reply.read()
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        assert code == 130, (tmp_path / "stderr.txt").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr.close()

"""Real datasets: local folder, cache, verified download, and the errors around them."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from laplace_inv.datasets import (
    REGISTRY,
    ChecksumError,
    DatasetNotAvailableError,
    fetch_file,
    load_cement_t1t2,
    load_maastricht_t2t2,
    load_sse_dt2,
)
from laplace_inv.datasets._download import download_verified
from laplace_inv.kernels import Kernel2D

SHARED_DATA = Path(
    os.environ.get("LAPLACE_INV_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "cement_t1t2_ircpmg" / "S_IRCPMG.dat").is_file(),
    reason=f"shared real datasets not found at {SHARED_DATA} (set up by the project's CI)",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test touches the user's cache or the network."""
    monkeypatch.setenv("LAPLACE_INV_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LAPLACE_INV_DATA", raising=False)
    monkeypatch.delenv("LAPLACE_INV_OFFLINE", raising=False)

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


@pytest.fixture
def shared_data(monkeypatch):
    monkeypatch.setenv("LAPLACE_INV_DATA", str(SHARED_DATA))
    return SHARED_DATA


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


# ----------------------------------------------------------------------------- registry


def test_registry_is_pinned_and_complete():
    assert set(REGISTRY) == {"cement_t1t2_ircpmg", "maastricht_t2t2", "sse_dt2"}
    for spec in REGISTRY.values():
        assert len(spec.files) == 3
        for name, sha in spec.files.items():
            assert len(sha) == 64 and int(sha, 16) >= 0
            url = spec.url(name)
            assert url.startswith("https://raw.githubusercontent.com/")
            # pinned to a 40-hex commit
            parts = url.split("/")
            assert any(len(p) == 40 and all(c in "0123456789abcdef" for c in p) for p in parts)
        assert {spec.data_file, spec.tau1_file, spec.tau2_file} == set(spec.files)
    assert REGISTRY["cement_t1t2_ircpmg"].url("t_Y.dat") == (
        "https://raw.githubusercontent.com/fzama63/Upen2DTool/"
        "529846491712c09666254a18b767b0871f8a24d3/Upen2DTool/DATA/T1-T2/t_Y.dat"
    )


@needs_shared
def test_registry_checksums_match_shared_files():
    for key, spec in REGISTRY.items():
        for name, sha in spec.files.items():
            assert hashlib.sha256((SHARED_DATA / key / name).read_bytes()).hexdigest() == sha


# ----------------------------------------------------------------------------- loaders


@needs_shared
def test_cement(shared_data):
    ds = load_cement_t1t2()
    assert ds.data.shape == (48, 1000)
    assert ds.kinds == ("T1_IR", "T2")
    assert ds.tau1.shape == (48,) and ds.tau2.shape == (1000,)
    assert ds.tau1[0] == pytest.approx(0.8e-3)
    assert ds.tau1[-1] == pytest.approx(2.8)
    assert ds.tau2[0] == pytest.approx(0.1078e-3, rel=1e-3)
    assert np.all(ds.data[0] < 0) or ds.data[0].mean() < 0
    assert ds.data[0].mean() < 0 and ds.data[-1].mean() > 0
    assert np.abs(ds.data).max() > 1000  # raw amplitudes, not normalised
    assert isinstance(ds.kernel, Kernel2D)
    assert ds.kernel.data_shape == ds.data.shape
    assert ds.kernel.map_shape == (64, 64)
    assert ds.reference_residual == pytest.approx(2.3e-2)
    main = ds.reference_peaks[0]
    assert main["position"] == pytest.approx((0.1124, 0.01955), rel=1e-2)
    assert main["fraction"] == pytest.approx(0.85)
    assert "GPL" in ds.description
    assert ds.files["S_IRCPMG.dat"].parent == SHARED_DATA / "cement_t1t2_ircpmg"
    acq = ds.to_acquisition()
    assert acq.shape == (48, 1000)


@needs_shared
def test_maastricht(shared_data):
    ds = load_maastricht_t2t2()
    assert ds.data.shape == (128, 2800)
    assert ds.kinds == ("T2", "T2")
    assert ds.tau1[0] == pytest.approx(0.3e-3) and ds.tau1[-1] == pytest.approx(0.84)
    assert ds.tau2[1] - ds.tau2[0] == pytest.approx(0.3e-3)
    assert ds.tau1[1] - ds.tau1[0] == pytest.approx(6.61e-3, rel=1e-2)
    assert ds.kernel.map_shape == (64, 64)
    assert ds.reference_peaks[0]["position"] == pytest.approx((0.272, 0.303))


@needs_shared
def test_sse(shared_data):
    ds = load_sse_dt2()
    assert ds.data.shape == (48, 200)
    assert ds.kinds == ("D", "T2")
    assert ds.tau1[0] == pytest.approx(0.0189559e9) and ds.tau1[-1] == pytest.approx(1.27716e9)
    assert ds.tau2[0] == pytest.approx(0.04e-3) and ds.tau2[-1] == pytest.approx(8e-3)
    g1 = ds.kernel.grid1
    assert g1[0] == pytest.approx(1e-11) and g1[-1] == pytest.approx(1e-7)
    assert ds.kernel.map_shape == (64, 64)
    assert ds.reference_residual is None
    assert all(not p["published"] for p in ds.reference_peaks)


# ----------------------------------------------------------------------------- checksums


@needs_shared
def test_tampered_local_copy_raises_and_caches_nothing(monkeypatch, tmp_path):
    local = tmp_path / "local"
    folder = local / "cement_t1t2_ircpmg"
    folder.mkdir(parents=True)
    for name in REGISTRY["cement_t1t2_ircpmg"].files:
        shutil.copy(SHARED_DATA / "cement_t1t2_ircpmg" / name, folder / name)
    (folder / "t_Y.dat").write_bytes((folder / "t_Y.dat").read_bytes().replace(b"0.8", b"0.9"))
    monkeypatch.setenv("LAPLACE_INV_DATA", str(local))
    with pytest.raises(ChecksumError, match=r"t_Y\.dat.*sha256.*does not match"):
        load_cement_t1t2()
    assert _files_under(tmp_path / "cache") == []


def test_tampered_local_copy_without_shared(monkeypatch, tmp_path):
    folder = tmp_path / "local" / "sse_dt2"
    folder.mkdir(parents=True)
    (folder / "Data2D.dat").write_text("1 2 3\n")
    monkeypatch.setenv("LAPLACE_INV_DATA", str(tmp_path / "local"))
    with pytest.raises(ChecksumError, match=r"Data2D\.dat"):
        fetch_file("sse_dt2", "Data2D.dat")
    assert _files_under(tmp_path / "cache") == []


# ----------------------------------------------------------------------------- downloads


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _serve(monkeypatch, payload: bytes, calls: list):
    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return _FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)


def _register_fake(monkeypatch, payload: bytes) -> str:
    """Register a small dataset whose one file has the sha256 of ``payload``."""
    spec = REGISTRY["sse_dt2"]
    fake = dataclasses.replace(
        spec,
        key="fake",
        base_url="https://example.invalid/pinned",
        files={"f.dat": hashlib.sha256(payload).hexdigest()},
    )
    monkeypatch.setitem(REGISTRY, "fake", fake)
    return "fake"


def test_download_good_bytes(monkeypatch, tmp_path):
    payload = b"1 2 3\r\n4 5 6\r\n" * 1000
    name = _register_fake(monkeypatch, payload)
    calls: list = []
    _serve(monkeypatch, payload, calls)
    path = fetch_file(name, "f.dat")
    assert path == tmp_path / "cache" / "fake" / "f.dat"
    assert path.read_bytes() == payload
    assert calls == ["https://example.invalid/pinned/f.dat"]
    assert _files_under(tmp_path / "cache") == [path]  # no temporary file left
    # second call is served from the cache, without the network
    assert fetch_file(name, "f.dat") == path
    assert len(calls) == 1


def test_download_bad_bytes_leaves_nothing(monkeypatch, tmp_path):
    name = _register_fake(monkeypatch, b"the real content")
    _serve(monkeypatch, b"something else entirely", [])
    with pytest.raises(ChecksumError, match=r"sha256.*discarded"):
        fetch_file(name, "f.dat")
    assert _files_under(tmp_path / "cache") == []


def test_download_interrupted_leaves_nothing(monkeypatch, tmp_path):
    name = _register_fake(monkeypatch, b"the real content")

    class Broken(_FakeResponse):
        def read(self, n=-1):
            raise ConnectionResetError("connection reset")

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Broken(b""))
    with pytest.raises(DatasetNotAvailableError, match="connection reset"):
        fetch_file(name, "f.dat")
    assert _files_under(tmp_path / "cache") == []


def test_corrupted_cache_entry_is_replaced(monkeypatch, tmp_path):
    payload = b"good bytes"
    name = _register_fake(monkeypatch, payload)
    cached = tmp_path / "cache" / "fake" / "f.dat"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"bad bytes")
    _serve(monkeypatch, payload, [])
    assert fetch_file(name, "f.dat").read_bytes() == payload


def test_no_source_error_message(tmp_path):
    with pytest.raises(DatasetNotAvailableError) as info:
        load_sse_dt2()
    msg = str(info.value)
    assert "LAPLACE_INV_DATA" in msg and "network" in msg
    assert "sse_dt2/Data2D.dat" in msg
    assert isinstance(info.value, OSError)
    assert _files_under(tmp_path / "cache") == []


def test_offline_env_var(monkeypatch):
    monkeypatch.setenv("LAPLACE_INV_OFFLINE", "1")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    with pytest.raises(DatasetNotAvailableError, match="LAPLACE_INV_OFFLINE"):
        fetch_file("maastricht_t2t2", "T2T2axisA.dat")


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        fetch_file("nope", "x")
    with pytest.raises(ValueError, match=r"has no file 'x\.dat'"):
        fetch_file("sse_dt2", "x.dat")


# ----------------------------------------------------------------------------- bounded downloads


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves /big (many more bytes than registered) and /slow (one byte every 0.3 s)."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        if self.path.endswith("/big"):
            block = b"x" * 65536
            for _ in range(64):  # 4 MiB, far more than the 944 bytes registered
                try:
                    self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    return
        else:
            for _ in range(100):
                try:
                    self.wfile.write(b"y")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                time.sleep(0.3)

    def log_message(self, *args):
        pass


_REAL_URLOPEN = urllib.request.urlopen  # the autouse fixture blocks the network; 127.0.0.1 only


@pytest.fixture
def local_server(monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _REAL_URLOPEN)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_stops_at_the_registered_size(local_server, tmp_path):
    target = tmp_path / "f.dat"
    with pytest.raises(ChecksumError, match="larger than the expected 944 bytes"):
        download_verified(local_server + "/big", target, "0" * 64, expected_size=944)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_download_gives_up_on_a_trickling_server(local_server, tmp_path):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="deadline"):
        download_verified(
            local_server + "/slow",
            tmp_path / "f.dat",
            "0" * 64,
            expected_size=944,
            deadline_s=1.5,
            timeout_s=5.0,
        )
    assert time.monotonic() - start < 4.0
    assert list(tmp_path.iterdir()) == []


def test_fetch_file_passes_the_registered_size(monkeypatch, tmp_path):
    payload = b"0.04\n" * 10
    name = _register_fake(monkeypatch, payload)
    spec = dataclasses.replace(REGISTRY[name], sizes={"f.dat": len(payload) - 1})
    monkeypatch.setitem(REGISTRY, name, spec)
    _serve(monkeypatch, payload, [])
    with pytest.raises(ChecksumError, match="larger than the expected"):
        fetch_file(name, "f.dat")
    assert _files_under(tmp_path / "cache") == []


def test_download_retries_a_failed_connection(monkeypatch, tmp_path):
    payload = b"good bytes"
    name = _register_fake(monkeypatch, payload)
    calls: list = []

    def flaky(url, timeout=None):
        calls.append(url)
        if len(calls) < 3:
            raise urllib.error.URLError("temporary failure")
        return _FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", flaky)
    assert fetch_file(name, "f.dat").read_bytes() == payload
    assert len(calls) == 3


def test_one_sha256_helper():
    from laplace_inv import datasets
    from laplace_inv.datasets import _download

    assert datasets.sha256_file is _download.sha256_file
    for spec in REGISTRY.values():
        assert set(spec.sizes) == set(spec.files)

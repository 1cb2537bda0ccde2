"""Safe model files and downloads (issue 7, item 3).

* No code path in the package unpickles a file: no ``pickle.load``/``loads`` (nor ``dill``,
  ``joblib.load``, ``marshal``, ``yaml.load``, ``pandas.read_pickle``), no ``torch.load``
  without ``weights_only=True``, no ``allow_pickle=True``. Checked on the syntax tree of every
  module, so that comments and docstrings do not count and aliases do.
* DLEMLR weights load only through safetensors: an altered or truncated weights file gives a
  clear error, runs nothing, and leaves nothing behind.
* Dataset downloads (extending ``test_datasets.py``): a truncated or corrupted transfer, an
  interrupted one, or one replacing a bad cache entry leaves no file; the rename into place
  happens only after the checksum passes and stays within the cache folder.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import io
import json
import os
import pickle
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import laplace_inv

PACKAGE = Path(laplace_inv.__file__).resolve().parent

# --------------------------------------------------------------------------------------------
# 1. no pickle loading anywhere in the package
# --------------------------------------------------------------------------------------------

#: (module, function) pairs that deserialise arbitrary objects.
UNSAFE_CALLS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("cPickle", "load"),
    ("cPickle", "loads"),
    ("_pickle", "load"),
    ("_pickle", "loads"),
    ("dill", "load"),
    ("dill", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("joblib", "load"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("np", "loads"),
    ("numpy", "loads"),
}


def _unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    """Problems in one module: unsafe deserialisation calls and pickle-enabling flags."""
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}  # local name -> module (import pickle as pk; from pickle ...)
    imported: dict[str, tuple[str, str]] = {}  # from pickle import load -> ("pickle", "load")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                imported[a.asname or a.name] = (node.module.split(".")[0], a.name)
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target: tuple[str, str] | None = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = (aliases.get(func.value.id, func.value.id), func.attr)
        elif isinstance(func, ast.Name) and func.id in imported:
            target = imported[func.id]
        where = f"{filename}:{node.lineno}"
        if target in UNSAFE_CALLS:
            problems.append(f"{where}: {target[0]}.{target[1]}(...)")
        if target == ("torch", "load"):
            ok = any(
                k.arg == "weights_only"
                and isinstance(k.value, ast.Constant)
                and k.value.value is True
                for k in node.keywords
            )
            if not ok:
                problems.append(f"{where}: torch.load(...) without weights_only=True")
        for k in node.keywords:
            if k.arg == "allow_pickle" and not (
                isinstance(k.value, ast.Constant) and k.value.value is False
            ):
                problems.append(f"{where}: allow_pickle={ast.unparse(k.value)}")
    return problems


def test_unsafe_call_detector_catches_known_patterns() -> None:
    bad = """
import pickle as pk
import torch, numpy as np, joblib
from pickle import loads
pk.load(open("f", "rb"))
loads(b"")
torch.load("w.pt")
torch.load("w.pt", weights_only=False)
np.load("x.npy", allow_pickle=True)
joblib.load("m.joblib")
"""
    found = _unsafe_calls(bad)
    assert len(found) == 6, found
    good = """
import torch, numpy as np
torch.load("w.pt", weights_only=True)
np.load("x.npz", allow_pickle=False)
# pickle.load(f) in a comment is fine
s = "pickle.load"
"""
    assert _unsafe_calls(good) == []


def test_package_never_unpickles() -> None:
    problems = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        problems += _unsafe_calls(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert problems == [], "unsafe deserialisation in the package:\n" + "\n".join(problems)


def test_package_text_has_no_pickle_flags() -> None:
    """A plain-text net under the AST check (e.g. code built in strings)."""
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "allow_pickle=True" in line.replace(" ", "") or "weights_only=False" in line:
                hits.append(f"{path.name}:{i}: {line.strip()}")
    assert hits == []


def test_no_weights_file_is_a_pickle() -> None:
    """Shipped weights (if any) are safetensors with a JSON record holding their sha256."""
    wdir = PACKAGE / "dlemlr" / "weights"
    for path in wdir.glob("*") if wdir.is_dir() else []:
        assert path.suffix in (".safetensors", ".json", ".md", ".txt"), path.name
        if path.suffix == ".safetensors":
            record = json.loads(path.with_suffix(".json").read_text())
            assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# 2. DLEMLR weights: safetensors only, verified, tamper-evident
# --------------------------------------------------------------------------------------------

FAMILY = "T1_IR-T2"


def _fitted():
    from test_properties import dlemlr_fixture

    fixture = dlemlr_fixture()
    if fixture is None:
        pytest.skip("torch not available")
    return fixture


def _write_weights(est, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    wfile = est.save(folder / f"{FAMILY}.safetensors")
    jfile = folder / f"{FAMILY}.json"
    jfile.write_text(json.dumps({"family": FAMILY, "sha256": _sha(wfile)}))
    return wfile, jfile


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(*folders: Path) -> dict[str, bytes]:
    out = {}
    for folder in folders:
        for p in folder.rglob("*"):
            if p.is_file():
                out[str(p)] = p.read_bytes()
    return out


def _temp_entries() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith("dlemlr")}


@pytest.fixture
def weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    est, kernel = _fitted()
    monkeypatch.chdir(tmp_path)
    wfile, jfile = _write_weights(est, tmp_path / "weights")
    return est, kernel, wfile, jfile


@pytest.fixture
def no_pickle(monkeypatch: pytest.MonkeyPatch):
    """Make every unpickling entry point explode while a test loads weights."""
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle-based loader was called")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)


def test_valid_weights_load_through_safetensors_only(weights, no_pickle) -> None:
    from laplace_inv.dlemlr import DLEMLRInverter

    est, kernel, wfile, _ = weights
    loaded = DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)
    X = kernel.forward(np.ones((2, *kernel.map_shape)))
    np.testing.assert_allclose(loaded.predict(X), est.predict(X), rtol=1e-6, atol=1e-9)
    assert wfile.read_bytes()[:8] != pickle.dumps(None)[:8]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "append", "empty"])
def test_tampered_weights_give_clear_error_and_leave_nothing(
    weights, no_pickle, damage: str
) -> None:
    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, _ = weights
    raw = bytearray(wfile.read_bytes())
    if damage == "flip a byte":
        raw[len(raw) // 2] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 3]
    elif damage == "append":
        raw += b"\x00malicious"
    else:
        raw = bytearray()
    wfile.write_bytes(bytes(raw))
    before, temp_before = _snapshot(wfile.parent, Path.cwd()), _temp_entries()
    with pytest.raises((OSError, ValueError)) as info:
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)
    msg = str(info.value)
    assert "SHA-256" in msg and "corrupt" in msg and wfile.name in msg
    assert _snapshot(wfile.parent, Path.cwd()) == before  # nothing written, nothing removed
    assert _temp_entries() == temp_before


def test_weights_without_record_are_refused(weights) -> None:
    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, jfile = weights
    jfile.unlink()
    with pytest.raises(FileNotFoundError, match="no pretrained DLEMLR model"):
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)


@pytest.mark.parametrize("record", ["{}", '{"sha256": null}', '{"sha256": "00"}'])
def test_record_without_valid_checksum_is_refused(weights, record: str) -> None:
    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, jfile = weights
    jfile.write_text(record)
    with pytest.raises((OSError, ValueError), match="SHA-256"):
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)


def test_pickle_disguised_as_weights_is_never_executed(weights, tmp_path: Path) -> None:
    """A pickle renamed to .safetensors, even with a matching checksum, runs no code."""
    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, jfile = weights
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    wfile.write_bytes(pickle.dumps({"state": Exploit()}))
    jfile.write_text(json.dumps({"sha256": _sha(wfile)}))
    with pytest.raises(Exception) as info:
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)
    assert not marker.exists(), "the pickle payload was executed"
    assert info.type is not AssertionError


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pickle"])
def test_corrupt_weights_with_matching_record_give_clear_error(weights, damage: str) -> None:
    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, jfile = weights
    raw = wfile.read_bytes()
    if damage == "truncate":
        wfile.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        wfile.write_bytes(b"\xff" * 64)
    else:
        wfile.write_bytes(pickle.dumps({"a": 1}))
    jfile.write_text(json.dumps({"sha256": _sha(wfile)}))
    with pytest.raises(ValueError, match=r"safetensors|weights|corrupt|truncated"):
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)
    with pytest.raises(ValueError, match=r"safetensors|weights|corrupt|truncated"):
        DLEMLRInverter.load(wfile, kernel)


def test_weights_not_matching_their_config_give_clear_error(weights) -> None:
    from safetensors.torch import load_file, save_file

    from laplace_inv.dlemlr import DLEMLRInverter

    _, kernel, wfile, jfile = weights
    state = load_file(str(wfile))
    state = {k: v for i, (k, v) in enumerate(sorted(state.items())) if i % 2}  # drop half
    from safetensors import safe_open

    with safe_open(str(wfile), framework="pt") as fh:
        meta = fh.metadata()
    save_file(state, str(wfile), metadata=meta)
    jfile.write_text(json.dumps({"sha256": _sha(wfile)}))
    with pytest.raises(ValueError, match=r"weights|tensor|config"):
        DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wfile.parent)


# --------------------------------------------------------------------------------------------
# 3. dataset downloads: what tests/test_datasets.py does not cover yet
# --------------------------------------------------------------------------------------------


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("LAPLACE_INV_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LAPLACE_INV_DATA", raising=False)
    monkeypatch.delenv("LAPLACE_INV_OFFLINE", raising=False)

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return tmp_path / "cache"


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _register(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> str:
    from laplace_inv.datasets import REGISTRY

    fake = dataclasses.replace(
        REGISTRY["sse_dt2"],
        key="fake_safety",
        base_url="https://example.invalid/pinned",
        files={"f.dat": hashlib.sha256(payload).hexdigest()},
    )
    monkeypatch.setitem(REGISTRY, "fake_safety", fake)
    return "fake_safety"


def _serve(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _Response(payload))


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


GOOD = b"0.1 0.2 0.3\r\n" * 500


def test_truncated_download_leaves_nothing(cache, monkeypatch) -> None:
    from laplace_inv.datasets import ChecksumError, fetch_file

    name = _register(monkeypatch, GOOD)
    _serve(monkeypatch, GOOD[: len(GOOD) // 2])
    with pytest.raises(ChecksumError, match="sha256"):
        fetch_file(name, "f.dat")
    assert _files(cache) == []


def test_rename_only_after_checksum_and_within_cache(cache, monkeypatch) -> None:
    from laplace_inv import datasets
    from laplace_inv.datasets import ChecksumError, fetch_file

    name = _register(monkeypatch, GOOD)
    calls: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(datasets.os, "replace", spy)
    _serve(monkeypatch, GOOD.replace(b"0.3", b"0.4", 1))  # same length, altered
    with pytest.raises(ChecksumError):
        fetch_file(name, "f.dat")
    assert calls == [] and _files(cache) == []
    _serve(monkeypatch, GOOD)
    path = fetch_file(name, "f.dat")
    assert len(calls) == 1
    src, dst = calls[0]
    assert dst == path and src.parent == dst.parent and src.name.startswith(".")
    assert _files(cache) == [path] and path.read_bytes() == GOOD


def test_interrupted_download_leaves_no_partial_file(cache, monkeypatch) -> None:
    """Even a KeyboardInterrupt mid-transfer removes the temporary file."""
    from laplace_inv.datasets import fetch_file

    name = _register(monkeypatch, GOOD)

    class Interrupted(_Response):
        def read(self, n=-1):
            if self.tell() > 0:
                raise KeyboardInterrupt
            return super().read(16)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Interrupted(GOOD))
    with pytest.raises(KeyboardInterrupt):
        fetch_file(name, "f.dat")
    assert _files(cache) == []


def test_bad_cache_entry_and_bad_download_leave_nothing(cache, monkeypatch) -> None:
    from laplace_inv.datasets import ChecksumError, fetch_file

    name = _register(monkeypatch, GOOD)
    stale = cache / name / "f.dat"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale and wrong")
    _serve(monkeypatch, b"also wrong")
    with pytest.raises(ChecksumError):
        fetch_file(name, "f.dat")
    assert _files(cache) == []


def test_loader_never_reads_an_unverified_file(cache, monkeypatch, tmp_path) -> None:
    """A tampered local copy is refused before any reader parses it."""
    from laplace_inv import datasets

    spec = datasets.REGISTRY["sse_dt2"]
    local = tmp_path / "local" / "sse_dt2"
    local.mkdir(parents=True)
    for fname in spec.files:
        (local / fname).write_text("1 2 3\n")
    monkeypatch.setenv("LAPLACE_INV_DATA", str(tmp_path / "local"))
    parsed: list[Path] = []
    monkeypatch.setattr(
        datasets, "read_numeric_text", lambda path, what="data": parsed.append(path)
    )
    with pytest.raises(datasets.ChecksumError):
        datasets.load_sse_dt2()
    assert parsed == []
    assert _files(cache) == []

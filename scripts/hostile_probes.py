"""Hand-written hostile probes for the reliability report (issue 26 categories).

Each category function returns a list of `Probe` objects; `run_probes` runs them and counts each
as handled (a correct result, or a `ValueError`/`TypeError`/`OSError` whose message names the
problem) or not handled (any other exception, a wrong result, a silently accepted bad input, a
blocked call). Categories: CLI outputs, weights/records/downloads, readers and ``.par`` files,
determinism, load. ``quick`` selects a smaller set of each.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


class ProbeFailed(Exception):
    """The probe saw a wrong result, a silent acceptance or an unclear error."""


@dataclass
class Probe:
    """One hostile case: ``run()`` returns ``("ok", "")`` or ``("error", message)``."""

    label: str
    run: Callable[[], tuple[str, str]]
    timeout: float = 120.0


def expect_error(
    call: Callable[[], Any], match: str, types: tuple[type[BaseException], ...] = ()
) -> tuple[str, str]:
    """Run ``call``; it must raise one of ``types`` whose message matches ``match``."""
    types = types or (ValueError, TypeError, OSError)
    try:
        call()
    except types as exc:
        msg = str(exc)
        if not re.search(match, msg, flags=re.IGNORECASE | re.DOTALL):
            raise ProbeFailed(
                f"unclear {type(exc).__name__}: {msg[:200]!r} lacks {match!r}"
            ) from None
        return "error", f"{type(exc).__name__}: {msg}"
    raise ProbeFailed(f"accepted silently (expected an error matching {match!r})")


def check(condition: bool, what: str) -> tuple[str, str]:
    """``("ok", "")`` when ``condition`` holds, else `ProbeFailed` naming ``what``."""
    if not condition:
        raise ProbeFailed(what)
    return "ok", ""


def _run_with_deadline(probe: Probe) -> tuple[str, str]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = probe.run()
        except BaseException as exc:  # every outcome is counted
            box["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(probe.timeout)
    if thread.is_alive():
        raise ProbeFailed(f"blocked for more than {probe.timeout:.0f} s")
    if "exc" in box:
        raise box["exc"]
    return box["result"]


def run_probes(probes: list[Probe], tally: Any, normalise: Callable[[str], str]) -> None:
    """Run ``probes`` and add their outcomes to ``tally`` (a report `Tally`)."""
    t0 = time.perf_counter()
    for probe in probes:
        tally.tried += 1
        tally.labels[probe.label] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kind, msg = _run_with_deadline(probe)
        except BaseException as exc:  # every outcome is counted
            tally.unhandled += 1
            if len(tally.failures) < 5:
                tally.failures.append(f"{probe.label}: {type(exc).__name__}: {exc}"[:300])
            continue
        if kind == "ok":
            tally.ok += 1
        else:
            tally.errors += 1
            tally.messages[normalise(msg)] += 1
    tally.seconds = time.perf_counter() - t0


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _cli(argv: list[str]) -> tuple[int, str]:
    from laplace_inv.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


# --------------------------------------------------------------------------------------------
# CLI outputs: overwrite refused, atomic writes, killed runs, options a format does not take
# --------------------------------------------------------------------------------------------


def scan_npz(path: Path, seed: int = 0) -> Path:
    """A small T1_IR-T2 acquisition in an ``.npz`` (12 × 120 points)."""
    from laplace_inv import Kernel2D, KernelAxis
    from laplace_inv.simulate import cement_like

    tau1, tau2 = np.geomspace(1e-3, 3.0, 12), np.arange(1, 121) * 0.5e-3
    kernel = Kernel2D(KernelAxis("T1_IR", tau1, n_grid=16), KernelAxis("T2", tau2, n_grid=16))
    sc = cement_like(kernel, snr=300, random_state=seed)
    np.savez(path, data=sc.data, tau1=tau1, tau2=tau2, kinds=["T1_IR", "T2"])
    return path


def _writer_probe(folder: Path, n_files: int, existing: int, overwrite: bool, fail_at: int):
    """ResultWriter with existing targets, an overwrite policy and the write ``fail_at`` failing."""
    from laplace_inv.cli.output import ResultWriter

    def run() -> tuple[str, str]:
        folder.mkdir(parents=True)
        targets = [folder / f"r{i}.txt" for i in range(n_files)]
        for path in targets[:existing]:
            path.write_text("old")
        before = _snapshot(folder)

        def write(i: int) -> Callable[[Path], Any]:
            def w(tmp: Path) -> None:
                if i == fail_at:
                    tmp.write_text("ha")  # half written, then the disk fills up
                    raise OSError("disk full (probe)")
                tmp.write_text("new")

            return w

        def write_all() -> None:
            with ResultWriter(overwrite=overwrite) as writer:
                for i, path in enumerate(targets):
                    writer.add(path, write(i))

        if fail_at < n_files or (existing and not overwrite):
            expected = "disk full" if fail_at < n_files and (overwrite or not existing) else ""
            outcome = expect_error(write_all, expected or "--overwrite", (OSError,))
            check(_snapshot(folder) == before, "a failed write changed the folder")
            return outcome
        write_all()
        return check(
            all(p.read_text() == "new" for p in targets) and len(_snapshot(folder)) == n_files,
            "results incomplete or temporary files left",
        )

    return run


def _raise(exc: BaseException) -> None:
    raise exc


def _two_writers(folder: Path) -> Callable[[], tuple[str, str]]:
    from laplace_inv.cli.output import ResultWriter

    def run() -> tuple[str, str]:
        folder.mkdir(parents=True)
        first, second = ResultWriter(), ResultWriter()
        for writer, text in ((first, "first"), (second, "second")):
            for name in ("r_map.npz", "r_map.csv"):
                writer.add(folder / name, functools.partial(Path.write_text, data=text))
        first.commit()
        outcome = expect_error(second.commit, "--overwrite", (FileExistsError,))
        check({p.read_text() for p in folder.iterdir()} == {"first"}, "second writer mixed in")
        return outcome

    return run


KILL_MID_WRITE = """
import os, signal, sys
from pathlib import Path
import laplace_inv.io as io_module
real_save = io_module.save_result_npz
def half_then_die(path, *args, **kwargs):
    written = real_save(path, *args, **kwargs)
    data = Path(written).read_bytes()
    Path(written).write_bytes(data[: len(data) // 2])
    os.kill(os.getpid(), __import__("signal").SIGKILL)
io_module.save_result_npz = half_then_die
from laplace_inv.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed_run(folder: Path, method: str) -> Callable[[], tuple[str, str]]:
    def run() -> tuple[str, str]:
        folder.mkdir(parents=True)
        path = scan_npz(folder / "scan.npz")
        out = folder / "out"
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        argv = ["invert", str(path), "--method", method, "--grid", "16", "-q", "-o", str(out)]
        proc = subprocess.run(
            [sys.executable, "-c", KILL_MID_WRITE, *argv], env=env, capture_output=True, timeout=300
        )
        check(proc.returncode < 0, f"the run was not killed (rc {proc.returncode})")
        names = [p.name for p in out.iterdir()] if out.exists() else []
        check(not [n for n in names if not n.startswith(".")], f"visible partial files: {names}")
        code, err = _cli(argv)  # the next run is not blocked by hidden leftovers
        check(code == 0, f"the rerun failed: {err[-200:]}")
        return "ok", ""

    return run


def _cli_overwrite(folder: Path, method: str) -> list[Probe]:
    path, out = folder / "scan.npz", folder / "out"
    argv = ["invert", str(path), "--method", method, "--grid", "16", "-q", "-o", str(out)]
    state: dict[str, bytes] = {}

    def first() -> tuple[str, str]:
        folder.mkdir(parents=True)
        scan_npz(path)
        code, err = _cli(argv)
        check(code == 0, f"first run failed: {err[-200:]}")
        state["before"] = (out / "scan_map.npz").read_bytes()
        return "ok", ""

    def second() -> tuple[str, str]:
        scan_npz(path, seed=3)
        code, err = _cli(argv)
        check(code == 2, f"a second run into the same folder exited {code}")
        check((out / "scan_map.npz").read_bytes() == state["before"], "result replaced")
        return expect_error(lambda: _raise(FileExistsError(err)), "already exist.*--overwrite")

    def forced() -> tuple[str, str]:
        code, err = _cli([*argv, "--overwrite"])
        check(code == 0, f"--overwrite failed: {err[-200:]}")
        check((out / "scan_map.npz").read_bytes() != state["before"], "not replaced")
        return check(not list(out.glob(".*partial*")), "temporary files left")

    return [
        Probe(f"first run ({method})", first),
        Probe(f"rerun refused ({method})", second),
        Probe(f"--overwrite ({method})", forced),
    ]


def _option_probe(folder: Path, fmt: str, option: str) -> Callable[[], tuple[str, str]]:
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_any

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"a.{fmt}"
        if fmt == "npz":
            np.savez(
                path, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02], kinds=["T2"] * 2
            )
        elif fmt == "mat":
            import scipy.io

            scipy.io.savemat(path, {"data": np.ones((2, 2)), "tau1": [0.1, 0.2], "tau2": [1, 2]})
        else:
            path.write_text("1,2\n3,4\n")
        return expect_error(lambda: read_any(path, **{option: 1}), re.escape(option))

    return run


def _cli_npz_tau1(folder: Path) -> Callable[[], tuple[str, str]]:
    def run() -> tuple[str, str]:
        folder.mkdir(parents=True)
        path = scan_npz(folder / "a.npz")
        (folder / "t.csv").write_text("1\n2\n")
        argv = ["invert", str(path), "--tau1", str(folder / "t.csv"), "-o", str(folder / "o")]
        code, err = _cli(argv)
        check(code != 0, "--tau1 with an .npz was accepted")
        check("unexpected keyword" not in err, "a Python TypeError leaked")
        return expect_error(lambda: _raise(ValueError(err)), r"tau1.*npz|npz.*tau1")

    return run


def cli_output_probes(tmp: Path, quick: bool) -> list[Probe]:
    """Overwrite refused, atomic writes, killed runs, options a format does not take."""
    probes: list[Probe] = []
    for method in ("tikhonov",) if quick else ("tikhonov", "upen"):
        probes += _cli_overwrite(tmp / f"ow-{method}", method)
    k = 0
    for n_files in (1, 2, 3):
        for existing in range(n_files + 1):
            for overwrite in (False, True):
                for fail_at in range(n_files + 1):
                    if quick and (n_files == 3 or fail_at not in (0, n_files)):
                        continue
                    k += 1
                    label = f"writer: {n_files} file(s), {existing} exist, fail at {fail_at}"
                    run = _writer_probe(tmp / f"w{k}", n_files, existing, overwrite, fail_at)
                    probes.append(Probe(label, run))
    probes.append(Probe("two writers, one folder", _two_writers(tmp / "two")))
    for method in ("tikhonov",) if quick else ("tikhonov", "upen"):
        probes.append(
            Probe(f"killed mid-write ({method})", _killed_run(tmp / f"kill-{method}", method), 300)
        )
    options = ("bogus", "tau3_path", "delimiter_x", "tau1_path", "kinds", "time_unit")
    for fmt in ("npz", "mat", "csv"):
        for option in options[:3] if fmt != "npz" else options:
            probes.append(
                Probe(
                    f"read_any {fmt} {option}=",
                    _option_probe(tmp / f"o{len(probes)}", fmt, option),
                )
            )
    probes.append(Probe("cli invert npz --tau1", _cli_npz_tau1(tmp / "c9")))
    return probes


# --------------------------------------------------------------------------------------------
# weights, records, downloads
# --------------------------------------------------------------------------------------------

CONFIG_EDITS: dict[str, Callable[[dict], Any]] = {
    "refine=True": lambda c: c.update(refine=True),
    "unknown key": lambda c: c.update(evil="rm -rf"),
    "n_iter_phys=1e6": lambda c: c.update(n_iter_phys=1e6),
    "n_iter_phys=10**6": lambda c: c.update(n_iter_phys=10**6),
    "n_iter_phys=-1": lambda c: c.update(n_iter_phys=-1),
    "missing dim": lambda c: c.pop("dim"),
    "heads='2'": lambda c: c.update(heads="2"),
    "grid=[16]": lambda c: c.update(grid=[16]),
    "w_phys=nan": lambda c: c.update(w_phys=float("nan")),
    "dim=None": lambda c: c.update(dim=None),
    "depth=10**9": lambda c: c.update(depth=10**9),
    "patch=0": lambda c: c.update(patch=0),
}
BAD_CONFIG_TEXTS = ("{not json", "[1, 2]", "null", '"text"', "[" * 100000, "")
BAD_RECORDS = {
    "not json": "{oops",
    "a list": "[1, 2]",
    "empty": "",
    "no sha256": "{}",
    "sha256 null": '{"sha256": null}',
    "short sha256": '{"sha256": "00"}',
    "sha256 number": '{"sha256": 5}',
    "unknown key": '{"sha256": "%s", "refine": true}',
    "unknown family": '{"sha256": "%s", "families": ["T9-T9"]}',
    "partial config": '{"sha256": "%s", "config": {"dim": 8}}',
    "recipe traversal": '{"sha256": "%s", "recipe": "../../etc/passwd"}',
    "status a number": '{"sha256": "%s", "status": 3}',
    "deep nesting": '{"sha256": "%s", "x": ' + "[" * 100000 + "}",
}
FAMILY = "T1_IR-T2"


def _save_with(src: Path, dst: Path, state: dict | None = None, config: str | None = None) -> Path:
    from safetensors.torch import load_file, save_file

    from laplace_inv.dlemlr.persistence import read_weights

    tensors = load_file(str(src)) if state is None else state
    text = json.dumps(read_weights(src).config) if config is None else config
    save_file(tensors, str(dst), metadata={"config": text})
    return dst


def _clear_cache() -> None:
    from laplace_inv.dlemlr import persistence

    clear = getattr(persistence, "clear_cache", None)
    if clear is not None:
        clear()


def _config_probe(src: Path, kernel: Any, dst: Path, edit: Callable[[dict], Any]):
    def run() -> tuple[str, str]:
        from laplace_inv.dlemlr import DLEMLRInverter
        from laplace_inv.dlemlr.persistence import read_weights

        cfg = dict(read_weights(src).config)
        edit(cfg)
        _save_with(src, dst, config=json.dumps(cfg))
        _clear_cache()
        return expect_error(
            lambda: DLEMLRInverter.load(dst, kernel), re.escape(dst.name), (ValueError,)
        )

    return run


def _config_text_probe(src: Path, kernel: Any, dst: Path, text: str):
    def run() -> tuple[str, str]:
        from laplace_inv.dlemlr import DLEMLRInverter

        _save_with(src, dst, config=text)
        _clear_cache()
        return expect_error(
            lambda: DLEMLRInverter.load(dst, kernel), re.escape(dst.name), (ValueError,)
        )

    return run


def _nonfinite_probe(src: Path, kernel: Any, dst: Path, name: str, value: float):
    def run() -> tuple[str, str]:
        from safetensors.torch import load_file

        from laplace_inv.dlemlr import DLEMLRInverter

        state = load_file(str(src))
        bad = state[name].clone()
        bad.view(-1)[0] = value
        state[name] = bad
        _save_with(src, dst, state=state)
        _clear_cache()
        return expect_error(lambda: DLEMLRInverter.load(dst, kernel), "not finite", (ValueError,))

    return run


def _weights_folder(src: Path, folder: Path, record: str | None = None) -> Path:
    folder.mkdir(parents=True)
    wfile = folder / f"{FAMILY}.safetensors"
    wfile.write_bytes(src.read_bytes())
    sha = hashlib.sha256(wfile.read_bytes()).hexdigest()
    text = json.dumps({"sha256": sha}) if record is None else record.replace("%s", sha)
    (folder / f"{FAMILY}.json").write_text(text)
    return folder


def _record_probe(src: Path, kernel: Any, folder: Path, record: str):
    def run() -> tuple[str, str]:
        from laplace_inv.dlemlr import DLEMLRInverter

        _weights_folder(src, folder, record)
        _clear_cache()
        before = _snapshot(folder)
        out = expect_error(
            lambda: DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=folder),
            r"json|record|sha-?256|key|famil|recipe|type|nest",
        )
        check(_snapshot(folder) == before, "the folder was changed")
        return out

    return run


def _special_probe(src: Path, kernel: Any, folder: Path, what: str):
    def run() -> tuple[str, str]:
        from laplace_inv.dlemlr import DLEMLRInverter, persistence

        folder.mkdir(parents=True)
        target = folder / "w.safetensors"
        if what == "fifo":
            os.mkfifo(target)
        elif what == "directory":
            target.mkdir()
        elif what == "link to /dev/zero":
            target.symlink_to("/dev/zero")
        elif what == "link to a fifo":
            os.mkfifo(folder / "pipe")
            target.symlink_to(folder / "pipe")
        elif what == "oversized":
            target.write_bytes(src.read_bytes())
            old = persistence.MAX_WEIGHTS_BYTES
            persistence.MAX_WEIGHTS_BYTES = 1000
            _clear_cache()
            try:
                return expect_error(lambda: DLEMLRInverter.load(target, kernel), "allowed")
            finally:
                persistence.MAX_WEIGHTS_BYTES = old
        elif what == "record fifo":
            wf = _weights_folder(src, folder / "w")
            (wf / f"{FAMILY}.json").unlink()
            os.mkfifo(wf / f"{FAMILY}.json")
            return expect_error(
                lambda: DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wf),
                "not a regular file",
            )
        match = "not a regular file|directory"
        return expect_error(lambda: DLEMLRInverter.load(target, kernel), match)

    return run


def _good_weights_probe(est: Any, kernel: Any, folder: Path):
    def run() -> tuple[str, str]:
        from laplace_inv.dlemlr import DLEMLRInverter

        folder.mkdir(parents=True)
        src = est.save(folder / "m.safetensors")
        wf = _weights_folder(src, folder / "w")
        _clear_cache()
        loaded = DLEMLRInverter.from_pretrained(kernel=kernel, weights_dir=wf)
        X = kernel.forward(np.ones((2, *kernel.map_shape)))
        return check(
            np.allclose(loaded.predict(X), est.predict(X), rtol=1e-6, atol=1e-9), "differs"
        )

    return run


class _Handler(http.server.BaseHTTPRequestHandler):
    """/ok and /bad (944 bytes), /big (4 MiB), /slow (a byte every 0.3 s), anything else 404."""

    payload = b"0.04\n" * 188 + b"abcd"

    def do_GET(self) -> None:  # http.server's method name
        name = self.path.rsplit("/", 1)[-1]
        if name not in ("ok", "bad", "big", "slow"):
            self.send_error(404)
            return
        self.send_response(200)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if name == "ok":
                self.wfile.write(self.payload)
            elif name == "bad":
                self.wfile.write(self.payload[::-1])
            elif name == "big":
                for _ in range(64):
                    self.wfile.write(b"x" * 65536)
            else:
                for _ in range(100):
                    self.wfile.write(b"y")
                    self.wfile.flush()
                    time.sleep(0.3)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 serving `_Handler`'s files."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _download_probe(url: str, folder: Path, path: str, size: int | None, deadline: float):
    def run() -> tuple[str, str]:
        from laplace_inv.datasets._download import download_verified

        folder.mkdir(parents=True)
        target = folder / "f.dat"
        sha = hashlib.sha256(_Handler.payload).hexdigest()
        t0 = time.monotonic()
        kwargs = dict(expected_size=size, deadline_s=deadline, timeout_s=2.0, retries=1)
        if path == "ok":
            download_verified(f"{url}/{path}", target, sha, **kwargs)  # type: ignore[arg-type]
            check(target.read_bytes() == _Handler.payload, "wrong bytes kept")
            return check(len(list(folder.iterdir())) == 1, "temporary file left")
        match = {
            "big": "larger than|size|sha|checksum",
            "slow": "deadline",
            "bad": "sha|checksum|size",
        }
        out = expect_error(
            lambda: download_verified(f"{url}/{path}", target, sha, **kwargs),  # type: ignore[arg-type]
            match.get(path, r"404|not found|http|connect|refused"),
            (OSError,),
        )
        check(time.monotonic() - t0 < deadline + 6.0, "the deadline was not kept")
        check(list(folder.iterdir()) == [], "a partial download was left")
        return out

    return run


def weights_probes(tmp: Path, quick: bool, url: str) -> list[Probe]:
    """Malformed configs and records, non-finite weights, FIFOs and devices, downloads."""
    probes: list[Probe] = []
    sys.path.insert(0, str(ROOT / "tests"))
    from test_properties import dlemlr_fixture

    fixture = dlemlr_fixture()
    if fixture is not None:
        est, kernel = fixture
        tmp.mkdir(parents=True, exist_ok=True)
        src = est.save(tmp / "good.safetensors")
        edits = list(CONFIG_EDITS.items())[: 5 if quick else None]
        for i, (label, edit) in enumerate(edits):
            probes.append(
                Probe(
                    f"config {label}", _config_probe(src, kernel, tmp / f"c{i}.safetensors", edit)
                )
            )
        for i, text in enumerate(BAD_CONFIG_TEXTS[: 2 if quick else None]):
            probes.append(
                Probe(
                    "config text", _config_text_probe(src, kernel, tmp / f"t{i}.safetensors", text)
                )
            )
        from safetensors.torch import load_file

        names = sorted(load_file(str(src)))[: 2 if quick else 6]
        for i, name in enumerate(names):
            for value in (float("nan"),) if quick else (float("nan"), float("inf"), -float("inf")):
                dst = tmp / f"n{i}-{value}.safetensors"
                probes.append(
                    Probe(f"weight {value}", _nonfinite_probe(src, kernel, dst, name, value))
                )
        records = list(BAD_RECORDS.items())[: 5 if quick else None]
        for i, (label, record) in enumerate(records):
            probes.append(
                Probe(f"record {label}", _record_probe(src, kernel, tmp / f"r{i}", record))
            )
        specials = ["fifo", "directory", "link to /dev/zero", "link to a fifo", "oversized"]
        specials.append("record fifo")
        for i, what in enumerate(specials[: 3 if quick else None]):
            probes.append(
                Probe(f"weights {what}", _special_probe(src, kernel, tmp / f"s{i}", what), 20)
            )
        probes.append(Probe("good weights load", _good_weights_probe(est, kernel, tmp / "good")))
    cases: list[tuple[str, int | None, float]] = [
        ("ok", 944, 5.0),
        ("big", 944, 5.0),
        ("slow", 944, 1.0),
        ("bad", 944, 5.0),
        ("missing", 944, 5.0),
    ]
    if not quick:
        cases += [("ok", None, 5.0), ("big", 100, 5.0), ("big", None, 3.0), ("slow", 944, 0.5)]
        cases += [("bad", None, 5.0)]
    for i, (path, size, deadline) in enumerate(cases):
        probes.append(
            Probe(f"download {path}", _download_probe(url, tmp / f"d{i}", path, size, deadline), 30)
        )
    return probes


# --------------------------------------------------------------------------------------------
# readers and .par files: path traversal, links, huge sizes, recursion
# --------------------------------------------------------------------------------------------

TRAVERSALS = (
    "/etc/passwd",
    "../s.dat",
    "..\\s.dat",
    "C:\\Windows\\win.ini",
    "a/../../s.dat",
    "sub/../../../etc/passwd",
    "~/s.dat",
    "//etc/passwd",
)


def _upen_folder(folder: Path, **keys: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"filenamedata": "s.dat", "filenameTimeX": "tx.dat", "filenameTimeY": "ty.dat"}
    base.update(keys)
    text = "".join(f"{k} = {v}\n" for k, v in base.items()) + "END\n"
    (folder / "FileSetInput.par").write_text(text)
    (folder / "FileFlag.par").write_text("FL_typeKernel = 4\nEND\n")
    (folder / "s.dat").write_text("3 2 1\n2 1 0.5\n")
    (folder / "ty.dat").write_text("1\n2\n")
    (folder / "tx.dat").write_text("1\n2\n3\n")
    return folder


def _spinsolve_folder(folder: Path, **keys: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    par = {"experiment": '"T1IRT2"', "tauSteps": "4", "minTau": "1", "maxTau": "3000"}
    par.update({"logspace": '"yes"', "nrEchoes": "8", "echoTime": "100", "nrScans": "4"})
    par.update(keys)
    (folder / "acqu.par").write_text("".join(f"{k} = {v}\n" for k, v in par.items()))
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.6g}" for v in rng.standard_normal(16) + 5) for _ in range(4)]
    (folder / "T1IRT2.dat").write_text("\n".join(rows) + "\n")
    return folder


def _upen_traversal(folder: Path, key: str, name: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_upen2d_folder

        _upen_folder(folder, **{key: name})
        out = expect_error(lambda: read_upen2d_folder(folder), "inside the folder", (ValueError,))
        check("root:" not in out[1], "file contents leaked")
        return out

    return run


def _spinsolve_traversal(folder: Path, name: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_spinsolve

        _spinsolve_folder(folder, dataFile=f'"{name}"')
        out = expect_error(lambda: read_spinsolve(folder), "inside the folder", (ValueError,))
        check("root:" not in out[1], "file contents leaked")
        return out

    return run


def _link_out(folder: Path, reader: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_spinsolve, read_upen2d_folder

        secret = folder.parent / f"secret-{folder.name}.txt"
        secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
        if reader == "upen2d":
            _upen_folder(folder, filenamedata="s2.dat")
            os.symlink(secret, folder / "s2.dat")
            call: Callable[[], Any] = lambda: read_upen2d_folder(folder)  # noqa: E731
        else:
            _spinsolve_folder(folder, dataFile='"s2.dat"')
            os.symlink(secret, folder / "s2.dat")
            call = lambda: read_spinsolve(folder)  # noqa: E731
        out = expect_error(call, "leaves the folder|inside the folder", (ValueError,))
        check("root:x" not in out[1], "file contents leaked")
        return out

    return run


def _upen_size(folder: Path, key: str, value: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_upen2d_folder

        keys = {"nx": "20", "ny": "20", "T1min": "0.1", "T1max": "100", "T2min": "0.1"}
        keys["T2max"] = "100"
        keys[key] = value
        _upen_folder(folder, **keys)
        return expect_error(lambda: read_upen2d_folder(folder), re.escape(key), (ValueError,))

    return run


def _spinsolve_size(folder: Path, key: str, value: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import read_spinsolve

        _spinsolve_folder(folder, **{key: value})
        return expect_error(lambda: read_spinsolve(folder), re.escape(key), (ValueError,))

    return run


def _metadata_probe(folder: Path, text: str):
    def run() -> tuple[str, str]:
        from laplace_inv.io import load_result_npz

        folder.mkdir(parents=True)
        path = folder / "r.npz"
        grid = [1e-3, 1e-2]
        np.savez(
            path,
            map=np.eye(2),
            grid1=grid,
            grid2=grid,
            kinds=np.array(["T2", "T2"]),
            metadata=np.array(text),
        )
        return expect_error(lambda: load_result_npz(path), "metadata|nest|json", (ValueError,))

    return run


def reader_probes(tmp: Path, quick: bool) -> list[Probe]:
    """Path traversal from ``.par`` files, links out of the folder, huge sizes, deep JSON."""
    probes: list[Probe] = []
    names = TRAVERSALS[:3] if quick else TRAVERSALS
    for key in ("filenamedata",) if quick else ("filenamedata", "filenameTimeX", "filenameTimeY"):
        for name in names:
            probes.append(
                Probe(
                    f"upen2d {key} traversal", _upen_traversal(tmp / f"u{len(probes)}", key, name)
                )
            )
    for i, name in enumerate(names):
        probes.append(
            Probe("spinsolve dataFile traversal", _spinsolve_traversal(tmp / f"s{i}", name))
        )
    for reader in ("upen2d", "spinsolve"):
        probes.append(
            Probe(f"{reader} link out of the folder", _link_out(tmp / f"l-{reader}", reader))
        )
    values: tuple[str, ...] = ("50000000", "2000000000", "-3", "0")
    if not quick:
        values += ("1e99", "nan", "inf", "-inf", "2.5", "99999999999999999999")
    for key in ("nx", "ny"):
        for value in values:
            probes.append(
                Probe(f"upen2d {key} huge", _upen_size(tmp / f"z{len(probes)}", key, value))
            )
    for key in ("nrEchoes", "tauSteps"):
        for value in values:
            probes.append(
                Probe(f"spinsolve {key} huge", _spinsolve_size(tmp / f"y{len(probes)}", key, value))
            )
    texts = ("[" * 100000, "{" * 100000, '{"a": ' * 5000) if not quick else ("[" * 100000,)
    for i, text in enumerate(texts):
        probes.append(Probe("result metadata nesting", _metadata_probe(tmp / f"m{i}", text)))
    return probes


# --------------------------------------------------------------------------------------------
# determinism and load
# --------------------------------------------------------------------------------------------


def _problem(seed: int) -> tuple[Any, np.ndarray]:
    from laplace_inv import Kernel2D, KernelAxis
    from laplace_inv.simulate import cement_like

    kernel = Kernel2D(
        KernelAxis("T1_IR", np.geomspace(1e-3, 3.0, 10), n_grid=12),
        KernelAxis("T2", np.arange(1, 61) * 1e-3, n_grid=12),
    )
    batch = np.stack([cement_like(kernel, snr=200, random_state=seed + i).data for i in range(3)])
    return kernel, batch


def _estimator(method: str, kernel: Any) -> Any:
    from laplace_inv import L1Inverter, TikhonovInverter

    if method == "l1":
        return L1Inverter(kernel)
    return TikhonovInverter(kernel, penalty="global" if method == "tikhonov_global" else "upen")


def _determinism_probe(method: str, seed: int, mode: str):
    def run() -> tuple[str, str]:
        kernel, X = _problem(seed)
        est = _estimator(method, kernel)
        if mode == "repeat":
            a, b = est.invert(X[0]).map, est.invert(X[0]).map
        elif mode == "joblib":
            a, b = est.predict(X, n_jobs=1), est.predict(X, n_jobs=2)
        else:
            a = est.invert(X[1]).map
            b = np.asarray(est.predict(X[1:2], n_jobs=1))[0].reshape(a.shape)
        return check(np.array_equal(a, b), f"{mode}: maps differ by {np.max(np.abs(a - b)):.3g}")

    return run


BUSY = """
import numpy as np
a = np.random.rand(400, 400)
while True:
    a = a @ a
    a /= np.abs(a).max()
"""


def _load_probe(method: str, n_busy: int, seed: int):
    def run() -> tuple[str, str]:
        kernel, X = _problem(seed)
        reference = _estimator(method, kernel).invert(X[0]).map
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        busy = [subprocess.Popen([sys.executable, "-c", BUSY], env=env) for _ in range(n_busy)]
        try:
            time.sleep(0.5)
            check(all(p.poll() is None for p in busy), "the busy process did not start")
            t0 = time.perf_counter()
            loaded = _estimator(method, kernel).invert(X[0]).map
            seconds = time.perf_counter() - t0
        finally:
            for p in busy:
                p.kill()
                p.wait()
        check(seconds < 60, f"took {seconds:.0f} s under load")
        return check(np.array_equal(reference, loaded), "the map changed under load")

    return run


def determinism_probes(quick: bool) -> list[Probe]:
    """The same inputs twice, serial vs joblib, invert vs predict: identical maps."""
    seeds = (0,) if quick else (0, 10)
    methods = ("tikhonov_global", "upen") if quick else ("tikhonov_global", "upen", "l1")
    return [
        Probe(f"{method} {mode}", _determinism_probe(method, seed, mode), 300)
        for method in methods
        for seed in seeds
        for mode in ("repeat", "joblib", "invert vs predict")
    ]


def load_probes(quick: bool) -> list[Probe]:
    """A busy process beside an inversion: the same map, and it finishes."""
    cases = [("tikhonov_global", 1)]
    if not quick:
        cases += [("upen", 1), ("tikhonov_global", 2), ("upen", 2)]
    return [Probe(f"{m} beside {n} busy process(es)", _load_probe(m, n, 5), 180) for m, n in cases]


def categories(tmp: Path, quick: bool, url: str) -> dict[str, list[Probe]]:
    """Every probe category by its report name."""
    return {
        "probe: cli outputs": cli_output_probes(tmp / "cli", quick),
        "probe: weights/records/downloads": weights_probes(tmp / "weights", quick, url),
        "probe: readers and .par": reader_probes(tmp / "readers", quick),
        "probe: determinism": determinism_probes(quick),
        "probe: load": load_probes(quick),
    }

"""The JSON endpoints of the viewer: one function per route, ``(app, session, payload)``.

Every function returns a JSON-serialisable dict, or a `FileReply` for downloads. Bad input
raises ``ValueError``/``TypeError`` with a message the page shows as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from laplace_inv.kernels import KINDS
from laplace_inv.viewer import core, exports, payloads, region_table
from laplace_inv.viewer.state import Job, Session

if TYPE_CHECKING:
    from laplace_inv.viewer.server import ViewerApp


@dataclass
class FileReply:
    """A download: the bytes, the file name the browser saves, the MIME type."""

    body: bytes
    filename: str
    content_type: str


def _require_acquisition(session: Session) -> Any:
    if session.acquisition is None:
        raise ValueError("open a data file, a folder or a dataset first")
    return session.acquisition


def _result(session: Session, label: Any) -> Any:
    if not session.results:
        raise ValueError("there is no map yet: run a method first")
    if label in (None, ""):
        return next(iter(session.results.items()))
    if label not in session.results:
        raise ValueError(f"no result called {label!r}; have {list(session.results)}")
    return label, session.results[label]


def new_session(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Start a tab's session: its id and what the page may offer."""
    return {
        "session": session.sid,
        "datasets": core.dataset_names(),
        "methods": list(core.METHOD_PARAMS),
        "kinds": list(KINDS),
        "regions_available": region_table.regions_module() is not None,
        "regions_message": "" if region_table.regions_module() else region_table.MISSING,
        "uncertainty_available": region_table.uncertainty_module() is not None,
    }


def _opened(session: Session, acq: Any, source: dict) -> dict:
    with session.lock:
        session.acquisition = acq
        session.source = source
        session.settings.kinds = None
        session.clear_results()
        kernel = core.build_kernel(acq, None, session.settings.n_grid)
    return payloads.acquisition_payload(acq, kernel)


def open_path(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Read the file or folder the user typed (and only that)."""
    keys = ("tau1_path", "tau2_path", "kinds", "time_unit")
    options = {k: payload.get(k) for k in keys if payload.get(k)}
    acq = core.open_path(str(payload.get("path", "")), **options)
    source = {"path": str(Path(str(payload["path"]).strip()).expanduser().absolute()), **options}
    return _opened(session, acq, source)


def open_dataset(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Load a registered dataset or a simulated demo."""
    name = str(payload.get("name", ""))
    acq = core.open_dataset(name)
    source: dict = {"dataset": name}
    folder = Path(acq.source).parent
    if not name.startswith("demo:") and (folder / "FileSetInput.par").is_file():
        source["folder"] = str(folder)
    return _opened(session, acq, source)


def settings(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Set kinds, grid size and the acquisition-model fit; earlier maps are dropped."""
    acq = _require_acquisition(session)
    kinds, n_grid = core.check_settings(payload.get("kinds"), payload.get("n_grid", 64))
    if kinds == acq.kinds:
        kinds = None
    kernel = core.build_kernel(acq, kinds, n_grid)
    with session.lock:
        session.settings.kinds = kinds
        session.settings.n_grid = n_grid
        session.settings.fit_model = bool(payload.get("fit_model", False))
        session.clear_results()
    return payloads.acquisition_payload(acq, kernel)


def run(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Start one method in the background; the page polls the returned job."""
    acq = _require_acquisition(session)
    method = str(payload.get("method", ""))
    params = core.check_params(method, payload.get("params"))
    label = core.method_label(method, params)
    kinds, n_grid, fit_model = (
        session.settings.kinds,
        session.settings.n_grid,
        session.settings.fit_model,
    )

    def task(job: Job) -> dict:
        job.report(0.05, "building the kernel and the estimator")
        kernel = core.method_kernel(acq, method, kinds, n_grid)
        estimator = core.build_estimator(method, kernel, params)
        job.report(0.3, "fitting the acquisition model" if fit_model else "inverting")
        res = core.invert(estimator, acq, fit_model)
        with session.lock:
            if session.acquisition is not acq or session.settings.n_grid != n_grid:
                return {"label": label, "stale": True}
            session.results[label] = res
            session.params[label] = (method, params, int(kernel.grid1.size))
        return {"label": label, "stale": False}

    job = app.jobs.submit(session.sid, f"{label} on {Path(acq.source).name}", task)
    return job.to_json()


def job_status(app: ViewerApp, session: Session, payload: dict) -> dict:
    """The state of one of this session's jobs."""
    job = app.jobs.get(str(payload.get("id", "")), session.sid)
    if job is None:
        raise ValueError("unknown job (it belongs to another tab, or the server restarted)")
    return job.to_json()


def _table(session: Session) -> dict:
    try:
        out = region_table.table(session.regions, session.results)
    except (ValueError, TypeError) as exc:
        return {"available": True, "message": str(exc), "rows": []}
    out["uncertainty"] = session.uncertainty
    return out


def results(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Every map of the session with the shared colour range and the region table."""
    with session.lock:
        items = list(session.results.items())
        maps = [
            payloads.result_payload(label, res, session.params[label][1]) for label, res in items
        ]
        table = _table(session)
        regions = list(session.regions)
    zmax = max((float(np.max(res.map)) for _, res in items), default=1.0)
    return {"results": maps, "zmax": zmax, "regions": regions, "table": table}


def residual(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Residual of one result in noise units, with data and fit of three rows."""
    label, res = _result(session, payload.get("label"))
    return payloads.residual_payload(label, res)


def remove(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Forget one result."""
    label, _ = _result(session, payload.get("label"))
    with session.lock:
        session.results.pop(label, None)
        session.params.pop(label, None)
        session.uncertainty.pop(label, None)
    return results(app, session, {})


def set_regions(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Replace the session's regions (checked by the analysis module) and integrate them."""
    entries = region_table.normalise(payload.get("regions", []))
    with session.lock:
        session.regions = entries
        session.uncertainty.clear()
        return {"regions": entries, "table": _table(session)}


def load_regions(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Read an uploaded region file; a bad file leaves the current regions as they were."""
    entries = region_table.load_text(str(payload.get("filename", "")), payload.get("content"))
    with session.lock:
        session.regions = entries
        session.uncertainty.clear()
        return {"regions": entries, "table": _table(session)}


def save_regions(app: ViewerApp, session: Session, payload: dict) -> FileReply:
    """The region file (TOML or JSON) the command line reads."""
    fmt = str(payload.get("format", "toml"))
    name, text = region_table.save_text(session.regions, fmt)
    mime = "application/toml" if fmt == "toml" else "application/json"
    return FileReply(text.encode(), name, mime)


def uncertainty(app: ViewerApp, session: Session, payload: dict) -> dict:
    """Bootstrap one result in the background (analysis module)."""
    if region_table.uncertainty_module() is None:
        raise RuntimeError(region_table.NO_UNCERTAINTY)
    label, res = _result(session, payload.get("label"))
    method, params, _ = session.params[label]
    n_draws = payload.get("n_draws") or None
    entries = list(session.regions)

    def task(job: Job) -> dict:
        job.report(0.05, "bootstrap: re-inverting the fitted decay with fresh noise")
        estimator = core.build_estimator(method, res.kernel, params)
        rows = region_table.bootstrap_rows(estimator, res, entries, n_draws and int(n_draws))
        with session.lock:
            if session.results.get(label) is res:
                session.uncertainty[label] = rows
        return {"label": label, "rows": len(rows)}

    return app.jobs.submit(session.sid, f"uncertainty of {label}", task).to_json()


def _kinds(session: Session) -> tuple[str, str]:
    if session.results:
        return next(iter(session.results.values())).kinds
    return ("T2", "T2")


def _runs(session: Session) -> dict:
    return {label: session.params[label] for label in session.results}


EXPORTS: dict[str, Callable[[Session, Any], FileReply]] = {
    "figure-png": lambda s, lbl: FileReply(
        exports.figure(s.results, "png"), "laplace_inv_maps.png", "image/png"
    ),
    "figure-svg": lambda s, lbl: FileReply(
        exports.figure(s.results, "svg"), "laplace_inv_maps.svg", "image/svg+xml"
    ),
    "map-npz": lambda s, lbl: _map_file(s, lbl, "npz"),
    "map-csv": lambda s, lbl: _map_file(s, lbl, "csv"),
    "regions-csv": lambda s, lbl: FileReply(
        exports.regions_csv(_table(s)["rows"], _kinds(s), s.uncertainty),
        "laplace_inv_regions.csv",
        "text/csv",
    ),
    "snippet-python": lambda s, lbl: FileReply(
        exports.python_snippet(s.source, s.settings, _runs(s), s.regions).encode(),
        "laplace_inv_session.py",
        "text/x-python",
    ),
    "snippet-cli": lambda s, lbl: FileReply(
        exports.cli_command(s.source, s.settings, _runs(s), s.regions).encode(),
        "laplace_inv_commands.sh",
        "text/x-shellscript",
    ),
}


def _map_file(session: Session, label: Any, fmt: str) -> FileReply:
    label, res = _result(session, label)
    safe = "".join(c if c.isalnum() else "_" for c in label)
    if fmt == "csv":
        return FileReply(exports.map_csv(label, res), f"{safe}_map.csv", "text/csv")
    meta = {
        "method": label,
        "source": session.source,
        "params": session.params[label][1],
        "relative_residual": res.relative_residual,
        "regions": session.regions,
        "region_table": [r for r in _table(session)["rows"] if r["method"] == label],
    }
    return FileReply(exports.map_npz(label, res, meta), f"{safe}_map.npz", "application/zip")


def export(app: ViewerApp, session: Session, payload: dict) -> FileReply:
    """One export: ``what`` is a key of `EXPORTS`."""
    what = str(payload.get("what", ""))
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}; expected one of {sorted(EXPORTS)}")
    with session.lock:
        return EXPORTS[what](session, payload.get("label"))


ROUTES: dict[str, Callable[..., Any]] = {
    "/api/session": new_session,
    "/api/open": open_path,
    "/api/dataset": open_dataset,
    "/api/settings": settings,
    "/api/run": run,
    "/api/job": job_status,
    "/api/results": results,
    "/api/residual": residual,
    "/api/remove": remove,
    "/api/regions": set_regions,
    "/api/regions/load": load_regions,
    "/api/regions/save": save_regions,
    "/api/uncertainty": uncertainty,
    "/api/export": export,
}
"""POST routes of the viewer."""

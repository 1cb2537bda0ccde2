"""Per-tab sessions and background jobs of the viewer server.

Every browser tab asks for its own session id when the page loads and sends it with each
request, so two tabs never share an acquisition, results or regions (a cookie would be shared
by every tab of the browser). Long work (inversions, bootstrap) runs in a small thread pool;
the page polls the job until it is done, so no request ever waits for an inversion.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("laplace_inv.viewer")

MAX_SESSIONS = 32
MAX_WORKERS = 2


@dataclass
class Settings:
    """How the open acquisition is turned into a kernel.

    Attributes
    ----------
    kinds : tuple of str or None
        Kernel kinds; ``None`` keeps the kinds the reader found.
    n_grid : int
        Grid points per axis (DLEMLR always runs on its trained 64 × 64 grid).
    fit_model : bool
        Fit the inversion efficiency and a constant offset with every method.
    """

    kinds: tuple[str, str] | None = None
    n_grid: int = 64
    fit_model: bool = False


@dataclass
class Session:
    """Everything one browser tab has opened, computed and drawn.

    Attributes
    ----------
    sid : str
        The session id the tab sends in its ``X-Session`` header.
    acquisition : Any
        The open `laplace_inv.io.Acquisition`, or ``None``.
    source : dict
        How it was opened (``{"path": ...}`` or ``{"dataset": ...}``), for snippets.
    settings : Settings
        Kernel settings.
    results : dict
        Method label to `InversionResult`, in the order they finished.
    params : dict
        Method label to the parameters it ran with.
    regions : list of dict
        Regions in the file format of `laplace_inv.analysis.regions` (``regions_to_dict``).
    uncertainty : dict
        Method label to the rows of its bootstrap table.
    lock : threading.Lock
        Guards the fields above against the job threads.
    """

    sid: str
    acquisition: Any = None
    source: dict = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    results: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    regions: list = field(default_factory=list)
    uncertainty: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear_results(self) -> None:
        """Forget every result (after a new acquisition or new kernel settings)."""
        self.results.clear()
        self.params.clear()
        self.uncertainty.clear()


class SessionStore:
    """The open sessions, oldest dropped first beyond ``max_sessions``.

    Examples
    --------
    >>> store = SessionStore(max_sessions=2)
    >>> a, b, c = store.create(), store.create(), store.create()
    >>> store.get(a.sid) is None, store.get(c.sid) is c
    (True, True)
    """

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.max_sessions = int(max_sessions)

    def create(self) -> Session:
        """A new empty session with an unguessable id."""
        session = Session(secrets.token_urlsafe(16))
        with self._lock:
            self._sessions[session.sid] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def get(self, sid: str | None) -> Session | None:
        """The session with id ``sid`` (``None`` when unknown or expired)."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None:
                self._sessions.move_to_end(sid)
            return session


@dataclass
class Job:
    """One background task and what the page needs to follow it.

    Attributes
    ----------
    jid : str
        Job id.
    sid : str
        Session that started it (a job is only visible to its own session).
    title : str
        What it does, shown in the page.
    status : str
        ``"queued"``, ``"running"``, ``"done"`` or ``"error"``.
    progress : float or None
        Share done in [0, 1] when the task reports it; ``None`` for a single solve.
    message : str
        Last progress message, or the error.
    result : Any
        JSON-serialisable outcome.
    started, finished : float
        Wall-clock times (0 until then).
    """

    jid: str
    sid: str
    title: str
    status: str = "queued"
    progress: float | None = None
    message: str = ""
    result: Any = None
    started: float = 0.0
    finished: float = 0.0

    def report(self, progress: float | None = None, message: str | None = None) -> None:
        """Record progress from inside the task."""
        if progress is not None:
            self.progress = float(min(max(progress, 0.0), 1.0))
        if message is not None:
            self.message = message

    def to_json(self) -> dict:
        """The job as the page sees it."""
        end = self.finished or time.time()
        return {
            "id": self.jid,
            "title": self.title,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
            "elapsed": round(end - self.started, 2) if self.started else 0.0,
            "result": self.result if self.status == "done" else None,
        }


class JobRunner:
    """Runs tasks in a thread pool and keeps their state for polling.

    Examples
    --------
    >>> runner = JobRunner()
    >>> job = runner.submit("s", "add", lambda job: 1 + 1)
    >>> runner.wait(job.jid, timeout=5).result
    2
    >>> runner.shutdown()
    """

    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="viewer-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, sid: str, title: str, task: Callable[[Job], Any]) -> Job:
        """Queue ``task(job)``; its return value becomes ``job.result``."""
        job = Job(secrets.token_hex(8), sid, title)
        with self._lock:
            self._jobs[job.jid] = job
        self._pool.submit(self._run, job, task)
        return job

    @staticmethod
    def _run(job: Job, task: Callable[[Job], Any]) -> None:
        job.status = "running"
        job.started = time.time()
        try:
            job.result = task(job)
        except Exception as exc:  # the page shows any failure; the server keeps serving
            job.message = f"{type(exc).__name__}: {exc}"
            job.status = "error"
            log.warning("viewer job %r failed", job.title, exc_info=True)
        else:
            job.progress = 1.0
            job.status = "done"
        finally:
            job.finished = time.time()

    def get(self, jid: str, sid: str) -> Job | None:
        """The job ``jid`` if it belongs to session ``sid``."""
        with self._lock:
            job = self._jobs.get(jid)
        return job if job is not None and job.sid == sid else None

    def wait(self, jid: str, timeout: float = 60.0) -> Job:
        """Block until job ``jid`` has finished (for tests and scripts)."""
        deadline = time.time() + timeout
        with self._lock:
            job = self._jobs[jid]
        while job.status in ("queued", "running"):
            if time.time() > deadline:
                raise TimeoutError(f"job {job.title!r} still {job.status} after {timeout} s")
            time.sleep(0.02)
        return job

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)

"""One thread policy for BLAS, OpenMP and torch: how many threads a worker may use.

Two functions make the policy:

* `resolve_threads` decides the number of threads each worker may use, from the requested
  `n_jobs`, the joblib context the caller opened (`joblib.parallel_config`), the CPUs this
  process may run on and the machine's load. The product ``workers × threads`` never exceeds
  the CPUs, and a single map on a loaded machine gets the cores nobody else is using (one
  on a busy 2-core machine), because a solver that shares its cores with a busy process
  waits on its slowest thread.
* `limit_threads` applies a count for the duration of a ``with`` block: BLAS and OpenMP
  through threadpoolctl, torch through `torch.set_num_threads`, and restores the previous
  values on exit. Blocks nest and may be entered from several threads at once: the
  process-wide limit is always the smallest one active, so no block raises another's cap.

``LAPLACE_INV_THREADS`` (a positive integer) overrides the automatic count everywhere.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "ENV_THREADS",
    "available_cpus",
    "current_limit",
    "limit_blas",
    "limit_threads",
    "machine_load",
    "resolve_threads",
    "running_now",
]

ENV_THREADS = "LAPLACE_INV_THREADS"
"""Environment variable that fixes the thread count (a positive integer)."""

# Environment caps that joblib/loky set in its workers and that users set by hand.
_ENV_CAPS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cpus() -> int:
    """Number of CPUs this process may run on (its affinity mask, else the CPU count).

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> available_cpus() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def machine_load() -> float:
    """Runnable processes besides this one: the larger of the 1-minute load average and the
    count running right now (0 where neither is known).

    The load average lags a busy process that started seconds ago by up to a minute; the
    instantaneous count (Linux: ``/proc/loadavg``) sees it at once. A thread count that is
    too high on a busy machine costs far more (threads that wait on a descheduled sibling)
    than one that is too low on an idle one, so the larger reading wins.

    Returns
    -------
    float

    Examples
    --------
    >>> machine_load() >= 0.0
    True
    """
    try:
        average = max(0.0, float(os.getloadavg()[0]))
    except (AttributeError, OSError):  # Windows
        average = 0.0
    return max(average, float(running_now()))


def running_now(path: str = "/proc/loadavg") -> int:
    """Threads runnable at this instant on the machine, besides the one calling (Linux).

    Parameters
    ----------
    path : str
        The kernel's load file, whose fourth field reads ``running/total``.

    Returns
    -------
    int
        At least 0; 0 where the file is missing or unreadable.

    Examples
    --------
    >>> running_now() >= 0
    True
    >>> running_now("/nonexistent/loadavg")
    0
    """
    try:
        with open(path, encoding="ascii") as handle:
            fields = handle.read().split()
        running = int(fields[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return 0
    return max(0, running - 1)


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _env_override() -> int | None:
    raw = os.environ.get(ENV_THREADS, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{ENV_THREADS} must be a positive integer, got {raw!r}; unset it")
    return value


def _env_cap() -> int | None:
    """The smallest thread cap set in the environment (joblib workers set these)."""
    caps = []
    for name in _ENV_CAPS:
        raw = os.environ.get(name, "").strip()
        if raw.isdigit() and int(raw) > 0:
            caps.append(int(raw))
    return min(caps) if caps else None


def _joblib_context() -> tuple[int | None, int | None, bool]:
    """``(n_jobs, inner_max_num_threads, inside_worker)`` of the active joblib context."""
    try:
        from joblib.parallel import get_active_backend
    except ImportError:  # joblib is a dependency; stay usable without it
        return None, None, False
    backend, n_jobs = get_active_backend()
    inner = getattr(backend, "inner_max_num_threads", None)
    inside = int(getattr(backend, "nesting_level", 0) or 0) > 0
    if type(backend).__name__ == "SequentialBackend":
        n_jobs = 1
    return n_jobs, inner, inside


def _workers(n_jobs: int, cpus: int) -> int:
    """joblib's reading of ``n_jobs`` (``-1``: all CPUs, ``-2``: all but one), within CPUs."""
    if n_jobs < 0:
        n_jobs = cpus + 1 + n_jobs
    return min(cpus, max(1, n_jobs))


def resolve_threads(
    n_jobs: int | None = None,
    *,
    cpus: int | None = None,
    load: float | None = None,
) -> int:
    """Number of threads each worker may use, never oversubscribing the CPUs.

    The rules, in order:

    1. ``LAPLACE_INV_THREADS`` set: that number.
    2. Workers: ``n_jobs`` if given, else the ``n_jobs`` of the active
       `joblib.parallel_config` (1 when none is open). Each of ``W`` workers gets
       ``cpus // W`` threads (at least 1), or the context's ``inner_max_num_threads``.
    3. A single worker on a loaded machine gets the CPUs that the load leaves free:
       ``cpus - round(load)``, at least 1. So on a 2-core machine with another busy
       process a single map uses one thread.
    4. Inside a joblib worker, or under ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/
       ``MKL_NUM_THREADS``, the smallest of those caps applies too.

    Parameters
    ----------
    n_jobs : int, optional
        Workers that will run at once (joblib convention: ``-1`` means all CPUs).
    cpus : int, optional
        CPUs available; default `available_cpus`.
    load : float, optional
        Machine load (runnable processes); default `machine_load`. Pass 0 to ignore it.

    Returns
    -------
    int
        Threads per worker, at least 1.

    Raises
    ------
    ValueError
        For ``n_jobs == 0``, a non-positive ``cpus``, a negative ``load`` or an invalid
        ``LAPLACE_INV_THREADS``.

    Examples
    --------
    With none of the thread variables of rules 1 and 4 set:

    >>> import os
    >>> from unittest import mock
    >>> clean = {k: v for k, v in os.environ.items() if not k.endswith("_THREADS")}
    >>> with mock.patch.dict(os.environ, clean, clear=True):
    ...     resolve_threads(1, cpus=8, load=0.0), resolve_threads(4, cpus=8, load=0.0)
    (8, 2)
    >>> resolve_threads(1, cpus=2, load=1.2)   # another process keeps one core busy
    1
    >>> from joblib import parallel_config
    >>> with parallel_config(n_jobs=2):
    ...     resolve_threads(cpus=2, load=0.0)
    1
    """
    override = _env_override()
    if override is not None:
        return override
    cpus = available_cpus() if cpus is None else _positive_int(cpus, "cpus")
    if load is None:
        load = machine_load()
    elif not (isinstance(load, int | float) and math.isfinite(load) and load >= 0):
        raise ValueError(f"load must be a finite number >= 0, got {load!r}")
    context_jobs, inner, inside = _joblib_context()
    if n_jobs is None:
        n_jobs = context_jobs or 1
    elif isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    workers = _workers(int(n_jobs), cpus)
    threads = max(1, cpus // workers)
    if inner is not None and workers > 1:
        threads = max(1, min(threads, int(inner)))
    if workers == 1:
        threads = max(1, min(threads, cpus - round(load)))
    cap = _env_cap()
    if inside or cap is not None:
        threads = max(1, min(threads, cap if cap is not None else 1))
    return threads


# --------------------------------------------------------------------------------------------
# applying a limit


class _Limits:
    """Process-wide record of active limits; the smallest one is in force."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.active: dict[int, int] = {}
        self.next_token = 0
        # threadpoolctl limiters whose saved values lead back to the state before the first
        # block: the first one, plus one per controller rebuilt for newly loaded libraries.
        self.blas_restore: list[Any] = []
        self.torch_original: int | None = None
        self.torch_module: Any = None
        self.controller: Any = None
        self.controller_modules = -1

    def get_controller(self) -> Any:
        """A threadpoolctl controller, rebuilt when new modules (libraries) were loaded."""
        if self.controller is None or self.controller_modules != len(sys.modules):
            from threadpoolctl import ThreadpoolController

            self.controller = ThreadpoolController()
            self.controller_modules = len(sys.modules)
        return self.controller


_LIMITS = _Limits()


def _import_torch(wanted: bool) -> Any:
    if "torch" in sys.modules:
        return sys.modules["torch"]
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def _apply(n: int, torch_module: Any) -> None:
    """Set BLAS/OpenMP and torch to ``n`` threads (called under the lock)."""
    # torch's count first: limiting OpenMP below also changes what torch reports.
    if torch_module is not None and _LIMITS.torch_module is None:
        _LIMITS.torch_module = torch_module
        _LIMITS.torch_original = int(torch_module.get_num_threads())
    controller = _LIMITS.get_controller()
    limiter = _without_torch_openmp(controller, torch_module).limit(limits=n)
    if not _LIMITS.blas_restore or _LIMITS.blas_restore[-1][0] is not controller:
        _LIMITS.blas_restore.append((controller, limiter))
    if torch_module is not None and torch_module.get_num_threads() != n:
        torch_module.set_num_threads(n)


def _without_torch_openmp(controller: Any, torch_module: Any) -> Any:
    """``controller`` less torch's own OpenMP runtime when torch is limited too.

    `torch.set_num_threads` governs that runtime; setting it through threadpoolctl as well
    stalled single DLEMLR maps for seconds beside a busy process
    (``benchmarks/bench_load.py``, its ``limit_threads()`` rows).
    """
    if torch_module is None or not getattr(torch_module, "__file__", None):
        return controller
    torch_dir = os.path.dirname(os.path.realpath(torch_module.__file__)) + os.sep
    keep = [
        lib.filepath
        for lib in controller.lib_controllers
        if not os.path.realpath(lib.filepath).startswith(torch_dir)
    ]
    if len(keep) == len(controller.lib_controllers):
        return controller
    return controller.select(filepath=keep)


def _restore_all() -> None:
    """Back to the values before the outermost block (called under the lock)."""
    for _, limiter in reversed(_LIMITS.blas_restore):
        limiter.restore_original_limits()
    if _LIMITS.torch_module is not None and _LIMITS.torch_original is not None:
        _LIMITS.torch_module.set_num_threads(_LIMITS.torch_original)
    _LIMITS.blas_restore = []
    _LIMITS.torch_module = None
    _LIMITS.torch_original = None


def current_limit() -> int | None:
    """The thread limit in force from `limit_threads` blocks, or ``None`` outside any.

    Examples
    --------
    >>> current_limit() is None
    True
    >>> with limit_threads(1, torch=False):
    ...     current_limit()
    1
    """
    with _LIMITS.lock:
        return min(_LIMITS.active.values()) if _LIMITS.active else None


@contextmanager
def limit_threads(n_threads: int | None = None, *, torch: bool = True) -> Iterator[int]:
    """Limit BLAS, OpenMP and torch threads inside a ``with`` block, then restore them.

    Parameters
    ----------
    n_threads : int, optional
        Threads to allow; default `resolve_threads` (the policy for one worker here).
    torch : bool
        Also limit torch's intra-op threads, importing torch if needed. With ``False`` torch
        is never imported, but if it is already loaded it is limited all the same (so that
        nothing in the block oversubscribes).

    Yields
    ------
    int
        The limit in force in the block: the smallest of all active blocks, so a nested or
        concurrent block can lower the limit but not raise it.

    Raises
    ------
    TypeError
        If ``n_threads`` is not an integer.
    ValueError
        If ``n_threads`` is below 1.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> before = [lib["num_threads"] for lib in threadpool_info()]
    >>> with limit_threads(1, torch=False) as n:
    ...     n, all(lib["num_threads"] == 1 for lib in threadpool_info())
    (1, True)
    >>> [lib["num_threads"] for lib in threadpool_info()] == before
    True
    """
    n = resolve_threads() if n_threads is None else _positive_int(n_threads, "n_threads")
    torch_module = _import_torch(torch)
    with _LIMITS.lock:
        token = _LIMITS.next_token
        _LIMITS.next_token += 1
        _LIMITS.active[token] = n
        in_force = min(_LIMITS.active.values())
        _apply(in_force, torch_module or _LIMITS.torch_module)
    try:
        yield in_force
    finally:
        with _LIMITS.lock:
            del _LIMITS.active[token]
            if _LIMITS.active:
                module = _import_torch(False) or _LIMITS.torch_module
                _apply(min(_LIMITS.active.values()), module)
            else:
                _restore_all()


@contextmanager
def limit_blas(n_threads: int) -> Iterator[int]:
    """Limit the BLAS libraries only (not OpenMP, not torch) for the duration of the block.

    It reuses the process's threadpoolctl controller: building a new one (what
    ``threadpoolctl.threadpool_limits`` does) scans the loaded libraries, about 2.5 ms, more
    than a fifth of a single DLEMLR map.

    Parameters
    ----------
    n_threads : int
        Threads for every BLAS library (a positive integer).

    Yields
    ------
    int
        ``n_threads``.

    Examples
    --------
    >>> import numpy  # loads a BLAS library
    >>> from threadpoolctl import threadpool_info
    >>> with limit_blas(1):
    ...     all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    True
    """
    n = _positive_int(n_threads, "n_threads")
    with _LIMITS.lock:
        controller = _LIMITS.get_controller()
    limiter = controller.select(user_api="blas").limit(limits=n)
    try:
        yield n
    finally:
        limiter.restore_original_limits()

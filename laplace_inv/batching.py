"""Chunked and parallel prediction: the unit of work, its dispatch, and output reduction.

`invert_chunk` is what every joblib task and Dask block runs; `iter_chunks` streams a batch
through it serially or over joblib workers; `reduce_maps` keeps only the requested output;
`Collector` assembles the streamed parts.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from laplace_inv.kernels import Kernel2D
from laplace_inv.peak_table import PEAK_DTYPE, peak_table

if TYPE_CHECKING:  # pragma: no cover
    from laplace_inv.base import BaseInverter

Output = Literal["maps", "maps32", "projections", "peaks"]

#: The reduced outputs of `BaseInverter.predict`.
OUTPUTS: tuple[str, ...] = ("maps", "maps32", "projections", "peaks")

#: Largest automatic chunk (samples per task).
MAX_AUTO_CHUNK = 256

# Per-process store of compressed kernels, keyed by kernel fingerprint: a joblib or Dask
# worker unpickles a fresh estimator for every task (Kernel2D drops its cache when
# pickled), and re-attaches the compression it already holds instead of recomputing it.
_SHARED_COMPRESSIONS: dict[str, dict] = {}
_MAX_SHARED = 8


def _attach_shared_compression(kernel: Kernel2D, shared: dict | None) -> None:
    if not shared or not hasattr(kernel, "_compressed"):
        return
    cache = shared.get("compressed") or {}
    if all(k in kernel._compressed for k in cache):
        return  # in the calling process: the kernel already holds it
    fp = shared.get("fingerprint") or kernel.fingerprint()
    store = _SHARED_COMPRESSIONS.get(fp)
    if store is None:
        if len(_SHARED_COMPRESSIONS) >= _MAX_SHARED:
            _SHARED_COMPRESSIONS.pop(next(iter(_SHARED_COMPRESSIONS)))
        store = _SHARED_COMPRESSIONS[fp] = {}
    for key, comp in cache.items():
        store.setdefault(key, comp)
    store.update({k: v for k, v in kernel._compressed.items() if k not in store})
    kernel._compressed = store


def invert_chunk(
    est: BaseInverter,
    X: Any,
    output: Output = "maps",
    peak_kwargs: dict | None = None,
    offset: int = 0,
    shared: dict | None = None,
    blas_threads: int | None = None,
) -> Any:
    """Invert one chunk of samples and reduce it to ``output`` (the unit of parallel work).

    This is what every joblib task and every Dask block runs: validate the chunk, invert it
    through the estimator's usual per-sample path, and keep only the requested output.

    Parameters
    ----------
    est : BaseInverter
        The (fitted) estimator.
    X : array_like, shape (m, n1*n2) or (m, n1, n2)
        The chunk.
    output : {"maps", "maps32", "projections", "peaks"}
        See `BaseInverter.predict`.
    peak_kwargs : dict, optional
        For ``output="peaks"``.
    offset : int
        Index of the chunk's first sample in the whole batch (the ``sample`` column).
    shared : dict, optional
        ``BaseInverter._shared_state()``: the precomputed compression.
    blas_threads : int, optional
        Cap on BLAS (and, once loaded, torch) threads while inverting; None applies the
        package's thread policy (`laplace_inv.threads.resolve_threads`). Joblib and Dask
        tasks use 1: the parallelism is over samples, and one thread makes every solve
        reproducible bit for bit.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 8), n_grid=10),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=10))
    >>> X = k.forward(np.eye(10))[None]
    >>> est = TikhonovInverter(k, penalty="global", alpha=1e-3)
    >>> table = invert_chunk(est, X, "peaks", offset=7)
    >>> bool(np.all(table["sample"] == 7))
    True
    """
    kernel = est._check_kernel()
    _attach_shared_compression(kernel, shared)
    with thread_limit(est, blas_threads):
        maps, _ = est._invert_validated(est._validate_batch(X))
    return reduce_maps(maps, kernel, output, peak_kwargs, offset)


def thread_limit(est: Any, blas_threads: int | None) -> Any:
    """Threads for one call: the package's policy for per-sample (classical) estimators.

    Batched models (DLEMLR) scope torch's threads themselves; for them only an explicit BLAS
    cap applies.
    """
    from contextlib import nullcontext

    if est._per_sample():
        from laplace_inv.threads import limit_threads

        return limit_threads(blas_threads, torch=False)
    if blas_threads is None:
        return nullcontext()
    from laplace_inv.threads import limit_blas

    return limit_blas(int(blas_threads))


def reduce_maps(
    maps: np.ndarray,
    kernel: Kernel2D,
    output: Output = "maps",
    peak_kwargs: dict | None = None,
    offset: int = 0,
) -> Any:
    """Reduce a batch of maps ``(m, N1, N2)`` to one of `OUTPUTS`.

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", [0.1, 0.2], n_grid=3), KernelAxis("T2", [0.1], n_grid=2))
    >>> P1, P2 = reduce_maps(np.ones((4, 3, 2)), k, "projections")
    >>> P1[0], P2[0]
    (array([2., 2., 2.]), array([3., 3.]))
    """
    m = maps.shape[0]
    if output == "maps":
        return maps.reshape(m, -1)
    if output == "maps32":
        return maps.reshape(m, -1).astype(np.float32)
    if output == "projections":
        return maps.sum(axis=2), maps.sum(axis=1)
    if output == "peaks":
        return peak_table(
            maps, kernel.grid1, kernel.grid2, offset, kernel=kernel, **(peak_kwargs or {})
        )
    raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")


class _Collector:
    """Assembles streamed chunk outputs into the final result of ``predict``."""

    def __init__(self, kernel: Kernel2D, output: str, n: int) -> None:
        N1, N2 = kernel.map_shape
        self.output = output
        if output in ("maps", "maps32"):
            dtype = np.float64 if output == "maps" else np.float32
            self.data: Any = np.empty((n, N1 * N2), dtype=dtype)
        elif output == "projections":
            self.data = (np.empty((n, N1)), np.empty((n, N2)))
        else:
            self.data = []

    def add(self, start: int, part: Any) -> None:
        if self.output == "peaks":
            self.data.append(part)
        elif self.output == "projections":
            for dst, src in zip(self.data, part, strict=True):
                dst[start : start + len(src)] = src
        else:
            self.data[start : start + len(part)] = part

    def result(self) -> Any:
        if self.output == "peaks":
            return np.concatenate(self.data) if self.data else np.empty(0, PEAK_DTYPE)
        return self.data


def _show_progress(progress: bool | None, n_samples: int) -> bool:
    """``None``: a bar only on a terminal and for batches worth watching."""
    if progress is not None:
        return bool(progress)
    return n_samples >= 32 and sys.stderr is not None and sys.stderr.isatty()


def _auto_chunk_size(n_samples: int, workers: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        return int(chunk_size)
    return int(min(MAX_AUTO_CHUNK, max(1, math.ceil(n_samples / (4 * max(workers, 1))))))


def _joblib_context_n_jobs() -> int | None:
    from joblib.parallel import get_active_backend

    return get_active_backend()[1]


def _joblib_context_active() -> bool:
    """Whether the caller opened a ``joblib.parallel_config`` asking for parallelism."""
    from joblib.parallel import get_active_backend

    backend, n_jobs = get_active_backend()
    name = type(backend).__name__
    if name == "SequentialBackend":
        return False
    if name != "LokyBackend":
        return True  # threading, multiprocessing, dask, ... chosen explicitly
    return n_jobs not in (None, 1)


def _effective_n_jobs(n_jobs: int) -> int:
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


Collector = _Collector


def resolve_n_jobs(n_jobs: int | None, default: int | None = None) -> int | None:
    """``None`` means: serial, in this process, without joblib.

    ``default`` is the estimator's own ``n_jobs`` attribute; an active
    ``joblib.parallel_config`` asking for parallelism comes next.
    """
    if n_jobs is None:
        n_jobs = default
    if n_jobs is None and _joblib_context_active():
        return -1 if _joblib_context_n_jobs() is None else _joblib_context_n_jobs()
    if n_jobs is not None and (not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    return None if n_jobs is None else int(n_jobs)


def shared_state(kernel: Kernel2D, rtol: Any) -> dict:
    """The kernel's compression, computed here once and shipped to every worker."""
    try:
        kernel.compress(rtol)
    except (TypeError, ValueError):
        pass  # an invalid rtol is reported by the solver itself, with its own message
    return {
        "fingerprint": kernel.fingerprint(),
        "compressed": dict(getattr(kernel, "_compressed", {})),
    }


def iter_chunks(
    est: BaseInverter,
    arr: Any,
    n_samples: int,
    *,
    n_jobs: int | None,
    chunk_size: int,
    output: Output,
    peak_kwargs: dict,
    shared: dict,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(start, reduced output)`` per chunk, serially or over joblib workers."""
    starts = range(0, n_samples, chunk_size)
    if n_jobs is None or n_jobs == 1:
        for start in starts:
            chunk = arr[start : start + chunk_size]
            yield start, invert_chunk(est, chunk, output, peak_kwargs, start, shared)
        return
    from joblib import Parallel, delayed

    tasks = (
        delayed(invert_chunk)(
            est,
            np.asarray(arr[s : s + chunk_size]),
            output,
            peak_kwargs,
            s,
            shared,
            blas_threads=1,
        )
        for s in starts
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    yield from zip(starts, results, strict=True)


def collect(
    est: BaseInverter,
    arr: Any,
    n_samples: int,
    *,
    n_jobs: int | None,
    chunk_size: int | None,
    output: Output,
    peak_kwargs: dict | None,
    progress: bool | None,
) -> Any:
    """Invert a batch chunk by chunk (with a progress bar) and assemble ``output``."""
    show = _show_progress(progress, n_samples)
    workers = 1 if n_jobs is None else _effective_n_jobs(n_jobs)
    size = _auto_chunk_size(n_samples, workers, chunk_size)
    if show and chunk_size is None and n_jobs is None:
        size = min(size, max(1, n_samples // 20))  # visible progress in serial runs
    kernel = est._check_kernel()
    out = _Collector(kernel, output, n_samples)
    from tqdm.auto import tqdm

    shared = shared_state(kernel, getattr(est, "rtol", 1e-8))
    with tqdm(total=n_samples, disable=not show, desc=est._method_name(), unit="map") as bar:
        for start, part in iter_chunks(
            est,
            arr,
            n_samples,
            n_jobs=n_jobs,
            chunk_size=size,
            output=output,
            peak_kwargs=dict(peak_kwargs or {}),
            shared=shared,
        ):
            out.add(start, part)
            bar.update(min(size, n_samples - start))
    return out.result()

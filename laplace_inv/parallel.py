"""Invert many decays on a Dask cluster (or Dask's local schedulers).

`invert_dask` takes a ``dask.array`` of decays chunked over samples and any
inverter, and returns a lazy dask array: flattened maps (float64 or float32), the two
marginal projections, or a table of peaks. Each block runs
`laplace_inv.base.invert_chunk`, the same unit of work as ``predict(X, n_jobs=...)``,
so serial, joblib and Dask results agree sample for sample.

The estimator and its precomputed compressed kernel enter the graph once, as a single
dependency that each worker receives once (not once per block); blocks are pure
functions of their decays, so when a worker dies the scheduler recomputes its blocks
elsewhere and the result is unchanged.

The other route to a cluster is joblib's Dask backend, which
`laplace_inv.base.BaseInverter.predict` follows without any change::

    from joblib import parallel_config
    with parallel_config(backend="dask"):      # needs a distributed.Client
        Y = est.predict(X)

Dask is optional: install it with ``pip install 'laplace-inv[dask]'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from laplace_inv.base import BaseInverter
from laplace_inv.batching import OUTPUTS, Output, invert_chunk
from laplace_inv.peak_table import PEAK_DTYPE

__all__ = ["PEAK_DTYPE", "from_npy", "import_dask_array", "invert_dask"]

DASK_HINT = (
    "laplace_inv.parallel needs dask; install the optional extra with "
    "pip install 'laplace-inv[dask]' (dask[array,distributed])"
)


def import_dask_array() -> Any:
    """Import `dask.array`, or raise an ``ImportError`` naming the ``dask`` extra.

    Examples
    --------
    >>> import_dask_array().__name__
    'dask.array'
    """
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{DASK_HINT} ({exc})") from exc
    return da


def _block(
    x: np.ndarray,
    payload: tuple[BaseInverter, dict],
    reduce_to: Output,
    peak_kwargs: dict,
    block_info: dict | None = None,
) -> np.ndarray:
    est, shared = payload
    offset = 0 if block_info is None else int(block_info[0]["array-location"][0][0])
    res = invert_chunk(est, x, reduce_to, peak_kwargs, offset, shared, blas_threads=1)
    if reduce_to == "projections":
        return np.concatenate(res, axis=1)
    return res


def invert_dask(
    est: BaseInverter,
    X: Any,
    *,
    output: Output = "maps",
    chunk_size: int | None = None,
    peak_kwargs: dict | None = None,
) -> Any:
    """Invert a dask array of decays, block by block, with any inverter.

    Parameters
    ----------
    est : BaseInverter
        A (fitted) inverter: ``TikhonovInverter``, ``L1Inverter``, ``DLEMLRInverter``, ...
    X : dask.array.Array or array_like, shape (n_samples, n1*n2) or (n_samples, n1, n2)
        The decays, chunked over samples (other axes are merged into one chunk). A NumPy
        array is wrapped with ``chunk_size`` samples per block.
    output : {"maps", "maps32", "projections", "peaks"}
        ``"maps"``/``"maps32"``: a dask array ``(n_samples, N1*N2)`` in float64/float32;
        ``"projections"``: a pair of dask arrays ``(n_samples, N1)`` and
        ``(n_samples, N2)`` (compute them together, ``dask.compute(P1, P2)``, to invert
        once); ``"peaks"``: a 1D dask array of `PEAK_DTYPE` records with unknown
        block lengths, whose ``compute()`` is the peak table (``sample`` is the row of
        ``X``).
    chunk_size : int, optional
        Samples per block: rechunks ``X`` (default: keep a dask array's chunks; 256 for a
        NumPy array).
    peak_kwargs : dict, optional
        Keyword arguments of `laplace_inv.metrics.find_peaks`.

    Returns
    -------
    dask.array.Array or tuple of dask.array.Array
        Lazy; call ``.compute()`` (or ``dask.compute``) under the scheduler of your choice,
        e.g. a ``distributed.Client``.

    Raises
    ------
    ImportError
        When dask is not installed (the message names the ``laplace-inv[dask]`` extra).

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 8), n_grid=10),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=10))
    >>> X = np.stack([k.forward(np.eye(10) * (i + 1)) for i in range(6)])
    >>> est = TikhonovInverter(k, penalty="global", alpha=1e-3)
    >>> Y = invert_dask(est, da.from_array(X, chunks=(2, 8, 12)))
    >>> Y.shape, Y.chunks[0]
    ((6, 100), (2, 2, 2))
    >>> with dask.config.set(scheduler="sync"):
    ...     bool(np.array_equal(Y.compute(), est.predict(X)))
    True
    >>> with dask.config.set(scheduler="sync"):
    ...     table = invert_dask(est, X, output="peaks", chunk_size=4).compute()
    >>> table.dtype == PEAK_DTYPE, int(table["sample"].max())
    (True, 5)
    """
    da = import_dask_array()
    import dask

    if not isinstance(est, BaseInverter):
        raise TypeError(f"est must be a laplace_inv inverter, got {type(est).__name__}")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    kernel = est._check_kernel()
    n1, n2 = kernel.data_shape
    N1, N2 = kernel.map_shape
    if not isinstance(X, da.Array):
        X = np.asarray(X)
        if X.ndim >= 1:
            X = da.from_array(X, chunks=(chunk_size or 256, *X.shape[1:]))
    if X.ndim not in (2, 3) or X.shape[0] == 0 or X.shape[1:] not in ((n1 * n2,), (n1, n2)):
        shape = X.shape
        raise ValueError(
            f"X must have shape (n_samples, {n1 * n2}) or (n_samples, {n1}, {n2}) for this "
            f"kernel, got {shape}"
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes along samples; call X.compute_chunk_sizes()")
    est._validate_batch(np.zeros((1, n1 * n2)))  # fit state, kernel type
    X = X.rechunk((chunk_size or X.chunks[0], *(-1 for _ in X.shape[1:])))

    # One graph node for the estimator and its compression: shipped once per worker.
    payload = dask.delayed((est, est._shared_state()), pure=True, traverse=False)
    kwargs = dict(payload=payload, reduce_to=output, peak_kwargs=dict(peak_kwargs or {}))
    drop = tuple(range(1, X.ndim))
    if output == "peaks":
        return da.map_blocks(
            _block,
            X,
            drop_axis=drop,
            chunks=((np.nan,) * X.numblocks[0],),
            dtype=PEAK_DTYPE,
            meta=np.empty(0, PEAK_DTYPE),
            **kwargs,
        )
    width = N1 + N2 if output == "projections" else N1 * N2
    dtype = np.float32 if output == "maps32" else np.float64
    drop = tuple(range(2, X.ndim))
    out = da.map_blocks(
        _block,
        X,
        drop_axis=drop,
        chunks=(X.chunks[0], (width,)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype),
        **kwargs,
    )
    if output == "projections":
        return out[:, :N1], out[:, N1:]
    return out


def _load_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.asarray(np.load(path, mmap_mode="r")[start:stop], dtype=np.float64)


def from_npy(path: str, chunk_size: int = 256) -> Any:
    """A dask array of decays read block by block from a ``.npy`` file (out of core).

    Each block opens the file as a memory map and reads only its rows, so the graph holds
    the path, never the data; every worker must see the file (same machine or a shared
    file system). Rows are converted to float64 as they are read.

    Parameters
    ----------
    path : str
        A ``.npy`` file of shape ``(n_samples, n1*n2)`` or ``(n_samples, n1, n2)``.
    chunk_size : int
        Samples per block.

    Returns
    -------
    dask.array.Array

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "X.npy")
    >>> np.save(path, np.ones((5, 6), dtype=np.float32))
    >>> X = from_npy(path, chunk_size=2)
    >>> X.chunks, X.dtype
    (((2, 2, 1), (6,)), dtype('float64'))
    >>> float(X.sum().compute(scheduler="sync"))
    30.0
    """
    da = import_dask_array()
    import dask

    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    path = str(path)
    shape = np.load(path, mmap_mode="r").shape
    if len(shape) < 2 or shape[0] == 0:
        raise ValueError(f"{path} must hold a batch (n_samples, ...), got shape {shape}")
    blocks = [
        da.from_delayed(
            dask.delayed(_load_rows, pure=True)(path, start, min(start + chunk_size, shape[0])),
            shape=(min(start + chunk_size, shape[0]) - start, *shape[1:]),
            dtype=np.float64,
        )
        for start in range(0, shape[0], chunk_size)
    ]
    return da.concatenate(blocks, axis=0)

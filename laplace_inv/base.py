"""The estimator contract shared by every inverter (DESIGN.md).

``BaseInverter`` owns input validation, reshaping, per-sample scale normalisation, batching,
the result object and scoring. A concrete inverter implements only ``_invert_normalised``
(one dataset scaled to max |S| = 1) or, for batched models, ``_invert_batch_normalised``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from laplace_inv._validation import as_real_array, check_data_batch, check_single_dataset
from laplace_inv.kernels import Kernel2D
from laplace_inv.metrics import relative_residual as _relative_residual
from laplace_inv.metrics import residual_to_noise as _residual_to_noise


@dataclass
class InversionResult:
    """One inverted dataset: the map, its grids and how well it explains the data.

    Attributes
    ----------
    map : numpy.ndarray
        The distribution ``F``, shape ``(N1, N2)``, non-negative, in the data's units
        (map mass per bin; ``K1 F K2ᵀ`` reproduces the data).
    kernel : Kernel2D
        The kernel used.
    data : numpy.ndarray
        The data that was inverted, shape ``(n1, n2)``.
    info : dict
        Solver information: method, chosen α, iteration counts, wall time, ...
    noise_std : float or None
        Noise standard deviation (given or estimated), in data units.
    """

    map: np.ndarray
    kernel: Kernel2D
    data: np.ndarray
    info: dict = field(default_factory=dict)
    noise_std: float | None = None

    @property
    def grid1(self) -> np.ndarray:
        """Output grid of axis 1."""
        return self.kernel.grid1

    @property
    def grid2(self) -> np.ndarray:
        """Output grid of axis 2."""
        return self.kernel.grid2

    @property
    def kinds(self) -> tuple[str, str]:
        """Kernel kinds of the two axes."""
        return self.kernel.kinds

    @property
    def fit(self) -> np.ndarray:
        """The data the map predicts, ``K1 F K2ᵀ`` (plus any fitted offset)."""
        return self.kernel.forward(self.map) + float(self.info.get("offset", 0.0))

    @property
    def residual(self) -> np.ndarray:
        """``S − fit``."""
        return self.data - self.fit

    @property
    def relative_residual(self) -> float:
        """``‖S − fit‖ / ‖S‖`` (0 for all-zero data)."""
        if not np.any(self.data):
            return 0.0
        return _relative_residual(self.data, self.fit)

    @property
    def residual_to_noise(self) -> float | None:
        """RMS residual divided by the noise standard deviation (≈ 1 for a good fit)."""
        if not self.noise_std:
            return None
        return _residual_to_noise(self.data, self.fit, self.noise_std)

    def projections(self) -> tuple[np.ndarray, np.ndarray]:
        """Marginal distributions along axis 1 (summed over axis 2) and along axis 2."""
        return self.map.sum(axis=1), self.map.sum(axis=0)

    def peaks(self, **kwargs: Any) -> list:
        """Detected peaks (see :func:`laplace_inv.metrics.find_peaks`)."""
        from laplace_inv.metrics import find_peaks

        return find_peaks(self.map, self.grid1, self.grid2, **kwargs)

    def plot(self, **kwargs: Any):
        """The map with both projections (see :func:`laplace_inv.plotting.plot_map`)."""
        from laplace_inv.plotting import plot_map

        kwargs.setdefault("peaks", self.peaks())
        return plot_map(self.map, self.grid1, self.grid2, self.kinds, **kwargs)

    def summary(self) -> dict:
        """A flat dictionary of the headline figures (used by the CLI and benchmarks)."""
        out: dict[str, Any] = {
            "method": self.info.get("method", "?"),
            "relative_residual": self.relative_residual,
            "residual_to_noise": self.residual_to_noise,
            "time_s": self.info.get("time_s"),
        }
        if "alpha" in self.info:
            out["alpha"] = self.info["alpha"]
        return out


class BaseInverter(TransformerMixin, BaseEstimator):
    """Base class for all inverters: ``X`` decays in, flattened maps out.

    Subclasses store their constructor parameters untouched, and implement
    ``_invert_normalised(S) -> (F, info)`` for one dataset scaled to ``max|S| = 1``.
    Batched models may override ``_invert_batch_normalised`` instead, or
    ``_invert_batch_scaled(batch, scales)`` to fold the per-sample scaling into a first step
    that is linear in the data (DLEMLR does, to avoid copying the batch).

    ``predict`` accepts ``(n_samples, n1*n2)`` or ``(n_samples, n1, n2)`` and returns
    ``(n_samples, N1*N2)`` (C order). ``transform`` equals ``predict``.
    """

    #: Whether ``fit`` must be called before ``predict`` (true for learned models).
    _requires_fit = False

    def _check_kernel(self) -> Kernel2D:
        kernel = getattr(self, "kernel", None)
        if not isinstance(kernel, Kernel2D):
            raise TypeError(f"kernel must be a laplace_inv.Kernel2D, got {type(kernel).__name__}")
        return kernel

    # ----------------------------------------------------------------------------------
    # scikit-learn API
    def fit(self, X: Any, y: Any = None) -> BaseInverter:
        """Validate ``X`` against the kernel and record ``n_features_in_``.

        Classical inverters learn nothing; learned models override this.
        """
        kernel = self._check_kernel()
        check_data_batch(X, kernel.data_shape)
        self.n_features_in_ = kernel.data_shape[0] * kernel.data_shape[1]
        return self

    def predict(
        self,
        X: Any,
        *,
        n_jobs: int | None = None,
        chunk_size: int | None = None,
        output: Output = "maps",
        peak_kwargs: dict | None = None,
        progress: bool | None = None,
    ) -> Any:
        """Invert a batch of decays, optionally in parallel and as a reduced output.

        With the defaults (and no ``n_jobs`` attribute or joblib context) this inverts the
        whole batch in one call, as it always has. Otherwise the batch is cut into chunks of
        samples that are inverted one after another (``n_jobs=1``) or dispatched to joblib
        workers; each chunk is reduced to ``output`` as soon as it is done, so only one
        chunk of float64 maps per worker exists at a time. Every sample is inverted exactly
        as in the serial call (per-sample normalisation), so the results do not depend on
        ``n_jobs`` or ``chunk_size`` for per-sample solvers (batched networks may differ by
        float32 rounding).

        Parameters
        ----------
        X : array_like, shape (n_samples, n1*n2) or (n_samples, n1, n2)
            Real decay data. A ``numpy.memmap`` is read chunk by chunk.
        n_jobs : int, optional
            Number of joblib workers (``-1``: all cores). Default: the estimator's ``n_jobs``
            attribute if it has one, else the active :func:`joblib.parallel_config` (so
            ``with parallel_config(backend="dask"):`` runs on a Dask cluster), else 1.
            The compressed kernel is computed once here and shipped to the workers, which
            keep it for every later chunk.
        chunk_size : int, optional
            Samples per task. Default: the whole batch for a serial ``output="maps"`` call,
            else about four chunks per worker, at most 256 samples each.
        output : {"maps", "maps32", "projections", "peaks"}
            ``"maps"``: float64 maps ``(n_samples, N1*N2)``; ``"maps32"``: the same in
            float32 (half the memory); ``"projections"``: a pair ``(P1, P2)`` of marginals,
            shapes ``(n_samples, N1)`` and ``(n_samples, N2)``; ``"peaks"``: a structured
            array with one row per detected peak (dtype :data:`PEAK_DTYPE`, column
            ``sample`` is the row of ``X``), from :func:`laplace_inv.metrics.find_peaks`.
        peak_kwargs : dict, optional
            Keyword arguments of :func:`~laplace_inv.metrics.find_peaks` (``min_fraction``,
            ``smooth``) for ``output="peaks"``.
        progress : bool, optional
            Show a progress bar (tqdm, on stderr). Default: only when stderr is a terminal
            and the batch holds at least 32 samples; ``False`` silences it.

        Returns
        -------
        numpy.ndarray or tuple of numpy.ndarray
            As described under ``output``.

        Examples
        --------
        >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
        >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 8), n_grid=10),
        ...              KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=10))
        >>> X = np.stack([k.forward(np.eye(10)[::-1] * (i + 1)) for i in range(6)])
        >>> est = TikhonovInverter(k, penalty="global", alpha=1e-3)
        >>> Y = est.predict(X)
        >>> Y.shape
        (6, 100)
        >>> np.array_equal(est.predict(X, chunk_size=4), Y)
        True
        >>> est.predict(X, output="maps32").dtype
        dtype('float32')
        >>> P1, P2 = est.predict(X, output="projections")
        >>> P1.shape, P2.shape
        ((6, 10), (6, 10))
        >>> table = est.predict(X, output="peaks")
        >>> table.dtype.names[:3]
        ('sample', 'peak', 'log_position1')
        """
        arr, n_samples = self._check_batch_lazily(X)
        n_jobs = self._resolve_n_jobs(n_jobs)
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        show = _show_progress(progress, n_samples)
        if n_jobs is None and chunk_size is None and output == "maps" and not show:
            # The historical path: one call on the whole (validated) batch.
            maps, _ = self._invert_validated(self._validate_batch(arr))
            return maps.reshape(maps.shape[0], -1)
        workers = 1 if n_jobs is None else _effective_n_jobs(n_jobs)
        size = _auto_chunk_size(n_samples, workers, chunk_size)
        if show and chunk_size is None and n_jobs is None:
            size = min(size, max(1, n_samples // 20))  # visible progress in serial runs
        out = _Collector(self._check_kernel(), output, n_samples)
        from tqdm.auto import tqdm

        with tqdm(total=n_samples, disable=not show, desc=self._method_name(), unit="map") as bar:
            for start, part in self.iter_predict(
                arr, n_jobs=n_jobs, chunk_size=size, output=output, peak_kwargs=peak_kwargs
            ):
                out.add(start, part)
                bar.update(min(size, n_samples - start))
        return out.result()

    def iter_predict(
        self,
        X: Any,
        *,
        n_jobs: int | None = None,
        chunk_size: int | None = None,
        output: Output = "maps",
        peak_kwargs: dict | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Stream the inversion of a batch chunk by chunk, in order.

        Yields ``(start, part)`` where ``part`` is the reduced output (see :meth:`predict`)
        of samples ``start, start+1, ...``: a ``(m, N1*N2)`` array for maps, a pair of
        ``(m, N1)``/``(m, N2)`` arrays for projections, or a peak table whose ``sample``
        column already counts from the start of ``X``. Nothing but the chunks in flight
        is held in memory, so a ``numpy.memmap`` of 10⁶ decays can be reduced to peaks.

        Parameters
        ----------
        X, n_jobs, chunk_size, output, peak_kwargs
            As in :meth:`predict`.

        Yields
        ------
        (int, object)

        Examples
        --------
        >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
        >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 8), n_grid=10),
        ...              KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=10))
        >>> X = np.stack([k.forward(np.eye(10) * (i + 1)) for i in range(5)])
        >>> est = TikhonovInverter(k, penalty="global", alpha=1e-3)
        >>> [(start, part.shape) for start, part in est.iter_predict(X, chunk_size=2)]
        [(0, (2, 100)), (2, (2, 100)), (4, (1, 100))]
        """
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        arr, n_samples = self._check_batch_lazily(X)
        n_jobs = self._resolve_n_jobs(n_jobs)
        workers = 1 if n_jobs is None else _effective_n_jobs(n_jobs)
        chunk_size = _auto_chunk_size(n_samples, workers, chunk_size)
        starts = range(0, n_samples, chunk_size)
        shared = self._shared_state()
        peak_kwargs = dict(peak_kwargs or {})
        if n_jobs is None or n_jobs == 1:
            for start in starts:
                chunk = arr[start : start + chunk_size]
                yield start, invert_chunk(self, chunk, output, peak_kwargs, start, shared)
            return
        from joblib import Parallel, delayed

        tasks = (
            delayed(invert_chunk)(
                self,
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

    def transform(self, X: Any) -> np.ndarray:
        """Same as :meth:`predict`, so that an inverter can feed a ``Pipeline``."""
        return self.predict(X)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, y)`` then ``predict(X)``."""
        return self.fit(X, y, **fit_params).predict(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Higher-is-better score.

        With true maps ``y`` (n_samples, N1*N2): the R² of the predicted maps. Without:
        minus the mean relative data residual ``‖K1 F K2ᵀ − S‖/‖S‖``.
        """
        batch = self._validate_batch(X)
        maps, infos = self._invert_validated(batch)
        if y is not None:
            Y = np.asarray(y, dtype=float).reshape(maps.shape[0], -1)
            return float(r2_score(Y, maps.reshape(maps.shape[0], -1)))
        kernel = self._check_kernel()
        offsets = np.array([i.get("offset", 0.0) for i in infos])[:, None, None]
        fits = kernel.forward(maps) + offsets
        return -float(
            np.mean(
                [
                    _relative_residual(S, fit) if np.any(S) else 0.0
                    for S, fit in zip(batch, fits, strict=True)
                ]
            )
        )

    def invert(self, S: Any, noise_std: float | None = None) -> InversionResult:
        """Invert one ``(n1, n2)`` dataset and return a full :class:`InversionResult`.

        Parameters
        ----------
        S : array_like, shape (n1, n2)
            Real decay data.
        noise_std : float, optional
            Known noise level; estimated from the data outside the kernels' range if absent.
        """
        kernel = self._check_kernel()
        S = check_single_dataset(S, kernel.data_shape)
        if noise_std is not None:
            noise_std = _check_noise_std(noise_std)
        if noise_std is None:
            from laplace_inv.simulate import estimate_noise

            noise_std = estimate_noise(S, kernel)
        maps, infos = self._invert_validated(S[None])
        return InversionResult(
            map=maps[0], kernel=kernel, data=S, info=infos[0], noise_std=noise_std
        )

    # ----------------------------------------------------------------------------------
    # internals
    def _check_batch_lazily(self, X: Any) -> tuple[Any, int]:
        """Check fit state, shape, and the dtype of the first sample; return (X, n_samples).

        Arrays (memmaps included) are kept as they are, so chunks are read and converted
        to float64 one at a time; anything else is converted once. Each chunk is fully
        validated (finite values, ...) when it is inverted.
        """
        arr = X if isinstance(X, np.ndarray) else as_real_array(X, "X")
        n1, n2 = self._check_kernel().data_shape
        if arr.ndim in (2, 3) and arr.shape[0] > 0 and arr.shape[1:] in ((n1 * n2,), (n1, n2)):
            self._validate_batch(arr[:1])
        else:
            self._validate_batch(arr)  # raises the usual message
        return arr, int(arr.shape[0])

    def _resolve_n_jobs(self, n_jobs: int | None) -> int | None:
        """``None`` means: serial, in this process, without joblib."""
        if n_jobs is None:
            n_jobs = getattr(self, "n_jobs", None)
        if n_jobs is None and _joblib_context_active():
            return -1 if _joblib_context_n_jobs() is None else _joblib_context_n_jobs()
        if n_jobs is not None and (not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
            raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
        return None if n_jobs is None else int(n_jobs)

    def _shared_state(self) -> dict:
        """The kernel's compression, computed here once and shipped to every worker."""
        kernel = self._check_kernel()
        rtol = getattr(self, "rtol", 1e-8)
        try:
            kernel.compress(rtol)
        except (TypeError, ValueError):
            pass  # an invalid rtol is reported by the solver itself, with its own message
        return {
            "fingerprint": kernel.fingerprint(),
            "compressed": dict(getattr(kernel, "_compressed", {})),
        }

    def _validate_batch(self, X: Any) -> np.ndarray:
        kernel = self._check_kernel()
        if self._requires_fit and not hasattr(self, "n_features_in_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, Y) or "
                "use from_pretrained()"
            )
        return check_data_batch(X, kernel.data_shape)

    def _invert_validated(self, batch: np.ndarray) -> tuple[np.ndarray, list[dict]]:
        """Scale each sample to max|S| = 1, invert, and scale the maps back."""
        flat = batch.reshape(len(batch), -1)
        # max|S| as max(max S, -min S): the same value without a full-size temporary.
        scales = np.maximum(flat.max(axis=1), -flat.min(axis=1))
        nonzero = scales > 0
        N1, N2 = self._check_kernel().map_shape
        maps = np.zeros((len(batch), N1, N2))
        infos: list[dict] = [
            {"method": self._method_name(), "note": "zero data"} for _ in range(len(batch))
        ]
        if np.any(nonzero):
            idx = np.flatnonzero(nonzero)
            # Avoid copying the (possibly large) batch when every sample is non-zero.
            sub = batch if len(idx) == len(batch) else batch[idx]
            t0 = time.perf_counter()
            sub_maps, sub_infos = self._invert_batch_scaled(sub, scales[idx])
            elapsed = (time.perf_counter() - t0) / len(idx)
            maps[idx] = sub_maps * scales[idx, None, None]
            for j, i in enumerate(idx):
                info = dict(sub_infos[j])
                info.setdefault("method", self._method_name())
                info.setdefault("time_s", elapsed)
                if "offset" in info:
                    info["offset"] = float(info["offset"]) * scales[i]
                infos[i] = info
        if not np.all(np.isfinite(maps)):
            raise FloatingPointError(
                f"{type(self).__name__} produced a non-finite map; please report this input"
            )
        return maps, infos

    def _invert_batch_scaled(
        self, batch: np.ndarray, scales: np.ndarray
    ) -> tuple[np.ndarray, list[dict]]:
        """Invert ``batch / scales`` (per sample); maps are returned in normalised units.

        Subclasses whose first step is linear in the data (DLEMLR projects it) override this
        to fold the scaling into that step instead of copying the batch.
        """
        return self._invert_batch_normalised(batch / scales[:, None, None])

    def _invert_batch_normalised(self, batch: np.ndarray) -> tuple[np.ndarray, list[dict]]:
        maps, infos = [], []
        for S in batch:
            t0 = time.perf_counter()
            F, info = self._invert_normalised(S)
            info = dict(info)
            info["time_s"] = time.perf_counter() - t0
            maps.append(F)
            infos.append(info)
        return np.stack(maps), infos

    def _invert_normalised(self, S: np.ndarray) -> tuple[np.ndarray, dict]:
        raise NotImplementedError

    def _method_name(self) -> str:
        return type(self).__name__

    def __sklearn_is_fitted__(self) -> bool:
        return not self._requires_fit or hasattr(self, "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = self._requires_fit
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        return tags


# --------------------------------------------------------------------------------------
# Batched, chunked and parallel prediction

Output = Literal["maps", "maps32", "projections", "peaks"]

#: The reduced outputs of :meth:`BaseInverter.predict`.
OUTPUTS: tuple[str, ...] = ("maps", "maps32", "projections", "peaks")

#: Largest automatic chunk (samples per task).
MAX_AUTO_CHUNK = 256

#: One row per detected peak (``output="peaks"``); positions and widths as in
#: :class:`laplace_inv.metrics.Peak` (log10 units for ``log_position*`` and ``fwhm*``).
PEAK_DTYPE = np.dtype(
    [
        ("sample", np.int64),
        ("peak", np.int32),
        ("log_position1", np.float64),
        ("log_position2", np.float64),
        ("position1", np.float64),
        ("position2", np.float64),
        ("fwhm1", np.float64),
        ("fwhm2", np.float64),
        ("mass", np.float64),
        ("fraction", np.float64),
        ("height", np.float64),
        ("row", np.int32),
        ("col", np.int32),
    ]
)

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
        See :meth:`BaseInverter.predict`.
    peak_kwargs : dict, optional
        For ``output="peaks"``.
    offset : int
        Index of the chunk's first sample in the whole batch (the ``sample`` column).
    shared : dict, optional
        ``BaseInverter._shared_state()``: the precomputed compression.
    blas_threads : int, optional
        Cap on BLAS threads while inverting (joblib and Dask tasks use 1: the parallelism
        is over samples, and one thread makes every solve reproducible bit for bit).

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
    if blas_threads is None:
        maps, _ = est._invert_validated(est._validate_batch(X))
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(int(blas_threads), user_api="blas"):
            maps, _ = est._invert_validated(est._validate_batch(X))
    return reduce_maps(maps, kernel, output, peak_kwargs, offset)


def reduce_maps(
    maps: np.ndarray,
    kernel: Kernel2D,
    output: Output = "maps",
    peak_kwargs: dict | None = None,
    offset: int = 0,
) -> Any:
    """Reduce a batch of maps ``(m, N1, N2)`` to one of :data:`OUTPUTS`.

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
        return peak_table(maps, kernel.grid1, kernel.grid2, offset, **(peak_kwargs or {}))
    raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")


def peak_table(
    maps: np.ndarray, grid1: np.ndarray, grid2: np.ndarray, offset: int = 0, **kwargs: Any
) -> np.ndarray:
    """One :data:`PEAK_DTYPE` row per peak of every map (``laplace_inv.metrics.find_peaks``).

    Examples
    --------
    >>> g = np.logspace(-3, 0, 11)
    >>> F = np.zeros((2, 11, 11)); F[0, 2, 8] = 1.0; F[1, 5, 5] = 2.0; F[1, 9, 1] = 2.0
    >>> t = peak_table(F, g, g)
    >>> t["sample"].tolist(), t["peak"].tolist(), t["row"].tolist()
    ([0, 1, 1], [0, 0, 1], [2, 5, 9])
    """
    from laplace_inv.metrics import find_peaks

    rows = []
    for i, F in enumerate(maps):
        for j, p in enumerate(find_peaks(F, grid1, grid2, **kwargs)):
            rows.append(
                (
                    offset + i,
                    j,
                    *p.log_position,
                    *p.position,
                    *p.fwhm,
                    p.mass,
                    p.fraction,
                    p.height,
                    *p.index,
                )
            )
    return np.array(rows, dtype=PEAK_DTYPE)


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


def _check_noise_std(noise_std: Any) -> float:
    """A noise level must be one finite, positive number."""
    if isinstance(noise_std, (str, bytes)) or np.ndim(noise_std) != 0:
        raise TypeError(f"noise_std must be a positive number, got {noise_std!r}")
    value = float(as_real_array(noise_std, "noise_std"))
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"noise_std must be a finite positive number, got {value!r}")
    return value


def warn_not_converged(solver: str, n_iter: int, tol: float) -> None:
    """Emit the ``ConvergenceWarning`` every solver raises when it hits its iteration cap."""
    warnings.warn(
        f"{solver} stopped at its iteration cap ({n_iter}) before reaching tol={tol:g}; "
        "increase max_iter or loosen tol",
        ConvergenceWarning,
        stacklevel=3,
    )

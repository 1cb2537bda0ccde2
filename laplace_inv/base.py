"""The estimator contract shared by every inverter.

``BaseInverter`` owns input validation, parameter checks, per-sample scale normalisation and
the result object; chunked and parallel prediction live in `laplace_inv.batching`, the
result in `laplace_inv.result`, the peak table in `laplace_inv.peak_table`. The old names
(`InversionResult`, `invert_chunk`, `reduce_maps`, `peak_table`, ...) are re-exported here.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from laplace_inv._validation import (
    as_real_array,
    check_data_batch,
    check_noise_against_data,
    check_noise_std,
    check_params,
    check_single_dataset,
)
from laplace_inv.batching import (
    MAX_AUTO_CHUNK,
    OUTPUTS,
    Output,
    _auto_chunk_size,
    _Collector,
    _effective_n_jobs,
    _show_progress,
    collect,
    invert_chunk,
    iter_chunks,
    reduce_maps,
    resolve_n_jobs,
    shared_state,
    thread_limit,
)
from laplace_inv.diagnostics import fit_warnings
from laplace_inv.kernels import Kernel2D
from laplace_inv.peak_table import PEAK_DTYPE, peak_table
from laplace_inv.result import InversionResult
from laplace_inv.scaling import sample_scales
from laplace_inv.solvers.result import warn_not_converged
from laplace_inv.threads import resolve_threads

__all__ = [
    "MAX_AUTO_CHUNK",
    "OUTPUTS",
    "PEAK_DTYPE",
    "BaseInverter",
    "InversionResult",
    "Output",
    "_Collector",
    "invert_chunk",
    "peak_table",
    "reduce_maps",
    "warn_not_converged",
]


class BaseInverter(TransformerMixin, BaseEstimator):
    """Base class for all inverters: ``X`` decays in, flattened maps out.

    Subclasses store their constructor parameters untouched, declare them in
    ``_parameter_constraints`` (checked once per ``fit``/``predict``/``invert`` call), and
    implement one hook: ``_invert_normalised(S, noise_std=None) -> (F, info)`` for one
    dataset scaled to ``max|S| = 1`` (``noise_std``, when given, is in the same scaled
    units). Batched models override ``_invert_batch_scaled(batch, scales)`` instead, to fold
    the per-sample scaling into a first step that is linear in the data.

    ``predict`` accepts ``(n_samples, n1*n2)`` or ``(n_samples, n1, n2)`` and returns
    ``(n_samples, N1*N2)`` (C order). ``transform`` equals ``predict``.
    """

    #: Whether ``fit`` must be called before ``predict`` (true for learned models).
    _requires_fit = False

    #: ``{parameter: [accepted constraints]}`` (see `laplace_inv._validation.check_params`).
    _parameter_constraints: ClassVar[dict[str, list]] = {}

    def _check_params(self) -> None:
        """Check every declared parameter once (a clear ``ValueError``/``TypeError``)."""
        constraints = type(self)._parameter_constraints
        params = {name: getattr(self, name) for name in constraints}
        check_params(type(self).__name__, params, constraints)

    #: Why this estimator cannot invert a 1D kernel (`Kernel1D`); ``None`` when it can.
    _no_1d_reason: ClassVar[str | None] = None

    def _check_kernel(self) -> Kernel2D:
        kernel = getattr(self, "kernel", None)
        if not isinstance(kernel, Kernel2D):
            raise TypeError(f"kernel must be a laplace_inv.Kernel2D, got {type(kernel).__name__}")
        if kernel.ndim == 1 and self._no_1d_reason is not None:
            raise ValueError(self._no_1d_reason)
        return kernel

    # ----------------------------------------------------------------------------------
    # scikit-learn API
    def fit(self, X: Any, y: Any = None) -> BaseInverter:
        """Validate ``X`` against the kernel and record ``n_features_in_``.

        Classical inverters learn nothing; learned models override this.
        """
        kernel = self._check_kernel()
        self._check_params()
        check_data_batch(X, kernel.data_shape, owner=type(self).__name__)
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
            attribute if it has one, else the active `joblib.parallel_config` (so
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
            array with one row per detected peak (dtype `PEAK_DTYPE`, column
            ``sample`` is the row of ``X``), from `laplace_inv.metrics.find_peaks`.
        peak_kwargs : dict, optional
            Keyword arguments of `laplace_inv.metrics.find_peaks` (``min_fraction``,
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
        self._check_params()
        show = _show_progress(progress, n_samples)
        if n_jobs is None and chunk_size is None and output == "maps" and not show:
            # The historical path: one call on the whole (validated) batch.
            with thread_limit(self, None):
                maps, _ = self._invert_validated(self._validate_batch(arr))
            return maps.reshape(maps.shape[0], -1)
        return collect(
            self,
            arr,
            n_samples,
            n_jobs=n_jobs,
            chunk_size=chunk_size,
            output=output,
            peak_kwargs=peak_kwargs,
            progress=progress,
        )

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

        Yields ``(start, part)`` where ``part`` is the reduced output (see `predict`)
        of samples ``start, start+1, ...``: a ``(m, N1*N2)`` array for maps, a pair of
        ``(m, N1)``/``(m, N2)`` arrays for projections, or a peak table whose ``sample``
        column already counts from the start of ``X``. Nothing but the chunks in flight
        is held in memory, so a ``numpy.memmap`` of 10⁶ decays can be reduced to peaks.

        Parameters
        ----------
        X : array_like, shape (n_samples, n1*n2) or (n_samples, n1, n2)
            Real decay data, as in `predict`.
        n_jobs : int, optional
            Number of joblib workers, as in `predict`.
        chunk_size : int, optional
            Samples per chunk, as in `predict`.
        output : {"maps", "maps32", "projections", "peaks"}
            What each chunk holds, as in `predict`.
        peak_kwargs : dict, optional
            Keyword arguments of `laplace_inv.metrics.find_peaks` for ``output="peaks"``.

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
        self._check_params()
        workers = 1 if n_jobs is None else _effective_n_jobs(n_jobs)
        yield from iter_chunks(
            self,
            arr,
            n_samples,
            n_jobs=n_jobs,
            chunk_size=_auto_chunk_size(n_samples, workers, chunk_size),
            output=output,
            peak_kwargs=dict(peak_kwargs or {}),
            shared=self._shared_state(),
        )

    def transform(self, X: Any) -> np.ndarray:
        """Same as `predict`, so that an inverter can feed a ``Pipeline``."""
        return self.predict(X)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, y)`` then ``predict(X)``."""
        return self.fit(X, y, **fit_params).predict(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Higher-is-better score, finite and comparable between parameter values.

        With true maps ``y`` (simulated data): `laplace_inv.metrics.map_similarity`, the mean
        of ``1 − TV`` between the predicted and true maps after clipping at zero and scaling
        each to unit mass; in [0, 1], 1 for a perfect map. Use it to choose α (or any
        parameter) when the truth is known.

        Without true maps (measured data): `laplace_inv.metrics.scorers.gcv_stability_scorer`,
        ``−GCV + 0.1·stability``: GCV on the compressed data with Monte-Carlo degrees of
        freedom (about 1 at a good fit; it rises when the map is over-smoothed or fits the
        noise), and the stability ``1 − TV`` between the map and the map of the data with a
        second draw of noise, which breaks GCV's ties between under-smoothed maps. About
        −0.9 at a good α; it costs two inversions per sample and needs data with more
        points than the kernels' rank (``n1*n2`` above the compressed size).

        Parameters
        ----------
        X : array_like, shape (n_samples, n1*n2) or (n_samples, n1, n2)
            Decays.
        y : array_like, shape (n_samples, N1*N2), optional
            The true maps, flattened in C order (or ``(n_samples, N1, N2)``).

        Returns
        -------
        float

        Examples
        --------
        >>> from laplace_inv import Kernel2D, KernelAxis, TikhonovInverter
        >>> from laplace_inv.simulate import make_training_set
        >>> k = Kernel2D(KernelAxis("T1_IR", np.geomspace(1e-3, 3, 16), n_grid=16),
        ...              KernelAxis("T2", np.arange(1, 201) * 1e-3, n_grid=16))
        >>> X, Y, _ = make_training_set(k, 3, snr=300, random_state=0)
        >>> est = TikhonovInverter(k, penalty="global")
        >>> 0 <= est.score(X, Y) <= 1, -2 < est.score(X) < 0
        (True, True)
        """
        from laplace_inv.metrics.scorers import gcv_stability_scorer, map_similarity

        batch = self._validate_batch(X)
        self._check_params()
        if y is None:
            return gcv_stability_scorer(self, batch.reshape(batch.shape[0], -1))
        maps, _ = self._invert_validated(batch)
        n_maps = int(np.prod(self._check_kernel().map_shape))
        Y = as_real_array(y, "y")
        if Y.shape[0] != maps.shape[0] or Y.size != maps.shape[0] * n_maps:
            raise ValueError(
                f"y must hold the true maps, shape ({maps.shape[0]}, {n_maps}) "
                f"(flattened in C order), got {Y.shape}; call score(X) without y to use "
                "the GCV-stability score"
            )
        return map_similarity(Y.reshape(maps.shape[0], -1), maps.reshape(maps.shape[0], -1))

    def invert(
        self, S: Any, noise_std: float | None = None, *, check_fit: bool = True
    ) -> InversionResult:
        """Invert one ``(n1, n2)`` dataset and return a full `InversionResult`.

        Parameters
        ----------
        S : array_like, shape (n1, n2)
            Real decay data.
        noise_std : float, optional
            Known noise level in data units: the solvers that use a noise level (the
            discrepancy rule, UPEN's weights) take it instead of their own estimate. Absent,
            it is estimated from the data outside the kernels' range.
        check_fit : bool
            Run the fit check (`laplace_inv.diagnostics.fit_warnings`); searches that invert
            many trial datasets turn it off.

        Returns
        -------
        InversionResult
            With ``warnings`` from the fit check (`laplace_inv.diagnostics`), each also
            emitted as a ``UserWarning``.
        """
        kernel = self._check_kernel()
        S = check_single_dataset(S, kernel.data_shape)
        given = None if noise_std is None else check_noise_std(noise_std)
        if given is not None:
            check_noise_against_data(given, S)
        self._check_params()
        # The policy covers the small BLAS work too (noise, forward model, fit check).
        with thread_limit(self, None if self._per_sample() else resolve_threads()):
            maps, infos = self._invert_validated(S[None], noise_std=given)
            noise = given if given is not None else kernel.compress().noise_std(S)
            result = InversionResult(
                map=maps[0], kernel=kernel, data=S, info=infos[0], noise_std=noise
            )
            if check_fit:
                result.warnings = fit_warnings(S, result.fit, noise, result.map, kernel.kinds)
        for message in result.warnings:
            warnings.warn(f"{self._method_name()}: {message}", UserWarning, stacklevel=2)
        return result

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
        return resolve_n_jobs(n_jobs, getattr(self, "n_jobs", None))

    def _shared_state(self) -> dict:
        """The kernel's compression, computed here once and shipped to every worker."""
        return shared_state(self._check_kernel(), getattr(self, "rtol", 1e-8))

    def _validate_batch(self, X: Any) -> np.ndarray:
        kernel = self._check_kernel()
        if self._requires_fit and not hasattr(self, "n_features_in_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, Y) or "
                "use from_pretrained()"
            )
        return check_data_batch(X, kernel.data_shape, owner=type(self).__name__)

    def _invert_validated(
        self, batch: np.ndarray, noise_std: float | None = None
    ) -> tuple[np.ndarray, list[dict]]:
        """Scale each sample to max|S| = 1, invert, and scale the maps back.

        ``noise_std`` (data units, one value for the batch) reaches the per-sample hook in
        scaled units.
        """
        scales = sample_scales(batch)
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
            if noise_std is None or not self._per_sample():
                sub_maps, sub_infos = self._invert_batch_scaled(sub, scales[idx])
            else:
                sub_maps, sub_infos = self._invert_batch_normalised(
                    sub / scales[idx, None, None], noise_std / scales[idx]
                )
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

    def _per_sample(self) -> bool:
        """Whether this estimator inverts through the per-sample hook."""
        return type(self)._invert_batch_scaled is BaseInverter._invert_batch_scaled

    def _invert_batch_normalised(
        self, batch: np.ndarray, noise_stds: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[dict]]:
        maps, infos = [], []
        for i, S in enumerate(batch):
            t0 = time.perf_counter()
            if noise_stds is None:
                F, info = self._invert_normalised(S)
            else:
                F, info = self._invert_normalised(S, noise_std=float(noise_stds[i]))
            info = dict(info)
            info["time_s"] = time.perf_counter() - t0
            maps.append(F)
            infos.append(info)
        return np.stack(maps), infos

    def _invert_normalised(
        self, S: np.ndarray, noise_std: float | None = None
    ) -> tuple[np.ndarray, dict]:
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

"""The estimator contract shared by every inverter (DESIGN.md).

``BaseInverter`` owns input validation, reshaping, per-sample scale normalisation, batching,
the result object and scoring. A concrete inverter implements only ``_invert_normalised``
(one dataset scaled to max |S| = 1) or, for batched models, ``_invert_batch_normalised``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from laplace_inv._validation import check_data_batch, check_single_dataset
from laplace_inv.kernels import Kernel2D


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
        """``‖S − fit‖ / ‖S‖``."""
        norm = float(np.linalg.norm(self.data))
        return float(np.linalg.norm(self.residual)) / norm if norm > 0 else 0.0

    @property
    def residual_to_noise(self) -> float | None:
        """RMS residual divided by the noise standard deviation (≈ 1 for a good fit)."""
        if not self.noise_std:
            return None
        rms = float(np.sqrt(np.mean(self.residual**2)))
        return rms / self.noise_std

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
    Batched models may override ``_invert_batch_normalised`` instead.

    ``predict`` accepts ``(n_samples, n1*n2)`` or ``(n_samples, n1, n2)`` and returns
    ``(n_samples, N1*N2)`` (C order). ``transform`` equals ``predict``.
    """

    #: Whether ``fit`` must be called before ``predict`` (true for learned models).
    _requires_fit = False

    def _check_kernel(self) -> Kernel2D:
        kernel = getattr(self, "kernel", None)
        if not isinstance(kernel, Kernel2D):
            raise TypeError(
                f"kernel must be a laplace_inv.Kernel2D, got {type(kernel).__name__}"
            )
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

    def predict(self, X: Any) -> np.ndarray:
        """Invert a batch of decays.

        Parameters
        ----------
        X : array_like, shape (n_samples, n1*n2) or (n_samples, n1, n2)
            Real decay data.

        Returns
        -------
        numpy.ndarray, shape (n_samples, N1*N2)
            Flattened maps (C order).
        """
        maps, _ = self._invert_validated(self._validate_batch(X))
        return maps.reshape(maps.shape[0], -1)

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
        fits = kernel.forward(maps) + np.array([i.get("offset", 0.0) for i in infos])[
            :, None, None
        ]
        num = np.linalg.norm((fits - batch).reshape(len(batch), -1), axis=1)
        den = np.maximum(np.linalg.norm(batch.reshape(len(batch), -1), axis=1), 1e-300)
        return -float(np.mean(num / den))

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
        if noise_std is None:
            from laplace_inv.simulate import estimate_noise

            noise_std = estimate_noise(S, kernel)
        maps, infos = self._invert_validated(S[None])
        return InversionResult(
            map=maps[0], kernel=kernel, data=S, info=infos[0], noise_std=noise_std
        )

    # ----------------------------------------------------------------------------------
    # internals
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
        scales = np.abs(batch).reshape(len(batch), -1).max(axis=1)
        nonzero = scales > 0
        N1, N2 = self._check_kernel().map_shape
        maps = np.zeros((len(batch), N1, N2))
        infos: list[dict] = [
            {"method": self._method_name(), "note": "zero data"} for _ in range(len(batch))
        ]
        if np.any(nonzero):
            idx = np.flatnonzero(nonzero)
            normalised = batch[idx] / scales[idx, None, None]
            t0 = time.perf_counter()
            sub_maps, sub_infos = self._invert_batch_normalised(normalised)
            elapsed = (time.perf_counter() - t0) / len(idx)
            for j, i in enumerate(idx):
                info = dict(sub_infos[j])
                info.setdefault("method", self._method_name())
                info.setdefault("time_s", elapsed)
                if "offset" in info:
                    info["offset"] = float(info["offset"]) * scales[i]
                infos[i] = info
                maps[i] = sub_maps[j] * scales[i]
        if not np.all(np.isfinite(maps)):
            raise FloatingPointError(
                f"{type(self).__name__} produced a non-finite map; please report this input"
            )
        return maps, infos

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


def warn_not_converged(solver: str, n_iter: int, tol: float) -> None:
    """Emit the ``ConvergenceWarning`` every solver raises when it hits its iteration cap."""
    warnings.warn(
        f"{solver} stopped at its iteration cap ({n_iter}) before reaching tol={tol:g}; "
        "increase max_iter or loosen tol",
        ConvergenceWarning,
        stacklevel=3,
    )

"""Training sets for DLEMLR: per-sample network input plus per-layout physics operands.

A training set mixes many acquisition layouts (`laplace_inv.dlemlr.train` draws one per
chunk of pairs). What belongs to a layout — the padded compressed kernels ``K1``, ``K2`` of
the physics loss, the Gram images and the number of data points — is stored once per layout,
not once per sample, which cuts the memory of a pair from about 190 kB to about 80 kB. A
`FeatureSet` is a `torch.utils.data.Dataset` whose items join the two, so that
skorch batches it like any dataset. Large training sets store the per-sample images and maps
in float16 (``dtype=np.float16``: 40 kB a pair; items are float32 again), which is ample for
a loss on relative errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from laplace_inv.dlemlr.features import (
    DEFAULT_N_ITER,
    compute_inputs,
    padded_problem,
    project_data,
)
from laplace_inv.kernels import Kernel2D
from laplace_inv.scaling import sample_scales

#: Per-sample arrays (``S`` only with the noisy physics target, ``labels`` only for the
#: peak-region mass term).
SAMPLE_KEYS = ("nnt", "bp", "scalars", "S", "labels")

#: Per-layout arrays.
LAYOUT_KEYS = ("gram1", "gram2", "K1", "K2", "npts")


class FeatureSet(torch.utils.data.Dataset):
    """Featurised training pairs over one or more acquisition layouts.

    Parameters
    ----------
    samples : dict of numpy.ndarray
        Per-sample arrays (first axis: sample): ``nnt``, ``bp``, ``scalars`` and, for the
        noisy physics target, ``S`` (the padded compressed noisy data), and for the
        peak-region mass term ``labels`` (region index per bin; small integers, exact in
        float16).
    layouts : dict of numpy.ndarray
        Per-layout arrays (first axis: layout): ``gram1``, ``gram2`` ``(N1, N2)``, ``K1``
        ``(N1, N1)``, ``K2`` ``(N2, N2)``, ``npts`` (``n1·n2``).
    layout_index : numpy.ndarray of int, shape (n,)
        The layout of each sample.
    maps : numpy.ndarray, shape (n, N1*N2)
        True maps, normalised like the data (``max|S| = 1``).
    dtype : numpy dtype
        Storage type of the per-sample arrays and maps (float32, or float16 to halve the
        memory); items and batches are float32.

    Notes
    -----
    Items are ``(features, map)`` with ``features`` the dict of the sample's and its layout's
    arrays, as the network (`DLEMLRNet`) and the dual loss
    (`DLEMLRNeuralNet`) read them.
    """

    def __init__(
        self,
        samples: dict[str, np.ndarray],
        layouts: dict[str, np.ndarray],
        layout_index: np.ndarray,
        maps: np.ndarray,
        dtype: type | np.dtype = np.float32,
    ) -> None:
        n = len(maps)
        self.samples = {k: np.asarray(v, dtype=dtype) for k, v in samples.items()}
        self.layouts = {k: np.asarray(v, dtype=np.float32) for k, v in layouts.items()}
        self.layout_index = np.asarray(layout_index, dtype=np.int64)
        self.maps = np.asarray(maps, dtype=dtype).reshape(n, -1)
        if any(len(v) != n for v in self.samples.values()) or len(self.layout_index) != n:
            raise ValueError("every per-sample array of a FeatureSet needs one row per map")
        n_layouts = {len(v) for v in self.layouts.values()}
        if len(n_layouts) != 1 or (n and self.layout_index.max() >= n_layouts.pop()):
            raise ValueError("the layout arrays of a FeatureSet disagree with layout_index")

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, i: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        j = self.layout_index[i]
        feats = {k: v[i].astype(np.float32) for k, v in self.samples.items()}
        feats.update({k: v[j] for k, v in self.layouts.items()})
        return feats, self.maps[i].astype(np.float32)

    def batch(self, idx: Sequence[int] | slice | None = None) -> dict[str, torch.Tensor]:
        """The features of several samples as tensors (for evaluation outside skorch)."""
        rows = np.arange(len(self))[idx if idx is not None else slice(None)]
        j = self.layout_index[rows]
        out = {
            k: torch.from_numpy(np.ascontiguousarray(v[rows], dtype=np.float32))
            for k, v in self.samples.items()
        }
        out.update(
            {k: torch.from_numpy(np.ascontiguousarray(v[j])) for k, v in self.layouts.items()}
        )
        return out

    @classmethod
    def concat(cls, parts: Sequence[FeatureSet]) -> FeatureSet:
        """Join feature sets (their layouts are renumbered)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        offsets = np.cumsum([0] + [len(p.layouts["npts"]) for p in parts[:-1]])
        return cls(
            {k: np.concatenate([p.samples[k] for p in parts]) for k in parts[0].samples},
            {k: np.concatenate([p.layouts[k] for p in parts]) for k in parts[0].layouts},
            np.concatenate([p.layout_index + o for p, o in zip(parts, offsets, strict=True)]),
            np.concatenate([p.maps for p in parts]),
            dtype=parts[0].maps.dtype,
        )


def make_feature_set(
    kernel: Kernel2D,
    S: np.ndarray,
    maps: np.ndarray,
    *,
    physics_target: str = "clean",
    labels: np.ndarray | None = None,
    n_iter: int = DEFAULT_N_ITER,
    rtol: float = 1e-8,
    dtype: type | np.dtype = np.float32,
) -> FeatureSet:
    """Featurise normalised training pairs of one acquisition.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid is the network's grid.
    S : numpy.ndarray, shape (n, n1, n2)
        Decays, each normalised to ``max|S| = 1``.
    maps : numpy.ndarray, shape (n, N1*N2)
        True maps normalised with their decay.
    physics_target : {"clean", "noisy"}
        What the physics term compares against: the noise-free decay of the true map
        (computed from the map in the loss; the paper's choice) or the noisy data (stored).
    labels : numpy.ndarray, shape (n, N1*N2), optional
        Peak region of every bin, for the region-mass loss term
        (``make_training_set(..., return_labels=True)``).
    n_iter : int
        ADMM iterations of the ``nnt`` channels.
    rtol : float
        Relative singular-value threshold of the compression (`Kernel2D.compress`).
    dtype : numpy dtype
        Storage type of the per-sample arrays (`FeatureSet`).

    Returns
    -------
    FeatureSet

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel, make_training_set
    >>> k = cement_kernel()
    >>> X, Y, _ = make_training_set(k, 2, random_state=0)
    >>> S = X.reshape(2, *k.data_shape)
    >>> scale = np.abs(S).max(axis=(1, 2))
    >>> fs = make_feature_set(k, S / scale[:, None, None], Y / scale[:, None])
    >>> feats, F = fs[0]
    >>> feats["nnt"].shape, feats["K1"].shape, F.shape
    ((3, 64, 64), (64, 64), (4096,))
    """
    if physics_target not in ("clean", "noisy"):
        raise ValueError(f"physics_target must be 'clean' or 'noisy', got {physics_target!r}")
    S = np.asarray(S, dtype=float)
    if S.ndim == 2:
        S = S[None]
    inputs = compute_inputs(kernel, S, n_iter=n_iter, rtol=rtol)
    samples = {k: inputs[k] for k in ("nnt", "bp", "scalars")}
    if physics_target == "noisy":
        samples["S"] = project_data(kernel, S, rtol).astype(np.float32)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(S), maps.shape[-1]) or labels.min() < 0 or labels.max() > 255:
            raise ValueError(
                f"labels must be region indices 0-255 of shape "
                f"{(len(S), maps.shape[-1])}, got shape {labels.shape}"
            )
        samples["labels"] = labels
    K1p, K2p = padded_problem(kernel, rtol)
    layouts = {
        "gram1": inputs["gram1"],
        "gram2": inputs["gram2"],
        "K1": K1p.astype(np.float32)[None],
        "K2": K2p.astype(np.float32)[None],
        "npts": np.array([float(S.shape[1] * S.shape[2])], dtype=np.float32),
    }
    return FeatureSet(samples, layouts, np.zeros(len(S), dtype=np.int64), maps, dtype=dtype)


def make_training_features(
    kernel: Kernel2D,
    X: Any,
    Y: Any,
    physics_target: str = "clean",
    n_iter: int = DEFAULT_N_ITER,
) -> FeatureSet:
    """Normalise raw pairs per sample (``max|S| = 1``, maps by the same factor) and featurise.

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition.
    X : array_like, shape (n, n1*n2) or (n, n1, n2)
        Decays.
    Y : array_like, shape (n, N1*N2)
        True maps (finite), in the units of ``X``.
    physics_target : {"clean", "noisy"}
        See `make_feature_set`.
    n_iter : int
        ADMM iterations of the ``nnt`` channels.

    Returns
    -------
    FeatureSet
        The featurised pairs.
    """
    from laplace_inv._validation import check_data_batch

    S = check_data_batch(X, kernel.data_shape)
    scale = np.maximum(sample_scales(S), 1e-300)
    S = S / scale[:, None, None]
    Y = np.asarray(Y, dtype=float)
    if Y.ndim < 1 or len(Y) != len(S):
        raise ValueError(f"Y must have one map per decay ({len(S)}), got shape {Y.shape}")
    if not np.all(np.isfinite(Y)):
        bad = int(np.flatnonzero(~np.isfinite(Y.reshape(len(Y), -1)).all(axis=1))[0])
        raise ValueError(f"Y must be finite; map {bad} holds NaN or inf")
    Yn = Y.reshape(len(S), -1) / scale[:, None]
    if Yn.shape[1] != kernel.map_shape[0] * kernel.map_shape[1]:
        raise ValueError(
            f"Y must have {kernel.map_shape[0] * kernel.map_shape[1]} columns "
            f"(the kernel's N1*N2), got {Yn.shape[1]}"
        )
    return make_feature_set(kernel, S, Yn, physics_target=physics_target, n_iter=n_iter)

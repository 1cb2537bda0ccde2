"""scikit-learn estimator for DLEMLR: parameters, ``fit`` and ``predict``.

The skorch net and its training live in `laplace_inv.dlemlr.net`, weights files in
`laplace_inv.dlemlr.persistence`, inference on a device in `laplace_inv.dlemlr.inference`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from laplace_inv.base import BaseInverter
from laplace_inv.dlemlr.dataset import FeatureSet, make_training_features
from laplace_inv.dlemlr.features import DEFAULT_N_ITER
from laplace_inv.dlemlr.grid_transfer import native_kernel
from laplace_inv.dlemlr.inference import InferenceSettings, grid_plan, invert_batch, torch_threads
from laplace_inv.dlemlr.net import (
    DLEMLRNeuralNet,
    TimeLimit,
    WarmupCosine,
    loaded_net,
    module_on,
    train_net,
    usable_device,
)
from laplace_inv.dlemlr.params import (
    check_inference_params,
    check_training_params,
    check_training_set,
)
from laplace_inv.dlemlr.persistence import (
    ARCH_PARAMS,
    WEIGHTS_DIR,
    Weights,
    family_of,
    load_user_weights,
    pretrained_source,
    resolve_weights,
    save_weights,
    sha256_file,
)
from laplace_inv.dlemlr.record import FAMILIES, INPUT_VERSION, UNIVERSAL
from laplace_inv.kernels import Kernel2D

__all__ = [
    "FAMILIES",
    "INPUT_VERSION",
    "REFINE_STEPS",
    "UNIVERSAL",
    "WEIGHTS_DIR",
    "DLEMLRInverter",
    "DLEMLRNeuralNet",
    "TimeLimit",
    "WarmupCosine",
    "family_of",
    "sha256_file",
]

#: Default cap on the data-consistency iterations per map (``refine_steps``).
REFINE_STEPS = 200

#: Maps a batch holds before ``predict`` reads it in chunks (in units of ``batch_size``).
CHUNK_BATCHES = 4

#: Batches of at most this many maps run on one torch thread (fast on a loaded machine).
SMALL_BATCH = 4


class DLEMLRInverter(BaseInverter):
    """Physics-informed vision transformer for 2D Laplace inversion (DLEMLR, JACS 2024).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid sets the map size. For training, both sides must be
        divisible by ``patch`` (the shipped models use 64 × 64). Trained weights invert onto
        any grid: the network runs on its own grid over the kernel's range, its map moves
        to the kernel's grid keeping mass and positions
        (`laplace_inv.dlemlr.grid_transfer`), and the data-consistency step (``refine``)
        runs there.
    weights : str, Path or None
        Trained weights to invert with: ``"pretrained"`` (the shipped model of the kernel's
        experiment family), the path of a weights file (`save` or ``laplace-inv train``),
        or None (train with `fit`). With weights, `fit` loads them instead of training, so
        `sklearn.base.clone`, ``GridSearchCV`` and ``Pipeline`` work over the inference
        parameters without retraining; the architecture parameters must equal the file's.
    w_data : float
        Weight of the data-driven (map) term of the dual loss (paper: 0.4).
    w_phys : float
        Weight of the physics-driven term of the dual loss (paper: 1.0).
    w_mass : float
        Weight of an extra loss on the mass of each true peak's region
        (`laplace_inv.dlemlr.loss.region_mass_error`); 0 (off) by default. It needs
        training pairs with region labels.
    physics_target : {"clean", "noisy"}
        What the physics term compares against during ``fit``: the noise-free decay of the
        true map (paper) or the noisy training decay.
    dim : int
        Token dimension of the vision transformer.
    depth : int
        Number of transformer blocks.
    heads : int
        Attention heads.
    patch : int
        Patch side, in grid bins.
    mlp_ratio : int
        Width of the transformer MLP relative to ``dim``.
    n_iter_phys : int
        ADMM iterations of the non-negative Tikhonov input channels
        (`laplace_inv.dlemlr.features`); the shipped model was trained with 50.
    max_epochs : int
        Training epochs (at least 1).
    lr : float
        Learning rate (AdamW with cosine annealing).
    batch_size : int
        Training batch, and the sub-batch of inference on ``device`` (64 keeps a CPU's
        caches warm; a GPU wants thousands).
    weight_decay : float
        AdamW weight decay.
    valid_fraction : float
        Fraction of the pairs held out for validation (early stopping, checkpoint), in
        [0, 1); 0 trains on every pair without early stopping.
    warmup_steps : int
        Linear learning-rate warm-up over this many optimiser steps, then a per-step cosine
        decay to zero at ``max_epochs`` (0: per-epoch cosine annealing without warm-up).
    patience : int
        Early-stopping patience in epochs.
    time_limit : float or None
        Stop training after this many seconds (best checkpoint kept).
    device : str
        Torch device of training and inference (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    refine : bool
        Data consistency (default): after the network, each map is fitted to its data
        down to the noise level while staying as close to the network's map as the data
        allow: ``min_{F≥0} ½‖K̃F − S̃‖² + ½λ‖F − F_net‖²`` on a decreasing path of ``λ``,
        stopped per map by the discrepancy principle, or when the misfit stops falling
        (model error), or at ``refine_steps`` iterations
        (`laplace_inv.dlemlr.consistency.data_consistency`). False returns the raw network
        output, for speed-critical batch work: it may explain measured data only to several
        noise levels. Each map's ``info`` records the ``λ`` reached, the iterations, the
        stop reason and the residual/noise before and after.
    refine_steps : int
        Cap on the data-consistency iterations per map (ADMM iterations over the whole
        ``λ`` path); the real datasets of the benchmark stop after 30-90.
    smoothing : float
        Parsimony (decades; 0: off): the data-consistency step also runs from the network's
        map blurred by this much and keeps that result unless the data reject it
        (`laplace_inv.dlemlr.parsimony`); 0.1 merges most splits of broad components the
        data do not require, at twice the step's cost. At most 0.5.
    init_weights : str, Path or None
        A weights file to start training from instead of a random initialisation
        (fine-tuning). Its architecture must equal this estimator's; it may come from an
        earlier input version.
    n_jobs : int or None
        Joblib workers of ``predict`` (see `laplace_inv.base.BaseInverter.predict`); when
        set, every worker runs torch on one thread. With None, batches of at most four maps
        run on one thread (fast on a loaded machine) and larger ones on torch's default.
    random_state : int or None
        Seed for weights initialisation, batching and the validation split.
    verbose : int
        0 silent; 1 progress bar and epoch table.

    Examples
    --------
    >>> from sklearn.base import clone
    >>> from laplace_inv.simulate import cement_kernel
    >>> est = DLEMLRInverter(cement_kernel(), weights="pretrained")
    >>> X = np.ones((1, *cement_kernel().data_shape))
    >>> clone(est).set_params(refine=False).predict(X).shape
    (1, 4096)
    """

    _requires_fit = True
    _no_1d_reason = "1D DLEMLR is not available (no 1D model); use 'upen', 'tikhonov' or 'l1'"

    def __init__(
        self,
        kernel: Kernel2D | None = None,
        *,
        weights: str | Path | None = None,
        w_data: float = 0.4,
        w_phys: float = 1.0,
        w_mass: float = 0.0,
        physics_target: str = "clean",
        dim: int = 64,
        depth: int = 4,
        heads: int = 2,
        patch: int = 8,
        mlp_ratio: int = 4,
        n_iter_phys: int = DEFAULT_N_ITER,
        max_epochs: int = 20,
        lr: float = 1e-3,
        batch_size: int = 64,
        weight_decay: float = 1e-4,
        valid_fraction: float = 0.1,
        warmup_steps: int = 0,
        patience: int = 8,
        time_limit: float | None = None,
        device: str = "cpu",
        refine: bool = True,
        refine_steps: int = REFINE_STEPS,
        smoothing: float = 0.0,
        init_weights: str | Path | None = None,
        n_jobs: int | None = None,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.kernel = kernel
        self.weights = weights
        self.w_data = w_data
        self.w_phys = w_phys
        self.w_mass = w_mass
        self.physics_target = physics_target
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.patch = patch
        self.mlp_ratio = mlp_ratio
        self.n_iter_phys = n_iter_phys
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.valid_fraction = valid_fraction
        self.warmup_steps = warmup_steps
        self.patience = patience
        self.time_limit = time_limit
        self.device = device
        self.refine = refine
        self.refine_steps = refine_steps
        self.smoothing = smoothing
        self.init_weights = init_weights
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _arch(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in ARCH_PARAMS}

    def _load_weights(self) -> None:
        kernel = self._check_kernel()
        weights = resolve_weights(self.weights, kernel)
        # The network runs on its own grid over the kernel's range (any requested grid).
        self.net_ = loaded_net(self.get_params(), native_kernel(kernel, weights.grid), weights)
        self.weights_sha256_ = weights.sha256
        self.n_features_in_ = kernel.data_shape[0] * kernel.data_shape[1]

    def _validate_batch(self, X: Any) -> np.ndarray:
        if self.weights is not None and not hasattr(self, "net_"):
            self._load_weights()  # a clone of a pretrained estimator loads on first use
        return super()._validate_batch(X)

    def __sklearn_is_fitted__(self) -> bool:
        return self.weights is not None or hasattr(self, "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = self.weights is None  # with weights it is ready before fit
        return tags

    def make_features(self, X: Any, Y: Any) -> FeatureSet:
        """Normalise pairs per sample (``max|S| = 1``, maps by the same factor) and featurise.

        Parameters
        ----------
        X : array_like, shape (n, n1*n2) or (n, n1, n2)
            Decays for ``self.kernel``.
        Y : array_like, shape (n, N1*N2)
            True maps (finite).

        Returns
        -------
        FeatureSet
            The featurised pairs.
        """
        return make_training_features(
            self._check_kernel(), X, Y, self.physics_target, int(self.n_iter_phys)
        )

    def fit(self, X: Any, y: Any = None) -> DLEMLRInverter:
        """Train on (decay, map) pairs, or load ``weights`` when they are set.

        Parameters
        ----------
        X : array_like, shape (n, n1*n2) or (n, n1, n2), or FeatureSet
            Decays for ``self.kernel`` (normalised here per sample to ``max|S| = 1``), or a
            featurised training set carrying its own maps (already normalised; used by
            `laplace_inv.dlemlr.train` to mix acquisition layouts).
        y : array_like, shape (n, N1*N2)
            True maps (mass per bin), in the units of the un-normalised ``X``; ignored for a
            `laplace_inv.dlemlr.dataset.FeatureSet`, and unused with ``weights``.

        Returns
        -------
        DLEMLRInverter
            ``self``.
        """
        kernel = self._check_kernel()
        if self.weights is not None:
            check_inference_params(self)
            if not isinstance(X, FeatureSet):
                from laplace_inv._validation import check_data_batch

                check_data_batch(X, kernel.data_shape)
            self._load_weights()
            return self
        check_inference_params(self)
        check_training_params(self)
        if isinstance(X, FeatureSet):
            data = X
        elif y is None:
            raise ValueError("DLEMLRInverter.fit needs the true maps y")
        else:
            data = self.make_features(X, y)
        check_training_set(self, data)
        if self.random_state is not None:
            torch.manual_seed(int(self.random_state))
        init_state = None
        if self.init_weights is not None:
            init = load_user_weights(self.init_weights)
            self._check_init_config(init, kernel)
            init_state = init.state
        net = train_net(self.get_params(), kernel.map_shape, data, init_state)
        net.module_.eval()
        self.net_ = net
        self.n_features_in_ = kernel.data_shape[0] * kernel.data_shape[1]
        self.history_ = [
            {k: row[k] for k in ("epoch", "train_loss", "valid_loss", "dur") if k in row}
            for row in net.history
        ]
        return self

    def _check_init_config(self, init: Weights, kernel: Kernel2D) -> None:
        mine: dict[str, Any] = {**self._arch(), "n_iter_phys": int(self.n_iter_phys)}
        mine["grid"] = list(kernel.map_shape)
        theirs = {k: init.config.get(k) for k in mine}
        if theirs != mine:
            raise ValueError(
                f"init_weights {self.init_weights} has architecture {theirs}, "
                f"but this estimator has {mine}"
            )

    def predict(self, X: Any, **kwargs: Any) -> Any:
        """Invert a batch of decays (see `laplace_inv.base.BaseInverter.predict`).

        A batch larger than ``4·batch_size`` maps (a ``numpy.memmap`` included) is read and
        converted chunk by chunk, so only one chunk of float64 data exists at a time; the
        maps are the same as in one call.

        Parameters
        ----------
        X : array_like, shape (n, n1*n2) or (n, n1, n2)
            Real decay data.
        **kwargs
            ``n_jobs``, ``chunk_size``, ``output``, ``peak_kwargs``, ``progress``.

        Returns
        -------
        numpy.ndarray or structured array
            As `laplace_inv.base.BaseInverter.predict`.
        """
        chunk = CHUNK_BATCHES * max(int(self.batch_size), 1)
        serial = kwargs.get("n_jobs") is None and self.n_jobs is None
        if (
            serial
            and kwargs.get("chunk_size") is None
            and isinstance(X, np.ndarray)
            and X.ndim >= 2
            and len(X) > chunk
        ):
            kwargs["chunk_size"] = chunk
        return super().predict(X, **kwargs)

    def _invert_batch_scaled(
        self, batch: np.ndarray, scales: np.ndarray
    ) -> tuple[np.ndarray, list[dict]]:
        kernel = self._check_kernel()
        check_inference_params(self)
        device = torch.device(usable_device(self.device))
        module = module_on(self.net_.module_, device)
        settings = InferenceSettings.of(self, kernel, device)
        one_thread = device.type == "cpu" and (self.n_jobs is not None or len(batch) <= SMALL_BATCH)
        with torch_threads(1 if one_thread else None):
            plan = grid_plan(kernel, tuple(self.net_.module_.grid))
            return invert_batch(module, plan, batch, scales, settings)

    def _config(self) -> dict:
        cfg: dict[str, Any] = {**self._arch(), "n_iter_phys": int(self.n_iter_phys)}
        cfg["grid"] = list(self.net_.module_.grid)
        cfg["input_version"] = INPUT_VERSION
        cfg.update({name: float(getattr(self, name)) for name in ("w_data", "w_phys", "w_mass")})
        cfg["physics_target"] = self.physics_target
        return cfg

    def save(self, path: str | Path) -> Path:
        """Write the weights as safetensors (the config in its metadata).

        Parameters
        ----------
        path : str or Path
            Destination ``.safetensors`` file.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        if not hasattr(self, "net_"):
            raise ValueError("nothing to save: fit the estimator first")
        return save_weights(self.net_.module_, self._config(), path)

    @classmethod
    def load(cls, path: str | Path, kernel: Kernel2D, **params: Any) -> DLEMLRInverter:
        """Load weights written by `save` (or ``laplace-inv train``) for ``kernel``.

        The architecture comes from the file, and ``n_iter_phys`` and the loss weights
        unless given; the inference parameters (``refine``, ``device``, ...) are the
        caller's, never the file's.

        Parameters
        ----------
        path : str or Path
            A ``.safetensors`` file.
        kernel : Kernel2D
            The acquisition to invert (any output grid).
        **params
            Other constructor parameters (``refine``, ``device``, ...).

        Returns
        -------
        DLEMLRInverter
            A fitted estimator with ``weights=path``.
        """
        if not isinstance(kernel, Kernel2D):
            raise TypeError(f"kernel must be a Kernel2D, got {type(kernel).__name__}")
        weights = load_user_weights(path)
        return cls._from_weights(weights, kernel, path, params)

    @classmethod
    def _from_weights(
        cls, weights: Weights, kernel: Kernel2D, source: str | Path, params: dict[str, Any]
    ) -> DLEMLRInverter:
        stored = {k: v for k, v in weights.config.items() if k in ARCH_PARAMS}
        # What the weights were trained with; the caller's ``params`` win.
        for key in ("n_iter_phys", "w_data", "w_phys", "w_mass", "physics_target"):
            if key in weights.config:
                stored[key] = weights.config[key]
        est = cls(kernel=kernel, **{**stored, **params, "weights": source})
        est._load_weights()
        return est

    @classmethod
    def from_pretrained(
        cls,
        kernel: Kernel2D,
        family: str | None = None,
        weights_dir: str | Path | None = None,
        **params: Any,
    ) -> DLEMLRInverter:
        """A fitted estimator from the shipped weights of the kernel's experiment family.

        Equivalent to ``DLEMLRInverter(kernel, weights="pretrained", ...)`` followed by
        `fit`. Works for any acquisition layout of the family, since the network input lives
        on the output grid, and any output grid (the network runs on its trained 64 × 64
        grid over the kernel's range, and its map moves to the kernel's grid). The weights
        file is checked against the SHA-256 in its JSON record, and loaded once per process.

        Parameters
        ----------
        kernel : Kernel2D
            The acquisition.
        family : str, optional
            ``"T1_IR-T2"``, ``"T1_SR-T2"``, ``"T2-T2"`` or ``"D-T2"``; default from the
            kernel's kinds.
        weights_dir : path, optional
            Where ``<family>.safetensors`` and ``<family>.json`` live (default: the package's
            ``dlemlr/weights``). Without a family file, the universal model
            ``all.safetensors`` (trained on every family) is used.
        **params
            Other constructor parameters (e.g. ``refine=True``).

        Returns
        -------
        DLEMLRInverter
            A fitted estimator.

        Examples
        --------
        >>> from laplace_inv.simulate import cement_kernel
        >>> est = DLEMLRInverter.from_pretrained(cement_kernel(), refine=False)
        >>> est.weights, est.refine
        ('pretrained', False)
        """
        cls(kernel=kernel)._check_kernel()
        weights, source = pretrained_source(kernel, family, weights_dir)
        return cls._from_weights(weights, kernel, source, params)

"""scikit-learn estimator for DLEMLR, trained through skorch.

``DLEMLRNeuralNet`` is a :class:`skorch.NeuralNet` whose ``get_loss`` is the dual loss of
:mod:`laplace_inv.dlemlr.loss` (map error + physics misfit). ``DLEMLRInverter`` wraps it in
the package's :class:`~laplace_inv.base.BaseInverter` contract: ``fit(X, Y)`` trains on
(decay, map) pairs, ``predict`` inverts decays in sub-batches of ``batch_size``,
``from_pretrained`` loads the shipped weights (one universal model for every experiment
family, or a family's own file when present) for *any* acquisition layout with a 64 × 64
output grid (the network input lives on the output grid, :mod:`laplace_inv.dlemlr.features`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import skorch
import torch
from safetensors.torch import load_file, save_file
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientNormClipping,
    LRScheduler,
    ProgressBar,
)
from skorch.dataset import ValidSplit

from laplace_inv.base import BaseInverter
from laplace_inv.dlemlr.admm import admm_refinement
from laplace_inv.dlemlr.dataset import FeatureSet, make_feature_set
from laplace_inv.dlemlr.features import (
    DEFAULT_N_ITER,
    compute_inputs,
    fista_nnls,
    padded_problem,
    project_data,
    spectral_operator,
)
from laplace_inv.dlemlr.loss import dual_loss, region_mass_error
from laplace_inv.dlemlr.network import DLEMLRNet
from laplace_inv.kernels import Kernel2D

#: Default ADMM penalty of the test-time refinement, relative to σ̂² (``refine_penalty``).
REFINE_PENALTY = 1e8

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Experiment families and their kernel kinds (axis 1, axis 2).
FAMILIES: dict[str, tuple[str, str]] = {
    "T1_IR-T2": ("T1_IR", "T2"),
    "T1_SR-T2": ("T1_SR", "T2"),
    "T2-T2": ("T2", "T2"),
    "D-T2": ("D", "T2"),
}

#: Stem of the weights file of the universal model (trained on every family).
UNIVERSAL = "all"

#: Constructor parameters that define the network (stored with saved weights).
_ARCH_PARAMS = ("dim", "depth", "heads", "patch", "mlp_ratio", "n_iter_phys")

#: Version of the network input (:mod:`laplace_inv.dlemlr.features`) stored with saved
#: weights; weights trained on another input are refused (fine-tuning may start from them).
#: 3: ADMM penalty ``ρ/α = 3000``; 2: non-negative Tikhonov channels by ADMM at
#: noise-adapted weights, ``ρ/α = 300``; 1, unversioned: FISTA + closed-form Tikhonov.
INPUT_VERSION = 3


def family_of(kernel: Kernel2D) -> str:
    """The experiment family name of a kernel, e.g. ``"T1_IR-T2"``."""
    return f"{kernel.kinds[0]}-{kernel.kinds[1]}"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class DLEMLRNeuralNet(skorch.NeuralNet):
    """A :class:`skorch.NeuralNet` trained with the DLEMLR dual loss.

    ``X`` is a :class:`~laplace_inv.dlemlr.dataset.FeatureSet`, whose batches are feature
    dictionaries: the module reads the image channels and scalars, ``get_loss`` reads the
    physics operands ``K1``, ``K2``, ``npts`` and, for the noisy physics target, ``S``
    (otherwise the target is the noise-free decay of the true map, ``K̃1 F K̃2ᵀ``).

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    w_data, w_phys : float
        Weights of the data-driven and physics-driven terms (paper: 0.4 and 1.0).
    w_mass : float
        Weight of the peak-region mass term (:func:`..loss.region_mass_error`); it needs
        the training set's ``labels`` and is 0 (off) by default.
    """

    def __init__(
        self,
        *args: Any,
        w_data: float = 0.4,
        w_phys: float = 1.0,
        w_mass: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.w_data = w_data
        self.w_phys = w_phys
        self.w_mass = w_mass

    def get_loss(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        """Dual loss ``w_data·map MSE + w_phys·physics MSE`` (see :mod:`..loss`)."""
        if not isinstance(X, dict):
            raise TypeError("DLEMLRNeuralNet needs the feature dictionary as X")
        dev = y_pred.device
        y_true = skorch.utils.to_tensor(y_true, device=dev)
        K1 = skorch.utils.to_tensor(X["K1"], device=dev)
        K2 = skorch.utils.to_tensor(X["K2"], device=dev)
        if "S" in X:
            S = skorch.utils.to_tensor(X["S"], device=dev)
        else:
            S = K1 @ y_true.reshape(y_pred.shape) @ K2.transpose(-1, -2)
        npts = skorch.utils.to_tensor(X["npts"], device=dev)
        loss = dual_loss(y_pred, y_true, K1, K2, S, npts, self.w_data, self.w_phys)
        if self.w_mass:
            if "labels" not in X:
                raise ValueError("w_mass > 0 needs a training set with peak-region labels")
            labels = skorch.utils.to_tensor(X["labels"], device=dev)
            loss = loss + self.w_mass * region_mass_error(y_pred, y_true, labels).mean()
        return loss


class TimeLimit(Callback):
    """Stop training (gracefully, keeping the best checkpoint) after ``seconds`` of wall time."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.start_ = time.perf_counter()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if self.seconds is not None and time.perf_counter() - self.start_ > self.seconds:
            raise KeyboardInterrupt


class WarmupCosine:
    """Learning-rate factor: linear warm-up for ``warmup`` steps, then cosine decay to 0.

    The decay ends after ``total`` steps or, when ``seconds`` is given, after that much wall
    time since the first step, whichever comes first — so a time-limited run still anneals
    fully however fast the machine is.

    Examples
    --------
    >>> f = WarmupCosine(10, 110)
    >>> f(0), f(9), round(f(60), 3), f(200)
    (0.1, 1.0, 0.5, 0.0)
    """

    def __init__(self, warmup: int, total: int, seconds: float | None = None) -> None:
        self.warmup = max(int(warmup), 1)
        self.total = max(int(total), self.warmup + 1)
        self.seconds = seconds
        self.start_: float | None = None

    def __call__(self, step: int) -> float:
        if self.start_ is None:
            self.start_ = time.perf_counter()
        if step < self.warmup:
            return (step + 1) / self.warmup
        t = (step - self.warmup) / (self.total - self.warmup)
        if self.seconds:
            t = max(t, (time.perf_counter() - self.start_) / float(self.seconds))
        return float(0.5 * (1.0 + np.cos(np.pi * min(t, 1.0))))


class DLEMLRInverter(BaseInverter):
    """Physics-informed vision transformer for 2D Laplace inversion (DLEMLR, JACS 2024).

    Parameters
    ----------
    kernel : Kernel2D
        The acquisition; its output grid sets the map size (both sides divisible by
        ``patch``; the shipped models use 64 × 64).
    w_data, w_phys : float
        Dual-loss weights (paper: 0.4, 1.0).
    w_mass : float
        Weight of an extra loss on the mass of each true peak's region
        (:func:`~laplace_inv.dlemlr.loss.region_mass_error`); 0 (off) by default. It needs
        training pairs with region labels (``simulate_features(..., labels=True)`` in
        :mod:`laplace_inv.dlemlr.train`).
    physics_target : {"clean", "noisy"}
        What the physics term compares against during ``fit``: the noise-free decay of the
        true map (paper) or the noisy training decay.
    dim, depth, heads, patch, mlp_ratio : int
        ViT size (token dimension, blocks, attention heads, patch side, MLP width ratio).
    n_iter_phys : int
        ADMM iterations of the non-negative Tikhonov input channels
        (:mod:`laplace_inv.dlemlr.features`).
    max_epochs, lr : int, float
        Training schedule (AdamW with cosine annealing).
    batch_size : int
        Training batch, and the sub-batch of inference (64-map batches keep a CPU's caches
        warm: about twice the maps per second of 1024-map ones).
    weight_decay : float
        AdamW weight decay.
    valid_fraction : float
        Fraction of the pairs held out for validation (early stopping, checkpoint).
    warmup_steps : int
        Linear learning-rate warm-up over this many optimiser steps, then a per-step cosine
        decay to zero at ``max_epochs`` (0: per-epoch cosine annealing without warm-up; the
        shipped weights used 300).
    patience : int
        Early-stopping patience in epochs.
    time_limit : float or None
        Stop training after this many seconds (best checkpoint kept).
    device : str
        Torch device.
    refine : bool
        Test-time physics refinement: ``refine_steps`` iterations on the physics loss alone
        (``½‖K̃1 F K̃2ᵀ − S̃‖²``, ``F ≥ 0``), starting from the network's map. By default
        early-stopped ADMM (:func:`~laplace_inv.dlemlr.admm.admm_refinement`): each
        iteration solves ``(KᵀK + ρI)F = KᵀS̃ + ρ(Z − U)`` exactly, so the components the
        data determine (squared singular value well above ``ρ``) follow the data within a few
        iterations and the others stay where the network put them; well-determined peaks
        stay put. With ``refine_penalty = 0``, plain projected-gradient steps (step ``1/L``)
        instead, which converge far more slowly on the same directions.
    refine_steps : int
        Iterations of the refinement. The default 50 keeps ``refine=True`` within the speed
        targets (20 ms a map, 200 maps/s on 2 cores; ``benchmarks/bench_dlemlr.py --refine
        --refine-steps N``).
    refine_penalty : float
        ADMM penalty of the refinement relative to the estimated noise variance of the
        normalised data: ``ρ = refine_penalty·σ̂²``. Noisier data take smaller steps. The
        default 1e8 was chosen on validation maps (seeds disjoint from the benchmark's):
        smaller values move the simulated maps' peaks less accurately per iteration budget,
        larger ones fit real data more closely (1e9: Maastricht residual/noise 1.52 instead
        of 2.45 with the weights of that table) at a slightly larger peak-position error on
        simulated maps (``benchmarks/results/dlemlr_refine.md``). 0 selects projected
        gradient.
    init_weights : str, Path or None
        A weights file (:meth:`save`) to start training from instead of a random
        initialisation: fine-tuning, e.g. on data from another prior. Its architecture
        (``dim``, ``depth``, ``heads``, ``patch``, ``mlp_ratio``, ``n_iter_phys``, grid) must
        equal this estimator's; it may come from an earlier input version, which is how a
        model is carried over to a changed input.
    random_state : int or None
        Seed for weights initialisation, batching and the validation split.
    verbose : int
        0 silent; 1 progress bar and epoch table.

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> est = DLEMLRInverter.from_pretrained(kernel=cement_kernel())  # doctest: +SKIP
    """

    _requires_fit = True

    def __init__(
        self,
        kernel: Kernel2D | None = None,
        *,
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
        refine: bool = False,
        refine_steps: int = 50,
        refine_penalty: float = REFINE_PENALTY,
        init_weights: str | Path | None = None,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.kernel = kernel
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
        self.refine_penalty = refine_penalty
        self.init_weights = init_weights
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------
    # construction
    def _build_net(
        self, grid: tuple[int, int], train_dir: str | None = None, n_train: int | None = None
    ) -> DLEMLRNeuralNet:
        if int(self.warmup_steps) > 0 and n_train:
            steps = int(self.max_epochs) * int(np.ceil(n_train / int(self.batch_size)))
            schedule = LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                step_every="batch",
                lr_lambda=WarmupCosine(int(self.warmup_steps), steps, self.time_limit),
            )
        else:
            schedule = LRScheduler(policy="CosineAnnealingLR", T_max=max(int(self.max_epochs), 1))
        callbacks: list[tuple[str, Callback]] = [
            ("lr", schedule),
            ("clip", GradientNormClipping(gradient_clip_value=1.0)),
            ("early", EarlyStopping(monitor="valid_loss", patience=int(self.patience))),
            ("time", TimeLimit(self.time_limit)),
        ]
        if train_dir is not None:
            callbacks.append(
                (
                    "checkpoint",
                    Checkpoint(
                        monitor="valid_loss_best",
                        dirname=train_dir,
                        f_params="best.pt",
                        f_optimizer=None,
                        f_criterion=None,
                        f_history=None,
                        load_best=True,
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        valid = (
            ValidSplit(self.valid_fraction, random_state=self.random_state)
            if self.valid_fraction
            else None
        )
        return DLEMLRNeuralNet(
            DLEMLRNet,
            module__grid=tuple(grid),
            module__patch=int(self.patch),
            module__dim=int(self.dim),
            module__depth=int(self.depth),
            module__heads=int(self.heads),
            module__mlp_ratio=int(self.mlp_ratio),
            criterion=torch.nn.MSELoss,  # unused: get_loss implements the dual loss
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=float(self.weight_decay),
            lr=float(self.lr),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            iterator_train__shuffle=True,
            train_split=valid,
            callbacks=callbacks,
            device=_usable_device(self.device),
            verbose=int(self.verbose),
            w_data=float(self.w_data),
            w_phys=float(self.w_phys),
            w_mass=float(self.w_mass),
        )

    def _seed(self) -> None:
        if self.random_state is not None:
            torch.manual_seed(int(self.random_state))

    # ------------------------------------------------------------------------------
    # training
    def make_features(self, X: Any, Y: Any) -> FeatureSet:
        """Normalise pairs per sample (``max|S| = 1``, maps by the same factor) and featurise.

        Parameters
        ----------
        X : array_like, shape (n, n1*n2) or (n, n1, n2)
            Decays for ``self.kernel``.
        Y : array_like, shape (n, N1*N2)
            True maps.

        Returns
        -------
        FeatureSet
        """
        kernel = self._check_kernel()
        S = self._validate_batch_unfitted(X)
        scale = np.maximum(np.abs(S).reshape(len(S), -1).max(axis=1), 1e-300)
        S = S / scale[:, None, None]
        Y = np.asarray(Y, dtype=float)
        if Y.ndim < 1 or len(Y) != len(S):
            raise ValueError(f"Y must have one map per decay ({len(S)}), got shape {Y.shape}")
        Yn = Y.reshape(len(S), -1) / scale[:, None]
        if Yn.shape[1] != kernel.map_shape[0] * kernel.map_shape[1]:
            raise ValueError(
                f"Y must have {kernel.map_shape[0] * kernel.map_shape[1]} columns "
                f"(the kernel's N1*N2), got {Yn.shape[1]}"
            )
        return make_feature_set(
            kernel, S, Yn, physics_target=self.physics_target, n_iter=int(self.n_iter_phys)
        )

    def _validate_batch_unfitted(self, X: Any) -> np.ndarray:
        from laplace_inv._validation import check_data_batch

        return check_data_batch(X, self._check_kernel().data_shape)

    def fit(self, X: Any, y: Any = None) -> DLEMLRInverter:
        """Train on (decay, map) pairs.

        Parameters
        ----------
        X : array_like, shape (n, n1*n2) or (n, n1, n2), or FeatureSet
            Decays for ``self.kernel`` (normalised here per sample to ``max|S| = 1``), or a
            featurised training set carrying its own maps (already normalised; used by
            :mod:`laplace_inv.dlemlr.train` to mix acquisition layouts).
        y : array_like, shape (n, N1*N2)
            True maps (mass per bin), in the units of the un-normalised ``X``; ignored for a
            :class:`~laplace_inv.dlemlr.dataset.FeatureSet`.

        Returns
        -------
        self
        """
        kernel = self._check_kernel()
        if isinstance(X, FeatureSet):
            data = X
        elif y is None:
            raise ValueError("DLEMLRInverter.fit needs the true maps y")
        else:
            data = self.make_features(X, y)
        self._seed()
        train_dir = tempfile.mkdtemp(prefix="dlemlr_")
        try:
            n_fit = int(len(data) * (1.0 - float(self.valid_fraction or 0.0)))
            net = self._build_net(
                kernel.map_shape, train_dir if self.valid_fraction else None, n_train=n_fit
            )
            if self.init_weights is None:
                net.fit(data, None)
            else:
                net.initialize()
                self._check_init_config(_read_config(self.init_weights), kernel)
                _load_state(net, self.init_weights)
                net.partial_fit(data, None)  # unlike fit, keeps the loaded weights
        finally:
            shutil.rmtree(train_dir, ignore_errors=True)
        self.net_ = net
        self.n_features_in_ = kernel.data_shape[0] * kernel.data_shape[1]
        self.history_ = [
            {k: row[k] for k in ("epoch", "train_loss", "valid_loss", "dur") if k in row}
            for row in net.history
        ]
        return self

    def _check_init_config(self, cfg: dict, kernel: Kernel2D) -> None:
        mine = {name: int(getattr(self, name)) for name in _ARCH_PARAMS}
        mine["grid"] = list(kernel.map_shape)
        theirs = {k: cfg.get(k) for k in mine}
        if theirs != mine:
            raise ValueError(
                f"init_weights {self.init_weights} has architecture {theirs}, "
                f"but this estimator has {mine}"
            )

    # ------------------------------------------------------------------------------
    # inference
    def _invert_batch_scaled(
        self, batch: np.ndarray, scales: np.ndarray
    ) -> tuple[np.ndarray, list[dict]]:
        kernel = self._check_kernel()
        if tuple(self.net_.module_.grid) != tuple(kernel.map_shape):
            raise ValueError(
                f"the network was built for a {self.net_.module_.grid} grid but the kernel's "
                f"grid is {kernel.map_shape}"
            )
        penalty = float(self.refine_penalty)
        if self.refine and not (np.isfinite(penalty) and penalty >= 0):
            raise ValueError(
                f"refine_penalty must be a finite number >= 0 (0: projected "
                f"gradient), got {self.refine_penalty!r}"
            )
        module = self.net_.module_
        module.eval()
        dev = self.net_.device
        # Sub-batches of ``batch_size``: small batches keep the activations in cache (a
        # 64-map batch runs about twice as fast per map as a 1024-map one on a CPU).
        step = max(int(self.batch_size), 1)
        parts, sigmas = [], []
        with torch.no_grad():
            for start in range(0, len(batch), step):
                inputs = compute_inputs(
                    kernel,
                    batch[start : start + step],
                    scales=scales[start : start + step],
                    n_iter=int(self.n_iter_phys),
                )
                sigmas.append(inputs.pop("sigma"))
                tensors = {k: torch.from_numpy(v).to(dev) for k, v in inputs.items()}
                parts.append(module(**tensors).cpu())
        maps = torch.cat(parts).double()
        noise = np.concatenate(sigmas) * scales
        infos: list[dict] = [{"method": "DLEMLR", "noise_estimate": float(s)} for s in noise]
        if self.refine and int(self.refine_steps) > 0:
            K1p, K2p = padded_problem(kernel)
            k1, k2 = torch.from_numpy(K1p), torch.from_numpy(K2p)
            Sp = torch.from_numpy(project_data(kernel, batch, scales=scales))
            before = _residual_norms(maps, k1, k2, Sp)
            if penalty > 0:
                rho = penalty * torch.from_numpy(np.concatenate(sigmas)) ** 2
                maps = admm_refinement(
                    spectral_operator(kernel), Sp, maps, rho, int(self.refine_steps)
                ).double()
            else:
                maps = fista_nnls(k1, k2, Sp, int(self.refine_steps), F0=maps, momentum=False)
            after = _residual_norms(maps, k1, k2, Sp)
            snorm = np.maximum(Sp.flatten(1).norm(dim=1).numpy(), 1e-300)
            for i, info in enumerate(infos):
                info.update(
                    refined=True,
                    refine_steps=int(self.refine_steps),
                    refine_penalty=penalty,
                    residual_before=float(before[i]),
                    residual_after=float(after[i]),
                    relative_residual_before=float(before[i] / snorm[i]),
                    relative_residual_after=float(after[i] / snorm[i]),
                )
        return maps.numpy(), infos

    # ------------------------------------------------------------------------------
    # persistence
    def _config(self) -> dict:
        cfg = {name: getattr(self, name) for name in _ARCH_PARAMS}
        cfg["grid"] = list(self.net_.module_.grid)
        cfg["input_version"] = INPUT_VERSION
        cfg["w_data"] = self.w_data
        cfg["w_phys"] = self.w_phys
        cfg["w_mass"] = self.w_mass
        cfg["physics_target"] = self.physics_target
        return cfg

    def save(self, path: str | Path) -> Path:
        """Write the weights as safetensors (the config in its metadata).

        Returns
        -------
        pathlib.Path
        """
        if not hasattr(self, "net_"):
            raise ValueError("nothing to save: fit the estimator first")
        path = Path(path)
        state = {
            k: v.detach().cpu().contiguous() for k, v in self.net_.module_.state_dict().items()
        }
        save_file(state, str(path), metadata={"config": json.dumps(self._config())})
        return path

    @classmethod
    def load(cls, path: str | Path, kernel: Kernel2D, **params: Any) -> DLEMLRInverter:
        """Load weights written by :meth:`save` (or shipped) for ``kernel``.

        Parameters
        ----------
        path : str or Path
            A ``.safetensors`` file.
        kernel : Kernel2D
            The acquisition to invert; its grid must match the saved grid.
        **params
            Other constructor parameters (``refine``, ``device``, ...).
        """
        cfg = _read_config(path)
        version = cfg.pop("input_version", 1)
        if version != INPUT_VERSION:
            raise ValueError(
                f"{path} was trained on DLEMLR input version {version}, but this package "
                f"computes version {INPUT_VERSION}; retrain it with `laplace-inv train`"
            )
        grid = tuple(cfg.pop("grid"))
        if not isinstance(kernel, Kernel2D):
            raise TypeError(f"kernel must be a Kernel2D, got {type(kernel).__name__}")
        if tuple(kernel.map_shape) != grid:
            raise ValueError(
                f"these weights were trained for a {grid[0]}x{grid[1]} output grid, but the "
                f"kernel's grid is {kernel.map_shape[0]}x{kernel.map_shape[1]}; build the "
                f"kernel with n_grid={grid[0]} (any acquisition layout works) or train a "
                "model for this grid size"
            )
        est = cls(kernel=kernel, **{**cfg, **params})
        net = est._build_net(grid)
        net.initialize()
        _load_state(net, path)
        net.module_.eval()
        est.net_ = net
        est.n_features_in_ = kernel.data_shape[0] * kernel.data_shape[1]
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

        Works for any acquisition layout (number and spacing of points) of the family, since
        the network input lives on the output grid; the kernel's grid must have the trained
        size (64 × 64, the package default). The weights file is checked against the SHA-256
        in its JSON record.

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
        """
        if not isinstance(kernel, Kernel2D):
            raise TypeError(f"kernel must be a Kernel2D, got {type(kernel).__name__}")
        family = family or family_of(kernel)
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
        if FAMILIES[family] != kernel.kinds:
            raise ValueError(
                f"family {family!r} expects kernel kinds {FAMILIES[family]}, got {kernel.kinds}"
            )
        wdir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        wfile, jfile = wdir / f"{family}.safetensors", wdir / f"{family}.json"
        if not wfile.exists() and (wdir / f"{UNIVERSAL}.safetensors").exists():
            # The universal model, trained on every family, serves families without their own.
            wfile, jfile = wdir / f"{UNIVERSAL}.safetensors", wdir / f"{UNIVERSAL}.json"
        if not wfile.exists() or not jfile.exists():
            shipped = sorted(p.stem for p in wdir.glob("*.safetensors"))
            raise FileNotFoundError(
                f"no pretrained DLEMLR model for family {family!r} in {wdir} (shipped: "
                f"{shipped}); train one with `laplace-inv train --family {family}`"
            )
        record = json.loads(jfile.read_text())
        digest = sha256_file(wfile)
        if record.get("sha256") != digest:
            raise OSError(
                f"{wfile} does not match the SHA-256 in {jfile.name} "
                f"({digest[:12]}… != {str(record.get('sha256'))[:12]}…); the file is corrupt"
            )
        if family not in record.get("families", [family]):
            raise ValueError(
                f"{wfile.name} was not trained on the {family} family "
                f"(trained on {record.get('families')})"
            )
        status = str(record.get("status", ""))
        if status.upper().startswith("UNDER-TRAINED"):
            warnings.warn(f"pretrained DLEMLR {family}: {status}", UserWarning, stacklevel=2)
        return cls.load(wfile, kernel, **params)


def _read_config(path: str | Path) -> dict:
    """The DLEMLR config stored in a weights file's metadata."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except FileNotFoundError:
        raise
    except Exception as exc:  # safetensors raises its own error type for damaged files
        raise ValueError(
            f"{path} is not a readable safetensors weights file (truncated or corrupt?): {exc}"
        ) from None
    if "config" not in meta:
        raise ValueError(f"{path} has no DLEMLR config in its metadata")
    return json.loads(meta["config"])


def _load_state(net: DLEMLRNeuralNet, path: str | Path) -> None:
    """Load a weights file into an initialised net's module."""
    try:
        net.module_.load_state_dict(load_file(str(path)))
    except (RuntimeError, KeyError) as exc:
        raise ValueError(
            f"{path}: the weights do not fit the network described by their config: {exc}"
        ) from None
    except Exception as exc:
        raise ValueError(f"{path}: cannot read the weights (corrupt?): {exc}") from None


def _residual_norms(
    maps: torch.Tensor, K1: torch.Tensor, K2: torch.Tensor, Sp: torch.Tensor
) -> np.ndarray:
    res = K1 @ maps @ K2.T - Sp
    return res.flatten(1).norm(dim=1).numpy()


def _usable_device(device: str) -> str:
    """``device``, or ``"cpu"`` with a warning when CUDA is asked for but absent."""
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"device={device!r} requested but CUDA is not available; using the CPU",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    return str(device)

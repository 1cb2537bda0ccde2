"""The skorch side of DLEMLR: the net trained with the dual loss, its callbacks, and its build.

`DLEMLRNeuralNet` is a `skorch.NeuralNet` whose ``get_loss`` is the dual loss of
`laplace_inv.dlemlr.loss` (map error + physics misfit); `build_net` assembles it with the
learning-rate schedule, gradient clipping, early stopping, a wall-time limit and the
best-checkpoint callback from an estimator's parameters.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import skorch
import torch
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientNormClipping,
    LRScheduler,
    ProgressBar,
)
from skorch.dataset import ValidSplit

from laplace_inv.dlemlr.loss import dual_loss, region_mass_error
from laplace_inv.dlemlr.network import DLEMLRNet
from laplace_inv.dlemlr.persistence import (
    ARCH_PARAMS,
    Weights,
    check_grid,
    check_input_version,
)
from laplace_inv.kernels import Kernel2D


class DLEMLRNeuralNet(skorch.NeuralNet):
    """A `skorch.NeuralNet` trained with the DLEMLR dual loss.

    ``X`` is a `FeatureSet`, whose batches are feature
    dictionaries: the module reads the image channels and scalars, ``get_loss`` reads the
    physics operands ``K1``, ``K2``, ``npts`` and, for the noisy physics target, ``S``
    (otherwise the target is the noise-free decay of the true map, ``K̃1 F K̃2ᵀ``).

    Parameters
    ----------
    *args : object
        Passed to `skorch.NeuralNet`.
    w_data : float
        Weight of the data-driven term (paper: 0.4).
    w_phys : float
        Weight of the physics-driven term (paper: 1.0).
    w_mass : float
        Weight of the peak-region mass term (`loss.region_mass_error`); it needs
        the training set's ``labels`` and is 0 (off) by default.
    **kwargs : object
        Passed to `skorch.NeuralNet`.
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
        """Dual loss ``w_data·map MSE + w_phys·physics MSE`` (see `loss`)."""
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
        assert isinstance(loss, torch.Tensor)  # return_terms=False: one tensor
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


def _schedule(params: Mapping[str, Any], n_train: int | None) -> LRScheduler:
    if int(params["warmup_steps"]) > 0 and n_train:
        steps = int(params["max_epochs"]) * int(np.ceil(n_train / int(params["batch_size"])))
        return LRScheduler(
            policy=torch.optim.lr_scheduler.LambdaLR,
            step_every="batch",
            lr_lambda=WarmupCosine(int(params["warmup_steps"]), steps, params["time_limit"]),
        )
    return LRScheduler(policy="CosineAnnealingLR", T_max=max(int(params["max_epochs"]), 1))


def build_net(
    params: Mapping[str, Any],
    grid: tuple[int, int],
    train_dir: str | None = None,
    n_train: int | None = None,
) -> DLEMLRNeuralNet:
    """A `DLEMLRNeuralNet` (not initialised) from DLEMLR estimator parameters.

    Parameters
    ----------
    params : mapping
        The estimator's parameters (``DLEMLRInverter.get_params()``).
    grid : tuple of int
        Output grid ``(N1, N2)``.
    train_dir : str, optional
        Folder of the best-validation checkpoint (none without validation).
    n_train : int, optional
        Number of training pairs (sets the length of a warm-up schedule).

    Returns
    -------
    DLEMLRNeuralNet
        The net.
    """
    valid_fraction = float(params["valid_fraction"] or 0.0)
    callbacks: list[tuple[str, Callback]] = [
        ("lr", _schedule(params, n_train)),
        ("clip", GradientNormClipping(gradient_clip_value=1.0)),
    ]
    if valid_fraction:  # early stopping watches the validation loss
        callbacks.append(
            ("early", EarlyStopping(monitor="valid_loss", patience=int(params["patience"])))
        )
    callbacks.append(("time", TimeLimit(params["time_limit"])))
    if train_dir is not None and valid_fraction:
        checkpoint = Checkpoint(
            monitor="valid_loss_best",
            dirname=train_dir,
            f_params="best.pt",
            f_optimizer=None,
            f_criterion=None,
            f_history=None,
            load_best=True,
        )
        callbacks.append(("checkpoint", checkpoint))
    if params["verbose"]:
        callbacks.append(("progress", ProgressBar()))
    valid = (
        ValidSplit(valid_fraction, random_state=params["random_state"]) if valid_fraction else None
    )
    return DLEMLRNeuralNet(
        DLEMLRNet,
        module__grid=tuple(grid),
        module__patch=int(params["patch"]),
        module__dim=int(params["dim"]),
        module__depth=int(params["depth"]),
        module__heads=int(params["heads"]),
        module__mlp_ratio=int(params["mlp_ratio"]),
        criterion=torch.nn.MSELoss,  # unused: get_loss implements the dual loss
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=float(params["weight_decay"]),
        lr=float(params["lr"]),
        max_epochs=int(params["max_epochs"]),
        batch_size=int(params["batch_size"]),
        iterator_train__shuffle=True,
        train_split=valid,
        callbacks=callbacks,
        device=usable_device(params["device"]),
        verbose=int(params["verbose"]),
        w_data=float(params["w_data"]),
        w_phys=float(params["w_phys"]),
        w_mass=float(params["w_mass"]),
    )


def usable_device(device: str | torch.device) -> str:
    """``device``, or ``"cpu"`` with a warning when CUDA is asked for but absent.

    Parameters
    ----------
    device : str or torch.device
        A torch device.

    Returns
    -------
    str
        The device to use.

    Examples
    --------
    >>> usable_device("cpu")
    'cpu'
    """
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"device={device!r} requested but CUDA is not available; using the CPU",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be a torch device such as 'cpu' or 'cuda:0', got {device!r}"
        ) from None
    return str(device)


def module_on(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``module`` in eval mode on ``device``, moved only when it is elsewhere.

    `torch.nn.Module.to` visits every parameter even when nothing moves, which costs about
    a millisecond per call on this network: more than a tenth of a single-map inversion.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    device : torch.device
        Where it must run.

    Returns
    -------
    torch.nn.Module
        The same module, on ``device`` and in eval mode.

    Examples
    --------
    >>> m = torch.nn.Linear(2, 2)
    >>> module_on(m, torch.device("cpu")) is m, m.training
    (True, False)
    """
    first = next(module.parameters(), None)
    here = None if first is None else first.device
    if here is None or here.type != device.type or device.index not in (None, here.index):
        module.to(device)
    if module.training:
        module.eval()
    return module


def train_net(
    params: Mapping[str, Any],
    grid: tuple[int, int],
    data: Any,
    init_state: Mapping[str, torch.Tensor] | None = None,
) -> DLEMLRNeuralNet:
    """Build a net and train it on a feature set (from ``init_state`` when given).

    The best-validation checkpoint lives in a temporary folder removed afterwards.

    Parameters
    ----------
    params : mapping
        The estimator's parameters.
    grid : tuple of int
        Output grid.
    data : FeatureSet
        Training pairs.
    init_state : mapping of torch.Tensor, optional
        Weights to start from (fine-tuning).

    Returns
    -------
    DLEMLRNeuralNet
        The trained net (best validation epoch when validating).

    Raises
    ------
    ValueError
        When no epoch reached a finite validation loss.
    """
    import shutil
    import tempfile

    valid_fraction = float(params["valid_fraction"] or 0.0)
    n_fit = int(len(data) * (1.0 - valid_fraction))
    train_dir = tempfile.mkdtemp(prefix="dlemlr_") if valid_fraction else None
    try:
        net = build_net(params, grid, train_dir, n_train=n_fit)
        try:
            if init_state is None:
                net.fit(data, None)
            else:
                net.initialize()
                load_state(net, init_state, "init_weights")
                net.partial_fit(data, None)  # unlike fit, keeps the loaded weights
        except FileNotFoundError:
            # The checkpoint is written at the first finite validation loss; none came.
            raise ValueError(
                "training never reached a finite validation loss (no checkpoint was "
                "written); check the training pairs for non-finite values and lower lr"
            ) from None
    finally:
        if train_dir is not None:
            shutil.rmtree(train_dir, ignore_errors=True)
    return net


def load_state(net: DLEMLRNeuralNet, state: Mapping[str, torch.Tensor], where: str) -> None:
    """Load a state dict into an initialised net's module.

    Parameters
    ----------
    net : DLEMLRNeuralNet
        An initialised net.
    state : mapping of torch.Tensor
        The weights.
    where : str
        Their origin (for the error message).
    """
    try:
        net.module_.load_state_dict(dict(state))
    except (RuntimeError, KeyError) as exc:
        raise ValueError(
            f"{where}: the weights do not fit the network described by their config: {exc}"
        ) from None


class InferenceOnlyOptimizer(torch.optim.Optimizer):
    """The optimizer of a net loaded for inference: it holds nothing and refuses to step.

    `torch.optim.Optimizer.__init__` imports ``torch._dynamo`` (about a second), which
    loading pretrained weights for inference has no use for, so this subclass (skorch
    registers only optimizer instances) never calls it. Training always builds a new net
    with the real optimizer (`build_net`).

    Parameters
    ----------
    params : iterable
        The parameters skorch hands over (ignored).
    lr : float
        Learning rate skorch hands over (ignored).
    weight_decay : float
        Weight decay skorch hands over (ignored).

    Examples
    --------
    >>> opt = InferenceOnlyOptimizer([], lr=1e-3)
    >>> opt.param_groups, opt.state_dict()
    ([], {})
    """

    def __init__(self, params: Any, lr: float = 0.0, weight_decay: float = 0.0) -> None:
        self.defaults: dict[str, Any] = {}
        self.state: defaultdict[torch.Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Nothing to reset."""

    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        """Refuse: this net was loaded for inference."""
        raise RuntimeError(
            "this network was loaded for inference and cannot be trained in place; fit a "
            "DLEMLRInverter (init_weights=...) to train from these weights"
        )

    def state_dict(self) -> dict[str, Any]:
        """No state."""
        return {}


def loaded_net(params: dict[str, Any], kernel: Kernel2D, weights: Weights) -> DLEMLRNeuralNet:
    """A `DLEMLRNeuralNet` holding checked weights, in eval mode.

    Parameters
    ----------
    params : dict
        The estimator's parameters; the architecture ones must equal the file's.
    kernel : Kernel2D
        The acquisition (its grid must be the trained one).
    weights : Weights
        The weights.

    Returns
    -------
    DLEMLRNeuralNet
        The initialised net.
    """
    check_input_version(weights)
    check_grid(weights, kernel)
    theirs = {name: weights.config[name] for name in ARCH_PARAMS}
    mine = {name: int(params[name]) for name in ARCH_PARAMS}
    if theirs != mine:
        raise ValueError(
            f"{weights.path} has architecture {theirs}, but this estimator has {mine}; "
            "pass the file's values or use DLEMLRInverter.load"
        )
    trained_iter = weights.config.get("n_iter_phys", int(params["n_iter_phys"]))
    if trained_iter != int(params["n_iter_phys"]):
        warnings.warn(
            f"{weights.path} was trained with n_iter_phys={trained_iter}; inverting with "
            f"n_iter_phys={params['n_iter_phys']} gives the network inputs it has not seen",
            UserWarning,
            stacklevel=4,
        )
    net = build_net(params, weights.grid)
    net.set_params(optimizer=InferenceOnlyOptimizer)
    net.initialize()
    load_state(net, weights.state, str(weights.path))
    net.module_.eval()
    return net

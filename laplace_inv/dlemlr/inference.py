"""DLEMLR inference on one device: input channels, network, grid transfer, data consistency.

The batch goes to the device once (through pinned memory for CUDA); the projection, the ADMM
input channels, the network (on its native grid), the transfer to the requested grid, the
data-consistency step (`laplace_inv.dlemlr.consistency`) and the residual check all run there
in sub-batches, and the maps come back once.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from laplace_inv.dlemlr.compressed import DLEMLRProblem, problem
from laplace_inv.dlemlr.consistency import ConsistencySettings, data_consistency
from laplace_inv.dlemlr.features import input_tensors, project_tensor
from laplace_inv.dlemlr.grid_transfer import grid_transfer, native_kernel
from laplace_inv.dlemlr.parsimony import grid_blurs, keep_smoother
from laplace_inv.kernels import Kernel2D
from laplace_inv.solvers.discrepancy import discrepancy_target

#: Keys of `laplace_inv.dlemlr.features.input_tensors` that the network reads.
NET_INPUTS = ("nnt", "bp", "scalars", "gram1", "gram2")

#: Warning attached to a map that explains the data worse than an all-zero map.
WORSE_THAN_ZERO = (
    "the map explains the data worse than an all-zero map (residual {ratio:.2f} x the data "
    "norm): the data may be negative, phased wrongly, or outside what the model was trained on"
)


@dataclass(frozen=True)
class InferenceSettings:
    """What one inference call needs besides the network and the data.

    Attributes
    ----------
    device : torch.device
        Where everything runs.
    n_iter : int
        ADMM iterations of the input channels.
    batch_size : int
        Sub-batch of maps processed at once on the device.
    refine_steps : int
        Cap on the data-consistency iterations per map (0: the raw network output).
    smoothing_blurs : tuple of numpy.ndarray or None
        ``(B1, B2)`` of `laplace_inv.dlemlr.parsimony.grid_blurs` on the requested grid: the
        step also runs from the blurred network map and keeps that result unless the data
        reject it (`laplace_inv.dlemlr.parsimony`); None: off.
    """

    device: torch.device
    n_iter: int
    batch_size: int
    refine_steps: int = 0
    smoothing_blurs: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, est: Any, kernel: Kernel2D, device: torch.device) -> InferenceSettings:
        """The settings of a `DLEMLRInverter` ``est`` on ``kernel``'s grid, on ``device``."""
        refine = bool(est.refine)
        blurs = None
        if refine and float(est.smoothing) > 0:
            blurs = grid_blurs(kernel.grid1, kernel.grid2, float(est.smoothing))
        return cls(
            device=device,
            n_iter=int(est.n_iter_phys),
            batch_size=int(est.batch_size),
            refine_steps=int(est.refine_steps) if refine else 0,
            smoothing_blurs=blurs,
        )


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (``None``: unchanged), restoring them after.

    Parameters
    ----------
    n : int or None
        Thread count.

    Yields
    ------
    None
        Nothing.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    old = torch.get_num_threads()
    if n is None or n == old:
        yield
        return
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def to_device(array: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """A float64 host array on ``device``: zero-copy on the CPU, through pinned memory on CUDA.

    Parameters
    ----------
    array : numpy.ndarray or torch.Tensor
        The data (a tensor already on ``device`` is used as it is).
    device : torch.device
        Destination.

    Returns
    -------
    torch.Tensor
        The data on ``device``.
    """
    if isinstance(array, torch.Tensor):
        return array.to(device=device, dtype=torch.float64)
    array = np.ascontiguousarray(array, dtype=np.float64)
    with warnings.catch_warnings():  # read-only input (a memmap): never written to
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(array)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def residual_norms(prob: DLEMLRProblem, maps: torch.Tensor, Sp: torch.Tensor) -> torch.Tensor:
    """``‖K̃1 F K̃2ᵀ − S̃‖`` per sample, in the dtype and on the device of ``Sp``.

    Parameters
    ----------
    prob : DLEMLRProblem
        The compressed acquisition.
    maps : torch.Tensor, shape (n, N1, N2)
        Maps.
    Sp : torch.Tensor, shape (n, N1, N2)
        Padded compressed data.

    Returns
    -------
    torch.Tensor, shape (n,)
        The in-range residual norms.
    """
    ops = prob.tensors(Sp.device, Sp.dtype)
    res = ops["K1p"] @ maps.to(Sp.dtype) @ ops["K2p"].T - Sp
    return res.flatten(1).norm(dim=1)


@dataclass(frozen=True)
class GridPlan:
    """Where the network runs and how its maps reach the requested grid.

    Attributes
    ----------
    native : DLEMLRProblem
        The acquisition on the network's grid over the requested range.
    target : DLEMLRProblem
        The acquisition on the requested grid (the same object when the grids agree).
    matrices : tuple of numpy.ndarray or None
        ``(T1, T2)`` of `laplace_inv.dlemlr.grid_transfer.grid_transfer`; None when the
        grids agree.
    """

    native: DLEMLRProblem
    target: DLEMLRProblem
    matrices: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def transfers(self) -> bool:
        """Whether the maps change grid."""
        return self.matrices is not None

    def transfer(self, maps: torch.Tensor) -> torch.Tensor:
        """``T1 F T2ᵀ`` for a batch of native maps, on their device and in their dtype."""
        if self.matrices is None:
            return maps
        matrices = self.matrices
        T1, T2 = self.target.cached(
            ("transfer", self.native.map_shape, str(maps.device), maps.dtype),
            lambda: tuple(
                torch.from_numpy(t).to(device=maps.device, dtype=maps.dtype) for t in matrices
            ),
        )
        return T1 @ maps @ T2.T


def grid_plan(kernel: Kernel2D, native_shape: tuple[int, int]) -> GridPlan:
    """The `GridPlan` of ``kernel`` for a network trained on ``native_shape`` (cached).

    Parameters
    ----------
    kernel : Kernel2D
        The requested acquisition and grids.
    native_shape : tuple of int
        The network's grid ``(N1, N2)``.

    Returns
    -------
    GridPlan

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> k = cement_kernel()
    >>> grid_plan(k, (64, 64)).transfers, grid_plan(k, (32, 32)).native.map_shape
    (False, (32, 32))
    """
    target = problem(kernel)
    shape = (int(native_shape[0]), int(native_shape[1]))
    if tuple(kernel.map_shape) == shape:
        return GridPlan(native=target, target=target)

    def build() -> GridPlan:
        native = native_kernel(kernel, shape)
        return GridPlan(problem(native), target, grid_transfer(native, kernel))

    return target.cached(("plan", shape), build)


def _consistency(
    prob: DLEMLRProblem,
    maps: torch.Tensor,
    S: torch.Tensor,
    scales: torch.Tensor,
    projected: tuple[torch.Tensor, torch.Tensor],
    cap: int,
) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[str]]:
    """The default data-consistency step (`consistency_step` capped at ``cap`` iterations)."""
    settings = ConsistencySettings(max_iter=int(cap))
    return consistency_step(prob, maps, S, scales, projected, settings)


def consistency_step(
    prob: DLEMLRProblem,
    maps: torch.Tensor,
    S: torch.Tensor,
    scales: torch.Tensor,
    projected: tuple[torch.Tensor, torch.Tensor],
    settings: ConsistencySettings,
) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[str]]:
    """The data-consistency step on ``prob``'s grid, with the discrepancy target per map.

    Parameters
    ----------
    prob : DLEMLRProblem
        The compressed acquisition on the maps' grid.
    maps : torch.Tensor, shape (n, N1, N2)
        Prior maps (the network's), in the units of ``S / scales``.
    S : torch.Tensor, shape (n, n1, n2)
        Decays.
    scales : torch.Tensor, shape (n,)
        Per-sample normalisation factors.
    projected : tuple of torch.Tensor
        `laplace_inv.dlemlr.features.project_tensor` of ``S`` on ``prob``: the padded
        compressed data and the noise level ``σ̂`` in the scaled units.
    settings : ConsistencySettings
        The ``λ`` path and the stopping rules.

    Returns
    -------
    maps : torch.Tensor, shape (n, N1, N2)
        float64 maps.
    stats : dict of str to torch.Tensor
        Per map: ``lam`` (``λ/σ²max`` reached), ``iterations``, and the RMS residual over
        the noise before and after (``rn_before``, ``rn_after``).
    stop : list of str
        Why each map stopped (`laplace_inv.dlemlr.consistency.STOP_REASONS`).

    Examples
    --------
    >>> from laplace_inv.simulate import cement_kernel
    >>> from laplace_inv.dlemlr.features import project_tensor
    >>> k = cement_kernel()
    >>> prob = problem(k)
    >>> F = torch.zeros(1, 64, 64, dtype=torch.float64)
    >>> F[0, 30, 30] = 1.0
    >>> S = torch.from_numpy(k.forward(F[0].numpy()))[None]
    >>> scales = S.abs().amax(dim=(1, 2))
    >>> prior = torch.roll(F, 1, dims=2) / scales[:, None, None]  # one pixel off
    >>> settings = ConsistencySettings(max_iter=60)
    >>> maps, stats, stop = consistency_step(
    ...     prob, prior, S, scales, project_tensor(prob, S, scales), settings
    ... )
    >>> bool(stats["rn_after"][0] < stats["rn_before"][0]), int(stats["iterations"][0]) <= 60
    (True, True)
    """
    Sp, sigma = projected
    n_data = S.shape[1] * S.shape[2]
    scaled = S / scales.to(S.dtype)[:, None, None]
    # The part of the data outside the kernels' range, which no map changes.
    oor2 = (scaled.flatten(1) ** 2).sum(dim=1) - (Sp.flatten(1) ** 2).sum(dim=1)
    # discrepancy_target is linear in σ²: its value at σ = 1 scales to every map's σ̂.
    per_variance = discrepancy_target(n_data, 1.0, 0.0)
    target = per_variance * sigma**2 - oor2.clamp_min(0.0)
    op = prob.spectral(S.device, torch.float32)
    r1, r2 = op.rank
    out = data_consistency(op, Sp[:, :r1, :r2], maps, target, settings, sigma**2)

    def ratio(misfit: torch.Tensor) -> torch.Tensor:
        total = (oor2.clamp_min(0.0) + misfit.to(oor2.dtype)) / n_data
        return total.sqrt() / sigma

    stats = {
        "lam": out.lam.double(),
        "iterations": out.iterations.double(),
        "rn_before": ratio(out.misfit_before),
        "rn_after": ratio(out.misfit_after),
    }
    return out.maps.double(), stats, out.stop


def _refine(
    prob: DLEMLRProblem, maps: torch.Tensor, data: tuple, settings: InferenceSettings
) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[str]]:
    """`_consistency` from the network's maps and, with smoothing, from their blur too,
    keeping per map the blurred run's result unless the data reject it. ``data`` is
    ``(S, scales, projected)`` as `_consistency` takes them."""
    S, scales, projected = data
    if settings.smoothing_blurs is None:
        return _consistency(prob, maps, S, scales, projected, settings.refine_steps)
    B1, B2 = (torch.from_numpy(B).to(maps) for B in settings.smoothing_blurs)
    prior = B1 @ maps.clamp_min(0.0) @ B2.T
    # Both runs in one batch (each map's path is its own): half the per-call overhead.
    both = _consistency(
        prob,
        torch.cat([maps, prior]),
        torch.cat([S, S]),
        torch.cat([scales, scales]),
        (torch.cat([projected[0]] * 2), torch.cat([projected[1]] * 2)),
        settings.refine_steps,
    )
    n = len(maps)
    plain, smooth = (
        (both[0][part], {k: v[part] for k, v in both[1].items()}, both[2][part])
        for part in (slice(0, n), slice(n, 2 * n))
    )
    n_data = S.shape[1] * S.shape[2]
    chi2 = [n_data * run[1]["rn_after"] ** 2 for run in (smooth, plain)]
    keep = keep_smoother(chi2[0], chi2[1], prob.rank)
    stats = {k: torch.where(keep, smooth[1][k], plain[1][k]) for k in plain[1]}
    stats["iterations"] = smooth[1]["iterations"] + plain[1]["iterations"]
    stats["smoothed"] = keep.double()
    chosen = torch.where(keep[:, None, None], smooth[0], plain[0])
    stop = [a if k else b for a, b, k in zip(smooth[2], plain[2], keep.tolist(), strict=True)]
    return chosen, stats, stop


def invert_batch(
    module: torch.nn.Module,
    plan: GridPlan | DLEMLRProblem,
    batch: np.ndarray | torch.Tensor,
    scales: np.ndarray | torch.Tensor,
    settings: InferenceSettings,
) -> tuple[np.ndarray, list[dict]]:
    """Invert ``batch / scales`` with a trained network (maps in normalised units).

    Parameters
    ----------
    module : torch.nn.Module
        The network, on ``settings.device``, in eval mode.
    plan : GridPlan or DLEMLRProblem
        The acquisition on the network's grid and on the requested one (`grid_plan`); a
        `DLEMLRProblem` on the network's own grid stands for both.
    batch : numpy.ndarray or torch.Tensor, shape (n, n1, n2)
        Decays (a tensor may already be on the device).
    scales : numpy.ndarray or torch.Tensor, shape (n,)
        Per-sample normalisation factors (``max|S|``).
    settings : InferenceSettings
        Device, iterations, sub-batch, data consistency.

    Returns
    -------
    maps : numpy.ndarray, shape (n, N1, N2)
        float64 maps on the requested grid.
    infos : list of dict
        Per sample: noise estimate, the data-consistency record, and a ``warning`` when
        the map explains the data worse than an all-zero map.
    """
    if isinstance(plan, DLEMLRProblem):
        plan = GridPlan(native=plan, target=plan)
    dev = settings.device
    step = max(int(settings.batch_size), 1)
    S_all = to_device(batch, dev)
    scales_all = to_device(scales, dev)
    prob = plan.target
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("maps", "sigma", "after", "snorm")}
    stops: list[str] = []
    with torch.no_grad():
        for start in range(0, len(batch), step):
            S = S_all[start : start + step]
            sc = scales_all[start : start + step]
            inputs = input_tensors(plan.native, S, sc, settings.n_iter)
            maps = plan.transfer(module(**{k: inputs[k] for k in NET_INPUTS}).double())
            Sp, sigma = inputs["Sp"], inputs["sigma"]
            if plan.transfers:
                Sp, sigma = project_tensor(prob, S, sc)
            if settings.refine_steps > 0:
                maps, stats, stop = _refine(prob, maps, (S, sc, (Sp, sigma)), settings)
                stops.extend(stop)
                for key, value in stats.items():
                    parts.setdefault(key, []).append(value)
            maps = maps.clamp_min(0.0)
            parts["maps"].append(maps)
            parts["sigma"].append(sigma)
            parts["after"].append(residual_norms(prob, maps, Sp))
            parts["snorm"].append(Sp.flatten(1).norm(dim=1))
        out = {k: torch.cat(v).cpu().numpy() for k, v in parts.items()}
    return out["maps"], _infos(out, stops, scales_all.cpu().numpy(), settings)


def _infos(
    out: dict[str, np.ndarray], stops: list[str], scales: np.ndarray, settings: InferenceSettings
) -> list:
    snorm = np.maximum(out["snorm"], 1e-300)
    noise = out["sigma"] * scales
    infos: list[dict] = [{"method": "DLEMLR", "noise_estimate": float(s)} for s in noise]
    for i, info in enumerate(infos):
        info["refined"] = settings.refine_steps > 0
        if not info["refined"]:
            continue
        info.update(
            refine_steps=int(settings.refine_steps),
            consistency_lambda=float(out["lam"][i]),
            consistency_iterations=int(out["iterations"][i]),
            consistency_stop=stops[i],
            residual_to_noise_before=float(out["rn_before"][i]),
            residual_to_noise_after=float(out["rn_after"][i]),
        )
        if "smoothed" in out:
            info["consistency_smoothed"] = bool(out["smoothed"][i])
    # The out-of-range part of the data is the same for every map, so comparing the in-range
    # residual with the in-range data norm compares the map with an all-zero map.
    ratio = out["after"] / snorm
    bad = np.flatnonzero(ratio > 1.0)
    for k in bad:
        infos[k]["warning"] = WORSE_THAN_ZERO.format(ratio=ratio[k])
    if len(bad):
        warnings.warn(
            f"DLEMLR: {len(bad)} of {len(ratio)} maps explain the data worse than an all-zero "
            f"map (first: sample {bad[0]}, residual {ratio[bad[0]]:.2f} x the data norm); the "
            "data may be negative, phased wrongly, or outside what the model was trained on",
            UserWarning,
            stacklevel=4,
        )
    return infos

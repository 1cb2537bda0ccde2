"""DLEMLR inference on one device: input channels, network, refinement and fit check.

The batch goes to the device once (through pinned memory for CUDA); the projection, the ADMM
input channels, the network, the optional refinement and the residual check all run there in
sub-batches, and the maps come back once.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from laplace_inv.dlemlr.admm import admm_refinement
from laplace_inv.dlemlr.compressed import DLEMLRProblem
from laplace_inv.dlemlr.features import fista_nnls, input_tensors

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
        Refinement iterations (0: no refinement).
    refine_penalty : float
        ADMM penalty of the refinement relative to the noise variance (0: projected
        gradient).
    """

    device: torch.device
    n_iter: int
    batch_size: int
    refine_steps: int = 0
    refine_penalty: float = 0.0


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


def _refine(
    prob: DLEMLRProblem,
    maps: torch.Tensor,
    Sp: torch.Tensor,
    sigma: torch.Tensor,
    settings: InferenceSettings,
) -> torch.Tensor:
    if settings.refine_penalty > 0:
        rho = settings.refine_penalty * sigma**2
        op = prob.spectral(Sp.device)
        return admm_refinement(op, Sp, maps, rho, settings.refine_steps).double()
    ops = prob.tensors(Sp.device, Sp.dtype)
    return fista_nnls(ops["K1p"], ops["K2p"], Sp, settings.refine_steps, F0=maps, momentum=False)


def invert_batch(
    module: torch.nn.Module,
    prob: DLEMLRProblem,
    batch: np.ndarray | torch.Tensor,
    scales: np.ndarray | torch.Tensor,
    settings: InferenceSettings,
) -> tuple[np.ndarray, list[dict]]:
    """Invert ``batch / scales`` with a trained network (maps in normalised units).

    Parameters
    ----------
    module : torch.nn.Module
        The network, on ``settings.device``, in eval mode.
    prob : DLEMLRProblem
        The compressed acquisition.
    batch : numpy.ndarray or torch.Tensor, shape (n, n1, n2)
        Decays (a tensor may already be on the device).
    scales : numpy.ndarray or torch.Tensor, shape (n,)
        Per-sample normalisation factors (``max|S|``).
    settings : InferenceSettings
        Device, iterations, sub-batch, refinement.

    Returns
    -------
    maps : numpy.ndarray, shape (n, N1, N2)
        float64 maps.
    infos : list of dict
        Per sample: noise estimate, refinement residuals, and a ``warning`` when the map
        explains the data worse than an all-zero map.
    """
    dev = settings.device
    step = max(int(settings.batch_size), 1)
    S_all = to_device(batch, dev)
    scales_all = to_device(scales, dev)
    parts: dict[str, list[torch.Tensor]] = {"maps": [], "sigma": [], "before": [], "after": []}
    parts["snorm"] = []
    with torch.no_grad():
        for start in range(0, len(batch), step):
            inputs = input_tensors(
                prob, S_all[start : start + step], scales_all[start : start + step], settings.n_iter
            )
            Sp, sigma = inputs["Sp"], inputs["sigma"]
            maps = module(**{k: inputs[k] for k in NET_INPUTS}).double()
            before = residual_norms(prob, maps, Sp)
            if settings.refine_steps > 0:
                maps = _refine(prob, maps, Sp, sigma, settings)
            parts["maps"].append(maps)
            parts["sigma"].append(sigma)
            parts["before"].append(before)
            parts["after"].append(residual_norms(prob, maps, Sp))
            parts["snorm"].append(Sp.flatten(1).norm(dim=1))
        out = {k: torch.cat(v).cpu().numpy() for k, v in parts.items()}
    return out["maps"], _infos(out, scales_all.cpu().numpy(), settings)


def _infos(out: dict[str, np.ndarray], scales: np.ndarray, settings: InferenceSettings) -> list:
    snorm = np.maximum(out["snorm"], 1e-300)
    noise = out["sigma"] * scales
    infos: list[dict] = [{"method": "DLEMLR", "noise_estimate": float(s)} for s in noise]
    if settings.refine_steps > 0:
        for i, info in enumerate(infos):
            info.update(
                refined=True,
                refine_steps=int(settings.refine_steps),
                refine_penalty=float(settings.refine_penalty),
                residual_before=float(out["before"][i]),
                residual_after=float(out["after"][i]),
                relative_residual_before=float(out["before"][i] / snorm[i]),
                relative_residual_after=float(out["after"][i] / snorm[i]),
            )
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

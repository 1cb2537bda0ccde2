"""Other packages' inverters as optional benchmark methods: FLINT (flintpy-nmr) and ILTpy.

Both are called through their own public API, unmodified, on the benchmark kernel's
acquisition axes and output grids; the map comes back in the data's units on those grids.

``flint``
    `flintpy.flintpy.Flint` (package ``flintpy-nmr``): FISTA on
    ``‖K1 F K2ᵀ − M‖² + α‖F‖²`` with ``F ≥ 0``, at its defaults (``tol=1e-5``,
    ``maxiter=100001``, start from ones). It needs a fixed α: ``α = 3`` (`FLINT_ALPHA`) on
    data normalised to ``max|S| = 1`` (its α then refers to unit-amplitude data, as in
    FLINT's examples); the map is scaled back by ``max|S|``. Kinds: T1_IR (efficiency 1),
    T1_SR or T2 on the first axis, T2 on the second.
``iltpy``
    `iltpy.iltload` / ``IltData.init`` / ``IltData.invert`` (package ``ilt-py-lib``): the
    uniform-penalty inversion of Granwehr and Roberts, at its defaults (no non-negativity,
    100 iterations at most), on data divided by the noise level (ILTpy expects unit noise
    variance; the level comes from `laplace_inv.simulate.estimate_noise` and the map is
    scaled back). Two settings differ from the defaults, because a 2D acquisition of
    ``48 × 1000`` points would otherwise need a dense ``48000 × 4096`` kernel: ILTpy's own
    SVD compression (``compress=True`` on both axes, its default 15 singular values each,
    fewer where an axis has fewer points)
    and its solver ``alt_g=8``, which ILTpy documents as the faster one for 2D inversions.
    T1 kernels are given as ILTpy user kernels (``iltkernel``) with log-spaced output.

Register them with `register_peers` (``laplace-inv bench --plugin laplace_inv.bench.peers``
does it too). Registration imports neither package: a method whose package is missing
reports "not available" with the install command when the harness runs it.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from laplace_inv.bench.registry import MethodNotAvailable, register_method
from laplace_inv.kernels import Kernel2D

__all__ = [
    "FLINT_ALPHA",
    "PEERS",
    "flint_invert",
    "iltpy_invert",
    "peer_available",
    "register_peers",
]

FLINT_ALPHA = 3.0
"""FLINT's fixed α on data normalised to ``max|S| = 1``."""

PEERS: dict[str, tuple[str, str]] = {
    "flint": ("flintpy", "flintpy-nmr"),
    "iltpy": ("iltpy", "ilt-py-lib"),
}
"""Peer method name → (import name, PyPI package)."""

_FLINT_KINDS = {("T1_IR", "T2"): "T1IRT2", ("T1_SR", "T2"): "T1SRT2", ("T2", "T2"): "T2T2"}
_INSTALL = "install it with pip install 'laplace-inv[peers]'"


def _import_peer(name: str) -> Any:
    module, package = PEERS[name]
    try:
        return __import__(module)
    except ImportError as exc:
        raise MethodNotAvailable(f"{package} is not installed ({exc}); {_INSTALL}") from exc


def peer_available(name: str) -> bool:
    """Whether the package behind peer method ``name`` can be imported here.

    Parameters
    ----------
    name : {"flint", "iltpy"}
        Peer method name.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(peer_available("flint"), bool)
    True
    """
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; expected one of {sorted(PEERS)}")
    import importlib.util

    return importlib.util.find_spec(PEERS[name][0]) is not None


def _axes(kernel: Any) -> tuple[Any, Any]:
    if not isinstance(kernel, Kernel2D) or not hasattr(kernel, "axis2"):
        raise MethodNotAvailable(f"peers invert 2D kernels only, got {type(kernel).__name__}")
    return kernel.axis1, kernel.axis2


def _check_data(S: Any, kernel: Kernel2D) -> np.ndarray:
    S = np.asarray(S, dtype=float).reshape(kernel.data_shape)
    if not np.all(np.isfinite(S)):
        raise ValueError("the data contain NaN or infinite values")
    return S


def flint_invert(S: Any, kernel: Kernel2D, alpha: float = FLINT_ALPHA) -> np.ndarray:
    """Invert ``S`` with FLINT (flintpy-nmr) on ``kernel``'s grids.

    Parameters
    ----------
    S : array_like, shape (n1, n2)
        The data.
    kernel : Kernel2D
        Acquisition axes and output grids; kinds T1_IR (efficiency 1), T1_SR or T2 on the
        first axis and T2 on the second.
    alpha : float
        FLINT's α, on data normalised to ``max|S| = 1``.

    Returns
    -------
    numpy.ndarray, shape kernel.map_shape
        The map, in the units of ``S``.

    Raises
    ------
    MethodNotAvailable
        When flintpy-nmr is missing or has no kernel for these kinds.

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=8),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 16), n_grid=8))
    >>> F = flint_invert(k.forward(np.eye(8)), k)  # doctest: +SKIP
    >>> F.shape  # doctest: +SKIP
    (8, 8)
    """
    ax1, ax2 = _axes(kernel)
    name = _FLINT_KINDS.get((ax1.kind, ax2.kind))
    if name is None or getattr(ax1, "efficiency", 1.0) != 1.0:
        raise MethodNotAvailable(
            f"FLINT (flintpy-nmr) has no kernel for kinds {(ax1.kind, ax2.kind)}"
            f"{' with inversion efficiency ' + str(ax1.efficiency) if name else ''}; "
            f"it inverts {sorted(_FLINT_KINDS)}"
        )
    _import_peer("flint")
    from flintpy import kernels as flint_kernels
    from flintpy.flintpy import Flint, FlintSignal

    S = _check_data(S, kernel)
    scale = float(np.max(np.abs(S))) or 1.0
    signal = FlintSignal.load_from_data(S / scale, ax1.tau, ax2.tau)
    grid1, grid2 = ax1.grid, ax2.grid
    flint = Flint(
        signal, kernel.map_shape, name, float(alpha), (grid1[0], grid1[-1]), (grid2[0], grid2[-1])
    )
    # FLINT lays its grids out with logspace over the range; ours may differ (custom grids),
    # so set them and their kernels through FLINT's own kernel functions.
    functions = {"T1_IR": flint_kernels.kernel_t1_ir, "T1_SR": flint_kernels.kernel_t1_sr}
    flint.t1axis, flint.t2axis = grid1, grid2
    flint.t1kernel = flint.set_kernel(
        functions.get(ax1.kind, flint_kernels.kernel_t2), ax1.tau, grid1
    )
    flint.t2kernel = flint.set_kernel(flint_kernels.kernel_t2, ax2.tau, grid2)
    # FLINT logs its progress every 500 iterations at INFO; keep the harness output clean.
    logger = logging.getLogger("flintpy.flintpy")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        flint.solve_flint()
    finally:
        logger.setLevel(level)
    return np.asarray(flint.ss, dtype=float) * scale


def _iltpy_kernel(ilt: Any, axis: Any) -> Any:
    if axis.kind == "T2":
        return ilt.Exponential()
    if axis.kind == "D":
        return ilt.Diffusion()
    if axis.kind == "T1_SR":
        return ilt.iltkernel("T1_SR", lambda t, tau: 1.0 - np.exp(-t / tau), "1 - exp(-t/tau)")()
    if axis.kind == "T1_IR":
        gain = 1.0 + float(getattr(axis, "efficiency", 1.0))
        return ilt.iltkernel(
            "T1_IR", lambda t, tau: 1.0 - gain * np.exp(-t / tau), f"1 - {gain:g}*exp(-t/tau)"
        )()
    raise MethodNotAvailable(f"no ILTpy kernel for kind {axis.kind!r}")


def iltpy_invert(S: Any, kernel: Kernel2D, noise_std: float | None = None) -> np.ndarray:
    """Invert ``S`` with ILTpy (ilt-py-lib) on ``kernel``'s grids.

    Parameters
    ----------
    S : array_like, shape (n1, n2)
        The data.
    kernel : Kernel2D
        Acquisition axes and output grids (T2, T1_IR, T1_SR, D).
    noise_std : float, optional
        Noise level of ``S``; estimated from the data outside the kernel's range if absent.

    Returns
    -------
    numpy.ndarray, shape kernel.map_shape
        The map, in the units of ``S`` (ILTpy imposes no sign: values may be negative).

    Raises
    ------
    MethodNotAvailable
        When ilt-py-lib is missing.

    Examples
    --------
    >>> from laplace_inv import Kernel2D, KernelAxis
    >>> k = Kernel2D(KernelAxis("T2", np.geomspace(1e-3, 1, 12), n_grid=8),
    ...              KernelAxis("T2", np.geomspace(1e-3, 1, 16), n_grid=8))
    >>> F = iltpy_invert(k.forward(np.eye(8)) + 0.01, k, noise_std=0.01)  # doctest: +SKIP
    >>> F.shape  # doctest: +SKIP
    (8, 8)
    """
    ax1, ax2 = _axes(kernel)
    ilt = _import_peer("iltpy")
    S = _check_data(S, kernel)
    if noise_std is None:
        from laplace_inv.simulate import estimate_noise

        noise_std = estimate_noise(S, kernel)
    sigma = float(noise_std) if noise_std and np.isfinite(noise_std) and noise_std > 0 else 1.0
    kernels = [_iltpy_kernel(ilt, ax1), _iltpy_kernel(ilt, ax2)]
    # ILTpy keeps s = 15 singular values per axis by default; an axis may have fewer.
    s = [min(15, ax.tau.size, ax.grid.size) for ax in (ax1, ax2)]
    parameters = {"compress": [True, True], "s": s, "alt_g": 8, "base_tau": [1, 1]}
    with warnings.catch_warnings():
        # ILTpy asks to check base_tau for user kernels: 1 (log-spaced) is what we pass.
        warnings.filterwarnings("ignore", message="base_tau must be set")
        data = ilt.iltload(data=S / sigma, t=[ax1.tau, ax2.tau])
        data.init(tau=[ax1.grid, ax2.grid], kernel=kernels, parameters=parameters)
        data.invert(verbose=0)
    return np.asarray(data.g, dtype=float).reshape(kernel.map_shape) * sigma


def register_peers(overwrite: bool = True) -> list[str]:
    """Register the peer methods ``flint`` and ``iltpy`` with the benchmark harness.

    Imports neither package; a missing one makes its method report "not available".

    Parameters
    ----------
    overwrite : bool
        Replace existing registrations of the same names.

    Returns
    -------
    list of str
        The registered names.

    Examples
    --------
    >>> from laplace_inv.bench import available_methods
    >>> register_peers()
    ['flint', 'iltpy']
    >>> {"flint", "iltpy"} <= set(available_methods())
    True
    """
    register_method(
        "flint",
        flint_invert,
        kind="function",
        description=f"FLINT (flintpy-nmr), α = {FLINT_ALPHA:g} on max-normalised data",
        overwrite=overwrite,
    )
    register_method(
        "iltpy",
        iltpy_invert,
        kind="function",
        description="ILTpy (ilt-py-lib), defaults with SVD compression, alt_g=8",
        overwrite=overwrite,
    )
    return ["flint", "iltpy"]


register_peers()

"""Opening data, building kernels and estimators, running one method: the viewer's work.

Nothing here knows about HTTP: the server calls these functions with plain values, so they can
be tested (and reused in a notebook) without a browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from laplace_inv.io import Acquisition, read_any
from laplace_inv.kernels import KINDS, Kernel2D, KernelAxis

DEMOS = ("cement_like", "cheese_like")
"""Simulated datasets made by the package itself (always available, offline)."""

EMBEDDED = "demo:embedded"
"""The demo data file shipped in the package (`laplace_inv.data.load_embedded_demo`), if any."""


METHOD_PARAMS: dict[str, dict[str, type]] = {
    "upen": {},
    "tikhonov": {"alpha": str},
    "l1": {"alpha": float},
    "dlemlr": {"refine": bool},
}
"""The parameters the page may set per method, with their types."""


def dataset_names() -> list[str]:
    """Names the page offers: registered real datasets, then ``demo:`` simulations.

    Examples
    --------
    >>> "demo:cement_like" in dataset_names()
    True
    """
    from laplace_inv.datasets import REGISTRY

    embedded = [EMBEDDED] if _embedded_loader() is not None else []
    return sorted(REGISTRY) + embedded + [f"demo:{name}" for name in DEMOS]


def _embedded_loader() -> Any:
    """``laplace_inv.data.load_embedded_demo`` when this installation ships the demo file."""
    import importlib

    try:
        module = importlib.import_module("laplace_inv.data")
    except ImportError:
        return None
    return getattr(module, "load_embedded_demo", None)


def _from_dataset(ds: Any, name: str, fmt: str) -> Acquisition:
    """An acquisition from a dataset object (data, axes, kinds, noise and suggested kernel)."""
    files = getattr(ds, "files", {}) or {}
    return Acquisition(
        ds.data,
        ds.tau1,
        ds.tau2,
        ds.kinds,
        noise_std=ds.noise_std,
        grid_hint=_grid_hint(ds.kernel),
        metadata={"dataset": name, "format": fmt},
        source=str(next(iter(files.values()), name)),
    )


def _grid_hint(kernel: Kernel2D) -> tuple:
    return tuple((float(g[0]), float(g[-1]), int(g.size)) for g in (kernel.grid1, kernel.grid2))


def open_dataset(name: str) -> Acquisition:
    """The acquisition of a registered dataset or of a ``demo:`` simulation.

    Examples
    --------
    >>> acq = open_dataset("demo:cement_like")
    >>> acq.shape, acq.kinds
    ((48, 1000), ('T1_IR', 'T2'))
    """
    if not isinstance(name, str) or not name:
        raise ValueError("dataset must be a non-empty name; see the list in the page")
    if name == EMBEDDED and _embedded_loader() is not None:
        return _from_dataset(_embedded_loader()(), name, "embedded demo")
    if name.startswith("demo:"):
        from laplace_inv import simulate

        demo = name.split(":", 1)[1]
        if demo not in DEMOS:
            raise ValueError(f"unknown demo {demo!r}; expected one of {list(DEMOS)}")
        scenario = getattr(simulate, demo)()
        kernel = scenario.kernel
        return Acquisition(
            scenario.data,
            kernel.axis1.tau,
            kernel.axis2.tau,
            kernel.kinds,
            noise_std=scenario.noise_std,
            grid_hint=_grid_hint(kernel),
            metadata={"dataset": name, "format": "simulated"},
            source=name,
        )
    from laplace_inv.datasets import REGISTRY, load_real_dataset

    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; expected one of {dataset_names()}")
    ds = load_real_dataset(name)
    acq = _from_dataset(ds, name, "dataset")
    acq.source = ds.to_acquisition().source
    return acq


def open_path(
    path: str,
    tau1_path: str | None = None,
    tau2_path: str | None = None,
    kinds: Any = None,
    time_unit: float | None = None,
) -> Acquisition:
    """Read the file or folder ``path`` (and, for a text table, its two axis files).

    Only the paths given are read. A text table needs ``tau1_path``, ``tau2_path`` and
    ``kinds``; ``time_unit`` is seconds per file unit (1e-3 for ms).
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("enter the path of a data file or folder")
    p = Path(path.strip()).expanduser()
    kwargs: dict[str, Any] = {}
    if tau1_path or tau2_path:
        if not (tau1_path and tau2_path and kinds):
            raise ValueError("a text table needs both axis files and the two kinds")
        kwargs = {
            "tau1_path": Path(str(tau1_path).strip()).expanduser(),
            "tau2_path": Path(str(tau2_path).strip()).expanduser(),
            "kinds": tuple(kinds),
        }
        if time_unit:
            kwargs["time_unit"] = float(time_unit)
    return read_any(p, **kwargs)


def check_settings(kinds: Any, n_grid: Any) -> tuple[tuple[str, str] | None, int]:
    """Validated kinds (or ``None``) and grid size from the page.

    Examples
    --------
    >>> check_settings(["T2", "T2"], "32")
    (('T2', 'T2'), 32)
    """
    if kinds:
        if len(kinds) != 2 or any(k not in KINDS for k in kinds):
            raise ValueError(f"kinds must be two of {KINDS}, got {kinds!r}")
        kinds = (str(kinds[0]), str(kinds[1]))
    else:
        kinds = None
    try:
        n = int(n_grid)
    except (TypeError, ValueError):
        raise ValueError(f"grid size must be an integer, got {n_grid!r}") from None
    if not 8 <= n <= 256:
        raise ValueError(f"grid size must be between 8 and 256 points per axis, got {n}")
    return kinds, n


def build_kernel(acq: Acquisition, kinds: tuple[str, str] | None, n_grid: int) -> Kernel2D:
    """The kernel for ``acq`` with ``n_grid`` points per axis.

    The file's grid ranges are kept for every axis whose kind is unchanged; an axis given a
    new kind gets that kind's default range.

    Examples
    --------
    >>> acq = open_dataset("demo:cement_like")
    >>> build_kernel(acq, None, 32).map_shape
    (32, 32)
    """
    chosen: tuple[str, ...] = tuple(kinds or acq.kinds)
    hinted = acq.grids(n_grid)
    axes = []
    for i, (kind, tau) in enumerate(zip(chosen, (acq.tau1, acq.tau2), strict=True)):
        grid = hinted[i] if kind == acq.kinds[i] else None
        axes.append(KernelAxis(kind, tau, grid, n_grid=n_grid))
    return Kernel2D(*axes)


def check_params(method: str, params: Any) -> dict:
    """The method's parameters from the page, converted; unknown names are refused.

    Examples
    --------
    >>> check_params("l1", {"alpha": "0.02"})
    {'alpha': 0.02}
    """
    if method not in METHOD_PARAMS:
        raise ValueError(f"unknown method {method!r}; expected one of {sorted(METHOD_PARAMS)}")
    allowed = METHOD_PARAMS[method]
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key not in allowed:
            raise ValueError(f"{method} has no parameter {key!r} here; allowed: {sorted(allowed)}")
        if value in (None, ""):
            continue
        out[key] = _convert(method, key, value, allowed[key])
    return out


def _convert(method: str, key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        return bool(value)
    if kind is float:
        number = float(value)
        if not np.isfinite(number) or number <= 0:
            raise ValueError(f"{method} {key} must be a positive number, got {value!r}")
        return number
    text = str(value).strip()
    if method == "tikhonov" and key == "alpha":
        from laplace_inv.classical.tikhonov import ALPHA_RULES

        if text in ALPHA_RULES:
            return text
        try:
            return _convert(method, key, text, float)
        except ValueError:
            raise ValueError(
                f"tikhonov alpha must be one of {list(ALPHA_RULES)} or a positive number, "
                f"got {value!r}"
            ) from None
    return text


def method_label(method: str, params: dict) -> str:
    """The name a result is shown under, e.g. ``"tikhonov alpha=gcv"``.

    Examples
    --------
    >>> method_label("upen", {}), method_label("l1", {"alpha": 0.02})
    ('upen', 'l1 alpha=0.02')
    """
    if not params:
        return method
    return method + " " + ",".join(f"{k}={v}" for k, v in sorted(params.items()))


def build_estimator(method: str, kernel: Kernel2D, params: dict) -> Any:
    """``make_inverter(method, kernel)`` with ``params`` set."""
    from laplace_inv.methods import make_inverter

    return make_inverter(method, kernel, **params)


def method_kernel(acq: Acquisition, method: str, kinds: Any, n_grid: int) -> Kernel2D:
    """The kernel ``method`` runs on: the chosen grid (DLEMLR moves its map onto it)."""
    return build_kernel(acq, kinds, n_grid)


def invert(estimator: Any, acq: Acquisition, fit_model: bool) -> Any:
    """Invert ``acq``; with ``fit_model`` also fit inversion efficiency and offset."""
    if fit_model:
        from laplace_inv.classical.robust import fit_acquisition_model

        return fit_acquisition_model(estimator, acq.data, noise_std=acq.noise_std)
    return estimator.invert(acq.data, noise_std=acq.noise_std)

"""The benchmark's methods by name: one registration per method, built-in or from outside.

A method is either

* a **factory** ``factory(kernel) -> estimator``, where the estimator has ``invert(S)``
  (returning an `laplace_inv.base.InversionResult`, or anything with a ``map``
  attribute, or a plain map) — this is how the package's own inverters are registered; or
* a **function** ``function(S, kernel) -> map`` (an ``(N1, N2)`` array, a flat array of
  ``N1*N2`` values, or a result object with ``map``) — the easiest way to plug in a user's
  own method or another package's.

Registering takes one line::

    register_method("mine", my_function)            # kind detected from the signature
    register_method("mine", MyInverter, kind="factory")

Building a method for a kernel (`Method.build`) turns every failure (a missing module,
missing weights, an unsupported kernel) into `MethodNotAvailable` with the reason, so
the harness can write a "not available" row instead of crashing or inventing numbers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from laplace_inv.kernels import Kernel2D
from laplace_inv.methods import METHODS, make_inverter

__all__ = [
    "BUILTIN_METHODS",
    "Method",
    "MethodNotAvailable",
    "MethodOutput",
    "available_methods",
    "get_method",
    "register_method",
    "unregister_method",
]

KINDS = ("factory", "function")


class MethodNotAvailable(RuntimeError):
    """A method cannot run here (missing module, weights or kernel support); says why."""


@dataclass
class MethodOutput:
    """What one run of a method produced.

    Attributes
    ----------
    map : numpy.ndarray
        The map, shape ``(N1, N2)``.
    offset : float
        Constant offset fitted alongside the map (0 when the method fits none).
    info : dict
        Anything the method reported (solver information).
    """

    map: np.ndarray
    offset: float = 0.0
    info: dict | None = None


def _to_output(obj: Any, kernel: Kernel2D) -> MethodOutput:
    """Normalise whatever a method returned into a `MethodOutput`."""
    info: dict = {}
    offset = 0.0
    if hasattr(obj, "map"):
        info = dict(getattr(obj, "info", None) or {})
        offset = float(info.get("offset", 0.0) or 0.0)
        obj = obj.map
    F = np.asarray(obj, dtype=float)
    shape = kernel.map_shape
    if F.size != shape[0] * shape[1]:
        raise ValueError(f"the method returned {F.shape}, expected a map of shape {shape}")
    F = F.reshape(shape)
    if not np.all(np.isfinite(F)):
        raise FloatingPointError("the method returned a non-finite map")
    return MethodOutput(F, offset, info)


@dataclass(frozen=True)
class Method:
    """A registered benchmark method.

    Attributes
    ----------
    name : str
        Name used in tables and on the command line.
    obj : callable
        The factory or the function.
    kind : {"factory", "function"}
        How ``obj`` is called (see the module docstring).
    description : str
        One line for the report.
    builtin : bool
        Whether it is one of the package's own inverters.
    """

    name: str
    obj: Callable[..., Any]
    kind: str
    description: str = ""
    builtin: bool = False

    def build(self, kernel: Kernel2D) -> Callable[[np.ndarray], MethodOutput]:
        """Prepare the method for ``kernel``; return ``run(S) -> MethodOutput``.

        Raises
        ------
        MethodNotAvailable
            When the method cannot be built for this kernel here; the message says why.
        """
        if self.kind == "function":
            func = self.obj

            def run_function(S: np.ndarray) -> MethodOutput:
                return _to_output(func(S, kernel), kernel)

            return run_function
        try:
            est = self.obj(kernel)
        except MethodNotAvailable:
            raise
        except Exception as exc:  # any failure to build means: not available here
            raise MethodNotAvailable(f"{type(exc).__name__}: {exc}") from exc
        if not hasattr(est, "invert"):
            raise MethodNotAvailable(
                f"the factory returned {type(est).__name__}, which has no invert(S) method"
            )

        def run_estimator(S: np.ndarray) -> MethodOutput:
            return _to_output(est.invert(S), kernel)

        return run_estimator


_REGISTRY: dict[str, Method] = {}


def _detect_kind(obj: Callable[..., Any]) -> str:
    """``"function"`` for callables with two or more required positional parameters."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "factory"
    required = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        return "function"
    return "function" if len(required) >= 2 else "factory"


def register_method(
    name: str,
    obj: Callable[..., Any] | None = None,
    *,
    kind: str | None = None,
    description: str = "",
    overwrite: bool = False,
    builtin: bool = False,
) -> Any:
    """Register a method under ``name`` (also usable as a decorator).

    Parameters
    ----------
    name : str
        Name for tables and ``--methods``.
    obj : callable, optional
        ``factory(kernel) -> estimator`` or ``function(S, kernel) -> map``. Omit it to use
        ``register_method(name)`` as a decorator.
    kind : {"factory", "function"}, optional
        How ``obj`` is called; by default a callable with two required positional parameters
        is a function, anything else (a class, a one-argument callable) a factory.
    description : str
        One line shown in the report.
    overwrite : bool
        Replace an existing registration of the same name.
    builtin : bool
        Marks the package's own inverters.

    Returns
    -------
    Method, or a decorator when ``obj`` is omitted.

    Examples
    --------
    >>> def flat(S, kernel):
    ...     return np.ones(kernel.map_shape)
    >>> register_method("flat-example", flat).kind
    'function'
    >>> unregister_method("flat-example")
    """
    if obj is None:

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            register_method(
                name,
                func,
                kind=kind,
                description=description,
                overwrite=overwrite,
                builtin=builtin,
            )
            return func

        return decorator
    if not isinstance(name, str) or not name or "," in name or name != name.strip():
        raise ValueError(f"method name must be a non-empty string without commas, got {name!r}")
    if not callable(obj):
        raise TypeError(f"method {name!r} must be callable, got {type(obj).__name__}")
    kind = kind or _detect_kind(obj)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"method {name!r} is already registered (pass overwrite=True)")
    method = Method(name, obj, kind, description or _first_line(obj), builtin)
    _REGISTRY[name] = method
    return method


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def unregister_method(name: str) -> None:
    """Remove a registration (no error if absent)."""
    _REGISTRY.pop(name, None)


def get_method(name: str) -> Method:
    """The method registered as ``name``.

    Raises
    ------
    KeyError
        For an unknown name, listing the registered ones.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown method {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def available_methods() -> list[str]:
    """Names of all registered methods, built-in ones first, in registration order.

    Examples
    --------
    >>> available_methods()[:4]
    ['dlemlr', 'upen', 'tikhonov', 'l1']
    """
    names = list(_REGISTRY)
    return [n for n in names if _REGISTRY[n].builtin] + [
        n for n in names if not _REGISTRY[n].builtin
    ]


# --------------------------------------------------------------------------------------------
# the package's own inverters, with default settings as a user would call them
# --------------------------------------------------------------------------------------------


BUILTIN_METHODS: tuple[str, ...] = ("dlemlr", "upen", "tikhonov", "l1")
"""Names of the package's own inverters, registered at import."""


def _builtin_factory(name: str) -> Callable[[Kernel2D], Any]:
    """``kernel ↦ make_inverter(name, kernel)``: methods are built by name in one place."""

    def factory(kernel: Kernel2D) -> Any:
        return make_inverter(name, kernel)

    return factory


# The package's own inverters, with the defaults a user gets (laplace_inv.methods).
for _name in BUILTIN_METHODS:
    register_method(
        _name,
        _builtin_factory(_name),
        kind="factory",
        description=_first_line(METHODS[_name]),
        builtin=True,
    )

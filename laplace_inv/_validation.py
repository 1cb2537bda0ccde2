"""Input checks shared by every public entry point.

Each function either returns a clean float64 array or raises ``ValueError``/``TypeError``
with a message that names the argument and the problem, so that nothing downstream ever
sees NaN, complex or misshapen data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PHASE_HINT = (
    "phase-correct it first, e.g. `laplace_inv.phase.phase_correct(S)` returns the real "
    "channel after an automatic zero-order phase correction"
)


class ComplexDataError(TypeError, ValueError):
    """Complex data where real data are needed.

    Both a ``TypeError`` (the package's convention for a wrong kind of input) and a
    ``ValueError`` (scikit-learn's convention for complex data), so either ``except`` works.
    """


def _is_sparse(value: Any) -> bool:
    """Whether ``value`` is a SciPy sparse matrix or array (without importing SciPy)."""
    return type(value).__module__.startswith("scipy.sparse")


def as_real_array(value: Any, name: str) -> np.ndarray:
    """Convert ``value`` to a float64 array, rejecting complex, boolean and non-numeric input.

    Object arrays of numbers are converted (as scikit-learn does); sparse matrices are
    refused, since decay data are dense.

    Parameters
    ----------
    value : array_like
        Anything ``numpy.asarray`` accepts.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    numpy.ndarray
        A float64 copy or view of ``value``.

    Examples
    --------
    >>> as_real_array([1, 2], "tau").dtype
    dtype('float64')
    >>> as_real_array(np.array([1, 2.5], dtype=object), "tau")
    array([1. , 2.5])
    """
    if value is None:
        raise TypeError(f"{name} is None; an array of real numbers is required")
    if _is_sparse(value):
        raise TypeError(
            f"{name} is a sparse {type(value).__name__}; sparse input is not supported "
            f"(decay data are dense): pass {name}.toarray()"
        )
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} cannot be converted to a numeric array: {exc}") from None
    if arr.dtype == object and arr.ndim == 0 and arr.item() is None:  # np.asarray(None)
        raise TypeError(f"{name} is None; an array of real numbers is required")
    if np.iscomplexobj(arr):
        raise ComplexDataError(f"{name} is complex (Complex data not supported); {PHASE_HINT}")
    if arr.dtype == bool:
        raise TypeError(f"{name} is boolean; numeric data is required")
    if arr.dtype == object:
        return _object_to_float(arr, name)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} has non-numeric dtype {arr.dtype}; numeric data is required")
    return arr.astype(np.float64, copy=False)


def _object_to_float(arr: np.ndarray, name: str) -> np.ndarray:
    """Convert an object array whose entries are real numbers; anything else is refused."""
    if any(isinstance(v, complex) for v in arr.flat):
        raise ComplexDataError(f"{name} is complex (Complex data not supported); {PHASE_HINT}")
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} has non-numeric entries (dtype object): {exc}; numeric data is required"
        ) from None


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity."""
    if arr.size and not np.all(np.isfinite(arr)):
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(f"{name} contains {n_nan} NaN and {n_inf} infinite values")


def check_axis_values(value: Any, name: str, *, allow_zero: bool = True) -> np.ndarray:
    """Validate a 1D acquisition or grid axis: finite, non-negative, strictly increasing.

    Parameters
    ----------
    value : array_like
        The axis values.
    name : str
        Name used in error messages.
    allow_zero : bool
        Whether 0 is a legal value (true for acquisition axes such as b = 0).

    Returns
    -------
    numpy.ndarray
        A read-only float64 copy.

    Examples
    --------
    >>> check_axis_values([1e-3, 2e-3], "tau")
    array([0.001, 0.002])
    >>> check_axis_values([2e-3, 1e-3], "tau")
    Traceback (most recent call last):
    ...
    ValueError: tau must be strictly increasing; sort it (and the data rows/columns with it)
    """
    arr = as_real_array(value, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    check_finite(arr, name)
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {bound}; got minimum {arr.min():g}")
    diffs = np.diff(arr)
    if np.any(diffs == 0):
        raise ValueError(f"{name} contains duplicate values")
    if np.any(diffs < 0):
        raise ValueError(
            f"{name} must be strictly increasing; sort it (and the data rows/columns with it)"
        )
    out = arr.copy()
    out.setflags(write=False)
    return out


def check_data_batch(
    X: Any, data_shape: tuple[int, int], name: str = "X", owner: str | None = None
) -> np.ndarray:
    """Validate a batch of decays and return it as ``(n_samples, n1, n2)`` float64.

    Accepts ``(n_samples, n1*n2)`` or ``(n_samples, n1, n2)``. Errors use scikit-learn's
    phrases (so that its estimator checks recognise them) followed by the package's hint.

    Parameters
    ----------
    X : array_like
        The batch.
    data_shape : tuple of int
        The kernel's ``(n1, n2)``.
    name : str
        Name of the argument, used in error messages.
    owner : str, optional
        Name of the estimator, used in the feature-count message.

    Returns
    -------
    numpy.ndarray
        The batch as ``(n_samples, n1, n2)`` float64.

    Examples
    --------
    >>> check_data_batch(np.ones((3, 6)), (2, 3)).shape
    (3, 2, 3)
    >>> try:
    ...     check_data_batch(np.ones((3, 5)), (2, 3), owner="Est")
    ... except ValueError as exc:
    ...     print(str(exc).split(":")[0])
    X has 5 features, but Est is expecting 6 features as input
    """
    arr = as_real_array(X, name)
    n1, n2 = data_shape
    if arr.ndim == 1:
        raise ValueError(
            f"{name} is 1D with shape {arr.shape}; Reshape your data: a 2D array "
            f"(n_samples, {n1 * n2}) or a 3D array (n_samples, {n1}, {n2}) is needed "
            f"(use X[None] for a single sample)"
        )
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must be 2D or 3D, got {arr.ndim}D with shape {arr.shape}")
    _check_not_empty(arr, name)
    if arr.ndim == 2:
        if arr.shape[1] != n1 * n2:
            hint = ""
            if arr.shape == (n1, n2):
                hint = "; this looks like one dataset: use invert(S) or pass S[None]"
            raise ValueError(
                f"{name} has {arr.shape[1]} features, but {owner or 'the kernel'} is expecting "
                f"{n1 * n2} features as input: the kernel expects {n1}x{n2}={n1 * n2} "
                f"features per sample{hint}"
            )
        arr = arr.reshape(arr.shape[0], n1, n2)
    elif arr.shape[1:] != (n1, n2):
        raise ValueError(
            f"{name} samples have shape {arr.shape[1:]} but the kernel expects ({n1}, {n2})"
        )
    check_finite(arr, name)
    return arr


def _check_not_empty(arr: np.ndarray, name: str) -> None:
    """Refuse a batch without samples or without features, in scikit-learn's words."""
    if arr.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: found array with 0 sample(s) (shape={arr.shape}) while a "
            "minimum of 1 is required."
        )
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty: found array with 0 feature(s) (shape={arr.shape}) while a "
            "minimum of 1 is required."
        )


def check_single_dataset(S: Any, data_shape: tuple[int, int], name: str = "S") -> np.ndarray:
    """Validate one ``(n1, n2)`` dataset.

    Examples
    --------
    >>> check_single_dataset(np.ones((2, 3)), (2, 3)).shape
    (2, 3)
    """
    arr = as_real_array(S, name)
    if arr.ndim == 1 and data_shape[1] == 1:  # one decay for a 1D kernel: (n,) -> (n, 1)
        if arr.size != data_shape[0]:
            raise ValueError(f"{name} has {arr.size} points but the decay has {data_shape[0]}")
        arr = arr[:, None]
    if arr.ndim == 1:
        raise ValueError(
            f"{name} is 1D with shape {arr.shape}; a 2D data matrix {data_shape} is needed"
        )
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2D data matrix {data_shape}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.shape != tuple(data_shape):
        if arr.shape == tuple(data_shape)[::-1]:
            raise ValueError(
                f"{name} has shape {arr.shape} but the kernel expects {tuple(data_shape)}: "
                "it looks transposed (rows follow axis 1, columns axis 2)"
            )
        raise ValueError(f"{name} has shape {arr.shape} but the kernel expects {tuple(data_shape)}")
    check_finite(arr, name)
    return arr


# --------------------------------------------------------------------------------------
# Declarative parameter constraints (checked once per fit/predict/invert call)


class Interval:
    """A real (or integer) interval constraint, e.g. ``Interval(float, 0, None, "neither")``.

    Parameters
    ----------
    kind : type
        ``float`` (any real number) or ``int`` (integers only).
    low : float or None
        Lower bound (``None``: unbounded).
    high : float or None
        Upper bound (``None``: unbounded).
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.

    Examples
    --------
    >>> Interval(float, 0, 1, "neither").accepts(0.5), Interval(int, 1, None, "left").accepts(0)
    (True, False)
    """

    def __init__(self, kind: type, low: float | None, high: float | None, closed: str) -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a number of the right kind inside the interval."""
        from numbers import Integral, Real

        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            return False
        if self.kind is int and not isinstance(value, Integral):
            return False
        v = float(value)
        if not np.isfinite(v):
            return False
        lo_ok = self.low is None or (
            v >= self.low if self.closed in ("both", "left") else v > self.low
        )
        hi_ok = self.high is None or (
            v <= self.high if self.closed in ("both", "right") else v < self.high
        )
        return bool(lo_ok and hi_ok)

    def describe(self) -> str:
        """The constraint in words, for error messages."""
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        noun = "an integer" if self.kind is int else "a finite number"
        return f"{noun} in {left}{lo}, {hi}{right}"


class Options:
    """One of a fixed set of strings (compared exactly)."""

    def __init__(self, *options: str) -> None:
        self.options = tuple(options)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is one of the options."""
        return isinstance(value, str) and value in self.options

    def describe(self) -> str:
        """The constraint in words."""
        return f"one of {self.options}"


class PositiveArray:
    """A non-empty 1D array of finite positive numbers (e.g. an α grid)."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` converts to such an array."""
        if isinstance(value, (str, bytes)):
            return False
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            return False
        if np.iscomplexobj(arr) or arr.ndim != 1 or arr.size == 0:
            return False
        return bool(np.all(np.isfinite(arr)) and np.all(arr > 0))

    def describe(self) -> str:
        """The constraint in words."""
        return "a non-empty 1D array of finite positive numbers"


class Text:
    """Any string (a name checked later against what is installed)."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a string."""
        return isinstance(value, str)

    def describe(self) -> str:
        """The constraint in words."""
        return "a string"


def check_params(owner: str, params: dict[str, Any], constraints: dict[str, list]) -> None:
    """Check every parameter against its list of accepted constraints (``None``: None ok).

    Raises ``TypeError`` when no constraint accepts the value's type (a string for a number,
    ...) and ``ValueError`` when the type is right but the value is not.

    Examples
    --------
    >>> check_params("Est", {"tol": 0.5}, {"tol": [Interval(float, 0, 1, "neither")]})
    >>> check_params("Est", {"tol": 2.0}, {"tol": [Interval(float, 0, 1, "neither")]})
    Traceback (most recent call last):
    ...
    ValueError: Est: tol must be a finite number in (0, 1), got 2.0
    """
    for name, accepted in constraints.items():
        value = params[name]
        if any(value is None if c is None else c.accepts(value) for c in accepted):
            continue
        words = [("None" if c is None else c.describe()) for c in accepted]
        message = f"{owner}: {name} must be {' or '.join(words)}, got {value!r}"
        raise _error_type(value, accepted)(message)


def _error_type(value: Any, accepted: list) -> type[Exception]:
    """``ValueError`` for a value of an accepted type, ``TypeError`` otherwise."""
    from numbers import Integral, Real

    if isinstance(value, str):
        return ValueError if any(isinstance(c, (Options, Text)) for c in accepted) else TypeError
    intervals = [c for c in accepted if isinstance(c, Interval)]
    is_number = isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
    if intervals and is_number:
        integral_only = all(c.kind is int for c in intervals)
        return TypeError if integral_only and not isinstance(value, Integral) else ValueError
    if any(isinstance(c, PositiveArray) for c in accepted) and np.ndim(value) > 0:
        return ValueError
    return TypeError


def check_noise_std(noise_std: Any) -> float:
    """A noise level must be one finite, positive, normal float; returns it.

    Parameters
    ----------
    noise_std : Any
        The value given.

    Returns
    -------
    float

    Examples
    --------
    >>> check_noise_std(0.5)
    0.5
    """
    if isinstance(noise_std, (str, bytes)) or np.ndim(noise_std) != 0:
        raise TypeError(f"noise_std must be a positive number, got {noise_std!r}")
    value = float(as_real_array(noise_std, "noise_std"))
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"noise_std must be a finite positive number, got {value!r}")
    if value < np.finfo(float).tiny:
        raise ValueError(
            f"noise_std must be a normal positive float (at least {np.finfo(float).tiny:.3g}), "
            f"got {value!r}; give it in the data's units"
        )
    return value


#: A noise level this many times the data's largest value leaves no signal to invert.
MAX_NOISE_TO_DATA = 1e100


def check_noise_against_data(noise_std: float, S: np.ndarray) -> None:
    """Refuse a noise level so far above the data that no signal is left (or squares overflow).

    Parameters
    ----------
    noise_std : float
        A checked noise level (`check_noise_std`).
    S : numpy.ndarray
        The data it belongs to.
    """
    peak = float(np.max(np.abs(S)))
    if peak > 0 and noise_std > MAX_NOISE_TO_DATA * peak:
        raise ValueError(
            f"noise_std={noise_std:g} is over {MAX_NOISE_TO_DATA:g} times the data's largest "
            f"value ({peak:g}): the data carry no signal at that noise level; check the units "
            "of noise_std and of the data"
        )
